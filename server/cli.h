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

#include "core/base.h"

typedef int (*cli_command_fn)(int argc, char **argv);

/* Exit code for a status: GB_OK 0; input/usage errors 2; the rest 1. */
int cli_exit_code(gb_status code);

/* Prints "glassbox <cmd>: <message>" (with line/column/field when set) to
 * stderr. */
void cli_print_error(const char *cmd, const gb_error *err);

int cli_inspect(int argc, char **argv);
int cli_serve(int argc, char **argv);
int cli_token(int argc, char **argv);

#endif /* SERVER_CLI_H */
