/*
 * evaluate.c: retrieval metrics, top-k selection and PCA (see evaluate.h).
 */
#include "evaluate.h"

#include "blas.h"
#include "errors.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Descending order of floats (for the ideal DCG). */
static int
cmp_float_desc(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return (x < y) - (x > y);
}

/* DCG of the best possible ranking: the k largest grades in order. */
static double
ideal_dcg(const float *grade, int n_rel, int k)
{
	float	   *g = malloc(sizeof(float) * (n_rel > 0 ? n_rel : 1));
	double		dcg = 0.0;

	if (!g)
		return NAN;
	memcpy(g, grade, sizeof(float) * n_rel);
	qsort(g, n_rel, sizeof(float), cmp_float_desc);
	for (int r = 0; r < k && r < n_rel && g[r] > 0; r++)
		dcg += g[r] / log2(r + 2.0);
	free(g);
	return dcg;
}

int
mrl_ir_score_query(const int32_t *ranked, int n_ranked,
				   const int32_t *rel_doc, const float *rel_grade, int n_rel,
				   mrl_ir_metrics *out)
{
	unsigned char *found;
	int			n_relevant = 0,
				hits10 = 0,
				hits100 = 0;
	double		dcg = 0.0,
				idcg;

	memset(out, 0, sizeof(*out));
	if (n_ranked < 0 || n_rel < 0)
		return -1;
	for (int j = 0; j < n_rel; j++)
	{
		if (isnan(rel_grade[j]))
			return -1;
		for (int i = 0; i < j; i++)
			if (rel_doc[i] == rel_doc[j])
				return -1;
		n_relevant += rel_grade[j] > 0;
	}
	if (n_relevant == 0)
		return 0;
	if (!(found = calloc(n_rel, 1)))
		return -1;
	for (int r = 0; r < n_ranked && r < 100; r++)
	{
		for (int j = 0; j < n_rel; j++)
		{
			if (rel_doc[j] != ranked[r] || found[j] || !(rel_grade[j] > 0))
				continue;
			found[j] = 1;		/* a repeated document counts once */
			hits100++;
			if (r < 10)
			{
				hits10++;
				dcg += rel_grade[j] / log2(r + 2.0);
				if (out->mrr10 == 0.0)
					out->mrr10 = 1.0 / (r + 1);
			}
		}
	}
	free(found);
	idcg = ideal_dcg(rel_grade, n_rel, 10);
	if (isnan(idcg))
		return -1;
	out->ndcg10 = dcg / idcg;
	out->recall10 = (double) hits10 / n_relevant;
	out->recall100 = (double) hits100 / n_relevant;
	return 1;
}

void
mrl_ir_metrics_add(mrl_ir_metrics *sum, const mrl_ir_metrics *m)
{
	sum->ndcg10 += m->ndcg10;
	sum->recall10 += m->recall10;
	sum->recall100 += m->recall100;
	sum->mrr10 += m->mrr10;
}

/* Does candidate a rank above b?  (higher score, then lower index; NaN last) */
static int
ranks_above(const float *s, int32_t a, int32_t b)
{
	if (isnan(s[a]) || isnan(s[b]))
		return isnan(s[b]) && (!isnan(s[a]) || a < b);
	return s[a] > s[b] || (s[a] == s[b] && a < b);
}

/* Restore the heap below position i (worst-ranked at the root). */
static void
sift_down(int32_t *h, int n, int i, const float *s)
{
	for (;;)
	{
		int			l = 2 * i + 1,
					w = i;
		int32_t		t;

		if (l < n && ranks_above(s, h[w], h[l]))
			w = l;
		if (l + 1 < n && ranks_above(s, h[w], h[l + 1]))
			w = l + 1;
		if (w == i)
			return;
		t = h[i];
		h[i] = h[w];
		h[w] = t;
		i = w;
	}
}

int
mrl_topk(const float *scores, int n, int k, int32_t *out)
{
	int			m = 0;

	if (k <= 0 || n <= 0)
		return 0;
	/* a heap of the best k so far, its worst member at the root */
	for (int32_t i = 0; i < n; i++)
	{
		if (m < k)
		{
			out[m++] = i;
			if (m == k)
				for (int j = k / 2 - 1; j >= 0; j--)
					sift_down(out, m, j, scores);
		}
		else if (ranks_above(scores, i, out[0]))
		{
			out[0] = i;
			sift_down(out, m, 0, scores);
		}
	}
	if (m < k)
		for (int j = m / 2 - 1; j >= 0; j--)
			sift_down(out, m, j, scores);
	/* heap sort: repeatedly move the worst to the end */
	for (int e = m - 1; e > 0; e--)
	{
		int32_t		t = out[0];

		out[0] = out[e];
		out[e] = t;
		sift_down(out, e, 0, scores);
	}
	return m;
}

void
mrl_pca_free(mrl_pca *pca)
{
	free(pca->mean);
	free(pca->components);
	free(pca->variance);
	memset(pca, 0, sizeof(*pca));
}

/*
 * Flip a unit vector so that its largest-magnitude coordinate is positive,
 * and make its zero coordinates +0 (LAPACK may return -0): one output for
 * one input.
 */
static void
fix_sign(float *v, int dim)
{
	int			best = 0;
	float		sign;

	for (int k = 1; k < dim; k++)
		if (fabsf(v[k]) > fabsf(v[best]))
			best = k;
	sign = v[best] < 0 ? -1.0f : 1.0f;
	for (int k = 0; k < dim; k++)
		v[k] = v[k] == 0 ? 0.0f : sign * v[k];
}

/* Rows held between two covariance updates. */
#define PCA_BLOCK_ROWS 256

/*
 * Rows are centred on a shift (the mean of the first block, close to the
 * final mean, so subtracting n d d^T at the end cancels little) and their
 * sums and cross products accumulated in double, where no finite float
 * input overflows or underflows.  The arrays follow the struct in the
 * caller's memory.
 */
struct mrl_pca_acc
{
	int			dim;
	int			pending;		/* rows in block, not yet in sum and cov */
	int			shifted;		/* shift known: block rows are x - shift */
	int64_t		n;				/* rows added, pending ones included */
	double	   *shift;			/* [dim] */
	double	   *sum;			/* [dim] sum of (x - shift) */
	double	   *cov;			/* [dim][dim] upper triangle of sum of
								 * (x - shift)(x - shift)^T */
	double	   *block;			/* [PCA_BLOCK_ROWS][dim] pending x - shift (x
								 * itself until the shift is known) */
};

/* Bytes of the accumulator's arrays after the struct (8-byte aligned). */
#define PCA_ACC_HEADER ((sizeof(mrl_pca_acc) + 7) & ~(size_t) 7)

size_t
mrl_pca_acc_size(int dim)
{
	return PCA_ACC_HEADER +
		sizeof(double) * ((size_t) dim * (2 + dim + PCA_BLOCK_ROWS));
}

mrl_pca_acc *
mrl_pca_acc_init(void *mem, int dim, char *err, size_t errlen)
{
	mrl_pca_acc *acc = (mrl_pca_acc *) mem;
	const char *blas_error;

	if (dim < 1 || dim > 65536)
	{
		mrl_errf(err, errlen, "PCA width must be between 1 and 65536, not %d", dim);
		return NULL;
	}
	if ((blas_error = mrl_blas_load()) != NULL)
	{
		mrl_errf(err, errlen, "%s", blas_error);
		return NULL;
	}
	memset(mem, 0, mrl_pca_acc_size(dim) - sizeof(double) * (size_t) dim * PCA_BLOCK_ROWS);
	acc->dim = dim;
	acc->shift = (double *) ((char *) mem + PCA_ACC_HEADER);
	acc->sum = acc->shift + dim;
	acc->cov = acc->sum + dim;
	acc->block = acc->cov + (size_t) dim * dim;
	return acc;
}

int64_t
mrl_pca_acc_rows(const mrl_pca_acc *acc)
{
	return acc->n;
}

/* Fold the pending rows into sum and cov (the first block sets the shift). */
static void
pca_fold(mrl_pca_acc *acc)
{
	int			dim = acc->dim;

	if (acc->pending == 0)
		return;
	if (!acc->shifted)
	{
		for (int i = 0; i < acc->pending; i++)
			for (int k = 0; k < dim; k++)
				acc->shift[k] += acc->block[(size_t) i * dim + k];
		for (int k = 0; k < dim; k++)
			acc->shift[k] /= acc->pending;
		for (int i = 0; i < acc->pending; i++)
			for (int k = 0; k < dim; k++)
				acc->block[(size_t) i * dim + k] -= acc->shift[k];
		acc->shifted = 1;
	}
	for (int i = 0; i < acc->pending; i++)
		for (int k = 0; k < dim; k++)
			acc->sum[k] += acc->block[(size_t) i * dim + k];
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, dim, acc->pending,
				1.0, acc->block, dim, 1.0, acc->cov, dim);
	acc->pending = 0;
}

void
mrl_pca_acc_add(mrl_pca_acc *acc, const float *X, int n)
{
	int			dim = acc->dim;

	for (int i = 0; i < n; i++)
	{
		double	   *row = acc->block + (size_t) acc->pending * dim;

		for (int k = 0; k < dim; k++)
			row[k] = (double) X[(size_t) i * dim + k] - acc->shift[k];	/* 0 until known */
		acc->n++;
		if (++acc->pending == PCA_BLOCK_ROWS)
			pca_fold(acc);
	}
}

/* Swap two rows of n floats. */
static void
swap_rows(float *a, float *b, int n)
{
	for (int k = 0; k < n; k++)
	{
		float		t = a[k];

		a[k] = b[k];
		b[k] = t;
	}
}

int
mrl_pca_acc_fit(mrl_pca_acc *acc, int n_comp, float *work, mrl_pca *pca,
				char *err, size_t errlen)
{
	int			dim = acc->dim;
	int64_t		n = acc->n;
	float	   *eig = NULL;
	int		   *support = NULL;
	double		scale = 0.0;
	int			found = 0,
				info;

	memset(pca, 0, sizeof(*pca));
	if (n < 2 || n_comp < 1 || n_comp > dim)
		return MRL_FAIL(-1, "PCA needs >= 2 samples and 1 <= components <= width");
	pca_fold(acc);
	pca->dim = dim;
	pca->n_comp = n_comp;
	pca->mean = malloc(sizeof(float) * dim);
	pca->components = malloc(sizeof(float) * (size_t) n_comp * dim);
	pca->variance = malloc(sizeof(float) * n_comp);
	eig = malloc(sizeof(float) * dim);
	support = malloc(sizeof(int) * 2 * n_comp);
	if (!pca->mean || !pca->components || !pca->variance || !eig || !support)
	{
		free(eig);
		free(support);
		mrl_pca_free(pca);
		return MRL_FAIL(-1, "out of memory fitting PCA");
	}

	/*
	 * Covariance = (cov - n d d^T) / (n - 1) with d = mean - shift, into
	 * work, divided by its largest variance so that float holds it.
	 */
	for (int k = 0; k < dim; k++)
	{
		double		d = acc->sum[k] / n;

		pca->mean[k] = (float) (acc->shift[k] + d);
		scale = fmax(scale, (acc->cov[(size_t) k * dim + k] - n * d * d) / (n - 1));
	}
	if (scale <= 0.0)
		scale = 1.0;			/* all rows equal: a zero covariance */
	for (size_t idx = 0; idx < (size_t) dim * dim; idx++)
	{
		size_t		i = idx / dim,
					j = idx % dim;
		work[idx] = j < i ? 0.0f :
			(float) ((acc->cov[idx] - n * (acc->sum[i] / n) * (acc->sum[j] / n)) / (n - 1) / scale);
	}

	/*
	 * The n_comp largest eigenvalues and their vectors, straight into the
	 * output (ascending; reversed below).  The row-major upper triangle is
	 * the column-major lower one, and column-major vectors are contiguous:
	 * no transposed copies.  ssyevr computes only the vectors asked for,
	 * with a workspace linear in dim (ssyevd's, quadratic, was sized
	 * through a float and came out too small from about 2,900 dims).
	 */
	info = LAPACKE_ssyevr(LAPACK_COL_MAJOR, 'V', 'I', 'L', dim, work, dim,
						  0.0f, 0.0f, dim - n_comp + 1, dim, 0.0f,
						  &found, eig, pca->components, dim, support);
	if (info == 0 && found == n_comp)
	{
		for (int c = 0; c < n_comp / 2; c++)	/* largest eigenvalue first */
			swap_rows(pca->components + (size_t) c * dim,
					  pca->components + (size_t) (n_comp - 1 - c) * dim, dim);
		for (int c = 0; c < n_comp; c++)
		{
			float		e = eig[n_comp - 1 - c];

			fix_sign(pca->components + (size_t) c * dim, dim);
			pca->variance[c] = e > 0 ? (float) (e * scale) : 0.0f;
		}
	}
	free(eig);
	free(support);
	if (info == 0 && found == n_comp)
		return 0;
	mrl_pca_free(pca);
	return MRL_FAIL(-1, "eigendecomposition failed (LAPACK info %d, %d of %d eigenvectors)",
				info, found, n_comp);
}

int
mrl_pca_fit(const float *X, int n, int dim, int n_comp, mrl_pca *pca,
			char *err, size_t errlen)
{
	void	   *mem;
	float	   *work;
	mrl_pca_acc *acc;
	int			rc = -1;

	memset(pca, 0, sizeof(*pca));
	if (dim < 1 || dim > 65536)
		return MRL_FAIL(-1, "PCA needs >= 2 samples and 1 <= components <= width");
	mem = malloc(mrl_pca_acc_size(dim));
	work = malloc(sizeof(float) * (size_t) dim * dim);
	if (mem == NULL || work == NULL)
		rc = MRL_FAIL(-1, "out of memory fitting PCA");
	else if ((acc = mrl_pca_acc_init(mem, dim, err, errlen)) != NULL)
	{
		mrl_pca_acc_add(acc, X, n);
		rc = mrl_pca_acc_fit(acc, n_comp, work, pca, err, errlen);
	}
	free(mem);
	free(work);
	return rc;
}

void
mrl_pca_apply(const mrl_pca *pca, const float *X, int n, float *Y)
{
	float	   *mproj = malloc(sizeof(float) * pca->n_comp);

	/* Y = X W^T - (W mean) broadcast: one sgemm, no centred copy */
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, pca->n_comp,
				pca->dim, 1.0f, X, pca->dim, pca->components, pca->dim,
				0.0f, Y, pca->n_comp);
	if (mproj)
	{
		cblas_sgemv(CblasRowMajor, CblasNoTrans, pca->n_comp, pca->dim, 1.0f,
					pca->components, pca->dim, pca->mean, 1, 0.0f, mproj, 1);
		for (int i = 0; i < n; i++)
			for (int c = 0; c < pca->n_comp; c++)
				Y[(size_t) i * pca->n_comp + c] -= mproj[c];
		free(mproj);
	}
	else						/* out of memory: centre row by row */
		for (int i = 0; i < n; i++)
			for (int c = 0; c < pca->n_comp; c++)
				Y[(size_t) i * pca->n_comp + c] -=
					cblas_sdot(pca->dim, pca->components + (size_t) c * pca->dim, 1,
							   pca->mean, 1);
}
