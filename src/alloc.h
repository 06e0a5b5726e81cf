/* src/alloc.h -- every allocation myring makes goes through these hooks
 * (myr_set_allocator). Tests replace them to fail the Nth allocation. */
#ifndef MYR_ALLOC_H
#define MYR_ALLOC_H
#include <stddef.h>

void *myr__malloc(size_t n);
void *myr__calloc(size_t n, size_t size);   /* overflow-checked, zeroed */
void *myr__realloc(void *p, size_t n);
void myr__free(void *p);
char *myr__strdup(const char *s);           /* NULL in -> NULL out */
#endif
