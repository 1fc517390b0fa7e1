/*
 * bert.c: the transformer encoder forward pass (BERT and nomic-bert).
 *
 * A batch of token sequences is packed into one [T][n_embd] activation
 * matrix (no attention mask; at most a few padding rows, see ROW_ALIGN), so
 * every projection is one cblas_sgemm over all T rows of the batch; only
 * attention works per sequence, which is what keeps a sequence from seeing
 * its neighbours.  The computation is
 * that of Hugging Face's BertModel and NomicBertModel (post-LayerNorm
 * blocks; nomic: fused QKV, NEOX rotary embeddings, SwiGLU), which is also
 * what llama.cpp's bert/nomic-bert graphs compute, except that GELU here is
 * the exact erf form as in Hugging Face.
 */
#include "bert.h"
#include "blas.h"
#include "errors.h"
#include "vecmath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BATCH_TOKENS	4096	/* rows per batch: caps work memory
										 * (BERT-base: ~90 MB) */
#define FFN_ROWS			1008	/* FFN rows per chunk (a multiple of
										 * ROW_ALIGN): bounds the n_ff-wide
										 * buffers, yet amortises OpenBLAS's
										 * packing of the weights per call */

/*
 * GEMMs run on row counts rounded up to ROW_ALIGN and, with the exact_batch
 * option, every sequence starts on a multiple of ROW_ALIGN rows (padding
 * rows in between).  OpenBLAS's Haswell/Zen sgemm kernel rounds a row
 * differently depending on its position in a group of 12 rows and in the
 * leftover rows, so otherwise a sequence's vector depends (by ~1e-6) on
 * where it sat in the batch; aligned, batched and one-by-one results are
 * bit-identical.
 */
#define ROW_ALIGN			12
_Static_assert(FFN_ROWS % ROW_ALIGN == 0, "FFN chunks must keep rows aligned");

struct mrl_bert_ctx
{
	mrl_bert_config cfg;		/* copy of the caller's config */
	const mrl_bert_weights *w;	/* caller's weights, read only */
	int			head_dim;
	int			seq_align;		/* this call: rows a sequence is padded to */

	/* work buffers, grown on demand and reused between calls */
	size_t		cap_tokens;		/* rows the per-token buffers hold */
	int			cap_len;		/* longest sequence the buffers allow */
	float	   *x;				/* [T][d] hidden state (T counts padding rows) */
	float	   *qkv;			/* [T][3d] queries, keys, values */
	float	   *attn;			/* [T][d] attention output, heads side by side */
	float	   *proj;			/* [T][d] output of a projection back to d */
	float	   *up;				/* [FFN_ROWS][n_ff] FFN up (and activation) */
	float	   *gate;			/* [FFN_ROWS][n_ff] nomic FFN gate */
	float	   *scores;			/* [len][len] one head's attention matrix */
	float	   *rope_cos;		/* [len][head_dim/2] nomic rotary tables */
	float	   *rope_sin;
	float	   *pooled;			/* [d], allocated with the context */
};

/* ---------------------------------------------------------------------
 * Context: config and weight checks, work buffers
 * --------------------------------------------------------------------- */

/* Rejects configs the forward pass cannot run, with a reason. */
static int
check_config(const mrl_bert_config *c, char *err, size_t errlen)
{
	if (c->arch != MRL_ARCH_BERT && c->arch != MRL_ARCH_NOMIC_BERT)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"forward pass: unsupported architecture %d", (int) c->arch);
	if (c->n_layer < 1 || c->n_layer > 1024 ||
		c->n_embd < 1 || c->n_embd > 65536 ||
		c->n_head < 1 || c->n_embd % c->n_head != 0 ||
		c->n_ff < 1 || c->n_ff > (1 << 20) ||
		c->n_vocab < 1 || c->n_ctx < 1 || c->n_ctx > (1 << 20) ||
		c->n_token_types < 0)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"forward pass: bad dimensions (layers %d, embd %d, heads %d, ff %d, vocab %d, ctx %d)",
						c->n_layer, c->n_embd, c->n_head, c->n_ff, c->n_vocab, c->n_ctx);
	if (!(c->norm_eps >= 0.0f && c->norm_eps < 1.0f))
		return MRL_FAIL(MRL_FWD_EINVAL,
						"forward pass: bad LayerNorm epsilon %g", (double) c->norm_eps);
	if (c->pooling != MRL_POOL_MEAN && c->pooling != MRL_POOL_CLS)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"forward pass: unsupported pooling %d", (int) c->pooling);
	if (c->arch == MRL_ARCH_NOMIC_BERT &&
		((c->n_embd / c->n_head) % 2 != 0 || !(c->rope_theta > 0.0f) ||
		 isinf(c->rope_theta)))
		return MRL_FAIL(MRL_FWD_EINVAL,
						"forward pass: rotary embeddings need an even head size and a positive theta");
	return MRL_FWD_OK;
}

/* Checks that every tensor the architecture reads is present. */
static int
check_weights(const mrl_bert_config *c, const mrl_bert_weights *w,
			  char *err, size_t errlen)
{
	int			i;

	if (!w->tok_embd || !w->embd_norm_w || !w->layers)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"forward pass: missing token embeddings or embedding norm");
	if (c->arch == MRL_ARCH_BERT && !w->pos_embd)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"forward pass: bert needs position embeddings");
	if (w->type_embd && c->n_token_types < 1)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"forward pass: token type embeddings but n_token_types is 0");
	for (i = 0; i < c->n_layer; i++)
	{
		const mrl_bert_layer *l = &w->layers[i];

		if (!(l->wqkv || (l->wq && l->wk && l->wv)) || !l->wo ||
			!l->attn_norm_w || !l->ffn_up_w || !l->ffn_down_w ||
			!l->ffn_norm_w ||
			(c->arch == MRL_ARCH_NOMIC_BERT && !l->ffn_gate_w))
			return MRL_FAIL(MRL_FWD_EINVAL,
							"forward pass: layer %d is missing a weight tensor", i);
	}
	return MRL_FWD_OK;
}

/* malloc of n floats, NULL on overflow. */
static float *
alloc_floats(size_t n)
{
	if (n == 0 || n > SIZE_MAX / sizeof(float))
		return NULL;
	return malloc(n * sizeof(float));
}

mrl_bert_ctx *
mrl_bert_ctx_create(const mrl_bert_config *cfg, const mrl_bert_weights *w,
					char *err, size_t errlen)
{
	mrl_bert_ctx *ctx;

	if (!cfg || !w)
	{
		mrl_errf(err, errlen, "forward pass: no model");
		return NULL;
	}
	if (check_config(cfg, err, errlen) != MRL_FWD_OK ||
		check_weights(cfg, w, err, errlen) != MRL_FWD_OK)
		return NULL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
	{
		mrl_errf(err, errlen, "forward pass: out of memory");
		return NULL;
	}
	ctx->cfg = *cfg;
	ctx->w = w;
	ctx->head_dim = cfg->n_head > 0 ? cfg->n_embd / cfg->n_head : 0;
	if (!(ctx->pooled = alloc_floats(cfg->n_embd)))
	{
		free(ctx);
		mrl_errf(err, errlen, "forward pass: out of memory");
		return NULL;
	}
	return ctx;
}

/* Frees the work buffers (the context stays usable). */
static void
free_buffers(mrl_bert_ctx *ctx)
{
	free(ctx->x);
	free(ctx->qkv);
	free(ctx->attn);
	free(ctx->proj);
	free(ctx->up);
	free(ctx->gate);
	free(ctx->scores);
	free(ctx->rope_cos);
	free(ctx->rope_sin);
	ctx->x = ctx->qkv = ctx->attn = ctx->proj = ctx->up = ctx->gate = NULL;
	ctx->scores = ctx->rope_cos = ctx->rope_sin = NULL;
	ctx->cap_tokens = 0;
	ctx->cap_len = 0;
}

void
mrl_bert_ctx_free(mrl_bert_ctx *ctx)
{
	if (!ctx)
		return;
	free_buffers(ctx);
	free(ctx->pooled);
	free(ctx);
}

/* Fills the rotary cos/sin tables: angle p * theta^(-2i/head_dim). */
static void
fill_rope_tables(mrl_bert_ctx *ctx, int len)
{
	int			half = ctx->head_dim / 2;
	int			p,
				i;

	for (i = 0; i < half; i++)
	{
		double		inv_freq = pow((double) ctx->cfg.rope_theta,
								   -2.0 * i / (double) ctx->head_dim);

		for (p = 0; p < len; p++)
		{
			ctx->rope_cos[(size_t) p * half + i] = (float) cos(p * inv_freq);
			ctx->rope_sin[(size_t) p * half + i] = (float) sin(p * inv_freq);
		}
	}
}

/* Makes the work buffers hold n_tokens rows and sequences up to max_len. */
static int
reserve_buffers(mrl_bert_ctx *ctx, size_t n_tokens, int max_len)
{
	size_t		d = ctx->cfg.n_embd;
	size_t		ff = ctx->cfg.n_ff;
	int			nomic = ctx->cfg.arch == MRL_ARCH_NOMIC_BERT;

	if (n_tokens <= ctx->cap_tokens && max_len <= ctx->cap_len)
		return MRL_FWD_OK;
	if (n_tokens < ctx->cap_tokens)
		n_tokens = ctx->cap_tokens;
	if (max_len < ctx->cap_len)
		max_len = ctx->cap_len;
	free_buffers(ctx);
	if (n_tokens > SIZE_MAX / 4 / (ff > 3 * d ? ff : 3 * d))
		return MRL_FWD_ENOMEM;
	ctx->x = alloc_floats(n_tokens * d);
	ctx->qkv = alloc_floats(n_tokens * 3 * d);
	ctx->attn = alloc_floats(n_tokens * d);
	ctx->proj = alloc_floats(n_tokens * d);
	ctx->up = alloc_floats(FFN_ROWS * ff);
	ctx->gate = nomic ? alloc_floats(FFN_ROWS * ff) : NULL;
	ctx->scores = alloc_floats((size_t) max_len * max_len);
	ctx->rope_cos = nomic ? alloc_floats((size_t) max_len * ctx->head_dim / 2) : NULL;
	ctx->rope_sin = nomic ? alloc_floats((size_t) max_len * ctx->head_dim / 2) : NULL;
	if (!ctx->x || !ctx->qkv || !ctx->attn || !ctx->proj || !ctx->up ||
		!ctx->scores ||
		(nomic && (!ctx->gate || !ctx->rope_cos || !ctx->rope_sin)))
	{
		free_buffers(ctx);
		return MRL_FWD_ENOMEM;
	}
	ctx->cap_tokens = n_tokens;
	ctx->cap_len = max_len;
	if (nomic)
		fill_rope_tables(ctx, max_len);
	return MRL_FWD_OK;
}

/* ---------------------------------------------------------------------
 * Linear algebra helpers (the vectorised elementwise kernels are in vecmath.c)
 * --------------------------------------------------------------------- */

/* Rows a sequence of len tokens occupies in the packed batch. */
static inline size_t
seq_rows(const mrl_bert_ctx *ctx, int len)
{
	return ((size_t) len + ctx->seq_align - 1) / ctx->seq_align * ctx->seq_align;
}

/* y[t][0..n) = x[t] . W^T for all t: one GEMM, W is [n][k] (nn.Linear). */
static void
linear(const float *x, int n_tok, int k, const float *w, int n,
	   float *y, int ldy)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n_tok, n, k,
				1.0f, x, k, w, k, 0.0f, y, ldy);
}

/* Adds bias b[n] to each of n_tok rows of y (row stride ldy); b may be NULL. */
static void
add_bias(float *y, int n_tok, int n, int ldy, const float *b)
{
	int			t,
				j;

	if (!b)
		return;
	for (t = 0; t < n_tok; t++)
	{
		float	   *row = y + (size_t) t * ldy;

		for (j = 0; j < n; j++)
			row[j] += b[j];
	}
}

/* x = LayerNorm(x + y + bias) row by row: the post-LN residual step. */
static void
residual_layernorm(float *x, const float *y, const float *bias, int n_tok,
				   int d, const float *w, const float *b, float eps)
{
	int			t;

	for (t = 0; t < n_tok; t++)
		mrl_vec_add_layernorm(x + (size_t) t * d, y + (size_t) t * d, bias,
							  d, w, b, eps);
}

/* ---------------------------------------------------------------------
 * The encoder
 * --------------------------------------------------------------------- */

/*
 * x = LayerNorm(token + type-0 + position embeddings) for every packed token
 * (padding rows were zeroed by the caller).
 */
static void
embed_tokens(mrl_bert_ctx *ctx, const int32_t *const *ids, const int *lens,
			 int n_seq)
{
	const mrl_bert_weights *w = ctx->w;
	int			d = ctx->cfg.n_embd;
	float	   *x = ctx->x;
	int			s,
				p,
				j;

	for (s = 0; s < n_seq; x += (seq_rows(ctx, lens[s]) - lens[s]) * d, s++)
	{
		for (p = 0; p < lens[s]; p++, x += d)
		{
			const float *tok = w->tok_embd + (size_t) ids[s][p] * d;

			memcpy(x, tok, d * sizeof(float));
			if (w->type_embd)
				for (j = 0; j < d; j++)
					x[j] += w->type_embd[j];
			if (ctx->cfg.arch == MRL_ARCH_BERT)
				for (j = 0; j < d; j++)
					x[j] += w->pos_embd[(size_t) p * d + j];
			mrl_vec_layernorm(x, d, w->embd_norm_w, w->embd_norm_b,
						  ctx->cfg.norm_eps);
		}
	}
}

/* qkv[t] = [x Wq + bq, x Wk + bk, x Wv + bv], fused or as three GEMMs. */
static void
project_qkv(mrl_bert_ctx *ctx, const mrl_bert_layer *l, int n_tok)
{
	int			d = ctx->cfg.n_embd;

	if (l->wqkv)
	{
		linear(ctx->x, n_tok, d, l->wqkv, 3 * d, ctx->qkv, 3 * d);
		add_bias(ctx->qkv, n_tok, 3 * d, 3 * d, l->bqkv);
		return;
	}
	linear(ctx->x, n_tok, d, l->wq, d, ctx->qkv, 3 * d);
	linear(ctx->x, n_tok, d, l->wk, d, ctx->qkv + d, 3 * d);
	linear(ctx->x, n_tok, d, l->wv, d, ctx->qkv + 2 * d, 3 * d);
	add_bias(ctx->qkv, n_tok, d, 3 * d, l->bq);
	add_bias(ctx->qkv + d, n_tok, d, 3 * d, l->bk);
	add_bias(ctx->qkv + 2 * d, n_tok, d, 3 * d, l->bv);
}

/* NEOX rotary embedding of Q and K: rotates pairs (i, i + head_dim/2). */
static void
apply_rope(mrl_bert_ctx *ctx, const int *lens, int n_seq)
{
	int			d = ctx->cfg.n_embd;
	int			hd = ctx->head_dim;
	int			half = hd / 2;
	float	   *row = ctx->qkv;
	int			s,
				p,
				h,
				i;

	for (s = 0; s < n_seq; row += (seq_rows(ctx, lens[s]) - lens[s]) * 3 * d, s++)
	{
		for (p = 0; p < lens[s]; p++, row += 3 * d)
		{
			const float *c = ctx->rope_cos + (size_t) p * half;
			const float *sn = ctx->rope_sin + (size_t) p * half;

			/* Q and K heads are adjacent: 2 * n_head vectors of hd */
			for (h = 0; h < 2 * ctx->cfg.n_head; h++)
			{
				float	   *v = row + (size_t) h * hd;

				for (i = 0; i < half; i++)
				{
					float		a = v[i],
								b = v[i + half];

					v[i] = a * c[i] - b * sn[i];
					v[i + half] = a * sn[i] + b * c[i];
				}
			}
		}
	}
}

/* attn = softmax(Q K^T / sqrt(hd)) V per sequence and head. */
static void
self_attention(mrl_bert_ctx *ctx, const int *lens, int n_seq)
{
	int			d = ctx->cfg.n_embd;
	int			hd = ctx->head_dim;
	float		scale = 1.0f / sqrtf((float) hd);
	size_t		off = 0;
	int			s,
				h;

	for (s = 0; s < n_seq; off += seq_rows(ctx, lens[s]), s++)
	{
		int			n = lens[s];

		for (h = 0; h < ctx->cfg.n_head; h++)
		{
			const float *q = ctx->qkv + off * 3 * d + (size_t) h * hd;
			const float *k = q + d;
			const float *v = q + 2 * d;

			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, hd,
						scale, q, 3 * d, k, 3 * d, 0.0f, ctx->scores, n);
			mrl_vec_softmax_rows(ctx->scores, n, n);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, hd, n,
						1.0f, ctx->scores, n, v, 3 * d, 0.0f,
						ctx->attn + off * d + (size_t) h * hd, d);
		}
	}
}

/*
 * proj = FFN(x) for all rows, FFN_ROWS at a time: bert up + GELU + down,
 * nomic down(silu(gate x) * up x).
 */
static void
feed_forward(mrl_bert_ctx *ctx, const mrl_bert_layer *l, int n_tok)
{
	int			d = ctx->cfg.n_embd;
	int			ff = ctx->cfg.n_ff;
	int			r0;

	for (r0 = 0; r0 < n_tok; r0 += FFN_ROWS)
	{
		int			rows = n_tok - r0 < FFN_ROWS ? n_tok - r0 : FFN_ROWS;
		const float *x = ctx->x + (size_t) r0 * d;

		linear(x, rows, d, l->ffn_up_w, ff, ctx->up, ff);
		if (ctx->cfg.arch == MRL_ARCH_NOMIC_BERT)
		{
			add_bias(ctx->up, rows, ff, ff, l->ffn_up_b);
			linear(x, rows, d, l->ffn_gate_w, ff, ctx->gate, ff);
			mrl_vec_swiglu(ctx->up, ctx->gate, (size_t) rows * ff);
		}
		else
			mrl_vec_bias_gelu(ctx->up, rows, ff, l->ffn_up_b);
		linear(ctx->up, rows, ff, l->ffn_down_w, d, ctx->proj + (size_t) r0 * d, d);
	}
}

/*
 * One post-LN encoder layer over the n_rows rows of the packed batch.
 * Padding rows go through the row-wise steps too (harmlessly: no step mixes
 * rows except attention, which reads only each sequence's own rows).
 */
static void
encoder_layer(mrl_bert_ctx *ctx, const mrl_bert_layer *l, const int *lens,
			  int n_seq, int n_rows)
{
	int			d = ctx->cfg.n_embd;
	float		eps = ctx->cfg.norm_eps;

	project_qkv(ctx, l, n_rows);
	if (ctx->cfg.arch == MRL_ARCH_NOMIC_BERT)
		apply_rope(ctx, lens, n_seq);
	self_attention(ctx, lens, n_seq);
	linear(ctx->attn, n_rows, d, l->wo, d, ctx->proj, d);
	residual_layernorm(ctx->x, ctx->proj, l->bo, n_rows, d,
					   l->attn_norm_w, l->attn_norm_b, eps);
	feed_forward(ctx, l, n_rows);
	residual_layernorm(ctx->x, ctx->proj, l->ffn_down_b, n_rows, d,
					   l->ffn_norm_w, l->ffn_norm_b, eps);
}

/* Pools each sequence's rows of x and writes the final vectors to out. */
static void
pool_outputs(mrl_bert_ctx *ctx, const int *lens, int n_seq,
			 const mrl_embed_options *o, int out_dim, float *out)
{
	int			d = ctx->cfg.n_embd;
	int			pooling = o->pooling ? o->pooling : (int) ctx->cfg.pooling;
	const float *x = ctx->x;
	float	   *v = ctx->pooled;
	int			s,
				p,
				j;

	for (s = 0; s < n_seq; x += seq_rows(ctx, lens[s]) * d, s++)
	{
		if (pooling == MRL_POOL_CLS)
			memcpy(v, x, d * sizeof(float));
		else
		{
			memset(v, 0, d * sizeof(float));
			for (p = 0; p < lens[s]; p++)
				for (j = 0; j < d; j++)
					v[j] += x[(size_t) p * d + j];
			for (j = 0; j < d; j++)
				v[j] /= lens[s];
		}
		mrl_forward_finish(o, ctx->cfg.normalize, v, d, out_dim,
						   out + (size_t) s * out_dim);
	}
}

/*
 * Runs the embeddings, n_layers layers and pooling for one packed batch of
 * n_rows rows (sequences padded by seq_rows(), total a multiple of
 * ROW_ALIGN).
 */
static int
embed_batch(mrl_bert_ctx *ctx, const int32_t *const *ids, const int *lens,
			int n_seq, int n_rows, int max_len, int n_layers,
			const mrl_embed_options *o, int out_dim, float *out)
{
	size_t		d = ctx->cfg.n_embd;
	int			i;

	if (reserve_buffers(ctx, n_rows, max_len) != MRL_FWD_OK)
		return MRL_FWD_ENOMEM;
	memset(ctx->x, 0, n_rows * d * sizeof(float));
	memset(ctx->attn, 0, n_rows * d * sizeof(float));
	embed_tokens(ctx, ids, lens, n_seq);
	for (i = 0; i < n_layers; i++)
	{
		if (o->interrupt && o->interrupt(o->interrupt_arg))
			return MRL_FWD_EINTERRUPTED;
		encoder_layer(ctx, &ctx->w->layers[i], lens, n_seq, n_rows);
	}
	pool_outputs(ctx, lens, n_seq, o, out_dim, out);
	return MRL_FWD_OK;
}

int
mrl_bert_embed(mrl_bert_ctx *ctx, const int32_t *const *ids, const int *lens,
			   int n_seq, const mrl_embed_options *opts, float *out,
			   char *err, size_t errlen)
{
	mrl_embed_options o;
	int			batch_size,
				n_layers,
				out_dim,
				s0,
				rc;

	if (!ctx || n_seq < 0 || (n_seq > 0 && (!ids || !lens || !out)))
		return MRL_FAIL(MRL_FWD_EINVAL, "forward pass: bad arguments");
	if ((rc = mrl_forward_options(opts, ctx->cfg.n_embd, &o, err, errlen)) != MRL_FWD_OK)
		return rc;
	if (o.layers < 0 || o.layers > ctx->cfg.n_layer)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"layers must be between 1 and %d", ctx->cfg.n_layer);
	if ((rc = mrl_forward_check_ids(ids, lens, n_seq, 1, ctx->cfg.n_ctx,
									ctx->cfg.n_vocab, err, errlen)) != MRL_FWD_OK)
		return rc;
	batch_size = o.batch_size ? o.batch_size : MRL_FWD_DEFAULT_BATCH;
	n_layers = o.layers ? o.layers : ctx->cfg.n_layer;
	out_dim = mrl_forward_out_dim(&o, ctx->cfg.n_embd);
	openblas_set_num_threads(o.threads ? o.threads : 1);
	ctx->seq_align = o.exact_batch ? ROW_ALIGN : 1;

	for (s0 = 0; s0 < n_seq;)
	{
		int64_t		n_rows = 0;
		int			n = 0,
					max_len = 0;

		if (o.interrupt && o.interrupt(o.interrupt_arg))
			return MRL_FAIL(MRL_FWD_EINTERRUPTED, "interrupted");
		/* take sequences while the batch has room (always at least one) */
		while (s0 + n < n_seq && n < batch_size &&
			   (n == 0 || n_rows + (int64_t) seq_rows(ctx, lens[s0 + n]) <= MAX_BATCH_TOKENS))
		{
			n_rows += seq_rows(ctx, lens[s0 + n]);
			if (lens[s0 + n] > max_len)
				max_len = lens[s0 + n];
			n++;
		}
		n_rows = (n_rows + ROW_ALIGN - 1) / ROW_ALIGN * ROW_ALIGN;
		rc = embed_batch(ctx, ids + s0, lens + s0, n, (int) n_rows, max_len,
						 n_layers, &o, out_dim, out + (size_t) s0 * out_dim);
		if (rc == MRL_FWD_ENOMEM)
			return MRL_FAIL(rc, "forward pass: out of memory for %d rows",
							(int) n_rows);
		if (rc == MRL_FWD_EINTERRUPTED)
			return MRL_FAIL(rc, "interrupted");
		s0 += n;
	}
	return MRL_FWD_OK;
}
