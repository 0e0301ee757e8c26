/*
 * sha256.c - SHA-256 per FIPS 180-4, streaming.  Portable C, plus the x86
 * SHA extensions (SHA-NI) when the CPU has them (several times faster),
 * chosen at gb_sha256_init by CPUID.
 * Layer: core.
 */
#include "core/sha256.h"

#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define GB_SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void compress(uint32_t state[8], const uint8_t block[64])
{
    uint32_t w[64];
    for (int t = 0; t < 16; t++)
        w[t] = (uint32_t)block[4 * t] << 24 | (uint32_t)block[4 * t + 1] << 16 |
               (uint32_t)block[4 * t + 2] << 8 | (uint32_t)block[4 * t + 3];
    for (int t = 16; t < 64; t++) {
        uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
        uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16] + s0 + w[t - 7] + s1;
    }
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int t = 0; t < 64; t++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) +
                      ((e & f) ^ (~e & g)) + K[t] + w[t];
        uint32_t t2 =
            (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
    state[4] += e;
    state[5] += f;
    state[6] += g;
    state[7] += h;
}

#ifdef GB_SHA_NI
/* Compresses n_blocks 64-byte blocks with the SHA-NI instructions; the
 * message schedule is kept in four vectors of four words, rotating. */
__attribute__((target("sha,sse4.1"))) static void
compress_sha_ni(uint32_t state[8], const uint8_t *data, size_t n_blocks)
{
    const __m128i byte_swap =
        _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)(const void *)&state[0]);
    __m128i state1 = _mm_loadu_si128((const __m128i *)(const void *)&state[4]);
    tmp = _mm_shuffle_epi32(tmp, 0xB1);               /* CDAB */
    state1 = _mm_shuffle_epi32(state1, 0x1B);         /* EFGH */
    __m128i state0 = _mm_alignr_epi8(tmp, state1, 8); /* ABEF */
    state1 = _mm_blend_epi16(state1, tmp, 0xF0);      /* CDGH */
    for (; n_blocks > 0; n_blocks--, data += 64) {
        __m128i abef = state0, cdgh = state1, m[4];
        for (int g = 0; g < 16; g++) {
            if (g < 4)
                m[g] = _mm_shuffle_epi8(
                    _mm_loadu_si128((const __m128i *)(const void *)(data + 16 * g)),
                    byte_swap);
            __m128i msg = _mm_add_epi32(
                m[g & 3], _mm_loadu_si128((const __m128i *)(const void *)&K[4 * g]));
            state1 = _mm_sha256rnds2_epu32(state1, state0, msg);
            if (g >= 3 && g < 15) {
                __m128i t = _mm_alignr_epi8(m[g & 3], m[(g + 3) & 3], 4);
                m[(g + 1) & 3] =
                    _mm_sha256msg2_epu32(_mm_add_epi32(m[(g + 1) & 3], t), m[g & 3]);
            }
            msg = _mm_shuffle_epi32(msg, 0x0E);
            state0 = _mm_sha256rnds2_epu32(state0, state1, msg);
            if (g >= 1 && g < 13)
                m[(g - 1) & 3] = _mm_sha256msg1_epu32(m[(g - 1) & 3], m[g & 3]);
        }
        state0 = _mm_add_epi32(state0, abef);
        state1 = _mm_add_epi32(state1, cdgh);
    }
    tmp = _mm_shuffle_epi32(state0, 0x1B);       /* FEBA */
    state1 = _mm_shuffle_epi32(state1, 0xB1);    /* DCHG */
    state0 = _mm_blend_epi16(tmp, state1, 0xF0); /* DCBA */
    state1 = _mm_alignr_epi8(state1, tmp, 8);    /* ABEF */
    _mm_storeu_si128((__m128i *)(void *)&state[0], state0);
    _mm_storeu_si128((__m128i *)(void *)&state[4], state1);
}

static int cpu_has_sha_ni(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 19))) /* SSE4.1 */
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (int)((b >> 29) & 1u); /* SHA */
}
#endif

static void compress_blocks(gb_sha256 *h, const uint8_t *data, size_t n_blocks)
{
#ifdef GB_SHA_NI
    if (h->use_sha_ni) {
        compress_sha_ni(h->state, data, n_blocks);
        return;
    }
#endif
    for (; n_blocks > 0; n_blocks--, data += 64)
        compress(h->state, data);
}

void gb_sha256_init(gb_sha256 *h)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(h->state, iv, sizeof iv);
    h->n_bytes = 0;
    h->block_len = 0;
#ifdef GB_SHA_NI
    h->use_sha_ni = cpu_has_sha_ni();
#else
    h->use_sha_ni = 0;
#endif
}

void gb_sha256_update(gb_sha256 *h, const void *bytes, size_t n)
{
    const uint8_t *s = bytes;
    h->n_bytes += n;
    if (h->block_len > 0) {
        size_t take = 64 - h->block_len < n ? 64 - h->block_len : n;
        memcpy(h->block + h->block_len, s, take);
        h->block_len += take;
        s += take;
        n -= take;
        if (h->block_len < 64)
            return;
        compress_blocks(h, h->block, 1);
        h->block_len = 0;
    }
    if (n >= 64) {
        compress_blocks(h, s, n / 64);
        s += n / 64 * 64;
        n %= 64;
    }
    memcpy(h->block, s, n);
    h->block_len = n;
}

void gb_sha256_final(gb_sha256 *h, uint8_t digest[GB_SHA256_DIGEST_BYTES])
{
    uint64_t bits = h->n_bytes * 8;
    h->block[h->block_len++] = 0x80;
    if (h->block_len > 56) {
        memset(h->block + h->block_len, 0, 64 - h->block_len);
        compress_blocks(h, h->block, 1);
        h->block_len = 0;
    }
    memset(h->block + h->block_len, 0, 56 - h->block_len);
    for (int i = 0; i < 8; i++)
        h->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress_blocks(h, h->block, 1);
    for (int i = 0; i < 8; i++) {
        digest[4 * i] = (uint8_t)(h->state[i] >> 24);
        digest[4 * i + 1] = (uint8_t)(h->state[i] >> 16);
        digest[4 * i + 2] = (uint8_t)(h->state[i] >> 8);
        digest[4 * i + 3] = (uint8_t)h->state[i];
    }
    h->block_len = 0;
}

void gb_sha256_hex(const uint8_t digest[GB_SHA256_DIGEST_BYTES],
                   char hex[GB_SHA256_HEX_BYTES])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < GB_SHA256_DIGEST_BYTES; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[64] = '\0';
}

void gb_sha256_hex_of(const void *bytes, size_t n, char hex[GB_SHA256_HEX_BYTES])
{
    gb_sha256 h;
    uint8_t digest[GB_SHA256_DIGEST_BYTES];
    gb_sha256_init(&h);
    gb_sha256_update(&h, bytes, n);
    gb_sha256_final(&h, digest);
    gb_sha256_hex(digest, hex);
}
