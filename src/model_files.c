/*
 * model_files.c: the directories of trained models, created and removed in
 * step with the transactions that register and unregister them.
 *
 * mrl_train writes a model into $PGDATA/mrl_models/DBOID/NAME-XID-N, XID
 * being the (sub)transaction that registers it.  Unregistering it leaves a
 * marker file NAME-XID-N.unregistered-XID2 beside it, XID2 being the
 * (sub)transaction that deleted the row.  Files cannot be rolled back, so
 * each directory a transaction creates or dooms is remembered with the
 * subtransaction that did it: an abort of that subtransaction removes a
 * created directory (or a doomed one's marker), its commit hands both to the
 * parent, and the commit of the whole transaction keeps the created ones and
 * removes the doomed ones with their markers.  PREPARE TRANSACTION is refused
 * while any is pending: a prepared transaction outlives the session that
 * would have to finish the file work.
 *
 * A crash skips those steps, and the names tell what the steps were:
 * MrlSweepModelDirs (run by the next mrl_train or mrl_unregister_model of the
 * database) removes a directory whose XID never committed, and a directory
 * whose marker's XID2 committed; a marker whose XID2 never committed goes.
 * Nothing is inferred from a missing registry row, so a dump being restored
 * or a hand-edited registry never costs a model its files.  Removals take a
 * file lock, so two sessions never remove the same directory at once.
 */
#include "postgres.h"

#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/transam.h"
#include "access/xact.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/xid8.h"

#include "model_files.h"

/* Suffix of the marker of an unregistered model's directory, before XID2. */
#define UNREGISTERED_TAG ".unregistered-"

/* A directory whose fate depends on how a (sub)transaction ends. */
typedef struct PendingDir
{
	struct PendingDir *next;
	SubTransactionId subid;		/* the subtransaction that made it pending */
	char	   *marker;			/* NULL: created by it; else: unregistered */
	char		path[FLEXIBLE_ARRAY_MEMBER];
} PendingDir;

static PendingDir *pending_dirs = NULL;

/* ---------- names ---------- */

/* $PGDATA/mrl_models/DBOID: where mrl_train writes this database's models. */
static char *
DatabaseModelsDir(void)
{
	return psprintf("%s/mrl_models/%u", DataDir, MyDatabaseId);
}

/* Is path a directory mrl_train writes in this database (see MrlNewModelDir)? */
bool
MrlIsOwnModelDir(const char *path)
{
	char	   *root = DatabaseModelsDir();
	size_t		len = strlen(root);

	return strncmp(path, root, len) == 0 && path[len] == '/' &&
		path[len + 1] != '\0' && strchr(path + len + 1, '/') == NULL;
}

/* Read the transaction id that starts at digits and ends at end; false if none. */
static bool
ParseXid(const char *digits, const char *end, FullTransactionId *xid)
{
	char	   *stop;

	if (digits == end || strspn(digits, "0123456789") < (size_t) (end - digits))
		return false;
	*xid = FullTransactionIdFromU64(strtou64(digits, &stop, 10));
	return stop == end;
}

/*
 * The transaction that created a directory named NAME-XID-N, read from the
 * right (names may hold '-'); false if the name has another form.
 */
static bool
CreatorOf(const char *entry, FullTransactionId *creator)
{
	const char *n = strrchr(entry, '-');
	const char *xid;

	if (n == NULL || n[1] == '\0' || strspn(n + 1, "0123456789") != strlen(n + 1))
		return false;
	for (xid = n; xid > entry && xid[-1] != '-'; xid--)
		;
	return xid > entry && ParseXid(xid, n, creator);
}

/*
 * If entry is a marker DIR.unregistered-XID2: the length of DIR and the
 * transaction XID2 that unregistered it.
 */
static bool
UnregistererOf(const char *entry, size_t *dirlen, FullTransactionId *unregisterer)
{
	const char *tag = NULL;
	const char *p;

	for (p = strstr(entry, UNREGISTERED_TAG); p != NULL; p = strstr(p + 1, UNREGISTERED_TAG))
		tag = p;
	if (tag == NULL || tag == entry)
		return false;
	*dirlen = tag - entry;
	p = tag + strlen(UNREGISTERED_TAG);
	return ParseXid(p, p + strlen(p), unregisterer);
}

/* ---------- removal ---------- */

/*
 * Take the lock that serialises removals under $PGDATA/mrl_models (a file
 * lock, released by close or by the process's end); -1 if there is no such
 * directory, so nothing to remove.
 */
static int
LockModelFiles(void)
{
	char		path[MAXPGPATH];
	int			fd;

	snprintf(path, sizeof(path), "%s/mrl_models/.lock", DataDir);
	fd = BasicOpenFile(path, O_RDWR | O_CREAT | PG_BINARY);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
			;
	return fd;
}

/*
 * Remove a model directory (remove_dir) and then its marker, or only the
 * marker; a marker stays while its directory could not be removed, so the
 * next sweep tries again.  What another session removed already is skipped.
 * Runs in commit and abort callbacks: never errors.
 */
static void
RemoveModelFiles(const char *dir, const char *marker, bool remove_dir)
{
	int			fd = LockModelFiles();
	struct stat st;
	bool		dir_gone = true;

	if (remove_dir && stat(dir, &st) == 0)
		dir_gone = rmtree(dir, true);
	if (marker != NULL && dir_gone && unlink(marker) != 0 && errno != ENOENT)
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove file \"%s\": %m", marker)));
	if (fd >= 0)
		close(fd);
}

/* ---------- pending work ---------- */

/* Remember dir as created (marker NULL) or unregistered by the current subtransaction. */
static void
AddPending(const char *dir, const char *marker)
{
	size_t		dirlen = strlen(dir) + 1;
	PendingDir *p = MemoryContextAlloc(TopMemoryContext, offsetof(PendingDir, path) + dirlen +
									   (marker ? strlen(marker) + 1 : 0));

	p->subid = GetCurrentSubTransactionId();
	memcpy(p->path, dir, dirlen);
	p->marker = marker ? strcpy(p->path + dirlen, marker) : NULL;
	p->next = pending_dirs;
	pending_dirs = p;
}

/* Create dir (mode 0700) unless it exists. */
static void
MakeDirectory(const char *dir)
{
	if (mkdir(dir, S_IRWXU) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", dir)));
}

/*
 * A fresh path $PGDATA/mrl_models/DBOID/NAME-XID-N for a new model of this
 * database (not created: the writer does that), removed again unless the
 * current (sub)transaction commits.
 */
char *
MrlNewModelDir(const char *name)
{
	char	   *root = DatabaseModelsDir();
	uint64		xid = U64FromFullTransactionId(GetCurrentFullTransactionId());
	struct stat st;
	char	   *dir;

	MakeDirectory(psprintf("%s/mrl_models", DataDir));
	MakeDirectory(root);
	for (int n = 0;; n++)
	{
		dir = psprintf("%s/%s-" UINT64_FORMAT "-%d", root, name, xid, n);
		if (stat(dir, &st) != 0)
			break;
	}
	AddPending(dir, NULL);
	return dir;
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
 * Make a written model durable, with the directory entries that lead to it,
 * before its registration commits.  A failure is an ERROR, not a PANIC: the
 * transaction aborts and removes the files.
 */
void
MrlSyncModelDir(const char *dir)
{
	SyncTree(dir);
	fsync_fname_ext(DatabaseModelsDir(), true, false, ERROR);
	fsync_fname_ext(psprintf("%s/mrl_models", DataDir), true, false, ERROR);
}

/*
 * Remove dir when the current (sub)transaction and all its parents commit.
 * Its marker is on disk before that commit, so a crash right after it still
 * leaves the removal to the next sweep.
 */
void
MrlRemoveAtCommit(const char *dir)
{
	char	   *marker = psprintf("%s" UNREGISTERED_TAG UINT64_FORMAT, dir,
								  U64FromFullTransactionId(GetCurrentFullTransactionId()));
	int			fd;

	AddPending(dir, marker);
	fd = OpenTransientFile(marker, O_CREAT | O_WRONLY | PG_BINARY);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", marker)));
	CloseTransientFile(fd);
	fsync_fname_ext(marker, false, false, ERROR);
	fsync_fname_ext(DatabaseModelsDir(), true, false, ERROR);
}

/*
 * Settle the pending directories of subtransaction subid (all of them when
 * subid is invalid): on abort remove the created ones and the unregistered
 * ones' markers, on commit remove the unregistered ones with their markers.
 */
static void
SettlePending(bool committed, SubTransactionId subid)
{
	PendingDir **link = &pending_dirs;
	PendingDir *p;

	while ((p = *link) != NULL)
	{
		if (subid != InvalidSubTransactionId && p->subid != subid)
		{
			link = &p->next;
			continue;
		}
		if (p->marker == NULL && !committed)
			RemoveModelFiles(p->path, NULL, true);
		else if (p->marker != NULL)
			RemoveModelFiles(p->path, p->marker, committed);
		*link = p->next;
		pfree(p);
	}
}

/* Subtransaction end: an abort settles its directories, a commit hands them up. */
static void
SubTransactionEnd(SubXactEvent event, SubTransactionId mySubid,
				  SubTransactionId parentSubid, void *arg)
{
	PendingDir *p;

	if (event == SUBXACT_EVENT_ABORT_SUB)
		SettlePending(false, mySubid);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		for (p = pending_dirs; p != NULL; p = p->next)
			if (p->subid == mySubid)
				p->subid = parentSubid;
}

/* Transaction end: file work happens at commit or abort, never at PREPARE. */
static void
TransactionEnd(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_PRE_PREPARE && pending_dirs != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot PREPARE a transaction that has trained or unregistered a model"),
				 errdetail("A model's files are written or removed when its transaction commits or aborts, by the session that ran it.")));
	if (event == XACT_EVENT_COMMIT)
		SettlePending(true, InvalidSubTransactionId);
	else if (event == XACT_EVENT_ABORT)
		SettlePending(false, InvalidSubTransactionId);
}

/* Register the transaction hooks; called from _PG_init. */
void
MrlModelFilesInit(void)
{
	RegisterXactCallback(TransactionEnd, NULL);
	RegisterSubXactCallback(SubTransactionEnd, NULL);
}

/* ---------- leftovers of crashes ---------- */

/*
 * "committed", "aborted" (crashed included) or "in progress"; NULL when the
 * transaction is too old to tell.  An id at or past the next one to assign
 * was lost in a crash before any WAL recorded it (a running or committed
 * transaction's id is always behind), so it counts as aborted.
 */
static const char *
XactStatus(FullTransactionId xid)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		status;

	if (!FullTransactionIdPrecedes(xid, ReadNextFullTransactionId()))
		return "aborted";
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = FullTransactionIdGetDatum(xid);
	fcinfo->args[0].isnull = false;
	status = pg_xact_status(fcinfo);
	return fcinfo->isnull ? NULL : text_to_cstring(DatumGetTextPP(status));
}

/*
 * Finish what crashes interrupted in this database's model directory: remove
 * the directories whose creating transaction never committed, the
 * directories whose unregistering transaction committed (then their
 * markers), and the markers of unregistrations that never committed.  Work
 * of transactions still running, or too old to tell, is left alone.
 */
void
MrlSweepModelDirs(void)
{
	char	   *root = DatabaseModelsDir();
	DIR		   *dir = AllocateDir(root);
	struct dirent *de;

	while (dir != NULL && (de = ReadDir(dir, root)) != NULL)
	{
		FullTransactionId xid;
		size_t		dirlen;
		const char *status;
		char	   *path = psprintf("%s/%s", root, de->d_name);

		if (UnregistererOf(de->d_name, &dirlen, &xid))
		{
			if ((status = XactStatus(xid)) != NULL && strcmp(status, "in progress") != 0)
				RemoveModelFiles(psprintf("%s/%.*s", root, (int) dirlen, de->d_name), path,
								 strcmp(status, "committed") == 0);
		}
		else if (CreatorOf(de->d_name, &xid) &&
				 (status = XactStatus(xid)) != NULL && strcmp(status, "aborted") == 0)
			RemoveModelFiles(path, NULL, true);
		pfree(path);
	}
	if (dir != NULL)
		FreeDir(dir);
}
