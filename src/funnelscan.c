/*
 * funnelscan.c: ordered scans of a funnel index.
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
 * - approximate mode: entries are keyed by an estimate of their distance
 *   (FunnelEstimate) instead of the bound, and reranked here on their full
 *   vectors, fetched with the scan's snapshot, mrl.funnel_shortlist at a
 *   time: each batch is returned in true distance order, then the next
 *   begins.  A row leaves a batch early when no pending estimate, lowered
 *   by twice the largest overshoot the reranked rows showed, could beat
 *   it.  When a batch ends with rows that are not safe yet, relaxed order
 *   (mrl.funnel_order) returns them all and begins the next batch, so a
 *   row of a later batch may come out of order, as in pgvector's
 *   relaxed_order; strict order (the default) returns the nearest one,
 *   keeps the others until they are safe or the next batch ends, and skips
 *   any row found nearer than one already returned: the output is always
 *   sorted.  Batches follow one another while the executor asks for rows,
 *   so WHERE filters that reject rows never starve a LIMIT.  Only the
 *   mrl.funnel_probes lists with the nearest centroids (default a quarter,
 *   at least 32) are opened by bound as above; the next nearest is opened
 *   when no candidate is pending.  List bounds use each list's radius,
 *   which one outlying member makes wide: past a few hundred thousand rows
 *   they rule out too few lists, and the cap keeps the cost per query from
 *   growing with the table, as in any IVF index.
 *
 * When every list is done, the rows with a NULL vector follow, with a NULL
 * distance, which sorts after every number as in a sequential scan.
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "executor/tuptable.h"
#include "funnel.h"
#include "miscadmin.h"
#include "mvector.h"
#include "pgstat.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* An entry waiting in the scan: its bound (or exact distance) and row. */
typedef struct FunnelCandidate
{
	double		key;
	ItemPointerData tid;
} FunnelCandidate;

/* A list of the index, as a scan orders and opens it. */
typedef struct FunnelListRef
{
	double		bound;			/* no member is nearer than this */
	double		closeness;		/* centroid distance, for probes */
	BlockNumber head;
	int			listNo;
} FunnelListRef;

/* A binary min-heap of candidates by key. */
typedef struct CandidateHeap
{
	FunnelCandidate *items;
	int64		n;
	int64		cap;
} CandidateHeap;

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

	/* lists in opening order, and how many have been opened */
	FunnelListRef *lists;
	int			nlists;
	int			nextList;
	int			probes;			/* approximate mode: lists to open, 0 = all */

	/* entries by bound (approximate mode: by estimate), reranked rows by distance */
	CandidateHeap pending;
	CandidateHeap reranked;
	int			shortlist;		/* batch size, fixed at rescan */
	int			budget;			/* reranks left in the current batch */
	int64		nreranked;		/* rows reranked by this scan */
	double		overshoot;		/* largest estimate - true distance seen */
	bool		strictOrder;	/* mrl.funnel_order = strict, fixed at rescan */
	double		lastReturned;	/* distance of the row returned last */
	FmgrInfo   *distance;		/* the opclass distance, for reranking */
	MemoryContext rerankCtx;	/* detoasted rows, reset after each */
	AttrNumber	heapAttno;
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;

	/* rows with a NULL vector, returned last: the NULL list, a page at a time */
	BlockNumber nullNext;		/* next page to read */
	uint32		nullPrevSeq;	/* sequence number of the page read last */
	ItemPointerData *nullTids;	/* the page's heap pointers */
	int			nullCount;
	int			nullPos;
} FunnelScanOpaqueData;

typedef FunnelScanOpaqueData *FunnelScanOpaque;

/* reranked rows before estimates are trusted to stop a batch early */
#define FUNNEL_CALIBRATION_ROWS 16

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

/* Add a candidate, growing the heap (in ctx) as needed. */
static void
HeapPush(CandidateHeap *h, FunnelCandidate c, MemoryContext ctx)
{
	int64		i = h->n++;

	if (h->n > h->cap)
	{
		h->cap = Max(1024, h->cap * 2);
		h->items = h->items ?
			repalloc_huge(h->items, sizeof(FunnelCandidate) * h->cap) :
			MemoryContextAllocHuge(ctx, sizeof(FunnelCandidate) * h->cap);
	}
	while (i > 0 && h->items[(i - 1) / 2].key > c.key)
	{
		h->items[i] = h->items[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->items[i] = c;
}

/* Remove and return the smallest candidate (the heap must not be empty). */
static FunnelCandidate
HeapPop(CandidateHeap *h)
{
	FunnelCandidate top = h->items[0];

	h->items[0] = h->items[--h->n];
	if (h->n > 0)
		SiftDown(h->items, h->n, 0);
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
	so->distance = index_getprocinfo(index, 1, FUNNEL_DISTANCE_PROC);
	so->rerankCtx = AllocSetContextCreate(CurrentMemoryContext, "funnel rerank",
										  ALLOCSET_DEFAULT_SIZES);
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
	memset(&so->pending, 0, sizeof(CandidateHeap));
	memset(&so->reranked, 0, sizeof(CandidateHeap));
	so->budget = 0;
	so->nreranked = 0;
	so->overshoot = 0;
	so->strictOrder = funnel_order == FUNNEL_ORDER_STRICT;
	so->lastReturned = -get_float8_infinity();
	so->lists = NULL;
	so->nlists = so->nextList = 0;
	so->nullNext = InvalidBlockNumber;
	so->nullPrevSeq = 0;
	so->nullTids = NULL;
	so->nullCount = so->nullPos = 0;
	if (norderbys > 0)
		memmove(scan->orderByData, orderbys, norderbys * sizeof(ScanKeyData));
	so->ordered = norderbys > 0 && !(scan->orderByData[0].sk_flags & SK_ISNULL);

	/* approximate reranking reads the column itself: plain columns only */
	so->exact = funnel_exact || so->heapAttno == 0;
	so->shortlist = funnel_shortlist;
	so->probes = 0;
	if (so->ordered && !so->exact)
		so->probes = funnel_probes > 0 ? funnel_probes : Max(32, (int) so->meta.nlists / 4);
	if (so->ordered)
	{
		const float *x;
		int			dim;

		old = MemoryContextSwitchTo(so->queryCtx);
		so->query = PointerGetDatum(PG_DETOAST_DATUM_COPY(scan->orderByData[0].sk_argument));
		x = FunnelDatumFloats(so->query, &dim);
		FunnelQueryInit(&so->q, x, dim, so->meta.coarseDims,
						so->meta.precision, FunnelGetMetric(scan->indexRelation));
		MemoryContextSwitchTo(old);
	}
}

/*
 * qsort_arg order of lists: by bound, or (arg true) by centroid distance;
 * then by head block, for stable ties.
 */
static int
CompareLists(const void *a, const void *b, void *arg)
{
	const FunnelListRef *la = a;
	const FunnelListRef *lb = b;
	double		ka = *(bool *) arg ? la->closeness : la->bound;
	double		kb = *(bool *) arg ? lb->closeness : lb->bound;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	return (la->head > lb->head) - (la->head < lb->head);
}

/*
 * Bound every non-empty list and sort them in opening order; note where
 * the NULL list begins.
 */
static void
LoadLists(IndexScanDesc scan, FunnelScanOpaque so)
{
	MemoryContext old = MemoryContextSwitchTo(so->queryCtx);
	FunnelList *dir = FunnelReadDirectory(scan->indexRelation, &so->meta);
	bool		by_closeness = true,
				by_bound = false;

	so->lists = palloc(sizeof(FunnelListRef) * so->meta.nlists);
	for (uint32 i = 0; i < so->meta.nlists; i++)
	{
		FunnelList *list = FunnelDirList(dir, i, so->meta.listSize);
		FunnelListRef *l = &so->lists[so->nlists];

		if (list->head == InvalidBlockNumber)
			continue;
		l->bound = so->ordered ? FunnelListBound(&so->q, list) : 0;
		l->closeness = so->probes > 0 ? FunnelListCloseness(&so->q, list) : 0;
		l->head = list->head;
		l->listNo = i;
		so->nlists++;
	}
	so->nullNext = FunnelDirList(dir, FunnelNullList(&so->meta), so->meta.listSize)->head;
	/* with probes, the nearest lists first, and those opened by bound */
	if (so->probes > 0)
		qsort_arg(so->lists, so->nlists, sizeof(FunnelListRef), CompareLists, &by_closeness);
	qsort_arg(so->lists, so->probes > 0 ? Min(so->probes, so->nlists) : so->nlists,
			  sizeof(FunnelListRef), CompareLists, &by_bound);
	pfree(dir);
	MemoryContextSwitchTo(old);
	so->loaded = true;
}

/*
 * Whether page, reached from a page of sequence number prevSeq (0 for the
 * head), still belongs to the chain of list listNo.  VACUUM may have freed
 * it since that link was read and a list may have taken it again: it is
 * then free, of another list, or a newer head of this one.
 */
static bool
InChain(Page page, int listNo, uint32 prevSeq)
{
	FunnelPageOpaqueData *opaque = FunnelPageGetOpaque(page);

	return !PageIsNew(page) && (opaque->flags & FUNNEL_DATA) &&
		opaque->listNo == listNo && (prevSeq == 0 || opaque->seq < prevSeq);
}

/* Push every entry of a list (its page chain) with its bound. */
static void
OpenList(IndexScanDesc scan, FunnelScanOpaque so, const FunnelListRef *list)
{
	Relation	index = scan->indexRelation;
	BlockNumber blkno = list->head;
	uint32		prevSeq = 0;
	int64		opened = 0;

	while (blkno != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		int			n;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (!InChain(page, list->listNo, prevSeq))
		{
			UnlockReleaseBuffer(buf);
			break;
		}
		n = FunnelPageGetOpaque(page)->nentries;
		for (int i = 0; i < n; i++)
		{
			FunnelEntry *e = FunnelPageGetEntry(page, i, so->meta.entrySize);
			FunnelCandidate c;

			c.tid = e->heapPtr;
			if (!so->ordered)
				c.key = 0;
			else if (so->exact)
				c.key = Max(FunnelBound(&so->q, e), list->bound);
			else
				c.key = FunnelEstimate(&so->q, e);
			HeapPush(&so->pending, c, so->queryCtx);
		}
		opened += n;
		prevSeq = FunnelPageGetOpaque(page)->seq;
		blkno = FunnelPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	pgstat_count_index_tuples(index, opened);
}

/*
 * The smallest pending key, after opening every list (of the first probes,
 * with probes) whose bound could hold a smaller one; +infinity when no
 * candidate is left.
 */
static double
NextBound(IndexScanDesc scan, FunnelScanOpaque so)
{
	while (so->nextList < so->nlists &&
		   (so->pending.n == 0 ||
			((so->probes == 0 || so->nextList < so->probes) &&
			 so->lists[so->nextList].bound <= so->pending.items[0].key)))
		OpenList(scan, so, &so->lists[so->nextList++]);
	return so->pending.n > 0 ? so->pending.items[0].key : get_float8_infinity();
}

/*
 * Approximate mode: fetch the next candidate's row and queue it by its true
 * distance (NaN, a zero vector under cosine, sorts last).  Invisible rows
 * are dropped.  The fetch follows a HOT chain and overwrites the TID it is
 * given with the member it found; the executor must get the chain's root,
 * the TID the index holds, so the fetch gets a copy.
 */
static void
RerankNext(IndexScanDesc scan, FunnelScanOpaque so)
{
	FunnelCandidate c = HeapPop(&so->pending);
	ItemPointerData member = c.tid;
	bool		call_again = false,
				all_dead = false,
				isnull;
	Datum		value;
	double		d;
	MemoryContext old;

	CHECK_FOR_INTERRUPTS();
	if (so->fetch == NULL)
	{
		old = MemoryContextSwitchTo(so->scanCtx);
		so->fetch = table_index_fetch_begin(scan->heapRelation);
		so->slot = table_slot_create(scan->heapRelation, NULL);
		MemoryContextSwitchTo(old);
	}
	old = MemoryContextSwitchTo(so->rerankCtx);
	if (table_index_fetch_tuple(so->fetch, &member, scan->xs_snapshot, so->slot,
								&call_again, &all_dead))
	{
		value = slot_getattr(so->slot, so->heapAttno, &isnull);
		if (!isnull)
		{
			d = DatumGetFloat8(FunctionCall2Coll(so->distance,
												 scan->indexRelation->rd_indcollation[0],
												 value, so->query));
			if (!isnan(d) && !isinf(c.key))
				so->overshoot = Max(so->overshoot, c.key - d);
			c.key = isnan(d) ? get_float8_infinity() : d;
			HeapPush(&so->reranked, c, so->queryCtx);
		}
		ExecClearTuple(so->slot);
	}
	MemoryContextSwitchTo(old);
	/* a detoasted 3072-dim row is 12 kB: do not let them pile up */
	MemoryContextReset(so->rerankCtx);
	so->budget--;
	so->nreranked++;
}

/*
 * Approximate mode: the smallest true distance a row not reranked yet is
 * likely to have.  Pending estimates are trusted to within twice the
 * largest overshoot seen so far, once enough rows calibrate it (once alone
 * lost recall with binary codes); lists still to open within the probes
 * count with their bounds.
 */
static double
LikelyFloor(FunnelScanOpaque so)
{
	double		least = -get_float8_infinity();

	if (so->nreranked >= FUNNEL_CALIBRATION_ROWS)
	{
		least = so->pending.n > 0 ?
			so->pending.items[0].key - 2 * so->overshoot : get_float8_infinity();
		if (so->nextList < Min(so->probes, so->nlists))
			least = Min(least, so->lists[so->nextList].bound);
	}
	return least;
}

/*
 * The next row with a NULL vector, read from the NULL list a page at a
 * time (checked as OpenList checks a chain); false when none is left.
 */
static bool
NextNull(IndexScanDesc scan, FunnelScanOpaque so, ItemPointer tid)
{
	while (so->nullPos >= so->nullCount)
	{
		Buffer		buf;
		Page		page;

		if (so->nullNext == InvalidBlockNumber)
			return false;
		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(scan->indexRelation, so->nullNext);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		so->nullNext = InvalidBlockNumber;
		so->nullCount = so->nullPos = 0;
		if (InChain(page, FunnelNullList(&so->meta), so->nullPrevSeq))
		{
			if (so->nullTids == NULL)
				so->nullTids = MemoryContextAlloc(so->queryCtx, BLCKSZ);
			so->nullCount = FunnelPageGetOpaque(page)->nentries;
			memcpy(so->nullTids, PageGetContents(page),
				   sizeof(ItemPointerData) * so->nullCount);
			so->nullPrevSeq = FunnelPageGetOpaque(page)->seq;
			so->nullNext = FunnelPageGetOpaque(page)->next;
			pgstat_count_index_tuples(scan->indexRelation, so->nullCount);
		}
		UnlockReleaseBuffer(buf);
	}
	*tid = so->nullTids[so->nullPos++];
	return true;
}

/*
 * After every other row, the NULL rows: their distance is NULL, which
 * sorts after every number, as in a sequential scan.
 */
static bool
ReturnNull(IndexScanDesc scan, FunnelScanOpaque so)
{
	if (!NextNull(scan, so, &scan->xs_heaptid))
		return false;
	scan->xs_recheckorderby = false;
	scan->xs_orderbyvals[0] = (Datum) 0;
	scan->xs_orderbynulls[0] = true;
	return true;
}

/* Hand a candidate to the executor; exact mode has it recheck the order. */
static bool
ReturnCandidate(IndexScanDesc scan, FunnelCandidate c, bool ordered, bool recheck)
{
	scan->xs_heaptid = c.tid;
	scan->xs_recheckorderby = recheck;
	scan->xs_orderbyvals[0] = Float8GetDatum(c.key);
	scan->xs_orderbynulls[0] = !ordered;
	return true;
}

/* amgettuple: the next row, lazily. */
bool
funnelgettuple(IndexScanDesc scan, ScanDirection dir)
{
	FunnelScanOpaque so = (FunnelScanOpaque) scan->opaque;

	if (!so->loaded)
	{
		/*
		 * A scan answers an ORDER BY over the rows one MVCC snapshot sees
		 * (approximate mode fetches them to rerank) and evaluates no search
		 * keys: a non-MVCC scan, such as an exclusion constraint's check
		 * with a dirty snapshot, would take every row for a match.
		 */
		if (!IsMVCCSnapshot(scan->xs_snapshot))
			elog(ERROR, "non-MVCC snapshots are not supported with funnel indexes");
		/* one index scan per rescan, as pg_stat_user_indexes.idx_scan counts */
		pgstat_count_index_scan(scan->indexRelation);
		LoadLists(scan, so);
	}
	scan->xs_recheck = false;

	/* no query (all keys 0, list by list) or exact mode: by bound */
	if (!so->ordered || so->exact)
	{
		(void) NextBound(scan, so);
		if (so->pending.n == 0)
			return ReturnNull(scan, so);
		return ReturnCandidate(scan, HeapPop(&so->pending), so->ordered, so->ordered);
	}

	for (;;)
	{
		(void) NextBound(scan, so);	/* opens the lists the batch may need */
		if (so->reranked.n > 0 &&
			(so->reranked.items[0].key <= LikelyFloor(so) || so->pending.n == 0 ||
			 so->budget <= 0))
		{
			FunnelCandidate c = HeapPop(&so->reranked);

			/*
			 * A batch that ends leaves rows that pending ones might beat.
			 * Relaxed order returns them all; strict order returns one and
			 * reranks another batch before the next, and skips a row found
			 * nearer than one already returned.
			 */
			if (so->budget <= 0 && so->strictOrder)
				so->budget = so->shortlist;
			if (so->strictOrder && c.key < so->lastReturned)
				continue;
			so->lastReturned = c.key;
			return ReturnCandidate(scan, c, true, false);
		}
		if (so->pending.n == 0)
			return ReturnNull(scan, so);
		if (so->reranked.n == 0 && so->budget <= 0)
			so->budget = so->shortlist;
		RerankNext(scan, so);
	}
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
	MemoryContextDelete(so->rerankCtx);
	pfree(so);
	scan->opaque = NULL;
}
