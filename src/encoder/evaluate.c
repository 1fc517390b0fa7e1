/*
 * evaluate.c: retrieval metrics, top-k selection and PCA (see evaluate.h).
 */
#include "evaluate.h"

#include "blas.h"
#include "mapfile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Message into the caller's err buffer, evaluating to code. */
#define FAIL(code, ...) (mrl_errf(err, errlen, __VA_ARGS__), (code))

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

/* Rows centred and scaled per block when accumulating the covariance. */
#define PCA_BLOCK_ROWS 256

/*
 * The mean of X's columns (in double: float sums of many samples drift)
 * and the largest |x - mean| over X, the scale that keeps the covariance
 * sums of any finite input inside float range (0 for constant columns).
 */
static double
column_means(const float *X, int n, int dim, double *mean)
{
	double		scale = 0.0;

	for (int k = 0; k < dim; k++)
		mean[k] = 0.0;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < dim; k++)
			mean[k] += X[(size_t) i * dim + k];
	for (int k = 0; k < dim; k++)
		mean[k] /= n;
	for (int i = 0; i < n; i++)
		for (int k = 0; k < dim; k++)
			scale = fmax(scale, fabs(X[(size_t) i * dim + k] - mean[k]));
	return scale;
}

/*
 * cov (upper triangle, row major) = the covariance of X / scale, summed by
 * blocks of centred rows so that no centred copy of X is made.
 */
static void
scaled_covariance(const float *X, int n, int dim, const double *mean,
				  double scale, float *block, float *cov)
{
	for (int i0 = 0; i0 < n; i0 += PCA_BLOCK_ROWS)
	{
		int			rows = n - i0 < PCA_BLOCK_ROWS ? n - i0 : PCA_BLOCK_ROWS;

		for (int i = 0; i < rows; i++)
			for (int k = 0; k < dim; k++)
				block[(size_t) i * dim + k] =
					(float) ((X[(size_t) (i0 + i) * dim + k] - mean[k]) / scale);
		cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, dim, rows,
					1.0f / (n - 1), block, dim, i0 == 0 ? 0.0f : 1.0f, cov, dim);
	}
}

int
mrl_pca_fit(const float *X, int n, int dim, int n_comp, mrl_pca *pca,
			char *err, size_t errlen)
{
	double	   *mean = NULL;
	float	   *block = NULL,
			   *cov = NULL,
			   *eig = NULL,
			   *vec = NULL;
	int		   *support = NULL;
	const char *blas_error;
	double		scale;
	int			allocated,
				found = 0,
				info = 0;

	memset(pca, 0, sizeof(*pca));
	if (n < 2 || dim < 1 || dim > 65536 || n_comp < 1 || n_comp > dim)
		return FAIL(-1,
					"PCA needs >= 2 samples and 1 <= components <= width");
	if ((blas_error = mrl_blas_load()) != NULL)
		return FAIL(-1, "%s", blas_error);
	pca->dim = dim;
	pca->n_comp = n_comp;
	pca->mean = malloc(sizeof(float) * dim);
	pca->components = malloc(sizeof(float) * (size_t) n_comp * dim);
	pca->variance = malloc(sizeof(float) * n_comp);
	mean = malloc(sizeof(double) * dim);
	block = malloc(sizeof(float) * (size_t) PCA_BLOCK_ROWS * dim);
	cov = malloc(sizeof(float) * (size_t) dim * dim);
	eig = malloc(sizeof(float) * dim);
	vec = malloc(sizeof(float) * (size_t) dim * n_comp);
	support = malloc(sizeof(int) * 2 * n_comp);
	allocated = pca->mean && pca->components && pca->variance && mean &&
		block && cov && eig && vec && support;
	if (allocated)
	{
		scale = column_means(X, n, dim, mean);
		if (scale == 0.0)
			scale = 1.0;		/* all rows equal: a zero covariance */
		scaled_covariance(X, n, dim, mean, scale, block, cov);

		/*
		 * The n_comp largest eigenvalues and their vectors.  The row-major
		 * upper triangle is the column-major lower one, and column-major
		 * vectors are contiguous: no transposed copies.  ssyevr computes
		 * only the vectors asked for, with a workspace linear in dim
		 * (ssyevd's, quadratic, was sized through a float and came out
		 * too small from about 2,900 dims).
		 */
		info = LAPACKE_ssyevr(LAPACK_COL_MAJOR, 'V', 'I', 'L', dim, cov, dim,
							  0.0f, 0.0f, dim - n_comp + 1, dim, 0.0f,
							  &found, eig, vec, dim, support);
	}
	if (allocated && info == 0 && found == n_comp)
	{
		for (int k = 0; k < dim; k++)
			pca->mean[k] = (float) mean[k];
		for (int c = 0; c < n_comp; c++)
		{
			int			col = n_comp - 1 - c;	/* largest eigenvalue first */
			float	   *v = pca->components + (size_t) c * dim;

			memcpy(v, vec + (size_t) col * dim, sizeof(float) * dim);
			fix_sign(v, dim);
			pca->variance[c] = eig[col] > 0 ? (float) (eig[col] * scale * scale) : 0.0f;
		}
	}
	free(mean);
	free(block);
	free(cov);
	free(eig);
	free(vec);
	free(support);
	if (allocated && info == 0 && found == n_comp)
		return 0;
	mrl_pca_free(pca);
	if (!allocated)
		return FAIL(-1, "out of memory fitting PCA");
	return FAIL(-1, "eigendecomposition failed (LAPACK info %d, %d of %d eigenvectors)",
				info, found, n_comp);
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
