/*
 * loaded_models.c: the models loaded in this backend, kept by path or, for
 * stored models, by content hash.
 *
 * A model is opened once (weights memory-mapped, converted ones cached
 * under $PGDATA/mrl_models/DBOID for every backend of the database) and
 * kept.  A file-backed model is reloaded when its file changes; a replaced
 * one stays allocated until the end of the transaction, because a call
 * site of that transaction may still hold its encoder.  A stored model's
 * contents never change under its hash, so it is kept as it is, even if
 * its directory is removed (the mappings stay valid).
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xact.h"
#include "miscadmin.h"

#include "loaded_models.h"
#include "model_files.h"
#include "model_store.h"

#define STORED_KEY "sha256:"	/* key prefix of stored models */

/* One model loaded in this backend. */
typedef struct LoadedModel
{
	char	   *key;			/* the path, or STORED_KEY and the hash (malloc'd) */
	dev_t		dev;			/* file-backed: the file's identity */
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

/* Open the model at path; NULL with a message in err. */
static mrl_encoder *
TryOpen(const char *path, const char *cache_dir, const char *content_key,
		char *err, size_t errlen)
{
	mrl_load_options lo = {cache_dir, content_key, 0};

	return mrl_encoder_open_with(path, &lo, err, errlen);
}

/* Error: the model at path did not load, because of err. */
static void
LoadFailed(const char *path, const char *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("could not load model \"%s\"", path),
			 errdetail("%s", err)));
}

/* Keep enc under key (with the file identity st, if file-backed). */
static mrl_encoder *
Remember(const char *key, mrl_encoder *enc, const struct stat *st)
{
	LoadedModel *m = calloc(1, sizeof(LoadedModel));

	if (m == NULL || (m->key = strdup(key)) == NULL)
	{
		free(m);
		mrl_encoder_free(enc);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	if (st)
	{
		m->dev = st->st_dev;
		m->ino = st->st_ino;
		m->size = st->st_size;
		m->mtime = st->st_mtime;
	}
	m->enc = enc;
	m->next = loaded_models;
	loaded_models = m;
	return enc;
}

/* The loaded model kept under key, or NULL. */
static LoadedModel *
Find(const char *key)
{
	for (LoadedModel *m = loaded_models; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

/*
 * Return the encoder of the model file or directory at path, loading it on
 * first use or when the file changed since (same path, new contents:
 * re-registration after an update).
 */
mrl_encoder *
MrlLoadModel(const char *path)
{
	struct stat st;
	LoadedModel **link;
	LoadedModel *m;
	char		err[512];
	mrl_encoder *enc;

	if (stat(path, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open model \"%s\": %m", path)));

	for (link = &loaded_models; (m = *link) != NULL; link = &m->next)
	{
		if (strcmp(m->key, path) != 0)
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

	enc = TryOpen(path, MrlConvertedDir(), NULL, err, sizeof(err));
	if (enc == NULL)
		LoadFailed(path, err);
	return Remember(path, enc, &st);
}

/*
 * Return the encoder of a stored model (model_store.c), by the SHA-256 of
 * its contents, writing its files out of the table first if this
 * database's copy of them is missing (even for a model loaded already:
 * its encoder may read them again, e.g. mrl_train the tokenizer.json).
 * Another session may remove that copy at any moment (it is only a cache),
 * so a failed load whose files have gone writes them again once.
 */
mrl_encoder *
MrlLoadStoredModel(const char *name, const char *sha256, int64 bytes)
{
	char	   *key = psprintf(STORED_KEY "%s", sha256);
	char	   *dir = MrlStoredModelDir(name, sha256, bytes);
	LoadedModel *m = Find(key);
	char		err[512];
	struct stat st;

	if (m != NULL)
		return m->enc;
	for (int attempt = 0;; attempt++)
	{
		char	   *path = psprintf("%s/model", dir);
		mrl_encoder *enc = TryOpen(path, dir, sha256, err, sizeof(err));

		if (enc != NULL)
			return Remember(key, enc, NULL);
		if (attempt > 0 || stat(path, &st) == 0)
			LoadFailed(name, err);
		dir = MrlStoredModelDir(name, sha256, bytes);
	}
}

/*
 * Load the stored model whose files were just written into dir (dir/model)
 * to check it, and describe it in *info; it is not kept, because dir is a
 * build that moves when its transaction commits.  Its float32 conversions
 * are named after its hash, so they move with it and serve later loads.
 */
void
MrlCheckStoredModelAt(const char *sha256, const char *dir, mrl_encoder_info *info)
{
	char	   *path = psprintf("%s/model", dir);
	char		err[512];
	mrl_encoder *enc = TryOpen(path, dir, sha256, err, sizeof(err));

	if (enc == NULL)
		LoadFailed(path, err);
	mrl_encoder_get_info(enc, info);
	mrl_encoder_free(enc);
}

/* At the end of a transaction: free the models retired during it. */
static void
FreeRetiredModels(XactEvent event, void *arg)
{
	if (event != XACT_EVENT_COMMIT && event != XACT_EVENT_ABORT &&
		event != XACT_EVENT_PARALLEL_COMMIT && event != XACT_EVENT_PARALLEL_ABORT)
		return;
	while (retired_models != NULL)
	{
		LoadedModel *m = retired_models;

		retired_models = m->next;
		mrl_encoder_free(m->enc);
		free(m->key);
		free(m);
	}
}

/* Register the end-of-transaction hook; called from _PG_init. */
void
MrlLoadedModelsInit(void)
{
	RegisterXactCallback(FreeRetiredModels, NULL);
}
