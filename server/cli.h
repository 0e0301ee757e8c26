/*
 * cli.h - the command-line subcommands of `glassbox` (API.md, Command line).
 * Layer: server (entry points; each lives in its own cli_<name>.c).
 *
 * Every command takes argc/argv after the subcommand name and returns the
 * process exit code: 0 success, 2 bad usage or bad input (message on stderr
 * naming the problem), 1 internal failure.
 */
#ifndef SERVER_CLI_H
#define SERVER_CLI_H

#include <stdio.h>

#include "core/base.h"
#include "core/data/table.h"

typedef int (*cli_command_fn)(int argc, char **argv);

/* Exit code for a status: GB_OK 0; input/usage errors 2; the rest 1. */
int cli_exit_code(gb_status code);

/* Prints "glassbox <cmd>: <message>" (with line/column/field when set) to
 * stderr. */
void cli_print_error(const char *cmd, const gb_error *err);

/* Streams the CSV at path through the parser and SHA-256 in one pass.  On
 * success *out owns the table (gb_table_free) and hex holds the digest; on
 * error *out is NULL and err names the file, line and column. */
gb_status cli_read_csv(const char *path, gb_table **out, char hex[65], gb_error *err);

/* Writes text plus a newline to path through a temporary file in the same
 * directory, fsynced and renamed: the file is whole or untouched. */
gb_status cli_write_file(const char *path, const char *text, gb_error *err);

/* One "--name VALUE" option of a command: its value is stored in *value
 * (borrowed from argv). */
typedef struct cli_option {
    const char *name;
    const char **value;
} cli_option;

/* Parses argv[first..argc) as "--name VALUE" pairs into opts (n_opts
 * entries); a later repeat of an option wins.  Returns -1 when every
 * argument was an option with its value; 0 after printing usage to stdout
 * for --help / -h; 2 after printing "glassbox <cmd>: ..." and usage to
 * stderr for an unknown option or a missing value.  Nothing is allocated. */
int cli_parse_options(const char *cmd, int argc, char **argv, int first,
                      const cli_option *opts, size_t n_opts, void (*usage)(FILE *));

/* The commands (exit codes above); argv[0] is the command name.  Each
 * prints its own errors to stderr and frees everything it allocated. */
int cli_inspect(int argc, char **argv);
int cli_predict(int argc, char **argv);
int cli_explain(int argc, char **argv);
int cli_distill(int argc, char **argv);
int cli_train_teacher(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_backup(int argc, char **argv);

#endif /* SERVER_CLI_H */
