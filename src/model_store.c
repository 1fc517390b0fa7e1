/*
 * model_store.c: stored models' files in the table mrl_model_data, in
 * chunks of 1 MiB: copied in from files while they are hashed, and written
 * back out into a directory of this database's cache, checked against
 * that hash.
 *
 * A stored model is identified by the SHA-256 of its manifest: one line
 * "<SHA-256 of the file>  <name>\n" (sha256sum's format) per file, in byte
 * order of the names, a name being the path relative to the model's
 * directory, or "" for a model that is one file.  Both directions stream a
 * chunk at a time: no file is ever whole in memory, whatever its size.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"

#include "model.h"
#include "model_files.h"
#include "model_store.h"
#include "registry.h"

#define STORE_CHUNK (1024 * 1024)	/* bytes per row of mrl_model_data */
#define FETCH_ROWS 16			/* rows per cursor fetch (toast pointers) */

/* ---------- hashing ---------- */

/* A new SHA-256 computation. */
static pg_cryptohash_ctx *
NewSha256(void)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize a SHA-256 context");
	return ctx;
}

/* Add len bytes to ctx. */
static void
HashBytes(pg_cryptohash_ctx *ctx, const void *data, size_t len)
{
	if (pg_cryptohash_update(ctx, data, len) < 0)
		elog(ERROR, "could not compute a SHA-256");
}

/* Finish ctx (and free it) into 64 hex digits and a NUL. */
static void
FinishSha256(pg_cryptohash_ctx *ctx, char *hex)
{
	uint8		digest[PG_SHA256_DIGEST_LENGTH];

	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a SHA-256");
	pg_cryptohash_free(ctx);
	hex_encode((const char *) digest, sizeof(digest), hex);
	hex[2 * sizeof(digest)] = '\0';
}

/* Add one file's line to the manifest, finishing its own hash. */
static void
AddManifestLine(pg_cryptohash_ctx *manifest, pg_cryptohash_ctx *file_ctx, const char *name)
{
	char		hex[2 * PG_SHA256_DIGEST_LENGTH + 1];

	FinishSha256(file_ctx, hex);
	HashBytes(manifest, hex, strlen(hex));
	HashBytes(manifest, "  ", 2);
	HashBytes(manifest, name, strlen(name));
	HashBytes(manifest, "\n", 1);
}

/* ---------- names ---------- */

/*
 * A file's name inside its model: its path relative to root, canonical
 * ("a/./b//c" is "a/b/c"), never absolute or reaching outside; NULL if it
 * is not inside root.  root itself, a model that is one file, is "".
 */
static char *
NameInModel(const char *root, const char *path)
{
	size_t		len = strlen(root);
	char	   *name;

	if (strcmp(path, root) == 0)
		return pstrdup("");
	if (strncmp(path, root, len) != 0 || path[len] != '/')
		return NULL;
	name = pstrdup(path + len + 1);
	canonicalize_path(name);
	if (name[0] == '\0' || is_absolute_path(name) || path_contains_parent_reference(name) ||
		strcmp(name, ".") == 0)
		return NULL;
	return name;
}

/* Is a name read back from the table one NameInModel could have made? */
static bool
SafeName(const char *name)
{
	char	   *canonical = pstrdup(name);

	canonicalize_path(canonical);
	return name[0] == '\0' ||
		(strcmp(canonical, name) == 0 && !is_absolute_path(name) &&
		 !path_contains_parent_reference(name) && strcmp(name, ".") != 0);
}

/* list_sort order of names: bytewise, as the manifest has them. */
static int
CompareNames(const ListCell *a, const ListCell *b)
{
	return strcmp((const char *) lfirst(a), (const char *) lfirst(b));
}

/* Create the directories leading to root/name. */
static void
MakeParents(const char *root, const char *name)
{
	char	   *path = psprintf("%s/%s", root, name);
	char	   *slash = path + strlen(root);

	if (mkdir(root, S_IRWXU) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", root)));
	while ((slash = strchr(slash + 1, '/')) != NULL)
	{
		*slash = '\0';
		if (mkdir(path, S_IRWXU) != 0 && errno != EEXIST)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m", path)));
		*slash = '/';
	}
}

/* Open the file name of a model being written at root ("" is root itself). */
static int
CreateModelFile(const char *root, const char *name)
{
	char	   *path = name[0] ? psprintf("%s/%s", root, name) : pstrdup(root);
	int			fd;

	if (name[0])
		MakeParents(root, name);
	fd = OpenTransientFile(path, O_WRONLY | O_CREAT | O_EXCL | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", path)));
	return fd;
}

/* Write all of buf to fd (a file of the model being written at root). */
static void
WriteAll(int fd, const char *buf, size_t len, const char *root)
{
	while (len > 0)
	{
		ssize_t		n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			if (n == 0)
				errno = ENOSPC;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write a model file under \"%s\": %m", root)));
		}
		buf += n;
		len -= n;
	}
}

/* ---------- storing ---------- */

/*
 * The names of the files the loader reads for the model at src (model.h),
 * sorted: what a stored copy must hold to load the same, and no more.
 */
static List *
ModelFileNames(const char *src)
{
	char	  **files;
	int			n;
	char		err[512];
	List	   *names = NIL;

	if (mrl_model_files(src, &files, &n, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not load model \"%s\"", src),
				 errdetail("%s", err)));
	for (int i = 0; i < n; i++)
	{
		char	   *name = NameInModel(src, files[i]);

		if (name == NULL)
		{
			char	   *bad = pstrdup(files[i]);

			for (int j = 0; j < n; j++)
				free(files[j]);
			free(files);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("model \"%s\" reads \"%s\", outside its directory", src, bad),
					 errhint("Only a model whose files are all inside its directory can be stored.")));
		}
		if (strlen(name) > MRL_MAX_FILE_NAME)
		{
			for (int j = 0; j < n; j++)
				free(files[j]);
			free(files);
			ereport(ERROR,
					(errcode(ERRCODE_NAME_TOO_LONG),
					 errmsg("model file name \"%s\" is too long to be stored", name),
					 errdetail("Names of a stored model's files may have at most %d bytes, so that their copies under the data directory stay within pg_basebackup's limit.",
							   MRL_MAX_FILE_NAME)));
		}
		names = lappend(names, name);
		free(files[i]);
	}
	free(files);
	list_sort(names, CompareNames);
	for (int i = list_length(names) - 1; i > 0; i--)
		if (strcmp(list_nth(names, i), list_nth(names, i - 1)) == 0)
			names = list_delete_nth_cell(names, i);
	return names;
}

/*
 * Store one file as rows (name, 0..), hashing it into file_ctx; its size.
 * A NULL insert_sql only hashes.
 */
static int64
StoreOneFile(const char *insert_sql, Datum model, const char *src, const char *name,
			 int copy_fd, const char *copy_to, pg_cryptohash_ctx *file_ctx, bytea *buf)
{
	char	   *path = name[0] ? psprintf("%s/%s", src, name) : pstrdup(src);
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	Oid			types[4] = {TEXTOID, TEXTOID, INT4OID, BYTEAOID};
	Datum		values[4] = {model, CStringGetTextDatum(name), 0, PointerGetDatum(buf)};
	struct stat st;
	int64		done = 0;

	if (fd < 0 || fstat(fd, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open model file \"%s\": %m", path)));
	/* one row even for an empty file, so that the file exists */
	for (int chunk = 0; chunk == 0 || done < st.st_size; chunk++)
	{
		size_t		want = Min((int64) STORE_CHUNK, st.st_size - done);
		ssize_t		got = 0;

		CHECK_FOR_INTERRUPTS();
		while ((size_t) got < want)
		{
			ssize_t		n = read(fd, VARDATA(buf) + got, want - got);

			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("model file \"%s\" became shorter while being stored", path)));
			if (n < 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not read model file \"%s\": %m", path)));
			got += n;
		}
		SET_VARSIZE(buf, VARHDRSZ + got);
		values[2] = Int32GetDatum(chunk);
		if (insert_sql != NULL &&
			MrlRegistryExecute(insert_sql, 4, types, values, true) != SPI_OK_INSERT)
			elog(ERROR, "could not store a chunk of model file \"%s\"", path);
		HashBytes(file_ctx, VARDATA(buf), got);
		if (copy_fd >= 0)
			WriteAll(copy_fd, VARDATA(buf), got, copy_to);
		done += got;
	}
	CloseTransientFile(fd);
	return done;
}

/*
 * Store the files the model at src is made of as the rows of model name in
 * mrl_model_data (its registration must follow in the same transaction:
 * the foreign key is checked at commit), and copy them to copy_to unless
 * that is NULL.  Returns the model's SHA-256 (hex) and its size in *bytes.
 * A NULL name stores nothing: the hash the model would be stored under
 * (how the built-in model is pinned by mrl_embed_pinned).
 */
char *
MrlStoreModelFiles(const char *name, const char *src, const char *copy_to, int64 *bytes)
{
	List	   *names = ModelFileNames(src);
	pg_cryptohash_ctx *manifest = NewSha256();
	bytea	   *buf = palloc(VARHDRSZ + STORE_CHUNK);
	Datum		model = name ? CStringGetTextDatum(name) : (Datum) 0;
	char	   *insert_sql = NULL;
	char	   *sha256 = palloc(2 * PG_SHA256_DIGEST_LENGTH + 1);
	ListCell   *lc;

	*bytes = 0;
	SPI_connect();
	if (name != NULL)
		insert_sql = psprintf("INSERT INTO %s (model, file, chunk, data) VALUES ($1, $2, $3, $4)",
							  MrlRegistryTable("mrl_model_data"));
	foreach(lc, names)
	{
		const char *file = lfirst(lc);
		pg_cryptohash_ctx *file_ctx = NewSha256();
		int			copy_fd = copy_to ? CreateModelFile(copy_to, file) : -1;

		*bytes += StoreOneFile(insert_sql, model, src, file, copy_fd, copy_to, file_ctx, buf);
		if (copy_fd >= 0)
			CloseTransientFile(copy_fd);
		AddManifestLine(manifest, file_ctx, file);
	}
	SPI_finish();
	FinishSha256(manifest, sha256);
	pfree(buf);
	return sha256;
}

/* ---------- writing out ---------- */

/* Error: the rows of a stored model do not make the model that was stored. */
static void
Damaged(const char *name, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("stored model \"%s\" is damaged", name),
			 errdetail("%s", detail),
			 errhint("Register it again, or restore mrl_models and mrl_model_data from a backup.")));
}

/* The file being written out of the table. */
typedef struct OutFile
{
	char	   *name;			/* NULL before the first row */
	int			fd;
	int32		next_chunk;
	pg_cryptohash_ctx *ctx;
} OutFile;

/* Close the current file and put its line in the manifest. */
static void
FinishOutFile(OutFile *out, pg_cryptohash_ctx *manifest)
{
	if (out->name == NULL)
		return;
	CloseTransientFile(out->fd);
	AddManifestLine(manifest, out->ctx, out->name);
}

/* One row (file, chunk, data) into the file under dest, checking its order. */
static int64
WriteRow(const char *name, const char *dest, HeapTuple tup, TupleDesc desc,
		 OutFile *out, pg_cryptohash_ctx *manifest)
{
	bool		isnull;
	char	   *file = TextDatumGetCString(SPI_getbinval(tup, desc, 1, &isnull));
	int32		chunk = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
	bytea	   *data = DatumGetByteaPP(SPI_getbinval(tup, desc, 3, &isnull));
	int64		len = VARSIZE_ANY_EXHDR(data);

	if (out->name == NULL || strcmp(out->name, file) != 0)
	{
		if (!SafeName(file))
			Damaged(name, psprintf("It has a file named \"%s\".", file));
		if (out->name != NULL && (out->name[0] == '\0' || file[0] == '\0'))
			Damaged(name, "A model that is one file has other files.");
		FinishOutFile(out, manifest);
		out->name = file;
		out->fd = CreateModelFile(dest, file);
		out->next_chunk = 0;
		out->ctx = NewSha256();
	}
	if (chunk != out->next_chunk)
		Damaged(name, psprintf("Chunk %d of file \"%s\" is missing.", out->next_chunk, file));
	out->next_chunk++;
	WriteAll(out->fd, VARDATA_ANY(data), len, dest);
	HashBytes(out->ctx, VARDATA_ANY(data), len);
	if ((Pointer) data != DatumGetPointer(SPI_getbinval(tup, desc, 3, &isnull)))
		pfree(data);
	return len;
}

/*
 * Write stored model name out of the table into dest (a file or a
 * directory, created), checking its contents against sha256 and bytes.
 */
static void
WriteStoredModel(const char *name, const char *sha256, int64 bytes, const char *dest)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	pg_cryptohash_ctx *manifest = NewSha256();
	OutFile		out = {0};
	char		got[2 * PG_SHA256_DIGEST_LENGTH + 1];
	int64		written = 0;
	Portal		portal;

	SPI_connect();
	portal = MrlRegistryCursor(psprintf("SELECT file, chunk, data FROM %s WHERE model = $1 "
										"ORDER BY file COLLATE \"C\", chunk",
										MrlRegistryTable("mrl_model_data")),
							   1, types, values);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			CHECK_FOR_INTERRUPTS();
			written += WriteRow(name, dest, SPI_tuptable->vals[r], SPI_tuptable->tupdesc,
								&out, manifest);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	if (out.name == NULL)
		Damaged(name, "It has no files.");
	FinishOutFile(&out, manifest);
	SPI_finish();
	FinishSha256(manifest, got);
	if (strcmp(got, sha256) != 0 || written != bytes)
		Damaged(name, psprintf("Its files hash to %s (" INT64_FORMAT " bytes), the registry says %s (" INT64_FORMAT " bytes).",
							   got, written, sha256, bytes));
}

/*
 * The directory of stored model name in this database's cache (model_files.c),
 * written out of the table first if it is not there; its model is DIR/model.
 */
char *
MrlStoredModelDir(const char *name, const char *sha256, int64 bytes)
{
	char	   *dir = MrlStoredDir(sha256);
	struct stat st;
	MrlBuild   *build;

	if (stat(psprintf("%s/model", dir), &st) == 0)
		return dir;
	MrlSweepFiles();
	build = MrlBeginBuild();
	WriteStoredModel(name, sha256, bytes, psprintf("%s/model", build->path));
	MrlInstallBuild(build, sha256);
	return dir;
}
