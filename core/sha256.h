/*
 * sha256.h - streaming SHA-256 (FIPS 180-4) for dataset ids, token hashes
 * and the audit chain.
 * Layer: core.
 *
 *   gb_sha256 h;
 *   gb_sha256_init(&h);
 *   gb_sha256_update(&h, bytes, n);   (any number of times, any sizes)
 *   gb_sha256_final(&h, digest);      (h must be re-initialised to reuse)
 *
 * No allocation; a gb_sha256 is a plain value on the caller's stack.
 */
#ifndef CORE_SHA256_H
#define CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define GB_SHA256_DIGEST_BYTES 32
#define GB_SHA256_HEX_BYTES 65 /* 64 hex digits + NUL */

typedef struct gb_sha256 {
    uint32_t state[8];
    uint64_t n_bytes;  /* total bytes hashed */
    uint8_t block[64]; /* pending partial block */
    size_t block_len;
    int use_sha_ni; /* set by init when the CPU has the x86 SHA extensions;
                       clearing it selects the portable code (tests) */
} gb_sha256;

/* Streaming SHA-256 on caller-owned state (nothing allocated, nothing can
 * fail): init, update with any number of chunks (n may be 0), then final
 * writes the 32-byte digest; h must be initialised again before reuse. */
void gb_sha256_init(gb_sha256 *h);
void gb_sha256_update(gb_sha256 *h, const void *bytes, size_t n);
void gb_sha256_final(gb_sha256 *h, uint8_t digest[GB_SHA256_DIGEST_BYTES]);

/* Lower-case hex of a digest into hex (65 bytes, NUL-terminated). */
void gb_sha256_hex(const uint8_t digest[GB_SHA256_DIGEST_BYTES],
                   char hex[GB_SHA256_HEX_BYTES]);

/* One-shot: hex digest of bytes[0..n). */
void gb_sha256_hex_of(const void *bytes, size_t n, char hex[GB_SHA256_HEX_BYTES]);

#endif /* CORE_SHA256_H */
