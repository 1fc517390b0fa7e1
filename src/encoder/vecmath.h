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

#endif							/* MRL_VECMATH_H */
