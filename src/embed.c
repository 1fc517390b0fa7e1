/*
 * embed.c: the SQL face of the encoder: mrl_embed(), the model registry
 * (mrl_register_model and friends) and a per-backend cache of loaded models.
 *
 * The encoder itself is the plain C library in src/encoder/; this file only
 * resolves model names, checks privileges, keeps loaded models, and turns
 * library results and errors into mvectors and ereports.
 */
#include "postgres.h"

#include <dirent.h>
#include <sys/stat.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "mvector.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "nodes/pg_list.h"
#include "utils/memutils.h"
#include "storage/fd.h"

#include "embed.h"
#include "encoder.h"

#define BUILTIN_MODEL_NAME "mrl-default"
#define MAX_BATCH_TEXTS 64		/* texts per library call: interrupt granularity */

/* Settings (defined by MrlEmbedDefineSettings, called from _PG_init) */
int			mrl_encoder_threads = 1;
char	   *mrl_default_model = NULL;

void		MrlEmbedDefineSettings(void);

/* One model loaded in this backend; kept until the file changes. */
typedef struct LoadedModel
{
	char	   *path;			/* malloc'd */
	dev_t		dev;
	ino_t		ino;
	off_t		size;
	time_t		mtime;
	mrl_encoder *enc;
	struct LoadedModel *next;
} LoadedModel;

static LoadedModel *loaded_models = NULL;

/*
 * Models whose file changed: a call site of the current transaction may
 * still hold their encoder (fn_extra), so they are freed at its end.
 */
static LoadedModel *retired_models = NULL;

/* Directories of trained models unregistered in this transaction. */
static List *doomed_dirs = NIL;

/* What one call site resolved: cached in fn_extra for the rest of the query. */
typedef struct ResolvedModel
{
	char		name[NAMEDATALEN + 1];
	mrl_encoder *enc;
} ResolvedModel;

/* ---------- where things are ---------- */

/* The directory of the built-in model, installed with the extension. */
static char *
BuiltinModelPath(void)
{
	char		sharepath[MAXPGPATH];

	get_share_path(my_exec_path, sharepath);
	return psprintf("%s/extension/mrl_model", sharepath);
}

/* Converted (dequantised) weights are cached here, shared by all backends. */
static char *
ModelCacheDir(void)
{
	char	   *dir = psprintf("%s/mrl_cache", DataDir);

	if (mkdir(dir, S_IRWXU) != 0 && errno != EEXIST)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", dir),
				 errdetail("Converted model weights will be kept in private memory.")));
	return dir;
}

/* Bytes on disk of a model file, or of the regular files in a model directory. */
static int64
DiskSize(const char *path, int depth)
{
	struct stat st;
	DIR		   *dir;
	struct dirent *de;
	int64		total = 0;

	if (stat(path, &st) != 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? (int64) st.st_size : 0;
	if (depth > 3 || (dir = AllocateDir(path)) == NULL)
		return 0;
	while ((de = ReadDir(dir, path)) != NULL)
	{
		char	   *sub;

		if (de->d_name[0] == '.')
			continue;
		sub = psprintf("%s/%s", path, de->d_name);
		total += DiskSize(sub, depth + 1);
		pfree(sub);
	}
	FreeDir(dir);
	return total;
}

/* The registry table, schema-qualified: it lives in the extension's schema. */
static char *
RegistryTable(FunctionCallInfo fcinfo)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);

	return quote_qualified_identifier(get_namespace_name(nsp), "mrl_models");
}

/*
 * Run a registry statement with search_path = pg_catalog, so that a caller's
 * own functions or operators (an "=" on regrole, an "unnest") can never stand
 * in for the built-in ones in a privilege check.  The registry table is
 * always named with its schema.
 */
static int
RegistryExecute(const char *sql, int nargs, Oid *types, Datum *values, bool read_only)
{
	int			nestlevel = NewGUCNestLevel();
	int			rc;

	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	rc = SPI_execute_with_args(sql, nargs, types, values, NULL, read_only, 0);
	AtEOXact_GUC(false, nestlevel);
	return rc;
}

/* ---------- the backend's model cache ---------- */

/*
 * Return the encoder for path, loading it on first use or when the file
 * changed since (same path, new contents: re-registration after an update).
 */
static mrl_encoder *
GetEncoder(const char *path)
{
	struct stat st;
	LoadedModel **link;
	LoadedModel *m;
	char		err[512];
	char	   *cache_dir;

	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open model \"%s\": %m", path)));

	for (link = &loaded_models; (m = *link) != NULL; link = &m->next)
	{
		if (strcmp(m->path, path) != 0)
			continue;
		if (m->dev == st.st_dev && m->ino == st.st_ino &&
			m->size == st.st_size && m->mtime == st.st_mtime)
			return m->enc;
		/* the file changed: retire the stale copy until the transaction ends */
		*link = m->next;
		m->next = retired_models;
		retired_models = m;
		break;
	}

	cache_dir = ModelCacheDir();
	m = calloc(1, sizeof(LoadedModel));
	if (m == NULL || (m->path = strdup(path)) == NULL)
	{
		free(m);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	m->enc = mrl_encoder_open(path, cache_dir, err, sizeof(err));
	if (m->enc == NULL)
	{
		free(m->path);
		free(m);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not load model \"%s\"", path),
				 errdetail("%s", err)));
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->size = st.st_size;
	m->mtime = st.st_mtime;
	m->next = loaded_models;
	loaded_models = m;
	return m->enc;
}

/* ---------- privileges ---------- */

/* Only superusers and pg_read_server_files members may make us read a path. */
static void
CheckCanReadServerFiles(void)
{
	if (!superuser() &&
		!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to register a model file"),
				 errdetail("Only superusers and members of pg_read_server_files may make the server read a file.")));
}

/* The role that owns the extension (and so the registry table). */
static Oid
ExtensionOwner(void)
{
	bool		isnull;
	Datum		d;

	if (RegistryExecute("SELECT extowner FROM pg_catalog.pg_extension WHERE extname = 'mrl'",
						0, NULL, NULL, true) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "extension \"mrl\" is not installed");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return DatumGetObjectId(d);
}

/*
 * Run a registry-changing statement as the extension's owner: callers have
 * only SELECT on the table, and every change goes through these functions,
 * which check privileges first.  An error on the way out restores the user
 * with the (sub)transaction abort.
 */
static int
ExecuteAsOwner(const char *sql, int nargs, Oid *types, Datum *values)
{
	Oid			saved_user;
	int			saved_sec;
	int			rc;

	GetUserIdAndSecContext(&saved_user, &saved_sec);
	SetUserIdAndSecContext(ExtensionOwner(),
						   saved_sec | SECURITY_LOCAL_USERID_CHANGE);
	rc = RegistryExecute(sql, nargs, types, values, false);
	SetUserIdAndSecContext(saved_user, saved_sec);
	return rc;
}

/* Error unless the model name is sane (it is shown in views and messages). */
void
MrlCheckModelName(const char *name)
{
	size_t		len = strlen(name);

	if (len == 0 || len >= NAMEDATALEN ||
		strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid model name \"%s\"", name),
				 errdetail("A model name has 1 to %d letters, digits, \"_\", \".\", \":\" or \"-\".",
						   NAMEDATALEN - 1)));
	if (strcmp(name, BUILTIN_MODEL_NAME) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_RESERVED_NAME),
				 errmsg("model name \"%s\" is reserved for the built-in model", name)));
}

/*
 * Look a registered model up for use by the current user: its path, after
 * checking that the user may use it (owner, superuser, a granted role, or
 * granted to public).
 */
static char *
LookupModelPath(FunctionCallInfo fcinfo, const char *name)
{
	char	   *sql;
	Oid			types[2] = {TEXTOID, REGROLEOID};
	Datum		values[2] = {CStringGetTextDatum(name), ObjectIdGetDatum(GetUserId())};
	bool		isnull;
	char	   *path;
	bool		allowed;
	MemoryContext caller = CurrentMemoryContext;

	if (strcmp(name, BUILTIN_MODEL_NAME) == 0)
		return BuiltinModelPath();

	SPI_connect();
	sql = psprintf("SELECT path, owner = $2 OR public OR $2 = ANY(usable_by) "
				   "OR EXISTS (SELECT 1 FROM unnest(usable_by) r WHERE pg_catalog.pg_has_role($2, r, 'USAGE')) "
				   "FROM %s WHERE name = $1", RegistryTable(fcinfo));
	if (RegistryExecute(sql, 2, types, values, true) != SPI_OK_SELECT)
		elog(ERROR, "could not read the model registry");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" is not registered", name),
				 errhint("Register it with mrl_register_model(name, path); see the view mrl_model_info.")));
	path = MemoryContextStrdup(caller,
							   TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
																 SPI_tuptable->tupdesc, 1, &isnull)));
	allowed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();
	if (!allowed && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for model \"%s\"", name),
				 errhint("The model's owner can allow it with mrl_grant_model().")));
	return path;
}

/* The encoder of a model the current user may use, by name (NULL: the default). */
mrl_encoder *
MrlModelForUse(FunctionCallInfo fcinfo, const char *name)
{
	return GetEncoder(LookupModelPath(fcinfo, name ? name : mrl_default_model));
}

/* Resolve the model argument once per call site and query. */
static mrl_encoder *
ResolveModel(FunctionCallInfo fcinfo, int argno)
{
	ResolvedModel *r = (ResolvedModel *) fcinfo->flinfo->fn_extra;
	const char *name;

	if (PG_ARGISNULL(argno))
		name = mrl_default_model;
	else
		name = text_to_cstring(PG_GETARG_TEXT_PP(argno));

	if (r != NULL && strcmp(r->name, name) == 0)
		return r->enc;
	if (r == NULL)
		r = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ResolvedModel));
	strlcpy(r->name, name, sizeof(r->name));
	r->enc = GetEncoder(LookupModelPath(fcinfo, name));
	fcinfo->flinfo->fn_extra = r;
	return r->enc;
}

/* ---------- embedding ---------- */

/* The library asks this between layers, batches and steps: stop if cancelled. */
int
MrlInterruptRequested(void *arg)
{
	return InterruptPending ? 1 : 0;
}

/* Default options: this backend's threads, cancellation between steps. */
void
MrlEmbedOptionsInit(mrl_embed_options *opts)
{
	mrl_embed_options_init(opts);
	opts->threads = mrl_encoder_threads;
	opts->interrupt = MrlInterruptRequested;
}

/* Options from the optional SQL arguments (dims, layers), NULL = default. */
static void
EmbedOptions(FunctionCallInfo fcinfo, mrl_encoder *enc, int dims_arg, int layers_arg,
			 mrl_embed_options *opts)
{
	mrl_encoder_info info;

	MrlEmbedOptionsInit(opts);
	if (!PG_ARGISNULL(dims_arg))
	{
		/* nomic-embed's Matryoshka recipe: LayerNorm, then truncate, then L2 */
		mrl_encoder_get_info(enc, &info);
		if (strcmp(info.arch, "nomic-bert") == 0)
			opts->dims_mode = MRL_DIMS_LAYERNORM;
		opts->dims = PG_GETARG_INT32(dims_arg);
		if (opts->dims < 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("dims must be at least 1, not %d", opts->dims)));
	}
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

/* mrl_embed(text, model, dims, layers) -> mvector */
PG_FUNCTION_INFO_V1(mrl_embed);
Datum
mrl_embed(PG_FUNCTION_ARGS)
{
	text	   *t;
	const char *texts[1];
	size_t		lens[1];
	mrl_embed_options opts;
	mrl_encoder *enc;
	MVector    *result;
	int			dim;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	t = PG_GETARG_TEXT_PP(0);
	enc = ResolveModel(fcinfo, 1);
	EmbedOptions(fcinfo, enc, 2, 3, &opts);
	dim = MrlOutputDim(enc, &opts);
	texts[0] = VARDATA_ANY(t);
	lens[0] = VARSIZE_ANY_EXHDR(t);
	result = InitMVector(dim);
	MrlEmbedTexts(enc, texts, lens, 1, &opts, dim, result->x);
	MVectorCheckModelOutput(result->x, dim, PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)));
	PG_RETURN_MVECTOR_P(result);
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
	Datum	   *results;
	mrl_embed_options opts;
	mrl_encoder *enc;
	Oid			mvector_oid = get_fn_expr_rettype(fcinfo->flinfo);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	int			dims[1],
				lbs[1] = {1};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	arr = PG_GETARG_ARRAYTYPE_P(0);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("mrl_embed takes a one-dimensional array of texts")));
	enc = ResolveModel(fcinfo, 1);
	EmbedOptions(fcinfo, enc, 2, 3, &opts);
	dim = MrlOutputDim(enc, &opts);

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
	out = palloc(sizeof(float) * (size_t) Max(m, 1) * dim);
	MrlEmbedTexts(enc, texts, lens, m, &opts, dim, out);
	MVectorCheckModelOutput(out, (size_t) m * dim, PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1)));

	results = palloc(sizeof(Datum) * Max(n, 1));
	m = 0;
	for (int i = 0; i < n; i++)
	{
		MVector    *v;

		if (nulls[i])
			continue;
		v = InitMVector(dim);
		memcpy(v->x, out + (size_t) m++ * dim, sizeof(float) * dim);
		results[i] = PointerGetDatum(v);
	}
	mvector_oid = get_element_type(mvector_oid);
	get_typlenbyvalalign(mvector_oid, &typlen, &typbyval, &typalign);
	dims[0] = n;
	PG_RETURN_ARRAYTYPE_P(construct_md_array(results, nulls, n == 0 ? 0 : 1, dims, lbs,
											 mvector_oid, typlen, typbyval, typalign));
}

/* ---------- the registry ---------- */

/*
 * Load the model at path (which validates it) and describe it in six values:
 * arch, dims, vocab, layers, max_tokens, bytes on disk.
 */
static void
DescribeModel(const char *path, Datum *values)
{
	mrl_encoder_info info;

	mrl_encoder_get_info(GetEncoder(path), &info);
	values[0] = CStringGetTextDatum(info.arch);
	values[1] = Int32GetDatum(info.dims);
	values[2] = Int32GetDatum(info.vocab);
	values[3] = Int32GetDatum(info.layers);
	values[4] = Int32GetDatum(info.max_tokens);
	values[5] = Int64GetDatum(DiskSize(path, 0));
}

/* Error if a model of this name is registered (checked before long work). */
void
MrlCheckModelNameFree(FunctionCallInfo fcinfo, const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	bool		taken;

	SPI_connect();
	if (RegistryExecute(psprintf("SELECT 1 FROM %s WHERE name = $1", RegistryTable(fcinfo)),
						1, types, values, true) != SPI_OK_SELECT)
		elog(ERROR, "could not read the model registry");
	taken = SPI_processed > 0;
	SPI_finish();
	if (taken)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" is already registered", name),
				 errhint("Unregister it first with mrl_unregister_model('%s').", name)));
}

/*
 * Add a model to the registry, owned by the current user, after loading it
 * to validate it and record its shape.  Callers check the right to read path.
 */
void
MrlRegisterModel(FunctionCallInfo fcinfo, const char *name, const char *path)
{
	char	   *sql;
	Oid			types[9] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, INT4OID, INT4OID, INT8OID, REGROLEOID};
	Datum		values[9];

	MrlCheckModelName(name);
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(path);
	DescribeModel(path, values + 2);
	values[8] = ObjectIdGetDatum(GetUserId());

	SPI_connect();
	sql = psprintf("INSERT INTO %s (name, path, arch, dims, vocab, layers, max_tokens, size_bytes, owner) "
				   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO NOTHING",
				   RegistryTable(fcinfo));
	if (ExecuteAsOwner(sql, 9, types, values) != SPI_OK_INSERT)
		elog(ERROR, "could not write the model registry");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" is already registered", name),
				 errhint("Unregister it first with mrl_unregister_model('%s').", name)));
	SPI_finish();
}

/* mrl_register_model(name, path): superusers and pg_read_server_files only. */
PG_FUNCTION_INFO_V1(mrl_register_model);
Datum
mrl_register_model(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	struct stat st;

	CheckCanReadServerFiles();
	MrlCheckModelName(name);
	if (!is_absolute_path(path))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("model path must be absolute: \"%s\"", path)));
	canonicalize_path(path);
	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open model \"%s\": %m", path)));
	MrlRegisterModel(fcinfo, name, path);
	PG_RETURN_VOID();
}

/*
 * Change one model's row as the extension owner (and return its path), after checking that the
 * caller owns the model (or is superuser).
 */
static char *
ChangeOwnModel(FunctionCallInfo fcinfo, const char *name, const char *set_or_delete,
			   Oid extra_type, Datum extra)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *path;
	bool		isnull;
	char	   *sql;
	Oid			types[3] = {TEXTOID, REGROLEOID, extra_type};
	Datum		values[3] = {CStringGetTextDatum(name), ObjectIdGetDatum(GetUserId()), extra};
	bool		su = superuser();

	SPI_connect();
	sql = psprintf("%s WHERE name = $1 AND (%s OR owner = $2) RETURNING path",
				   psprintf(set_or_delete, RegistryTable(fcinfo)), su ? "true" : "false");
	if (ExecuteAsOwner(sql, extra_type == InvalidOid ? 2 : 3, types, values) < 0)
		elog(ERROR, "could not write the model registry");
	if (SPI_processed == 0)
	{
		sql = psprintf("SELECT 1 FROM %s WHERE name = $1", RegistryTable(fcinfo));
		if (RegistryExecute(sql, 1, types, values, true) == SPI_OK_SELECT &&
			SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" is not registered", name)));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be the owner of model \"%s\"", name)));
	}
	path = MemoryContextStrdup(caller,
							   TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
																 SPI_tuptable->tupdesc, 1, &isnull)));
	SPI_finish();
	return path;
}

/* mrl_unregister_model(name): the model's owner or a superuser. */
PG_FUNCTION_INFO_V1(mrl_unregister_model);
Datum
mrl_unregister_model(PG_FUNCTION_ARGS)
{
	char	   *path = ChangeOwnModel(fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)),
									  "DELETE FROM %s", InvalidOid, (Datum) 0);
	char	   *trained_root = psprintf("%s/mrl_models/", DataDir);

	/* a model mrl_train wrote is ours to remove, once the deletion commits */
	if (strncmp(path, trained_root, strlen(trained_root)) == 0)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		doomed_dirs = lappend(doomed_dirs, pstrdup(path));
		MemoryContextSwitchTo(old);
	}
	PG_RETURN_VOID();
}

/* Grant or revoke the use of a model to a role, or to public. */
static void
ChangeModelGrant(FunctionCallInfo fcinfo, bool grant)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *role = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (pg_strcasecmp(role, "public") == 0)
		ChangeOwnModel(fcinfo, name,
					   grant ? "UPDATE %s SET public = true" : "UPDATE %s SET public = false",
					   InvalidOid, (Datum) 0);
	else
		ChangeOwnModel(fcinfo, name,
					   grant ? "UPDATE %s SET usable_by = array_append(array_remove(usable_by, $3), $3)"
					   : "UPDATE %s SET usable_by = array_remove(usable_by, $3)",
					   REGROLEOID, ObjectIdGetDatum(get_role_oid(role, false)));
}

/* mrl_grant_model(name, role): let role (or 'public') use the model. */
PG_FUNCTION_INFO_V1(mrl_grant_model);
Datum
mrl_grant_model(PG_FUNCTION_ARGS)
{
	ChangeModelGrant(fcinfo, true);
	PG_RETURN_VOID();
}

/* mrl_revoke_model(name, role) */
PG_FUNCTION_INFO_V1(mrl_revoke_model);
Datum
mrl_revoke_model(PG_FUNCTION_ARGS)
{
	ChangeModelGrant(fcinfo, false);
	PG_RETURN_VOID();
}

/* mrl_builtin_model_info(): the built-in model's row for the view. */
PG_FUNCTION_INFO_V1(mrl_builtin_model_info);
Datum
mrl_builtin_model_info(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {0};
	char	   *path = BuiltinModelPath();
	struct stat st;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = CStringGetTextDatum(path);
	if (stat(psprintf("%s/modules.json", path), &st) != 0)
	{
		/* not installed: list it anyway, so the view still works */
		memset(nulls + 1, true, sizeof(bool) * 6);
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
	}
	DescribeModel(path, values + 1);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * At the end of a transaction: free the models retired during it, and, if
 * it committed, remove the files of the trained models it unregistered.
 */
static void
EndOfTransaction(XactEvent event, void *arg)
{
	ListCell   *lc;

	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	foreach(lc, doomed_dirs)
	{
		if (event == XACT_EVENT_COMMIT)
			rmtree((char *) lfirst(lc), true);
		pfree(lfirst(lc));
	}
	list_free(doomed_dirs);
	doomed_dirs = NIL;
	while (retired_models != NULL)
	{
		LoadedModel *m = retired_models;

		retired_models = m->next;
		mrl_encoder_free(m->enc);
		free(m->path);
		free(m);
	}
}

/* The encoder's settings and transaction hook; called from _PG_init. */
void
MrlEmbedDefineSettings(void)
{
	RegisterXactCallback(EndOfTransaction, NULL);
	DefineCustomIntVariable("mrl.encoder_threads",
							"OpenBLAS threads one backend may use to embed text.",
							NULL, &mrl_encoder_threads, 1, 1, 64,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("mrl.default_model",
							   "Model used by mrl_embed() when none is named.",
							   NULL, &mrl_default_model, BUILTIN_MODEL_NAME,
							   PGC_USERSET, 0, NULL, NULL, NULL);
}
