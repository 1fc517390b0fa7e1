/*
 * funnelinsert.c: adding a row to a funnel index (aminsert).
 *
 * An entry goes into its nearest list (a NULL vector's heap pointer into
 * the NULL list): on the first page with room from the list's insert hint
 * (which VACUUM points at the first page it left with room) toward older
 * pages, else on the head page, else on a new head page, taken from the
 * free space map when VACUUM freed one.
 *
 * Inserts into different lists run concurrently.  The metapage and the
 * centroids are read once per backend (the relcache keeps them).  A list's
 * directory page is locked exclusively only for short steps: to widen the
 * list's statistics (a WAL record of its own, written before the entry, so
 * the statistics cover every entry a scan can see and every entry WAL
 * replay restores), to move the insert hint, and to chain a new head page,
 * which is what serialises changes to a list's chain.  The entry itself is
 * appended under the data page's lock alone.
 *
 * Lock order (VACUUM's follows it): at most one directory page, then data
 * pages; a process holding a data page's lock never waits for a directory
 * page, and holds one data page at a time, except when chaining a new head
 * (the new page, taken from the free space map or by extending the
 * relation, then the old head, shared).  VACUUM unlinks and frees pages
 * only under the list's directory page lock, rechecking under their own
 * locks that they are still empty, since an insert may have filled one
 * meanwhile.  An insert that follows a hint or a next link into a page
 * freed, or taken by another list, finds it by the page's flags and list
 * and goes on to the head.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "funnel.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* What an insert works with: the entry and its list's directory record. */
typedef struct FunnelInsertState
{
	Relation	index;
	FunnelMetaPageData meta;
	void	   *entry;			/* a FunnelEntry; NULL list: an ItemPointer */
	float	   *prefix;			/* the entry's uncoded prefix; NULL list: NULL */
	int			listNo;
	int			entrySize;		/* on the list's pages */
	int			capacity;
	BlockNumber dirBlkno;		/* the directory page of the list's record */
	int			slot;			/* the record's place on it */
	BlockNumber head;			/* the list's head and hint, as last read */
	BlockNumber hint;
} FunnelInsertState;

/*
 * What inserts keep of an index between calls, in its relcache entry
 * (rd_amcache): the metapage and a copy of the directory, whose centroids
 * (all they read of it) only a build writes.  A rebuild gives the index a
 * new relfilenode, whose relcache invalidation drops the copy.
 */
typedef struct FunnelInsertCache
{
	FunnelMetaPageData meta;
	char		dir[FLEXIBLE_ARRAY_MEMBER]; /* FunnelReadDirectory's records */
} FunnelInsertCache;

/* The index's insert cache, read from its pages if it has none. */
static FunnelInsertCache *
GetInsertCache(Relation index)
{
	FunnelInsertCache *cache = (FunnelInsertCache *) index->rd_amcache;

	if (cache == NULL)
	{
		FunnelMetaPageData meta;
		FunnelList *dir;
		Size		dirSize;

		FunnelReadMeta(index, &meta);
		dir = FunnelReadDirectory(index, &meta);
		dirSize = (Size) FunnelDirRecords(&meta) * meta.listSize;
		cache = MemoryContextAlloc(index->rd_indexcxt,
								   offsetof(FunnelInsertCache, dir) + dirSize);
		cache->meta = meta;
		memcpy(cache->dir, dir, dirSize);
		pfree(dir);
		index->rd_amcache = cache;
	}
	return cache;
}

/*
 * Lock the list's directory page (exclusively when it will change it) and
 * refresh the head and hint; returns the buffer and sets *list to the
 * record on the page.
 */
static Buffer
LockListRecord(FunnelInsertState *is, int mode, FunnelList **list)
{
	Buffer		buf = ReadBuffer(is->index, is->dirBlkno);

	LockBuffer(buf, mode);
	*list = FunnelPageGetList(BufferGetPage(buf), is->slot, is->meta.listSize);
	is->head = (*list)->head;
	is->hint = (*list)->insertHint;
	return buf;
}

/*
 * Widen the list's statistics to cover the entry (the NULL list has none)
 * and read its head and hint.
 */
static void
WidenList(FunnelInsertState *is)
{
	FunnelList *list;
	Buffer		buf = LockListRecord(is, is->prefix ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE,
									 &list);

	if (is->prefix)
	{
		GenericXLogState *state = GenericXLogStart(is->index);

		list = FunnelPageGetList(GenericXLogRegisterBuffer(state, buf, 0), is->slot,
								 is->meta.listSize);
		FunnelListAddMember(list, is->entry, is->prefix, is->meta.coarseDims);
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}

/* Point the list's hint at blkno, unless another insert or VACUUM moved it. */
static void
MoveHint(FunnelInsertState *is, BlockNumber from, BlockNumber blkno)
{
	FunnelList *list;
	Buffer		buf = LockListRecord(is, BUFFER_LOCK_EXCLUSIVE, &list);

	if (list->insertHint == from && from != blkno)
	{
		GenericXLogState *state = GenericXLogStart(is->index);

		list = FunnelPageGetList(GenericXLogRegisterBuffer(state, buf, 0), is->slot,
								 is->meta.listSize);
		list->insertHint = blkno;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);
}

/*
 * Append the entry to data page blkno if it is the list's and has room.
 * *next receives the page's older neighbour, or InvalidBlockNumber if the
 * page is not (or no longer) the list's.
 */
static bool
AddToPage(FunnelInsertState *is, BlockNumber blkno, BlockNumber *next)
{
	Buffer		buf = ReadBuffer(is->index, blkno);
	FunnelPageOpaqueData *opaque;
	bool		added = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	opaque = FunnelPageGetOpaque(BufferGetPage(buf));
	*next = opaque->next;
	if (PageIsNew(BufferGetPage(buf)) || !(opaque->flags & FUNNEL_DATA) ||
		opaque->listNo != is->listNo)
		*next = InvalidBlockNumber;
	else if (opaque->nentries < is->capacity)
	{
		GenericXLogState *state = GenericXLogStart(is->index);

		FunnelAppendEntry(GenericXLogRegisterBuffer(state, buf, 0), is->entry, is->entrySize);
		GenericXLogFinish(state);
		added = true;
	}
	UnlockReleaseBuffer(buf);
	return added;
}

/*
 * Chain a new head page holding the entry before the list's head, if the
 * head is still the one found full; false if another insert chained one
 * first (is->head is then the new head).
 */
static bool
AddHeadPage(FunnelInsertState *is, BlockNumber fullHead)
{
	FunnelList *list;
	Buffer		dirBuf = LockListRecord(is, BUFFER_LOCK_EXCLUSIVE, &list);
	Buffer		buf;
	uint32		seq = 1;
	GenericXLogState *state;
	Page		page;

	if (is->head != fullHead)
	{
		UnlockReleaseBuffer(dirBuf);
		return false;
	}
	buf = FunnelGetPage(is->index);
	if (is->head != InvalidBlockNumber)
	{
		Buffer		head = ReadBuffer(is->index, is->head);

		LockBuffer(head, BUFFER_LOCK_SHARE);
		seq = FunnelPageGetOpaque(BufferGetPage(head))->seq + 1;
		UnlockReleaseBuffer(head);
	}
	state = GenericXLogStart(is->index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	FunnelInitDataPage(page, is->listNo, is->head, seq);
	FunnelAppendEntry(page, is->entry, is->entrySize);
	list = FunnelPageGetList(GenericXLogRegisterBuffer(state, dirBuf, 0), is->slot,
							 is->meta.listSize);
	list->head = BufferGetBlockNumber(buf);
	list->insertHint = InvalidBlockNumber;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(dirBuf);
	return true;
}

/*
 * Add the entry to its list: the first page with room from the hint on
 * (which becomes the hint), else the head (no hint left), else a new head.
 */
static void
AddToList(FunnelInsertState *is)
{
	BlockNumber hint = is->hint,
				blkno = hint,
				next;

	while (blkno != InvalidBlockNumber)
	{
		if (AddToPage(is, blkno, &next))
		{
			if (blkno != hint)
				MoveHint(is, hint, blkno);
			return;
		}
		blkno = next;
	}
	for (;;)
	{
		BlockNumber head = is->head;

		if (head != InvalidBlockNumber && AddToPage(is, head, &next))
		{
			if (hint != InvalidBlockNumber)
				MoveHint(is, hint, InvalidBlockNumber);
			return;
		}
		if (AddHeadPage(is, head))
			return;
	}
}

/* aminsert */
bool
funnelinsert(Relation index, Datum *values, bool *isnull, ItemPointer ht_ctid,
			 Relation heapRel, IndexUniqueCheck checkUnique,
			 bool indexUnchanged, IndexInfo *indexInfo)
{
	MemoryContext ctx,
				old;
	FunnelInsertState is;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "funnel insert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(ctx);

	is.index = index;
	is.meta = GetInsertCache(index)->meta;
	if (isnull[0])
	{
		is.entry = ht_ctid;
		is.prefix = NULL;
		is.listNo = FunnelNullList(&is.meta);
	}
	else
	{
		is.entry = palloc0(is.meta.entrySize);
		is.prefix = palloc(sizeof(float) * is.meta.coarseDims);
		FunnelEncodeDatum(is.entry, values[0], ht_ctid, &is.meta, FunnelGetMetric(index),
						  is.prefix);
		/* (again: a relcache invalidation may have dropped the cache meanwhile) */
		is.listNo = FunnelNearestList((FunnelList *) GetInsertCache(index)->dir, &is.meta,
									  is.prefix, 0, is.meta.nlists, NULL);
	}
	is.entrySize = FunnelEntrySizeOf(&is.meta, is.listNo);
	is.capacity = FunnelCapacityOf(&is.meta, is.listNo);
	is.dirBlkno = is.meta.dirStart + is.listNo / is.meta.listsPerPage;
	is.slot = is.listNo % is.meta.listsPerPage;
	WidenList(&is);
	AddToList(&is);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
