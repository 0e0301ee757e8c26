/*
 * main.c - `glassbox` entry point: dispatches to a subcommand.
 * Layer: server.
 */
#include <stdio.h>
#include <string.h>

#include <cblas.h>

#include "server/cli.h"

typedef struct command {
    const char *name;
    cli_command_fn run;
    const char *summary;
} command;

static const command commands[] = {
    {"inspect", cli_inspect, "parse a CSV and print the dataset JSON"},
    {"distill", cli_distill, "distill a teacher into a student; write the report"},
    {"predict", cli_predict, "score a teacher or student on a CSV"},
    {"explain", cli_explain, "local attributions (exact or sampled) of each row"},
    {"train-teacher", cli_train_teacher,
     "train an MLP teacher, write glassbox-mlp JSON"},
    {"serve", cli_serve, "run the HTTP daemon (API, dashboard, job queue)"},
    {"token", cli_token, "create an API token: token create --role R --name N"},
    {"backup", cli_backup, "copy a data directory consistently, even while serving"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: glassbox <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nglassbox %s; `glassbox <command> --help` for options.\n",
            GB_VERSION);
}

int main(int argc, char **argv)
{
    /* OpenBLAS runs single-threaded: glassbox's own pool owns parallelism
     * (core/parallel.h), so thread pools never multiply and BLAS results do
     * not depend on the thread count. */
    openblas_set_num_threads(1);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("glassbox %s\n", GB_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "glassbox: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
