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
#include "core/data/csv.h"
#include "core/json.h"
#include "core/sha256.h"
#include "server/cli.h"

#define INSPECT_CHUNK (1u << 20)

static void inspect_usage(FILE *out)
{
    fprintf(out,
            "usage: glassbox inspect --data F.csv --target COL "
            "[--task binary|multiclass|regression]\n"
            "Parses the CSV and prints the dataset JSON (schema, summary statistics,\n"
            "target, task, classes).\n");
}

/* Streams the file through the parser and SHA-256 in one pass.  On success
 * *out owns the table and hex holds the digest. */
static gb_status read_and_hash(const char *path, gb_table **out,
                               char hex[GB_SHA256_HEX_BYTES], gb_error *err)
{
    gb_status rc = GB_OK;
    char *chunk = NULL;
    gb_csv_parser *p = NULL;
    gb_sha256 h;
    uint8_t digest[GB_SHA256_DIGEST_BYTES];
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        rc = gb_error_set(err, e == ENOENT ? GB_ENOTFOUND : GB_EIO,
                          "cannot open '%s': %s", path, strerror(e));
        gb_error_field(err, "data");
        return rc;
    }
    chunk = gb_malloc(INSPECT_CHUNK);
    p = gb_csv_parser_create(NULL, err);
    if (chunk == NULL || p == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", path);
        goto done;
    }
    gb_sha256_init(&h);
    for (;;) {
        size_t got = fread(chunk, 1, INSPECT_CHUNK, f);
        gb_sha256_update(&h, chunk, got);
        if (got > 0 && (rc = gb_csv_parser_feed(p, chunk, got, err)) != GB_OK)
            goto done;
        if (got < INSPECT_CHUNK) {
            if (ferror(f)) {
                rc = gb_error_set(err, GB_EIO, "error reading '%s'", path);
                goto done;
            }
            break;
        }
    }
    if ((rc = gb_csv_parser_finish(p, out, err)) != GB_OK)
        goto done;
    gb_sha256_final(&h, digest);
    gb_sha256_hex(digest, hex);
done:
    gb_csv_parser_free(p);
    gb_free(chunk);
    fclose(f);
    return rc;
}

int cli_inspect(int argc, char **argv)
{
    const char *data = NULL, *target_name = NULL, *task_name = NULL;
    gb_error err;
    gb_error_clear(&err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            inspect_usage(stdout);
            return 0;
        }
        const char **slot = strcmp(a, "--data") == 0     ? &data
                            : strcmp(a, "--target") == 0 ? &target_name
                            : strcmp(a, "--task") == 0   ? &task_name
                                                         : NULL;
        if (slot == NULL) {
            fprintf(stderr, "glassbox inspect: unknown option '%s'\n", a);
            inspect_usage(stderr);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "glassbox inspect: %s needs a value\n", a);
            return 2;
        }
        *slot = argv[++i];
    }
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
    gb_status rc = read_and_hash(data, &table, hex, &err);
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
