/*
 * evaluate.h: retrieval-quality building blocks for measuring embeddings at
 * each Matryoshka prefix size: per-query nDCG@10, Recall@10/100 and MRR@10
 * from a ranked list and graded relevance judgements, top-k selection, and
 * PCA (fit on sample vectors, apply to reduce them) via LAPACKE.
 *
 * Metric conventions follow trec_eval / pytrec_eval as used by BEIR:
 * linear gains (a document's grade), discount 1 / log2(rank + 1), ideal
 * DCG from the query's judged grades; a document counts as relevant when
 * its grade is > 0; queries without relevant documents are not scored.
 * Plain C, no PostgreSQL headers.
 */
#ifndef MRL_EVALUATE_H
#define MRL_EVALUATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mrl_ir_metrics
{
	double		ndcg10;
	double		recall10;
	double		recall100;
	double		mrr10;
} mrl_ir_metrics;

/*
 * Score one query.  ranked: document ids, best first; rel_doc/rel_grade:
 * the query's judgements (n_rel of them; ids must be distinct).  A document
 * repeated in the ranking counts only at its first position.  Returns 1 if
 * the query was scored, 0 if it has no relevant document (out zeroed), -1
 * on invalid input (negative counts, NaN grades, duplicate judgements).
 */
extern int	mrl_ir_score_query(const int32_t *ranked, int n_ranked,
							   const int32_t *rel_doc, const float *rel_grade,
							   int n_rel, mrl_ir_metrics *out);

/* sum += m (for averaging over queries). */
extern void mrl_ir_metrics_add(mrl_ir_metrics *sum, const mrl_ir_metrics *m);

/*
 * The k highest of scores[0..n) as indexes, best first; ties go to the lower
 * index; NaN scores rank last.  Returns the number written (min(k, n)).
 */
extern int	mrl_topk(const float *scores, int n, int k, int32_t *out);

/* A fitted PCA: y = components (x - mean), components by falling variance. */
typedef struct mrl_pca
{
	int			dim;			/* input width */
	int			n_comp;			/* output width */
	float	   *mean;			/* [dim] */
	float	   *components;		/* [n_comp][dim], unit rows */
	float	   *variance;		/* [n_comp] explained variance (n - 1 denominator) */
} mrl_pca;

/*
 * Fit on X [n][dim] (n >= 2).  Each component's sign is fixed so that its
 * largest-magnitude coordinate is positive (deterministic output).
 * Returns 0 or -1 with a message in err.
 */
extern int	mrl_pca_fit(const float *X, int n, int dim, int n_comp,
						mrl_pca *pca, char *err, size_t errlen);

/*
 * The same fit from rows streamed in any number of calls: memory for a
 * dim x dim covariance and a block of rows in double, whatever the number
 * of rows.  The caller provides the memory, so that a database can account
 * for it: mrl_pca_acc_size(dim) bytes (8-byte aligned) for the accumulator,
 * and dim x dim floats of scratch for each fit.  init returns NULL with a
 * message if the width is out of range or BLAS cannot be loaded.  A fit
 * leaves the accumulator as it was: rows may be added and fitted again.
 */
typedef struct mrl_pca_acc mrl_pca_acc;

/*
 * The widest input a fit takes.  The eigendecomposition is one LAPACK call
 * that cannot be interrupted and grows as dim^3: seconds at 4096 dims, a
 * quarter of an hour at 16,000, so a database caps it here.
 */
#define MRL_PCA_MAX_DIM 4096

extern size_t mrl_pca_acc_size(int dim);
extern mrl_pca_acc *mrl_pca_acc_init(void *mem, int dim, char *err, size_t errlen);
extern void mrl_pca_acc_add(mrl_pca_acc *acc, const float *X, int n);
extern int64_t mrl_pca_acc_rows(const mrl_pca_acc *acc);
extern int	mrl_pca_acc_fit(mrl_pca_acc *acc, int n_comp, float *work, mrl_pca *pca,
							char *err, size_t errlen);

/* Y [n][n_comp] = (X - mean) components^T. */
extern void mrl_pca_apply(const mrl_pca *pca, const float *X, int n, float *Y);

extern void mrl_pca_free(mrl_pca *pca);

#endif							/* MRL_EVALUATE_H */
