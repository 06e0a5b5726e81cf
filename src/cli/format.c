/*
 * format.c -- batch output of the myring command-line client (see format.h).
 *
 * Values are written in runs: everything between two bytes that need an
 * escape goes out in one fwrite, which keeps 20 MiB values and 100k-row
 * results cheap.
 */
#include "format.h"

#include <string.h>

void cli_put_name(FILE *out, const char *name, size_t len)
{
    const char *nul = memchr(name, '\0', len);

    if (nul)
        len = (size_t)(nul - name);
    fwrite(name, 1, len, out);
}

void cli_put_value(FILE *out, const char *v, size_t len, bool raw)
{
    const char *p, *end, *run;

    if (!v) {
        fputs("NULL", out);
        return;
    }
    if (raw) {
        fwrite(v, 1, len, out);
        return;
    }
    end = v + len;
    for (p = run = v; p < end; p++) {
        const char *esc;

        switch (*p) {
        case '\0': esc = "\\0"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\\': esc = "\\\\"; break;
        default: continue;
        }
        if (p > run)
            fwrite(run, 1, (size_t)(p - run), out);
        fwrite(esc, 1, 2, out);
        run = p + 1;
    }
    if (p > run)
        fwrite(run, 1, (size_t)(p - run), out);
}

void cli_put_sep(FILE *out)
{
    putc('\t', out);
}

void cli_put_eol(FILE *out)
{
    putc('\n', out);
}
