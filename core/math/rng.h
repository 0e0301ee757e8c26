/*
 * rng.h - deterministic, seedable random numbers (xoshiro256** seeded by
 * splitmix64).  The same seed gives the same stream on every platform; never
 * use rand().  A gb_rng is a plain value: pass it explicitly, copy it to fork
 * an independent stream with gb_rng_split.
 * Layer: core/math.
 */
#ifndef CORE_MATH_RNG_H
#define CORE_MATH_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct gb_rng {
    uint64_t s[4];
} gb_rng;

/* Seeds *rng from a 64-bit seed. */
void gb_rng_seed(gb_rng *rng, uint64_t seed);

/* A new generator derived from *rng and a stream id; *rng is not advanced.
 * Streams with different ids are independent (used per thread / per task so
 * results do not depend on scheduling). */
gb_rng gb_rng_split(const gb_rng *rng, uint64_t stream);

/* The next 64 random bits; advances *rng. */
uint64_t gb_rng_u64(gb_rng *rng);

/* Uniform in [0, 1) with 53 random bits. */
double gb_rng_uniform(gb_rng *rng);

/* Uniform integer in [0, n); n > 0.  Unbiased (Lemire's method). */
uint64_t gb_rng_below(gb_rng *rng, uint64_t n);

/* Standard normal (Marsaglia polar method; no cached spare, so the stream
 * position depends only on the calls made). */
double gb_rng_normal(gb_rng *rng);

/* Fisher-Yates shuffle of idx[0..n). */
void gb_rng_shuffle(gb_rng *rng, size_t *idx, size_t n);

#endif /* CORE_MATH_RNG_H */
