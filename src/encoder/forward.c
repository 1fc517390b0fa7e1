/*
 * forward.c: options, checks and output step shared by the forward passes
 * (see forward.h).
 */
#include "forward.h"

#include <math.h>
#include <string.h>

#include "errors.h"
#include "vecmath.h"

#define MAX_THREADS			256
#define POOL_LN_EPS			1e-5f	/* torch.nn.functional.layer_norm default */

void
mrl_embed_options_init(mrl_embed_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->normalize = -1;
	opts->dims_mode = MRL_DIMS_TRUNCATE;
	opts->exact_batch = 1;
}

int
mrl_forward_out_dim(const mrl_embed_options *opts, int n_embd)
{
	if (opts->dims < 0 || opts->dims > n_embd)
		return -1;
	return opts->dims ? opts->dims : n_embd;
}

int
mrl_forward_options(const mrl_embed_options *opts, int n_embd,
					mrl_embed_options *o, char *err, size_t errlen)
{
	if (opts)
		*o = *opts;
	else
		mrl_embed_options_init(o);
	if (mrl_forward_out_dim(o, n_embd) < 0)
		return MRL_FAIL(MRL_FWD_EINVAL, "dims must be between 1 and %d", n_embd);
	if (o->dims_mode != MRL_DIMS_TRUNCATE && o->dims_mode != MRL_DIMS_LAYERNORM)
		return MRL_FAIL(MRL_FWD_EINVAL, "bad dims mode %d", (int) o->dims_mode);
	if (o->normalize < -1 || o->normalize > 1)
		return MRL_FAIL(MRL_FWD_EINVAL, "bad normalize flag %d", o->normalize);
	if (o->pooling != 0 && o->pooling != MRL_POOL_MEAN && o->pooling != MRL_POOL_CLS)
		return MRL_FAIL(MRL_FWD_EINVAL, "bad pooling %d", o->pooling);
	if (o->batch_size < 0 || o->threads < 0 || o->threads > MAX_THREADS)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"batch size must be >= 0 and threads between 0 and %d", MAX_THREADS);
	return MRL_FWD_OK;
}

int
mrl_forward_check_ids(const int32_t *const *ids, const int *lens, int n_seq,
					  int min_len, int max_len, int n_vocab,
					  char *err, size_t errlen)
{
	for (int s = 0; s < n_seq; s++)
	{
		if (lens[s] < min_len || lens[s] > max_len)
			return MRL_FAIL(MRL_FWD_EINVAL,
							"sequence %d has %d tokens; the model takes %d to %d",
							s, lens[s], min_len, max_len);
		if (!ids[s] && lens[s] > 0)
			return MRL_FAIL(MRL_FWD_EINVAL, "sequence %d has no tokens", s);
		for (int p = 0; p < lens[s]; p++)
			if (ids[s][p] < 0 || ids[s][p] >= n_vocab)
				return MRL_FAIL(MRL_FWD_EINVAL,
								"sequence %d: token id %d out of range (vocabulary has %d)",
								s, (int) ids[s][p], n_vocab);
	}
	return MRL_FWD_OK;
}

/* Scales v[0..n) to unit L2 norm (a zero vector stays zero). */
static void
l2_normalize(float *v, int n)
{
	double		ss = 0.0;

	for (int j = 0; j < n; j++)
		ss += (double) v[j] * v[j];
	if (ss > 0.0)
	{
		float		inv = (float) (1.0 / sqrt(ss));

		for (int j = 0; j < n; j++)
			v[j] *= inv;
	}
}

void
mrl_forward_finish(const mrl_embed_options *o, int model_normalize,
				   float *v, int n_embd, int out_dim, float *out)
{
	int			normalize = o->normalize >= 0 ? o->normalize : model_normalize;

	if (o->dims_mode == MRL_DIMS_LAYERNORM)
	{
		mrl_vec_layernorm(v, n_embd, NULL, NULL, POOL_LN_EPS);
		l2_normalize(v, out_dim);
	}
	else if (normalize)
		l2_normalize(v, out_dim);
	memcpy(out, v, out_dim * sizeof(float));
}
