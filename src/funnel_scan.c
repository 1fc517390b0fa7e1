/*
 * funnel_scan.c: ordered scans of a funnel index.
 *
 * The first amgettuple call reads the list directory and bounds each list's
 * distance to the query from its centroid and radius.  Lists are opened in
 * that order, and only while the next list's bound does not exceed the best
 * pending entry's: each opened entry gets the lower bound of its distance
 * (from a few dozen bytes instead of the whole vector), raised to its
 * list's bound, into a min-heap; so entries leave the heap in nondecreasing
 * bound order, unopened lists included.  From there:
 *
 * - exact mode (mrl.funnel_exact): entries come out in increasing bound
 *   order with xs_recheckorderby set, as GiST's KNN does.  The executor
 *   recomputes each row's true distance and holds rows in its reorder queue
 *   until no later bound can beat them, so the output equals a sequential
 *   scan's.
 * - approximate mode: the best mrl.funnel_shortlist bounds form a batch
 *   whose rows this code fetches and reranks on their full vectors; batches
 *   follow one another while the executor asks for rows, so WHERE filters
 *   that reject rows never starve a LIMIT.
 */
#include "postgres.h"

#include "access/relscan.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "funnel.h"
#include "miscadmin.h"
#include "mvector.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* An entry waiting in the scan: its bound (or exact distance) and row. */
typedef struct FunnelCandidate
{
	double		key;
	ItemPointerData tid;
} FunnelCandidate;

typedef struct FunnelScanOpaqueData
{
	MemoryContext scanCtx;		/* lives as long as the scan */
	MemoryContext queryCtx;		/* reset by each rescan */
	bool		loaded;
	bool		ordered;		/* false: no query, physical order */
	bool		exact;
	Datum		query;
	FunnelMetaPageData meta;
	FunnelQuery q;

	/* lists by bound, and how many have been opened */
	FunnelCandidate *lists;		/* key = list bound, tid.ip_blkid = head */
	int			nlists;
	int			nextList;

	/* min-heap of entries by bound */
	FunnelCandidate *heap;
	int64		nheap;
	int64		heapCap;

	/* approximate mode: the current reranked batch */
	FunnelCandidate *batch;
	int			shortlist;		/* batch size, fixed at rescan */
	int			nbatch;
	int			batchPos;
	AttrNumber	heapAttno;
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
} FunnelScanOpaqueData;

typedef FunnelScanOpaqueData *FunnelScanOpaque;

/* ---------- a binary min-heap of candidates ---------- */

/* Restore the heap property below position i. */
static void
SiftDown(FunnelCandidate *heap, int64 n, int64 i)
{
	FunnelCandidate item = heap[i];

	for (;;)
	{
		int64		child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && heap[child + 1].key < heap[child].key)
			child++;
		if (heap[child].key >= item.key)
			break;
		heap[i] = heap[child];
		i = child;
	}
	heap[i] = item;
}

/* Add a candidate, growing the heap as needed. */
static void
HeapPush(FunnelScanOpaque so, FunnelCandidate c)
{
	int64		i = so->nheap++;

	if (so->nheap > so->heapCap)
	{
		so->heapCap = Max(1024, so->heapCap * 2);
		so->heap = so->heap ?
			repalloc_huge(so->heap, sizeof(FunnelCandidate) * so->heapCap) :
			MemoryContextAllocHuge(so->queryCtx, sizeof(FunnelCandidate) * so->heapCap);
	}
	while (i > 0 && so->heap[(i - 1) / 2].key > c.key)
	{
		so->heap[i] = so->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	so->heap[i] = c;
}

/* Remove and return the smallest candidate. */
static FunnelCandidate
HeapPop(FunnelScanOpaque so)
{
	FunnelCandidate top = so->heap[0];

	so->heap[0] = so->heap[--so->nheap];
	if (so->nheap > 0)
		SiftDown(so->heap, so->nheap, 0);
	return top;
}

/* ---------- scan ---------- */

/* ambeginscan */
IndexScanDesc
funnelbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	FunnelScanOpaque so = palloc0(sizeof(FunnelScanOpaqueData));

	so->scanCtx = CurrentMemoryContext;
	so->queryCtx = AllocSetContextCreate(CurrentMemoryContext, "funnel scan",
										 ALLOCSET_DEFAULT_SIZES);
	FunnelReadMeta(index, &so->meta);
	so->heapAttno = index->rd_index->indkey.values[0];
	scan->opaque = so;
	scan->xs_orderbyvals = palloc0(sizeof(Datum) * Max(norderbys, 1));
	scan->xs_orderbynulls = palloc(sizeof(bool) * Max(norderbys, 1));
	memset(scan->xs_orderbynulls, true, sizeof(bool) * Max(norderbys, 1));
	return scan;
}

/* amrescan: remember the query; the work happens at the first fetch. */
void
funnelrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
			 ScanKey orderbys, int norderbys)
{
	FunnelScanOpaque so = (FunnelScanOpaque) scan->opaque;
	MemoryContext old;

	MemoryContextReset(so->queryCtx);
	so->loaded = false;
	so->heap = NULL;
	so->nheap = so->heapCap = 0;
	so->lists = NULL;
	so->nlists = so->nextList = 0;
	so->batch = NULL;
	so->nbatch = so->batchPos = 0;
	if (norderbys > 0)
		memmove(scan->orderByData, orderbys, norderbys * sizeof(ScanKeyData));
	so->ordered = norderbys > 0 && !(scan->orderByData[0].sk_flags & SK_ISNULL);

	/* approximate reranking reads the column itself: plain columns only */
	so->exact = funnel_exact || so->heapAttno == 0;
	so->shortlist = funnel_shortlist;
	if (so->ordered)
	{
		MVector    *v;

		old = MemoryContextSwitchTo(so->queryCtx);
		v = (MVector *) PG_DETOAST_DATUM_COPY(scan->orderByData[0].sk_argument);
		so->query = PointerGetDatum(v);
		FunnelQueryInit(&so->q, v->x, v->dim, so->meta.coarseDims,
						so->meta.precision, FunnelGetMetric(scan->indexRelation));
		MemoryContextSwitchTo(old);
	}
}

/* qsort order of lists or a reranked batch: key, then TID for stable ties. */
static int
CompareCandidates(const void *a, const void *b)
{
	const FunnelCandidate *ca = a;
	const FunnelCandidate *cb = b;

	if (ca->key < cb->key)
		return -1;
	if (ca->key > cb->key)
		return 1;
	return ItemPointerCompare((ItemPointer) &ca->tid, (ItemPointer) &cb->tid);
}

/* Bound every non-empty list and sort them by bound. */
static void
LoadLists(IndexScanDesc scan, FunnelScanOpaque so)
{
	MemoryContext old = MemoryContextSwitchTo(so->queryCtx);
	FunnelList *dir = FunnelReadDirectory(scan->indexRelation, &so->meta);

	so->lists = palloc(sizeof(FunnelCandidate) * so->meta.nlists);
	for (uint32 i = 0; i < so->meta.nlists; i++)
	{
		FunnelList *list = (FunnelList *) ((char *) dir + (Size) i * so->meta.listSize);
		FunnelCandidate *c = &so->lists[so->nlists];

		if (list->head == InvalidBlockNumber)
			continue;
		c->key = so->ordered ? FunnelListBound(&so->q, list) : 0;
		ItemPointerSet(&c->tid, list->head, 1);
		so->nlists++;
	}
	qsort(so->lists, so->nlists, sizeof(FunnelCandidate), CompareCandidates);
	pfree(dir);
	MemoryContextSwitchTo(old);
	so->loaded = true;
}

/* Push every entry of a list (its page chain) with its bound. */
static void
OpenList(IndexScanDesc scan, FunnelScanOpaque so, const FunnelCandidate *list)
{
	Relation	index = scan->indexRelation;
	BlockNumber blkno = ItemPointerGetBlockNumber(&list->tid);
	int64		opened = 0;

	while (blkno != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		int			n;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		n = FunnelPageGetOpaque(page)->nentries;
		for (int i = 0; i < n; i++)
		{
			FunnelEntry *e = FunnelPageGetEntry(page, i, so->meta.entrySize);
			FunnelCandidate c;

			c.tid = e->heapPtr;
			c.key = so->ordered ? Max(FunnelBound(&so->q, e), list->key) : 0;
			HeapPush(so, c);
		}
		opened += n;
		blkno = FunnelPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	pgstat_count_index_tuples(index, opened);
}

/*
 * The pending entry with the smallest bound, opening lists until no
 * unopened list could hold a smaller one.  False when all are consumed.
 */
static bool
NextCandidate(IndexScanDesc scan, FunnelScanOpaque so, FunnelCandidate *c)
{
	while (so->nextList < so->nlists &&
		   (so->nheap == 0 || so->lists[so->nextList].key <= so->heap[0].key))
		OpenList(scan, so, &so->lists[so->nextList++]);
	if (so->nheap == 0)
		return false;
	*c = HeapPop(so);
	return true;
}

/*
 * Approximate mode: take the next shortlist of candidates by bound, fetch
 * their visible rows and sort them by the true distance.  Returns false when
 * the index is exhausted.
 */
static bool
NextBatch(IndexScanDesc scan, FunnelScanOpaque so)
{
	FmgrInfo   *dist = index_getprocinfo(scan->indexRelation, 1, FUNNEL_DISTANCE_PROC);
	Oid			collation = scan->indexRelation->rd_indcollation[0];
	MemoryContext old;

	if (so->fetch == NULL)
	{
		old = MemoryContextSwitchTo(so->scanCtx);
		so->fetch = table_index_fetch_begin(scan->heapRelation);
		so->slot = table_slot_create(scan->heapRelation, NULL);
		MemoryContextSwitchTo(old);
	}
	if (so->batch == NULL)
		so->batch = MemoryContextAlloc(so->queryCtx,
									   sizeof(FunnelCandidate) * so->shortlist);
	so->nbatch = so->batchPos = 0;
	for (;;)
	{
		int			taken = 0;

		for (; taken < so->shortlist; taken++)
		{
			FunnelCandidate c;
			bool		call_again = false,
						all_dead = false,
						isnull;
			Datum		value;

			if (!NextCandidate(scan, so, &c))
				break;
			CHECK_FOR_INTERRUPTS();
			if (!table_index_fetch_tuple(so->fetch, &c.tid, scan->xs_snapshot,
										 so->slot, &call_again, &all_dead))
				continue;
			value = slot_getattr(so->slot, so->heapAttno, &isnull);
			if (!isnull)
			{
				c.key = DatumGetFloat8(FunctionCall2Coll(dist, collation, value, so->query));
				so->batch[so->nbatch++] = c;
			}
			ExecClearTuple(so->slot);
		}
		table_index_fetch_reset(so->fetch);
		if (so->nbatch > 0 || taken < so->shortlist)
			break;
	}
	qsort(so->batch, so->nbatch, sizeof(FunnelCandidate), CompareCandidates);
	return so->nbatch > 0;
}

/* amgettuple: the next row, lazily. */
bool
funnelgettuple(IndexScanDesc scan, ScanDirection dir)
{
	FunnelScanOpaque so = (FunnelScanOpaque) scan->opaque;
	FunnelCandidate c;

	if (!so->loaded)
		LoadLists(scan, so);
	scan->xs_recheck = false;

	if (!so->ordered || so->exact)
	{
		if (!NextCandidate(scan, so, &c))
			return false;
		scan->xs_heaptid = c.tid;
		scan->xs_recheckorderby = so->ordered;
		scan->xs_orderbyvals[0] = Float8GetDatum(c.key);
		scan->xs_orderbynulls[0] = !so->ordered;
		return true;
	}

	if (so->batchPos >= so->nbatch && !NextBatch(scan, so))
		return false;
	c = so->batch[so->batchPos++];
	scan->xs_heaptid = c.tid;
	scan->xs_recheckorderby = false;
	scan->xs_orderbyvals[0] = Float8GetDatum(c.key);
	scan->xs_orderbynulls[0] = false;
	return true;
}

/* amendscan */
void
funnelendscan(IndexScanDesc scan)
{
	FunnelScanOpaque so = (FunnelScanOpaque) scan->opaque;

	if (so->fetch)
	{
		table_index_fetch_end(so->fetch);
		ExecDropSingleTupleTableSlot(so->slot);
	}
	MemoryContextDelete(so->queryCtx);
	pfree(so);
	scan->opaque = NULL;
}
