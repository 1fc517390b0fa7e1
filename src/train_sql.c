/*
 * train_sql.c: mrl_train(), Matryoshka training of a static model on the
 * user's own pairs, inside the database.
 *
 * Reads (anchor, positive[, hard negative]) texts with a query, tokenizes
 * them with the base model's tokenizer, trains with the encoder core's
 * trainer (MatryoshkaLoss over in-batch-negatives ranking loss), writes the
 * result as a sentence-transformers StaticEmbedding directory into this
 * database's cache (model_files.c), and stores it in the database under
 * its name, owned by the caller (registry.c, model_store.c).
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"

#include "embed.h"
#include "model_files.h"
#include "progress.h"
#include "registry.h"
#include "static_model.h"
#include "train.h"
#include "train_set.h"

#define TRAIN_FETCH_ROWS 1024	/* pairs read per cursor fetch */

/* Progress reporting and cancellation from inside the trainer. */
typedef struct TrainProgress
{
	long		every;
	long		last_reported;
} TrainProgress;

/*
 * Report every step to the mrl_progress view, and about ten times per run as
 * NOTICEs (neither ever longjmps).
 */
static void
ReportProgress(void *arg, long step, long total, double loss)
{
	TrainProgress *p = (TrainProgress *) arg;

	MrlProgressTrainStep(step, total, loss);
	if (step == total || step - p->last_reported >= p->every)
	{
		ereport(NOTICE,
				(errmsg("mrl_train: step %ld of %ld, loss %.4f", step, total, loss)));
		p->last_reported = step;
	}
}

/*
 * Training writes files on the server (the model, before it is stored):
 * superusers and pg_write_server_files members.
 */
static void
CheckCanWriteServerFiles(void)
{
	if (!superuser() &&
		!has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to train a model"),
				 errdetail("Training writes the model under the data directory: only superusers and members of pg_write_server_files may do it.")));
}

/* The training set lives in malloc'd memory: free it with the memory context. */
static void
FreeTrainSet(void *arg)
{
	mrl_train_set_free((mrl_train_set *) arg);
}

/* Error unless the pairs query returns 2 or 3 text columns. */
static void
CheckPairColumns(TupleDesc desc)
{
	if (desc->natts < 2 || desc->natts > 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the pairs query must return 2 or 3 columns (anchor, positive[, hard negative]), not %d",
						desc->natts)));
	for (int c = 1; c <= desc->natts; c++)
		if (getBaseType(SPI_gettypeid(desc, c)) != TEXTOID &&
			getBaseType(SPI_gettypeid(desc, c)) != VARCHAROID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("column %d of the pairs query must be text, not %s",
							c, format_type_be(SPI_gettypeid(desc, c)))));
}

/*
 * The pairs query with its columns checked, sorted by its texts (bytewise):
 * the training set, shuffled by the seed, must not depend on the order the
 * rows come in, which a distributed table's shards do not fix.
 */
static SPIPlanPtr
PrepareSortedPairs(const char *query)
{
	SPIPlanPtr	plan = SPI_prepare(query, 0, NULL);
	CachedPlanSource *source;
	int			ncols;
	int			len = strlen(query);

	if (plan == NULL || !SPI_is_cursor_plan(plan) ||
		((CachedPlanSource *) linitial(SPI_plan_get_plan_sources(plan)))->commandTag != CMDTAG_SELECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the pairs query must be a SELECT")));
	source = linitial(SPI_plan_get_plan_sources(plan));
	CheckPairColumns(source->resultDesc);
	ncols = source->resultDesc->natts;
	SPI_freeplan(plan);
	/* as a subquery: without the statement's final semicolons */
	while (len > 0 && (query[len - 1] == ';' || isspace((unsigned char) query[len - 1])))
		len--;
	plan = SPI_prepare(psprintf("SELECT * FROM (%.*s\n) AS pairs (a, p%s) "
								"ORDER BY a COLLATE \"C\", p COLLATE \"C\"%s",
								len, query, ncols == 3 ? ", h" : "",
								ncols == 3 ? ", h COLLATE \"C\"" : ""), 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not sort the pairs query: %s", SPI_result_code_string(SPI_result));
	return plan;
}

/*
 * Run the pairs query (as the caller) into a training set: 2 or 3 text
 * columns; the set drops rows whose texts have no tokens or are the same.
 * Rows with a NULL anchor or positive are skipped too.  The rows come
 * through a cursor, a batch at a time: only their token ids are kept.
 */
static void
ReadPairs(const char *query, mrl_encoder *enc, mrl_train_set *set)
{
	SPIPlanPtr	plan = PrepareSortedPairs(query);
	Portal		portal;
	MemoryContext batch_cxt,
				old;
	int			ncols;
	char		err[512];

	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	ncols = portal->tupDesc->natts;
	batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "mrl_train pairs",
									  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, TRAIN_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		old = MemoryContextSwitchTo(batch_cxt);
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			char	   *a = SPI_getvalue(tup, SPI_tuptable->tupdesc, 1);
			char	   *p = SPI_getvalue(tup, SPI_tuptable->tupdesc, 2);
			char	   *h = ncols == 3 ? SPI_getvalue(tup, SPI_tuptable->tupdesc, 3) : NULL;
			int			rc;

			CHECK_FOR_INTERRUPTS();
			if (a == NULL || p == NULL)
				continue;
			rc = mrl_train_set_add(set, enc, a, strlen(a), p, strlen(p),
								   h, h ? strlen(h) : 0, err, sizeof(err));
			if (rc < 0)
				ereport(ERROR,
						(errcode(rc == -2 ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("could not add a training pair: %s", err)));
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(batch_cxt);
		MrlProgressDone(set->data.n_pairs);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_freeplan(plan);
	MemoryContextDelete(batch_cxt);
	if (set->data.n_pairs < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mrl_train needs at least 2 usable pairs, the query gave %d",
						set->data.n_pairs)));
}

/*
 * Fewer pairs than one batch make each epoch a single gradient step, which
 * at the default batch size barely moves the model: say so.
 */
static void
WarnIfOneBatch(int n_pairs, int batch_size)
{
	if (n_pairs < batch_size)
		ereport(WARNING,
				(errmsg("mrl_train: %d pairs are fewer than one batch of %d, so each epoch is a single gradient step",
						n_pairs, batch_size),
				 errhint("Pass a smaller batch_size, or more epochs.")));
}

/* Fill the Matryoshka sizes (ascending, within the width) and their weights. */
static void
SetDims(mrl_train_params *p, ArrayType *dims, ArrayType *weights)
{
	Datum	   *d;
	bool	   *nulls;
	int			n;

	deconstruct_array(dims, INT4OID, 4, true, TYPALIGN_INT, &d, &nulls, &n);
	if (n < 1 || n > MRL_TRAIN_MAX_DIMS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dims must list 1 to %d prefix sizes", MRL_TRAIN_MAX_DIMS)));
	p->n_dims = n;
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("dims must not contain NULLs")));
		p->dims[i] = DatumGetInt32(d[i]);
	}
	if (weights == NULL)
		return;
	deconstruct_array(weights, FLOAT4OID, 4, true, TYPALIGN_INT, &d, &nulls, &n);
	if (n != p->n_dims)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dim_weights must have one weight per prefix size (%d), not %d",
						p->n_dims, n)));
	for (int i = 0; i < n; i++)
		p->dim_weights[i] = nulls[i] ? 1.0f : DatumGetFloat4(d[i]);
}

/*
 * mrl_train(name, pairs, dims, base, epochs, batch_size, learning_rate,
 *           dim_weights, seed)
 */
PG_FUNCTION_INFO_V1(mrl_train);
Datum
mrl_train(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *query;
	char	   *base;
	mrl_encoder *enc;
	const float *baseE;
	const char *tokenizer;
	int			vocab,
				width;
	float	   *E;
	mrl_train_set *set = palloc0(sizeof(mrl_train_set));
	MemoryContextCallback *free_set = palloc0(sizeof(MemoryContextCallback));
	mrl_train_params params;
	mrl_train_stats stats = {0};
	TrainProgress progress = {0};
	char		err[512];
	MrlBuild   *build;
	char	   *model_dir;
	char	   *sha256;
	int			rc;
	TupleDesc	tupdesc;
	Datum		values[6];
	bool		nulls[6] = {0};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(4) ||
		PG_ARGISNULL(5) || PG_ARGISNULL(6) || PG_ARGISNULL(8))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("only base and dim_weights of mrl_train may be NULL")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	query = text_to_cstring(PG_GETARG_TEXT_PP(1));
	base = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	CheckCanWriteServerFiles();
	MrlCheckModelName(name);
	MrlCheckModelNameFree(name);
	MrlSweepFiles();

	/* the base model (or, from scratch, the built-in model's tokenizer) */
	enc = MrlModelForUse(fcinfo, base, "mrl_train");
	baseE = mrl_encoder_static_matrix(enc, &vocab, &width);
	tokenizer = mrl_encoder_tokenizer_path(enc);
	if (baseE == NULL || tokenizer == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("the base model must be a static model with a tokenizer.json"),
				 errhint("Use base => 'mrl-default', another model trained by mrl_train, or NULL to start from scratch with the built-in tokenizer.")));

	mrl_train_params_init(&params, width);
	SetDims(&params, PG_GETARG_ARRAYTYPE_P(2), PG_ARGISNULL(7) ? NULL : PG_GETARG_ARRAYTYPE_P(7));
	if (base == NULL)
		width = params.dim = params.dims[params.n_dims - 1];
	params.epochs = PG_GETARG_INT32(4);
	params.batch_size = PG_GETARG_INT32(5);
	params.lr = (float) PG_GETARG_FLOAT8(6);
	params.seed = (uint64) PG_GETARG_INT64(8);
	params.progress = ReportProgress;
	params.cancel = MrlInterruptRequested;
	params.callback_arg = &progress;
	if (mrl_train_check_params(&params, err, sizeof(err)) != MRL_TRAIN_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", err)));

	E = palloc_extended(sizeof(float) * (size_t) vocab * width, MCXT_ALLOC_HUGE);
	if (base != NULL)
		memcpy(E, baseE, sizeof(float) * (size_t) vocab * width);
	else
		mrl_static_init_random(E, vocab, width, params.seed);

	mrl_train_set_init(set, 0);
	free_set->func = FreeTrainSet;
	free_set->arg = set;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, free_set);
	SPI_connect();
	MrlProgressStart(MRL_PROGRESS_TRAIN);
	MrlProgressSetPhase(MRL_PHASE_READING_PAIRS, -1);
	ReadPairs(query, enc, set);
	WarnIfOneBatch(set->data.n_pairs, params.batch_size);
	progress.every = Max(1, ((long) set->data.n_pairs / params.batch_size + 1) * params.epochs / 10);

	MrlProgressSetPhase(MRL_PHASE_TRAINING, -1);
	rc = mrl_train_static(E, vocab, &set->data, &params, &stats, err, sizeof(err));
	if (rc == MRL_TRAIN_CANCELLED)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR, (errcode(ERRCODE_QUERY_CANCELED), errmsg("canceling training")));
	}
	if (rc != MRL_TRAIN_OK)
		ereport(ERROR,
				(errcode(rc == MRL_TRAIN_ENOMEM ? ERRCODE_OUT_OF_MEMORY : ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("training failed: %s", err)));
	SPI_finish();

	/* removed again if this (sub)transaction does not commit */
	MrlProgressSetPhase(MRL_PHASE_WRITING_MODEL, -1);
	build = MrlBeginBuild();
	model_dir = psprintf("%s/model", build->path);
	if (mrl_static_model_write(model_dir, E, vocab, width, tokenizer, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not write the trained model: %s", err)));
	sha256 = MrlRegisterStoredModel(name, model_dir, build);
	MrlProgressEnd();

	values[0] = CStringGetTextDatum(name);
	values[1] = Int64GetDatum(stats.steps_done);
	values[2] = Int64GetDatum(set->data.n_pairs);
	values[3] = Float8GetDatum(stats.first_loss);
	values[4] = Float8GetDatum(stats.last_loss);
	values[5] = CStringGetTextDatum(sha256);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
