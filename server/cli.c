/*
 * cli.c - helpers shared by the command-line subcommands.
 * Layer: server.
 */
#include "server/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/data/csv.h"
#include "core/sha256.h"

#define CLI_CHUNK (1u << 20)

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

/* Streams the file through the parser and SHA-256 in one pass.  On success
 * *out owns the table and hex holds the digest. */
gb_status cli_read_csv(const char *path, gb_table **out, char hex[GB_SHA256_HEX_BYTES],
                       gb_error *err)
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
    chunk = gb_malloc(CLI_CHUNK);
    p = gb_csv_parser_create(NULL, err);
    if (chunk == NULL || p == NULL) {
        rc = gb_error_set(err, GB_ENOMEM, "out of memory reading '%s'", path);
        goto done;
    }
    gb_sha256_init(&h);
    for (;;) {
        size_t got = fread(chunk, 1, CLI_CHUNK, f);
        gb_sha256_update(&h, chunk, got);
        if (got > 0 && (rc = gb_csv_parser_feed(p, chunk, got, err)) != GB_OK)
            goto done;
        if (got < CLI_CHUNK) {
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

gb_status cli_write_file(const char *path, const char *text, gb_error *err)
{
    size_t len = strlen(path);
    char *tmp = gb_malloc(len + 16);
    if (tmp == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory writing '%s'", path);
    snprintf(tmp, len + 16, "%s.tmp%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (f == NULL) {
        int e = errno;
        gb_free(tmp);
        return gb_error_set(err, GB_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n && fputc('\n', f) != EOF && fflush(f) == 0 &&
             fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        gb_free(tmp);
        return gb_error_set(err, GB_EIO, "cannot write '%s': %s", path, strerror(e));
    }
    gb_free(tmp);
    return GB_OK;
}

int cli_parse_options(const char *cmd, int argc, char **argv, int first,
                      const cli_option *opts, size_t n_opts, void (*usage)(FILE *))
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        size_t k = 0;
        while (k < n_opts && strcmp(a, opts[k].name) != 0)
            k++;
        if (k == n_opts) {
            fprintf(stderr, "glassbox %s: unknown option '%s'\n", cmd, a);
            usage(stderr);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "glassbox %s: %s needs a value\n", cmd, a);
            usage(stderr);
            return 2;
        }
        *opts[k].value = argv[++i];
    }
    return -1;
}
