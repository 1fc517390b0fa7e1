/*
 * train.c: MatryoshkaLoss(MultipleNegativesRankingLoss) training of static
 * embedding models (see train.h for the model and the loss).
 *
 * The nested loss costs about one full-width InfoNCE: the width is cut into
 * blocks at the Matryoshka sizes, one sgemm per block gives that block's
 * share of every anchor-candidate dot product, and running sums give the
 * dot products of every prefix.  Going backwards, the coordinates of block b
 * receive gradient from every prefix that contains them, so the per-prefix
 * coefficient matrices are summed from the widest prefix down and each
 * block again needs one sgemm per side.
 */
#include "train.h"

#include "blas.h"
#include "errors.h"
#include "rng.h"
#include "static_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NORM_EPS 1e-12f			/* as torch.nn.functional.normalize */
#define LOSS_WINDOW 50			/* steps averaged into last_loss */

void
mrl_static_init_random(float *E, int vocab, int dim, uint64_t seed)
{
	uint64_t	state = seed ^ 0x5EEDE5EEDULL;
	size_t		n = (size_t) vocab * dim;

	/* Box-Muller, two normals per pair of uniforms */
	for (size_t i = 0; i < n; i += 2)
	{
		double		r = sqrt(-2.0 * log(rng_uniform(&state)));
		double		a = 2.0 * M_PI * rng_uniform(&state);

		E[i] = (float) (r * cos(a));
		if (i + 1 < n)
			E[i + 1] = (float) (r * sin(a));
	}
}

void
mrl_train_params_init(mrl_train_params *p, int dim)
{
	memset(p, 0, sizeof(*p));
	p->dim = dim;
	p->n_dims = 1;
	p->dims[0] = dim;
	for (int i = 0; i < MRL_TRAIN_MAX_DIMS; i++)
		p->dim_weights[i] = 1.0f;
	p->scale = 20.0f;
	p->batch_size = 1024;
	p->epochs = 1;
	p->lr = 0.2f;
	p->warmup_ratio = 0.1f;
	p->beta1 = 0.9f;
	p->beta2 = 0.999f;
	p->adam_eps = 1e-8f;
	p->weight_decay = 0.0f;
	p->seed = 42;
}

int
mrl_train_check_params(const mrl_train_params *p, char *err, size_t errlen)
{
	const char *blas_error;

	if ((blas_error = mrl_blas_load()) != NULL)
		return MRL_FAIL(MRL_TRAIN_EINVAL, "%s", blas_error);
	if (p->dim < 1 || p->dim > 65536)
		return MRL_FAIL(MRL_TRAIN_EINVAL,
						"embedding width %d out of range 1..65536", p->dim);
	if (p->n_dims < 1 || p->n_dims > MRL_TRAIN_MAX_DIMS)
		return MRL_FAIL(MRL_TRAIN_EINVAL,
						"number of Matryoshka dims %d out of range 1..%d",
						p->n_dims, MRL_TRAIN_MAX_DIMS);
	for (int i = 0; i < p->n_dims; i++)
	{
		if (p->dims[i] < 1 || p->dims[i] > p->dim ||
			(i > 0 && p->dims[i] <= p->dims[i - 1]))
			return MRL_FAIL(MRL_TRAIN_EINVAL,
							"Matryoshka dims must be strictly ascending in 1..%d",
							p->dim);
		if (!(p->dim_weights[i] >= 0.0f) || !isfinite(p->dim_weights[i]))
			return MRL_FAIL(MRL_TRAIN_EINVAL,
							"Matryoshka weight %d is not a finite value >= 0", i);
	}
	if (!(p->scale > 0.0f) || !isfinite(p->scale))
		return MRL_FAIL(MRL_TRAIN_EINVAL, "scale must be > 0");
	if (p->batch_size < 2 || p->batch_size > (1 << 20))
		return MRL_FAIL(MRL_TRAIN_EINVAL,
						"batch size %d out of range 2..1048576", p->batch_size);
	if (p->epochs < 1 || p->epochs > 100000)
		return MRL_FAIL(MRL_TRAIN_EINVAL, "epochs must be >= 1");
	if (!(p->lr > 0.0f) || !isfinite(p->lr) ||
		!(p->warmup_ratio >= 0.0f && p->warmup_ratio < 1.0f) ||
		!(p->beta1 >= 0.0f && p->beta1 < 1.0f) ||
		!(p->beta2 >= 0.0f && p->beta2 < 1.0f) ||
		!(p->adam_eps > 0.0f) || !(p->weight_decay >= 0.0f))
		return MRL_FAIL(MRL_TRAIN_EINVAL,
						"optimizer settings out of range (lr > 0, 0 <= warmup, betas < 1, eps > 0, decay >= 0)");
	return MRL_TRAIN_OK;
}

/* Check offsets, token ids and pair indexes before touching memory. */
static int
check_data(const mrl_train_data *d, int vocab, char *err, size_t errlen)
{
	if (vocab < 1)
		return MRL_FAIL(MRL_TRAIN_EINVAL, "vocabulary is empty");
	if (d->n_texts < 1 || d->n_pairs < 2 || !d->text_off || !d->anchor ||
		!d->positive || (!d->ids && d->text_off[d->n_texts] > 0))
		return MRL_FAIL(MRL_TRAIN_EINVAL,
						"training data needs texts and at least 2 pairs");
	if (d->text_off[0] != 0)
		return MRL_FAIL(MRL_TRAIN_EINVAL, "text offsets must start at 0");
	for (int t = 0; t < d->n_texts; t++)
		if (d->text_off[t + 1] < d->text_off[t])
			return MRL_FAIL(MRL_TRAIN_EINVAL,
							"text offsets decrease at text %d", t);
	for (int64_t i = 0; i < d->text_off[d->n_texts]; i++)
		if (d->ids[i] < 0 || d->ids[i] >= vocab)
			return MRL_FAIL(MRL_TRAIN_EINVAL,
							"token id %d outside the vocabulary (size %d)",
							(int) d->ids[i], vocab);
	for (int i = 0; i < d->n_pairs; i++)
	{
		int			n = d->negative ? d->negative[i] : -1;

		if (d->anchor[i] < 0 || d->anchor[i] >= d->n_texts ||
			d->positive[i] < 0 || d->positive[i] >= d->n_texts ||
			n < -1 || n >= d->n_texts)
			return MRL_FAIL(MRL_TRAIN_EINVAL,
							"pair %d refers to a text outside 0..%d",
							i, d->n_texts - 1);
	}
	return MRL_TRAIN_OK;
}

/* Does pair i share a text with the batch stamped b? */
static int
pair_conflicts(const mrl_train_data *d, const int64_t *stamp, int i, int64_t b)
{
	int			n = d->negative ? d->negative[i] : -1;

	return stamp[d->anchor[i]] == b || stamp[d->positive[i]] == b ||
		(n >= 0 && stamp[n] == b);
}

/* Stamp pair i's texts as used by batch b. */
static void
pair_mark(const mrl_train_data *d, int64_t *stamp, int i, int64_t b)
{
	int			n = d->negative ? d->negative[i] : -1;

	stamp[d->anchor[i]] = b;
	stamp[d->positive[i]] = b;
	if (n >= 0)
		stamp[n] = b;
}

/*
 * Pack one epoch's shuffled pairs (remaining[0..nrem)) into batches; each
 * pass over the remaining pairs fills one batch and keeps the conflicting
 * pairs, in order, for the next one.
 */
static void
plan_epoch(const mrl_train_data *d, int bs, int32_t *remaining, int nrem,
		   int64_t *stamp, int64_t *batch_id, int32_t *order, int64_t *pos,
		   int64_t *bounds, long *nb)
{
	while (nrem > 0)
	{
		int64_t		b = (*batch_id)++;
		int			cnt = 0,
					kept = 0;

		for (int r = 0; r < nrem; r++)
		{
			int			i = remaining[r];

			if (cnt < bs && !pair_conflicts(d, stamp, i, b))
			{
				pair_mark(d, stamp, i, b);
				order[*pos + cnt++] = i;
			}
			else
				remaining[kept++] = i;
		}
		nrem = kept;
		if (cnt >= 2)
		{
			*pos += cnt;
			bounds[++(*nb)] = *pos;
		}
	}
}

int
mrl_train_plan(const mrl_train_data *d, int batch_size, int epochs,
			   uint64_t seed, int32_t **order_out, int64_t **bounds_out,
			   long *n_batches, char *err, size_t errlen)
{
	int			n = d->n_pairs;
	uint64_t	state = seed;
	int64_t		batch_id = 0,
				pos = 0;
	long		nb = 0;
	int32_t    *order,
			   *remaining;
	int64_t    *bounds,
			   *stamp;

	*order_out = NULL;
	*bounds_out = NULL;
	*n_batches = 0;
	if (n < 2 || batch_size < 2 || epochs < 1 ||
		(int64_t) epochs * n > INT64_MAX / 8)
		return MRL_FAIL(MRL_TRAIN_EINVAL,
						"cannot plan batches: need >= 2 pairs, batch size >= 2, epochs >= 1");
	order = malloc(sizeof(int32_t) * (size_t) epochs * n);
	bounds = malloc(sizeof(int64_t) * ((size_t) epochs * (n / 2 + 1) + 1));
	remaining = malloc(sizeof(int32_t) * n);
	stamp = malloc(sizeof(int64_t) * d->n_texts);
	if (!order || !bounds || !remaining || !stamp)
	{
		free(order);
		free(bounds);
		free(remaining);
		free(stamp);
		return MRL_FAIL(MRL_TRAIN_ENOMEM, "out of memory planning batches");
	}
	for (int t = 0; t < d->n_texts; t++)
		stamp[t] = -1;
	bounds[0] = 0;
	for (int e = 0; e < epochs; e++)
	{
		rng_permutation(&state, remaining, n);
		plan_epoch(d, batch_size, remaining, n, stamp, &batch_id, order, &pos,
				   bounds, &nb);
	}
	free(remaining);
	free(stamp);
	*order_out = order;
	*bounds_out = bounds;
	*n_batches = nb;
	return MRL_TRAIN_OK;
}

size_t
mrl_mnrl_work_floats(int B, int K, int n_dims)
{
	return (size_t) n_dims * ((size_t) B * K + 2 * (size_t) B + 2 * (size_t) K) + K;
}

/* Running squared norms of rows[.][start..end) added to prev (or 0). */
static void
prefix_sq_norms(const float *X, int rows, int D, int start, int end,
				const float *prev, float *out)
{
	for (int i = 0; i < rows; i++)
	{
		const float *x = X + (size_t) i * D;
		float		s = prev ? prev[i] : 0.0f;

		for (int k = start; k < end; k++)
			s += x[k] * x[k];
		out[i] = s;
	}
}

/*
 * Softmax cross-entropy of one prefix's logit rows.  On entry S holds the
 * prefix dot products and inu, inc the inverse prefix norms; on exit S
 * holds the coefficients A = dL/dcos / (|u| |c|), so the gradients are
 * A C - ru u for anchors and A^T U - rc c for candidates, where ru, rc
 * (written here) carry the normalisation's radial term.  ex is scratch for
 * K floats.  Returns the mean cross-entropy.
 */
static double
prefix_softmax(float *S, int B, int K, const float *inu, const float *inc,
			   float scale, float weight, float *ru, float *rc, float *ex)
{
	double		loss = 0.0;
	float		coef = weight * scale / B;

	memset(rc, 0, sizeof(float) * K);
	for (int i = 0; i < B; i++)
	{
		float	   *row = S + (size_t) i * K;
		float		mx = -INFINITY,
					su = scale * inu[i],
					cu = coef * inu[i],
					dot_ii = row[i],
					sum = 0.0f,
					r = 0.0f,
					inv_sum;

		/* logits, then exp(logit - max) once per entry */
		for (int j = 0; j < K; j++)
		{
			ex[j] = su * row[j] * inc[j];
			mx = ex[j] > mx ? ex[j] : mx;
		}
		for (int j = 0; j < K; j++)
		{
			ex[j] = expf(ex[j] - mx);
			sum += ex[j];
		}
		loss -= log(ex[i] / sum);
		inv_sum = 1.0f / sum;
		/* softmax term of every entry; the target's -1 is added below */
		for (int j = 0; j < K; j++)
		{
			float		a = cu * ex[j] * inv_sum * inc[j];

			r += a * row[j];
			rc[j] += a * row[j];
			row[j] = a;
		}
		row[i] -= cu * inc[i];
		r -= cu * inc[i] * dot_ii;
		rc[i] -= cu * inc[i] * dot_ii;
		ru[i] = r * inu[i] * inu[i];
	}
	for (int j = 0; j < K; j++)
		rc[j] *= inc[j] * inc[j];
	return loss / B;
}

/* Inverse square roots of squared norms, clamped like F.normalize. */
static void
inverse_norms(float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = 1.0f / fmaxf(sqrtf(x[i]), NORM_EPS);
}

/* Gradient of one block [start, end): dX = A Y - r x (A transposed if trans). */
static void
block_grad(int trans, int rows, int other, int D, int start, int end,
		   const float *A, int lda, const float *Y, const float *X,
		   const float *r, float *dX)
{
	cblas_sgemm(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, CblasNoTrans,
				rows, end - start, other, 1.0f, A, lda, Y + start, D,
				0.0f, dX + start, D);
	for (int i = 0; i < rows; i++)
		for (int k = start; k < end; k++)
			dX[(size_t) i * D + k] -= r[i] * X[(size_t) i * D + k];
}

int
mrl_matryoshka_mnrl(const float *U, int B, const float *C, int K,
					const mrl_train_params *p, double *loss,
					float *dU, float *dC, float *work)
{
	int			D = p->dim,
				nd = p->n_dims;
	size_t		BK = (size_t) B * K;
	/* nu, nc: squared prefix norms of anchors / candidates, then inverses */
	float	   *dots = work,
			   *nu = dots + nd * BK,
			   *nc = nu + (size_t) nd * B,
			   *ru = nc + (size_t) nd * K,
			   *rc = ru + (size_t) nd * B,
			   *ex = rc + (size_t) nd * K;
	double		total = 0.0;
	int			start = 0;

	if (B < 1 || K < B || mrl_train_check_params(p, NULL, 0) != MRL_TRAIN_OK)
		return MRL_TRAIN_EINVAL;

	/* forward: per-block Gram matrices, summed into prefix dot products */
	for (int t = 0; t < nd; t++)
	{
		float	   *G = dots + t * BK;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, K,
					p->dims[t] - start, 1.0f, U + start, D, C + start, D,
					0.0f, G, K);
		if (t > 0)
			for (size_t i = 0; i < BK; i++)
				G[i] += G[i - BK];
		prefix_sq_norms(U, B, D, start, p->dims[t],
						t > 0 ? nu + (t - 1) * B : NULL, nu + (size_t) t * B);
		prefix_sq_norms(C, K, D, start, p->dims[t],
						t > 0 ? nc + (t - 1) * K : NULL, nc + (size_t) t * K);
		start = p->dims[t];
	}
	inverse_norms(nu, (size_t) nd * (B + K));	/* nu and nc are adjacent */

	for (int t = 0; t < nd; t++)
		total += p->dim_weights[t] *
			prefix_softmax(dots + t * BK, B, K, nu + (size_t) t * B,
						   nc + (size_t) t * K, p->scale, p->dim_weights[t],
						   ru + (size_t) t * B, rc + (size_t) t * K, ex);
	*loss = total;
	if (!dU || !dC)
		return MRL_TRAIN_OK;

	/* backward, widest prefix first: block t gets the sum over prefixes >= t */
	memset(dU, 0, sizeof(float) * (size_t) B * D);
	memset(dC, 0, sizeof(float) * (size_t) K * D);
	for (int t = nd - 1; t >= 0; t--)
	{
		float	   *A = dots + t * BK,
				   *rut = ru + (size_t) t * B,
				   *rct = rc + (size_t) t * K;
		int			bstart = t > 0 ? p->dims[t - 1] : 0;

		if (t < nd - 1)
		{
			for (size_t i = 0; i < BK; i++)
				A[i] += A[i + BK];
			for (int i = 0; i < B; i++)
				rut[i] += rut[i + B];
			for (int j = 0; j < K; j++)
				rct[j] += rct[j + K];
		}
		block_grad(0, B, K, D, bstart, p->dims[t], A, K, C, U, rut, dU);
		block_grad(1, K, B, D, bstart, p->dims[t], A, K, U, C, rct, dC);
	}
	return MRL_TRAIN_OK;
}

/*
 * Per-batch buffers: pooled vectors and their gradients, the loss workspace,
 * and the sparse gradient of E (rows[] lists the touched rows, slot[] maps a
 * token id to its row in grad, -1 if untouched).
 */
typedef struct batch_ctx
{
	int			vocab,
				D,
				maxB,
				maxK;
	float	   *U,
			   *C,
			   *dU,
			   *dC,
			   *work;
	int32_t    *slot,
			   *rows;
	int			n_rows,
				cap_rows;
	float	   *grad;
} batch_ctx;

static void
batch_ctx_free(batch_ctx *c)
{
	free(c->U);
	free(c->C);
	free(c->dU);
	free(c->dC);
	free(c->work);
	free(c->slot);
	free(c->rows);
	free(c->grad);
}

/* Allocate buffers for batches of up to maxB pairs (2 maxB candidates). */
static int
batch_ctx_init(batch_ctx *c, int vocab, const mrl_train_params *p, int maxB,
			   int with_negatives)
{
	int			maxK = with_negatives ? 2 * maxB : maxB;

	memset(c, 0, sizeof(*c));
	c->vocab = vocab;
	c->D = p->dim;
	c->maxB = maxB;
	c->maxK = maxK;
	c->U = malloc(sizeof(float) * (size_t) maxB * p->dim);
	c->dU = malloc(sizeof(float) * (size_t) maxB * p->dim);
	c->C = malloc(sizeof(float) * (size_t) maxK * p->dim);
	c->dC = malloc(sizeof(float) * (size_t) maxK * p->dim);
	c->work = malloc(sizeof(float) * mrl_mnrl_work_floats(maxB, maxK, p->n_dims));
	c->slot = malloc(sizeof(int32_t) * vocab);
	c->rows = malloc(sizeof(int32_t) * vocab);
	if (!c->U || !c->dU || !c->C || !c->dC || !c->work || !c->slot || !c->rows)
	{
		batch_ctx_free(c);
		return MRL_TRAIN_ENOMEM;
	}
	for (int v = 0; v < vocab; v++)
		c->slot[v] = -1;
	return MRL_TRAIN_OK;
}

/* Make room for n gradient rows (at most vocab). */
static int
batch_ctx_reserve(batch_ctx *c, int n)
{
	float	   *g;

	if (n <= c->cap_rows)
		return MRL_TRAIN_OK;
	g = realloc(c->grad, sizeof(float) * (size_t) n * c->D);
	if (!g)
		return MRL_TRAIN_ENOMEM;
	c->grad = g;
	c->cap_rows = n;
	return MRL_TRAIN_OK;
}

/* Add g / len to the gradient row of every token of text t. */
static void
scatter_text(batch_ctx *c, const mrl_train_data *d, int t, const float *g)
{
	int64_t		s = d->text_off[t],
				e = d->text_off[t + 1];
	float		inv = e > s ? 1.0f / (float) (e - s) : 0.0f;

	for (int64_t i = s; i < e; i++)
	{
		int			v = d->ids[i];
		int			r = c->slot[v];

		if (r < 0)
		{
			r = c->n_rows++;
			c->slot[v] = r;
			c->rows[r] = v;
			memset(c->grad + (size_t) r * c->D, 0, sizeof(float) * c->D);
		}
		cblas_saxpy(c->D, inv, g, 1, c->grad + (size_t) r * c->D, 1);
	}
}

/* Forget the previous batch's touched rows. */
static void
batch_ctx_reset_rows(batch_ctx *c)
{
	for (int r = 0; r < c->n_rows; r++)
		c->slot[c->rows[r]] = -1;
	c->n_rows = 0;
}

/*
 * Loss of the pairs[0..n) batch and, if want_grad, its sparse gradient in
 * c->rows / c->grad.
 */
static int
batch_loss_grad(batch_ctx *c, const float *E, const mrl_train_data *d,
				const int32_t *pairs, int n, const mrl_train_params *p,
				double *loss, int want_grad)
{
	int			D = c->D,
				K = n;
	int64_t		tokens = 0;
	int			rc;

	if (n > c->maxB)
		return MRL_TRAIN_EINVAL;
	for (int i = 0; i < n; i++)
	{
		int			a = d->anchor[pairs[i]],
					q = d->positive[pairs[i]];

		mrl_static_pool(E, D, d->ids + d->text_off[a],
						d->text_off[a + 1] - d->text_off[a], c->U + (size_t) i * D);
		mrl_static_pool(E, D, d->ids + d->text_off[q],
						d->text_off[q + 1] - d->text_off[q], c->C + (size_t) i * D);
		tokens += d->text_off[a + 1] - d->text_off[a] +
			d->text_off[q + 1] - d->text_off[q];
	}
	for (int i = 0; d->negative && i < n; i++)
	{
		int			g = d->negative[pairs[i]];

		if (g < 0)
			continue;
		mrl_static_pool(E, D, d->ids + d->text_off[g],
						d->text_off[g + 1] - d->text_off[g], c->C + (size_t) K++ * D);
		tokens += d->text_off[g + 1] - d->text_off[g];
	}
	rc = mrl_matryoshka_mnrl(c->U, n, c->C, K, p, loss,
							 want_grad ? c->dU : NULL, want_grad ? c->dC : NULL,
							 c->work);
	if (rc != MRL_TRAIN_OK || !want_grad)
		return rc;

	batch_ctx_reset_rows(c);
	if (batch_ctx_reserve(c, tokens < c->vocab ? (int) tokens : c->vocab) != MRL_TRAIN_OK)
		return MRL_TRAIN_ENOMEM;
	K = n;
	for (int i = 0; i < n; i++)
	{
		scatter_text(c, d, d->anchor[pairs[i]], c->dU + (size_t) i * D);
		scatter_text(c, d, d->positive[pairs[i]], c->dC + (size_t) i * D);
	}
	for (int i = 0; d->negative && i < n; i++)
		if (d->negative[pairs[i]] >= 0)
			scatter_text(c, d, d->negative[pairs[i]], c->dC + (size_t) K++ * D);
	return MRL_TRAIN_OK;
}

int
mrl_static_batch_loss(const float *E, int vocab, const mrl_train_data *d,
					  const int32_t *pairs, int n, const mrl_train_params *p,
					  double *loss, float *dE, char *err, size_t errlen)
{
	batch_ctx	c;
	int			rc;

	if ((rc = mrl_train_check_params(p, err, errlen)) != MRL_TRAIN_OK ||
		(rc = check_data(d, vocab, err, errlen)) != MRL_TRAIN_OK)
		return rc;
	if (n < 1)
		return MRL_FAIL(MRL_TRAIN_EINVAL, "empty batch");
	for (int i = 0; i < n; i++)
		if (pairs[i] < 0 || pairs[i] >= d->n_pairs)
			return MRL_FAIL(MRL_TRAIN_EINVAL,
							"pair index %d out of range", (int) pairs[i]);
	if (batch_ctx_init(&c, vocab, p, n, d->negative != NULL) != MRL_TRAIN_OK)
		return MRL_FAIL(MRL_TRAIN_ENOMEM, "out of memory");
	rc = batch_loss_grad(&c, E, d, pairs, n, p, loss, dE != NULL);
	if (rc == MRL_TRAIN_OK && dE)
	{
		memset(dE, 0, sizeof(float) * (size_t) vocab * p->dim);
		for (int r = 0; r < c.n_rows; r++)
			memcpy(dE + (size_t) c.rows[r] * p->dim, c.grad + (size_t) r * p->dim,
				   sizeof(float) * p->dim);
	}
	batch_ctx_free(&c);
	if (rc != MRL_TRAIN_OK)
		return MRL_FAIL(rc, "loss computation failed");
	return MRL_TRAIN_OK;
}

/*
 * Lazy AdamW on the touched rows only (like torch.optim.SparseAdam, with
 * decoupled weight decay): rows absent from a batch keep their weights and
 * moments.  step counts from 1 for the bias corrections.
 */
static void
adamw_rows(float *E, float *m, float *v, const batch_ctx *c,
		   const mrl_train_params *p, float lr, long step)
{
	int			D = c->D;
	float		bc1 = 1.0f - powf(p->beta1, (float) step),
				bc2 = 1.0f - powf(p->beta2, (float) step);
	float		decay = 1.0f - lr * p->weight_decay;

	for (int r = 0; r < c->n_rows; r++)
	{
		size_t		base = (size_t) c->rows[r] * D;
		const float *g = c->grad + (size_t) r * D;

		for (int k = 0; k < D; k++)
		{
			float		mk = p->beta1 * m[base + k] + (1.0f - p->beta1) * g[k];
			float		vk = p->beta2 * v[base + k] + (1.0f - p->beta2) * g[k] * g[k];

			m[base + k] = mk;
			v[base + k] = vk;
			E[base + k] = E[base + k] * decay -
				lr * (mk / bc1) / (sqrtf(vk / bc2) + p->adam_eps);
		}
	}
}

/* Linear warm-up to the peak rate, then linear decay towards 0. */
static float
schedule_lr(const mrl_train_params *p, long step, long total)
{
	long		warm = (long) ceil(p->warmup_ratio * (double) total);

	if (step < warm)
		return p->lr * (float) (step + 1) / (float) warm;
	return p->lr * (float) (total - step) / (float) (total - warm);
}

int
mrl_train_static(float *E, int vocab, const mrl_train_data *d,
				 const mrl_train_params *p, mrl_train_stats *stats,
				 char *err, size_t errlen)
{
	int32_t    *order = NULL;
	int64_t    *bounds = NULL;
	long		nb = 0;
	float	   *m = NULL,
			   *v = NULL;
	double		window[LOSS_WINDOW];
	batch_ctx	c;
	mrl_train_stats st;
	int			rc;

	memset(&st, 0, sizeof(st));
	if ((rc = mrl_train_check_params(p, err, errlen)) != MRL_TRAIN_OK ||
		(rc = check_data(d, vocab, err, errlen)) != MRL_TRAIN_OK ||
		(rc = mrl_train_plan(d, p->batch_size, p->epochs, p->seed, &order,
							 &bounds, &nb, err, errlen)) != MRL_TRAIN_OK)
		return rc;
	if (nb == 0)
	{
		free(order);
		free(bounds);
		return MRL_FAIL(MRL_TRAIN_EINVAL,
						"no batch of >= 2 pairs without duplicate texts");
	}
	m = calloc((size_t) vocab * p->dim, sizeof(float));
	v = calloc((size_t) vocab * p->dim, sizeof(float));
	if (!m || !v || batch_ctx_init(&c, vocab, p, p->batch_size, d->negative != NULL) != MRL_TRAIN_OK)
	{
		free(m);
		free(v);
		free(order);
		free(bounds);
		return MRL_FAIL(MRL_TRAIN_ENOMEM,
						"out of memory for the optimizer state");
	}
	st.total_steps = nb;
	for (long s = 0; s < nb; s++)
	{
		int			n = (int) (bounds[s + 1] - bounds[s]);
		double		loss;

		if (p->cancel && p->cancel(p->callback_arg))
		{
			rc = MRL_FAIL(MRL_TRAIN_CANCELLED,
						  "training cancelled after %ld of %ld steps", s, nb);
			break;
		}
		rc = batch_loss_grad(&c, E, d, order + bounds[s], n, p, &loss, 1);
		if (rc != MRL_TRAIN_OK)
		{
			rc = MRL_FAIL(rc, "step %ld failed", s);
			break;
		}
		adamw_rows(E, m, v, &c, p, schedule_lr(p, s, nb), s + 1);
		if (s == 0)
			st.first_loss = loss;
		window[s % LOSS_WINDOW] = loss;
		st.steps_done = s + 1;
		st.pairs_seen += n;
		if (p->progress)
			p->progress(p->callback_arg, s + 1, nb, loss);
	}
	if (st.steps_done > 0)
	{
		long		k = st.steps_done < LOSS_WINDOW ? st.steps_done : LOSS_WINDOW;

		for (long i = 0; i < k; i++)
			st.last_loss += window[i];
		st.last_loss /= k;
	}
	if (stats)
		*stats = st;
	batch_ctx_free(&c);
	free(m);
	free(v);
	free(order);
	free(bounds);
	return rc;
}
