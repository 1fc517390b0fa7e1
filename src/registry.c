/*
 * registry.c: the model registry: which names mean which models, who owns
 * them and who may use them.
 *
 * The registry is the table mrl_models in the extension's schema.  Callers
 * may only read it; mrl_register_model, mrl_unregister_model,
 * mrl_grant_model and mrl_revoke_model change it as the extension's owner
 * after checking the caller's rights.  A model is file-backed (a path the
 * operator manages, never removed by the extension) or stored in the
 * database, in mrl_model_data (model_store.c): mrl_train and
 * mrl_register_model(..., store => true) make those, so that dumps and
 * replicas carry them.  Roles are kept by name, so that a dump restores
 * where one is missing: mrl_models_restore_roles gives such a model to the
 * restoring user instead of failing the whole table's COPY.
 */
#include "postgres.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "loaded_models.h"
#include "model_files.h"
#include "model_store.h"
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

/* ---------- the registry tables ---------- */

/* The extension's schema and owner, from pg_extension. */
static void
ExtensionInfo(Oid *schema, Oid *owner)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("mrl"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "extension \"mrl\" is not installed");
	*schema = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	*owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* A table of the extension (mrl_models, mrl_model_data), schema-qualified. */
char *
MrlRegistryTable(const char *table)
{
	Oid			schema,
				owner;

	ExtensionInfo(&schema, &owner);
	return quote_qualified_identifier(get_namespace_name(schema), table);
}

/*
 * Run a registry statement (SPI connected) with search_path = pg_catalog,
 * so that a caller's own functions or operators (an "=" on text, an
 * "unnest") can never stand in for the built-in ones in a privilege check;
 * the tables are always named with their schema.  As the extension's owner
 * if as_owner: callers have only SELECT on mrl_models, nothing on
 * mrl_model_data, and every change goes through functions that check
 * privileges first.  An error on the way restores the user and the
 * setting with the (sub)transaction abort.  nulls is SPI's (NULL: none).
 * A read_only statement sees the snapshot of the calling statement, not
 * what the calling function changed before.
 */
static int
RegistryExecute(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
				bool as_owner, bool read_only, Portal *cursor)
{
	int			nestlevel = NewGUCNestLevel();
	Oid			saved_user;
	int			saved_sec;
	Oid			schema,
				owner;
	int			rc = 0;

	(void) set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(&saved_user, &saved_sec);
	if (as_owner)
	{
		ExtensionInfo(&schema, &owner);
		SetUserIdAndSecContext(owner, saved_sec | SECURITY_LOCAL_USERID_CHANGE);
	}
	if (cursor)
		*cursor = SPI_cursor_open_with_args(NULL, sql, nargs, types, values, nulls, true, 0);
	else
		rc = SPI_execute_with_args(sql, nargs, types, values, nulls, read_only, 0);
	SetUserIdAndSecContext(saved_user, saved_sec);
	AtEOXact_GUC(false, nestlevel);
	return rc;
}

/* Run a registry statement, as the extension's owner if as_owner (SPI connected). */
int
MrlRegistryExecute(const char *sql, int nargs, Oid *types, Datum *values, bool as_owner)
{
	return RegistryExecute(sql, nargs, types, values, NULL, as_owner, !as_owner, NULL);
}

/* Open a read-only cursor on a registry query, as the extension's owner (SPI connected). */
Portal
MrlRegistryCursor(const char *sql, int nargs, Oid *types, Datum *values)
{
	Portal		portal;

	RegistryExecute(sql, nargs, types, values, NULL, true, true, &portal);
	return portal;
}

/* The hashes of the stored models registered in this database. */
List *
MrlStoredHashes(void)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *hashes = NIL;
	bool		isnull;

	SPI_connect();
	if (MrlRegistryExecute(psprintf("SELECT DISTINCT sha256 FROM %s WHERE sha256 IS NOT NULL",
									MrlRegistryTable("mrl_models")),
						   0, NULL, NULL, false) != SPI_OK_SELECT)
		elog(ERROR, "could not read the model registry");
	for (uint64 r = 0; r < SPI_processed; r++)
		hashes = lappend(hashes,
						 MemoryContextStrdup(caller,
											 TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[r],
																			   SPI_tuptable->tupdesc, 1, &isnull))));
	SPI_finish();
	return hashes;
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

/* The current user's name, as the registry keeps roles. */
static char *
CurrentUserName(void)
{
	return GetUserNameFromId(GetUserId(), false);
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
 * Look a model up for use by the current user, after checking that the user
 * may use it (owner, superuser, a granted role, or granted to public): its
 * path, or for a stored model its hash and size (path NULL), or for a remote
 * model its server and what remote.c needs to call it.
 */
void
MrlFindModel(const char *name, MrlModelRef *ref)
{
	char	   *sql;
	Oid			types[3] = {TEXTOID, TEXTOID, OIDOID};
	Datum		values[3] = {CStringGetTextDatum(name), CStringGetTextDatum(CurrentUserName()),
	ObjectIdGetDatum(GetUserId())};
	bool		isnull;
	bool		allowed;
	HeapTuple	tup;
	TupleDesc	desc;
	MemoryContext caller = CurrentMemoryContext;

	memset(ref, 0, sizeof(*ref));
	if (strcmp(name, BUILTIN_MODEL_NAME) == 0)
	{
		ref->path = BuiltinModelPath();
		return;
	}

	SPI_connect();
	sql = psprintf("SELECT path, sha256, size_bytes, owner = $2 OR public OR $2 = ANY(usable_by) "
				   "OR EXISTS (SELECT 1 FROM unnest(usable_by) AS u(r) JOIN pg_roles AS g ON g.rolname = u.r "
				   "WHERE pg_has_role($3, g.oid, 'USAGE')), "
				   "server, owner, dims, sends_dimensions "
				   "FROM %s WHERE name = $1", MrlRegistryTable("mrl_models"));
	if (MrlRegistryExecute(sql, 3, types, values, false) != SPI_OK_SELECT)
		elog(ERROR, "could not read the model registry");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("model \"%s\" is not registered", name),
				 errhint("Register it with mrl_register_model(name, path); see the view mrl_model_info.")));
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	ref->name = MemoryContextStrdup(caller, name);
	if (SPI_getvalue(tup, desc, 1) != NULL)
		ref->path = MemoryContextStrdup(caller, SPI_getvalue(tup, desc, 1));
	else
		ref->sha256 = MemoryContextStrdup(caller, SPI_getvalue(tup, desc, 2));
	ref->bytes = DatumGetInt64(SPI_getbinval(tup, desc, 3, &isnull));
	allowed = DatumGetBool(SPI_getbinval(tup, desc, 4, &isnull));
	if (SPI_getvalue(tup, desc, 5) != NULL)
		ref->server = MemoryContextStrdup(caller, SPI_getvalue(tup, desc, 5));
	/* a role dropped since: only a remote model needs its owner */
	ref->owner = get_role_oid(SPI_getvalue(tup, desc, 6), true);
	ref->dims = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
	ref->sends_dimensions = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
	SPI_finish();
	if (!allowed && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for model \"%s\"", name),
				 errhint("The model's owner can allow it with mrl_grant_model().")));
}

/*
 * The content hash of a model MrlFindModel found: a stored model's, or for
 * the built-in model the hash its files would be stored under (computed
 * once per backend); NULL for a file-backed model, whose files may change.
 */
const char *
MrlModelContentHash(const MrlModelRef *ref)
{
	static char *builtin_sha256 = NULL;

	if (ref->sha256 != NULL)
		return ref->sha256;
	if (ref->name != NULL)
		return NULL;
	if (builtin_sha256 == NULL)
	{
		int64		bytes;

		builtin_sha256 = MemoryContextStrdup(TopMemoryContext,
											 MrlStoreModelFiles(NULL, ref->path, NULL, &bytes));
	}
	return builtin_sha256;
}

/* mrl_model_sha256(name) -> text: MrlModelContentHash of a usable model. */
PG_FUNCTION_INFO_V1(mrl_model_sha256);
Datum
mrl_model_sha256(PG_FUNCTION_ARGS)
{
	MrlModelRef ref;
	const char *sha256;

	MrlFindModel(text_to_cstring(PG_GETARG_TEXT_PP(0)), &ref);
	sha256 = MrlModelContentHash(&ref);
	if (sha256 == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(sha256));
}

/* ---------- the registry functions ---------- */

/*
 * Describe a model in six values: arch, dims, vocab, layers, max_tokens,
 * bytes.
 */
static void
DescribeModel(const mrl_encoder_info *info, int64 bytes, Datum *values)
{
	values[0] = CStringGetTextDatum(info->arch);
	values[1] = Int32GetDatum(info->dims);
	values[2] = Int32GetDatum(info->vocab);
	values[3] = Int32GetDatum(info->layers);
	values[4] = Int32GetDatum(info->max_tokens);
	values[5] = Int64GetDatum(bytes);
}

/* Describe the model at path (loading it, which validates it) in six values. */
static void
DescribeFileModel(const char *path, Datum *values)
{
	mrl_encoder_info info;

	mrl_encoder_get_info(MrlLoadModel(path), &info);
	DescribeModel(&info, DiskSize(path, 0), values);
}

/*
 * Does a registration have this value in column (name or sha256)?  A
 * read_only look sees the calling statement's snapshot, else also what the
 * calling function changed.
 */
static bool
RegistryHasRow(const char *column, const char *value, bool read_only)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(value)};
	bool		found;

	SPI_connect();
	if (RegistryExecute(psprintf("SELECT 1 FROM %s WHERE %s = $1", MrlRegistryTable("mrl_models"), column),
						1, types, values, NULL, false, read_only, NULL) != SPI_OK_SELECT)
		elog(ERROR, "could not read the model registry");
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

/* Error if a model of this name is registered (checked before long work). */
void
MrlCheckModelNameFree(const char *name)
{
	if (RegistryHasRow("name", name, true))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" is already registered", name),
				 errhint("Unregister it first with mrl_unregister_model('%s').", name)));
}

/*
 * Add a model to the registry, owned by the current user: file-backed at
 * path, or stored with hash sha256 (the other one NULL), described by
 * values (DescribeModel); or remote (server set), described by its arch and
 * dims only, as its API reports no more.
 */
static void
InsertRegistration(const char *name, const char *path, const char *sha256, const Datum *description,
				   const char *server, bool sends_dimensions)
{
	Oid			types[12] = {TEXTOID, TEXTOID, TEXTOID, INT4OID, INT4OID, INT4OID, INT4OID, INT8OID,
	TEXTOID, TEXTOID, TEXTOID, BOOLOID};
	Datum		values[12];
	char		nulls[13] = "            ";

	values[0] = CStringGetTextDatum(name);
	values[1] = path ? CStringGetTextDatum(path) : (Datum) 0;
	nulls[1] = path ? ' ' : 'n';
	memcpy(values + 2, description, sizeof(Datum) * (server ? 2 : 6));
	if (server)
		memset(nulls + 4, 'n', 4);	/* vocab, layers, max_tokens, size_bytes */
	values[8] = CStringGetTextDatum(CurrentUserName());
	values[9] = sha256 ? CStringGetTextDatum(sha256) : (Datum) 0;
	nulls[9] = sha256 ? ' ' : 'n';
	values[10] = server ? CStringGetTextDatum(server) : (Datum) 0;
	nulls[10] = server ? ' ' : 'n';
	values[11] = BoolGetDatum(sends_dimensions);

	SPI_connect();
	if (RegistryExecute(psprintf("INSERT INTO %s (name, path, arch, dims, vocab, layers, max_tokens, size_bytes, owner, sha256, "
								 "server, sends_dimensions) "
								 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (name) DO NOTHING",
								 MrlRegistryTable("mrl_models")),
						12, types, values, nulls, true, false, NULL) != SPI_OK_INSERT)
		elog(ERROR, "could not write the model registry");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("model \"%s\" is already registered", name),
				 errhint("Unregister it first with mrl_unregister_model('%s').", name)));
	SPI_finish();
}

/*
 * Store the model at src in the database and register it as name: its
 * files go into mrl_model_data, and into the build directory (copied, or
 * already there when src is build/model), which becomes this database's
 * copy of the model when the transaction commits.  Returns its hash.
 */
char *
MrlRegisterStoredModel(const char *name, const char *src, MrlBuild *build)
{
	char	   *copy = psprintf("%s/model", build->path);
	int64		bytes;
	char	   *sha256;
	mrl_encoder_info info;
	Datum		description[6];

	MrlCheckModelName(name);
	sha256 = MrlStoreModelFiles(name, src, strcmp(src, copy) == 0 ? NULL : copy, &bytes);
	MrlCheckStoredModelAt(sha256, build->path, &info);
	DescribeModel(&info, bytes, description);
	InsertRegistration(name, NULL, sha256, description, NULL, false);
	MrlInstallBuildAtCommit(build, sha256);
	return sha256;
}

/*
 * Add a remote model (remote.c): its API as arch, its width, its server.
 */
void
MrlRegisterRemoteModel(const char *name, const char *spec, const char *arch, int dims,
					   const char *server, bool sends_dimensions)
{
	Datum		description[2] = {CStringGetTextDatum(arch), Int32GetDatum(dims)};

	MrlCheckModelName(name);
	InsertRegistration(name, spec, NULL, description, server, sends_dimensions);
}

/*
 * Error if path is in a database's directory of the extension's cache
 * ($PGDATA/mrl_models/DBOID/): the extension removes what is there.
 */
static void
CheckNotInCache(const char *path)
{
	char		real[PATH_MAX];
	char		root[PATH_MAX];
	size_t		len;

	if (realpath(path, real) == NULL ||
		realpath(psprintf("%s/mrl_models", DataDir), root) == NULL)
		return;
	len = strlen(root);
	if (strncmp(real, root, len) == 0 && real[len] == '/' &&
		strspn(real + len + 1, "0123456789") > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot register a model by a path inside the extension's own directory"),
				 errdetail("\"%s\" is under $PGDATA/mrl_models/<database oid>/, whose files the extension writes and removes.", path),
				 errhint("Register the model's original files, or store a copy with store => true.")));
}

/*
 * mrl_register_model(name, path, store): superusers and pg_read_server_files
 * only.  By default the registry keeps the path and the operator keeps the
 * files; store => true copies them into the database.
 */
PG_FUNCTION_INFO_V1(mrl_register_model);
Datum
mrl_register_model(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	bool		store = PG_NARGS() > 2 && PG_GETARG_BOOL(2);
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
	if (store)
	{
		MrlCheckModelNameFree(name);
		MrlRegisterStoredModel(name, path, MrlBeginBuild());
	}
	else
	{
		Datum		description[6];

		CheckNotInCache(path);
		DescribeFileModel(path, description);
		InsertRegistration(name, path, NULL, description, NULL, false);
	}
	PG_RETURN_VOID();
}

/*
 * Change one model's row as the extension owner, after checking that the
 * caller owns the model (or is superuser); return its hash in *sha256 (NULL
 * for a file-backed model) if sha256 is not NULL.
 */
static void
ChangeOwnModel(const char *name, const char *set_or_delete, Oid extra_type, Datum extra,
			   char **sha256)
{
	MemoryContext caller = CurrentMemoryContext;
	char	   *sql;
	Oid			types[3] = {TEXTOID, TEXTOID, extra_type};
	Datum		values[3] = {CStringGetTextDatum(name), CStringGetTextDatum(CurrentUserName()), extra};
	bool		su = superuser();

	SPI_connect();
	sql = psprintf("%s WHERE name = $1 AND (%s OR owner = $2) RETURNING sha256",
				   psprintf(set_or_delete, MrlRegistryTable("mrl_models")), su ? "true" : "false");
	if (MrlRegistryExecute(sql, extra_type == InvalidOid ? 2 : 3, types, values, true) < 0)
		elog(ERROR, "could not write the model registry");
	if (SPI_processed == 0)
	{
		if (!RegistryHasRow("name", name, true))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("model \"%s\" is not registered", name)));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be the owner of model \"%s\"", name)));
	}
	if (sha256 != NULL)
	{
		char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		*sha256 = value ? MemoryContextStrdup(caller, value) : NULL;
	}
	SPI_finish();
}

/*
 * mrl_unregister_model(name): the model's owner or a superuser.  A stored
 * model's rows go with the registration (ON DELETE CASCADE), and this
 * database's copy of its files when the transaction commits; a file-backed
 * model's files are the operator's and stay.
 */
PG_FUNCTION_INFO_V1(mrl_unregister_model);
Datum
mrl_unregister_model(PG_FUNCTION_ARGS)
{
	char	   *sha256;

	MrlSweepFiles();
	ChangeOwnModel(text_to_cstring(PG_GETARG_TEXT_PP(0)), "DELETE FROM %s", InvalidOid, (Datum) 0,
				   &sha256);
	if (sha256 != NULL && !RegistryHasRow("sha256", sha256, false))
		MrlRemoveStoredAtCommit(sha256);
	PG_RETURN_VOID();
}

/* Grant or revoke the use of a model to a role, or to public. */
static void
ChangeModelGrant(FunctionCallInfo fcinfo, bool grant)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *role = text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (pg_strcasecmp(role, "public") == 0)
		ChangeOwnModel(name, grant ? "UPDATE %s SET public = true" : "UPDATE %s SET public = false",
					   InvalidOid, (Datum) 0, NULL);
	else
	{
		(void) get_role_oid(role, false);
		ChangeOwnModel(name,
					   grant ? "UPDATE %s SET usable_by = array_append(array_remove(usable_by, $3), $3)"
					   : "UPDATE %s SET usable_by = array_remove(usable_by, $3)",
					   TEXTOID, CStringGetTextDatum(role), NULL);
	}
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
	DescribeFileModel(path, values + 1);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* ---------- restoring ---------- */

/* usable_by without the roles that do not exist; NULL if it has none. */
static Datum
ExistingRoles(const char *model, Datum usable_by)
{
	Datum	   *names;
	bool	   *nulls;
	int			n,
				kept = 0;
	StringInfoData missing;

	deconstruct_array(DatumGetArrayTypeP(usable_by), TEXTOID, -1, false, TYPALIGN_INT,
					  &names, &nulls, &n);
	initStringInfo(&missing);
	for (int i = 0; i < n; i++)
	{
		if (!nulls[i] && OidIsValid(get_role_oid(TextDatumGetCString(names[i]), true)))
			names[kept++] = names[i];
		else if (!nulls[i])
			appendStringInfo(&missing, "%s\"%s\"", missing.len ? ", " : "",
							 TextDatumGetCString(names[i]));
	}
	if (kept == n)
		return (Datum) 0;
	ereport(WARNING,
			(errmsg("roles allowed to use model \"%s\" do not exist: %s", model, missing.data),
			 errdetail("Those grants are dropped; the registration is kept.")));
	return PointerGetDatum(construct_array(names, kept, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Trigger BEFORE INSERT ON mrl_models: a row whose owner role does not
 * exist (a dump restored on a server without that role) is owned by the
 * current user, the one restoring it, and grants to missing roles are
 * dropped; each with a WARNING, never an error, so that the other rows of
 * the COPY are kept too.  The registry's own inserts always name existing
 * roles.
 */
PG_FUNCTION_INFO_V1(mrl_models_restore_roles);
Datum
mrl_models_restore_roles(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	desc;
	HeapTuple	tup;
	int			cols[2];
	Datum		values[2];
	bool		nulls[2] = {false, false};
	int			n = 0;
	char	   *model,
			   *owner;
	Datum		usable_by;
	bool		isnull;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || !TRIGGER_FIRED_BY_INSERT(td->tg_event))
		elog(ERROR, "mrl_models_restore_roles must be fired BEFORE INSERT FOR EACH ROW");
	desc = RelationGetDescr(td->tg_relation);
	tup = td->tg_trigtuple;
	model = SPI_getvalue(tup, desc, SPI_fnumber(desc, "name"));
	owner = SPI_getvalue(tup, desc, SPI_fnumber(desc, "owner"));
	if (owner != NULL && !OidIsValid(get_role_oid(owner, true)))
	{
		ereport(WARNING,
				(errmsg("owner role \"%s\" of model \"%s\" does not exist", owner, model),
				 errdetail("The registration is kept, owned by \"%s\".", CurrentUserName())));
		cols[n] = SPI_fnumber(desc, "owner");
		values[n++] = CStringGetTextDatum(CurrentUserName());
	}
	usable_by = SPI_getbinval(tup, desc, SPI_fnumber(desc, "usable_by"), &isnull);
	if (!isnull && (usable_by = ExistingRoles(model, usable_by)) != (Datum) 0)
	{
		cols[n] = SPI_fnumber(desc, "usable_by");
		values[n++] = usable_by;
	}
	if (n > 0)
		tup = heap_modify_tuple_by_cols(tup, desc, n, cols, values, nulls);
	return PointerGetDatum(tup);
}
