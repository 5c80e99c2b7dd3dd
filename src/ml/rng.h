/*
 * rng.h — deterministic pseudo-random numbers for the model code.
 *
 * xoshiro256** (Blackman and Vigna) seeded through splitmix64.  The state is
 * always passed explicitly: there is no global generator, so the same seed
 * gives the same model on every platform and in every backend.
 */
#ifndef SEONGSU_ML_RNG_H
#define SEONGSU_ML_RNG_H

#include <stdint.h>

typedef struct MlRng
{
	uint64_t	s[4];
} MlRng;

/* One splitmix64 step: advances *x and returns the next output. */
static inline uint64_t
MlSplitMix64(uint64_t *x)
{
	uint64_t	z = (*x += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

/* Seed a generator; every seed (including 0) gives a valid state. */
static inline void
MlRngSeed(MlRng *rng, uint64_t seed)
{
	uint64_t	x = seed;
	int			i;

	for (i = 0; i < 4; i++)
		rng->s[i] = MlSplitMix64(&x);
}

/* Rotate left. */
static inline uint64_t
MlRotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* Next 64 random bits. */
static inline uint64_t
MlRngNext(MlRng *rng)
{
	uint64_t   *s = rng->s;
	uint64_t	result = MlRotl64(s[1] * 5, 7) * 9;
	uint64_t	t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = MlRotl64(s[3], 45);
	return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double
MlRngUniform(MlRng *rng)
{
	return (double) (MlRngNext(rng) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n), without modulo bias; n must be positive. */
static inline uint32_t
MlRngBelow(MlRng *rng, uint32_t n)
{
	uint64_t	limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t	x;

	do
		x = MlRngNext(rng);
	while (x >= limit);
	return (uint32_t) (x % n);
}

#endif							/* SEONGSU_ML_RNG_H */
