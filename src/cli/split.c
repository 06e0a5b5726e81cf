/*
 * split.c -- the statement splitter of the myring command-line client.
 *
 * This follows, rule for rule, what `mariadb` (10.11) does in batch mode, so
 * that the same statements reach the server with the same text: the server
 * quotes that text back in syntax errors ("near '...' at line 2"), so even
 * the dropping of comments and the space left where a block comment was must
 * match. The rules (learnt by running the reference client):
 *   - input is read line by line; "\r\n" counts as "\n"; a UTF-8 BOM on the
 *     first line is skipped; a NUL byte in the input is an error;
 *   - the line number of a statement is the number of the line read while no
 *     statement was pending (so blank and comment-only lines don't count);
 *   - at the start of a statement, a line whose first word is a client
 *     command (delimiter, use, quit, ...) is that command, not SQL, when the
 *     line does not also hold the delimiter;
 *   - whitespace at the start of a statement is dropped; `#` and `-- ` (or
 *     `--` at the very start of a statement) comment to the end of the line;
 *     block comments are dropped and leave one space if something follows
 *     directly; versioned ones (slash-star-bang and slash-star-M-bang) are
 *     kept, quotes inside them included;
 *   - inside '...' and "..." a backslash escapes the next character (unless
 *     the server runs with NO_BACKSLASH_ESCAPES or, for "...", ANSI_QUOTES);
 *     inside `...` it doesn't; outside strings \g \c \q \d \u are commands
 *     and \N stays as it is;
 *   - each line adds a '\n' to the pending statement, except after a
 *     statement that ends the line, and except inside a block comment;
 *   - trailing whitespace and control characters are cut from a statement
 *     before it is sent; an empty one is not sent.
 */
#include "split.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DELIMITER_NAME "delimiter"
#define DELIMITER_NAME_LEN 9

/* MariaDB's ctype for ASCII: space is \t \n \v \f \r and ' '. */
static int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Graphic characters (remove_cntrl keeps them): printable ASCII other than
 * space, and any byte of a multibyte character. */
static int is_graph(unsigned char c)
{
    return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

size_t cli_mb_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c;

    if (p >= end)
        return 0;
    c = p[0];
    if (c < 0xc2)
        return 0;
    if (c < 0xe0) {
        if (end - p < 2 || (p[1] ^ 0x80) >= 0x40)
            return 0;
        return 2;
    }
    if (c < 0xf0) {
        if (end - p < 3 || (p[1] ^ 0x80) >= 0x40 || (p[2] ^ 0x80) >= 0x40)
            return 0;
        if (c == 0xe0 && p[1] < 0xa0)
            return 0; /* overlong */
        return 3;
    }
    if (c < 0xf5) {
        if (end - p < 4 || (p[1] ^ 0x80) >= 0x40 || (p[2] ^ 0x80) >= 0x40 ||
            (p[3] ^ 0x80) >= 0x40)
            return 0;
        if (c == 0xf0 && p[1] < 0x90)
            return 0; /* overlong */
        if (c == 0xf4 && p[1] > 0x8f)
            return 0; /* beyond U+10FFFF */
        return 4;
    }
    return 0;
}

/* ------------------------------------------------------------ buffers */

static int grow(char **buf, size_t *cap, size_t need)
{
    size_t ncap;
    char *nb;

    if (need <= *cap)
        return 0;
    ncap = *cap ? *cap : 256;
    while (ncap < need)
        ncap *= 2;
    nb = realloc(*buf, ncap);
    if (!nb)
        return -ENOMEM;
    *buf = nb;
    *cap = ncap;
    return 0;
}

static int stmt_append(cli_splitter *s, const char *p, size_t n)
{
    /* +1 keeps room for the NUL the callback gets. */
    if (grow(&s->stmt, &s->stmt_cap, s->stmt_len + n + 1) < 0)
        return -ENOMEM;
    memcpy(s->stmt + s->stmt_len, p, n);
    s->stmt_len += n;
    s->stmt[s->stmt_len] = '\0';
    return 0;
}

void cli_split_init(cli_splitter *s, cli_split_cb cb, void *arg)
{
    memset(s, 0, sizeof(*s));
    strcpy(s->delimiter, ";");
    s->delim_len = 1;
    s->cb = cb;
    s->arg = arg;
}

void cli_split_free(cli_splitter *s)
{
    free(s->stmt);
    free(s->line);
    s->stmt = s->line = NULL;
    s->stmt_len = s->stmt_cap = s->line_len = s->line_cap = 0;
}

/* Hand an item to the callback; remembers a request to stop. */
static int emit(cli_splitter *s, cli_item kind, const char *text, size_t len)
{
    int rc = s->cb(s->arg, kind, text, len, s->start_line);

    if (rc)
        s->stopped = rc;
    return rc;
}

static int emit_str(cli_splitter *s, cli_item kind, const char *text)
{
    return emit(s, kind, text, strlen(text));
}

/* ----------------------------------------------------- client commands */

enum cmd_id {
    CMD_NONE, CMD_HELP, CMD_CLEAR, CMD_CONNECT, CMD_DELIMITER, CMD_EDIT, CMD_EGO,
    CMD_EXIT, CMD_GO, CMD_NOPAGER, CMD_NOTEE, CMD_PAGER, CMD_PRINT, CMD_PROMPT,
    CMD_QUIT, CMD_REHASH, CMD_SOURCE, CMD_STATUS, CMD_SYSTEM, CMD_TEE, CMD_USE,
    CMD_CHARSET, CMD_WARNINGS, CMD_NOWARNING, CMD_SANDBOX
};

/* The reference client's command table: name, short character, whether it
 * takes an argument. Order matters for the short forms (\q is "exit"). */
static const struct {
    const char *name;
    char ch;
    bool takes_params;
    enum cmd_id id;
} commands[] = {
    {"?", '?', true, CMD_HELP},           {"clear", 'c', false, CMD_CLEAR},
    {"connect", 'r', true, CMD_CONNECT},  {"delimiter", 'd', true, CMD_DELIMITER},
    {"edit", 'e', false, CMD_EDIT},       {"ego", 'G', false, CMD_EGO},
    {"exit", 'q', false, CMD_EXIT},       {"go", 'g', false, CMD_GO},
    {"help", 'h', true, CMD_HELP},        {"nopager", 'n', false, CMD_NOPAGER},
    {"notee", 't', false, CMD_NOTEE},     {"pager", 'P', true, CMD_PAGER},
    {"print", 'p', false, CMD_PRINT},     {"prompt", 'R', true, CMD_PROMPT},
    {"quit", 'q', false, CMD_QUIT},       {"rehash", '#', false, CMD_REHASH},
    {"source", '.', true, CMD_SOURCE},    {"status", 's', false, CMD_STATUS},
    {"system", '!', true, CMD_SYSTEM},    {"tee", 'T', true, CMD_TEE},
    {"use", 'u', true, CMD_USE},          {"charset", 'C', true, CMD_CHARSET},
    {"warnings", 'W', false, CMD_WARNINGS}, {"nowarning", 'w', false, CMD_NOWARNING},
    {"sandbox", '-', false, CMD_SANDBOX},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

enum arg_mode { ARG_CHECK, ARG_GET };

/* The argument of a client command in line (NUL-terminated, edited in place
 * in ARG_GET mode): the second word, or a quoted string where doubled quotes
 * and backslashes escape. NULL if there is none. */
static char *get_arg(char *line, enum arg_mode mode)
{
    char *ptr = line, *start;
    bool short_cmd;
    char qtype = 0;

    while (is_space((unsigned char)*ptr))
        ptr++;
    if ((short_cmd = *ptr == '\\'))
        ptr += 2;
    else
        while (*ptr && !is_space((unsigned char)*ptr))
            ptr++;
    if (!*ptr)
        return NULL;
    while (is_space((unsigned char)*ptr))
        ptr++;
    if (*ptr == '\'' || *ptr == '"' || *ptr == '`')
        qtype = *ptr++;
    for (start = ptr; *ptr; ptr++) {
        bool escaped = short_cmd ? (*ptr == '\\' && ptr[1])
                                 : ((*ptr == '\\' && ptr[1] && qtype != '`') ||
                                    (qtype && *ptr == qtype && ptr[1] == qtype));
        if (escaped) {
            if (mode != ARG_CHECK)
                memmove(ptr, ptr + 1, strlen(ptr + 1) + 1);
            else
                ptr++;
        } else if (*ptr == (qtype ? qtype : ' ')) {
            qtype = 0;
            if (mode != ARG_CHECK)
                *ptr = '\0';
            break;
        }
    }
    return ptr != start && !qtype ? start : NULL;
}

static bool is_delimiter_command(const char *name, size_t len)
{
    return len >= DELIMITER_NAME_LEN &&
           strncasecmp(name, DELIMITER_NAME, DELIMITER_NAME_LEN) == 0;
}

/* The client command a line (or a whole statement) starts with, or
 * CMD_NONE. name is NUL-terminated. */
static enum cmd_id find_command(const cli_splitter *s, const char *name)
{
    const char *end;
    size_t len, i;

    while (is_space((unsigned char)*name))
        name++;
    /* A line holding \g or the delimiter is parsed as SQL (add_line runs any
     * command found at its delimiter), unless it is a DELIMITER line. */
    if (strstr(name, "\\g") ||
        (strstr(name, s->delimiter) && !is_delimiter_command(name, strlen(name))))
        return CMD_NONE;
    end = strpbrk(name, " \t");
    if (end) {
        len = (size_t)(end - name);
        while (is_space((unsigned char)*end))
            end++;
        if (!*end)
            end = NULL;
    } else {
        len = strlen(name);
    }
    for (i = 0; i < N_COMMANDS; i++) {
        if (strlen(commands[i].name) == len && strncasecmp(name, commands[i].name, len) == 0) {
            if (!end)
                return commands[i].id;
            if (commands[i].takes_params) {
                /* get_arg in CHECK mode does not write; cast is safe. */
                if (get_arg((char *)name, ARG_CHECK))
                    return commands[i].id;
            }
            return CMD_NONE;
        }
    }
    return CMD_NONE;
}

static const char *command_name(enum cmd_id id)
{
    size_t i;

    for (i = 0; i < N_COMMANDS; i++)
        if (commands[i].id == id)
            return commands[i].name;
    return "?";
}

/* The argument of a command's text, from a copy in buf (cap bytes, the
 * text cut to fit as the reference cuts it), or NULL. */
static char *command_arg(char *buf, size_t cap, const char *text)
{
    size_t n = strlen(text);
    if (n > cap - 1)
        n = cap - 1;
    memcpy(buf, text, n);
    buf[n] = '\0';
    return get_arg(buf, ARG_GET);
}

/* Run a client command whose text (the line or the statement) is in text.
 * Returns 0 to go on, nonzero to stop (the callback's value or -ENOMEM). */
static int run_command(cli_splitter *s, enum cmd_id id, const char *text)
{
    char buf[513];
    char *arg;
    size_t n;

    switch (id) {
    case CMD_DELIMITER:
        /* The reference copies the line into 256 bytes, the delimiter into 16. */
        arg = command_arg(buf, 256, text);
        if (!arg || !*arg)
            return emit_str(s, CLI_ITEM_ERROR,
                            "DELIMITER must be followed by a 'delimiter' character or string");
        if (strchr(arg, '\\'))
            return emit_str(s, CLI_ITEM_ERROR, "DELIMITER cannot contain a backslash character");
        n = strlen(arg);
        if (n > sizeof(s->delimiter) - 1)
            n = sizeof(s->delimiter) - 1;
        memcpy(s->delimiter, arg, n);
        s->delimiter[n] = '\0';
        s->delim_len = n;
        return 0;
    case CMD_SOURCE:
        arg = command_arg(buf, sizeof buf, text);
        return emit_str(s, CLI_ITEM_SOURCE, arg ? arg : ""); /* "": the usage error */
    case CMD_STATUS:
        return emit_str(s, CLI_ITEM_STATUS, "");
    case CMD_HELP:
        arg = command_arg(buf, sizeof buf, text);
        return emit_str(s, CLI_ITEM_HELP, arg ? arg : "");
    case CMD_USE:
        arg = command_arg(buf, sizeof buf, text);
        if (!arg)
            return emit_str(s, CLI_ITEM_ERROR, "USE must be followed by a database name");
        return emit_str(s, CLI_ITEM_USE, arg);
    case CMD_QUIT:
    case CMD_EXIT:
        return CLI_SPLIT_QUIT;
    case CMD_CLEAR:
        s->stmt_len = 0;
        return 0;
    case CMD_GO:
        /* Sends the pending statement, which here is the command's own text
         * when it came from a statement ("go;" reaches the server). */
        return emit_str(s, CLI_ITEM_QUERY, text);
    default:
        return emit_str(s, CLI_ITEM_UNSUPPORTED, command_name(id));
    }
}

/* Send the pending statement: trailing whitespace and control characters
 * are cut (remove_cntrl); an empty statement is skipped. */
static int send_stmt_as(cli_splitter *s, cli_item kind)
{
    int rc = 0;
    size_t n = s->stmt_len;

    while (n > 0 && !is_graph((unsigned char)s->stmt[n - 1]))
        n--;
    if (n > 0) {
        s->stmt[n] = '\0';
        rc = emit(s, kind, s->stmt, n);
    }
    s->stmt_len = 0;
    return rc;
}

static int send_stmt(cli_splitter *s)
{
    return send_stmt_as(s, CLI_ITEM_QUERY);
}

/* A statement ended at a delimiter: it may be a client command. */
static int end_stmt(cli_splitter *s)
{
    enum cmd_id id;
    int rc;

    if (grow(&s->stmt, &s->stmt_cap, s->stmt_len + 1) < 0)
        return -ENOMEM;
    s->stmt[s->stmt_len] = '\0';
    id = find_command(s, s->stmt);
    if (id == CMD_NONE)
        return send_stmt(s);
    if (id == CMD_GO || id == CMD_EGO) {
        /* "go;" and "ego;" hand their own text to com_go: the server gets it. */
        return send_stmt_as(s, id == CMD_EGO ? CLI_ITEM_QUERY_VERTICAL : CLI_ITEM_QUERY);
    }
    rc = run_command(s, id, s->stmt);
    /* A quit leaves its own text pending: the reference then sends it. */
    if (rc != CLI_SPLIT_QUIT)
        s->stmt_len = 0;
    return rc;
}

static bool is_prefix(const char *p, const char *end, const char *pfx, size_t n)
{
    return (size_t)(end - p) >= n && memcmp(p, pfx, n) == 0;
}

/* add_line(): one input line (NUL-terminated at line[len], no NUL inside),
 * edited in place: `out` trails `pos` and collects the accepted text. */
static int add_line(cli_splitter *s, char *line, size_t len)
{
    char *pos, *out, *end = line + len;
    bool need_space = false, ss_comment = false;
    int rc;

    if (len == 0 && s->stmt_len == 0)
        return 0;

    for (pos = out = line; pos < end; pos++) {
        unsigned char inchar = (unsigned char)*pos;
        size_t mb;

        /* Skip spaces at the beginning of a statement. */
        if (is_space(inchar) && out == line && s->stmt_len == 0)
            continue;

        /* Multibyte characters pass as they are (inside a comment they are
         * dropped). Note that they don't reset need_space. */
        mb = cli_mb_len((const unsigned char *)pos, (const unsigned char *)end);
        if (mb) {
            if (!s->ml_comment) {
                memmove(out, pos, mb);
                out += mb;
            }
            pos += mb - 1;
            continue;
        }

        if (!s->ml_comment && inchar == '\\' && s->in_string != '`' &&
            !(s->in_string == '"' && s->ansi_quotes) &&
            !(s->in_string && s->no_backslash_escapes)) {
            enum cmd_id id = CMD_NONE;
            size_t i;

            inchar = (unsigned char)*++pos;
            if (!inchar)
                break; /* a backslash ending the line is dropped */
            if (s->in_string || inchar == 'N') {
                *out++ = '\\';
                *out++ = (char)inchar;
                continue;
            }
            for (i = 0; i < N_COMMANDS; i++) {
                if (commands[i].ch == (char)inchar) {
                    id = commands[i].id;
                    break;
                }
            }
            if (id == CMD_NONE) {
                char msg[40];
                snprintf(msg, sizeof(msg), "Unknown command '\\%c'.", inchar);
                rc = emit_str(s, CLI_ITEM_FATAL, msg);
                return rc ? rc : 1;
            }
            /* Flush what came before the command. */
            if (out != line) {
                if (stmt_append(s, line, (size_t)(out - line)) < 0)
                    return -ENOMEM;
                out = line;
            }
            if (id == CMD_GO) {
                rc = send_stmt(s);
            } else if (id == CMD_EGO) {
                rc = send_stmt_as(s, CLI_ITEM_QUERY_VERTICAL);
            } else if (id == CMD_CLEAR) {
                s->stmt_len = 0;
                rc = 0;
            } else if (id == CMD_EXIT || id == CMD_QUIT) {
                rc = CLI_SPLIT_QUIT;
            } else {
                /* The command reads its argument from the rest of the line. */
                rc = run_command(s, id, pos - 1);
            }
            if (rc)
                return rc;
            if (commands[i].takes_params) {
                /* Drop the argument: up to the end of the server-side
                 * comment we are in, or to the (new) delimiter. */
                if (ss_comment) {
                    for (pos++; pos < end && !(pos[0] == '*' && pos + 1 < end && pos[1] == '/');
                         pos++)
                        ;
                    pos--;
                } else {
                    for (pos++; pos < end && !is_prefix(pos, end, s->delimiter, s->delim_len);
                         pos++)
                        ;
                    if (pos >= end)
                        pos--;
                    else
                        pos += s->delim_len - 1;
                }
            }
        } else if (!s->ml_comment && !s->in_string &&
                   is_prefix(pos, end, s->delimiter, s->delim_len)) {
            /* A statement ends here; go on after the delimiter. */
            pos += s->delim_len;
            if (out != line) {
                if (stmt_append(s, line, (size_t)(out - line)) < 0)
                    return -ENOMEM;
                out = line;
            }
            pos--;
            rc = end_stmt(s);
            if (rc)
                return rc;
        } else if (!s->ml_comment && !s->in_string &&
                   (inchar == '#' ||
                    (inchar == '-' && pos + 1 < end && pos[1] == '-' &&
                     (pos + 2 >= end || is_space((unsigned char)pos[2]) ||
                      (s->stmt_len == 0 && out == line))))) {
            /* Comment to the end of the line. */
            if (out != line) {
                if (stmt_append(s, line, (size_t)(out - line)) < 0)
                    return -ENOMEM;
                out = line;
            }
            break;
        } else if (!s->in_string && inchar == '/' && pos + 1 < end && pos[1] == '*' &&
                   !(pos + 2 < end && (pos[2] == '!' ||
                                       (pos[2] == 'M' && pos + 3 < end && pos[3] == '!')))) {
            /* Note: no !ml_comment test, as in the reference: a nested "/ *"
             * changes nothing since the comment is already open. */
            pos++;
            s->ml_comment = true;
            if (out != line) {
                if (stmt_append(s, line, (size_t)(out - line)) < 0)
                    return -ENOMEM;
                out = line;
            }
        } else if (s->ml_comment && !ss_comment && inchar == '*' && pos + 1 < end &&
                   pos[1] == '/') {
            pos++;
            s->ml_comment = false;
            if (out != line) {
                if (stmt_append(s, line, (size_t)(out - line)) < 0)
                    return -ENOMEM;
                out = line;
            }
            need_space = true;
        } else {
            /* An ordinary character. */
            if (!s->in_string && inchar == '/' && pos + 2 < end && pos[1] == '*' &&
                pos[2] == '!')
                ss_comment = true;
            else if (!s->in_string && ss_comment && inchar == '*' && pos + 1 < end &&
                     pos[1] == '/')
                ss_comment = false;
            if (inchar == (unsigned char)s->in_string)
                s->in_string = 0;
            else if (!s->ml_comment && !s->in_string &&
                     (inchar == '\'' || inchar == '"' || inchar == '`'))
                s->in_string = (char)inchar;
            if (!s->ml_comment) {
                /* out never catches up with pos here: a comment that set
                 * need_space consumed at least two characters. */
                if (need_space && !is_space(inchar))
                    *out++ = ' ';
                need_space = false;
                *out++ = (char)inchar;
            }
        }
    }

    if (out != line || s->stmt_len != 0) {
        size_t n = (size_t)(out - line);
        bool add_nl = !is_delimiter_command(line, n) || s->in_string || s->ml_comment;

        if (!s->ml_comment) {
            if (stmt_append(s, line, n) < 0)
                return -ENOMEM;
            if (add_nl && stmt_append(s, "\n", 1) < 0)
                return -ENOMEM;
        }
    }
    return 0;
}

/* One complete input line, without its '\n' (line[len] is writable). */
static int process_line(cli_splitter *s, char *line, size_t len)
{
    enum cmd_id id;
    int rc;

    line[len] = '\0';
    if (strlen(line) != len) {
        /* The reference refuses NUL bytes outside --binary-mode. The line
         * number is the pending statement's, before this line counts. */
        static const char pre[] =
            "ASCII '\\0' appeared in the statement, but this is not allowed unless option "
            "--binary-mode is enabled and mysql is run in non-interactive mode. Set "
            "--binary-mode to 1 if ASCII '\\0' is expected. Query: '";
        size_t n = strlen(pre) + s->stmt_len + strlen(line) + 3;
        char *msg = malloc(n);

        if (!msg)
            return -ENOMEM;
        snprintf(msg, n, "%s%.*s%s'.", pre, (int)s->stmt_len, s->stmt ? s->stmt : "", line);
        rc = emit_str(s, CLI_ITEM_FATAL, msg);
        free(msg);
        return rc ? rc : 1;
    }
    if (s->line_no == 0 && len >= 3 && (unsigned char)line[0] == 0xef &&
        (unsigned char)line[1] == 0xbb && (unsigned char)line[2] == 0xbf) {
        line += 3;
        len -= 3;
    }
    s->line_no++;
    if (s->stmt_len == 0)
        s->start_line = s->line_no;

    if (s->stmt_len == 0 && !s->ml_comment && !s->in_string &&
        (id = find_command(s, line)) != CMD_NONE) {
        if (id == CMD_GO || id == CMD_CLEAR)
            return 0; /* nothing pending: nothing to send or clear */
        if (id == CMD_EGO)
            return 0;
        return run_command(s, id, line);
    }
    return add_line(s, line, len);
}

int cli_split_feed(cli_splitter *s, const char *data, size_t len)
{
    size_t i = 0;

    if (s->stopped)
        return s->stopped;
    while (i < len) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (data + i)) : len - i;
        int rc;

        if (grow(&s->line, &s->line_cap, s->line_len + n + 1) < 0)
            return -ENOMEM;
        memcpy(s->line + s->line_len, data + i, n);
        s->line_len += n;
        i += n;
        if (!nl)
            break;
        i++; /* the '\n' */
        if (s->line_len > 0 && s->line[s->line_len - 1] == '\r')
            s->line_len--;
        n = s->line_len;
        s->line_len = 0;
        rc = process_line(s, s->line, n);
        if (rc) {
            if (!s->stopped)
                s->stopped = rc;
            return rc;
        }
    }
    return 0;
}

int cli_split_finish(cli_splitter *s)
{
    int rc;

    if (s->stopped == CLI_SPLIT_QUIT) {
        /* After a quit the rest of the input is ignored, but what was
         * pending is sent, as at the end of the input. */
        s->stopped = 0;
        rc = send_stmt(s);
        s->stopped = rc ? rc : CLI_SPLIT_QUIT;
        return rc;
    }
    if (s->stopped)
        return s->stopped;
    if (s->line_len > 0) {
        size_t n = s->line_len;

        if (grow(&s->line, &s->line_cap, n + 1) < 0)
            return -ENOMEM;
        s->line_len = 0;
        rc = process_line(s, s->line, n);
        if (rc == CLI_SPLIT_QUIT && !s->stopped) {
            s->stopped = rc;
            return cli_split_finish(s);
        }
        if (rc) {
            if (!s->stopped)
                s->stopped = rc;
            return rc;
        }
    }
    /* Batch mode sends the last statement even without a delimiter. */
    rc = send_stmt(s);
    if (rc && !s->stopped)
        s->stopped = rc;
    return rc;
}
