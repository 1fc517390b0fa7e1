/*
 * model_files.c: the directories of trained models, removed in step with the
 * transaction that unregisters them.
 *
 * Files cannot be rolled back, so a directory to remove is remembered with
 * the subtransaction that unregistered its model: an abort of that
 * subtransaction forgets it, its commit hands it to the parent, and only the
 * commit of the whole transaction removes it.  PREPARE TRANSACTION is
 * refused while any is pending: a prepared transaction outlives the session
 * that would have to finish the file work.
 */
#include "postgres.h"

#include <sys/stat.h>
#include <time.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "model_files.h"

/* A directory whose fate depends on how a (sub)transaction ends. */
typedef struct PendingDir
{
	struct PendingDir *next;
	SubTransactionId subid;		/* the subtransaction that made it pending */
	char		path[FLEXIBLE_ARRAY_MEMBER];
} PendingDir;

static PendingDir *pending_dirs = NULL;

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
 * $PGDATA/mrl_models/DBOID/NAME-TIME-PID-N: a fresh directory name for a new
 * model of this database (the directories on the way are created).
 */
char *
MrlNewModelDir(const char *name)
{
	char	   *root = DatabaseModelsDir();
	struct stat st;
	char	   *dir;

	MakeDirectory(psprintf("%s/mrl_models", DataDir));
	MakeDirectory(root);
	for (int n = 0;; n++)
	{
		dir = psprintf("%s/%s-%ld-%d-%d", root, name, (long) time(NULL), MyProcPid, n);
		if (stat(dir, &st) != 0)
			return dir;
	}
}

/* Remove dir when the current (sub)transaction and all its parents commit. */
void
MrlRemoveAtCommit(const char *dir)
{
	PendingDir *p = MemoryContextAlloc(TopMemoryContext,
									   offsetof(PendingDir, path) + strlen(dir) + 1);

	p->subid = GetCurrentSubTransactionId();
	strcpy(p->path, dir);
	p->next = pending_dirs;
	pending_dirs = p;
}

/*
 * Settle the pending directories of subtransaction subid (all of them when
 * subid is invalid): remove them if committed is true, else forget them.
 * Runs in commit and abort callbacks, so it never raises an error.
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
		if (committed)
			rmtree(p->path, true);
		*link = p->next;
		pfree(p);
	}
}

/* Subtransaction end: an abort forgets its directories, a commit hands them up. */
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
				 errmsg("cannot PREPARE a transaction that has unregistered a trained model"),
				 errdetail("The model's files are removed when the transaction commits, by the session that committed it.")));
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
