/*
 * funnelvacuum.c: VACUUM of a funnel index (ambulkdelete, amvacuumcleanup).
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "funnel.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

/* Record insert hints (one page with room per list) in the directory. */
static void
SetInsertHints(Relation index, const FunnelMetaPageData *meta, const BlockNumber *hints)
{
	Buffer		metaBuf = ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);

	LockBuffer(metaBuf, BUFFER_LOCK_EXCLUSIVE);
	for (BlockNumber d = 0; d < meta->dirPages; d++)
	{
		Buffer		buf = ReadBuffer(index, meta->dirStart + d);
		uint32		first = d * meta->listsPerPage;
		uint32		n = FunnelListsOnDirPage(meta, d);
		GenericXLogState *state;
		Page		page;
		bool		changed = false;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		for (uint32 i = 0; i < n; i++)
		{
			FunnelList *list = FunnelPageGetList(page, i, meta->listSize);

			if (hints[first + i] != InvalidBlockNumber && hints[first + i] != list->head &&
				list->insertHint != hints[first + i])
			{
				list->insertHint = hints[first + i];
				changed = true;
			}
		}
		if (changed)
			GenericXLogFinish(state);
		else
			GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
	}
	UnlockReleaseBuffer(metaBuf);
}

/*
 * ambulkdelete: drop the entries whose heap rows are dead, compacting each
 * data page, and point each list's inserts at a page with room.
 */
IndexBulkDeleteResult *
funnelbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				 IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	FunnelMetaPageData meta;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber *hints;
	double		kept = 0;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	FunnelReadMeta(index, &meta);
	hints = palloc(sizeof(BlockNumber) * meta.nlists);
	for (uint32 i = 0; i < meta.nlists; i++)
		hints[i] = InvalidBlockNumber;

	for (BlockNumber blkno = meta.dirStart + meta.dirPages; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		GenericXLogState *state;
		Page		page;
		FunnelPageOpaqueData *opaque;
		int			n,
					j = 0;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (PageIsNew(BufferGetPage(buf)) ||
			!(FunnelPageGetOpaque(BufferGetPage(buf))->flags & FUNNEL_DATA))
		{
			UnlockReleaseBuffer(buf);
			continue;
		}
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		opaque = FunnelPageGetOpaque(page);
		n = opaque->nentries;
		for (int i = 0; i < n; i++)
		{
			FunnelEntry *e = FunnelPageGetEntry(page, i, meta.entrySize);

			if (callback(&e->heapPtr, callback_state))
				stats->tuples_removed++;
			else
			{
				if (i != j)
					memmove(FunnelPageGetEntry(page, j, meta.entrySize), e, meta.entrySize);
				j++;
			}
		}
		kept += j;
		if (j < meta.entriesPerPage && opaque->listNo < meta.nlists &&
			hints[opaque->listNo] == InvalidBlockNumber)
			hints[opaque->listNo] = blkno;
		if (j != n)
		{
			opaque->nentries = j;
			FunnelSetPageUsed(page, (Size) j * meta.entrySize);
			GenericXLogFinish(state);
		}
		else
			GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
	}
	SetInsertHints(index, &meta, hints);

	stats->num_pages = nblocks;
	stats->num_index_tuples = kept;
	stats->estimated_count = false;
	return stats;
}

/* amvacuumcleanup: report size and entry count (counting if no delete ran). */
IndexBulkDeleteResult *
funnelvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	BlockNumber nblocks;

	if (info->analyze_only || stats != NULL)
		return stats;

	stats = palloc0(sizeof(IndexBulkDeleteResult));
	nblocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber blkno = FUNNEL_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!PageIsNew(page) && (FunnelPageGetOpaque(page)->flags & FUNNEL_DATA))
			stats->num_index_tuples += FunnelPageGetOpaque(page)->nentries;
		UnlockReleaseBuffer(buf);
	}
	stats->num_pages = nblocks;
	stats->estimated_count = false;
	return stats;
}
