/*
 * model_files.c: the extension's files under $PGDATA/mrl_models/DBOID/, a
 * cache derived from the database: built atomically, removed in step with
 * the transactions that make them useless, swept when nothing needs them.
 *
 * One directory per database, so that no database ever removes another's
 * files:
 *   HASH/          a stored model's files (HASH/model, one file or a
 *                  directory) written out of mrl_model_data, and the
 *                  float32 conversions of its weights (model_store.c);
 *                  HASH is the first 16 hex digits of its SHA-256, short
 *                  because pg_basebackup refuses paths over 99 bytes;
 *   converted/     the float32 conversions of file-backed models' weights;
 *   .build-PID-N/  a directory being written, flock()ed by its writer;
 *   .trash-PID-N/  a directory being removed.
 * A directory is written under .build-*, fsynced and renamed into place,
 * so a HASH directory is always complete; when two backends build the
 * same one, the second rename fails and that copy is dropped.  Removal
 * renames first, so two sessions never remove the same directory.
 *
 * Nothing here is precious (the models are in the database), so nothing
 * needs the WAL and a hot standby, which may not write tables, builds its
 * own copies.  A build that a transaction makes for a model it stores is
 * put in place when the transaction commits and removed if it aborts;
 * unregistering a stored model, dropping the extension or dropping a
 * database remove their directories when the transaction commits.  What a
 * crash interrupts, MrlSweepFiles finishes: builds whose writer is gone,
 * HASH directories no registration refers to, directories of dropped
 * databases.  PREPARE TRANSACTION is refused while any such work is
 * pending: a prepared transaction outlives the session that would do it.
 *
 * DROP EXTENSION runs in sessions that may never have loaded mrl.so: the
 * extension's event trigger calls mrl_watch_drops() at the start of any
 * command that can drop it, which loads mrl.so and with it the
 * object_access_hook that sees the extension (or a database) go.
 */
#include "postgres.h"

#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_database.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "model_files.h"
#include "registry.h"

#define BUILD_PREFIX ".build-"
#define TRASH_PREFIX ".trash-"

/* File work that waits for the end of a (sub)transaction. */
typedef struct PendingWork
{
	struct PendingWork *next;
	SubTransactionId subid;		/* the subtransaction that asked for it */
	MrlBuild   *build;			/* a build: in place at commit, gone at abort */
	char	   *remove;			/* else a directory to remove at commit */
	bool		left_at_prepare;	/* a removal PREPARE may leave undone */
} PendingWork;

static PendingWork *pending_head = NULL;
static PendingWork *pending_tail = NULL;
static object_access_hook_type prev_object_access_hook = NULL;

/* ---------- names ---------- */

/* $PGDATA/mrl_models/DBOID */
static char *
DatabaseDir(Oid dboid)
{
	return psprintf("%s/mrl_models/%u", DataDir, dboid);
}

/* The name of a stored model's directory (MrlStoredDir)? */
static bool
IsStoredDirName(const char *name)
{
	return strlen(name) == MRL_STORED_DIR_CHARS &&
		strspn(name, "0123456789abcdef") == MRL_STORED_DIR_CHARS;
}

/*
 * Create dir and, first, the two directories above it up to $PGDATA (mode
 * 0700).  Another session may remove an empty mrl_models/ between the two
 * steps (MrlSweepFiles), so a vanished parent is made again.
 */
static void
EnsureDir(const char *dir)
{
	char	   *parent = pstrdup(dir);
	char	   *grandparent;

	*strrchr(parent, '/') = '\0';
	grandparent = pstrdup(parent);
	*strrchr(grandparent, '/') = '\0';
	for (int attempt = 0; attempt < 3; attempt++)
	{
		if (strcmp(grandparent, DataDir) != 0)
			(void) mkdir(grandparent, S_IRWXU);
		(void) mkdir(parent, S_IRWXU);
		if (mkdir(dir, S_IRWXU) == 0 || errno == EEXIST)
			return;
		if (errno != ENOENT)
			break;
	}
	ereport(ERROR,
			(errcode_for_file_access(),
			 errmsg("could not create directory \"%s\": %m", dir)));
}

/* This database's directory, created if need be. */
static char *
CurrentDatabaseDir(void)
{
	char	   *dir = DatabaseDir(MyDatabaseId);

	EnsureDir(psprintf("%s/converted", dir));
	return dir;
}

/* Where the weights of file-backed models are converted to float32. */
char *
MrlConvertedDir(void)
{
	return psprintf("%s/converted", CurrentDatabaseDir());
}

/*
 * The directory of the stored model whose contents hash to sha256 (may not
 * exist), named by the hash's first MRL_STORED_DIR_CHARS hex digits.
 */
char *
MrlStoredDir(const char *sha256)
{
	return psprintf("%s/%.*s", DatabaseDir(MyDatabaseId), MRL_STORED_DIR_CHARS, sha256);
}

/* ---------- removal ---------- */

/*
 * Rename a directory to a fresh .trash-PID-N beside it, which only one
 * session can do.  Returns the new name, or NULL if the directory is gone
 * or could not be renamed (a WARNING then: callers never error).
 */
static char *
RenameToTrash(const char *path)
{
	static uint32 trash_counter = 0;
	char	   *parent = pstrdup(path);
	char	   *trash;

	*strrchr(parent, '/') = '\0';
	for (int attempt = 0; attempt < 100; attempt++)
	{
		trash = psprintf("%s/" TRASH_PREFIX "%d-%u", parent, MyProcPid, trash_counter++);
		if (rename(path, trash) == 0)
			return trash;
		if (errno != EEXIST && errno != ENOTEMPTY)
			break;
	}
	if (errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not rename \"%s\" for removal: %m", path)));
	return NULL;
}

/* Remove a directory RenameToTrash gave this session. */
static void
RemoveTrash(char *trash)
{
	if (!rmtree(trash, true))
		ereport(WARNING,
				(errmsg("could not remove all of \"%s\"", trash),
				 errdetail("The next mrl_train, mrl_unregister_model or model build in this database tries again.")));
	pfree(trash);
}

/*
 * Remove a directory: rename it away, then remove it.  Never errors
 * (commit callbacks use it); a directory that is already gone is fine.
 */
static void
Discard(const char *path)
{
	char	   *trash = RenameToTrash(path);

	if (trash)
		RemoveTrash(trash);
}

/* Remove $PGDATA/mrl_models if nothing is left in it. */
static void
RemoveEmptyRoot(void)
{
	(void) rmdir(psprintf("%s/mrl_models", DataDir));
}

/* ---------- builds ---------- */

/* Append work for the end of the current subtransaction. */
static PendingWork *
AddPending(MrlBuild *build, const char *remove)
{
	PendingWork *w = MemoryContextAllocZero(TopMemoryContext, sizeof(PendingWork));

	w->subid = GetCurrentSubTransactionId();
	w->build = build;
	w->remove = remove ? MemoryContextStrdup(TopMemoryContext, remove) : NULL;
	if (pending_tail)
		pending_tail->next = w;
	else
		pending_head = w;
	pending_tail = w;
	return w;
}

/* Take w out of the pending list and free it (not its build). */
static void
ForgetPending(PendingWork *w)
{
	PendingWork **link = &pending_head;
	PendingWork *prev = NULL;

	while (*link != w)
	{
		prev = *link;
		link = &(*link)->next;
	}
	*link = w->next;
	if (pending_tail == w)
		pending_tail = prev;
	if (w->remove)
		pfree(w->remove);
	pfree(w);
}

/* Release a build's lock and memory. */
static void
EndBuild(MrlBuild *b)
{
	if (b->lock_fd >= 0)
		close(b->lock_fd);
	pfree(b);
}

/*
 * Create and lock (flock) a fresh build directory ROOT/.build-PID-N, its
 * path in path.  Between the mkdir and the lock another session's sweep may
 * take the directory for an abandoned one: a sweep renames it away while
 * holding its lock (DiscardIfAbandoned), so once we hold the lock the path
 * still being our directory proves it was not swept; else try a new name.
 */
static int
NewLockedBuildDir(const char *root, char *path, size_t pathlen)
{
	static uint32 build_counter = 0;

	for (;;)
	{
		int			fd;
		struct stat by_fd,
					by_path;

		snprintf(path, pathlen, "%s/" BUILD_PREFIX "%d-%u", root, MyProcPid, build_counter++);
		if (mkdir(path, S_IRWXU) != 0)
		{
			if (errno == EEXIST)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m", path)));
		}
		fd = BasicOpenFile(path, O_RDONLY | PG_BINARY);
		if (fd < 0)
			continue;			/* swept before we opened it */
		/* a sweep holds the lock only while it renames the directory away */
		while (flock(fd, LOCK_EX | LOCK_NB) != 0)
		{
			if (errno != EWOULDBLOCK && errno != EINTR)
			{
				int			save_errno = errno;

				close(fd);
				rmtree(path, true);
				errno = save_errno;
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not lock directory \"%s\": %m", path)));
			}
			pg_usleep(1000L);
		}
		if (fstat(fd, &by_fd) == 0 && stat(path, &by_path) == 0 &&
			by_fd.st_dev == by_path.st_dev && by_fd.st_ino == by_path.st_ino)
			return fd;
		close(fd);				/* swept: its trash is being removed */
	}
}

/*
 * Start writing a directory: $PGDATA/mrl_models/DBOID/.build-PID-N, locked
 * (flock) while this backend writes it, so that sweeps leave it alone; it
 * is removed if the current subtransaction aborts before it is put in
 * place.
 */
MrlBuild *
MrlBeginBuild(void)
{
	char		path[MAXPGPATH];
	int			lock_fd = NewLockedBuildDir(CurrentDatabaseDir(), path, sizeof(path));
	MrlBuild   *b = MemoryContextAllocZero(TopMemoryContext, sizeof(MrlBuild));

	strlcpy(b->path, path, sizeof(b->path));
	b->lock_fd = lock_fd;
	b->pending = AddPending(b, NULL);
	return b;
}

/* fsync a directory tree, files first, so that it survives an OS crash. */
static void
SyncTree(const char *path)
{
	DIR		   *dir = AllocateDir(path);
	struct dirent *de;
	struct stat st;

	while ((de = ReadDir(dir, path)) != NULL)
	{
		char	   *sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		sub = psprintf("%s/%s", path, de->d_name);
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			SyncTree(sub);
		else
			fsync_fname_ext(sub, false, false, ERROR);
		pfree(sub);
	}
	FreeDir(dir);
	fsync_fname_ext(path, true, false, ERROR);
}

/*
 * Rename a synced build to its place, this database's HASH/; if that is
 * already there (another backend built it), drop the build.  Never errors.
 */
static void
InstallBuild(MrlBuild *b, const char *sha256)
{
	char	   *target = MrlStoredDir(sha256);

	if (rename(b->path, target) == 0)
		(void) fsync_fname_ext(DatabaseDir(MyDatabaseId), true, true, WARNING);
	else
		Discard(b->path);
	EndBuild(b);
}

/*
 * Put a build in place now, as the directory of the stored model whose
 * contents hash to sha256: a copy written for use, not tied to the
 * transaction.
 */
void
MrlInstallBuild(MrlBuild *b, const char *sha256)
{
	SyncTree(b->path);
	ForgetPending(b->pending);
	InstallBuild(b, sha256);
}

/*
 * Put a build in place when the current (sub)transaction and its parents
 * commit (it is synced now, so that an error is still an ERROR); an abort
 * removes it.
 */
void
MrlInstallBuildAtCommit(MrlBuild *b, const char *sha256)
{
	SyncTree(b->path);
	strlcpy(b->sha256, sha256, sizeof(b->sha256));
}

/* Remove this database's directory of a stored model once the transaction commits. */
void
MrlRemoveStoredAtCommit(const char *sha256)
{
	AddPending(NULL, MrlStoredDir(sha256));
}

/* ---------- transaction ends ---------- */

/* Do (commit) or undo (abort) one piece of pending work; never errors. */
static void
SettleOne(PendingWork *w, bool committed)
{
	if (w->build)
	{
		if (committed && w->build->sha256[0])
			InstallBuild(w->build, w->build->sha256);
		else
		{
			Discard(w->build->path);
			EndBuild(w->build);
		}
	}
	else if (committed)
	{
		Discard(w->remove);
		RemoveEmptyRoot();
	}
}

/* Settle the work of subtransaction subid, or all of it (InvalidSubTransactionId). */
static void
SettlePending(bool committed, SubTransactionId subid)
{
	PendingWork *w = pending_head;

	while (w != NULL)
	{
		PendingWork *next = w->next;

		if (subid == InvalidSubTransactionId || w->subid == subid)
		{
			SettleOne(w, committed);
			ForgetPending(w);
		}
		w = next;
	}
}

/* Subtransaction end: an abort settles its work, a commit hands it up. */
static void
SubTransactionEnd(SubXactEvent event, SubTransactionId mySubid,
				  SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		SettlePending(false, mySubid);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		for (PendingWork *w = pending_head; w != NULL; w = w->next)
			if (w->subid == mySubid)
				w->subid = parentSubid;
}

/*
 * Before PREPARE TRANSACTION: file work must happen in this session, so it
 * is refused, but for the removal of a dropped extension's directory, left
 * in place (Citus prepares every worker's DROP EXTENSION): the extension
 * created again sweeps it, as after a drop that could not remove it.
 */
static void
BeforePrepare(void)
{
	for (PendingWork *w = pending_head; w != NULL; w = w->next)
		if (!w->left_at_prepare)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot PREPARE a transaction that has trained, stored or unregistered a model"),
					 errdetail("The model files under the data directory are written or removed when the transaction commits or aborts, by the session that ran it.")));
	while (pending_head != NULL)
	{
		ereport(LOG,
				(errmsg("mrl: a prepared DROP EXTENSION leaves \"%s\" in place", pending_head->remove)));
		ForgetPending(pending_head);
	}
}

/* Transaction end: file work happens at commit or abort, never at PREPARE. */
static void
TransactionEnd(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_PREPARE)
		BeforePrepare();
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
		SettlePending(true, InvalidSubTransactionId);
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		SettlePending(false, InvalidSubTransactionId);
}

/* ---------- drops ---------- */

/*
 * The extension being dropped takes this database's directory with it, and
 * a database being dropped its own, when the transaction commits.
 */
static void
WatchDrops(ObjectAccessType access, Oid classId, Oid objectId, int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	if (access != OAT_DROP)
		return;
	if (classId == ExtensionRelationId && objectId == get_extension_oid("mrl", true))
		AddPending(NULL, DatabaseDir(MyDatabaseId))->left_at_prepare = true;
	else if (classId == DatabaseRelationId)
		AddPending(NULL, DatabaseDir(objectId));
}

/*
 * mrl_watch_drops(): called by the extension's event trigger when a command
 * that may drop the extension starts; loading mrl.so for it installed
 * WatchDrops, which does the work.
 */
PG_FUNCTION_INFO_V1(mrl_watch_drops);
Datum
mrl_watch_drops(PG_FUNCTION_ARGS)
{
	PG_RETURN_VOID();
}

/* Register the transaction callbacks and the drop hook; called from _PG_init. */
void
MrlModelFilesInit(void)
{
	RegisterXactCallback(TransactionEnd, NULL);
	RegisterSubXactCallback(SubTransactionEnd, NULL);
	prev_object_access_hook = object_access_hook;
	object_access_hook = WatchDrops;
}

/* ---------- leftovers ---------- */

/*
 * Remove the build directory at path if nobody holds its lock (its writer
 * is gone), renaming it away while holding the lock ourselves, so that a
 * writer that created it but has not locked it yet finds it gone once it
 * does (NewLockedBuildDir) and starts another.
 */
static void
DiscardIfAbandoned(const char *path)
{
	int			fd = BasicOpenFile(path, O_RDONLY | PG_BINARY);
	char	   *trash = NULL;

	if (fd < 0)
		return;
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		trash = RenameToTrash(path);
	/* unlock before the removal: a writer waiting for the lock moves on */
	close(fd);
	if (trash)
		RemoveTrash(trash);
}

/*
 * true if the .trash-PID-N directory name belongs to a live backend other
 * than this one, which is removing it right now: leave it to that backend.
 * After a crash a new process may have the same PID; its trash then waits
 * for a later sweep.
 */
static bool
TrashOfLiveBackend(const char *name)
{
	int			pid = atoi(name + strlen(TRASH_PREFIX));

	return pid > 0 && pid != MyProcPid && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Directories of dropped databases, and what removals left, in $PGDATA/mrl_models. */
static void
SweepDroppedDatabases(void)
{
	char	   *root = psprintf("%s/mrl_models", DataDir);
	DIR		   *dir = AllocateDir(root);
	struct dirent *de;

	while (dir != NULL && (de = ReadDir(dir, root)) != NULL)
	{
		bool		dropped = false;

		if (strspn(de->d_name, "0123456789") == strlen(de->d_name) && de->d_name[0] != '\0')
			dropped = !SearchSysCacheExists1(DATABASEOID,
											 ObjectIdGetDatum(strtoul(de->d_name, NULL, 10)));
		if (dropped || (strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)) == 0 &&
						!TrashOfLiveBackend(de->d_name)))
			Discard(psprintf("%s/%s", root, de->d_name));
	}
	if (dir != NULL)
		FreeDir(dir);
}

/*
 * Finish what crashes and unseen drops left: in this database's directory,
 * builds whose writer is gone, stored models' directories that no
 * registration refers to (a crash after an unregistration committed, a
 * model another transaction stored and rolled back), removals cut short;
 * and the directories of dropped databases.  A directory in use by another
 * backend may go too: its mappings stay valid, and it is built again when
 * needed.
 */
void
MrlSweepFiles(void)
{
	char	   *root = DatabaseDir(MyDatabaseId);
	List	   *referenced = MrlStoredHashes();
	DIR		   *dir;
	struct dirent *de;

	SweepDroppedDatabases();
	dir = AllocateDir(root);
	while (dir != NULL && (de = ReadDir(dir, root)) != NULL)
	{
		char	   *path = psprintf("%s/%s", root, de->d_name);
		bool		unused = false;

		if (IsStoredDirName(de->d_name))
		{
			ListCell   *lc;

			unused = true;
			foreach(lc, referenced)
				if (strncmp((char *) lfirst(lc), de->d_name, MRL_STORED_DIR_CHARS) == 0)
				unused = false;
		}
		else if (strncmp(de->d_name, BUILD_PREFIX, strlen(BUILD_PREFIX)) == 0)
			DiscardIfAbandoned(path);
		else if (strncmp(de->d_name, TRASH_PREFIX, strlen(TRASH_PREFIX)) == 0)
			unused = !TrashOfLiveBackend(de->d_name);
		if (unused)
			Discard(path);
		pfree(path);
	}
	if (dir != NULL)
		FreeDir(dir);
}
