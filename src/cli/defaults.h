/* defaults.h -- the CLI's option files: --no-defaults, --defaults-file,
 * --defaults-extra-file, --defaults-group-suffix, --print-defaults. */
#ifndef MYRING_CLI_DEFAULTS_H
#define MYRING_CLI_DEFAULTS_H

typedef struct cli_args {
    int argc;
    char **argv;   /* argv[0], the option files' options, then the command line's */
    int nfile;     /* argv[1..nfile] came from option files */
} cli_args;

/* Build the argument list the options are parsed from, as the reference
 * clients do: the leading option-file arguments are consumed, the option
 * files' options for our groups go first (as "--name" or "--name=value"),
 * then the rest of the command line. Returns 0 to go on, or the exit
 * status to end with (after --print-defaults: 0; a bad file: 1, with a
 * message on stderr). */
int cli_defaults_load(const char *progname, int argc, char **argv, cli_args *out);
void cli_args_free(cli_args *a);

/* Is `name` (no leading dashes, '_' or '-') an option the reference client
 * knows? Option files name such options for other programs too; the ones
 * myring does not implement are ignored rather than refused. */
int cli_reference_option(const char *name);

#endif
