/*
 * funnel_page.c: funnel index pages: build, insert and vacuum.
 *
 * Every change goes through generic WAL, so crash recovery and standbys see
 * the same pages.  Inserts serialise on the metapage's exclusive lock (they
 * are short: one entry); scans never touch the metapage after reading the
 * options, so they do not wait for inserts.
 */
#include "postgres.h"

#include "access/tableam.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "pgstat.h"
#include "funnel.h"
#include "miscadmin.h"
#include "mvector.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Entries that fit on a data page after the header and special space. */
static int
EntriesPerPage(int entrySize)
{
	return (BLCKSZ - MAXALIGN(SizeOfPageHeaderData) -
			MAXALIGN(sizeof(FunnelPageOpaqueData))) / entrySize;
}

/* Initialise an empty funnel page of either kind. */
void
FunnelInitPage(Page page, uint16 flags)
{
	FunnelPageOpaqueData *opaque;

	PageInit(page, BLCKSZ, sizeof(FunnelPageOpaqueData));
	opaque = FunnelPageGetOpaque(page);
	opaque->nentries = 0;
	opaque->flags = flags;
	opaque->pageId = FUNNEL_PAGE_ID;
}

/* Set pd_lower after the used part so full-page images skip the hole. */
static void
SetPageUsed(Page page, Size used)
{
	((PageHeader) page)->pd_lower = (PageGetContents(page) - (char *) page) + used;
}

/* Fill a metapage image for the given options. */
static void
FillMetaPage(Page page, int coarseDims, int precision)
{
	FunnelMetaPageData *meta;
	int			entrySize;

	entrySize = TYPEALIGN(sizeof(float),
						  FUNNEL_ENTRY_HEADER + FunnelCodeBytes(coarseDims, precision));
	FunnelInitPage(page, FUNNEL_META);
	meta = FunnelPageGetMeta(page);
	memset(meta, 0, sizeof(FunnelMetaPageData));
	meta->magic = FUNNEL_MAGIC;
	meta->version = FUNNEL_VERSION;
	meta->coarseDims = coarseDims;
	meta->precision = precision;
	meta->entrySize = entrySize;
	meta->entriesPerPage = EntriesPerPage(entrySize);
	meta->lastBlock = InvalidBlockNumber;
	meta->nfree = 0;
	SetPageUsed(page, sizeof(FunnelMetaPageData));
}

/* Read the index's options, checking they fit a page. */
static void
GetOptions(Relation index, int *coarseDims, int *precision)
{
	FunnelOptions *opts = (FunnelOptions *) index->rd_options;
	int			maxEntry = (int) BLCKSZ - MAXALIGN(SizeOfPageHeaderData) -
		MAXALIGN(sizeof(FunnelPageOpaqueData));

	*coarseDims = opts ? opts->coarseDims : 64;
	*precision = opts ? opts->precision : FUNNEL_INT8;
	if ((int) FUNNEL_ENTRY_HEADER + FunnelCodeBytes(*coarseDims, *precision) > maxEntry)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("coarse_dims %d is too large for a funnel index of this precision",
						*coarseDims),
				 errhint("Use at most %d dims with float4 codes, or int8 or binary codes.",
						 (int) ((maxEntry - FUNNEL_ENTRY_HEADER) / sizeof(float)))));
}

/* Copy the metapage's contents, checking it is a funnel metapage. */
void
FunnelReadMeta(Relation index, FunnelMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(meta, FunnelPageGetMeta(BufferGetPage(buf)), sizeof(FunnelMetaPageData));
	UnlockReleaseBuffer(buf);
	if (meta->magic != FUNNEL_MAGIC || meta->version != FUNNEL_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a valid funnel index",
						RelationGetRelationName(index))));
}

/* A new page at the end of the index, exclusively locked. */
Buffer
FunnelNewBuffer(Relation index)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/* Write a whole page image into a new block, WAL-logged. */
static BlockNumber
WriteNewPage(Relation index, Page image)
{
	Buffer		buf = FunnelNewBuffer(index);
	GenericXLogState *state = GenericXLogStart(index);
	Page		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	BlockNumber blkno = BufferGetBlockNumber(buf);

	memcpy(page, image, BLCKSZ);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return blkno;
}

/* Encode a vector datum into entry; NULL-free.  Errors on too few dims. */
static void
EncodeDatum(FunnelEntry *entry, Datum value, ItemPointer tid,
			int coarseDims, int precision, FunnelMetric metric)
{
	MVector    *v = DatumGetMVector(value);

	if (v->dim < coarseDims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("mvector has %d dimensions, fewer than the funnel index's coarse_dims (%d)",
						v->dim, coarseDims),
				 errhint("Index a column whose vectors have at least coarse_dims dimensions, or lower coarse_dims.")));
	FunnelEncode(entry, v->x, v->dim, coarseDims, precision, metric);
	entry->heapPtr = *tid;
}

/* Append an entry to a data page (caller checked there is room). */
static void
AppendEntry(Page page, const FunnelEntry *entry, int entrySize)
{
	FunnelPageOpaqueData *opaque = FunnelPageGetOpaque(page);

	memcpy(FunnelPageGetEntry(page, opaque->nentries, entrySize), entry, entrySize);
	opaque->nentries++;
	SetPageUsed(page, (Size) opaque->nentries * entrySize);
}

/* ---------- build ---------- */

typedef struct FunnelBuildState
{
	FunnelMetaPageData meta;
	FunnelMetric metric;
	PGAlignedBlock page;		/* the data page being filled */
	FunnelEntry *entry;
	double		indtuples;
	MemoryContext tmpCtx;
} FunnelBuildState;

/* Write the page being filled and start an empty one. */
static void
FlushBuildPage(Relation index, FunnelBuildState *bs)
{
	bs->meta.lastBlock = WriteNewPage(index, bs->page.data);
	FunnelInitPage(bs->page.data, 0);
}

/* table_index_build_scan callback: one heap row. */
static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *state)
{
	FunnelBuildState *bs = (FunnelBuildState *) state;
	MemoryContext old;

	CHECK_FOR_INTERRUPTS();
	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	EncodeDatum(bs->entry, values[0], tid, bs->meta.coarseDims,
				bs->meta.precision, bs->metric);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);

	AppendEntry(bs->page.data, bs->entry, bs->meta.entrySize);
	if (FunnelPageGetOpaque(bs->page.data)->nentries >= bs->meta.entriesPerPage)
		FlushBuildPage(index, bs);
	bs->indtuples++;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
}

/* Write the metapage (block 0) from a filled image. */
static void
WriteMetaPage(Relation index, const FunnelMetaPageData *meta, bool isNew)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;

	buf = isNew ? FunnelNewBuffer(index) : ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);
	if (!isNew)
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	Assert(BufferGetBlockNumber(buf) == FUNNEL_METAPAGE_BLKNO);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	FillMetaPage(page, meta->coarseDims, meta->precision);
	memcpy(FunnelPageGetMeta(page), meta, sizeof(FunnelMetaPageData));
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/* ambuild: one pass over the heap, pages written as they fill. */
IndexBuildResult *
funnelbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	FunnelBuildState bs;
	int			coarseDims,
				precision;
	double		reltuples;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	GetOptions(index, &coarseDims, &precision);
	memset(&bs, 0, sizeof(bs));
	FillMetaPage(bs.page.data, coarseDims, precision);
	bs.meta = *FunnelPageGetMeta(bs.page.data);
	bs.metric = FunnelGetMetric(index);
	bs.entry = palloc0(bs.meta.entrySize);
	bs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "funnel build",
									  ALLOCSET_DEFAULT_SIZES);
	WriteMetaPage(index, &bs.meta, true);

	FunnelInitPage(bs.page.data, 0);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   BuildCallback, &bs, NULL);
	if (FunnelPageGetOpaque(bs.page.data)->nentries > 0)
		FlushBuildPage(index, &bs);
	WriteMetaPage(index, &bs.meta, false);
	MemoryContextDelete(bs.tmpCtx);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged index is just a metapage. */
void
funnelbuildempty(Relation index)
{
	PGAlignedBlock page;
	int			coarseDims,
				precision;

	GetOptions(index, &coarseDims, &precision);
	FillMetaPage(page.data, coarseDims, precision);
	PageSetChecksumInplace(page.data, FUNNEL_METAPAGE_BLKNO);
	smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, FUNNEL_METAPAGE_BLKNO,
			  page.data, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				FUNNEL_METAPAGE_BLKNO, page.data, true);
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}

/* ---------- insert ---------- */

/*
 * Add the entry to blkno if it has room, WAL-logging the page and, when
 * metaChange is set, the metapage (already registered by the caller).
 */
static bool
TryAddToPage(Relation index, BlockNumber blkno, const FunnelEntry *entry,
			 const FunnelMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, blkno);
	GenericXLogState *state;
	Page		page;
	bool		added = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (!PageIsNew(page) &&
		FunnelPageGetOpaque(page)->nentries < meta->entriesPerPage)
	{
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		AppendEntry(page, entry, meta->entrySize);
		GenericXLogFinish(state);
		added = true;
	}
	UnlockReleaseBuffer(buf);
	return added;
}

/* Change the metapage under the caller's exclusive lock, WAL-logged. */
static void
UpdateMeta(Relation index, Buffer metaBuf, BlockNumber lastBlock, int nfree)
{
	GenericXLogState *state = GenericXLogStart(index);
	Page		page = GenericXLogRegisterBuffer(state, metaBuf, 0);
	FunnelMetaPageData *meta = FunnelPageGetMeta(page);

	meta->lastBlock = lastBlock;
	meta->nfree = nfree;
	GenericXLogFinish(state);
}

/*
 * aminsert: put the entry on a page with free room (remembered by VACUUM),
 * else on the last page, else on a new page.
 */
bool
funnelinsert(Relation index, Datum *values, bool *isnull, ItemPointer ht_ctid,
			 Relation heapRel, IndexUniqueCheck checkUnique,
			 bool indexUnchanged, IndexInfo *indexInfo)
{
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext,
											  "funnel insert", ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(ctx);
	FunnelMetaPageData *meta;
	FunnelEntry *entry;
	Buffer		metaBuf,
				buf;
	GenericXLogState *state;
	Page		page;

	if (isnull[0])
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(ctx);
		return false;
	}

	metaBuf = ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);
	LockBuffer(metaBuf, BUFFER_LOCK_EXCLUSIVE);
	meta = FunnelPageGetMeta(BufferGetPage(metaBuf));
	entry = palloc0(meta->entrySize);
	EncodeDatum(entry, values[0], ht_ctid, meta->coarseDims, meta->precision,
				FunnelGetMetric(index));

	/* pages VACUUM left with room, most recently found last */
	while (meta->nfree > 0)
	{
		if (TryAddToPage(index, meta->freeBlocks[meta->nfree - 1], entry, meta))
			goto done;
		UpdateMeta(index, metaBuf, meta->lastBlock, meta->nfree - 1);
	}
	if (meta->lastBlock != InvalidBlockNumber &&
		TryAddToPage(index, meta->lastBlock, entry, meta))
		goto done;

	buf = FunnelNewBuffer(index);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	FunnelInitPage(page, 0);
	AppendEntry(page, entry, meta->entrySize);
	page = GenericXLogRegisterBuffer(state, metaBuf, 0);
	FunnelPageGetMeta(page)->lastBlock = BufferGetBlockNumber(buf);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);

done:
	UnlockReleaseBuffer(metaBuf);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}

/* ---------- vacuum ---------- */

/*
 * ambulkdelete: drop the entries whose heap rows are dead, compacting each
 * page, and remember pages with room for later inserts.
 */
IndexBulkDeleteResult *
funnelbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				 IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	FunnelMetaPageData meta;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber *freeBlocks = palloc(sizeof(BlockNumber) * FUNNEL_MAX_FREE);
	int			nfree = 0;
	double		kept = 0;
	Buffer		metaBuf;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	FunnelReadMeta(index, &meta);

	for (BlockNumber blkno = FUNNEL_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
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
		if (PageIsNew(BufferGetPage(buf)))
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
		if (j != n)
		{
			opaque->nentries = j;
			SetPageUsed(page, (Size) j * meta.entrySize);
			GenericXLogFinish(state);
		}
		else
			GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
		if (j < meta.entriesPerPage && blkno != meta.lastBlock && nfree < FUNNEL_MAX_FREE)
			freeBlocks[nfree++] = blkno;
	}

	/* publish the pages with room; inserts recheck room, so races are benign */
	metaBuf = ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);
	LockBuffer(metaBuf, BUFFER_LOCK_EXCLUSIVE);
	{
		GenericXLogState *state = GenericXLogStart(index);
		Page		page = GenericXLogRegisterBuffer(state, metaBuf, 0);
		FunnelMetaPageData *m = FunnelPageGetMeta(page);

		memcpy(m->freeBlocks, freeBlocks, sizeof(BlockNumber) * nfree);
		m->nfree = nfree;
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(metaBuf);

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

	if (info->analyze_only)
		return stats;
	if (stats != NULL)
		return stats;

	stats = palloc0(sizeof(IndexBulkDeleteResult));
	nblocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber blkno = FUNNEL_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		if (!PageIsNew(BufferGetPage(buf)))
			stats->num_index_tuples += FunnelPageGetOpaque(BufferGetPage(buf))->nentries;
		UnlockReleaseBuffer(buf);
	}
	stats->num_pages = nblocks;
	stats->estimated_count = false;
	return stats;
}
