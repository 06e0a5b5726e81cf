/* tests/conn/test_optfile.c -- option files: the syntax (myr_optfile_read),
 * the default file list, and what myr_conn_opts_read_defaults() makes of
 * them. Files are written to a private temporary directory; the expected
 * values were checked against `mariadb --print-defaults` (10.11), and
 * tests/cli/test_optfile.sh keeps checking the CLI's reading against it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "internal.h"
#include "myring/optfile.h"

static char dir[256];

static void write_file(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static const char *path_of(const char *name)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* Collects "group:name=value" (or "group:name") lines. */
typedef struct seen {
    char text[4096];
    unsigned last_line;
    int stop_at;  /* stop (return 42) at this option number, 0 = never */
    int count;
} seen;

static int collect(const char *file, unsigned line, const char *group, const char *name,
                   const char *value, void *arg)
{
    seen *s = arg;
    (void)file;
    s->last_line = line;
    size_t n = strlen(s->text);
    snprintf(s->text + n, sizeof s->text - n, value ? "%s:%s=%s\n" : "%s:%s\n", group, name,
             value ? value : "");
    if (++s->count == s->stop_at)
        return 42;
    return 0;
}

static const char *const client_groups[] = {"client", "mysql", NULL};

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/myr-optfile-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_syntax(void **state)
{
    (void)state;
    write_file("a.cnf",
               "# comment\n"
               "; other comment\n"
               "\n"
               "[client]\n"
               "host = 127.0.0.1   # trailing comment\n"
               "  port=13306\n"
               "user = \"my user\" # quoted\n"
               "password='p#w\\'d'\n"
               "esc=a\\tb\\\\c\\sd\n"
               "unknown_esc=x\\qy\n"
               "cut=x\\#y\n"
               "partly=\"q\" tail\n"
               "unterminated=\"abc\n"
               "hash=a#b\n"
               "semicolon = 5 ;c\n"
               "crlf=s\r\n"
               "empty=\n"
               "skip-ssl\n"
               "flag # with comment\n"
               "[mysqld]\n"
               "datadir=/never\n"
               "[MySQL]\n"
               "database = db1\n"
               "[ client]\n"
               "leading_blank_group=no\n"
               "[client  ]\n"
               "trailing_blank_group=yes\n");
    seen s = {0};
    char err[256];
    assert_int_equal(myr_optfile_read(path_of("a.cnf"), 1, client_groups, collect, &s, err, sizeof err), 0);
    assert_string_equal(s.text,
                        "client:host=127.0.0.1\n"
                        "client:port=13306\n"
                        "client:user=my user\n"
                        "client:password=p#w'd\n"
                        "client:esc=a\tb\\c d\n"
                        "client:unknown_esc=x\\qy\n"
                        "client:cut=x\\\n"
                        "client:partly=\"q\" tail\n"
                        "client:unterminated=\"abc\n"
                        "client:hash=a\n"
                        "client:semicolon=5 ;c\n"
                        "client:crlf=s\n"
                        "client:empty=\n"
                        "client:skip-ssl\n"
                        "client:flag\n"
                        "MySQL:database=db1\n"
                        "client:trailing_blank_group=yes\n");
}

static void test_includes(void **state)
{
    (void)state;
    char sub[300], text[2048];
    snprintf(sub, sizeof sub, "%s/conf.d", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file("conf.d/2.cnf", "[client]\nuser=two\n");
    write_file("conf.d/1.cnf", "[client]\nuser=one\n");
    write_file("conf.d/x.txt", "[client]\nuser=not-a-cnf\n");
    write_file("inc.cnf", "[client]\nhost=included\n");
    snprintf(text, sizeof text,
             "[client]\nhost=first\n!include %s/inc.cnf\n!include %s/missing.cnf\n"
             "!includedir %s\n!includedir %s/missing-dir\nport=1\n",
             dir, dir, sub, dir);
    write_file("main.cnf", text);
    seen s = {0};
    char err[256];
    assert_int_equal(myr_optfile_read(path_of("main.cnf"), 1, client_groups, collect, &s, err, sizeof err), 0);
    /* The group of the including file goes on after an !include. */
    assert_string_equal(s.text, "client:host=first\nclient:host=included\nclient:user=one\n"
                                "client:user=two\nclient:port=1\n");

    /* A file including itself ends with an error, not a stack overflow. */
    snprintf(text, sizeof text, "[client]\n!include %s/self.cnf\n", dir);
    write_file("self.cnf", text);
    memset(&s, 0, sizeof s);
    assert_int_equal(myr_optfile_read(path_of("self.cnf"), 1, client_groups, collect, &s, err, sizeof err),
                     MYR_EINVAL);
    assert_non_null(strstr(err, "nested too deeply"));
}

static void check_error(const char *text, const char *want, unsigned line)
{
    seen s = {0};
    char err[256], want_full[1024];
    write_file("bad.cnf", text);
    assert_int_equal(myr_optfile_read(path_of("bad.cnf"), 1, client_groups, collect, &s, err, sizeof err),
                     MYR_EINVAL);
    snprintf(want_full, sizeof want_full, want, path_of("bad.cnf"), line);
    assert_string_equal(err, want_full);
}

static void test_errors(void **state)
{
    (void)state;
    /* The reference's wording where it has one. */
    check_error("host=x\n", "Found option without preceding group in config file: %s at line: %u", 1);
    check_error("[client]\nhost=x\n[client\n", "Wrong group definition in config file: %s at line %u", 3);
    check_error("[client]\n= value\n", "option without a name in config file: %s at line %u", 2);
    check_error("[client]\n!frobnicate x\n", "unknown directive in config file: %s at line %u", 2);
    check_error("[client]\n!include\n", "!include without a path in config file: %s at line %u", 2);

    /* Required missing file: error with the errno; not required: nothing. */
    seen s = {0};
    char err[256];
    assert_int_equal(myr_optfile_read(path_of("none.cnf"), 1, client_groups, collect, &s, err, sizeof err),
                     -2 /* -ENOENT */);
    assert_non_null(strstr(err, "Could not open required defaults file"));
    assert_non_null(strstr(err, "none.cnf"));
    assert_int_equal(myr_optfile_read(path_of("none.cnf"), 0, client_groups, collect, &s, err, sizeof err), 0);
    assert_string_equal(s.text, "");

    /* Other groups are not checked, as the reference does not. */
    write_file("other.cnf", "[mysqld]\n= no name\n[client]\nok=1\n");
    assert_int_equal(myr_optfile_read(path_of("other.cnf"), 1, client_groups, collect, &s, err, sizeof err), 0);
    assert_string_equal(s.text, "client:ok=1\n");

    /* The callback's non-zero value stops the reading and is returned. */
    write_file("stop.cnf", "[client]\na=1\nb=2\nc=3\n");
    memset(&s, 0, sizeof s);
    s.stop_at = 2;
    assert_int_equal(myr_optfile_read(path_of("stop.cnf"), 1, client_groups, collect, &s, err, sizeof err), 42);
    assert_string_equal(s.text, "client:a=1\nclient:b=2\n");
    assert_int_equal(s.last_line, 3);
}

static void clear_env(void)
{
    unsetenv("MYSQL_HOST");
    unsetenv("MYSQL_TCP_PORT");
    unsetenv("MYSQL_UNIX_PORT");
    unsetenv("MYSQL_PWD");
}

static void test_conn_opts(void **state)
{
    (void)state;
    clear_env();
    write_file("conn.cnf",
               "[client]\n"
               "host = db.example\n"
               "port = 3307\n"
               "socket = /tmp/should-be-dropped.sock\n"
               "user = app\n"
               "password = \"s3cr et\"\n"
               "loose_default_character_set = latin1\n"
               "connect_timeout = 7\n"
               "read-timeout = 9\n"
               "pager = less\n"
               "frobnicate\n"
               "[myring]\n"
               "database = appdb\n"
               "[daemon]\n"
               "user = daemon_user\n"
               "[mysqld]\n"
               "port = 1\n");
    myr_conn_opts *o = myr_conn_opts_new();
    assert_non_null(o);
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("conn.cnf"), "daemon"), 0);
    assert_string_equal(myr_conn_opts_error(o), "");
    assert_string_equal(o->host, "db.example");
    assert_int_equal(o->port, 3307);
    assert_int_equal(o->port_set, 0);
    assert_null(o->unix_socket); /* a remote host means TCP */
    assert_string_equal(o->user, "daemon_user");
    assert_string_equal(o->password, "s3cr et");
    assert_string_equal(o->database, "appdb");
    assert_string_equal(o->charset, "latin1");
    assert_int_equal(o->connect_timeout_ms, 7000);
    assert_int_equal(o->read_timeout_ms, 9000);

    /* Without the daemon group, [client]'s user stays. */
    myr_conn_opts_free(o);
    o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("conn.cnf"), NULL), 0);
    assert_string_equal(o->user, "app");
    myr_conn_opts_free(o);

    /* localhost keeps the socket; protocol=tcp drops it and selects TCP. */
    write_file("local.cnf", "[client]\nhost=localhost\nsocket=/tmp/s.sock\n");
    o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("local.cnf"), NULL), 0);
    assert_string_equal(o->unix_socket, "/tmp/s.sock");
    myr_conn_opts_free(o);
    write_file("tcp.cnf", "[client]\nsocket=/tmp/s.sock\nprotocol=TCP\nport=4000\n");
    o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("tcp.cnf"), NULL), 0);
    assert_null(o->unix_socket);
    assert_int_equal(o->port_set, 1);
    assert_int_equal(o->port, 4000);
    myr_conn_opts_free(o);
}

static void test_conn_opts_env_and_errors(void **state)
{
    (void)state;
    clear_env();
    setenv("MYSQL_HOST", "envhost", 1);
    setenv("MYSQL_TCP_PORT", "4406", 1);
    setenv("MYSQL_PWD", "envpw", 1);
    write_file("env.cnf", "[client]\nuser=u\nport=5506\n");
    myr_conn_opts *o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("env.cnf"), NULL), 0);
    assert_string_equal(o->host, "envhost");   /* from the environment */
    assert_string_equal(o->password, "envpw");
    assert_int_equal(o->port, 5506);           /* the file wins over it */
    clear_env();

    /* A bad value names file and line, never the value. */
    write_file("badval.cnf", "[client]\npassword=hunter2\nport=12ab\n");
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("badval.cnf"), NULL), MYR_EINVAL);
    char want[1024];
    snprintf(want, sizeof want, "bad value for option 'port' in config file: %s at line 3",
             path_of("badval.cnf"));
    assert_string_equal(myr_conn_opts_error(o), want);
    assert_null(strstr(myr_conn_opts_error(o), "12ab"));
    write_file("badcs.cnf", "[client]\ndefault-character-set=klingon\n");
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("badcs.cnf"), NULL), MYR_EINVAL);
    assert_non_null(strstr(myr_conn_opts_error(o), "default-character-set"));
    write_file("syntax.cnf", "[client\n");
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("syntax.cnf"), NULL), MYR_EINVAL);
    assert_non_null(strstr(myr_conn_opts_error(o), "Wrong group definition"));
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("nope.cnf"), NULL), -2);
    assert_non_null(strstr(myr_conn_opts_error(o), "nope.cnf"));
    /* Success clears the reason. */
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("env.cnf"), NULL), 0);
    assert_string_equal(myr_conn_opts_error(o), "");
    myr_conn_opts_free(o);
    assert_int_equal(myr_conn_opts_read_defaults(NULL, NULL, NULL), MYR_EINVAL);
}

/* TLS and authentication options, with the CLI's rules for the mode. */
static void test_conn_opts_tls_auth(void **state)
{
    (void)state;
    clear_env();
    write_file("tls.cnf", "[client]\nssl-ca=/ca.pem\nssl_cert=/c.pem\nssl-key=/k.pem\n"
                          "ssl-cipher=ECDHE-RSA-CHACHA20-POLY1305\ntls-version=TLSv1.3\n"
                          "server-public-key-path=/pub.pem\nget-server-public-key\n"
                          "enable-cleartext-plugin=1\n");
    myr_conn_opts *o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("tls.cnf"), NULL), 0);
    assert_string_equal(o->ssl_ca, "/ca.pem");
    assert_string_equal(o->ssl_cert, "/c.pem");
    assert_string_equal(o->ssl_key, "/k.pem");
    assert_string_equal(o->ssl_cipher, "ECDHE-RSA-CHACHA20-POLY1305");
    assert_string_equal(o->tls_version, "TLSv1.3");
    assert_string_equal(o->server_public_key, "/pub.pem");
    assert_int_equal(o->get_server_public_key, 1);
    assert_int_equal(o->enable_cleartext_plugin, 1);
    assert_int_equal(o->ssl_mode, MYR_SSL_REQUIRED);  /* an ssl-* option implies it */
    myr_conn_opts_free(o);

    static const struct { const char *text; int mode; } modes[] = {
        {"[client]\nssl\n", MYR_SSL_REQUIRED},
        {"[client]\nssl=0\n", MYR_SSL_DISABLED},
        {"[client]\nskip-ssl\n", MYR_SSL_DISABLED},
        {"[client]\nssl-ca=/x\nskip-ssl\n", MYR_SSL_DISABLED},
        {"[client]\nssl-mode=verify_ca\n", MYR_SSL_VERIFY_CA},
        {"[client]\nssl-verify-server-cert\n", MYR_SSL_VERIFY_IDENTITY},
        {"[client]\nssl-verify-server-cert\nskip-ssl\n", MYR_SSL_DISABLED},
        {"[client]\nuser=x\n", 0},   /* nothing said: the default stays */
    };
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        write_file("mode.cnf", modes[i].text);
        o = myr_conn_opts_new();
        assert_int_equal(myr_conn_opts_read_defaults(o, path_of("mode.cnf"), NULL), 0);
        assert_int_equal(o->ssl_mode, modes[i].mode);
        myr_conn_opts_free(o);
    }
    write_file("badmode.cnf", "[client]\nssl-mode=sometimes\n");
    o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_read_defaults(o, path_of("badmode.cnf"), NULL), MYR_EINVAL);
    assert_non_null(strstr(myr_conn_opts_error(o), "ssl-mode"));
    myr_conn_opts_free(o);
}

/* The default list ends with ~/.my.cnf ($HOME), after an extra file. */
static void test_default_files(void **state)
{
    (void)state;
    clear_env();
    char home[300], text[600];
    snprintf(home, sizeof home, "%s/home", dir);
    assert_int_equal(mkdir(home, 0700), 0);
    write_file("home/.my.cnf", "[client]\nhost=from-home\nuser=home-user\n");
    write_file("extra.cnf", "[client]\nhost=from-extra\nport=1234\n");
    char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
    setenv("HOME", home, 1);

    seen s = {0};
    char err[256];
    static const char *const g[] = {"client", NULL};
    assert_int_equal(myr_optfile_read_defaults(path_of("extra.cnf"), g, collect, &s, err, sizeof err), 0);
    /* Whatever /etc holds comes first; the last lines are ours, in order. */
    snprintf(text, sizeof text, "client:host=from-extra\nclient:port=1234\nclient:host=from-home\nclient:user=home-user\n");
    size_t n = strlen(s.text), m = strlen(text);
    assert_true(n >= m);
    assert_string_equal(s.text + n - m, text);
    /* A missing extra file is an error (it was asked for). */
    assert_true(myr_optfile_read_defaults(path_of("no-extra.cnf"), g, collect, &s, err, sizeof err) < 0);

    myr_conn_opts *o = myr_conn_opts_new();
    assert_int_equal(myr_conn_opts_read_defaults(o, NULL, NULL), 0);
    assert_string_equal(o->host, "from-home");
    assert_string_equal(o->user, "home-user");
    assert_null(o->unix_socket); /* /etc's socket does not apply to a remote host */
    myr_conn_opts_free(o);

    if (old_home) {
        setenv("HOME", old_home, 1);
        free(old_home);
    } else {
        unsetenv("HOME");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_includes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_conn_opts),
        cmocka_unit_test(test_conn_opts_env_and_errors),
        cmocka_unit_test(test_conn_opts_tls_auth),
        cmocka_unit_test(test_default_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
