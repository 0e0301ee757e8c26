/*
 * sha256.h - SHA-256 (FIPS 180-4), one-shot and streaming.
 * Layer: core (pure computation, no I/O).
 *
 * Used for content addresses of uploaded bytes, token hashes and the audit
 * log's hash chain.  The context is a plain struct the caller owns (usually
 * on its stack); nothing is allocated.
 */
#ifndef CORE_SHA256_H
#define CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define GB_SHA256_DIGEST_LEN 32
#define GB_SHA256_HEX_LEN 64

typedef struct gb_sha256_ctx {
    uint32_t state[8];
    uint64_t n_bytes;        /* total bytes fed so far */
    unsigned char block[64]; /* pending partial block */
    size_t n_block;          /* bytes pending in block */
} gb_sha256_ctx;

/* Starts a new digest. */
void gb_sha256_init(gb_sha256_ctx *ctx);
/* Feeds n bytes (data may be NULL when n is 0). */
void gb_sha256_update(gb_sha256_ctx *ctx, const void *data, size_t n);
/* Writes the 32-byte digest to out; ctx must be re-initialised before reuse. */
void gb_sha256_final(gb_sha256_ctx *ctx, unsigned char out[32]);

/* One-shot digest of n bytes. */
void gb_sha256(const void *data, size_t n, unsigned char out[32]);

/* Lower-case hex of a digest, NUL-terminated (65 bytes). */
void gb_sha256_hex(const unsigned char d[32], char hex[65]);

#endif /* CORE_SHA256_H */
