/*
 * defaults.c -- which option files the CLI reads and how their options join
 * the command line: files first, the command line after (so it wins), the
 * groups the reference client reads plus [myring].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "myring.h"
#include "myring/optfile.h"
#include "defaults.h"

static const char *const base_groups[] = {
    "mysql", "mariadb-client", "client", "client-server", "client-mariadb", "myring",
};
#define N_BASE (sizeof base_groups / sizeof base_groups[0])

typedef struct collect {
    char **v;
    int n, cap;
    int oom;
} collect;

static int push(collect *c, char *s)
{
    if (s == NULL) {
        c->oom = 1;
        return 1;
    }
    if (c->n == c->cap) {
        int ncap = c->cap ? c->cap * 2 : 16;
        char **nv = realloc(c->v, (size_t)ncap * sizeof *nv);
        if (nv == NULL) {
            free(s);
            c->oom = 1;
            return 1;
        }
        c->v = nv;
        c->cap = ncap;
    }
    c->v[c->n++] = s;
    return 0;
}

static int on_option(const char *file, unsigned line, const char *group, const char *name,
                     const char *value, void *arg)
{
    (void)file; (void)line; (void)group;
    size_t len = strlen(name) + (value ? strlen(value) + 1 : 0) + 3;
    char *s = malloc(len);
    if (s != NULL)
        snprintf(s, len, value ? "--%s=%s" : "--%s", name, value ? value : "");
    return push(arg, s);
}

static const char *leading_value(const char *arg, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) == 0 && arg[n] == '=')
        return arg + n + 1;
    return NULL;
}

int cli_defaults_load(const char *progname, int argc, char **argv, cli_args *out)
{
    const char *file = NULL, *extra = NULL, *suffix = NULL, *v;
    int no_defaults = 0, print = 0, i;

    memset(out, 0, sizeof *out);
    /* As the reference: these count only as the first arguments. */
    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no-defaults") == 0)
            no_defaults = 1;
        else if (strcmp(argv[i], "--print-defaults") == 0)
            print = 1;
        else if ((v = leading_value(argv[i], "--defaults-file")) != NULL)
            file = v;
        else if ((v = leading_value(argv[i], "--defaults-extra-file")) != NULL)
            extra = v;
        else if ((v = leading_value(argv[i], "--defaults-group-suffix")) != NULL)
            suffix = v;
        else
            break;
    }
    int first_rest = i;

    const char *groups[2 * N_BASE + 1];
    char *suffixed[N_BASE] = {0};
    size_t ng = 0;
    for (size_t g = 0; g < N_BASE; g++)
        groups[ng++] = base_groups[g];
    if (suffix == NULL)
        suffix = getenv("MYSQL_GROUP_SUFFIX");
    if (suffix != NULL && *suffix)
        for (size_t g = 0; g < N_BASE; g++) {
            size_t len = strlen(base_groups[g]) + strlen(suffix) + 1;
            if ((suffixed[g] = malloc(len)) != NULL) {
                snprintf(suffixed[g], len, "%s%s", base_groups[g], suffix);
                groups[ng++] = suffixed[g];
            }
        }
    groups[ng] = NULL;

    collect c = {0};
    char err[512] = "";
    int rc = 0;
    if (push(&c, strdup(argv[0])) == 0 && !no_defaults)
        rc = file ? myr_optfile_read(file, 1, groups, on_option, &c, err, sizeof err)
                  : myr_optfile_read_defaults(extra, groups, on_option, &c, err, sizeof err);
    for (size_t g = 0; g < N_BASE; g++)
        free(suffixed[g]);
    int nfile = c.n - 1;
    for (i = first_rest; rc == 0 && !c.oom && i < argc; i++)
        push(&c, strdup(argv[i]));
    if (c.oom) {
        fprintf(stderr, "%s: out of memory\n", progname);
        rc = 1;
    } else if (rc != 0) {
        /* The reference's wording: a file it cannot open is said plainly,
         * a syntax error with "error: " in front. */
        if (rc < 0 && rc > -4096)
            fprintf(stderr, "%s\n", err);
        else
            fprintf(stderr, "error: %s\n", err[0] ? err : myr_strerror(rc));
        fprintf(stderr, "Fatal error in defaults handling. Program aborted\n");
        rc = 1;
    } else if (print) {
        printf("%s would have been started with the following arguments:\n", progname);
        for (i = 1; i <= nfile; i++)
            printf("%s ", c.v[i]);
        printf("\n");
        rc = -1;
    }
    out->argc = c.n;
    out->argv = c.v;
    out->nfile = nfile;
    if (rc != 0) {
        cli_args_free(out);
        return rc < 0 ? 0 : rc;
    }
    return 0;
}

void cli_args_free(cli_args *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    free(a->argv);
    memset(a, 0, sizeof *a);
}

/* The long options of the reference client (mariadb 10.11 --help). */
static const char *const reference_options[] = {
    "abort-source-on-error", "auto-rehash", "auto-vertical-output", "batch", "binary-as-hex",
    "binary-mode", "character-sets-dir", "column-names", "column-type-info", "comments",
    "compress", "connect-expired-password", "connect-timeout", "database", "debug",
    "debug-check", "debug-info", "default-auth", "default-character-set", "delimiter",
    "enable-cleartext-plugin", "execute", "force", "help", "host", "html", "i-am-a-dummy",
    "ignore-spaces", "init-command", "line-numbers", "local-infile", "max-allowed-packet",
    "max-join-size", "named-commands", "net-buffer-length", "no-auto-rehash", "no-beep",
    "one-database", "pager", "password", "plugin-dir", "port", "print-query-on-error",
    "progress-reports", "prompt", "protocol", "quick", "quick-max-column-width", "raw",
    "reconnect", "safe-updates", "sandbox", "secure-auth", "select-limit", "server-arg",
    "show-warnings", "sigint-ignore", "silent", "skip-column-names", "skip-line-numbers",
    "socket", "ssl", "ssl-ca", "ssl-capath", "ssl-cert", "ssl-cipher", "ssl-crl",
    "ssl-crlpath", "ssl-key", "ssl-verify-server-cert", "table", "tee", "tls-version",
    "unbuffered", "user", "verbose", "version", "vertical", "wait", "xml",
};

int cli_reference_option(const char *name)
{
    char buf[64];
    size_t n = strlen(name);
    if (n >= sizeof buf)
        return 0;
    for (size_t i = 0; i <= n; i++)
        buf[i] = name[i] == '_' ? '-' : name[i];
    /* Booleans also come as skip-X, disable-X, enable-X. */
    const char *base = buf;
    static const char *const prefixes[] = {"skip-", "disable-", "enable-"};
    for (size_t p = 0; p < 3; p++) {
        size_t pl = strlen(prefixes[p]);
        if (strncmp(buf, prefixes[p], pl) == 0) {
            for (size_t i = 0; i < sizeof reference_options / sizeof *reference_options; i++)
                if (strcmp(buf + pl, reference_options[i]) == 0)
                    return 1;
        }
    }
    for (size_t i = 0; i < sizeof reference_options / sizeof *reference_options; i++)
        if (strcmp(base, reference_options[i]) == 0)
            return 1;
    return 0;
}
