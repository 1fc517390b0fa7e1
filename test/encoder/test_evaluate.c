/*
 * test_evaluate.c: retrieval metrics on hand-computed cases, top-k
 * selection, and PCA against numpy (reference_pca.py).  Prints TAP.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "reference_pca_expected.h"
#include "tap.h"

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-6;
}

static void
test_metrics(void)
{
	mrl_ir_metrics m,
				sum = {0};
	int			r;

	/*
	 * Query 1: ranking 5 3 9 1 7; judgements doc 3 grade 1, doc 7 grade 2,
	 * doc 8 grade 1 (never retrieved).  DCG@10 = 1/log2(3) + 2/log2(6) =
	 * 0.630930 + 0.773706 = 1.404635.  Ideal order 2, 1, 1: IDCG = 2/1 +
	 * 1/log2(3) + 1/log2(4) = 2 + 0.630930 + 0.5 = 3.130930; nDCG =
	 * 0.448632.  Two of three relevant found: recall@10 = recall@100 = 2/3.
	 * First relevant at rank 2: MRR = 0.5.
	 */
	{
		int32_t		ranked[] = {5, 3, 9, 1, 7},
					rel[] = {3, 7, 8};
		float		grade[] = {1, 2, 1};

		r = mrl_ir_score_query(ranked, 5, rel, grade, 3, &m);
		ok(r == 1 && near(m.ndcg10, 0.448632029) && near(m.recall10, 2.0 / 3) &&
		   near(m.recall100, 2.0 / 3) && near(m.mrr10, 0.5),
		   "graded query: nDCG@10 %.6f (0.448632), R@10 %.4f, R@100 %.4f, MRR %.3f",
		   m.ndcg10, m.recall10, m.recall100, m.mrr10);
		mrl_ir_metrics_add(&sum, &m);
	}

	/*
	 * Query 2: relevant doc 11 at rank 11 and doc 99 at rank 12; doc 50
	 * not retrieved.  Nothing in the top 10: nDCG@10 = R@10 = MRR@10 = 0;
	 * R@100 = 2/3.
	 */
	{
		int32_t		ranked[12],
					rel[] = {11, 99, 50};
		float		grade[] = {1, 1, 1};

		for (int i = 0; i < 11; i++)
			ranked[i] = i + 1;	/* docs 1..11 */
		ranked[11] = 99;
		r = mrl_ir_score_query(ranked, 12, rel, grade, 3, &m);
		ok(r == 1 && m.ndcg10 == 0 && m.recall10 == 0 && near(m.recall100, 2.0 / 3) &&
		   m.mrr10 == 0, "hits only below rank 10: nDCG@10 0, R@10 0, R@100 2/3, MRR 0");
		mrl_ir_metrics_add(&sum, &m);
	}

	/*
	 * Query 3: doc 3 ranked twice, then doc 1.  The repeat counts once:
	 * nDCG 1, R@10 1 (not 2), MRR 1.  Doc 4 judged 0 is not relevant.
	 */
	{
		int32_t		ranked[] = {3, 3, 4},
					rel[] = {3, 4};
		float		grade[] = {1, 0};

		r = mrl_ir_score_query(ranked, 3, rel, grade, 2, &m);
		ok(r == 1 && near(m.ndcg10, 1) && near(m.recall10, 1) && near(m.recall100, 1) &&
		   near(m.mrr10, 1), "repeated document counts once, grade 0 is not relevant");
		mrl_ir_metrics_add(&sum, &m);
	}
	/* mean over the three: nDCG (0.448632 + 0 + 1) / 3 = 0.482877 */
	ok(near(sum.ndcg10 / 3, 0.482877343) && near(sum.mrr10 / 3, 0.5),
	   "mean over queries: nDCG@10 %.6f (0.482877), MRR %.3f (0.5)",
	   sum.ndcg10 / 3, sum.mrr10 / 3);

	{
		int32_t		ranked[] = {1, 2},
					rel[] = {2, 2};
		float		grade[] = {1, 0},
					nan_grade[] = {NAN, 1};

		ok(mrl_ir_score_query(ranked, 2, rel, grade + 1, 1, &m) == 0 && m.ndcg10 == 0,
		   "query without relevant documents is not scored");
		ok(mrl_ir_score_query(ranked, 2, rel, grade, 2, &m) == -1,
		   "duplicate judgements rejected");
		ok(mrl_ir_score_query(ranked, 2, rel, nan_grade, 2, &m) == -1 &&
		   mrl_ir_score_query(ranked, -1, rel, grade, 1, &m) == -1,
		   "NaN grade and negative length rejected");
	}
}

static void
test_topk(void)
{
	float		s[] = {0.1f, 0.9f, NAN, 0.5f, 0.9f, -1.0f, 0.7f};
	int32_t		out[7];
	int			n;

	n = mrl_topk(s, 7, 3, out);
	ok(n == 3 && out[0] == 1 && out[1] == 4 && out[2] == 6,
	   "top-3: ties to the lower index (got %d %d %d)", out[0], out[1], out[2]);
	n = mrl_topk(s, 7, 10, out);
	ok(n == 7 && out[0] == 1 && out[4] == 0 && out[5] == 5 && out[6] == 2,
	   "k > n: full order, NaN last");

	/* against a brute-force sort on 1000 pseudo-random scores */
	{
		enum
		{
		N = 1000, K = 100};
		float		r[N];
		int32_t		top[K];
		int			bad = 0;
		uint32_t	x = 1;

		for (int i = 0; i < N; i++)
		{
			x = x * 1664525u + 1013904223u;
			r[i] = (float) (x >> 20) / 4096.0f;	/* many ties */
		}
		mrl_topk(r, N, K, top);
		for (int i = 0; i < K; i++)
		{
			int			better = 0;

			/* rank of top[i] = number of items strictly before it in order */
			for (int j = 0; j < N; j++)
				better += r[j] > r[top[i]] || (r[j] == r[top[i]] && j < top[i]);
			bad += better != i;
		}
		ok(bad == 0, "top-100 of 1000 matches the brute-force ranks");
	}
}

/* max |a - b| over n */
static double
max_abs_diff(const float *a, const float *b, int n)
{
	double		m = 0;

	for (int i = 0; i < n; i++)
		m = fmax(m, fabs((double) a[i] - b[i]));
	return m;
}

static void
test_pca(void)
{
	mrl_pca		pca;
	float		Y[5 * PCA_NCOMP];
	char		err[256];
	int			r;

	r = mrl_pca_fit(pca_X, PCA_N, PCA_DIM, PCA_NCOMP, &pca, err, sizeof(err));
	ok(r == 0 && max_abs_diff(pca.mean, pca_mean, PCA_DIM) < 1e-5,
	   "PCA mean matches numpy");
	ok(r == 0 && max_abs_diff(pca.components, pca_components, PCA_NCOMP * PCA_DIM) < 1e-4,
	   "PCA components match numpy eigh (max diff %.2g)",
	   max_abs_diff(pca.components, pca_components, PCA_NCOMP * PCA_DIM));
	ok(r == 0 && max_abs_diff(pca.variance, pca_variance, PCA_NCOMP) < 1e-4 * pca_variance[0],
	   "PCA explained variances match numpy (%.4f %.4f %.4f)",
	   pca.variance[0], pca.variance[1], pca.variance[2]);
	mrl_pca_apply(&pca, pca_X, 5, Y);
	ok(max_abs_diff(Y, pca_proj5, 5 * PCA_NCOMP) < 1e-4,
	   "PCA projection of 5 rows matches numpy (max diff %.2g)",
	   max_abs_diff(Y, pca_proj5, 5 * PCA_NCOMP));
	mrl_pca_free(&pca);
	ok(mrl_pca_fit(pca_X, 1, PCA_DIM, 2, &pca, err, sizeof(err)) == -1 &&
	   mrl_pca_fit(pca_X, PCA_N, PCA_DIM, PCA_DIM + 1, &pca, err, sizeof(err)) == -1,
	   "PCA rejects one sample and too many components (%s)", err);
}

/*
 * The streaming accumulator over several blocks of rows, added in uneven
 * chunks: 20 copies of numpy's 40 rows have its mean and directions, and
 * variances scaled by 20 * 39 / 799 (the same scatter over more rows).
 */
static void
test_pca_stream(void)
{
	enum
	{
		COPIES = 20, N = PCA_N * COPIES};
	float	   *X = malloc(sizeof(float) * N * PCA_DIM);
	void	   *mem = malloc(mrl_pca_acc_size(PCA_DIM));
	float		work[PCA_DIM * PCA_DIM];
	float		variance[PCA_NCOMP];
	const int	chunks[] = {1, 7, 300, N - 308};
	mrl_pca_acc *acc;
	mrl_pca		pca;
	char		err[256];
	int			r,
				row = 0;

	for (int c = 0; c < COPIES; c++)
		memcpy(X + c * PCA_N * PCA_DIM, pca_X, sizeof(pca_X));
	acc = mrl_pca_acc_init(mem, PCA_DIM, err, sizeof(err));
	for (int i = 0; acc && i < 4; row += chunks[i++])
		mrl_pca_acc_add(acc, X + row * PCA_DIM, chunks[i]);
	r = acc ? mrl_pca_acc_fit(acc, PCA_NCOMP, work, &pca, err, sizeof(err)) : -1;
	for (int c = 0; c < PCA_NCOMP; c++)
		variance[c] = pca_variance[c] * COPIES * (PCA_N - 1) / (N - 1);
	ok(r == 0 && mrl_pca_acc_rows(acc) == N &&
	   max_abs_diff(pca.mean, pca_mean, PCA_DIM) < 1e-5 &&
	   max_abs_diff(pca.components, pca_components, PCA_NCOMP * PCA_DIM) < 1e-4 &&
	   max_abs_diff(pca.variance, variance, PCA_NCOMP) < 1e-4 * variance[0],
	   "PCA streamed in chunks of 1, 7, 300 and %d rows matches numpy (%s)", N - 308,
	   r == 0 ? "ok" : err);
	if (r == 0)
		mrl_pca_free(&pca);
	/* a fit leaves the accumulator as it was: one more copy, fitted again */
	if (acc)
		mrl_pca_acc_add(acc, pca_X, PCA_N);
	for (int c = 0; c < PCA_NCOMP; c++)
		variance[c] = pca_variance[c] * (COPIES + 1) * (PCA_N - 1) / (N + PCA_N - 1);
	r = acc ? mrl_pca_acc_fit(acc, PCA_NCOMP, work, &pca, err, sizeof(err)) : -1;
	ok(r == 0 && max_abs_diff(pca.components, pca_components, PCA_NCOMP * PCA_DIM) < 1e-4 &&
	   max_abs_diff(pca.variance, variance, PCA_NCOMP) < 1e-4 * variance[0],
	   "rows added after a fit count in the next one (%s)", r == 0 ? "ok" : err);
	if (r == 0)
		mrl_pca_free(&pca);
	ok(mrl_pca_acc_init(mem, 0, err, sizeof(err)) == NULL, "width 0 is refused (%s)", err);
	free(mem);
	free(X);
}

int
main(void)
{
	test_metrics();
	test_topk();
	test_pca();
	test_pca_stream();
	return tap_done();
}
