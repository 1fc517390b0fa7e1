/*
 * bert.h: the transformer encoder's configuration and weights, as plain
 * float32 arrays (the interface between the model-file readers, which fill
 * these structs, and the forward pass, which only reads them).
 *
 * Every matrix is row-major with PyTorch's nn.Linear layout: weight[out][in].
 * (GGUF lists ne[0] as the fastest-varying axis, so a GGUF tensor with
 * ne = {in, out} is exactly this layout.)  No PostgreSQL headers here.
 */
#ifndef MRL_BERT_H
#define MRL_BERT_H

#include <stddef.h>
#include <stdint.h>

typedef enum mrl_arch
{
	MRL_ARCH_BERT = 1,			/* MiniLM, bge, e5, mxbai, arctic-embed ... */
	MRL_ARCH_NOMIC_BERT = 2,	/* fused QKV, NEOX rotary, SwiGLU */
	MRL_ARCH_STATIC = 3			/* mean of token-embedding rows */
} mrl_arch;

typedef enum mrl_pooling
{
	MRL_POOL_MEAN = 1,
	MRL_POOL_CLS = 2
} mrl_pooling;

typedef struct mrl_bert_config
{
	mrl_arch	arch;
	int			n_layer;
	int			n_embd;			/* hidden size */
	int			n_head;
	int			n_ff;			/* intermediate size */
	int			n_vocab;
	int			n_ctx;			/* max positions, counting [CLS]/[SEP] */
	int			n_token_types;	/* 0 when the model has no type embeddings */
	float		norm_eps;		/* LayerNorm epsilon */
	float		rope_theta;		/* nomic-bert only */
	mrl_pooling pooling;
	int			normalize;		/* L2-normalise the pooled vector */
} mrl_bert_config;

typedef struct mrl_bert_layer
{
	/* bert: separate projections, each [n_embd][n_embd] + [n_embd] */
	const float *wq, *bq, *wk, *bk, *wv, *bv;
	/* nomic-bert: fused [3*n_embd][n_embd], rows ordered Q then K then V; no bias */
	const float *wqkv, *bqkv;
	const float *wo, *bo;		/* attention output [n_embd][n_embd] */
	const float *attn_norm_w, *attn_norm_b; /* post-attention LayerNorm */
	/* bert: up [n_ff][n_embd] + GELU + down [n_embd][n_ff];
	 * nomic-bert: SwiGLU down(silu(gate x) * up x), gate/up [n_ff][n_embd] */
	const float *ffn_up_w, *ffn_up_b, *ffn_gate_w;
	const float *ffn_down_w, *ffn_down_b;
	const float *ffn_norm_w, *ffn_norm_b;	/* post-FFN LayerNorm */
} mrl_bert_layer;

typedef struct mrl_bert_weights
{
	const float *tok_embd;		/* [n_vocab][n_embd] */
	const float *pos_embd;		/* [n_ctx][n_embd]; NULL for rotary models */
	const float *type_embd;		/* [n_token_types][n_embd]; may be NULL */
	const float *embd_norm_w, *embd_norm_b; /* LayerNorm after the embeddings */
	mrl_bert_layer *layers;		/* [n_layer] */
} mrl_bert_weights;

/*
 * The forward pass (bert.c).  A context binds a config and its weights (both
 * owned by the caller and left untouched) and keeps the work buffers between
 * calls.  mrl_bert_embed() embeds a batch of token-id sequences: bert and
 * nomic-bert run the encoder; static models average their token rows (the
 * caller drops [CLS]/[SEP]/[UNK] first when the model wants that).
 */

/* Error codes returned by the forward pass (0 = success). */
#define MRL_FWD_OK				0
#define MRL_FWD_EINVAL			(-1)	/* bad argument, config or token id */
#define MRL_FWD_ENOMEM			(-2)	/* out of memory */
#define MRL_FWD_EINTERRUPTED	(-3)	/* the interrupt hook asked to stop */

/* How a dims-truncated vector is made (ignored when dims is 0 or n_embd). */
typedef enum mrl_dims_mode
{
	MRL_DIMS_TRUNCATE = 0,		/* slice the pooled vector, then L2 if asked */
	MRL_DIMS_LAYERNORM = 1		/* nomic: LayerNorm (no affine), slice, L2 */
} mrl_dims_mode;

/* Called between layers and batches; nonzero aborts the call cleanly. */
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

typedef struct mrl_bert_ctx mrl_bert_ctx;

/* Fills opts with the defaults (all layers, full width, model pooling). */
extern void mrl_embed_options_init(mrl_embed_options *opts);

/* Checks cfg/weights and makes a context; NULL with a message in err. */
extern mrl_bert_ctx *mrl_bert_ctx_create(const mrl_bert_config *cfg,
										 const mrl_bert_weights *w,
										 char *err, size_t errlen);
extern void mrl_bert_ctx_free(mrl_bert_ctx *ctx);

/* Width of each output vector for these options (or -1 if invalid). */
extern int	mrl_bert_out_dim(const mrl_bert_ctx *ctx, const mrl_embed_options *opts);

/*
 * Embeds n_seq sequences: seq i is ids[i][0 .. lens[i]-1], each length in
 * 1..n_ctx (static models: 0..n_ctx, no limit when n_ctx is 0; an empty
 * sequence gives a zero vector).  out receives n_seq rows of
 * mrl_bert_out_dim() floats.  Returns MRL_FWD_OK or an error code with a
 * message in err.  Not thread-safe per context (one context per thread).
 */
extern int	mrl_bert_embed(mrl_bert_ctx *ctx, const int32_t *const *ids,
						   const int *lens, int n_seq,
						   const mrl_embed_options *opts, float *out,
						   char *err, size_t errlen);

#endif							/* MRL_BERT_H */
