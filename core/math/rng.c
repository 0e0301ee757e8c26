/*
 * rng.c - xoshiro256** with splitmix64 seeding (Blackman & Vigna).
 * Layer: core/math.
 */
#include "core/math/rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void gb_rng_seed(gb_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

gb_rng gb_rng_split(const gb_rng *rng, uint64_t stream)
{
    gb_rng out;
    uint64_t x = rng->s[0] ^ rotl(rng->s[1], 17) ^ rotl(rng->s[2], 31) ^
                 rotl(rng->s[3], 47) ^ (stream * 0xd1342543de82ef95ULL);
    for (int i = 0; i < 4; i++)
        out.s[i] = splitmix64(&x);
    return out;
}

uint64_t gb_rng_u64(gb_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double gb_rng_uniform(gb_rng *rng)
{
    return (double)(gb_rng_u64(rng) >> 11) * 0x1.0p-53;
}

uint64_t gb_rng_below(gb_rng *rng, uint64_t n)
{
    /* Lemire's nearly-divisionless method with 128-bit multiply. */
    uint64_t x = gb_rng_u64(rng);
    __uint128_t m = (__uint128_t)x * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            x = gb_rng_u64(rng);
            m = (__uint128_t)x * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double gb_rng_normal(gb_rng *rng)
{
    double u, v, s;
    do {
        u = 2.0 * gb_rng_uniform(rng) - 1.0;
        v = 2.0 * gb_rng_uniform(rng) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

void gb_rng_shuffle(gb_rng *rng, size_t *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)gb_rng_below(rng, (uint64_t)i);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
