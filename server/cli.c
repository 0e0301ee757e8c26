/*
 * cli.c - helpers shared by the command-line subcommands.
 * Layer: server.
 */
#include "server/cli.h"

#include <stdio.h>

int cli_exit_code(gb_status code)
{
    switch (code) {
    case GB_OK: return 0;
    case GB_EINPUT:
    case GB_EUNUSABLE:
    case GB_ETOOLARGE:
    case GB_ENOTFOUND: return 2;
    default: return 1;
    }
}

void cli_print_error(const char *cmd, const gb_error *err)
{
    fprintf(stderr, "glassbox %s: ", cmd);
    if (err->line > 0 && err->column > 0)
        fprintf(stderr, "line %ld, column %ld: ", err->line, err->column);
    else if (err->line > 0)
        fprintf(stderr, "line %ld: ", err->line);
    fprintf(stderr, "%s\n", err->message[0] ? err->message : gb_status_name(err->code));
}
