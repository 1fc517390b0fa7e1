/*
 * funnelvacuum.c: VACUUM of a funnel index (ambulkdelete, amvacuumcleanup).
 *
 * Bulk delete compacts every data page in block order, dropping the entries
 * of dead rows.  Then each list that lost entries is tidied with the
 * list's directory page locked exclusively, as inserts lock it to change
 * the chain (funnelinsert.c has the lock order): the empty pages at the
 * old end of its chain are unlinked, marked free and recorded in the free
 * space map, from which any list takes its next new page (the head stays,
 * so a list keeps a page); and the insert hint is pointed at the first page
 * left with room, from which inserts walk toward older pages.  Inserts
 * append entries under a data page's lock alone, so a page is freed only if
 * it is still empty under its own lock.  A scan about to follow a link into
 * a freed page learns from the page's flags, list and sequence number that
 * its chain ended there.
 */
#include "postgres.h"

#include "access/generic_xlog.h"
#include "commands/vacuum.h"
#include "funnel.h"
#include "pgcompat.h"
#include "storage/bufmgr.h"
#include "storage/indexfsm.h"
#include "utils/rel.h"

/* Pages freed per WAL record, with the page whose link is cut. */
#define FREE_PER_RECORD		(MAX_GENERIC_XLOG_PAGES - 1)

/* A list's chain as read, head first. */
typedef struct FunnelChain
{
	int			n;
	BlockNumber *blocks;
	uint16	   *nentries;
} FunnelChain;

/*
 * Drop the entries of dead rows from data page blkno, compacting it; a
 * free or never-initialised page is (again) recorded in the free space
 * map.  Returns the entries removed, *listNo the page's list (or -1).
 */
static int
CompactPage(IndexVacuumInfo *info, BlockNumber blkno, const FunnelMetaPageData *meta,
			IndexBulkDeleteCallback callback, void *callback_state,
			double *kept, int *listNo)
{
	Buffer		buf = ReadBufferExtended(info->index, MAIN_FORKNUM, blkno, RBM_NORMAL,
										 info->strategy);
	GenericXLogState *state;
	Page		page;
	FunnelPageOpaqueData *opaque;
	int			n,
				j = 0,
				size;

	*listNo = -1;
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (PageIsNew(page) || (FunnelPageGetOpaque(page)->flags & FUNNEL_FREE))
		RecordFreeIndexPage(info->index, blkno);
	if (PageIsNew(page) || !(FunnelPageGetOpaque(page)->flags & FUNNEL_DATA))
	{
		UnlockReleaseBuffer(buf);
		return 0;
	}
	state = GenericXLogStart(info->index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	opaque = FunnelPageGetOpaque(page);
	n = opaque->nentries;
	size = FunnelEntrySizeOf(meta, opaque->listNo);
	for (int i = 0; i < n; i++)
	{
		/* every entry begins with its heap pointer */
		char	   *e = PageGetContents(page) + (Size) i * size;

		if (callback((ItemPointer) e, callback_state))
			continue;
		if (i != j)
			memmove(PageGetContents(page) + (Size) j * size, e, size);
		j++;
	}
	*kept += j;
	*listNo = opaque->listNo;
	if (j != n)
	{
		opaque->nentries = j;
		FunnelSetPageUsed(page, (Size) j * size);
		GenericXLogFinish(state);
	}
	else
		GenericXLogAbort(state);
	UnlockReleaseBuffer(buf);
	return n - j;
}

/* Read a list's chain from its head (the caller locks the directory page). */
static void
ReadChain(Relation index, BlockNumber head, FunnelChain *chain)
{
	int			cap = 16;

	chain->n = 0;
	chain->blocks = palloc(sizeof(BlockNumber) * cap);
	chain->nentries = palloc(sizeof(uint16) * cap);
	for (BlockNumber blkno = head; blkno != InvalidBlockNumber;)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		FunnelPageOpaqueData *opaque;

		if (chain->n == cap)
		{
			cap *= 2;
			chain->blocks = repalloc(chain->blocks, sizeof(BlockNumber) * cap);
			chain->nentries = repalloc(chain->nentries, sizeof(uint16) * cap);
		}
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		opaque = FunnelPageGetOpaque(BufferGetPage(buf));
		chain->blocks[chain->n] = blkno;
		chain->nentries[chain->n++] = opaque->nentries;
		blkno = opaque->next;
		UnlockReleaseBuffer(buf);
	}
}

/*
 * End the chain at page last and mark the n pages after it free, in one
 * WAL record; then record them in the free space map.  Does nothing and
 * returns false if an insert has put an entry on one of them since the
 * chain was read.
 */
static bool
FreeAfter(Relation index, BlockNumber last, const BlockNumber *freed, int n)
{
	GenericXLogState *state = GenericXLogStart(index);
	Buffer		bufs[MAX_GENERIC_XLOG_PAGES];
	bool		empty = true;
	Page		page;

	bufs[0] = ReadBuffer(index, last);
	LockBuffer(bufs[0], BUFFER_LOCK_EXCLUSIVE);
	for (int i = 0; i < n; i++)
	{
		bufs[i + 1] = ReadBuffer(index, freed[i]);
		LockBuffer(bufs[i + 1], BUFFER_LOCK_EXCLUSIVE);
		empty &= FunnelPageGetOpaque(BufferGetPage(bufs[i + 1]))->nentries == 0;
	}
	if (empty)
	{
		page = GenericXLogRegisterBuffer(state, bufs[0], 0);
		FunnelPageGetOpaque(page)->next = InvalidBlockNumber;
		for (int i = 0; i < n; i++)
		{
			page = GenericXLogRegisterBuffer(state, bufs[i + 1], GENERIC_XLOG_FULL_IMAGE);
			FunnelInitPage(page, FUNNEL_FREE);
		}
		GenericXLogFinish(state);
	}
	else
		GenericXLogAbort(state);
	for (int i = 0; i <= n; i++)
		UnlockReleaseBuffer(bufs[i]);
	for (int i = 0; i < n && empty; i++)
		RecordFreeIndexPage(index, freed[i]);
	return empty;
}

/*
 * Free the empty pages at the old end of the list's chain (a few per WAL
 * record, from the oldest, so the chain is whole after each; up to a page
 * an insert has filled meanwhile) and point the insert hint at the first
 * page with room.  The caller holds the directory page exclusively, so the
 * chain's links cannot change.  Returns the pages freed.
 */
static int
TidyList(Relation index, const FunnelMetaPageData *meta, Buffer dirBuf, int slot,
		 int listNo)
{
	FunnelList *list = FunnelPageGetList(BufferGetPage(dirBuf), slot, meta->listSize);
	BlockNumber hint = InvalidBlockNumber;
	FunnelChain chain;
	int			keep,
				start,
				end;

	ReadChain(index, list->head, &chain);
	for (keep = chain.n; keep > 1 && chain.nentries[keep - 1] == 0; keep--)
		;
	for (end = chain.n; end > keep; end = start)
	{
		start = Max(keep, end - FREE_PER_RECORD);
		if (!FreeAfter(index, chain.blocks[start - 1], chain.blocks + start, end - start))
			break;
	}
	for (int i = 0; i < keep && hint == InvalidBlockNumber; i++)
		if (chain.nentries[i] < FunnelCapacityOf(meta, listNo))
			hint = chain.blocks[i];
	if (list->insertHint != hint)
	{
		GenericXLogState *state = GenericXLogStart(index);

		list = FunnelPageGetList(GenericXLogRegisterBuffer(state, dirBuf, 0), slot,
								 meta->listSize);
		list->insertHint = hint;
		GenericXLogFinish(state);
	}
	pfree(chain.blocks);
	pfree(chain.nentries);
	return chain.n - end;
}

/* Tidy the lists marked in changed, each under its directory page's lock. */
static int
TidyLists(Relation index, const FunnelMetaPageData *meta, const bool *changed)
{
	int			freed = 0;

	for (BlockNumber d = 0; d < meta->dirPages; d++)
	{
		uint32		first = d * meta->listsPerPage;
		uint32		n = FunnelListsOnDirPage(meta, d);

		for (uint32 i = 0; i < n; i++)
		{
			Buffer		dirBuf;

			if (!changed[first + i])
				continue;
			MrlVacuumDelayPoint();
			dirBuf = ReadBuffer(index, meta->dirStart + d);
			LockBuffer(dirBuf, BUFFER_LOCK_EXCLUSIVE);
			freed += TidyList(index, meta, dirBuf, i, first + i);
			UnlockReleaseBuffer(dirBuf);
		}
	}
	return freed;
}

/*
 * ambulkdelete: drop the entries whose heap rows are dead, then tidy the
 * lists that lost some.
 */
IndexBulkDeleteResult *
funnelbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				 IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	FunnelMetaPageData meta;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	bool	   *changed;
	double		kept = 0;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	FunnelReadMeta(index, &meta);
	changed = palloc0(sizeof(bool) * FunnelDirRecords(&meta));
	for (BlockNumber blkno = meta.dirStart + meta.dirPages; blkno < nblocks; blkno++)
	{
		int			removed,
					listNo;

		MrlVacuumDelayPoint();
		removed = CompactPage(info, blkno, &meta, callback, callback_state, &kept, &listNo);
		stats->tuples_removed += removed;
		if (removed > 0 && listNo >= 0 && listNo < (int) FunnelDirRecords(&meta))
			changed[listNo] = true;
	}
	stats->pages_newly_deleted += TidyLists(index, &meta, changed);
	stats->num_pages = nblocks;
	stats->num_index_tuples = kept;
	stats->estimated_count = false;
	return stats;
}

/*
 * amvacuumcleanup: update the free space map's upper levels; count pages
 * and entries if no bulk delete ran.
 */
IndexBulkDeleteResult *
funnelvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	BlockNumber nblocks;

	if (info->analyze_only)
		return stats;
	IndexFreeSpaceMapVacuum(index);
	if (stats != NULL)
		return stats;

	stats = palloc0(sizeof(IndexBulkDeleteResult));
	nblocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber blkno = FUNNEL_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		MrlVacuumDelayPoint();
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
