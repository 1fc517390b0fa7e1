/*
 * downstream_sql.c: mrl_evaluate_classification() and
 * mrl_evaluate_clustering(), the downstream tasks besides retrieval
 * measured at each Matryoshka prefix size (and on PCA-reduced vectors) on a
 * labelled table of texts.
 *
 * The table is read once, through a cursor, in id order: each body is
 * embedded with the full model in batches and its label kept (labels are
 * numbered in the byte order of their text form).  Everything else runs in
 * C (src/encoder/downstream.h): every method sees the first d values of
 * each vector scaled to unit length.  Classification scores k-nearest-
 * neighbour and logistic-regression predictions of every row over
 * stratified folds (or the table's own fold column); clustering runs
 * k-means with one cluster per label and compares it with the labels.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "downstream.h"
#include "embed.h"
#include "evaluate_sql.h"

#define DS_HINT "The labelled relation has columns id (an integer or text type, unique, not null), body (text) and label (an integer or text type), and for classification optionally fold (an integer type)."
#define DS_MAX_LABELS 1000		/* k-means costs rows x labels x dims */
#define DS_SCORE_FLOATS (32 * 1024 * 1024)	/* kNN score budget per batch of
											 * at most 256 test rows */
#define DS_LOGREG_C 1.0			/* scikit-learn's default strength */
#define DS_LOGREG_MAX_ITER 1000
#define DS_LOGREG_TOL 1e-6		/* largest gradient component, per row */
#define DS_KMEANS_MAX_ITER 300

/* A labelled table as read: vectors, class numbers and folds by row. */
typedef struct Labelled
{
	IdIndex		ids;
	int			dim;
	float	   *X;				/* [n][dim] embeddings */
	int			capacity;
	char	  **label_text;		/* [n] labels as read */
	int32	   *label;			/* [n] class numbers */
	int			n_classes;
	bool		has_fold;		/* the table has a fold column */
	int64	   *fold_value;		/* [n] its values */
	bool	   *fold_null;		/* [n] */
	int32	   *fold;			/* [n] 0..n_folds-1, -1 = never tested */
	int			n_folds;
} Labelled;

static const mrl_ds_cancel cancel_hook = {MrlInterruptRequested, NULL};

/* ---------- reading ---------- */

/* KeepRow: every row is embedded; keep its label (and fold). */
static int
KeepLabelled(void *arg, int n, const char *id, uint64 row)
{
	Labelled   *L = (Labelled *) arg;
	char	   *label = MrlSpiText(row, 3);

	if (label == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("column \"label\" of relation %s must not be null", L->ids.relname)));
	if (n >= L->capacity)
	{
		L->capacity = MrlGrowCapacity(L->capacity, n + 1, L->ids.relname);
		L->label_text = L->label_text ? repalloc(L->label_text, sizeof(char *) * L->capacity)
			: palloc(sizeof(char *) * L->capacity);
		if (L->has_fold)
		{
			L->fold_value = L->fold_value ? repalloc(L->fold_value, sizeof(int64) * L->capacity)
				: palloc(sizeof(int64) * L->capacity);
			L->fold_null = L->fold_null ? repalloc(L->fold_null, sizeof(bool) * L->capacity)
				: palloc(sizeof(bool) * L->capacity);
		}
	}
	L->label_text[n] = label;
	if (L->has_fold)
		L->fold_value[n] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[row],
													   SPI_tuptable->tupdesc, 4,
													   &L->fold_null[n]));
	return n;
}

/* qsort_arg comparator: row numbers by the text of their labels. */
static int
CompareLabels(const void *a, const void *b, void *arg)
{
	char	  **text = (char **) arg;

	return strcmp(text[*(const int *) a], text[*(const int *) b]);
}

/* Number the labels 0.. in the byte order of their text; 2..DS_MAX_LABELS of them. */
static void
NumberLabels(Labelled *L)
{
	int			n = L->ids.n;
	int		   *order = palloc(sizeof(int) * n);

	for (int i = 0; i < n; i++)
		order[i] = i;
	qsort_arg(order, n, sizeof(int), CompareLabels, L->label_text);
	L->label = palloc(sizeof(int32) * n);
	L->n_classes = 0;
	for (int i = 0; i < n; i++)
	{
		if (i > 0 && strcmp(L->label_text[order[i - 1]], L->label_text[order[i]]) != 0)
			L->n_classes++;
		L->label[order[i]] = L->n_classes;
	}
	L->n_classes++;
	pfree(order);
	if (L->n_classes < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s needs at least 2 distinct labels, not 1", L->ids.relname)));
	if (L->n_classes > DS_MAX_LABELS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("relation %s has %d distinct labels, more than the %d evaluated",
						L->ids.relname, L->n_classes, DS_MAX_LABELS)));
}

/*
 * Read the labelled table once: columns checked, every body embedded with
 * the model, labels numbered.  With_fold: read the fold column too, if the
 * table has one.
 */
static void
ReadLabelled(Labelled *L, Oid relid, bool with_fold, const MrlEmbedder *model,
			 MemoryContext mcxt)
{
	MemoryContext old;

	MrlCheckColumn(relid, "id", MrlKeyTypes, lengthof(MrlKeyTypes), "an integer or text type", DS_HINT);
	MrlCheckColumn(relid, "body", MrlTextTypes, lengthof(MrlTextTypes), "text", DS_HINT);
	MrlCheckColumn(relid, "label", MrlKeyTypes, lengthof(MrlKeyTypes), "an integer or text type", DS_HINT);
	L->has_fold = with_fold && get_attnum(relid, "fold") != InvalidAttrNumber;
	if (L->has_fold)
		MrlCheckColumn(relid, "fold", MrlIntTypes, lengthof(MrlIntTypes), "an integer type", DS_HINT);
	L->ids.relname = MrlRelName(relid);
	L->dim = model->dim;
	MrlReadTextTable(&L->ids, L->has_fold ? "label::text, fold::int8" : "label::text",
					 KeepLabelled, L, model, mcxt, &L->X);
	old = MemoryContextSwitchTo(mcxt);
	NumberLabels(L);
	MemoryContextSwitchTo(old);
}

/* qsort comparator of int64 values. */
static int
CompareInt64(const void *a, const void *b)
{
	int64		x = *(const int64 *) a,
				y = *(const int64 *) b;

	return (x > y) - (x < y);
}

/*
 * The folds: the fold column's distinct values in order (NULL: training
 * only), or `folds` stratified folds drawn with the seed.
 */
static void
AssignFolds(Labelled *L, int folds, uint64 seed)
{
	int			n = L->ids.n;

	L->fold = palloc(sizeof(int32) * n);
	if (!L->has_fold)
	{
		if (folds < 2 || folds > n)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("folds must be between 2 and the number of rows (%d), not %d", n, folds)));
		mrl_stratified_folds(L->label, n, L->n_classes, folds, seed, L->fold);
		L->n_folds = folds;
		return;
	}
	{
		int64	   *values = palloc(sizeof(int64) * n);
		int			n_values = 0,
					n_training = 0;

		for (int i = 0; i < n; i++)
			if (!L->fold_null[i])
				values[n_values++] = L->fold_value[i];
		qsort(values, n_values, sizeof(int64), CompareInt64);
		L->n_folds = 0;
		for (int i = 0; i < n_values; i++)
			if (i == 0 || values[i] != values[i - 1])
				values[L->n_folds++] = values[i];
		for (int i = 0; i < n; i++)
		{
			int64	   *at = L->fold_null[i] ? NULL :
				bsearch(&L->fold_value[i], values, L->n_folds, sizeof(int64), CompareInt64);

			L->fold[i] = at ? (int32) (at - values) : -1;
			n_training += at == NULL;
		}
		pfree(values);
		if (L->n_folds == 0 || (L->n_folds == 1 && n_training == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"fold\" of relation %s leaves no rows to train on", L->ids.relname),
					 errdetail("Each distinct non-NULL fold is tested against all other rows; rows with a NULL fold are only trained on.")));
	}
}

/* ---------- the encoder core's answers ---------- */

/* Error unless rc is MRL_DS_OK (cancelled: the pending interrupt). */
static void
CheckResult(int rc, const char *what, const char *err)
{
	if (rc == MRL_DS_OK)
		return;
	if (rc == MRL_DS_CANCELLED)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling evaluation")));
	}
	if (rc == MRL_DS_ENOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory in %s", what)));
	elog(ERROR, "%s failed: %s", what, err ? err : "invalid input");
}

/* The largest of the prefix sizes. */
static int
MaxDims(const int *dims, int n_dims)
{
	int			max_d = 0;

	for (int i = 0; i < n_dims; i++)
		max_d = Max(max_d, dims[i]);
	return max_d;
}

/*
 * The vectors a method works on, stride floats a row: the embeddings, or
 * for pca their projections on max_d components fitted on the rows that
 * use marks (all if NULL), in *P (n x max_d floats, allocated if NULL).
 */
static const float *
MethodVectors(const Labelled *L, bool pca, const bool *use, int max_d, float **P,
			  int *stride)
{
	mrl_pca		fitted;

	*stride = L->dim;
	if (!pca)
		return L->X;
	if (*P == NULL)
		*P = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) L->ids.n * max_d);
	MrlFitPca(L->X, L->ids.n, L->dim, use, max_d, use ? "training rows" : "rows", &fitted);
	mrl_pca_apply(&fitted, L->X, L->ids.n, *P);
	mrl_pca_free(&fitted);
	*stride = max_d;
	return *P;
}

/* ---------- classification ---------- */

/* Scratch of one method's folds: training and test rows of one fold. */
typedef struct FoldBuffers
{
	float	   *train;			/* [n][max_d] */
	float	   *test;			/* [n][max_d] */
	int32	   *train_label;	/* [n] */
	int32	   *pred;			/* [n] */
	int		   *test_row;		/* [n] */
	double	   *W;				/* [n_classes][max_d + 1] */
} FoldBuffers;

/*
 * Predict the rows of fold f from the other rows, on the d-dim unit rows
 * U: by their neighbours into knn[], by a logistic regression into lin[].
 */
static void
ClassifyFold(const Labelled *L, const float *U, int d, int f, int neighbors,
			 FoldBuffers *B, int32 *knn, int32 *lin)
{
	int			n_train = 0,
				n_test = 0;
	char		err[256];

	for (int i = 0; i < L->ids.n; i++)
	{
		if (L->fold[i] == f)
		{
			memcpy(B->test + (size_t) n_test * d, U + (size_t) i * d, sizeof(float) * d);
			B->test_row[n_test++] = i;
		}
		else
		{
			memcpy(B->train + (size_t) n_train * d, U + (size_t) i * d, sizeof(float) * d);
			B->train_label[n_train++] = L->label[i];
		}
	}
	CheckResult(mrl_knn_predict(B->train, B->train_label, n_train, B->test, n_test, d,
								neighbors, L->n_classes, Max(1, Min(256, DS_SCORE_FLOATS / n_train)),
								B->pred, &cancel_hook), "kNN classification", NULL);
	for (int j = 0; j < n_test; j++)
		knn[B->test_row[j]] = B->pred[j];
	CheckResult(mrl_logreg_fit(B->train, B->train_label, n_train, d, L->n_classes,
							   DS_LOGREG_C, DS_LOGREG_MAX_ITER, DS_LOGREG_TOL, B->W, NULL,
							   &cancel_hook, err, sizeof(err)), "logistic regression", err);
	mrl_logreg_predict(B->W, d, L->n_classes, B->test, n_test, B->pred);
	for (int j = 0; j < n_test; j++)
		lin[B->test_row[j]] = B->pred[j];
}

/* Accuracy and macro-F1 of pred over the tested rows (fold >= 0). */
static void
ScorePredictions(const Labelled *L, const int32 *pred, double *accuracy, double *macro_f1)
{
	int32	   *truth = palloc(sizeof(int32) * L->ids.n);
	int32	   *tested = palloc(sizeof(int32) * L->ids.n);
	int			m = 0;

	for (int i = 0; i < L->ids.n; i++)
		if (L->fold[i] >= 0)
		{
			truth[m] = L->label[i];
			tested[m++] = pred[i];
		}
	CheckResult(mrl_classification_scores(truth, tested, m, L->n_classes, accuracy, macro_f1),
				"scoring", NULL);
	pfree(truth);
	pfree(tested);
}

/*
 * One method's rows: predictions of every tested row at each prefix size,
 * fold by fold (for pca, a PCA fitted on each fold's training rows), then
 * their scores.
 */
static void
ClassifyMethod(ReturnSetInfo *rsinfo, const Labelled *L, const char *method, bool pca,
			   const int *dims, int n_dims, int neighbors)
{
	int			n = L->ids.n,
				max_d = MaxDims(dims, n_dims);
	FoldBuffers B;
	float	   *U = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * max_d);
	float	   *P = NULL;
	bool	   *use = palloc(sizeof(bool) * n);
	int32	  **knn = palloc(sizeof(int32 *) * n_dims);
	int32	  **lin = palloc(sizeof(int32 *) * n_dims);

	B.train = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * max_d);
	B.test = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * max_d);
	B.train_label = palloc(sizeof(int32) * n);
	B.pred = palloc(sizeof(int32) * n);
	B.test_row = palloc(sizeof(int) * n);
	B.W = palloc(sizeof(double) * L->n_classes * (max_d + 1));
	for (int di = 0; di < n_dims; di++)
	{
		knn[di] = palloc(sizeof(int32) * n);
		lin[di] = palloc(sizeof(int32) * n);
	}
	for (int f = 0; f < L->n_folds; f++)
	{
		const float *V;
		int			stride;

		CHECK_FOR_INTERRUPTS();
		for (int i = 0; i < n; i++)
			use[i] = L->fold[i] != f;
		V = MethodVectors(L, pca, use, max_d, &P, &stride);
		for (int di = 0; di < n_dims; di++)
		{
			mrl_unit_prefix(V, n, stride, dims[di], U);
			ClassifyFold(L, U, dims[di], f, neighbors, &B, knn[di], lin[di]);
		}
	}
	for (int di = 0; di < n_dims; di++)
	{
		Datum		values[6];
		bool		nulls[6] = {0};
		double		knn_acc,
					knn_f1,
					lin_acc,
					lin_f1;

		ScorePredictions(L, knn[di], &knn_acc, &knn_f1);
		ScorePredictions(L, lin[di], &lin_acc, &lin_f1);
		values[0] = Int32GetDatum(dims[di]);
		values[1] = CStringGetTextDatum(method);
		values[2] = Float8GetDatum(knn_acc);
		values[3] = Float8GetDatum(knn_f1);
		values[4] = Float8GetDatum(lin_acc);
		values[5] = Float8GetDatum(lin_f1);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* ---------- clustering ---------- */

/* One method's rows: k-means with one cluster per label at each prefix size. */
static void
ClusterMethod(ReturnSetInfo *rsinfo, const Labelled *L, const char *method, bool pca,
			  const int *dims, int n_dims, int restarts, uint64 seed)
{
	int			n = L->ids.n,
				max_d = MaxDims(dims, n_dims),
				stride;
	float	   *U = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) n * max_d);
	float	   *P = NULL;
	int32	   *cluster = palloc(sizeof(int32) * n);
	const float *V = MethodVectors(L, pca, NULL, max_d, &P, &stride);

	for (int di = 0; di < n_dims; di++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};
		double		nmi,
					ari;

		CHECK_FOR_INTERRUPTS();
		mrl_unit_prefix(V, n, stride, dims[di], U);
		CheckResult(mrl_kmeans(U, n, dims[di], L->n_classes, restarts, DS_KMEANS_MAX_ITER,
							   seed, cluster, NULL, &cancel_hook), "k-means", NULL);
		CheckResult(mrl_clustering_scores(L->label, L->n_classes, cluster, L->n_classes, n,
										  &nmi, &ari), "scoring", NULL);
		values[0] = Int32GetDatum(dims[di]);
		values[1] = CStringGetTextDatum(method);
		values[2] = Float8GetDatum(nmi);
		values[3] = Float8GetDatum(ari);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
}

/* ---------- the SQL functions ---------- */

/* Error if argument i is NULL. */
static void
CheckNotNull(FunctionCallInfo fcinfo, int i, const char *name)
{
	if (PG_ARGISNULL(i))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* Error unless lo <= value <= hi. */
static void
CheckRange(int value, int lo, int hi, const char *name)
{
	if (value < lo || value > hi)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be between %d and %d, not %d", name, lo, hi, value)));
}

/*
 * The arguments both functions share, (labelled, model, dims, baselines),
 * read and checked; then the table, read and embedded into L.  The result
 * is set up as a materialized set; the work runs in SPI's memory, freed by
 * the caller's SPI_finish.
 */
static void
SetUp(FunctionCallInfo fcinfo, bool with_fold, Labelled *L, int **dims, int *n_dims,
	  bool *pca)
{
	static const char *const baseline_names[] = {"pca"};
	MrlEmbedder model;

	CheckNotNull(fcinfo, 0, "labelled");
	CheckNotNull(fcinfo, 2, "dims");
	MrlParseBaselines(PG_ARGISNULL(3) ? NULL : PG_GETARG_ARRAYTYPE_P(3), baseline_names,
					  lengthof(baseline_names), pca,
					  "The baseline is \"pca\"; for a non-Matryoshka model, pass its name as model.");
	MrlEmbedderOpen(&model, fcinfo, PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)),
					0, with_fold ? "mrl_evaluate_classification" : "mrl_evaluate_clustering");
	*dims = MrlParseDims(PG_GETARG_ARRAYTYPE_P(2), model.dim, n_dims);

	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	ReadLabelled(L, PG_GETARG_OID(0), with_fold, &model, CurrentMemoryContext);
}

/*
 * mrl_evaluate_classification(labelled, model, dims, baselines, folds,
 * neighbors, seed): one row per (prefix size, method) with the accuracy
 * and macro-F1 of kNN and of a linear probe, over cross-validation folds.
 */
PG_FUNCTION_INFO_V1(mrl_evaluate_classification);
Datum
mrl_evaluate_classification(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Labelled	L = {0};
	int		   *dims,
				n_dims,
				neighbors;
	bool		pca;

	CheckNotNull(fcinfo, 5, "neighbors");
	CheckNotNull(fcinfo, 6, "seed");
	neighbors = PG_GETARG_INT32(5);
	CheckRange(neighbors, 1, 1000, "neighbors");
	if (!PG_ARGISNULL(4))
		CheckRange(PG_GETARG_INT32(4), 2, 1000, "folds");
	SetUp(fcinfo, true, &L, &dims, &n_dims, &pca);
	if (L.has_fold && !PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s has a fold column: folds must be NULL", L.ids.relname)));
	AssignFolds(&L, PG_ARGISNULL(4) ? 5 : PG_GETARG_INT32(4), (uint64) (int64) PG_GETARG_INT32(6));
	ClassifyMethod(rsinfo, &L, "prefix", false, dims, n_dims, neighbors);
	if (pca)
		ClassifyMethod(rsinfo, &L, "pca", true, dims, n_dims, neighbors);
	SPI_finish();
	return (Datum) 0;
}

/*
 * mrl_evaluate_clustering(labelled, model, dims, baselines, restarts,
 * seed): one row per (prefix size, method) with the NMI and ARI of k-means
 * (k = the number of labels) against the labels.
 */
PG_FUNCTION_INFO_V1(mrl_evaluate_clustering);
Datum
mrl_evaluate_clustering(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Labelled	L = {0};
	int		   *dims,
				n_dims,
				restarts;
	bool		pca;
	uint64		seed;

	CheckNotNull(fcinfo, 4, "restarts");
	CheckNotNull(fcinfo, 5, "seed");
	restarts = PG_GETARG_INT32(4);
	CheckRange(restarts, 1, 100, "restarts");
	seed = (uint64) (int64) PG_GETARG_INT32(5);
	SetUp(fcinfo, false, &L, &dims, &n_dims, &pca);
	ClusterMethod(rsinfo, &L, "prefix", false, dims, n_dims, restarts, seed);
	if (pca)
		ClusterMethod(rsinfo, &L, "pca", true, dims, n_dims, restarts, seed);
	SPI_finish();
	return (Datum) 0;
}
