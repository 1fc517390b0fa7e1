/*
 * bert.h: the transformer encoder's configuration and weights, as plain
 * float32 arrays (the interface between the model-file readers, which fill
 * these structs, and the forward pass, which only reads them).  A static
 * model is described by the same structs: arch MRL_ARCH_STATIC, n_embd,
 * n_vocab, normalize and tok_embd.
 *
 * Every matrix is row-major with PyTorch's nn.Linear layout: weight[out][in].
 * (GGUF lists ne[0] as the fastest-varying axis, so a GGUF tensor with
 * ne = {in, out} is exactly this layout.)  No PostgreSQL headers here.
 */
#ifndef MRL_BERT_H
#define MRL_BERT_H

#include <stddef.h>
#include <stdint.h>

#include "forward.h"

typedef enum mrl_arch
{
	MRL_ARCH_BERT = 1,			/* MiniLM, bge, e5, mxbai, arctic-embed ... */
	MRL_ARCH_NOMIC_BERT = 2,	/* fused QKV, NEOX rotary, SwiGLU */
	MRL_ARCH_STATIC = 3			/* mean of token-embedding rows
								 * (static_model.h) */
} mrl_arch;

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
 * calls.  mrl_bert_embed() runs the transformer (bert and nomic-bert) on a
 * batch of token-id sequences; static models are not transformers and have
 * their own forward pass (static_model.h).  Options, error codes and the
 * output step are shared with it (forward.h).
 */

typedef struct mrl_bert_ctx mrl_bert_ctx;

/* Checks cfg/weights and makes a context; NULL with a message in err. */
extern mrl_bert_ctx *mrl_bert_ctx_create(const mrl_bert_config *cfg,
										 const mrl_bert_weights *w,
										 char *err, size_t errlen);
extern void mrl_bert_ctx_free(mrl_bert_ctx *ctx);

/*
 * Embeds n_seq sequences: seq i is ids[i][0 .. lens[i]-1], each length in
 * 1..n_ctx.  out receives n_seq rows of mrl_forward_out_dim() floats.
 * Returns MRL_FWD_OK or an error code with a message in err.  Not
 * thread-safe per context (one context per thread).
 */
extern int	mrl_bert_embed(mrl_bert_ctx *ctx, const int32_t *const *ids,
						   const int *lens, int n_seq,
						   const mrl_embed_options *opts, float *out,
						   char *err, size_t errlen);

#endif							/* MRL_BERT_H */
