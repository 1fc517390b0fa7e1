/*
 * loaded_models.c: the models loaded in this backend, kept by path.
 *
 * A model is opened once (weights memory-mapped, converted ones cached in
 * $PGDATA/mrl_cache for every backend) and kept until its file changes.  A
 * replaced model stays allocated until the end of the transaction, because
 * a call site of that transaction may still hold its encoder.
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/xact.h"
#include "miscadmin.h"

#include "loaded_models.h"

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

/*
 * Return the encoder for path, loading it on first use or when the file
 * changed since (same path, new contents: re-registration after an update).
 */
mrl_encoder *
MrlLoadModel(const char *path)
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
		free(m->path);
		free(m);
	}
}

/* Register the end-of-transaction hook; called from _PG_init. */
void
MrlLoadedModelsInit(void)
{
	RegisterXactCallback(FreeRetiredModels, NULL);
}
