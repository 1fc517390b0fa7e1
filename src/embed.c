/*
 * embed.c: the SQL face of the encoder: mrl_embed() and the encoder's
 * settings.
 *
 * The encoder itself is the plain C library in src/encoder/; this file
 * resolves the model argument (through the registry, registry.c, and the
 * models loaded in this backend, loaded_models.c, or for a remote model its
 * endpoint, remote.c), and turns results and errors into mvectors and
 * ereports.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "mvector.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "embed.h"
#include "encoder.h"
#include "loaded_models.h"
#include "registry.h"
#include "remote.h"

#define MAX_BATCH_TEXTS 64		/* texts per library call: interrupt granularity */
#define LOCAL_EMBEDDER_TEXTS 256	/* texts per MrlEmbedderRun, local models */
#define REMOTE_EMBEDDER_MAX_TEXTS 16384	/* at most, remote ones */

/* Settings (defined by MrlEmbedDefineSettings, called from _PG_init) */
int			mrl_encoder_threads = 1;
char	   *mrl_default_model = NULL;

void		MrlEmbedDefineSettings(void);

/* What one call site resolved: cached in fn_extra for the rest of the query. */
typedef struct ResolvedModel
{
	char		name[NAMEDATALEN + 1];
	char		pin[65];		/* mrl_embed_pinned's checked sha256 */
	mrl_encoder *enc;			/* a local model, or NULL */
	MrlRemoteModel *remote;		/* a remote one (remote.c), or NULL */
} ResolvedModel;

/* ---------- which model ---------- */

/* The encoder of a local model, file-backed or stored, as MrlFindModel found it. */
static mrl_encoder *
LoadLocalModel(const MrlModelRef *ref)
{
	if (ref->sha256 != NULL)
		return MrlLoadStoredModel(ref->name, ref->sha256, ref->bytes);
	return MrlLoadModel(ref->path);
}

/* Error for a remote model given to caller, which runs local models only. */
static void
RefuseRemoteModel(const char *name, const char *caller)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("model \"%s\" is served by a remote API", name),
			 errdetail("%s runs local models only.", caller),
			 strcmp(caller, "mrl_train") == 0 ?
			 errhint("An API returns vectors, not the weights mrl_train starts from: give a local base model, or NULL to start from the built-in tokenizer.") :
			 errhint("mrl_embed, mrl_embed_table and mrl_evaluate take remote models.")));
}

/*
 * The encoder of a local model the current user may use, by name (NULL: the
 * default); caller names the function that asks, in errors.
 */
mrl_encoder *
MrlModelForUse(FunctionCallInfo fcinfo, const char *name, const char *caller)
{
	MrlModelRef ref;

	name = name ? name : mrl_default_model;
	MrlFindModel(name, &ref);
	if (ref.server != NULL)
		RefuseRemoteModel(name, caller);
	return LoadLocalModel(&ref);
}

/* Resolve the model argument once per call site and query. */
static ResolvedModel *
ResolveModel(FunctionCallInfo fcinfo, int argno)
{
	ResolvedModel *r = (ResolvedModel *) fcinfo->flinfo->fn_extra;
	const char *name;
	MrlModelRef ref;
	mrl_encoder *enc = NULL;
	MrlRemoteModel *remote = NULL;

	if (PG_ARGISNULL(argno))
		name = mrl_default_model;
	else
		name = text_to_cstring(PG_GETARG_TEXT_PP(argno));

	if (r != NULL && strcmp(r->name, name) == 0)
		return r;
	MrlFindModel(name, &ref);
	if (ref.server != NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		remote = MrlRemoteModelOpen(name, &ref);
		MemoryContextSwitchTo(old);
	}
	else
		enc = LoadLocalModel(&ref);
	if (r == NULL)
		r = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ResolvedModel));
	strlcpy(r->name, name, sizeof(r->name));
	r->enc = enc;
	r->remote = remote;
	fcinfo->flinfo->fn_extra = r;
	return r;
}

/* ---------- embedding ---------- */

/*
 * The library asks this between layers, batches and steps: stop only for a
 * query cancel (pg_cancel_backend, statement_timeout) or a termination that
 * CHECK_FOR_INTERRUPTS() would act on now.  Other interrupts set
 * InterruptPending too (PostgreSQL 15's idle-stats timer, memory-context
 * dump requests, barriers): they are served by the CHECK_FOR_INTERRUPTS()
 * between library calls and must not end the statement.
 */
int
MrlInterruptRequested(void *arg)
{
	return (QueryCancelPending || ProcDiePending) && INTERRUPTS_CAN_BE_PROCESSED();
}

/* Default options: this backend's threads, cancellation between steps. */
void
MrlEmbedOptionsInit(mrl_embed_options *opts)
{
	mrl_embed_options_init(opts);
	opts->threads = mrl_encoder_threads;
	opts->interrupt = MrlInterruptRequested;
}

/* Ask a local model for a prefix of dims values. */
static void
SetDims(mrl_encoder *enc, mrl_embed_options *opts, int dims)
{
	mrl_encoder_info info;

	/* nomic-embed's Matryoshka recipe: LayerNorm, then truncate, then L2 */
	mrl_encoder_get_info(enc, &info);
	if (strcmp(info.arch, "nomic-bert") == 0)
		opts->dims_mode = MRL_DIMS_LAYERNORM;
	opts->dims = dims;
	if (opts->dims < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dims must be at least 1, not %d", opts->dims)));
}

/* Options from the optional SQL arguments (dims, layers), NULL = default. */
static void
EmbedOptions(FunctionCallInfo fcinfo, mrl_encoder *enc, int dims_arg, int layers_arg,
			 mrl_embed_options *opts)
{
	MrlEmbedOptionsInit(opts);
	if (!PG_ARGISNULL(dims_arg))
		SetDims(enc, opts, PG_GETARG_INT32(dims_arg));
	if (!PG_ARGISNULL(layers_arg))
	{
		opts->layers = PG_GETARG_INT32(layers_arg);
		if (opts->layers < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("layers must be at least 1, not %d", opts->layers)));
	}
}

/*
 * Embed n texts into out (n rows of dim floats) in library batches,
 * honouring query cancellation between them.
 */
void
MrlEmbedTexts(mrl_encoder *enc, const char **texts, const size_t *lens, int n,
		   const mrl_embed_options *opts, int dim, float *out)
{
	char		err[512];

	for (int start = 0; start < n; start += MAX_BATCH_TEXTS)
	{
		int			count = Min(MAX_BATCH_TEXTS, n - start);
		int			rc;

		CHECK_FOR_INTERRUPTS();
		rc = mrl_encoder_embed(enc, texts + start, lens + start, count, opts,
							   out + (size_t) start * dim, err, sizeof(err));
		if (rc == MRL_FWD_EINTERRUPTED)
		{
			CHECK_FOR_INTERRUPTS();
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("canceling embedding")));
		}
		if (rc == MRL_FWD_ENOMEM)
			ereport(ERROR,
					(errcode(ERRCODE_OUT_OF_MEMORY),
					 errmsg("out of memory while embedding: %s", err)));
		if (rc != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("could not embed text: %s", err)));
	}
}

/* The output width for these options, or an error naming the problem. */
int
MrlOutputDim(mrl_encoder *enc, const mrl_embed_options *opts)
{
	char		err[512];
	int			dim = mrl_encoder_out_dim(enc, opts, err, sizeof(err));

	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", err)));
	if (dim > MVECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model output of %d dimensions exceeds the mvector limit of %d",
						dim, MVECTOR_MAX_DIM)));
	return dim;
}

/*
 * Open the model of this name (NULL: the default) for the current user,
 * asking for dims values (0: the model's width).  A remote model is refused
 * with local_only_caller's name, unless that is NULL.
 */
void
MrlEmbedderOpen(MrlEmbedder *e, FunctionCallInfo fcinfo, const char *name, int dims,
				const char *local_only_caller)
{
	MrlModelRef ref;

	memset(e, 0, sizeof(*e));
	e->name = name ? name : mrl_default_model;
	MrlFindModel(e->name, &ref);
	if (ref.server != NULL && local_only_caller != NULL)
		RefuseRemoteModel(e->name, local_only_caller);
	if (ref.server != NULL)
	{
		e->remote = MrlRemoteModelOpen(e->name, &ref);
		e->dim = MrlRemoteCheckDims(e->remote, dims);
		e->batch_texts = Min(MrlRemoteBatchTexts(e->remote), REMOTE_EMBEDDER_MAX_TEXTS);
		return;
	}
	e->enc = LoadLocalModel(&ref);
	MrlEmbedOptionsInit(&e->opts);
	if (dims != 0)
		SetDims(e->enc, &e->opts, dims);
	e->dim = MrlOutputDim(e->enc, &e->opts);
	e->batch_texts = LOCAL_EMBEDDER_TEXTS;
}

/* Embed n texts into out (n rows of e->dim floats), checked, in input order. */
void
MrlEmbedderRun(const MrlEmbedder *e, const char **texts, const size_t *lens, int n, float *out)
{
	if (e->remote != NULL)
		MrlRemoteEmbed(e->remote, texts, lens, n, e->dim, out);
	else
		MrlEmbedTexts(e->enc, texts, lens, n, &e->opts, e->dim, out);
	MVectorCheckModelOutput(out, (size_t) n * e->dim, e->name);
}

/*
 * Embed n texts with the model and options of this call's arguments (model,
 * dims, layers): the vectors' width, the vectors in a palloc'd *out.
 */
static int
EmbedWithArgs(FunctionCallInfo fcinfo, const char **texts, const size_t *lens, int n, float **out)
{
	ResolvedModel *r = ResolveModel(fcinfo, 1);
	mrl_embed_options opts;
	int			dim;

	if (r->remote != NULL)
	{
		dim = MrlRemoteOutputDim(r->remote, fcinfo, 2, 3);
		*out = palloc_extended(sizeof(float) * (size_t) Max(n, 1) * dim, MCXT_ALLOC_HUGE);
		MrlRemoteEmbed(r->remote, texts, lens, n, dim, *out);
	}
	else
	{
		EmbedOptions(fcinfo, r->enc, 2, 3, &opts);
		dim = MrlOutputDim(r->enc, &opts);
		*out = palloc_extended(sizeof(float) * (size_t) Max(n, 1) * dim, MCXT_ALLOC_HUGE);
		MrlEmbedTexts(r->enc, texts, lens, n, &opts, dim, *out);
	}
	MVectorCheckModelOutput(*out, (size_t) n * dim, r->name);
	return dim;
}

/* mrl_embed(text, model, dims, layers) -> mvector */
PG_FUNCTION_INFO_V1(mrl_embed);
Datum
mrl_embed(PG_FUNCTION_ARGS)
{
	text	   *t;
	const char *texts[1];
	size_t		lens[1];
	float	   *out;
	MVector    *result;
	int			dim;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = PG_GETARG_TEXT_PP(0);
	texts[0] = VARDATA_ANY(t);
	lens[0] = VARSIZE_ANY_EXHDR(t);
	dim = EmbedWithArgs(fcinfo, texts, lens, 1, &out);
	result = InitMVector(dim);
	memcpy(result->x, out, sizeof(float) * dim);
	PG_RETURN_MVECTOR_P(result);
}

/*
 * The local encoder of model (argument 1) if its content hash is sha256
 * (argument 2), else an error; checked once per call site and query.
 */
static ResolvedModel *
ResolvePinnedModel(FunctionCallInfo fcinfo)
{
	ResolvedModel *r = (ResolvedModel *) fcinfo->flinfo->fn_extra;
	char	   *name;
	char	   *pin;
	const char *sha256;
	MrlModelRef ref;

	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("mrl_embed_pinned needs a model and its sha256")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	pin = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (r != NULL && strcmp(r->name, name) == 0 && strcmp(r->pin, pin) == 0)
		return r;
	MrlFindModel(name, &ref);
	sha256 = MrlModelContentHash(&ref);
	if (sha256 == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("model \"%s\" is registered by path: its contents are not fixed", name),
				 errhint("Register a copy with mrl_register_model(name, path, store => true) to pin it.")));
	if (strcmp(sha256, pin) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model \"%s\" has sha256 %s, not %s", name, sha256, pin),
				 errhint("The pinned model was replaced; embed again with mrl_model_sha256(name).")));
	if (r == NULL)
		r = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ResolvedModel));
	strlcpy(r->name, name, sizeof(r->name));
	strlcpy(r->pin, pin, sizeof(r->pin));
	r->enc = MrlModelForUse(fcinfo, name, "mrl_embed_pinned");
	fcinfo->flinfo->fn_extra = r;
	return r;
}

/*
 * mrl_embed_pinned(text, model, sha256, dims, layers) -> mvector: the
 * IMMUTABLE form, for the model whose contents have that hash (an error
 * otherwise), so that the result depends on its arguments only.
 */
PG_FUNCTION_INFO_V1(mrl_embed_pinned);
Datum
mrl_embed_pinned(PG_FUNCTION_ARGS)
{
	ResolvedModel *r = ResolvePinnedModel(fcinfo);
	text	   *t;
	const char *texts[1];
	size_t		lens[1];
	mrl_embed_options opts;
	MVector    *result;
	int			dim;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = PG_GETARG_TEXT_PP(0);
	texts[0] = VARDATA_ANY(t);
	lens[0] = VARSIZE_ANY_EXHDR(t);
	EmbedOptions(fcinfo, r->enc, 3, 4, &opts);
	dim = MrlOutputDim(r->enc, &opts);
	result = InitMVector(dim);
	MrlEmbedTexts(r->enc, texts, lens, 1, &opts, dim, result->x);
	MVectorCheckModelOutput(result->x, dim, r->name);
	PG_RETURN_MVECTOR_P(result);
}

/*
 * An mvector[] (element type mvector_oid) of n elements: NULL where nulls[i],
 * the others the rows of out (dim floats each), in order.
 */
ArrayType *
MrlVectorArray(const float *out, int dim, const bool *nulls, int n, Oid mvector_oid)
{
	Datum	   *results = palloc(sizeof(Datum) * Max(n, 1));
	int			m = 0;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1] = {n},
				lbs[1] = {1};

	for (int i = 0; i < n; i++)
	{
		MVector    *v;

		if (nulls[i])
			continue;
		v = InitMVector(dim);
		memcpy(v->x, out + (size_t) m++ * dim, sizeof(float) * dim);
		results[i] = PointerGetDatum(v);
	}
	get_typlenbyvalalign(mvector_oid, &typlen, &typbyval, &typalign);
	return construct_md_array(results, (bool *) nulls, n == 0 ? 0 : 1, dims, lbs,
							  mvector_oid, typlen, typbyval, typalign);
}

/*
 * mrl_embed(text[], model, dims, layers) -> mvector[]: one batched pass,
 * the same vectors as one call per text.  NULL elements give NULLs.
 */
PG_FUNCTION_INFO_V1(mrl_embed_batch);
Datum
mrl_embed_batch(PG_FUNCTION_ARGS)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			n,
				m = 0,
				dim;
	const char **texts;
	size_t	   *lens;
	float	   *out;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("mrl_embed takes a one-dimensional array of texts")));

	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	texts = palloc(sizeof(char *) * Max(n, 1));
	lens = palloc(sizeof(size_t) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		if (nulls[i])
			continue;
		texts[m] = VARDATA_ANY(DatumGetPointer(elems[i]));
		lens[m++] = VARSIZE_ANY_EXHDR(DatumGetPointer(elems[i]));
	}
	dim = EmbedWithArgs(fcinfo, texts, lens, m, &out);
	PG_RETURN_ARRAYTYPE_P(MrlVectorArray(out, dim, nulls, n,
										 get_element_type(get_fn_expr_rettype(fcinfo->flinfo))));
}

/* The encoder's settings; called from _PG_init. */
void
MrlEmbedDefineSettings(void)
{
	DefineCustomIntVariable("mrl.encoder_threads",
							"OpenBLAS threads one backend may use to embed text.",
							NULL, &mrl_encoder_threads, 1, 1, 64,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("mrl.default_model",
							   "Model used by mrl_embed() when none is named.",
							   NULL, &mrl_default_model, BUILTIN_MODEL_NAME,
							   PGC_USERSET, 0, NULL, NULL, NULL);
}
