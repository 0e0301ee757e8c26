/*
 * cli_inspect.c - `glassbox inspect --data F.csv --target COL [--task T]`:
 * parses a CSV (hashing its bytes on the way) and prints the dataset JSON of
 * API.md, as POST /api/v1/datasets would return it without the id.
 * Layer: server.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/dataset_json.h"
#include "core/json.h"
#include "core/sha256.h"
#include "server/cli.h"

static void inspect_usage(FILE *out)
{
    fprintf(out,
            "usage: glassbox inspect --data F.csv --target COL "
            "[--task binary|multiclass|regression]\n"
            "Parses the CSV and prints the dataset JSON (schema, summary statistics,\n"
            "target, task, classes).\n");
}

int cli_inspect(int argc, char **argv)
{
    const char *data = NULL, *target_name = NULL, *task_name = NULL;
    gb_error err;
    gb_error_clear(&err);
    const cli_option opts[] = {
        {"--data", &data}, {"--target", &target_name}, {"--task", &task_name}};
    int parsed = cli_parse_options("inspect", argc, argv, 1, opts,
                                   sizeof opts / sizeof opts[0], inspect_usage);
    if (parsed >= 0)
        return parsed;
    if (data == NULL || target_name == NULL) {
        fprintf(stderr, "glassbox inspect: --data and --target are required\n");
        inspect_usage(stderr);
        return 2;
    }
    gb_task task = GB_TASK_AUTO;
    if (task_name != NULL && gb_task_parse(task_name, &task, &err) != GB_OK) {
        cli_print_error("inspect", &err);
        return 2;
    }

    gb_table *table = NULL;
    gb_target target;
    memset(&target, 0, sizeof target);
    cJSON *json = NULL;
    char *text = NULL;
    char hex[GB_SHA256_HEX_BYTES];
    gb_status rc = cli_read_csv(data, &table, hex, &err);
    if (rc == GB_OK)
        rc = gb_target_resolve(table, target_name, task, &target, &err);
    if (rc == GB_OK) {
        const char *base = strrchr(data, '/');
        json = api_dataset_json(table, &target, base != NULL ? base + 1 : data, hex);
        text = json != NULL ? gb_json_print(json, 1) : NULL;
        if (text == NULL)
            rc = gb_error_set(&err, GB_ENOMEM,
                              "out of memory printing the dataset JSON");
    }
    if (rc == GB_OK && (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF ||
                        fflush(stdout) != 0))
        rc = gb_error_set(&err, GB_EIO, "cannot write to standard output");
    if (rc != GB_OK)
        cli_print_error("inspect", &err);
    gb_free(text);
    cJSON_Delete(json);
    gb_target_free(&target);
    gb_table_free(table);
    return cli_exit_code(rc);
}
