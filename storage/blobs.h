/*
 * blobs.h - content-addressed files under <data-dir>/blobs.
 * Layer: storage.
 *
 * A blob is stored at <data-dir>/blobs/<first 2 hex>/<remaining 62 hex> of
 * its SHA-256.  Bytes are streamed into a temporary file under
 * <data-dir>/blobs/tmp, and st_blob_writer_commit fsyncs it, renames it to
 * its address and fsyncs the directory, so a blob is either complete at its
 * address or absent.  Database rows naming a blob are inserted only after
 * the commit; a crash in between leaves an unreferenced blob, never a row
 * without bytes.  Leftover temporary files are removed by st_blobs_init.
 */
#ifndef STORAGE_BLOBS_H
#define STORAGE_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#include "core/base.h"

typedef struct st_blob_writer st_blob_writer;

/* Creates <data_dir>/blobs and blobs/tmp if needed and removes temporary
 * files left by a crash. */
gb_status st_blobs_init(const char *data_dir, gb_error *err);

/* Starts a new blob; *out is freed by commit or abort.  GB_EIO on failure. */
gb_status st_blob_writer_open(const char *data_dir, st_blob_writer **out,
                              gb_error *err);

/* Appends n bytes (also hashed).  On failure the writer must be aborted. */
gb_status st_blob_writer_write(st_blob_writer *w, const void *bytes, size_t n,
                               gb_error *err);

/* Bytes written so far. */
uint64_t st_blob_writer_size(const st_blob_writer *w);

/* Makes the blob durable at its address and writes its SHA-256 hex to
 * sha256_hex.  If the address already holds the same content the
 * temporary file is dropped.  Frees w in every case (on error the
 * temporary file is removed). */
gb_status st_blob_writer_commit(st_blob_writer *w, char sha256_hex[65], gb_error *err);

/* Drops the temporary file and frees w; NULL is a no-op. */
void st_blob_writer_abort(st_blob_writer *w);

/* Path of the blob with this hash into out (cap bytes).  GB_EINPUT if the
 * hash is not 64 lower-case hex digits or the path does not fit. */
gb_status st_blob_path(const char *data_dir, const char *sha256_hex, char *out,
                       size_t cap, gb_error *err);

/* Removes a blob file (missing is not an error). */
gb_status st_blob_remove(const char *data_dir, const char *sha256_hex, gb_error *err);

#endif /* STORAGE_BLOBS_H */
