/*
 * rng.h: the encoder core's seeded generator (splitmix64), shared by the
 * trainer and the downstream evaluations, so results depend only on the
 * seed (never on the C library's rand()).
 */
#ifndef MRL_RNG_H
#define MRL_RNG_H

#include <stdint.h>

/* The next 64 random bits; *state is the whole generator. */
static inline uint64_t
rng_next(uint64_t *state)
{
	uint64_t	z = (*state += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform double in (0, 1): 53 random bits, never exactly 0. */
static inline double
rng_uniform(uint64_t *state)
{
	return ((rng_next(state) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* Uniform integer in [0, n) by multiply-high (bias below 2^-32 for n < 2^32). */
static inline uint64_t
rng_below(uint64_t *state, uint64_t n)
{
	return (uint64_t) (((unsigned __int128) rng_next(state) * n) >> 64);
}

/* order[0..n) = a random permutation of 0..n-1 (Fisher-Yates). */
static inline void
rng_permutation(uint64_t *state, int32_t *order, int n)
{
	for (int i = 0; i < n; i++)
		order[i] = i;
	for (int i = n - 1; i > 0; i--)
	{
		int			j = (int) rng_below(state, (uint64_t) i + 1);
		int32_t		t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
}

#endif							/* MRL_RNG_H */
