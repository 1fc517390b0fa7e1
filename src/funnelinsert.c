/*
 * funnelinsert.c: adding a row to a funnel index (aminsert).
 *
 * An entry goes into its nearest list (a NULL vector's heap pointer into
 * the NULL list): on the first page with room from
 * the list's insert hint (which VACUUM points at the first page it left
 * with room) toward older pages, else on the head page, else on a new head
 * page, taken from the free space map when VACUUM freed one.  Inserts
 * serialise on the metapage's exclusive lock (as VACUUM's directory updates
 * do), so a list's chain and hint change under one writer; each insert is
 * one generic WAL record that also widens the list's statistics.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "funnel.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* What an insert works with: the entry and its list's directory page. */
typedef struct FunnelInsertState
{
	Relation	index;
	FunnelMetaPageData meta;
	void	   *entry;			/* a FunnelEntry; NULL list: an ItemPointer */
	float	   *prefix;			/* the entry's uncoded prefix; NULL list: NULL */
	int			listNo;
	int			entrySize;		/* on the list's pages */
	int			capacity;
	Buffer		dirBuf;			/* exclusively locked */
	int			slot;			/* the list's record on dirBuf */
} FunnelInsertState;

/*
 * Append the entry to data page blkno if it has room, widening the list's
 * statistics and setting its hint in the same WAL record.  *next receives
 * the page's older neighbour, or nothing if the page is not the list's (a
 * hint left pointing at a page VACUUM freed, when a crash came between
 * freeing it and moving the hint).
 */
static bool
AddToPage(FunnelInsertState *is, BlockNumber blkno, BlockNumber hint, BlockNumber *next)
{
	Buffer		buf = ReadBuffer(is->index, blkno);
	GenericXLogState *state;
	Page		page;
	FunnelList *list;
	bool		added = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	*next = FunnelPageGetOpaque(page)->next;
	if (PageIsNew(page) || !(FunnelPageGetOpaque(page)->flags & FUNNEL_DATA) ||
		FunnelPageGetOpaque(page)->listNo != is->listNo)
		*next = InvalidBlockNumber;
	else if (FunnelPageGetOpaque(page)->nentries < is->capacity)
	{
		state = GenericXLogStart(is->index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		FunnelAppendEntry(page, is->entry, is->entrySize);
		list = FunnelPageGetList(GenericXLogRegisterBuffer(state, is->dirBuf, 0),
								 is->slot, is->meta.listSize);
		if (is->prefix)
			FunnelListAddMember(list, is->entry, is->prefix, is->meta.coarseDims);
		list->insertHint = hint;
		GenericXLogFinish(state);
		added = true;
	}
	UnlockReleaseBuffer(buf);
	return added;
}

/* Chain a new head page holding the entry before the list's head. */
static void
AddHeadPage(FunnelInsertState *is, FunnelList *list)
{
	Buffer		buf = FunnelGetPage(is->index);
	uint32		seq = 1;
	GenericXLogState *state;
	Page		page;

	if (list->head != InvalidBlockNumber)
	{
		Buffer		head = ReadBuffer(is->index, list->head);

		LockBuffer(head, BUFFER_LOCK_SHARE);
		seq = FunnelPageGetOpaque(BufferGetPage(head))->seq + 1;
		UnlockReleaseBuffer(head);
	}
	state = GenericXLogStart(is->index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	FunnelInitDataPage(page, is->listNo, list->head, seq);
	FunnelAppendEntry(page, is->entry, is->entrySize);
	list = FunnelPageGetList(GenericXLogRegisterBuffer(state, is->dirBuf, 0),
							 is->slot, is->meta.listSize);
	list->head = BufferGetBlockNumber(buf);
	list->insertHint = InvalidBlockNumber;
	if (is->prefix)
		FunnelListAddMember(list, is->entry, is->prefix, is->meta.coarseDims);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Add the entry to its list: the first page with room from the hint on
 * (which becomes the hint), else the head (no hint left), else a new head.
 */
static void
AddToList(FunnelInsertState *is)
{
	FunnelList *list = FunnelPageGetList(BufferGetPage(is->dirBuf), is->slot,
										 is->meta.listSize);
	BlockNumber blkno = list->insertHint,
				next;

	while (blkno != InvalidBlockNumber)
	{
		if (AddToPage(is, blkno, blkno, &next))
			return;
		blkno = next;
	}
	if (list->head != InvalidBlockNumber &&
		AddToPage(is, list->head, InvalidBlockNumber, &next))
		return;
	AddHeadPage(is, list);
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
	FunnelList *dir;
	Buffer		metaBuf;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "funnel insert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(ctx);

	is.index = index;
	metaBuf = ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);
	LockBuffer(metaBuf, BUFFER_LOCK_EXCLUSIVE);
	is.meta = *FunnelPageGetMeta(BufferGetPage(metaBuf));
	FunnelCheckMeta(index, &is.meta);
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
		dir = FunnelReadDirectory(index, &is.meta);
		is.listNo = FunnelNearestList(dir, &is.meta, is.prefix);
	}
	is.entrySize = FunnelEntrySizeOf(&is.meta, is.listNo);
	is.capacity = FunnelCapacityOf(&is.meta, is.listNo);
	is.slot = is.listNo % is.meta.listsPerPage;
	is.dirBuf = ReadBuffer(index, is.meta.dirStart + is.listNo / is.meta.listsPerPage);
	LockBuffer(is.dirBuf, BUFFER_LOCK_EXCLUSIVE);
	AddToList(&is);
	UnlockReleaseBuffer(is.dirBuf);
	UnlockReleaseBuffer(metaBuf);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
