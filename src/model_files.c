/*
 * model_files.c: the directories of trained models, created and removed in
 * step with the transactions that register and unregister them.
 *
 * mrl_train writes a model into $PGDATA/mrl_models/DBOID/NAME-XID-N, XID
 * being the (sub)transaction that registers it.  Files cannot be rolled
 * back, so each directory a transaction creates or dooms is remembered with
 * the subtransaction that did it: an abort of that subtransaction removes a
 * created directory and forgets a doomed one, its commit hands both to the
 * parent, and the commit of the whole transaction keeps the created ones and
 * removes the doomed ones.  PREPARE TRANSACTION is refused while any is
 * pending: a prepared transaction outlives the session that would have to
 * finish the file work.
 *
 * A crash skips those steps.  The XID in a directory's name says whether its
 * model was ever registered, so MrlFinishedModelDirs (run by the next
 * mrl_train or mrl_unregister_model of the database) removes the directories
 * of transactions that never committed, and the directories of dropped
 * databases; it returns the committed ones, which the registry keeps only if
 * a row still refers to them.  Removals take a file lock, so two sessions
 * never remove the same directory at once.
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
#include "utils/syscache.h"
#include "utils/xid8.h"

#include "model_files.h"

/* A directory whose fate depends on how a (sub)transaction ends. */
typedef struct PendingDir
{
	struct PendingDir *next;
	SubTransactionId subid;		/* the subtransaction that made it pending */
	bool		created;		/* true: written by it; false: unregistered */
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

/*
 * The transaction that created a directory named NAME-XID-N, read from the
 * right (names may hold '-'); false if the name has another form.
 */
static bool
CreatorOf(const char *entry, FullTransactionId *creator)
{
	const char *n = strrchr(entry, '-');
	const char *xid;
	char	   *end;

	if (n == NULL || n == entry || strspn(n + 1, "0123456789") != strlen(n + 1) || n[1] == '\0')
		return false;
	for (xid = n - 1; xid > entry && xid[-1] != '-'; xid--)
		;
	if (xid == entry || !isdigit((unsigned char) *xid))
		return false;
	*creator = FullTransactionIdFromU64(strtou64(xid, &end, 10));
	return end == n;
}

/* ---------- removal ---------- */

/*
 * Remove a model directory unless it is already gone.  A file lock keeps two
 * sessions from removing the same one at once (an owner's abort and another
 * session's sweep).  Runs in commit and abort callbacks: never errors.
 */
void
MrlRemoveModelDir(const char *dir)
{
	char		lockpath[MAXPGPATH];
	int			fd;
	struct stat st;

	snprintf(lockpath, sizeof(lockpath), "%s/mrl_models/.lock", DataDir);
	fd = BasicOpenFile(lockpath, O_RDWR | O_CREAT | PG_BINARY);
	if (fd >= 0)
		while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
			;
	if (stat(dir, &st) == 0)
		rmtree(dir, true);
	if (fd >= 0)
		close(fd);
}

/* ---------- pending work ---------- */

/* Remember dir as created or doomed by the current subtransaction. */
static void
AddPending(const char *dir, bool created)
{
	PendingDir *p = MemoryContextAlloc(TopMemoryContext,
									   offsetof(PendingDir, path) + strlen(dir) + 1);

	p->subid = GetCurrentSubTransactionId();
	p->created = created;
	strcpy(p->path, dir);
	p->next = pending_dirs;
	pending_dirs = p;
}

/* Remove dir when the current (sub)transaction and all its parents commit. */
void
MrlRemoveAtCommit(const char *dir)
{
	AddPending(dir, false);
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
	AddPending(dir, true);
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
 * Settle the pending directories of subtransaction subid (all of them when
 * subid is invalid): remove those the outcome condemns (created ones on
 * abort, doomed ones on commit) and forget the rest.
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
		if (p->created != committed)
			MrlRemoveModelDir(p->path);
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
 * transaction's id is always behind), so its directory is a leftover too.
 */
static const char *
CreatorStatus(FullTransactionId creator)
{
	LOCAL_FCINFO(fcinfo, 1);
	Datum		status;

	if (!FullTransactionIdPrecedes(creator, ReadNextFullTransactionId()))
		return "aborted";
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = FullTransactionIdGetDatum(creator);
	fcinfo->args[0].isnull = false;
	status = pg_xact_status(fcinfo);
	return fcinfo->isnull ? NULL : text_to_cstring(DatumGetTextPP(status));
}

/* Remove $PGDATA/mrl_models/OID of databases that no longer exist. */
static void
RemoveDroppedDatabasesDirs(const char *root)
{
	DIR		   *dir = AllocateDir(root);
	struct dirent *de;

	while (dir != NULL && (de = ReadDir(dir, root)) != NULL)
	{
		Oid			dboid;

		if (de->d_name[0] == '\0' || strspn(de->d_name, "0123456789") != strlen(de->d_name))
			continue;
		dboid = (Oid) strtoul(de->d_name, NULL, 10);
		if (dboid != MyDatabaseId &&
			!SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(dboid)))
			MrlRemoveModelDir(psprintf("%s/%s", root, de->d_name));
	}
	if (dir != NULL)
		FreeDir(dir);
}

/*
 * Sweep what crashes left: remove this database's model directories whose
 * creating transaction never committed, and those of dropped databases.
 * Returns the paths of the directories whose creator committed, for the
 * caller to keep only those a registry row refers to (read with a snapshot
 * taken after this call).
 */
List *
MrlFinishedModelDirs(void)
{
	char	   *root = psprintf("%s/mrl_models", DataDir);
	char	   *dbroot = DatabaseModelsDir();
	DIR		   *dir;
	struct dirent *de;
	List	   *committed = NIL;

	RemoveDroppedDatabasesDirs(root);
	dir = AllocateDir(dbroot);
	while (dir != NULL && (de = ReadDir(dir, dbroot)) != NULL)
	{
		FullTransactionId creator;
		const char *status;
		char	   *path;

		if (!CreatorOf(de->d_name, &creator) || (status = CreatorStatus(creator)) == NULL)
			continue;
		path = psprintf("%s/%s", dbroot, de->d_name);
		if (strcmp(status, "aborted") == 0)
			MrlRemoveModelDir(path);
		else if (strcmp(status, "committed") == 0)
			committed = lappend(committed, path);
	}
	if (dir != NULL)
		FreeDir(dir);
	return committed;
}
