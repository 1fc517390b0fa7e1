/*
 * test_downstream.c: the downstream classifiers, k-means and their scores
 * against scikit-learn (reference_downstream.py), the folds' balance, and
 * cancellation.  Prints TAP.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "downstream.h"
#include "reference_downstream_expected.h"
#include "tap.h"

/* A cancel hook that says yes from its n-th call on. */
static int
cancel_after(void *arg)
{
	int		   *calls_left = (int *) arg;

	return --*calls_left < 0;
}

static void
test_scores(void)
{
	double		acc,
				f1,
				nmi,
				ari;
	int32_t		singles[12],
				reversed[12],
				zeros[12] = {0};

	mrl_classification_scores(score_truth, score_pred, SCORE_N, SCORE_CLASSES, &acc, &f1);
	ok(fabs(acc - score_expected[0]) < 1e-12 && fabs(f1 - score_expected[1]) < 1e-12,
	   "accuracy %.6f and macro-F1 %.6f equal scikit-learn's (%.6f, %.6f), classes never predicted or never true included",
	   acc, f1, score_expected[0], score_expected[1]);
	for (int c = 0; c < CLUST_CASES; c++)
	{
		mrl_clustering_scores(clust_labels, 6, clust_clusters + c * CLUST_N, 9, CLUST_N, &nmi, &ari);
		ok(fabs(nmi - clust_expected[2 * c]) < 1e-12 && fabs(ari - clust_expected[2 * c + 1]) < 1e-12,
		   "clustering %d: NMI %.6f and ARI %.6f equal scikit-learn's (%.6f, %.6f)",
		   c, nmi, ari, clust_expected[2 * c], clust_expected[2 * c + 1]);
	}
	for (int i = 0; i < 12; i++)
	{
		singles[i] = i;
		reversed[i] = 11 - i;
	}
	mrl_clustering_scores(singles, 12, reversed, 12, 12, &nmi, &ari);
	ok(nmi == clust_singletons_expected[0] && ari == clust_singletons_expected[1],
	   "all singletons in both: NMI %g, ARI %g (scikit-learn: 1, 1)", nmi, ari);
	mrl_clustering_scores(zeros, 1, singles, 12, 12, &nmi, &ari);
	ok(nmi == clust_singletons_expected[2] && ari == clust_singletons_expected[3],
	   "one label against singletons: NMI %g, ARI %g (scikit-learn: 0, 0)", nmi, ari);
	ok(mrl_clustering_scores(zeros, 1, singles, 11, 12, &nmi, &ari) == MRL_DS_EINVAL &&
	   mrl_classification_scores(singles, zeros, 12, 11, &acc, &f1) == MRL_DS_EINVAL,
	   "a class number out of range is refused");
}

static void
test_folds(void)
{
	enum
	{
		N = 103, CLASSES = 4, FOLDS = 5
	};
	int32_t		label[N],
				fold[N],
				again[N],
				other[N];
	int			per[CLASSES][FOLDS] = {{0}},
				total[FOLDS] = {0},
				balanced = 1;

	for (int i = 0; i < N; i++)
		label[i] = (i * 7 + i / 5) % CLASSES;
	mrl_stratified_folds(label, N, CLASSES, FOLDS, 42, fold);
	mrl_stratified_folds(label, N, CLASSES, FOLDS, 42, again);
	mrl_stratified_folds(label, N, CLASSES, FOLDS, 43, other);
	for (int i = 0; i < N; i++)
	{
		per[label[i]][fold[i]]++;
		total[fold[i]]++;
	}
	for (int c = 0; c < CLASSES; c++)
		for (int f = 0; f < FOLDS; f++)
			balanced &= abs(per[c][f] - per[c][0]) <= 1 && abs(total[f] - total[0]) <= 1;
	ok(balanced, "stratified folds: each class's and each fold's sizes differ by at most one");
	ok(memcmp(fold, again, sizeof(fold)) == 0 && memcmp(fold, other, sizeof(fold)) != 0,
	   "folds depend on the seed, and only on it");
}

static void
test_knn(void)
{
	int32_t		pred[KNN_TEST];
	int			same5 = 0,
				same8 = 0,
				calls = 1;
	mrl_ds_cancel cancel = {cancel_after, &calls};

	mrl_knn_predict(knn_train, knn_train_label, KNN_TRAIN, knn_test, KNN_TEST, KNN_D, 5,
					KNN_CLASSES, 7, pred, NULL);
	for (int i = 0; i < KNN_TEST; i++)
		same5 += pred[i] == knn_pred_k5[i];
	mrl_knn_predict(knn_train, knn_train_label, KNN_TRAIN, knn_test, KNN_TEST, KNN_D, 8,
					KNN_CLASSES, 1000, pred, NULL);
	for (int i = 0; i < KNN_TEST; i++)
		same8 += pred[i] == knn_pred_k8[i];
	ok(same5 == KNN_TEST && same8 == KNN_TEST,
	   "kNN (cosine) predictions equal scikit-learn's: k = 5 %d/%d (batches of 7), k = 8 (ties to the lowest class) %d/%d",
	   same5, KNN_TEST, same8, KNN_TEST);
	ok(mrl_knn_predict(knn_train, knn_train_label, KNN_TRAIN, knn_test, KNN_TEST, KNN_D, 5,
					   KNN_CLASSES, 7, pred, &cancel) == MRL_DS_CANCELLED,
	   "kNN stops when the cancel hook asks");
}

static void
test_logreg(void)
{
	const double *expected[2] = {lr_c1_W, lr_c01_W};
	const int32_t *expected_pred[2] = {lr_c1_pred, lr_c01_pred};
	double		C[2] = {1.0, 0.1};
	double		W[LR_CLASSES * (LR_D + 1)];
	int32_t		pred[LR_TEST];
	char		err[256];

	for (int t = 0; t < 2; t++)
	{
		double		worst = 0.0;
		int			iterations = 0,
					same = 0,
					rc;

		rc = mrl_logreg_fit(lr_X, lr_y, LR_N, LR_D, LR_CLASSES, C[t], 1000, 1e-10, W,
							&iterations, NULL, err, sizeof(err));
		for (int i = 0; i < LR_CLASSES * (LR_D + 1); i++)
			worst = fmax(worst, fabs(W[i] - expected[t][i]));
		mrl_logreg_predict(W, LR_D, LR_CLASSES, lr_X + LR_N * LR_D, LR_TEST, pred);
		for (int i = 0; i < LR_TEST; i++)
			same += pred[i] == expected_pred[t][i];
		ok(rc == MRL_DS_OK && worst < 1e-6 && same == LR_TEST,
		   "logistic regression, C = %g: weights and intercepts equal scikit-learn's within %.1e after %d iterations, predictions %d/%d",
		   C[t], worst, iterations, same, LR_TEST);
	}
	{
		int			calls = 3;
		mrl_ds_cancel cancel = {cancel_after, &calls};

		ok(mrl_logreg_fit(lr_X, lr_y, LR_N, LR_D, LR_CLASSES, 1.0, 1000, 1e-10, W, NULL,
						  &cancel, err, sizeof(err)) == MRL_DS_CANCELLED,
		   "logistic regression stops when the cancel hook asks");
	}
	ok(mrl_logreg_fit(lr_X, lr_y, LR_N, LR_D, 1, 1.0, 1000, 1e-10, W, NULL, NULL, err,
					  sizeof(err)) == MRL_DS_EINVAL,
	   "logistic regression refuses a single class (%s)", err);
}

static void
test_kmeans(void)
{
	int32_t		assign[KM_N];
	double		inertia,
				nmi,
				ari;
	int			calls = 2;
	mrl_ds_cancel cancel = {cancel_after, &calls};

	mrl_kmeans(km_blobs, KM_N, KM_D, 4, 5, 300, 42, assign, &inertia, NULL);
	mrl_clustering_scores(km_blob, 4, assign, 4, KM_N, &nmi, &ari);
	ok(ari == 1.0, "k-means finds 4 separated blobs exactly (ARI %g)", ari);
	mrl_kmeans(km_overlap, KM_N, KM_D, 3, 10, 300, 42, assign, &inertia, NULL);
	ok(fabs(inertia - km_overlap_inertia[0]) < 1e-4 * km_overlap_inertia[0],
	   "k-means on overlapping classes, 10 restarts: inertia %.4f, scikit-learn's best of 50 %.4f",
	   inertia, km_overlap_inertia[0]);
	ok(mrl_kmeans(km_overlap, KM_N, KM_D, 3, 10, 300, 42, assign, &inertia, &cancel) == MRL_DS_CANCELLED,
	   "k-means stops when the cancel hook asks");
	ok(mrl_kmeans(km_overlap, 2, KM_D, 3, 1, 300, 42, assign, &inertia, NULL) == MRL_DS_EINVAL,
	   "k-means refuses more clusters than rows");
}

int
main(void)
{
	test_scores();
	test_folds();
	test_knn();
	test_logreg();
	test_kmeans();
	return tap_done();
}
