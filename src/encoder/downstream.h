/*
 * downstream.h: classification and clustering of embeddings, the
 * downstream tasks besides retrieval, for measuring each Matryoshka prefix
 * size: stratified folds, k-nearest-neighbour and multinomial logistic
 * regression classifiers, k-means, and their scores (accuracy, macro-F1,
 * NMI, ARI).
 *
 * Rows are float vectors of d values, row-major; labels and clusters are
 * class numbers 0..n_classes-1.  Conventions follow scikit-learn, which
 * the tests use as the reference: a kNN vote tie goes to the lowest class
 * number, macro-F1 averages over the classes present in the truth or the
 * predictions, NMI is normalised by the arithmetic mean of the entropies.
 * Plain C, no PostgreSQL headers; long loops poll a cancel hook.
 */
#ifndef MRL_DOWNSTREAM_H
#define MRL_DOWNSTREAM_H

#include <stddef.h>
#include <stdint.h>

#define MRL_DS_OK			0
#define MRL_DS_EINVAL		(-1)	/* bad parameter or data */
#define MRL_DS_ENOMEM		(-2)
#define MRL_DS_CANCELLED	(-3)	/* the cancel hook asked to stop */

/* Polled between units of work; nonzero stops the call cleanly. */
typedef struct mrl_ds_cancel
{
	int			(*requested) (void *arg);
	void	   *arg;
} mrl_ds_cancel;

/*
 * out [n][d] = the first d values of each row of X (rows stride floats
 * apart), scaled to unit length; a zero prefix stays zero.
 */
extern void mrl_unit_prefix(const float *X, int n, int stride, int d, float *out);

/*
 * Stratified k-fold assignment: rows are shuffled with the seed, then each
 * class's rows are dealt to the folds in turn, every class starting where
 * the previous one stopped.  Each class's fold sizes, and the folds' total
 * sizes, differ by at most one.  fold[i] receives 0..folds-1.
 */
extern int	mrl_stratified_folds(const int32_t *label, int n, int n_classes,
								 int folds, uint64_t seed, int32_t *fold);

/*
 * k-nearest-neighbour classification by inner product (cosine on unit
 * rows): each test row's k highest-scoring training rows (ties to the
 * lower row) vote, one vote each; a tie goes to the lowest class number.
 * k is capped at n_train.  Test rows are scored in batches of at most
 * batch rows (batch x n_train floats of scores).
 */
extern int	mrl_knn_predict(const float *train, const int32_t *train_label, int n_train,
							const float *test, int n_test, int d, int k, int n_classes,
							int batch, int32_t *pred, const mrl_ds_cancel *cancel);

/*
 * Multinomial logistic regression, L2-regularised as scikit-learn's
 * LogisticRegression(C): minimises C * sum of cross-entropies + 1/2 |W|^2
 * (the intercepts are not penalised), by L-BFGS from zero in double
 * precision, until the largest gradient component of the per-row
 * objective is below tol, or max_iter iterations.  W receives
 * [n_classes][d + 1] weights, the intercept last; *iterations (may be
 * NULL) the iterations run.
 */
extern int	mrl_logreg_fit(const float *X, const int32_t *y, int n, int d, int n_classes,
						   double C, int max_iter, double tol, double *W, int *iterations,
						   const mrl_ds_cancel *cancel, char *err, size_t errlen);

/* pred[i] = the class of highest score W x_i + b (ties to the lowest). */
extern int	mrl_logreg_predict(const double *W, int d, int n_classes,
							   const float *X, int n, int32_t *pred);

/*
 * k-means (Lloyd) with greedy k-means++ seeding (each centroid the best of
 * 2 + ln k candidates, as scikit-learn), restarts times from seeds drawn
 * from seed, each until no row changes cluster or max_iter iterations; an
 * emptied cluster takes the row farthest from its centroid.  assign[i]
 * receives the cluster of row i in the run of lowest inertia (sum of
 * squared distances to the centroids, *inertia; may be NULL).
 */
extern int	mrl_kmeans(const float *X, int n, int d, int k, int restarts, int max_iter,
					   uint64_t seed, int32_t *assign, double *inertia,
					   const mrl_ds_cancel *cancel);

/* Accuracy and macro-F1 of predictions against the truth (n >= 1). */
extern int	mrl_classification_scores(const int32_t *truth, const int32_t *pred, int n,
									  int n_classes, double *accuracy, double *macro_f1);

/*
 * Normalised mutual information (arithmetic mean of the entropies) and
 * adjusted Rand index of a clustering against labels (n >= 1).
 */
extern int	mrl_clustering_scores(const int32_t *label, int n_labels,
								  const int32_t *cluster, int n_clusters, int n,
								  double *nmi, double *ari);

#endif							/* MRL_DOWNSTREAM_H */
