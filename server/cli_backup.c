/*
 * cli_backup.c - `glassbox backup --out DIR [--data-dir D]`: a consistent
 * copy of a data directory while the daemon may be running.
 * Layer: server.
 *
 * The database is copied with SQLite's online backup (a consistent
 * snapshot even while other connections write), then the blob files
 * (content-addressed and never modified, so copying them after the
 * database includes every blob the snapshot references).  DIR must not
 * exist; it becomes a data directory that `glassbox serve --data-dir DIR`
 * can use as is (restore).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/cli.h"
#include "storage/db.h"

static void backup_usage(FILE *out)
{
    fprintf(out,
            "usage: glassbox backup --out DIR [--data-dir D]\n"
            "Copies the database (SQLite online backup) and the uploaded files of D\n"
            "(default $GLASSBOX_DATA_DIR or ./var) into the new directory DIR, which\n"
            "`glassbox serve --data-dir DIR` can serve as is.\n");
}

static gb_status copy_file(const char *from, const char *to, gb_error *err)
{
    char buf[65536];
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1;
    gb_status status = GB_OK;
    if (in < 0)
        return gb_error_set(err, GB_EIO, "cannot read '%s': %s", from, strerror(errno));
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        close(in);
        return gb_error_set(err, GB_EIO, "cannot create '%s': %s", to, strerror(errno));
    }
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            break;
        if (n < 0 || write(out, buf, (size_t)n) != n) {
            status = gb_error_set(err, GB_EIO, "cannot copy '%s': %s", from,
                                  strerror(errno));
            break;
        }
    }
    if (status == GB_OK && fsync(out) != 0)
        status = gb_error_set(err, GB_EIO, "cannot sync '%s': %s", to, strerror(errno));
    close(in);
    close(out);
    return status;
}

/* Copies <src>/blobs/xx/... into <dst>/blobs/xx/... (tmp/ skipped). */
static gb_status copy_blobs(const char *src, const char *dst, size_t *n_files,
                            gb_error *err)
{
    char from_dir[PATH_MAX], to_dir[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
    gb_status status = GB_OK;
    if (snprintf(from_dir, sizeof from_dir, "%s/blobs", src) >= (int)sizeof from_dir ||
        snprintf(to_dir, sizeof to_dir, "%s/blobs", dst) >= (int)sizeof to_dir)
        return gb_error_set(err, GB_EINPUT, "path too long");
    if (mkdir(to_dir, 0700) != 0)
        return gb_error_set(err, GB_EIO, "cannot create '%s': %s", to_dir,
                            strerror(errno));
    DIR *top = opendir(from_dir);
    if (top == NULL)
        return errno == ENOENT ? GB_OK
                               : gb_error_set(err, GB_EIO, "cannot read '%s': %s",
                                              from_dir, strerror(errno));
    struct dirent *prefix;
    while (status == GB_OK && (prefix = readdir(top)) != NULL) {
        if (strlen(prefix->d_name) != 2 ||
            strspn(prefix->d_name, "0123456789abcdef") != 2)
            continue; /* ".", "..", "tmp" */
        char sub_from[PATH_MAX], sub_to[PATH_MAX];
        if (snprintf(sub_from, sizeof sub_from, "%s/%.2s", from_dir, prefix->d_name) >=
                (int)sizeof sub_from ||
            snprintf(sub_to, sizeof sub_to, "%s/%.2s", to_dir, prefix->d_name) >=
                (int)sizeof sub_to) {
            status = gb_error_set(err, GB_EINPUT, "path too long");
            break;
        }
        if (mkdir(sub_to, 0700) != 0) {
            status = gb_error_set(err, GB_EIO, "cannot create '%s': %s", sub_to,
                                  strerror(errno));
            break;
        }
        DIR *sub = opendir(sub_from);
        if (sub == NULL) {
            status = gb_error_set(err, GB_EIO, "cannot read '%s'", sub_from);
            break;
        }
        struct dirent *file;
        while (status == GB_OK && (file = readdir(sub)) != NULL) {
            if (file->d_name[0] == '.')
                continue;
            if (snprintf(from, sizeof from, "%s/%s", sub_from, file->d_name) >=
                    (int)sizeof from ||
                snprintf(to, sizeof to, "%s/%s", sub_to, file->d_name) >=
                    (int)sizeof to) {
                status = gb_error_set(err, GB_EINPUT, "path too long");
                break;
            }
            status = copy_file(from, to, err);
            if (status == GB_OK)
                (*n_files)++;
        }
        closedir(sub);
    }
    closedir(top);
    return status;
}

int cli_backup(int argc, char **argv)
{
    const char *data_dir = getenv("GLASSBOX_DATA_DIR"), *out_dir = NULL;
    gb_error err;
    gb_error_clear(&err);
    const cli_option opts[] = {{"--out", &out_dir}, {"--data-dir", &data_dir}};
    int parsed = cli_parse_options("backup", argc, argv, 1, opts,
                                   sizeof opts / sizeof opts[0], backup_usage);
    if (parsed >= 0)
        return parsed;
    if (data_dir == NULL || data_dir[0] == '\0')
        data_dir = "./var";
    if (out_dir == NULL || out_dir[0] == '\0') {
        fprintf(stderr, "glassbox backup: --out DIR is required\n");
        backup_usage(stderr);
        return 2;
    }
    char src_db[PATH_MAX], dst_db[PATH_MAX];
    if (snprintf(src_db, sizeof src_db, "%s/glassbox.db", data_dir) >=
            (int)sizeof src_db ||
        snprintf(dst_db, sizeof dst_db, "%s/glassbox.db", out_dir) >=
            (int)sizeof dst_db) {
        fprintf(stderr, "glassbox backup: path too long\n");
        return 2;
    }
    struct stat st;
    if (stat(src_db, &st) != 0) {
        fprintf(stderr, "glassbox backup: no database at '%s'\n", src_db);
        return 2;
    }
    if (mkdir(out_dir, 0700) != 0) {
        fprintf(stderr, "glassbox backup: cannot create '%s': %s%s\n", out_dir,
                strerror(errno), errno == EEXIST ? " (choose a new directory)" : "");
        return 2;
    }
    st_db *db = NULL;
    size_t n_files = 0;
    gb_status status = st_db_open(src_db, &db, &err);
    if (status == GB_OK)
        status = st_db_backup(db, dst_db, &err);
    st_db_close(db);
    if (status == GB_OK)
        status = copy_blobs(data_dir, out_dir, &n_files, &err);
    if (status != GB_OK) {
        cli_print_error("backup", &err);
        return 1;
    }
    printf("backed up %s to %s (database and %zu uploaded files)\n", data_dir, out_dir,
           n_files);
    return 0;
}
