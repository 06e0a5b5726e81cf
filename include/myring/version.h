/* myring/version.h -- compile-time version of the headers; myr_version() gives the library's. */
#ifndef MYRING_VERSION_H
#define MYRING_VERSION_H
#define MYR_VERSION_MAJOR 0
#define MYR_VERSION_MINOR 1
#define MYR_VERSION_PATCH 0
#define MYR_VERSION_STRING "0.1.0"
#define MYR_VERSION_HEX ((MYR_VERSION_MAJOR << 16) | (MYR_VERSION_MINOR << 8) | MYR_VERSION_PATCH)
#endif
