/* src/escape.c -- myr_escape_string(): turning arbitrary bytes into the
 * inside of a quoted SQL string literal, the way the server's lexer reads it
 * back under the connection's current sql_mode. */
#include <string.h>

#include "myring.h"

/* Quote doubling: the only special byte inside '...' when the server runs
 * with NO_BACKSLASH_ESCAPES (a backslash is then an ordinary byte). */
static size_t escape_quotes(char *to, const char *from, size_t len)
{
    char *o = to;
    for (size_t i = 0; i < len; i++) {
        if (from[i] == '\'')
            *o++ = '\'';
        *o++ = from[i];
    }
    *o = '\0';
    return (size_t)(o - to);
}

/* Backslash escapes. Only ' and \ must be escaped for the lexer; the others
 * (NUL, newline, CR, ", ^Z) are escaped too so the statement stays
 * printable, survives logs and tools that cut at NUL or ^Z, and is the same
 * text other MySQL clients produce. */
static size_t escape_backslash(char *to, const char *from, size_t len)
{
    char *o = to;
    for (size_t i = 0; i < len; i++) {
        char e;
        switch (from[i]) {
        case '\0': e = '0'; break;
        case '\n': e = 'n'; break;
        case '\r': e = 'r'; break;
        case '\\': e = '\\'; break;
        case '\'': e = '\''; break;
        case '"': e = '"'; break;
        case '\032': e = 'Z'; break;
        default:
            *o++ = from[i];
            continue;
        }
        *o++ = '\\';
        *o++ = e;
    }
    *o = '\0';
    return (size_t)(o - to);
}

size_t myr_escape_string(const myr_conn *c, char *to, const char *from, size_t len)
{
    if (c != NULL && (myr_conn_server_status(c) & MYR_SERVER_STATUS_NO_BACKSLASH_ESCAPES))
        return escape_quotes(to, from, len);
    return escape_backslash(to, from, len);
}
