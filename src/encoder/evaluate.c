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

/* Flip a unit vector so that its largest-magnitude coordinate is positive. */
static void
fix_sign(float *v, int dim)
{
	int			best = 0;

	for (int k = 1; k < dim; k++)
		if (fabsf(v[k]) > fabsf(v[best]))
			best = k;
	if (v[best] < 0)
		for (int k = 0; k < dim; k++)
			v[k] = -v[k];
}

int
mrl_pca_fit(const float *X, int n, int dim, int n_comp, mrl_pca *pca,
			char *err, size_t errlen)
{
	float	   *Xc = NULL,
			   *cov = NULL,
			   *eig = NULL;
	const char *blas_error;
	int			info;

	memset(pca, 0, sizeof(*pca));
	if (n < 2 || dim < 1 || dim > 65536 || n_comp < 1 || n_comp > dim)
		return MRL_FAIL(-1,
						"PCA needs >= 2 samples and 1 <= components <= width");
	if ((blas_error = mrl_blas_load()) != NULL)
		return MRL_FAIL(-1, "%s", blas_error);
	pca->dim = dim;
	pca->n_comp = n_comp;
	pca->mean = calloc(dim, sizeof(float));
	pca->components = malloc(sizeof(float) * (size_t) n_comp * dim);
	pca->variance = malloc(sizeof(float) * n_comp);
	Xc = malloc(sizeof(float) * (size_t) n * dim);
	cov = malloc(sizeof(float) * (size_t) dim * dim);
	eig = malloc(sizeof(float) * dim);
	if (!pca->mean || !pca->components || !pca->variance || !Xc || !cov || !eig)
	{
		free(Xc);
		free(cov);
		free(eig);
		mrl_pca_free(pca);
		return MRL_FAIL(-1, "out of memory fitting PCA");
	}
	/* mean in double: float sums of many samples drift */
	for (int k = 0; k < dim; k++)
	{
		double		s = 0.0;

		for (int i = 0; i < n; i++)
			s += X[(size_t) i * dim + k];
		pca->mean[k] = (float) (s / n);
	}
	for (int i = 0; i < n; i++)
		for (int k = 0; k < dim; k++)
			Xc[(size_t) i * dim + k] = X[(size_t) i * dim + k] - pca->mean[k];
	/* covariance (upper triangle), then its eigenvectors, ascending */
	cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, dim, n,
				1.0f / (n - 1), Xc, dim, 0.0f, cov, dim);
	info = LAPACKE_ssyevd(LAPACK_ROW_MAJOR, 'V', 'U', dim, cov, dim, eig);
	if (info != 0)
	{
		free(Xc);
		free(cov);
		free(eig);
		mrl_pca_free(pca);
		return MRL_FAIL(-1, "eigendecomposition failed (LAPACK info %d)", info);
	}
	for (int c = 0; c < n_comp; c++)
	{
		int			col = dim - 1 - c;	/* largest eigenvalue first */
		float	   *v = pca->components + (size_t) c * dim;

		for (int k = 0; k < dim; k++)
			v[k] = cov[(size_t) k * dim + col];
		fix_sign(v, dim);
		pca->variance[c] = eig[col] > 0 ? eig[col] : 0.0f;
	}
	free(Xc);
	free(cov);
	free(eig);
	return 0;
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
