/*
 * distance.h: float4 distance kernels (and the funnel index's int8 code
 * kernel) with runtime CPU dispatch.
 *
 * Each kernel reads n elements of two arrays.  The prefix-aware SQL
 * functions and the full-dimension operators share them: a prefix is just a
 * smaller n.  No PostgreSQL dependencies, so the kernels can be unit-tested
 * and benchmarked on their own.
 */
#ifndef MRL_DISTANCE_H
#define MRL_DISTANCE_H

#include <stdint.h>

typedef struct MrlKernels
{
	const char *isa;			/* "avx512", "avx2" or "scalar" */
	float		(*l2sq) (const float *a, const float *b, int n);
	float		(*dot) (const float *a, const float *b, int n);
	float		(*l1) (const float *a, const float *b, int n);
	/* dot product and both squared norms in one pass (cosine) */
	void		(*dot_norms) (const float *a, const float *b, int n,
							  float *dot, float *norma, float *normb);
	/* int8 codes c against floats q: sum c_i q_i and sum c_i^2 (funnel index) */
	void		(*int8_dot_norm) (const int8_t *c, const float *q, int n,
								  float *dot, float *cc);
	/* count int8 codes of n dims, stride bytes apart, against an int8
	 * query: dots[k] = sum c_k[i] q[i]; count bit codes of n bits:
	 * sums[k] = the sum of the q[i] whose bit i (bit i % 8 of byte i / 8) is
	 * set in code k.  Exact integers, the same from every kernel set (the
	 * funnel index's approximate estimates) */
	void		(*int8_qdots) (const int8_t *codes, long stride, int count,
							   const int8_t *q, int n, int32_t *dots);
	void		(*bit_qsums) (const uint8_t *bits, long stride, int count,
							  const int8_t *q, int n, int32_t *sums);
} MrlKernels;

/* The best kernels this CPU runs, chosen once by MrlKernelsInit(). */
extern MrlKernels mrl_kernels;

extern void MrlKernelsInit(void);
extern int	MrlKernelsSelect(const char *isa);

/*
 * Distances of the first n elements through the kernels, exact to float
 * rounding for any finite input: recomputed in double when float overflows
 * or underflows.  The SQL functions and operators use these.
 */
extern double MrlL2SquaredDistance(const float *a, const float *b, int n);
extern double MrlInnerProduct(const float *a, const float *b, int n);
extern double MrlL1Distance(const float *a, const float *b, int n);
extern double MrlCosineDistance(const float *a, const float *b, int n);

/* Euclidean norm of n floats, summed in double (never overflows). */
extern double MrlNorm(const float *x, int n);

/* 1 - dot / sqrt(na nb), clamped to [0, 2]; NaN when a squared norm is 0. */
extern double MrlCosineFromSums(double dot, double na, double nb);

#endif							/* MRL_DISTANCE_H */
