/*
 * forward.h: what the forward passes of every architecture share (the
 * transformer, bert.c, and static models, static_model.c): the embedding
 * options, error codes and interrupt hook, the checks of options and token
 * ids, and the last step from a pooled vector to the output (Matryoshka
 * truncation, nomic's layer norm, L2 normalisation).  No PostgreSQL headers.
 */
#ifndef MRL_FORWARD_H
#define MRL_FORWARD_H

#include <stddef.h>
#include <stdint.h>

/* Error codes returned by the forward passes (0 = success). */
#define MRL_FWD_OK				0
#define MRL_FWD_EINVAL			(-1)	/* bad argument, config or token id */
#define MRL_FWD_ENOMEM			(-2)	/* out of memory */
#define MRL_FWD_EINTERRUPTED	(-3)	/* the interrupt hook asked to stop */

/* Sequences per batch when the options leave batch_size at 0. */
#define MRL_FWD_DEFAULT_BATCH	32

typedef enum mrl_pooling
{
	MRL_POOL_MEAN = 1,
	MRL_POOL_CLS = 2
} mrl_pooling;

/* How a dims-truncated vector is made (ignored when dims is 0 or n_embd). */
typedef enum mrl_dims_mode
{
	MRL_DIMS_TRUNCATE = 0,		/* slice the pooled vector, then L2 if asked */
	MRL_DIMS_LAYERNORM = 1		/* nomic: LayerNorm (no affine), slice, L2 */
} mrl_dims_mode;

/*
 * Called before every batch of sequences and between layers; nonzero aborts
 * the call cleanly.
 */
typedef int (*mrl_interrupt_fn) (void *arg);

typedef struct mrl_embed_options
{
	int			layers;			/* run only the first n layers; 0 = all */
	int			dims;			/* output width; 0 = n_embd */
	mrl_dims_mode dims_mode;
	int			normalize;		/* -1 = model default, 0 = off, 1 = L2 */
	int			pooling;		/* 0 = model default, else mrl_pooling */
	int			batch_size;		/* sequences per internal batch; 0 = 32 (a
								 * batch also stops at 4096 rows) */
	int			threads;		/* OpenBLAS threads; 0 = 1 */
	int			exact_batch;	/* 1 (default): start every sequence on a
								 * 12-row boundary so batched vectors equal
								 * one-by-one ones bit for bit with
								 * OpenBLAS's Haswell/Zen kernels, which
								 * round by row position (other kernels:
								 * ~1e-6 apart); 0: pack tightly, faster
								 * for short inputs */
	mrl_interrupt_fn interrupt; /* may be NULL */
	void	   *interrupt_arg;
} mrl_embed_options;

/* Fills opts with the defaults (all layers, full width, model pooling). */
extern void mrl_embed_options_init(mrl_embed_options *opts);

/* Width of each output vector for these options on a model n_embd wide, or -1. */
extern int	mrl_forward_out_dim(const mrl_embed_options *opts, int n_embd);

/*
 * The options of one call on a model n_embd wide: *o receives opts, or the
 * defaults when opts is NULL, checked for what every architecture reads
 * (dims, dims mode, normalize, pooling, batch size, threads).  MRL_FWD_OK
 * or MRL_FWD_EINVAL with a message.
 */
extern int	mrl_forward_options(const mrl_embed_options *opts, int n_embd,
								mrl_embed_options *o, char *err, size_t errlen);

/*
 * Checks n_seq sequences (seq i is ids[i][0 .. lens[i]-1]): each length in
 * min_len..max_len, every id in [0, n_vocab).  MRL_FWD_OK or MRL_FWD_EINVAL
 * with a message naming the sequence.
 */
extern int	mrl_forward_check_ids(const int32_t *const *ids, const int *lens,
								  int n_seq, int min_len, int max_len, int n_vocab,
								  char *err, size_t errlen);

/*
 * Writes the final form of the pooled vector v[0..n_embd) (clobbered) to
 * out[0..out_dim): nomic's LayerNorm + truncate + L2, or truncate + L2
 * when normalising (opts->normalize, or model_normalize when it is -1).
 */
extern void mrl_forward_finish(const mrl_embed_options *opts, int model_normalize,
							   float *v, int n_embd, int out_dim, float *out);

#endif							/* MRL_FORWARD_H */
