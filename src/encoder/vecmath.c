/*
 * vecmath.c: the elementwise parts of the forward pass (GELU, SwiGLU,
 * softmax, LayerNorm) written as branch-free loops the compiler vectorises.
 *
 * libm's erff/expf are scalar calls and took about a tenth of the BERT
 * forward time, as much as everything else outside the GEMMs together.
 * Here exp is a Cody-Waite range reduction plus a degree-7 Taylor polynomial
 * (relative error < 1e-7 on the reduced range) and erfc is Abramowitz &
 * Stegun 7.1.26 (absolute error < 1.5e-7), both far below float32 noise.
 * The Makefile builds this file with -O3 -fno-trapping-math (needed for
 * the clamps to vectorise); target_clones adds AVX2 and AVX-512 versions
 * picked at load time, so the library still runs on any x86-64.
 */
#include "vecmath.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define MULTIVERSION __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define MULTIVERSION
#endif

/* exp(z) for any float z; arguments are clamped to [-87, 88]. */
static inline float
fast_exp(float z)
{
	const float round = 12582912.0f;	/* 1.5 * 2^23: rounds to an integer */
	float		n,
				r,
				p,
				scale;
	int32_t		bits;

	z = z < -87.0f ? -87.0f : z;
	z = z > 88.0f ? 88.0f : z;
	n = (z * 1.44269504088896341f + round) - round;	/* round(z / ln 2) */
	r = z - n * 0.693359375f;	/* ln 2 split in two for an exact product */
	r = r - n * -2.12194440e-4f;
	p = 1.0f / 5040 + r * (1.0f / 40320);
	p = 1.0f / 720 + r * p;
	p = 1.0f / 120 + r * p;
	p = 1.0f / 24 + r * p;
	p = 1.0f / 6 + r * p;
	p = 0.5f + r * p;
	p = 1.0f + r * p;
	p = 1.0f + r * p;
	bits = ((int32_t) n + 127) << 23;	/* 2^n */
	memcpy(&scale, &bits, sizeof(scale));
	return p * scale;
}

/* Exact-form GELU x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)). */
static inline float
gelu_erf(float x)
{
	float		a = fabsf(x) * (float) M_SQRT1_2;
	float		t = 1.0f / (1.0f + 0.3275911f * a);
	float		erfc_a;

	erfc_a = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f +
						t * (-1.453152027f + t * 1.061405429f))));
	erfc_a *= fast_exp(-a * a);
	/* erf(x / sqrt 2) = sign(x) (1 - erfc(|x| / sqrt 2)) */
	return 0.5f * x * (1.0f + copysignf(1.0f - erfc_a, x));
}

MULTIVERSION void
mrl_vec_bias_gelu(float *y, size_t n_rows, int n, const float *bias)
{
	size_t		t;
	int			j;

	for (t = 0; t < n_rows; t++)
	{
		float	   *row = y + t * n;

		if (bias)
			for (j = 0; j < n; j++)
				row[j] = gelu_erf(row[j] + bias[j]);
		else
			for (j = 0; j < n; j++)
				row[j] = gelu_erf(row[j]);
	}
}

MULTIVERSION void
mrl_vec_swiglu(float *up, const float *gate, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		up[i] *= gate[i] / (1.0f + fast_exp(-gate[i]));
}

MULTIVERSION void
mrl_vec_softmax_rows(float *s, int n_rows, int n)
{
	int			i,
				j;

	for (i = 0; i < n_rows; i++)
	{
		float	   *row = s + (size_t) i * n;
		float		mx = row[0],
					sum = 0.0f,
					inv;

		for (j = 1; j < n; j++)
			mx = row[j] > mx ? row[j] : mx;
		for (j = 0; j < n; j++)
			row[j] = fast_exp(row[j] - mx);
		for (j = 0; j < n; j++)
			sum += row[j];
		inv = 1.0f / sum;
		for (j = 0; j < n; j++)
			row[j] *= inv;
	}
}

#define LANES 16

/*
 * Sum of x[0..n) in LANES fixed partial sums: vectorises without letting the
 * compiler reassociate, so every ISA version gives the same result.
 */
static inline float
lane_sum(const float *x, int n)
{
	float		acc[LANES] = {0};
	float		sum = 0.0f;
	int			j,
				k;

	for (j = 0; j + LANES <= n; j += LANES)
		for (k = 0; k < LANES; k++)
			acc[k] += x[j + k];
	for (; j < n; j++)
		sum += x[j];
	for (k = 0; k < LANES; k++)
		sum += acc[k];
	return sum;
}

/* Sum of squares of x[0..n), in the same fixed lanes. */
static inline float
lane_sum_squares(const float *x, int n)
{
	float		acc[LANES] = {0};
	float		sum = 0.0f;
	int			j,
				k;

	for (j = 0; j + LANES <= n; j += LANES)
		for (k = 0; k < LANES; k++)
			acc[k] += x[j + k] * x[j + k];
	for (; j < n; j++)
		sum += x[j] * x[j];
	for (k = 0; k < LANES; k++)
		sum += acc[k];
	return sum;
}

MULTIVERSION void
mrl_vec_layernorm(float *x, int n, const float *w, const float *b, float eps)
{
	float		mean = lane_sum(x, n) / n;
	float		inv;
	int			j;

	for (j = 0; j < n; j++)
		x[j] -= mean;
	inv = 1.0f / sqrtf(lane_sum_squares(x, n) / n + eps);
	if (w && b)
		for (j = 0; j < n; j++)
			x[j] = x[j] * inv * w[j] + b[j];
	else if (w)
		for (j = 0; j < n; j++)
			x[j] = x[j] * inv * w[j];
	else
		for (j = 0; j < n; j++)
			x[j] *= inv;
}

MULTIVERSION void
mrl_vec_add_layernorm(float *x, const float *y, const float *bias, int n,
					  const float *w, const float *b, float eps)
{
	int			j;

	if (bias)
		for (j = 0; j < n; j++)
			x[j] += y[j] + bias[j];
	else
		for (j = 0; j < n; j++)
			x[j] += y[j];
	mrl_vec_layernorm(x, n, w, b, eps);
}
