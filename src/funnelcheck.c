/*
 * funnelcheck.c: mrl_funnel_check(index), a structural check of a funnel
 * index in the manner of amcheck, for tests and diagnosis.
 *
 * It walks every list's chain from its head, as a scan does, and checks
 * what the index's correctness rests on: each page of a chain is a data
 * page of that list, with a sequence number below the page before it and
 * no more entries than a page holds; no page is in two chains or twice in
 * one; every data page is in a chain (a page outside any is lost space, or
 * lost entries); no heap row has two entries.  It holds ShareLock on the
 * table, as amcheck's bt_index_parent_check does, so no write changes the
 * index under it.
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/index.h"
#include "commands/defrem.h"
#include "funnel.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

/* Raise the corruption error for index rel: what is wrong, where. */
#define CheckFailed(index, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INDEX_CORRUPTED), \
			 errmsg("funnel index \"%s\" is corrupt", RelationGetRelationName(index)), \
			 errdetail(__VA_ARGS__)))

/* The heap pointers of the entries found, in a growing array. */
typedef struct TidArray
{
	ItemPointerData *tids;
	int64		n;
	int64		cap;
} TidArray;

/* Order heap pointers, to find duplicates. */
static int
CompareTids(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) a, (ItemPointer) b);
}

/*
 * Walk list listNo's chain from head, marking its pages in seen and
 * appending its entries' heap pointers to tids.
 */
static void
CheckChain(Relation index, const FunnelMetaPageData *meta, int listNo, BlockNumber head,
		   bool *seen, BlockNumber nblocks, TidArray *tids)
{
	int			size = FunnelEntrySizeOf(meta, listNo);
	uint32		prevSeq = PG_UINT32_MAX;

	for (BlockNumber blkno = head; blkno != InvalidBlockNumber;)
	{
		Buffer		buf;
		Page		page;
		FunnelPageOpaqueData *opaque;

		CHECK_FOR_INTERRUPTS();
		if (blkno < meta->dirStart + meta->dirPages || blkno >= nblocks)
			CheckFailed(index, "List %d links to block %u, outside the data pages.", listNo, blkno);
		if (seen[blkno])
			CheckFailed(index, "Block %u is reached twice (list %d).", blkno, listNo);
		seen[blkno] = true;
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		opaque = FunnelPageGetOpaque(page);
		if (PageIsNew(page) || !(opaque->flags & FUNNEL_DATA) || opaque->listNo != listNo)
			CheckFailed(index, "Block %u in the chain of list %d is not a data page of that list.",
						blkno, listNo);
		if (opaque->seq >= prevSeq)
			CheckFailed(index, "Block %u of list %d has sequence number %u, not below %u.",
						blkno, listNo, opaque->seq, prevSeq);
		if (opaque->nentries > FunnelCapacityOf(meta, listNo))
			CheckFailed(index, "Block %u holds %u entries, more than a page holds.",
						blkno, opaque->nentries);
		if (tids->n + opaque->nentries > tids->cap)
		{
			tids->cap = 2 * tids->cap + opaque->nentries;
			tids->tids = repalloc_huge(tids->tids, sizeof(ItemPointerData) * tids->cap);
		}
		for (int i = 0; i < opaque->nentries; i++)
			tids->tids[tids->n++] = *(ItemPointer) (PageGetContents(page) + (Size) i * size);
		prevSeq = opaque->seq;
		blkno = opaque->next;
		UnlockReleaseBuffer(buf);
	}
}

/* Error if a data page is in no chain; the entries on data pages. */
static int64
CheckOrphans(Relation index, const FunnelMetaPageData *meta, const bool *seen,
			 BlockNumber nblocks)
{
	int64		entries = 0;

	for (BlockNumber blkno = meta->dirStart + meta->dirPages; blkno < nblocks; blkno++)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!PageIsNew(page) && (FunnelPageGetOpaque(page)->flags & FUNNEL_DATA))
		{
			if (!seen[blkno])
				CheckFailed(index, "Data page %u of list %u is in no chain.",
							blkno, FunnelPageGetOpaque(page)->listNo);
			entries += FunnelPageGetOpaque(page)->nentries;
		}
		UnlockReleaseBuffer(buf);
	}
	return entries;
}

/*
 * mrl_funnel_check(index regclass) returns bigint: the entries of a funnel
 * index whose structure is sound; an error (SQLSTATE XX002) naming the
 * first fault otherwise.
 */
PG_FUNCTION_INFO_V1(mrl_funnel_check);
Datum
mrl_funnel_check(PG_FUNCTION_ARGS)
{
	Oid			indexOid = PG_GETARG_OID(0);
	Oid			heapOid = IndexGetRelation(indexOid, true);
	Relation	heap = NULL,
				index;
	FunnelMetaPageData meta;
	BlockNumber nblocks;
	FunnelList *dir;
	bool	   *seen;
	TidArray	tids;

	/* the table first, as every other path that locks both */
	if (OidIsValid(heapOid))
		heap = table_open(heapOid, ShareLock);
	index = index_open(indexOid, ShareLock);
	if (index->rd_rel->relam != get_index_am_oid("funnel", false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a funnel index", RelationGetRelationName(index))));
	if (index->rd_rel->relkind != RELKIND_INDEX)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a partitioned index, which has no pages",
						RelationGetRelationName(index)),
				 errhint("Check the index of each partition.")));
	FunnelReadMeta(index, &meta);
	nblocks = RelationGetNumberOfBlocks(index);
	if (meta.dirStart + meta.dirPages > nblocks)
		CheckFailed(index, "The directory ends past the index's %u blocks.", nblocks);
	dir = FunnelReadDirectory(index, &meta);
	seen = palloc0(sizeof(bool) * nblocks);
	tids.cap = 1024;
	tids.n = 0;
	tids.tids = palloc(sizeof(ItemPointerData) * tids.cap);
	for (uint32 l = 0; l < FunnelDirRecords(&meta); l++)
		CheckChain(index, &meta, l, FunnelDirList(dir, l, meta.listSize)->head,
				   seen, nblocks, &tids);
	if (CheckOrphans(index, &meta, seen, nblocks) != tids.n)
		elog(ERROR, "funnel check: entry counts differ between the two passes");
	qsort(tids.tids, tids.n, sizeof(ItemPointerData), CompareTids);
	for (int64 i = 1; i < tids.n; i++)
		if (ItemPointerEquals(&tids.tids[i - 1], &tids.tids[i]))
			CheckFailed(index, "Heap row (%u,%u) has two entries.",
						ItemPointerGetBlockNumber(&tids.tids[i]),
						ItemPointerGetOffsetNumber(&tids.tids[i]));

	index_close(index, ShareLock);
	if (heap)
		table_close(heap, ShareLock);
	PG_RETURN_INT64(tids.n);
}
