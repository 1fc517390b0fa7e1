/*
 * vecmath.h: vectorised elementwise kernels of the forward pass (internal
 * to the encoder library).
 */
#ifndef MRL_VECMATH_H
#define MRL_VECMATH_H

#include <stddef.h>

/* y[t][j] = GELU(y[t][j] + bias[j]) (exact erf form); bias may be NULL. */
extern void mrl_vec_bias_gelu(float *y, size_t n_rows, int n, const float *bias);

/* up[i] = silu(gate[i]) * up[i] over n values. */
extern void mrl_vec_swiglu(float *up, const float *gate, size_t n);

/* In-place softmax of each of n_rows rows of n values. */
extern void mrl_vec_softmax_rows(float *s, int n_rows, int n);

/* In-place LayerNorm of x[0..n) (biased variance); w, b may be NULL. */
extern void mrl_vec_layernorm(float *x, int n, const float *w, const float *b,
							  float eps);

/* x = LayerNorm(x + y + bias) over n values; bias, w, b may be NULL. */
extern void mrl_vec_add_layernorm(float *x, const float *y, const float *bias,
								  int n, const float *w, const float *b,
								  float eps);

#endif							/* MRL_VECMATH_H */
