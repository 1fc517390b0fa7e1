/*
 * registry.c: the model registry: which names mean which model files, who
 * owns them and who may use them.
 *
 * The registry is the table mrl_models in the extension's schema.  Callers
 * may only read it; mrl_register_model, mrl_unregister_model,
 * mrl_grant_model and mrl_revoke_model change it as the extension's owner
 * after checking the caller's rights.  Unregistering a model that mrl_train
 * wrote removes its directory once the transaction commits (model_files.c),
 * and mrl_train and mrl_unregister_model both sweep what crashes left.
 */
#include "postgres.h"

#include <dirent.h>
#include <sys/stat.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"

#include "loaded_models.h"
#include "model_files.h"
#include "registry.h"

/* ---------- where things are ---------- */

/* The built-in model's directory: share/extension/MODEL_DIR (the Makefile). */
static char *
BuiltinModelPath(void)
{
	char		sharepath[MAXPGPATH];

	get_share_path(my_exec_path, sharepath);
	return psprintf("%s/extension/%s", sharepath, MRL_MODEL_DIR);
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

/* ---------- the registry table ---------- */

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
 * Look a registered model up for use by the current user, after checking
 * that the user may use it (owner, superuser, a granted role, or granted to
 * public).
 */
void
MrlLookupModel(FunctionCallInfo fcinfo, const char *name, MrlModelEntry *entry)
{
	char	   *sql;
	Oid			types[2] = {TEXTOID, REGROLEOID};
	Datum		values[2] = {CStringGetTextDatum(name), ObjectIdGetDatum(GetUserId())};
	bool		isnull;
	bool		allowed;
	HeapTuple	row;
	TupleDesc	desc;
	Datum		server;
	MemoryContext caller = CurrentMemoryContext;

	memset(entry, 0, sizeof(*entry));
	if (strcmp(name, BUILTIN_MODEL_NAME) == 0)
	{
		entry->path = BuiltinModelPath();
		return;
	}

	SPI_connect();
	sql = psprintf("SELECT path, owner = $2 OR public OR $2 = ANY(usable_by) "
				   "OR EXISTS (SELECT 1 FROM unnest(usable_by) r WHERE pg_catalog.pg_has_role($2, r, 'USAGE')), "
				   "server, owner, dims, sends_dimensions "
				   "FROM %s WHERE name = $1", RegistryTable(fcinfo));
	if (RegistryExecute(sql, 2, types, values, true) != SPI_OK_SELECT)
		elog(ERROR, "could not read the model registry");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" is not registered", name),
				 errhint("Register it with mrl_register_model(name, path); see the view mrl_model_info.")));
	row = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	entry->path = MemoryContextStrdup(caller, TextDatumGetCString(SPI_getbinval(row, desc, 1, &isnull)));
	allowed = DatumGetBool(SPI_getbinval(row, desc, 2, &isnull));
	server = SPI_getbinval(row, desc, 3, &isnull);
	if (!isnull)
		entry->server = MemoryContextStrdup(caller, TextDatumGetCString(server));
	entry->owner = DatumGetObjectId(SPI_getbinval(row, desc, 4, &isnull));
	entry->dims = DatumGetInt32(SPI_getbinval(row, desc, 5, &isnull));
	entry->sends_dimensions = DatumGetBool(SPI_getbinval(row, desc, 6, &isnull));
	SPI_finish();
	if (!allowed && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for model \"%s\"", name),
				 errhint("The model's owner can allow it with mrl_grant_model().")));
}

/* ---------- the registry functions ---------- */

/*
 * Load the model at path (which validates it) and describe it in six values:
 * arch, dims, vocab, layers, max_tokens, bytes on disk.
 */
static void
DescribeModel(const char *path, Datum *values)
{
	mrl_encoder_info info;

	mrl_encoder_get_info(MrlLoadModel(path), &info);
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
 * Insert a registry row owned by the current user: the columns' names and
 * nargs values, the model's name first.  Errors if the name is taken.
 */
static void
InsertModel(FunctionCallInfo fcinfo, const char *columns, int nargs, Oid *types, Datum *values)
{
	StringInfoData sql;
	char	   *name = TextDatumGetCString(values[0]);

	initStringInfo(&sql);
	appendStringInfo(&sql, "INSERT INTO %s (%s, owner) VALUES (", RegistryTable(fcinfo), columns);
	for (int i = 1; i <= nargs + 1; i++)
		appendStringInfo(&sql, i == 1 ? "$%d" : ", $%d", i);
	appendStringInfoString(&sql, ") ON CONFLICT (name) DO NOTHING");
	types[nargs] = REGROLEOID;
	values[nargs] = ObjectIdGetDatum(GetUserId());

	SPI_connect();
	if (ExecuteAsOwner(sql.data, nargs + 1, types, values) != SPI_OK_INSERT)
		elog(ERROR, "could not write the model registry");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" is already registered", name),
				 errhint("Unregister it first with mrl_unregister_model('%s').", name)));
	SPI_finish();
}

/*
 * Add a model to the registry, owned by the current user, after loading it
 * to validate it and record its shape.  Callers check the right to read path;
 * owns_files is true only for a directory mrl_train has just written.
 */
void
MrlRegisterModel(FunctionCallInfo fcinfo, const char *name, const char *path, bool owns_files)
{
	Oid			types[10] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, INT4OID, INT4OID, INT8OID,
	BOOLOID};
	Datum		values[10];

	MrlCheckModelName(name);
	values[0] = CStringGetTextDatum(name);
	values[1] = CStringGetTextDatum(path);
	DescribeModel(path, values + 2);
	values[8] = BoolGetDatum(owns_files);
	InsertModel(fcinfo, "name, path, arch, dims, vocab, layers, max_tokens, size_bytes, owns_files",
				9, types, values);
}

/*
 * Add a remote model (remote.c): its API as arch, its width, its server;
 * vocab, layers, max_tokens and size_bytes are not known, so NULL.
 */
void
MrlRegisterRemoteModel(FunctionCallInfo fcinfo, const char *name, const char *spec,
					   const char *arch, int dims, const char *server, bool sends_dimensions)
{
	Oid			types[7] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, TEXTOID, BOOLOID};
	Datum		values[7] = {CStringGetTextDatum(name), CStringGetTextDatum(spec),
		CStringGetTextDatum(arch), Int32GetDatum(dims), CStringGetTextDatum(server),
	BoolGetDatum(sends_dimensions)};

	MrlCheckModelName(name);
	InsertModel(fcinfo, "name, path, arch, dims, server, sends_dimensions", 6, types, values);
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
	MrlRegisterModel(fcinfo, name, path, false);
	PG_RETURN_VOID();
}

/*
 * Change one model's row as the extension owner, after checking that the
 * caller owns the model (or is superuser); return its path and, if
 * owns_files is not NULL, whether the row owns its files.
 */
static char *
ChangeOwnModel(FunctionCallInfo fcinfo, const char *name, const char *set_or_delete,
			   Oid extra_type, Datum extra, bool *owns_files)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *path;
	bool		isnull;
	char	   *sql;
	Oid			types[3] = {TEXTOID, REGROLEOID, extra_type};
	Datum		values[3] = {CStringGetTextDatum(name), ObjectIdGetDatum(GetUserId()), extra};
	bool		su = superuser();

	SPI_connect();
	sql = psprintf("%s WHERE name = $1 AND (%s OR owner = $2) RETURNING path, owns_files",
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
	if (owns_files != NULL)
		*owns_files = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												 SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();
	return path;
}

/* mrl_unregister_model(name): the model's owner or a superuser. */
PG_FUNCTION_INFO_V1(mrl_unregister_model);
Datum
mrl_unregister_model(PG_FUNCTION_ARGS)
{
	bool		owns_files;
	char	   *path;

	MrlSweepModelDirs();
	path = ChangeOwnModel(fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)),
						  "DELETE FROM %s", InvalidOid, (Datum) 0, &owns_files);

	/*
	 * Only the row mrl_train created owns its directory, and only in the
	 * database it was trained in (a copied database's rows refer to the
	 * original's files).  The files go once the deletion commits.
	 */
	if (owns_files && MrlIsOwnModelDir(path))
		MrlRemoveAtCommit(path);
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
					   InvalidOid, (Datum) 0, NULL);
	else
		ChangeOwnModel(fcinfo, name,
					   grant ? "UPDATE %s SET usable_by = array_append(array_remove(usable_by, $3), $3)"
					   : "UPDATE %s SET usable_by = array_remove(usable_by, $3)",
					   REGROLEOID, ObjectIdGetDatum(get_role_oid(role, false)), NULL);
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
