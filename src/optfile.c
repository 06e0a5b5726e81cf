/* src/optfile.c -- reading my.cnf option files (myring/optfile.h). Only
 * the syntax lives here; what an option means is up to the caller
 * (opts_defaults.c for the library, src/cli for the command-line client). */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "myring/optfile.h"

/* !include chains deeper than this are a loop, not a configuration. */
#define MAX_DEPTH 10

typedef struct reader {
    const char *const *groups;
    myr_optfile_cb cb;
    void *arg;
    char *err;
    size_t errlen;
} reader;

static int fail(reader *r, int code, const char *fmt, ...)
{
    if (r->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, r->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' || ch == '\f' || ch == '\v';
}

static char *skip_blanks(char *p)
{
    while (is_blank(*p))
        p++;
    return p;
}

static void trim_end(char *start, char *end)
{
    while (end > start && is_blank(end[-1]))
        end--;
    *end = '\0';
}

static int group_wanted(const reader *r, const char *name)
{
    for (const char *const *g = r->groups; g && *g; g++)
        if (strcasecmp(*g, name) == 0)
            return 1;
    return 0;
}

/* Decode a value in place: cut at a '#' outside quotes, drop the blanks
 * around it, unquote a value quoted as a whole and apply the escapes. */
static void decode_value(char *v)
{
    char quote = 0, *end = NULL;
    for (char *p = v; *p; p++) {
        if (*p == '\\' && p[1] != '\0' && p[1] != '#') {
            p++;
            continue;
        }
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '#') {
            end = p;
            break;
        }
    }
    if (end == NULL)
        end = v + strlen(v);
    trim_end(v, end);
    size_t n = strlen(v);
    if (n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n - 1] == v[0]) {
        memmove(v, v + 1, n - 2);
        v[n - 2] = '\0';
    }
    char *o = v;
    for (char *p = v; *p; p++) {
        if (*p != '\\' || p[1] == '\0') {
            *o++ = *p;
            continue;
        }
        char e;
        switch (p[1]) {
        case 'n': e = '\n'; break;
        case 't': e = '\t'; break;
        case 'r': e = '\r'; break;
        case 'b': e = '\b'; break;
        case 's': e = ' '; break;
        case '\\': e = '\\'; break;
        case '\'': e = '\''; break;
        case '"': e = '"'; break;
        default: *o++ = *p; continue; /* unknown escape: the backslash stays */
        }
        *o++ = e;
        p++;
    }
    *o = '\0';
}

static int read_file(reader *r, const char *path, int required, int depth);

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_dir(reader *r, const char *dir, int depth)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0; /* as the reference: a missing directory is skipped */
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 5 || strcmp(de->d_name + len - 4, ".cnf") != 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = myr__realloc(names, ncap * sizeof *nn);
            if (nn == NULL) {
                rc = fail(r, MYR_ENOMEM, "out of memory reading %s", dir);
                goto out;
            }
            names = nn;
            cap = ncap;
        }
        if ((names[n] = myr__strdup(de->d_name)) == NULL) {
            rc = fail(r, MYR_ENOMEM, "out of memory reading %s", dir);
            goto out;
        }
        n++;
    }
    qsort(names, n, sizeof *names, name_cmp);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t len = strlen(dir) + strlen(names[i]) + 2;
        char *path = myr__malloc(len);
        if (path == NULL) {
            rc = fail(r, MYR_ENOMEM, "out of memory reading %s", dir);
            break;
        }
        snprintf(path, len, "%s/%s", dir, names[i]);
        rc = read_file(r, path, 0, depth + 1);
        myr__free(path);
    }
out:
    for (size_t i = 0; i < n; i++)
        myr__free(names[i]);
    myr__free(names);
    closedir(d);
    return rc;
}

/* One line, already stripped of its leading blanks. *group is the current
 * group (NULL before the first), *in_group whether it is wanted. */
static int read_line(reader *r, const char *path, unsigned lineno, char *p, char *group,
                     size_t group_size, int *have_group, int *in_group, int depth)
{
    if (*p == '\0' || *p == '#' || *p == ';')
        return 0;
    if (*p == '!') {
        int dir = strncmp(p, "!includedir", 11) == 0 && (is_blank(p[11]) || p[11] == '\0');
        int inc = !dir && strncmp(p, "!include", 8) == 0 && (is_blank(p[8]) || p[8] == '\0');
        if (!dir && !inc)
            return fail(r, MYR_EINVAL, "unknown directive in config file: %s at line %u", path,
                        lineno);
        char *arg = skip_blanks(p + (dir ? 11 : 8));
        trim_end(arg, arg + strlen(arg));
        if (*arg == '\0')
            return fail(r, MYR_EINVAL, "%s without a path in config file: %s at line %u",
                        dir ? "!includedir" : "!include", path, lineno);
        if (depth >= MAX_DEPTH)
            return fail(r, MYR_EINVAL, "!include nested too deeply in config file: %s at line %u",
                        path, lineno);
        return dir ? read_dir(r, arg, depth) : read_file(r, arg, 0, depth + 1);
    }
    if (*p == '[') {
        char *close = strchr(p, ']');
        if (close == NULL)
            return fail(r, MYR_EINVAL, "Wrong group definition in config file: %s at line %u",
                        path, lineno);
        trim_end(p + 1, close);
        snprintf(group, group_size, "%s", p + 1);
        *have_group = 1;
        *in_group = group_wanted(r, group);
        return 0;
    }
    if (!*have_group)
        return fail(r, MYR_EINVAL,
                    "Found option without preceding group in config file: %s at line: %u", path,
                    lineno);
    if (!*in_group)
        return 0;
    char *eq = strchr(p, '=');
    char *value = NULL;
    if (eq != NULL) {
        *eq = '\0';
        value = skip_blanks(eq + 1);
        decode_value(value);
    } else {
        /* An option without value may still carry a comment. */
        char *hash = strchr(p, '#');
        if (hash != NULL)
            *hash = '\0';
    }
    trim_end(p, p + strlen(p));
    if (*p == '\0')
        return fail(r, MYR_EINVAL, "option without a name in config file: %s at line %u", path,
                    lineno);
    return r->cb(path, lineno, group, p, value, r->arg);
}

static int read_file(reader *r, const char *path, int required, int depth)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        int e = errno;
        if (!required)
            return 0;
        return fail(r, -e, "Could not open required defaults file: %s", path);
    }
    char group[256] = "";
    int have_group = 0, in_group = 0, rc = 0;
    unsigned lineno = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)len != strlen(line)) {
            rc = fail(r, MYR_EINVAL, "NUL byte in config file: %s at line %u", path, lineno);
            break;
        }
        char *p = skip_blanks(line);
        trim_end(p, p + strlen(p));
        rc = read_line(r, path, lineno, p, group, sizeof group, &have_group, &in_group, depth);
    }
    if (rc == 0 && ferror(f))
        rc = fail(r, MYR_EINVAL, "error reading config file: %s", path);
    free(line); /* getline() allocates with malloc */
    fclose(f);
    return rc;
}

int myr_optfile_read(const char *file, int required, const char *const *groups,
                     myr_optfile_cb cb, void *arg, char *err, size_t errlen)
{
    reader r = {groups, cb, arg, err, errlen};
    if (errlen > 0)
        err[0] = '\0';
    if (file == NULL || cb == NULL)
        return fail(&r, MYR_EINVAL, "no option file or callback given");
    return read_file(&r, file, required, 0);
}

int myr_optfile_read_defaults(const char *extra_file, const char *const *groups,
                              myr_optfile_cb cb, void *arg, char *err, size_t errlen)
{
    static const char *const system_files[] = {"/etc/my.cnf", "/etc/mysql/my.cnf"};
    int rc;
    for (size_t i = 0; i < sizeof system_files / sizeof system_files[0]; i++)
        if ((rc = myr_optfile_read(system_files[i], 0, groups, cb, arg, err, errlen)) != 0)
            return rc;
    if (extra_file != NULL &&
        (rc = myr_optfile_read(extra_file, 1, groups, cb, arg, err, errlen)) != 0)
        return rc;
    const char *home = getenv("HOME");
    if (home == NULL || *home == '\0')
        return 0;
    size_t len = strlen(home) + sizeof "/.my.cnf";
    char *path = myr__malloc(len);
    if (path == NULL) {
        if (errlen > 0)
            snprintf(err, errlen, "out of memory");
        return MYR_ENOMEM;
    }
    snprintf(path, len, "%s/.my.cnf", home);
    rc = myr_optfile_read(path, 0, groups, cb, arg, err, errlen);
    myr__free(path);
    return rc;
}
