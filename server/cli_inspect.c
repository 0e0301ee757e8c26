/*
 * cli_inspect.c - `glassbox inspect`: parse a CSV and print the dataset JSON.
 * Layer: server.
 */
#include <stdio.h>

#include "server/cli.h"

int cli_inspect(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    gb_error err;
    gb_error_set(&err, GB_EINTERNAL, "inspect is not available in this build yet");
    cli_print_error("inspect", &err);
    return cli_exit_code(err.code);
}
