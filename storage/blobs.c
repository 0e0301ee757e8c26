/*
 * blobs.c - content-addressed files: temp file, fsync, rename, fsync dir.
 * Layer: storage.
 */
#include "storage/blobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"

struct st_blob_writer {
    int fd;
    char *data_dir;
    char tmp_path[PATH_MAX];
    gb_sha256 sha;
    uint64_t size;
};

static gb_status make_dir(const char *path, gb_error *err)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return gb_error_set(err, GB_EIO, "cannot create directory '%s': %s", path,
                            strerror(errno));
    return GB_OK;
}

static gb_status fsync_dir(const char *path, gb_error *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return gb_error_set(err, GB_EIO, "cannot open directory '%s': %s", path,
                            strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc != 0)
        return gb_error_set(err, GB_EIO, "cannot sync directory '%s': %s", path,
                            strerror(errno));
    return GB_OK;
}

static gb_status join(char *out, size_t cap, gb_error *err, const char *fmt,
                      const char *a, const char *b)
{
    int n = snprintf(out, cap, fmt, a, b);
    if (n < 0 || (size_t)n >= cap)
        return gb_error_set(err, GB_EINPUT, "data directory path too long");
    return GB_OK;
}

gb_status st_blobs_init(const char *data_dir, gb_error *err)
{
    char blobs[PATH_MAX], tmp[PATH_MAX], stale[PATH_MAX];
    gb_status status = join(blobs, sizeof blobs, err, "%s/%s", data_dir, "blobs");
    if (status == GB_OK)
        status = join(tmp, sizeof tmp, err, "%s/%s", blobs, "tmp");
    if (status == GB_OK)
        status = make_dir(blobs, err);
    if (status == GB_OK)
        status = make_dir(tmp, err);
    if (status != GB_OK)
        return status;
    DIR *dir = opendir(tmp);
    if (dir == NULL)
        return gb_error_set(err, GB_EIO, "cannot read '%s': %s", tmp, strerror(errno));
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (strncmp(entry->d_name, "upload-", 7) != 0)
            continue;
        if (join(stale, sizeof stale, NULL, "%s/%s", tmp, entry->d_name) == GB_OK)
            unlink(stale);
    }
    closedir(dir);
    return GB_OK;
}

gb_status st_blob_writer_open(const char *data_dir, st_blob_writer **out, gb_error *err)
{
    st_blob_writer *w = NULL;
    gb_status status = GB_OK;
    *out = NULL;
    w = gb_calloc(1, sizeof *w);
    if (w == NULL)
        return gb_error_set(err, GB_ENOMEM, "out of memory starting an upload");
    w->fd = -1;
    w->data_dir = gb_strdup(data_dir);
    if (w->data_dir == NULL) {
        status = gb_error_set(err, GB_ENOMEM, "out of memory starting an upload");
        goto fail;
    }
    status = join(w->tmp_path, sizeof w->tmp_path, err, "%s/%s", data_dir,
                  "blobs/tmp/upload-XXXXXX");
    if (status != GB_OK)
        goto fail;
    w->fd = mkstemp(w->tmp_path);
    if (w->fd < 0) {
        status = gb_error_set(err, GB_EIO,
                              "cannot create a temporary file in '%s/blobs/tmp': %s",
                              data_dir, strerror(errno));
        w->tmp_path[0] = '\0';
        goto fail;
    }
    gb_sha256_init(&w->sha);
    *out = w;
    return GB_OK;
fail:
    st_blob_writer_abort(w);
    return status;
}

gb_status st_blob_writer_write(st_blob_writer *w, const void *bytes, size_t n,
                               gb_error *err)
{
    const unsigned char *p = bytes;
    size_t done = 0;
    while (done < n) {
        ssize_t r = write(w->fd, p + done, n - done);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return gb_error_set(err, GB_EIO, "cannot write upload to disk: %s",
                                strerror(errno));
        done += (size_t)r;
    }
    gb_sha256_update(&w->sha, bytes, n);
    w->size += n;
    return GB_OK;
}

uint64_t st_blob_writer_size(const st_blob_writer *w)
{
    return w->size;
}

gb_status st_blob_path(const char *data_dir, const char *sha256_hex, char *out,
                       size_t cap, gb_error *err)
{
    if (sha256_hex == NULL || strlen(sha256_hex) != 64 ||
        strspn(sha256_hex, "0123456789abcdef") != 64)
        return gb_error_set(err, GB_EINPUT, "not a SHA-256 hex digest");
    int n =
        snprintf(out, cap, "%s/blobs/%.2s/%s", data_dir, sha256_hex, sha256_hex + 2);
    if (n < 0 || (size_t)n >= cap)
        return gb_error_set(err, GB_EINPUT, "data directory path too long");
    return GB_OK;
}

gb_status st_blob_writer_commit(st_blob_writer *w, char sha256_hex[65], gb_error *err)
{
    char final_path[PATH_MAX], dir_path[PATH_MAX];
    unsigned char digest[32];
    gb_status status = GB_OK;
    struct stat st;

    if (fsync(w->fd) != 0) {
        status = gb_error_set(err, GB_EIO, "cannot sync upload: %s", strerror(errno));
        goto done;
    }
    gb_sha256_final(&w->sha, digest);
    gb_sha256_hex(digest, sha256_hex);
    status = st_blob_path(w->data_dir, sha256_hex, final_path, sizeof final_path, err);
    if (status != GB_OK)
        goto done;
    snprintf(dir_path, sizeof dir_path, "%s", final_path);
    *strrchr(dir_path, '/') = '\0';
    status = make_dir(dir_path, err);
    if (status != GB_OK)
        goto done;
    if (stat(final_path, &st) == 0 && (uint64_t)st.st_size == w->size) {
        /* Same address, same size: the content is already there. */
        goto done;
    }
    if (rename(w->tmp_path, final_path) != 0) {
        status = gb_error_set(err, GB_EIO, "cannot move upload into place: %s",
                              strerror(errno));
        goto done;
    }
    w->tmp_path[0] = '\0';
    status = fsync_dir(dir_path, err);
done:
    if (status != GB_OK)
        memset(sha256_hex, 0, 65);
    st_blob_writer_abort(w);
    return status;
}

void st_blob_writer_abort(st_blob_writer *w)
{
    if (w == NULL)
        return;
    if (w->fd >= 0)
        close(w->fd);
    if (w->tmp_path[0] != '\0')
        unlink(w->tmp_path);
    gb_free(w->data_dir);
    gb_free(w);
}

gb_status st_blob_remove(const char *data_dir, const char *sha256_hex, gb_error *err)
{
    char path[PATH_MAX];
    gb_status status = st_blob_path(data_dir, sha256_hex, path, sizeof path, err);
    if (status != GB_OK)
        return status;
    if (unlink(path) != 0 && errno != ENOENT)
        return gb_error_set(err, GB_EIO, "cannot remove '%s': %s", path,
                            strerror(errno));
    return GB_OK;
}
