/*
 * myring/optfile.h -- MySQL/MariaDB option files (my.cnf), read the way the
 * reference clients read them.
 *
 * Syntax (what `mariadb --print-defaults` accepts, checked against it):
 *   # comment            ; comment          blank lines
 *   [group]              group names match case-insensitively; trailing
 *                        blanks are ignored
 *   name                 an option without a value
 *   name = value         blanks around name and value are dropped; a '#'
 *                        outside quotes starts a comment; a value quoted
 *                        with '...' or "..." as a whole loses its quotes;
 *                        escapes \n \t \r \b \s (space) \\ \' \" anywhere,
 *                        any other backslash is kept as is
 *   !include FILE        read FILE here (a missing FILE is skipped)
 *   !includedir DIR      read DIR's *.cnf files here, in name order
 * An option before any group, a group line without its ']' or an unreadable
 * required file is an error whose message names the file and line.
 * Options of other groups are skipped unread (their syntax is not checked,
 * as the reference does).
 */
#ifndef MYRING_OPTFILE_H
#define MYRING_OPTFILE_H

#include <stddef.h>

#include "myring.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called for each option of a wanted group, in file order (later ones win
 * for whoever applies them). `name` is as written (with '_' or '-', maybe a
 * "loose-" prefix); `value` is NULL for an option written without '='.
 * `group` is the group it was found in. Return 0 to go on, anything else to
 * stop reading: myr_optfile_read* then returns that value. */
typedef int (*myr_optfile_cb)(const char *file, unsigned line, const char *group,
                              const char *name, const char *value, void *arg);

/* Read one option file (and what it includes). `groups` is a NULL-terminated
 * list of the groups wanted. A file that cannot be opened is an error when
 * `required` is set, else nothing. Returns 0, the callback's non-zero value,
 * or a negative MYR_E* code with a message in err (errlen bytes, may be 0). */
MYR_API int myr_optfile_read(const char *file, int required, const char *const *groups,
                             myr_optfile_cb cb, void *arg, char *err, size_t errlen);

/* Read the default option files in the reference clients' order:
 * /etc/my.cnf, /etc/mysql/my.cnf, then `extra_file` (if not NULL, required,
 * like --defaults-extra-file), then ~/.my.cnf ($HOME). Missing default files
 * are skipped. Same results as myr_optfile_read(). */
MYR_API int myr_optfile_read_defaults(const char *extra_file, const char *const *groups,
                                      myr_optfile_cb cb, void *arg, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif
