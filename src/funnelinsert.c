/*
 * funnelinsert.c: adding a row to a funnel index (aminsert).
 *
 * Inserts serialise on the metapage's exclusive lock (as VACUUM's directory
 * updates do); each adds one entry and widens its list's statistics in one
 * generic WAL record.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "funnel.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/*
 * Add the entry to data page blkno of list slot if it has room, widening
 * the list's statistics in the same WAL record.
 */
static bool
AddToPage(Relation index, BlockNumber blkno, Buffer dirBuf, int slot,
		  const FunnelMetaPageData *meta, const FunnelEntry *entry,
		  const float *prefix, bool clearHint)
{
	Buffer		buf = ReadBuffer(index, blkno);
	GenericXLogState *state;
	Page		page;
	FunnelList *list;
	bool		added = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (!PageIsNew(page) &&
		FunnelPageGetOpaque(page)->nentries < meta->entriesPerPage)
	{
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		FunnelAppendEntry(page, entry, meta->entrySize);
		list = FunnelPageGetList(GenericXLogRegisterBuffer(state, dirBuf, 0), slot,
								 meta->listSize);
		FunnelListAddMember(list, entry, prefix, meta->coarseDims);
		if (clearHint ||
			(list->insertHint == blkno &&
			 FunnelPageGetOpaque(page)->nentries >= meta->entriesPerPage))
			list->insertHint = InvalidBlockNumber;
		GenericXLogFinish(state);
		added = true;
	}
	UnlockReleaseBuffer(buf);
	return added;
}

/*
 * aminsert: into the nearest list, on the page VACUUM left with room, else
 * on the list's newest page, else on a new page chained before it.
 */
bool
funnelinsert(Relation index, Datum *values, bool *isnull, ItemPointer ht_ctid,
			 Relation heapRel, IndexUniqueCheck checkUnique,
			 bool indexUnchanged, IndexInfo *indexInfo)
{
	MemoryContext ctx,
				old;
	FunnelMetaPageData meta;
	FunnelEntry *entry;
	FunnelList *dir,
			   *list;
	float	   *prefix;
	Buffer		metaBuf,
				dirBuf,
				buf;
	GenericXLogState *state;
	Page		page;
	int			ln,
				slot;
	bool		clearHint = false;

	if (isnull[0])
		return false;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "funnel insert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(ctx);

	metaBuf = ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);
	LockBuffer(metaBuf, BUFFER_LOCK_EXCLUSIVE);
	meta = *FunnelPageGetMeta(BufferGetPage(metaBuf));
	entry = palloc0(meta.entrySize);
	prefix = palloc(sizeof(float) * meta.coarseDims);
	FunnelEncodeDatum(entry, values[0], ht_ctid, &meta, FunnelGetMetric(index), prefix);
	dir = FunnelReadDirectory(index, &meta);
	ln = FunnelNearestList(dir, &meta, prefix);
	slot = ln % meta.listsPerPage;

	dirBuf = ReadBuffer(index, meta.dirStart + ln / meta.listsPerPage);
	LockBuffer(dirBuf, BUFFER_LOCK_EXCLUSIVE);
	list = FunnelPageGetList(BufferGetPage(dirBuf), slot, meta.listSize);
	if (list->insertHint != InvalidBlockNumber && list->insertHint != list->head)
	{
		if (AddToPage(index, list->insertHint, dirBuf, slot, &meta, entry, prefix, false))
			goto done;
		clearHint = true;
	}
	if (list->head != InvalidBlockNumber &&
		AddToPage(index, list->head, dirBuf, slot, &meta, entry, prefix, clearHint))
		goto done;

	buf = FunnelNewBuffer(index);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	FunnelInitPage(page, FUNNEL_DATA);
	FunnelPageGetOpaque(page)->listNo = ln;
	FunnelPageGetOpaque(page)->next = list->head;
	FunnelAppendEntry(page, entry, meta.entrySize);
	list = FunnelPageGetList(GenericXLogRegisterBuffer(state, dirBuf, 0), slot, meta.listSize);
	list->head = BufferGetBlockNumber(buf);
	if (clearHint)
		list->insertHint = InvalidBlockNumber;
	FunnelListAddMember(list, entry, prefix, meta.coarseDims);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);

done:
	UnlockReleaseBuffer(dirBuf);
	UnlockReleaseBuffer(metaBuf);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
