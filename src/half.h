/*
 * half.h: IEEE half precision (binary16, mhalfvec's elements): conversions
 * from and to float4 and distance kernels, with runtime CPU dispatch.  No
 * PostgreSQL dependencies.
 */
#ifndef MRL_HALF_H
#define MRL_HALF_H

#include <stdint.h>

typedef struct MrlHalfKernels
{
	const char *isa;			/* "f16c" or "scalar" */
	/* n halves to floats (exact) */
	void		(*to_float) (const uint16_t *h, float *f, int n);
	/* n floats to halves, to nearest with ties to even; beyond 65504 by half an ulp or more: infinity */
	void		(*from_float) (const float *f, uint16_t *h, int n);
	/* distances of n elements, as distance.h's float kernels */
	float		(*l2sq) (const uint16_t *a, const uint16_t *b, int n);
	float		(*dot) (const uint16_t *a, const uint16_t *b, int n);
	float		(*l1) (const uint16_t *a, const uint16_t *b, int n);
	void		(*dot_norms) (const uint16_t *a, const uint16_t *b, int n,
							  float *dot, float *norma, float *normb);
} MrlHalfKernels;

/* The conversions in use, chosen by MrlHalfKernelsSelect(). */
extern MrlHalfKernels mrl_half_kernels;

/*
 * Follow the float kernels' choice (distance.h's isa name): the portable
 * kernels with "scalar", F16C otherwise when the CPU has it.
 */
extern void MrlHalfKernelsSelect(const char *isa);

/* The largest finite half; a float rounds to infinity from 65520 up. */
#define MRL_HALF_MAX 65504.0f
#define MRL_HALF_OVERFLOW 65520.0f

/* A half whose exponent bits are all set is infinite or NaN. */
#define MRL_HALF_IS_FINITE(h) (((h) & 0x7c00) != 0x7c00)

#endif							/* MRL_HALF_H */
