/*
 * main.c -- `myring`, a command-line client compatible with
 * `mariadb --batch --default-character-set=utf8mb4`.
 *
 * Options and flow: parse the options the way my_getopt does for the ones
 * we know, connect with the blocking *_sync calls, feed stdin (or the -e
 * text) to the splitter, run each statement on its own and print its result
 * sets in batch format. The first error ends the run with exit status 1,
 * reported like the reference client does (see print_query_error()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "myring.h"
#include <editline/readline.h>
#include <time.h>

#include "defaults.h"
#include "format.h"
#include "layout.h"
#include "split.h"

#define DEFAULT_SOCKET "/run/mysqld/mysqld.sock"
#define DEFAULT_PORT 3306
/* Connector/C's TCP connect is non-blocking: when it fails, the errno it
 * reports is the EINPROGRESS of the connect() call, whatever the real cause. */
#define TCP_CONNECT_ERRNO 115

enum proto { PROTO_DEFAULT, PROTO_TCP, PROTO_SOCKET };

typedef struct cli {
    /* options */
    const char *host, *user, *password, *database, *socket, *charset;
    long port;
    enum proto proto;
    long connect_timeout, read_timeout; /* seconds, 0 = none */
    char *execute;                      /* -e text (several -e joined), or NULL */
    bool skip_column_names, raw, line_numbers, print_query_on_error, quick;
    int silent;
    bool in_file;                       /* applying an option file's option */
    enum { OUT_TAB, OUT_TABLE, OUT_VERTICAL } output;
    bool batch_given;                   /* -B: tab output even on a terminal */
    int verbose;                        /* -v count */
    bool force;                         /* -f: go on after errors */
    bool ask_password;                  /* a bare -p: prompt for it */
    bool interactive;                   /* a person at a terminal: readline loop */
    const char *prompt;                 /* --prompt, or NULL for the default */
    char *current_db;                   /* for the prompt's \d (strdup'd), or NULL */
    double started;                     /* when the running statement was sent */
    /* TLS: ssl_mode 0 = the library's default (PREFERRED); ssl_implied: an
     * --ssl-* file option was given, which means --ssl to the reference */
    int ssl_mode;
    bool ssl_implied, ssl_verify;
    const char *ssl_ca, *ssl_capath, *ssl_cert, *ssl_key, *ssl_cipher, *tls_version;
    /* auth (include/myring/auth.h) */
    const char *server_public_key;
    bool get_server_public_key, enable_cleartext_plugin;
    /* run */
    myr_conn *conn;
    int exit_status;
    const char *cur_file;               /* the file `source` is running, or NULL */
    int source_depth;
} cli;

static const char *progname = "myring";

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s [OPTIONS] [database]\n"
            "Batch-mode client compatible with `mariadb --batch`.\n"
            "  -h, --host=name          Connect to host.\n"
            "  -P, --port=#             Port number (selects TCP).\n"
            "  -S, --socket=name        Unix socket file.\n"
            "      --protocol=tcp|socket\n"
            "  -u, --user=name          User for login.\n"
            "  -p<pw>, --password=<pw>  Password (also MYSQL_PWD); a bare -p asks for it.\n"
            "  -D, --database=name      Database to use.\n"
            "  -e, --execute=stmts      Execute statements and quit (else read stdin).\n"
            "  -B, --batch              Batch mode (always on).\n"
            "  -N, --skip-column-names  Don't write column names.\n"
            "  -r, --raw                Write values without escaping.\n"
            "  -s, --silent             Be more silent (no column names).\n"
            "  -q, --quick              Print column names of empty results too.\n"
            "  -t, --table              Output in table format.\n"
            "  -E, --vertical           Print the output vertically (also \\G).\n"
            "  -v, --verbose            Echo statements (-vv: also result counts).\n"
            "  -f, --force              Continue after an SQL error.\n"
            "      --prompt=fmt         Interactive prompt: \\d database, \\u user, \\h host,\n"
            "                           \\p port, \\v server version, \\_ space, \\\\ backslash.\n"
            "      --line-numbers=0     Don't write line numbers in errors.\n"
            "      --connect-timeout=S  Connect timeout in seconds.\n"
            "      --read-timeout=S     Read timeout in seconds.\n"
            "      --default-character-set=name  Connection charset (utf8mb4).\n"
            "      --ssl-mode=MODE      DISABLED, PREFERRED (default), REQUIRED, VERIFY_CA,\n"
            "                           VERIFY_IDENTITY.\n"
            "      --ssl, --skip-ssl    Require / disable TLS.\n"
            "      --ssl-verify-server-cert  Check the server's certificate and host name.\n"
            "      --ssl-ca=file, --ssl-capath=dir, --ssl-cert=file, --ssl-key=file\n"
            "      --ssl-cipher=list, --tls-version=TLSv1.2,TLSv1.3\n"
            "      --server-public-key-path=file  The server's RSA public key (PEM), for\n"
            "                           caching_sha2_password/sha256_password over plain TCP.\n"
            "      --get-server-public-key  Ask the server for that key if none is given.\n"
            "      --enable-cleartext-plugin  Allow mysql_clear_password (TLS/socket only).\n"
            "      --skip-print-query-on-error\n"
            "  -V, --version            Print the version and exit.\n"
            "  -?, --help               Print this help and exit.\n",
            progname);
}

/* ------------------------------------------------------------- options */

static int parse_long_num(const char *opt, const char *v, long *out)
{
    char *end;
    long n;

    errno = 0;
    n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < 0) {
        fprintf(stderr, "%s: Incorrect integer value: '%s' for %s\n", progname, v, opt);
        return -1;
    }
    *out = n;
    return 0;
}

static int append_execute(cli *c, const char *text)
{
    /* Several -e options are joined with a space, as the reference does. */
    size_t old = c->execute ? strlen(c->execute) : 0;
    size_t n = strlen(text);
    char *p = realloc(c->execute, old + n + 2);

    if (!p)
        return -1;
    if (old)
        p[old++] = ' ';
    memcpy(p + old, text, n + 1);
    c->execute = p;
    return 0;
}

/* Options taking a value, keyed by long name; short is 0 when none. */
enum opt_id {
    O_HOST, O_PORT, O_USER, O_PASSWORD, O_DATABASE, O_SOCKET, O_EXECUTE,
    O_CONNECT_TIMEOUT, O_READ_TIMEOUT, O_CHARSET, O_PROTOCOL, O_IGNORED_ARG,
    O_BATCH, O_SKIP_COLUMN_NAMES, O_COLUMN_NAMES, O_RAW, O_SILENT, O_QUICK,
    O_SKIP_LINE_NUMBERS, O_LINE_NUMBERS, O_PRINT_QUERY, O_SKIP_PRINT_QUERY,
    O_IGNORED_FLAG, O_HELP, O_VERSION, O_TABLE, O_VERTICAL, O_VERBOSE, O_FORCE, O_PROMPT,
    O_SSL, O_SKIP_SSL, O_SSL_MODE, O_SSL_CA, O_SSL_CAPATH, O_SSL_CERT, O_SSL_KEY, O_SSL_CIPHER,
    O_TLS_VERSION, O_SSL_VERIFY, O_SERVER_PUBLIC_KEY, O_GET_SERVER_PUBLIC_KEY, O_ENABLE_CLEARTEXT
};

enum arg_kind { ARG_NONE, ARG_REQUIRED, ARG_OPTIONAL };

static const struct {
    const char *name;
    char short_name;
    enum arg_kind arg;
    enum opt_id id;
} options[] = {
    {"host", 'h', ARG_REQUIRED, O_HOST},
    {"port", 'P', ARG_REQUIRED, O_PORT},
    {"user", 'u', ARG_REQUIRED, O_USER},
    {"password", 'p', ARG_OPTIONAL, O_PASSWORD},
    {"database", 'D', ARG_REQUIRED, O_DATABASE},
    {"socket", 'S', ARG_REQUIRED, O_SOCKET},
    {"execute", 'e', ARG_REQUIRED, O_EXECUTE},
    {"connect-timeout", 0, ARG_REQUIRED, O_CONNECT_TIMEOUT},
    {"connect_timeout", 0, ARG_REQUIRED, O_CONNECT_TIMEOUT},
    {"read-timeout", 0, ARG_REQUIRED, O_READ_TIMEOUT},
    {"read_timeout", 0, ARG_REQUIRED, O_READ_TIMEOUT},
    {"default-character-set", 0, ARG_REQUIRED, O_CHARSET},
    {"protocol", 0, ARG_REQUIRED, O_PROTOCOL},
    /* Accepted for compatibility, no effect: myring has no packet limit of
     * its own and no pager, history or rehash. */
    {"max-allowed-packet", 0, ARG_REQUIRED, O_IGNORED_ARG},
    {"max_allowed_packet", 0, ARG_REQUIRED, O_IGNORED_ARG},
    {"net-buffer-length", 0, ARG_REQUIRED, O_IGNORED_ARG},
    {"batch", 'B', ARG_NONE, O_BATCH},
    {"skip-column-names", 'N', ARG_NONE, O_SKIP_COLUMN_NAMES},
    {"column-names", 0, ARG_NONE, O_COLUMN_NAMES},
    {"raw", 'r', ARG_NONE, O_RAW},
    {"silent", 's', ARG_NONE, O_SILENT},
    {"quick", 'q', ARG_NONE, O_QUICK},
    {"skip-line-numbers", 'L', ARG_NONE, O_SKIP_LINE_NUMBERS},
    {"line-numbers", 0, ARG_NONE, O_LINE_NUMBERS},
    {"print-query-on-error", 0, ARG_NONE, O_PRINT_QUERY},
    {"skip-print-query-on-error", 0, ARG_NONE, O_SKIP_PRINT_QUERY},
    {"no-auto-rehash", 'A', ARG_NONE, O_IGNORED_FLAG},
    {"skip-auto-rehash", 0, ARG_NONE, O_IGNORED_FLAG},
    {"unbuffered", 'n', ARG_NONE, O_IGNORED_FLAG},
    {"no-beep", 'b', ARG_NONE, O_IGNORED_FLAG},
    {"no-defaults", 0, ARG_NONE, O_IGNORED_FLAG},
    /* myring's CLI speaks plain TCP or a Unix socket: TLS off is a no-op. */
    {"ssl", 0, ARG_NONE, O_SSL},
    {"skip-ssl", 0, ARG_NONE, O_SKIP_SSL},
    {"ssl-mode", 0, ARG_REQUIRED, O_SSL_MODE},
    {"ssl-ca", 0, ARG_REQUIRED, O_SSL_CA},
    {"ssl-capath", 0, ARG_REQUIRED, O_SSL_CAPATH},
    {"ssl-cert", 0, ARG_REQUIRED, O_SSL_CERT},
    {"ssl-key", 0, ARG_REQUIRED, O_SSL_KEY},
    {"ssl-cipher", 0, ARG_REQUIRED, O_SSL_CIPHER},
    {"tls-version", 0, ARG_REQUIRED, O_TLS_VERSION},
    {"ssl-verify-server-cert", 0, ARG_NONE, O_SSL_VERIFY},
    {"server-public-key-path", 0, ARG_REQUIRED, O_SERVER_PUBLIC_KEY},
    {"get-server-public-key", 0, ARG_NONE, O_GET_SERVER_PUBLIC_KEY},
    {"enable-cleartext-plugin", 0, ARG_NONE, O_ENABLE_CLEARTEXT},
    {"prompt", 0, ARG_REQUIRED, O_PROMPT},
    {"table", 't', ARG_NONE, O_TABLE},
    {"vertical", 'E', ARG_NONE, O_VERTICAL},
    {"verbose", 'v', ARG_NONE, O_VERBOSE},
    {"force", 'f', ARG_NONE, O_FORCE},
    {"help", '?', ARG_NONE, O_HELP},
    {"version", 'V', ARG_NONE, O_VERSION},
};
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/* Apply one option. Returns 0, 1 to exit 0 at once (help, version), -1 on
 * a bad value. */
static int apply_option(cli *c, enum opt_id id, const char *name, const char *v)
{
    switch (id) {
    case O_HOST: c->host = v; break;
    case O_PORT:
        if (parse_long_num(name, v, &c->port) < 0)
            return -1;
        if (!c->in_file)
            c->proto = PROTO_TCP; /* a port on the command line means TCP */
        break;
    case O_USER: c->user = v; break;
    case O_PASSWORD:
        /* A bare -p/--password asks for it once the options are read
         * (from a file, a bare "password" means the same). */
        c->password = v;
        c->ask_password = v == NULL;
        break;
    case O_DATABASE: c->database = v; break;
    case O_SOCKET:
        c->socket = v;
        c->proto = PROTO_SOCKET;
        break;
    case O_EXECUTE:
        if (append_execute(c, v) < 0)
            return -1;
        break;
    case O_CONNECT_TIMEOUT: return parse_long_num(name, v, &c->connect_timeout);
    case O_READ_TIMEOUT: return parse_long_num(name, v, &c->read_timeout);
    case O_CHARSET: c->charset = v; break;
    case O_PROTOCOL:
        if (!strcasecmp(v, "tcp"))
            c->proto = PROTO_TCP;
        else if (!strcasecmp(v, "socket"))
            c->proto = PROTO_SOCKET;
        else {
            fprintf(stderr, "%s: Unknown or unsupported protocol '%s'\n", progname, v);
            return -1;
        }
        break;
    case O_IGNORED_ARG: break;
    case O_BATCH: c->batch_given = true; break;
    case O_TABLE: if (c->output != OUT_VERTICAL) c->output = OUT_TABLE; break;
    case O_VERTICAL: c->output = OUT_VERTICAL; break;
    case O_VERBOSE: c->verbose++; break;
    case O_FORCE: c->force = true; break;
    case O_PROMPT: c->prompt = v; break;
    case O_SKIP_COLUMN_NAMES: c->skip_column_names = true; break;
    case O_COLUMN_NAMES: c->skip_column_names = false; break;
    case O_RAW: c->raw = true; break;
    case O_SILENT: c->silent++; break;
    case O_QUICK: c->quick = true; break;
    case O_SKIP_LINE_NUMBERS:
        /* Reference quirk: -L/--skip-line-numbers leave the line numbers
         * on in mariadb 10.11 (only --line-numbers=0 turns them off). */
        break;
    case O_LINE_NUMBERS: c->line_numbers = true; break;
    case O_PRINT_QUERY: c->print_query_on_error = true; break;
    case O_SKIP_PRINT_QUERY: c->print_query_on_error = false; break;
    case O_IGNORED_FLAG: break;
    case O_SSL: c->ssl_mode = MYR_SSL_REQUIRED; break;
    case O_SKIP_SSL: c->ssl_mode = MYR_SSL_DISABLED; c->ssl_verify = false; break;
    case O_SSL_MODE: {
        static const char *const names[] = {"DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA",
                                            "VERIFY_IDENTITY"};
        int m = 0;
        for (int k = 0; k < 5; k++)
            if (!strcasecmp(v, names[k]))
                m = MYR_SSL_DISABLED + k;
        if (!m) {
            fprintf(stderr, "%s: Invalid value '%s' for --ssl-mode (DISABLED, PREFERRED, REQUIRED, "
                            "VERIFY_CA or VERIFY_IDENTITY)\n", progname, v);
            return -1;
        }
        c->ssl_mode = m;
        break;
    }
    case O_SSL_CA: c->ssl_ca = v; c->ssl_implied = true; break;
    case O_SSL_CAPATH: c->ssl_capath = v; c->ssl_implied = true; break;
    case O_SSL_CERT: c->ssl_cert = v; c->ssl_implied = true; break;
    case O_SSL_KEY: c->ssl_key = v; c->ssl_implied = true; break;
    case O_SSL_CIPHER: c->ssl_cipher = v; c->ssl_implied = true; break;
    case O_TLS_VERSION: c->tls_version = v; break;
    case O_SSL_VERIFY: c->ssl_verify = true; break;
    case O_SERVER_PUBLIC_KEY: c->server_public_key = v; break;
    case O_GET_SERVER_PUBLIC_KEY: c->get_server_public_key = true; break;
    case O_ENABLE_CLEARTEXT: c->enable_cleartext_plugin = true; break;
    case O_HELP: usage(stdout); return 1;
    case O_VERSION: printf("%s Ver %s (batch client over io_uring)\n", progname, myr_version()); return 1;
    }
    return 0;
}

/* An option file names an option we do not know: ignored when the
 * reference client knows it (the file is shared with it), a warning when it
 * was written "loose-", else an error (exit status 7), as the reference. */
static int unknown_file_option(const char *arg, bool loose)
{
    const char *name = arg + (loose ? 6 : 0);
    char buf[128];
    size_t n = strcspn(name, "=");
    if (n < sizeof buf) {
        memcpy(buf, name, n);
        buf[n] = '\0';
        if (cli_reference_option(buf))
            return 0;
    }
    if (loose) {
        fprintf(stderr, "Warning: %s: unknown variable '%s'\n", progname, arg);
        return 0;
    }
    fprintf(stderr, "%s: unknown variable '%s'\n", progname, arg);
    return 7;
}

/* Returns 0 to run, 1 to exit 0 at once, 2 on an unknown option or bad
 * value (exit status 2, like my_getopt), 3 on too many arguments (1), 7 on
 * an unknown option in an option file (7). argv[1..nfile] came from option
 * files: their names may use '_' for '-', and they never take the next
 * argument as their value. */
static int parse_args(cli *c, int argc, char **argv, int nfile)
{
    int i;
    bool only_args = false, had_positional = false;

    for (i = 1; i < argc; i++) {
        char *a = argv[i];
        bool loose = false;
        char written[160]; /* a file's option as written, for messages */

        c->in_file = i <= nfile;
        if (c->in_file)
            snprintf(written, sizeof written, "%s", a + 2);
        if (a[0] == '-' && a[1] == '-' && !strncmp(a + 2, "loose", 5) &&
            (a[7] == '-' || a[7] == '_')) {
            loose = true;
            a += 6; /* "--loose-name" -> "--name" */
            a[0] = '-';
            a[1] = '-';
        }
        if (c->in_file)
            for (char *p = a + 2; *p && *p != '='; p++)
                if (*p == '_')
                    *p = '-';

        if (only_args || a[0] != '-' || a[1] == '\0') {
            /* The first non-option argument is the database; the
             * reference refuses a second one. */
            if (had_positional) {
                fprintf(stderr, "%s: too many arguments: '%s'\n", progname, a);
                usage(stderr);
                return 3;
            }
            had_positional = true;
            c->database = a;
            continue;
        }
        if (a[1] == '-') {
            char *name = a + 2, *eq;
            size_t nlen, k;
            int rc;

            if (*name == '\0') {
                only_args = true;
                continue;
            }
            eq = strchr(name, '=');
            nlen = eq ? (size_t)(eq - name) : strlen(name);
            for (k = 0; k < N_OPTIONS; k++)
                if (strlen(options[k].name) == nlen && !strncmp(options[k].name, name, nlen))
                    break;
            if (k == N_OPTIONS) {
                /* --skip-X / --disable-X for the booleans we know. */
                if (!eq && (!strncmp(name, "disable-", 8) || !strncmp(name, "enable-", 7))) {
                    bool on = name[0] == 'e';
                    const char *base = name + (on ? 7 : 8);
                    if (!strcmp(base, "column-names"))
                        c->skip_column_names = !on;
                    else if (!strcmp(base, "print-query-on-error"))
                        c->print_query_on_error = on;
                    else if (!strcmp(base, "line-numbers"))
                        c->line_numbers = on;
                    else if (!strcmp(base, "auto-rehash") || !strcmp(base, "pager") ||
                             !strcmp(base, "tee"))
                        ;
                    else
                        goto unknown;
                    continue;
                }
unknown:
                if (c->in_file) {
                    int urc = unknown_file_option(written, loose);
                    if (urc)
                        return urc;
                    continue;
                }
                fprintf(stderr, "%s: unknown option '%s'\n", progname, a);
                return 2;
            }
            if (options[k].arg == ARG_NONE) {
                if (eq) {
                    /* --flag=0/1 style */
                    if (!strcmp(eq + 1, "0") || !strcasecmp(eq + 1, "false") ||
                        !strcasecmp(eq + 1, "off")) {
                        if (options[k].id == O_RAW)
                            c->raw = false;
                        else if (options[k].id == O_SKIP_COLUMN_NAMES)
                            c->skip_column_names = false;
                        else if (options[k].id == O_COLUMN_NAMES)
                            c->skip_column_names = true;
                        else if (options[k].id == O_LINE_NUMBERS)
                            c->line_numbers = false;
                        else if (options[k].id == O_PRINT_QUERY)
                            c->print_query_on_error = false;
                        continue;
                    }
                }
                rc = apply_option(c, options[k].id, options[k].name, NULL);
            } else if (eq) {
                rc = apply_option(c, options[k].id, options[k].name, eq + 1);
            } else if (options[k].arg == ARG_OPTIONAL) {
                rc = apply_option(c, options[k].id, options[k].name, NULL);
            } else {
                if (i + 1 >= argc || c->in_file) {
                    fprintf(stderr, "%s: option '--%s' requires an argument\n", progname,
                            options[k].name);
                    return 2;
                }
                rc = apply_option(c, options[k].id, options[k].name, argv[++i]);
            }
            if (rc < 0)
                return 2;
            if (rc > 0)
                return 1;
            continue;
        }
        /* Short options, possibly bundled: -BN, -hhost, -h host, -ppw. */
        for (char *p = a + 1; *p; p++) {
            size_t k;
            int rc;

            for (k = 0; k < N_OPTIONS; k++)
                if (options[k].short_name == *p)
                    break;
            if (k == N_OPTIONS) {
                fprintf(stderr, "%s: unknown option '-%c'\n", progname, *p);
                return 2;
            }
            if (options[k].arg == ARG_NONE) {
                rc = apply_option(c, options[k].id, options[k].name, NULL);
            } else if (p[1]) {
                rc = apply_option(c, options[k].id, options[k].name, p + 1);
                p += strlen(p) - 1;
            } else if (options[k].arg == ARG_OPTIONAL) {
                rc = apply_option(c, options[k].id, options[k].name, NULL);
            } else {
                if (i + 1 >= argc) {
                    fprintf(stderr, "%s: option '-%c' requires an argument\n", progname, *p);
                    return 2;
                }
                rc = apply_option(c, options[k].id, options[k].name, argv[++i]);
            }
            if (rc < 0)
                return 2;
            if (rc > 0)
                return 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ errors */

/* "ERROR 1054 (42S22) at line 3: message" on stderr. */
static void print_error(const cli *c, unsigned code, const char *sqlstate, unsigned long line,
                        const char *msg)
{
    fflush(stdout);
    fputs("ERROR", stderr);
    if (code) {
        if (sqlstate && *sqlstate)
            fprintf(stderr, " %u (%s)", code, sqlstate);
        else
            fprintf(stderr, " %u", code);
    }
    if (line && c->line_numbers)
        fprintf(stderr, " at line %lu", line);
    if (line && c->line_numbers && c->cur_file)
        fprintf(stderr, " in file: '%s'", c->cur_file);
    fprintf(stderr, ": %s\n", msg);
    fflush(stderr);
}

/* The reference prints the failing statement before the error: the text as
 * sent, or nothing when the error came with a later result of a CALL. */
static void print_query_error(const cli *c, const char *query, size_t len)
{
    if (!c->print_query_on_error || c->verbose)
        return; /* with -v the statement was echoed before it ran */
    fflush(stdout);
    fputs("--------------\n", stderr);
    fwrite(query, 1, len, stderr);
    if (len == 0 || query[len - 1] != '\n')
        fputc('\n', stderr);
    fputs("--------------\n\n", stderr);
}

/* The errno a failed connection reports, if any: the code itself when it is
 * a negative errno, else a "(N)" or "errno N" the library put in the text. */
static int connect_errno(const myr_error *e, int dflt)
{
    const char *p;

    if (e->code < 0 && e->code > -4096)
        return -e->code;
    p = strrchr(e->message, '(');
    if (p) {
        char *end;
        long n = strtol(p + 1, &end, 10);
        if (end != p + 1 && *end == ')')
            return (int)n;
    }
    return dflt;
}

/* Did the server send this error (an ERR packet)? Then its number and
 * SQLSTATE are printed as sent. The number alone cannot tell: SIGNAL lets a
 * user raise any number, 30001 or one in the client range such as 2013. */
static bool is_server_error(const myr_error *e)
{
    return e->code == MYR_ESERVER;
}

/* The reference's libmariadb (3.3, MariaDB 10.11; since CONC-648) refuses
 * an ERR packet carrying one of its own client error numbers, which a server
 * has no business sending, and reports a malformed packet instead (the
 * connection stays usable). Its client numbers are 2001..2061 and
 * 5001..5026; 2000 and anything else pass through as the server sent them. */
static bool reference_rejects(const myr_error *e)
{
    unsigned n = e->mysql_errno;
    return is_server_error(e) && ((n > 2000 && n <= 2061) || (n > 5000 && n <= 5026));
}

static void print_malformed(const cli *c, unsigned long line)
{
    print_error(c, 2027, "HY000", line, "Received malformed packet");
}

static void print_connect_error(const cli *c, const myr_error *e, bool use_socket,
                                const char *host, const char *socket)
{
    char msg[700];

    if (reference_rejects(e)) {
        print_malformed(c, 0);
        return;
    }
    if (is_server_error(e)) {
        print_error(c, e->mysql_errno, e->sqlstate, 0, e->message);
        return;
    }
    switch (e->code) {
    case MYR_EHOSTNAME:
        snprintf(msg, sizeof(msg), "Unknown server host '%.100s' (%d)", host, -2);
        print_error(c, 2005, "HY000", 0, msg);
        return;
    case MYR_EURING:   /* the kernel refused io_uring: say so, not "can't connect" */
    case MYR_EAUTH:
    case MYR_EMALFORMED:
    case MYR_ENOMEM:
    case MYR_EINVAL:
    case MYR_ENOTSUP:
        break;
    default:
        if (e->mysql_errno == 0 || e->mysql_errno == 2002 || e->mysql_errno == 2003 ||
            e->code == MYR_ECONNECT || e->code == MYR_EUNIXSOCK || e->code == MYR_ETIMEDOUT ||
            (e->code < 0 && e->code > -4096)) {
            if (use_socket)
                snprintf(msg, sizeof(msg),
                         "Can't connect to local server through socket '%.64s' (%d)", socket,
                         connect_errno(e, ENOENT));
            else
                snprintf(msg, sizeof(msg), "Can't connect to server on '%.64s' (%d)", host,
                         TCP_CONNECT_ERRNO);
            print_error(c, 2002, "HY000", 0, msg);
            return;
        }
    }
    print_error(c, e->mysql_errno ? e->mysql_errno : MYR_CR_UNKNOWN_ERROR,
                e->sqlstate[0] ? e->sqlstate : "HY000", 0, e->message);
}

/* A query failed: server errors come as they are; the client ones the
 * reference knows by number (2013 lost connection, 2006 gone away). */
static void print_query_failure(const cli *c, const myr_error *e, unsigned long line)
{
    unsigned code = e->mysql_errno;
    const char *state = e->sqlstate[0] ? e->sqlstate : "HY000";
    const char *msg = e->message;

    if (reference_rejects(e)) {
        print_malformed(c, line);
        return;
    }
    if (!is_server_error(e)) {
        switch (e->code) {
        case MYR_ECONNLOST:
        case MYR_ETIMEDOUT:
            code = 2013;
            msg = "Lost connection to server during query";
            break;
        case MYR_EGONE:
        case MYR_ECLOSED:
        case MYR_EABORTED:
            code = 2006;
            msg = "Server has gone away";
            break;
        default:
            if (e->code < 0 && e->code > -4096) {
                code = 2013;
                msg = "Lost connection to server during query";
            } else if (!code) {
                code = MYR_CR_UNKNOWN_ERROR;
            }
        }
        state = "HY000";
    }
    print_error(c, code, state, line, msg);
}

/* ------------------------------------------------------------ running */

static void print_result_set(const cli *c, const myr_result *r)
{
    size_t ncol = myr_result_column_count(r), nrow = myr_result_row_count(r);
    size_t i, j;

    /* Batch mode prints nothing at all for an empty result (the reference's
     * "Empty set" line is for interactive use), except with --quick. */
    if (nrow == 0 && !c->quick)
        return;
    if (!c->skip_column_names && c->silent == 0) {
        for (j = 0; j < ncol; j++) {
            const myr_column *col = myr_result_column(r, j);
            if (j)
                cli_put_sep(stdout);
            cli_put_name(stdout, col->name, col->name_len);
        }
        cli_put_eol(stdout);
    }
    for (i = 0; i < nrow; i++) {
        for (j = 0; j < ncol; j++) {
            size_t len;
            const char *v = myr_result_value(r, i, j, &len);
            if (j)
                cli_put_sep(stdout);
            cli_put_value(stdout, v, len, c->raw);
        }
        cli_put_eol(stdout);
    }
}

/* -vv: what the reference says after each result. */
static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* -vv, and always at a terminal (then with the time it took). */
static void print_summary(const cli *c, const myr_result *r)
{
    unsigned w = myr_result_warnings(r);
    if (myr_result_column_count(r) > 0) {
        size_t n = myr_result_row_count(r);
        if (n == 0)
            fputs("Empty set", stdout);
        else
            printf("%zu row%s in set", n, n == 1 ? "" : "s");
    } else {
        unsigned long long n = (unsigned long long)myr_result_affected_rows(r);
        printf("Query OK, %llu row%s affected", n, n == 1 ? "" : "s");
    }
    if (w)
        printf(", %u warning%s", w, w == 1 ? "" : "s");
    if (c->interactive)
        printf(" (%.3f sec)", now_sec() - c->started);
    putchar('\n');
    const char *info = myr_result_info(r);
    if (myr_result_column_count(r) == 0 && info && *info)
        printf("%s\n", info);
    putchar('\n');
}

static void print_results(const cli *c, const myr_result *head, bool vertical)
{
    const myr_result *r;

    for (r = head; r; r = myr_result_next(r)) {
        bool rows = myr_result_column_count(r) > 0;
        if (rows && (myr_result_row_count(r) > 0 || c->quick)) {
            if (vertical || c->output == OUT_VERTICAL)
                cli_print_vertical(stdout, r, c->skip_column_names);
            else if (c->output == OUT_TABLE)
                cli_print_table(stdout, r, c->skip_column_names, c->quick);
            else
                print_result_set(c, r);
        }
        if (c->verbose >= 2 || c->interactive)
            print_summary(c, r);
    }
}

/* Run one statement; 0 on success, 1 after reporting an error.
 *
 * The future API rather than myr_query_sync: when a statement fails after
 * some of its result sets arrived (a CALL whose second SELECT fails), the
 * future still holds those, and the reference prints them before the error. */
static int run_query(cli *c, cli_splitter *s, const char *sql, size_t len, unsigned long line,
                     bool vertical)
{
    myr_future *f;
    myr_result *res;
    const myr_result *r, *last = NULL;
    int status;

    c->started = now_sec();
    if (c->verbose) {
        fputs("--------------\n", stdout);
        fwrite(sql, 1, len, stdout);
        fputs("\n--------------\n\n", stdout);
    }
    f = myr_query(c->conn, sql, len);
    if (!f) {
        fprintf(stderr, "%s: out of memory\n", progname);
        return 1;
    }
    status = myr_await(f, -1);
    res = myr_future_take_result(f);
    print_results(c, res, vertical);
    for (r = res; r; r = myr_result_next(r))
        last = r;
    if (status != 0) {
        myr_error err = *myr_future_error(f);

        /* The reference echoes the statement it was running; once a result
         * had come, its buffer was already cleared, so the echo is empty. */
        if (res)
            print_query_error(c, "", 0);
        else
            print_query_error(c, sql, len);
        print_query_failure(c, &err, line);
        myr_result_free(res);
        myr_future_free(f);
        return 1;
    }
    if (last) {
        /* Follow the server's quoting modes, as the reference's parser does. */
        unsigned st = myr_result_status(last);
        s->no_backslash_escapes = (st & MYR_SERVER_STATUS_NO_BACKSLASH_ESCAPES) != 0;
        s->ansi_quotes = (st & MYR_SERVER_STATUS_ANSI_QUOTES) != 0;
    }
    myr_result_free(res);
    myr_future_free(f);
    return 0;
}

static int run_use(cli *c, cli_splitter *s, const char *db, unsigned long line)
{
    /* `use db` selects the database (the reference calls mysql_select_db);
     * a quoted USE statement does the same and fails the same way. */
    size_t n = strlen(db), i, k = 0;
    char *sql = malloc(2 * n + 8);
    myr_error err;
    myr_result *res;

    if (!sql)
        return 1;
    memcpy(sql, "USE `", 5);
    k = 5;
    for (i = 0; i < n; i++) {
        if (db[i] == '`')
            sql[k++] = '`';
        sql[k++] = db[i];
    }
    sql[k++] = '`';
    sql[k] = '\0';
    memset(&err, 0, sizeof(err));
    res = myr_query_sync(c->conn, sql, k, &err);
    free(sql);
    (void)s;
    if (!res) {
        print_query_failure(c, &err, line);
        return 1;
    }
    myr_result_free(res);
    if (c->interactive) {
        puts("Database changed");
        free(c->current_db);
        c->current_db = strdup(db);
    }
    return 0;
}

typedef struct run_ctx {
    cli *c;
    cli_splitter *s;
} run_ctx;

static int run_fd(cli *c, int fd, const cli_splitter *outer);

/* `source FILE`: its statements run as if typed here. An error inside it
 * is reported with the file's name and line and does not end the run (the
 * exit status still says it happened); a file that cannot be opened does. */
static int run_source(cli *c, const cli_splitter *outer, const char *file, unsigned long line)
{
    char msg[600];
    if (*file == '\0') {
        print_error(c, 0, NULL, line, "Usage: \\. <filename> | source <filename>");
        return 1;
    }
    int fd = c->source_depth < 16 ? open(file, O_RDONLY | O_CLOEXEC) : -1;
    if (fd < 0) {
        snprintf(msg, sizeof msg, "Failed to open file '%.500s', error: %d", file,
                 c->source_depth < 16 ? errno : ELOOP);
        print_error(c, 0, NULL, line, msg);
        return 1;
    }
    const char *saved = c->cur_file;
    c->cur_file = file;
    c->source_depth++;
    int rc = run_fd(c, fd, outer);
    c->source_depth--;
    c->cur_file = saved;
    close(fd);
    if (rc)
        c->exit_status = 1;
    return 0;
}

static void print_status(cli *c)
{
    myr_error err;
    memset(&err, 0, sizeof err);
    static const char sql[] = "SELECT DATABASE(), CURRENT_USER(), @@character_set_connection";
    myr_result *r = myr_query_sync(c->conn, sql, sizeof sql - 1, &err);
    const char *db = r ? myr_result_value(r, 0, 0, NULL) : NULL;
    const char *user = r ? myr_result_value(r, 0, 1, NULL) : NULL;
    const char *cs = r ? myr_result_value(r, 0, 2, NULL) : NULL;
    printf("--------------\n%s %s (a MySQL/MariaDB client over io_uring)\n\n", progname, myr_version());
    printf("Connection id:\t\t%u\n", (unsigned)myr_conn_thread_id(c->conn));
    printf("Current database:\t%s\n", db ? db : "");
    printf("Current user:\t\t%s\n", user ? user : "");
    printf("Server version:\t\t%s\n", myr_conn_server_version(c->conn));
    printf("Connection character set:\t%s\n", cs ? cs : "");
    const char *tls = myr_conn_tls_version(c->conn);
    printf("SSL:\t\t\t%s%s%s\n", tls && *tls ? tls : "Not in use", tls && *tls ? ", cipher " : "",
           tls && *tls ? myr_conn_tls_cipher(c->conn) : "");
    printf("--------------\n\n");
    myr_result_free(r);
}

static void print_help(void)
{
    printf("\nmyring commands (each also as \\ and its letter; ';' or \\g sends a statement):\n"
           "?         (\\?) Same as help.\n"
           "clear     (\\c) Forget the statement typed so far.\n"
           "delimiter (\\d) Set the statement delimiter.\n"
           "ego       (\\G) Send the statement, show its results vertically.\n"
           "exit      (\\q) Leave. Same as quit.\n"
           "go        (\\g) Send the statement.\n"
           "help      (\\h) This list.\n"
           "quit      (\\q) Leave.\n"
           "source    (\\.) Run the statements of a file: source FILE.\n"
           "status    (\\s) Show the connection's state.\n"
           "use       (\\u) Switch to another database: use DB.\n\n");
}

/* Splitter callback: 0 goes on, 1 stops with failure. */
static int on_item(void *arg, cli_item kind, const char *text, size_t len, unsigned long line)
{
    run_ctx *rc = arg;
    cli *c = rc->c;
    char msg[200];

    switch (kind) {
    case CLI_ITEM_QUERY:
    case CLI_ITEM_QUERY_VERTICAL:
        /* --force: report the error and go on with the next statement. */
        /* Inside a sourced file too: the file goes on (the reference's way). */
        return run_query(c, rc->s, text, len, line, kind == CLI_ITEM_QUERY_VERTICAL) && !c->force &&
               !c->cur_file && !c->interactive;
    case CLI_ITEM_USE:
        return run_use(c, rc->s, text, line) && !c->interactive;
    case CLI_ITEM_ERROR:
        print_error(c, 0, NULL, line, text);
        return 0;
    case CLI_ITEM_SOURCE:
        return run_source(c, rc->s, text, line) && !c->force;
    case CLI_ITEM_STATUS:
        print_status(c);
        return 0;
    case CLI_ITEM_HELP:
        print_help();
        return 0;
    case CLI_ITEM_FATAL:
        print_error(c, 0, NULL, line, text);
        return 1;
    case CLI_ITEM_UNSUPPORTED:
        snprintf(msg, sizeof(msg), "client command '%s' is not supported by %s", text,
                 progname);
        print_error(c, 0, NULL, line, msg);
        return 1;
    default:
        return 1;
    }
}

/* Statements from fd (or the -e text when fd < 0) until its end. */
static int run_fd(cli *c, int fd, const cli_splitter *outer)
{
    cli_splitter s;
    run_ctx ctx = {c, &s};
    int rc;

    cli_split_init(&s, on_item, &ctx);
    if (outer) {
        /* A sourced file starts with the quoting modes in force. */
        s.no_backslash_escapes = outer->no_backslash_escapes;
        s.ansi_quotes = outer->ansi_quotes;
    }
    if (fd < 0) {
        rc = cli_split_feed(&s, c->execute, strlen(c->execute));
    } else {
        char buf[1 << 14];
        ssize_t n;

        rc = 0;
        for (;;) {
            n = read(fd, buf, sizeof(buf));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            rc = cli_split_feed(&s, buf, (size_t)n);
            if (rc)
                break;
        }
    }
    if (!rc || rc == CLI_SPLIT_QUIT)
        rc = cli_split_finish(&s);
    cli_split_free(&s);
    if (rc == -ENOMEM) {
        fprintf(stderr, "%s: out of memory\n", progname);
        return 1;
    }
    return rc == 1 ? 1 : 0; /* 0 or CLI_SPLIT_QUIT: success */
}

/* ------------------------------------------------------- interactive */

/* The prompt: the continuation forms while a statement is open, else
 * --prompt (default "myring [\d]> ") with its escapes expanded. */
static void make_prompt(const cli *c, const cli_splitter *s, char *buf, size_t size)
{
    if (s->in_string) {
        snprintf(buf, size, "    %c> ", s->in_string);
        return;
    }
    if (s->ml_comment) {
        snprintf(buf, size, "   /*> ");
        return;
    }
    if (s->stmt_len > 0) {
        snprintf(buf, size, "    -> ");
        return;
    }
    const char *fmt = c->prompt ? c->prompt : "myring [\\d]> ";
    size_t o = 0;
    for (const char *p = fmt; *p && o + 1 < size; p++) {
        char tmp[64];
        const char *add = tmp;
        tmp[0] = *p;
        tmp[1] = '\0';
        if (*p == '\\' && p[1]) {
            switch (*++p) {
            case 'd': add = c->current_db ? c->current_db : "(none)"; break;
            case 'u': add = c->user ? c->user : ""; break;
            case 'h': add = c->host && *c->host ? c->host : "localhost"; break;
            case 'p': snprintf(tmp, sizeof tmp, "%ld", c->port > 0 ? c->port : DEFAULT_PORT); break;
            case 'v': add = myr_conn_server_version(c->conn); break;
            case '_': add = " "; break;
            case 'n': add = "\n"; break;
            case '\\': add = "\\"; break;
            default: tmp[0] = *p; break;
            }
        }
        size_t n = strlen(add);
        if (n > size - 1 - o)
            n = size - 1 - o;
        memcpy(buf + o, add, n);
        o += n;
    }
    buf[o] = '\0';
}

static char *history_path(void)
{
    const char *env = getenv("MYRING_HISTFILE");
    if (env && *env)
        return strdup(env);
    const char *home = getenv("HOME");
    if (!home || !*home)
        return NULL;
    size_t n = strlen(home) + sizeof "/.myring_history";
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/.myring_history", home);
    return p;
}

/* A person at a terminal: line editing and history (libedit), results as
 * tables with their counts and times, errors reported and the session
 * going on; quit, exit, \q or end of input (^D) leave. */
static int run_interactive(cli *c)
{
    cli_splitter s;
    run_ctx ctx = {c, &s};
    char prompt[256];
    char *hist = history_path();

    printf("Welcome to myring, a MySQL/MariaDB client over io_uring. Commands end with ; or \\g.\n"
           "Connection id: %u\nServer version: %s\n\n"
           "Type 'help;' or '\\h' for help. Type '\\c' to clear the current input statement.\n\n",
           (unsigned)myr_conn_thread_id(c->conn), myr_conn_server_version(c->conn));
    fflush(stdout);
    using_history();
    if (hist)
        read_history(hist);
    cli_split_init(&s, on_item, &ctx);
    for (;;) {
        make_prompt(c, &s, prompt, sizeof prompt);
        char *line = readline(prompt);
        if (line == NULL)
            break; /* ^D */
        if (*line)
            add_history(line);
        int rc = cli_split_feed(&s, line, strlen(line));
        if (rc == 0)
            rc = cli_split_feed(&s, "\n", 1);
        free(line);
        fflush(stdout);
        if (rc == CLI_SPLIT_QUIT)
            break;
        if (rc == -ENOMEM) {
            fprintf(stderr, "%s: out of memory\n", progname);
            break;
        }
        if (rc != 0) {
            /* An unknown \x command stopped the splitter: start afresh,
             * keeping the delimiter and quoting modes. */
            cli_splitter fresh;
            cli_split_init(&fresh, on_item, &ctx);
            memcpy(fresh.delimiter, s.delimiter, sizeof fresh.delimiter);
            fresh.delim_len = s.delim_len;
            fresh.no_backslash_escapes = s.no_backslash_escapes;
            fresh.ansi_quotes = s.ansi_quotes;
            cli_split_free(&s);
            s = fresh;
        }
    }
    cli_split_free(&s);
    if (hist) {
        write_history(hist);
        free(hist);
    }
    puts("Bye");
    return 0;
}

static int run_input(cli *c)
{
    if (c->interactive)
        return run_interactive(c);
    return run_fd(c, c->execute ? -1 : STDIN_FILENO, NULL);
}

static const char *default_user(void)
{
    const char *u = getenv("USER");
    struct passwd *pw;

    if (u && *u)
        return u;
    pw = getpwuid(geteuid());
    return pw ? pw->pw_name : "";
}

static cli_args args;
static void free_args(void) { cli_args_free(&args); }

int main(int argc, char **argv)
{
    cli c;
    myr_conn_opts *o;
    myr_error err;
    const char *env, *host, *socket_path = NULL;
    bool use_socket;
    int rc;
    static char outbuf[1 << 16];

    memset(&c, 0, sizeof(c));
    c.line_numbers = true;
    c.print_query_on_error = true;
    c.port = 0;
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

    /* Environment first; options override. */
    c.password = getenv("MYSQL_PWD");
    c.host = getenv("MYSQL_HOST");
    if ((env = getenv("MYSQL_TCP_PORT")) && *env)
        c.port = atol(env);
    if ((env = getenv("MYSQL_UNIX_PORT")) && *env)
        c.socket = env;

    /* Option files first, the command line after (it wins). The strings
     * live until exit: the options keep pointers into them. */
    rc = cli_defaults_load(progname, argc, argv, &args);
    if (rc || args.argv == NULL)
        return rc;
    atexit(free_args);
    rc = parse_args(&c, args.argc, args.argv, args.nfile);
    if (rc) {
        free(c.execute);
        fflush(stdout);
        return rc == 1 ? 0 : rc == 3 ? 1 : rc;
    }

    /* A bare -p: ask as the reference does (glibc's getpass(): the
     * terminal without echo, else a line of stdin with the prompt on
     * stderr). The copy lives until exit, like the other option strings. */
    static char *asked;
    if (c.ask_password) {
        const char *pw = getpass("Enter password: ");
        asked = strdup(pw ? pw : "");
        if (pw)
            explicit_bzero((char *)pw, strlen(pw));
        if (asked == NULL) {
            fprintf(stderr, "%s: out of memory\n", progname);
            return 1;
        }
        c.password = asked;
    }

    /* On a terminal (stdin and stdout), results are tables unless -B; with
     * stdin a terminal and no -e or -B, a person is typing: interactive. */
    if (!c.batch_given && c.output == OUT_TAB && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
        c.output = OUT_TABLE;
    if (!c.batch_given && !c.execute && isatty(STDIN_FILENO)) {
        c.interactive = true;
        c.line_numbers = false;          /* "ERROR 1054 (42S22): ..." */
        c.print_query_on_error = false;
        if (c.database && *c.database)
            c.current_db = strdup(c.database);
    }

    /* Where to connect, by the reference's rules: a host other than
     * "localhost" means TCP; with localhost (or none), the last of -P
     * (TCP) and -S (socket) decides, and the socket is the default. */
    host = c.host && *c.host ? c.host : "localhost";
    use_socket = strcmp(host, "localhost") == 0 && c.proto != PROTO_TCP;
    if (use_socket)
        socket_path = c.socket && *c.socket ? c.socket : DEFAULT_SOCKET;

    o = myr_conn_opts_new();
    if (!o) {
        fprintf(stderr, "%s: out of memory\n", progname);
        return 1;
    }
    if (use_socket) {
        myr_conn_opts_set_str(o, MYR_OPT_UNIX_SOCKET, socket_path);
    } else {
        myr_conn_opts_set_str(o, MYR_OPT_HOST, host);
        myr_conn_opts_set_int(o, MYR_OPT_PORT, c.port > 0 ? c.port : DEFAULT_PORT);
    }
    myr_conn_opts_set_str(o, MYR_OPT_USER, c.user ? c.user : default_user());
    if (c.password)
        myr_conn_opts_set_str(o, MYR_OPT_PASSWORD, c.password);
    if (c.database && *c.database)
        myr_conn_opts_set_str(o, MYR_OPT_DATABASE, c.database);
    if (c.charset && strcasecmp(c.charset, "auto") != 0 &&
        myr_conn_opts_set_str(o, MYR_OPT_CHARSET, c.charset) < 0) {
        fprintf(stderr, "%s: Character set '%s' is not supported\n", progname, c.charset);
        myr_conn_opts_free(o);
        return 1;
    }
    if (c.connect_timeout > 0)
        myr_conn_opts_set_int(o, MYR_OPT_CONNECT_TIMEOUT,
                              c.connect_timeout > LONG_MAX / 1000 ? LONG_MAX : c.connect_timeout * 1000);
    if (c.read_timeout > 0)
        myr_conn_opts_set_int(o, MYR_OPT_READ_TIMEOUT,
                              c.read_timeout > LONG_MAX / 1000 ? LONG_MAX : c.read_timeout * 1000);

    /* TLS with the reference clients' meanings: --ssl (or any --ssl-* file
     * option, as mariadb has it) requires TLS, --skip-ssl disables it,
     * --ssl-verify-server-cert checks the certificate and the host name,
     * --ssl-mode is MySQL's; nothing given: the library's PREFERRED. */
    {
        int mode = c.ssl_mode;
        if (!mode && c.ssl_implied)
            mode = MYR_SSL_REQUIRED;
        if (c.ssl_verify && mode != MYR_SSL_DISABLED)
            mode = MYR_SSL_VERIFY_IDENTITY;
        if (mode)
            myr_conn_opts_set_int(o, MYR_OPT_SSL_MODE, mode);
        myr_conn_opts_set_str(o, MYR_OPT_SSL_CA, c.ssl_ca);
        myr_conn_opts_set_str(o, MYR_OPT_SSL_CAPATH, c.ssl_capath);
        myr_conn_opts_set_str(o, MYR_OPT_SSL_CERT, c.ssl_cert);
        myr_conn_opts_set_str(o, MYR_OPT_SSL_KEY, c.ssl_key);
        myr_conn_opts_set_str(o, MYR_OPT_SSL_CIPHER, c.ssl_cipher);
        if (c.tls_version && myr_conn_opts_set_str(o, MYR_OPT_TLS_VERSION, c.tls_version) < 0) {
            fprintf(stderr, "%s: Invalid value '%s' for --tls-version (TLSv1.2, TLSv1.3)\n", progname,
                    c.tls_version);
            myr_conn_opts_free(o);
            return 1;
        }
    }

    /* Authentication plugins' options (include/myring/auth.h). */
    myr_conn_opts_set_str(o, MYR_OPT_SERVER_PUBLIC_KEY, c.server_public_key);
    myr_conn_opts_set_int(o, MYR_OPT_GET_SERVER_PUBLIC_KEY, c.get_server_public_key);
    myr_conn_opts_set_int(o, MYR_OPT_ENABLE_CLEARTEXT_PLUGIN, c.enable_cleartext_plugin);

    memset(&err, 0, sizeof(err));
    c.conn = myr_connect_sync(NULL, o, &err);
    myr_conn_opts_free(o);
    if (!c.conn) {
        print_connect_error(&c, &err, use_socket, host, socket_path);
        free(c.execute);
        return 1;
    }

    rc = run_input(&c);
    free(c.current_db);
    if (rc == 0 && c.exit_status)
        rc = c.exit_status;
    if (c.verbose >= 2)
        fputs("Bye\n", stdout);
    fflush(stdout);

    memset(&err, 0, sizeof(err));
    myr_close_sync(c.conn, &err);
    free(c.execute);
    return rc;
}
