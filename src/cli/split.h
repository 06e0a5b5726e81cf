/*
 * split.h -- the statement splitter of the myring command-line client.
 *
 * Turns the client's input (stdin or -e text) into statements the way the
 * `mariadb` client does in batch mode: input is read line by line, `;` (or
 * the current DELIMITER) ends a statement, quotes and comments are tracked,
 * ordinary comments are dropped while versioned comments (slash-star-bang, slash-star-M-bang) are kept, and a
 * few client commands (delimiter, use, quit/exit, go, clear and the \g \c \q
 * \d \u \N short forms) are handled on the client side.
 *
 * The splitter only parses: what it finds goes to a callback, which runs the
 * statement and says whether to go on. It keeps the line number where each
 * statement started, counted like the reference client does (the line read
 * while no statement was pending).
 */
#ifndef MYRING_CLI_SPLIT_H
#define MYRING_CLI_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

typedef enum cli_item {
    CLI_ITEM_QUERY,       /* text: a statement to send (may be empty: skip) */
    CLI_ITEM_USE,         /* text: database name of a `use` command */
    CLI_ITEM_ERROR,       /* text: a client-side error, printed as
                             "ERROR at line N: text"; processing goes on if
                             the callback returns 0 */
    CLI_ITEM_FATAL,       /* text: like ERROR, but the input ends here */
    CLI_ITEM_UNSUPPORTED, /* text: a client command myring does not have */
    CLI_ITEM_QUERY_VERTICAL, /* text: a statement ended by \G (or ego): its
                                results are shown vertically */
    CLI_ITEM_SOURCE,      /* text: the file of a `source`/`\.` command ("" if
                             none was given) */
    CLI_ITEM_STATUS,      /* `status`/`\s` (text empty) */
    CLI_ITEM_HELP,        /* `help`/`\h`/`?` (text: its argument, may be empty) */
    CLI_ITEM__LAST
} cli_item;

/* Called for each item. text is NUL-terminated (len excludes the NUL) and
 * valid only during the call. line is where the statement started. Return 0
 * to go on, anything else to stop: cli_split_feed/finish then return it. */
typedef int (*cli_split_cb)(void *arg, cli_item kind, const char *text, size_t len,
                            unsigned long line);

typedef struct cli_splitter {
    char delimiter[16];       /* current delimiter, NUL-terminated */
    size_t delim_len;
    char *stmt;               /* the statement being assembled */
    size_t stmt_len, stmt_cap;
    char *line;               /* the current input line being collected */
    size_t line_len, line_cap;
    char in_string;           /* quote char we are inside, or 0 */
    bool ml_comment;          /* inside a multi-line comment */
    bool no_backslash_escapes;/* server's SERVER_STATUS_NO_BACKSLASH_ESCAPES */
    bool ansi_quotes;         /* server's SERVER_STATUS_ANSI_QUOTES */
    unsigned long line_no;    /* lines read so far */
    unsigned long start_line; /* line where the pending statement started */
    int stopped;              /* the callback's nonzero value, once stopped */
    cli_split_cb cb;
    void *arg;
} cli_splitter;

/* What cli_split_feed returns after quit, exit or \q: stop reading, then
 * call cli_split_finish, which (like the reference) still sends the pending
 * statement -- for "exit;" that is the text "exit". */
#define CLI_SPLIT_QUIT 0x7fff

/* Set up a splitter with delimiter ";". */
void cli_split_init(cli_splitter *s, cli_split_cb cb, void *arg);
/* Free the splitter's buffers (the struct itself is the caller's). */
void cli_split_free(cli_splitter *s);
/* Feed input bytes; complete lines are processed at once. Returns 0, the
 * callback's nonzero value once it asked to stop (later calls return it
 * again without doing anything), or -ENOMEM. */
int cli_split_feed(cli_splitter *s, const char *data, size_t len);
/* End of input: process a last unterminated line and send a pending
 * statement (batch mode runs it even without a delimiter). Same returns. */
int cli_split_finish(cli_splitter *s);

/* Length of the valid UTF-8 (utf8mb4) multibyte character at p, 0 if p does
 * not start one: the rule the reference client uses to skip over them. */
size_t cli_mb_len(const unsigned char *p, const unsigned char *end);

#endif
