/*
 * funnelscan.c: ordered scans of a funnel index.
 *
 * The first amgettuple call reads the list directory.  Then:
 *
 * - exact mode (mrl.funnel_exact): each list's distance to the query is
 *   bounded from its centroid and radius; lists are opened in that order,
 *   and only while the next list's bound does not exceed the best pending
 *   entry's: each opened entry gets the lower bound of its distance (from a
 *   few dozen bytes instead of the whole vector), raised to its list's
 *   bound, into a min-heap, so entries leave the heap in nondecreasing bound
 *   order, unopened lists included.  They come out with xs_recheckorderby
 *   set, as GiST's KNN does: the executor recomputes each row's true
 *   distance and holds rows in its reorder queue until no later bound can
 *   beat them, so the output equals a sequential scan's.
 * - exact mode where the build measured that bounds cannot prune (an exact
 *   top-10 scan would fetch FUNNEL_SWEEP_FETCH_FRACTION, 5%, of the rows or
 *   more: the built-in model's vectors, random ones): a sweep.  Fetched in
 *   bound order, every row would cost a random heap access and a place in
 *   the executor's reorder queue (7.8 s where a sequential scan takes 0.4 s
 *   on 250,000 real sentences).  Instead each pass reads every entry's heap
 *   pointer, fetches the rows in heap order, a chunk of work_mem at a time,
 *   and keeps the nearest (by distance, then TID) after those returned
 *   already; they come out with their true distances, sorted.  A LIMIT 10
 *   takes one pass; each further pass keeps eight times as many rows.
 * - approximate mode: the scan works in rounds r = 0, 1, ... that each aim
 *   at the first 10 * 2^r rows.  Round 0 opens the mrl.funnel_probes lists
 *   with the nearest centroids and reranks, on the full vectors fetched with
 *   the scan's snapshot, the mrl.funnel_shortlist entries of those lists
 *   with the smallest *estimate* of their distance (FunnelEstimateEntries);
 *   both default to what the build calibrated (funnelcalibrate.c).  At
 *   those defaults, a query unlike the rows the build sampled (its 10th
 *   nearest row reranked is farther than 99% of theirs) widens round 0
 *   until a widening finds no nearer row (WidenFarQuery).  Each
 *   further round opens more lists and reranks more entries in all, the
 *   next best by estimate of every list opened so far, as the calibration
 *   found the first 100 rows need more than the first 10
 *   (FunnelRoundSettings).  After round 0 its 10 nearest rows are returned,
 *   in distance order, after round r the rows up to the (10 * 2^(r-1))th
 *   smallest distance reranked so far; when the executor asks for more (a
 *   larger LIMIT, or a WHERE clause that rejects rows), the next round
 *   follows, until every list is open and every entry reranked.  So a
 *   filter never starves a LIMIT, and the work grows with the rows it asks
 *   for.  A round may rerank a row nearer than one already returned (an
 *   earlier round missed it): strict order (mrl.funnel_order, the default)
 *   skips it, so the output is always sorted; relaxed order returns it, out
 *   of order.
 *
 * Entries are estimated a page at a time, in a tight loop; those below the
 * round's running threshold (the shortlist-th best estimate so far) are
 * kept apart, the others stored for later rounds, so the common LIMIT 10
 * reranks its shortlist without sorting the rest.
 *
 * When every list is done, the rows with a NULL vector follow, with a NULL
 * distance, which sorts after every number as in a sequential scan.
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "executor/tuptable.h"
#include "funnel.h"
#include "miscadmin.h"
#include "mvector.h"
#include "pgstat.h"
#include "storage/buf_internals.h"
#include "storage/bufmgr.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* An entry waiting in an exact scan: its bound, or a reranked row's distance. */
typedef struct FunnelCandidate
{
	double		key;
	ItemPointerData tid;
} FunnelCandidate;

/* An entry waiting in an approximate scan: its estimated distance. */
typedef struct FunnelEstimated
{
	float		est;
	ItemPointerData tid;
} FunnelEstimated;

/* A list of the index, as a scan orders and opens it. */
typedef struct FunnelListRef
{
	double		bound;			/* no member is nearer than this */
	double		closeness;		/* approximate mode: centroid distance */
	BlockNumber head;
	int			listNo;
	bool		opened;			/* approximate mode: read already */
} FunnelListRef;

/* A binary min-heap of candidates by key. */
typedef struct CandidateHeap
{
	FunnelCandidate *items;
	int64		n;
	int64		cap;
} CandidateHeap;

/* A growable array of estimated entries. */
typedef struct EstimatedArray
{
	FunnelEstimated *items;
	int64		n;
	int64		cap;
} EstimatedArray;

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
	int			nextList;		/* approximate mode: the first not opened */
	int			nopened;
	bool		bounded;		/* the lists' bounds are set (ListBounds) */

	/* exact mode and scans without a query: entries by bound */
	CandidateHeap pending;

	/* approximate mode: rounds */
	int			round;			/* rounds done */
	EstimatedArray front;		/* this round's best estimates, below thr */
	float		thr;
	EstimatedArray back;		/* entries of opened lists not reranked */
	int64		ntaken;			/* entries taken to rerank, by all rounds */
	CandidateHeap reranked;		/* reranked rows not returned yet, by distance */
	double	   *dists;			/* distances of every row reranked */
	int64		ndists;
	int64		distsCap;
	double		frontier;		/* rows up to this distance may be returned */
	bool		exhausted;		/* every list opened and entry reranked */
	bool		strictOrder;	/* mrl.funnel_order = strict, fixed at rescan */
	double		lastReturned;	/* largest distance returned so far */
	FmgrInfo   *distance;		/* the opclass distance, for reranking */
	MemoryContext rerankCtx;	/* detoasted rows, reset after each */
	AttrNumber	heapAttno;		/* the indexed column; 0: an expression */
	IndexInfo  *indexInfo;		/* an index on an expression: evaluates it */
	EState	   *estate;			/* ... in its per-tuple context */
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;

	/* exact mode where bounds cannot prune: sweeps (SweepPass) */
	bool		sweep;
	ItemPointerData *tids;		/* heap pointers of the chunk to sweep */
	int64		ntids;
	int64		tidsCap;
	FunnelCandidate *top;		/* the pass's nearest rows, then sorted */
	int64		ntop;
	int64		topCap;			/* how many a pass keeps */
	int64		topPos;			/* the next of them to return */
	bool		swept;			/* no row is left after those of top */
	bool		hasAfter;		/* passes keep only rows after this one */
	FunnelCandidate after;

	/* rows with a NULL vector, returned last: the NULL list, a page at a time */
	BlockNumber nullNext;		/* next page to read */
	uint32		nullPrevSeq;	/* sequence number of the page read last */
	ItemPointerData *nullTids;	/* the page's heap pointers */
	int			nullCount;
	int			nullPos;
} FunnelScanOpaqueData;

typedef FunnelScanOpaqueData *FunnelScanOpaque;

#define FUNNEL_EMIT_SHARE 0.75

/* ---------- binary heaps of candidates ---------- */

/*
 * Whether a heap puts a before b: the candidate heaps by smallest key
 * (KeyFirst), a sweep's top rows by the one it would return last
 * (SweepAfter).  Keys are never NaN: bounds and distances map it to an
 * infinity.
 */
typedef bool (*CandidateFirst) (const FunnelCandidate *a, const FunnelCandidate *b);

static inline bool
KeyFirst(const FunnelCandidate *a, const FunnelCandidate *b)
{
	return a->key < b->key;
}

/* Whether a sweep returns a after b: by distance, then heap pointer. */
static inline bool
SweepAfter(const FunnelCandidate *a, const FunnelCandidate *b)
{
	if (a->key != b->key)
		return a->key > b->key;
	return ItemPointerCompare((ItemPointer) &a->tid, (ItemPointer) &b->tid) > 0;
}

/* Put item at position i, or above it, past the parents it goes before. */
static inline void
SiftUp(FunnelCandidate *heap, int64 i, FunnelCandidate item, CandidateFirst first)
{
	while (i > 0 && first(&item, &heap[(i - 1) / 2]))
	{
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = item;
}

/* Restore the heap order below position i. */
static inline void
SiftDown(FunnelCandidate *heap, int64 n, int64 i, CandidateFirst first)
{
	FunnelCandidate item = heap[i];

	for (;;)
	{
		int64		child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && first(&heap[child + 1], &heap[child]))
			child++;
		if (!first(&heap[child], &item))
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
	SiftUp(h->items, i, c, KeyFirst);
}

/* Remove and return the smallest candidate (the heap must not be empty). */
static FunnelCandidate
HeapPop(CandidateHeap *h)
{
	FunnelCandidate top = h->items[0];

	h->items[0] = h->items[--h->n];
	if (h->n > 0)
		SiftDown(h->items, h->n, 0, KeyFirst);
	return top;
}

/* ---------- arrays of estimated entries ---------- */

/* Room for n more entries in a (in ctx). */
static void
EstimatedReserve(EstimatedArray *a, int64 n, MemoryContext ctx)
{
	if (a->n + n <= a->cap)
		return;
	a->cap = Max(Max(1024, a->cap * 2), a->n + n);
	a->items = a->items ?
		repalloc_huge(a->items, sizeof(FunnelEstimated) * a->cap) :
		MemoryContextAllocHuge(ctx, sizeof(FunnelEstimated) * a->cap);
}

/*
 * Reorder a[0..n) so that a[0..k) hold k smallest estimates (0 < k < n),
 * in no particular order: quickselect with median-of-three pivots.
 */
static void
SelectSmallest(FunnelEstimated *a, int64 n, int64 k)
{
	int64		lo = 0,
				hi = n - 1;

	while (hi > lo)
	{
		int64		mid = lo + (hi - lo) / 2,
					i = lo,
					j = hi;
		float		x = a[lo].est,
					y = a[mid].est,
					z = a[hi].est;
		float		pivot = x < y ? (y < z ? y : Max(x, z)) : (x < z ? x : Max(y, z));

		/* Hoare partition: a[lo..j] <= pivot <= a[i..hi] */
		while (i <= j)
		{
			FunnelEstimated t;

			while (a[i].est < pivot)
				i++;
			while (a[j].est > pivot)
				j--;
			if (i > j)
				break;
			t = a[i];
			a[i] = a[j];
			a[j] = t;
			i++;
			j--;
		}
		if (k - 1 <= j)
			hi = j;
		else if (k - 1 >= i)
			lo = i;
		else
			break;
	}
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
	if (so->heapAttno == 0)
	{
		so->indexInfo = BuildIndexInfo(index);
		so->estate = CreateExecutorState();
	}
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
	memset(&so->front, 0, sizeof(EstimatedArray));
	memset(&so->back, 0, sizeof(EstimatedArray));
	so->round = 0;
	so->ntaken = 0;
	so->dists = NULL;
	so->ndists = so->distsCap = 0;
	so->frontier = -get_float8_infinity();
	so->exhausted = false;
	so->strictOrder = funnel_order == FUNNEL_ORDER_STRICT;
	so->lastReturned = -get_float8_infinity();
	so->lists = NULL;
	so->nlists = so->nextList = so->nopened = 0;
	so->bounded = false;
	so->nullNext = InvalidBlockNumber;
	so->nullPrevSeq = 0;
	so->nullTids = NULL;
	so->nullCount = so->nullPos = 0;
	so->tids = NULL;
	so->top = NULL;
	so->ntids = so->tidsCap = so->ntop = so->topCap = so->topPos = 0;
	so->swept = so->hasAfter = false;
	if (norderbys > 0)
		memmove(scan->orderByData, orderbys, norderbys * sizeof(ScanKeyData));
	so->ordered = norderbys > 0 && !(scan->orderByData[0].sk_flags & SK_ISNULL);

	so->exact = funnel_exact;
	so->sweep = so->exact && so->ordered && FunnelExactSweeps(&so->meta);

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
 * Order of lists: by bound, or (arg true) by centroid distance; then by
 * list number, for stable ties that a parallel and a serial build share
 * (their lists' head blocks differ), as the calibration orders them.
 */
static inline int
CompareLists(const FunnelListRef *a, const FunnelListRef *b, void *arg)
{
	const FunnelListRef *la = a;
	const FunnelListRef *lb = b;
	double		ka = *(bool *) arg ? la->closeness : la->bound;
	double		kb = *(bool *) arg ? lb->closeness : lb->bound;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	return (la->listNo > lb->listNo) - (la->listNo < lb->listNo);
}

/*
 * SortLists(lists, n, arg): sorts by CompareLists, inlined (qsort_arg's
 * call per comparison took a third of a scan's time with 4,000 lists).
 */
#define ST_SORT SortLists
#define ST_ELEMENT_TYPE FunnelListRef
#define ST_COMPARE(a, b, arg) CompareLists(a, b, arg)
#define ST_COMPARE_ARG_TYPE void
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* What a directory walk does with each record (list number, record). */
typedef void (*ListVisitor) (FunnelScanOpaque so, uint32 listNo, const FunnelList *list,
							 void *arg);

/*
 * Visit every record of the directory, the NULL list's included, read in
 * place page by page, not copied.
 */
static void
WalkDirectory(IndexScanDesc scan, FunnelScanOpaque so, ListVisitor visit, void *arg)
{
	for (BlockNumber d = 0; d < so->meta.dirPages; d++)
	{
		Buffer		buf = ReadBuffer(scan->indexRelation, so->meta.dirStart + d);
		uint32		first = d * so->meta.listsPerPage;
		uint32		n = FunnelListsOnDirPage(&so->meta, d);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		for (uint32 i = first; i < first + n; i++)
			visit(so, i, FunnelPageGetList(BufferGetPage(buf), i - first, so->meta.listSize),
				  arg);
		UnlockReleaseBuffer(buf);
	}
}

/*
 * LoadLists' visitor: note where the NULL list begins; add a non-empty
 * list, with its bound only in exact mode and, when *by_closeness, its
 * centroid distance.
 */
static void
AddList(FunnelScanOpaque so, uint32 listNo, const FunnelList *list, void *by_closeness)
{
	bool		closeness = *(bool *) by_closeness;
	FunnelListRef *l = &so->lists[so->nlists];

	if (listNo == (uint32) FunnelNullList(&so->meta))
		so->nullNext = list->head;
	if (listNo == (uint32) FunnelNullList(&so->meta) || list->head == InvalidBlockNumber)
		return;
	l->bound = so->ordered && !closeness ? FunnelListBound(&so->q, list) : 0;
	l->closeness = closeness ? FunnelListCloseness(&so->q, list) : 0;
	l->head = list->head;
	l->listNo = listNo;
	l->opened = false;
	so->nlists++;
}

/*
 * ListBounds' visitor: set the bound of a list the scan loaded; pos holds
 * each list number's place in so->lists, -1 for one not loaded (a list
 * empty when loaded may have rows by now: it is not opened).
 */
static void
SetBound(FunnelScanOpaque so, uint32 listNo, const FunnelList *list, void *pos)
{
	if (listNo < so->meta.nlists && ((int *) pos)[listNo] >= 0)
		so->lists[((int *) pos)[listNo]].bound = FunnelListBound(&so->q, list);
}

/*
 * Approximate mode: set the bound of every list loaded, when a round first
 * needs them.  A bound costs a distance in double precision: on 2,000
 * lists, 8% of a top-10 query at 4M rows, which needs none.
 */
static void
ListBounds(IndexScanDesc scan, FunnelScanOpaque so)
{
	int		   *pos = palloc(sizeof(int) * so->meta.nlists);

	memset(pos, -1, sizeof(int) * so->meta.nlists);
	for (int i = 0; i < so->nlists; i++)
		pos[so->lists[i].listNo] = i;
	WalkDirectory(scan, so, SetBound, pos);
	pfree(pos);
	so->bounded = true;
}

/*
 * Every non-empty list in opening order: by bound in exact mode, by
 * centroid distance in approximate mode (the bounds left for ListBounds);
 * note where the NULL list begins.
 */
static void
LoadLists(IndexScanDesc scan, FunnelScanOpaque so)
{
	MemoryContext old = MemoryContextSwitchTo(so->queryCtx);
	bool		by_closeness = so->ordered && !so->exact;

	so->lists = palloc(sizeof(FunnelListRef) * so->meta.nlists);
	WalkDirectory(scan, so, AddList, &by_closeness);
	SortLists(so->lists, so->nlists, &by_closeness);
	MemoryContextSwitchTo(old);
	so->loaded = true;
	so->bounded = !by_closeness;
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

/*
 * Exact mode, or no query: push a page's entries with their bounds (raised
 * to the list's), or key 0.
 */
static void
PushBounded(FunnelScanOpaque so, Page page, int n, double listBound)
{
	for (int i = 0; i < n; i++)
	{
		FunnelEntry *e = FunnelPageGetEntry(page, i, so->meta.entrySize);
		FunnelCandidate c;

		c.tid = e->heapPtr;
		c.key = so->ordered ? Max(FunnelBound(&so->q, e), listBound) : 0;
		HeapPush(&so->pending, c, so->queryCtx);
	}
}

/* Approximate mode: keep the `need` best estimates of front, the rest go to back. */
static void
TrimFront(FunnelScanOpaque so, int64 need)
{
	SelectSmallest(so->front.items, so->front.n, need);
	EstimatedReserve(&so->back, so->front.n - need, so->queryCtx);
	memcpy(so->back.items + so->back.n, so->front.items + need,
		   sizeof(FunnelEstimated) * (so->front.n - need));
	so->back.n += so->front.n - need;
	so->front.n = need;
}

/*
 * Approximate mode: estimate a page's entries, keeping those below the
 * running threshold in front (and, when it holds twice the round's share,
 * the better half of it, the rest going back) and the others in back.
 */
static void
AddEstimated(FunnelScanOpaque so, Page page, int n, int64 need)
{
	float		est[FUNNEL_MAX_PAGE_ENTRIES];

	FunnelEstimateEntries(&so->q, PageGetContents(page), n, so->meta.entrySize, est);
	EstimatedReserve(&so->back, n, so->queryCtx);
	EstimatedReserve(&so->front, n, so->queryCtx);
	for (int i = 0; i < n; i++)
	{
		EstimatedArray *a = est[i] < so->thr ? &so->front : &so->back;

		a->items[a->n].est = est[i];
		a->items[a->n].tid = FunnelPageGetEntry(page, i, so->meta.entrySize)->heapPtr;
		a->n++;
	}
	if (so->front.n >= 2 * need)
	{
		TrimFront(so, need);
		so->thr = so->front.items[0].est;
		for (int64 i = 1; i < need; i++)
			so->thr = Max(so->thr, so->front.items[i].est);
	}
}

/* Sweep: append a page's heap pointers to the chunk to sweep. */
static void
AppendTids(FunnelScanOpaque so, Page page, int n)
{
	if (so->ntids + n > so->tidsCap)
	{
		so->tidsCap = Max(Max(1024, so->tidsCap * 2), so->ntids + n);
		so->tids = so->tids ?
			repalloc_huge(so->tids, sizeof(ItemPointerData) * so->tidsCap) :
			MemoryContextAllocHuge(so->queryCtx, sizeof(ItemPointerData) * so->tidsCap);
	}
	for (int i = 0; i < n; i++)
		so->tids[so->ntids++] = FunnelPageGetEntry(page, i, so->meta.entrySize)->heapPtr;
}

/*
 * Read every entry of a list (its page chain): pushed with its bound in
 * exact mode, its heap pointer kept in a sweep, estimated into the round's
 * arrays in approximate mode.
 */
static void
OpenList(IndexScanDesc scan, FunnelScanOpaque so, const FunnelListRef *list, int64 need)
{
	Relation	index = scan->indexRelation;
	Buffer		buf = ReadBuffer(index, list->head);
	uint32		prevSeq = 0;
	int64		opened = 0;

	for (;;)
	{
		Page		page;
		BlockNumber next;
		Buffer		nextBuf = InvalidBuffer;
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
		prevSeq = FunnelPageGetOpaque(page)->seq;
		next = FunnelPageGetOpaque(page)->next;

		/*
		 * Pin the next page of the chain and have the CPU fetch it while
		 * this one is read (every fourth line, which sets the hardware's
		 * own prefetching going, and the special space read first): a page
		 * not in the CPU's caches stalled the first reads of each page.
		 */
		if (next != InvalidBlockNumber)
		{
			char	   *p;

			nextBuf = ReadBuffer(index, next);
			p = (char *) BufferGetPage(nextBuf);
			for (int off = 0; off < BLCKSZ; off += 256)
				__builtin_prefetch(p + off);
			__builtin_prefetch(PageGetSpecialPointer((Page) p));
		}
		if (so->sweep)
			AppendTids(so, page, n);
		else if (so->ordered && !so->exact)
			AddEstimated(so, page, n, need);
		else
			PushBounded(so, page, n, list->bound);
		opened += n;
		UnlockReleaseBuffer(buf);
		if (nextBuf == InvalidBuffer)
			break;
		buf = nextBuf;
	}
	pgstat_count_index_tuples(index, opened);
}

/*
 * Exact mode: the smallest pending key, after opening every list whose
 * bound could hold a smaller one; +infinity when no candidate is left.
 */
static double
NextBound(IndexScanDesc scan, FunnelScanOpaque so)
{
	while (so->nextList < so->nlists &&
		   (so->pending.n == 0 || so->lists[so->nextList].bound <= so->pending.items[0].key))
		OpenList(scan, so, &so->lists[so->nextList++], 0);
	return so->pending.n > 0 ? so->pending.items[0].key : get_float8_infinity();
}

/* Begin fetching heap rows, in the scan's context. */
static void
BeginFetch(IndexScanDesc scan, FunnelScanOpaque so)
{
	MemoryContext old = MemoryContextSwitchTo(so->scanCtx);

	so->fetch = table_index_fetch_begin(scan->heapRelation);
	so->slot = table_slot_create(scan->heapRelation, NULL);
	if (so->estate)
		GetPerTupleExprContext(so->estate)->ecxt_scantuple = so->slot;
	MemoryContextSwitchTo(old);
}

/*
 * Fetch the row of an index entry with the scan's snapshot and set *dist to
 * the distance of its indexed value (the column, or the index's expression
 * evaluated on the row) to the query; NaN, a zero vector under cosine, is
 * +infinity, which sorts last.  False if the row is invisible or the value
 * NULL.  The fetch follows a HOT chain and overwrites the TID it is given
 * with the member it found; the executor must get the chain's root, the
 * TID the index holds, so the fetch gets a copy.
 */
static bool
FetchDistance(IndexScanDesc scan, FunnelScanOpaque so, ItemPointer tid, double *dist)
{
	ItemPointerData member = *tid;
	bool		call_again = false,
				all_dead = false,
				isnull = true,
				found;
	Datum		value;
	MemoryContext old;

	if (so->fetch == NULL)
		BeginFetch(scan, so);
	old = MemoryContextSwitchTo(so->rerankCtx);
	found = table_index_fetch_tuple(so->fetch, &member, scan->xs_snapshot, so->slot,
									&call_again, &all_dead);
	if (found)
	{
		if (so->indexInfo)
			FormIndexDatum(so->indexInfo, so->slot, so->estate, &value, &isnull);
		else
			value = slot_getattr(so->slot, so->heapAttno, &isnull);
		if (!isnull)
		{
			double		d = DatumGetFloat8(FunctionCall2Coll(so->distance,
															 scan->indexRelation->rd_indcollation[0],
															 value, so->query));

			*dist = isnan(d) ? get_float8_infinity() : d;
		}
		ExecClearTuple(so->slot);
	}
	MemoryContextSwitchTo(old);
	/* a detoasted 3072-dim row is 12 kB: do not let them pile up */
	MemoryContextReset(so->rerankCtx);
	if (so->estate)
		ResetPerTupleExprContext(so->estate);
	return found && !isnull;
}

/*
 * Approximate mode: queue a candidate's row by its true distance, and note
 * the distance; invisible rows are dropped.
 */
static void
Rerank(IndexScanDesc scan, FunnelScanOpaque so, ItemPointer tid)
{
	FunnelCandidate c;

	CHECK_FOR_INTERRUPTS();
	if (!FetchDistance(scan, so, tid, &c.key))
		return;
	c.tid = *tid;
	HeapPush(&so->reranked, c, so->queryCtx);
	if (so->ndists == so->distsCap)
	{
		so->distsCap = Max(256, so->distsCap * 2);
		so->dists = so->dists ?
			repalloc_huge(so->dists, sizeof(double) * so->distsCap) :
			MemoryContextAllocHuge(so->queryCtx, sizeof(double) * so->distsCap);
	}
	so->dists[so->ndists++] = c.key;
}

/* qsort order of estimated entries by heap TID, so reranks walk the heap in order */
static int
CompareByTid(const void *a, const void *b)
{
	return ItemPointerCompare((ItemPointer) &((const FunnelEstimated *) a)->tid,
							  (ItemPointer) &((const FunnelEstimated *) b)->tid);
}

/* qsort order of doubles */
static int
CompareDoubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Approximate mode: read list i (of the opening order) unless read already. */
static void
OpenOnce(IndexScanDesc scan, FunnelScanOpaque so, int i, int64 need)
{
	if (so->lists[i].opened)
		return;
	so->lists[i].opened = true;
	so->nopened++;
	OpenList(scan, so, &so->lists[i], need);
	while (so->nextList < so->nlists && so->lists[so->nextList].opened)
		so->nextList++;
}

/*
 * Approximate mode: move the `need` entries of back with the smallest
 * estimates to front, which becomes this round's selection, under the
 * threshold of the worst of them (all of back, and no threshold, if it
 * holds no more).
 */
static void
TakeBest(FunnelScanOpaque so, int64 need)
{
	so->front.n = 0;
	so->thr = get_float4_infinity();
	if (so->back.n > need)
	{
		SelectSmallest(so->back.items, so->back.n, need);
		EstimatedReserve(&so->front, need, so->queryCtx);
		memcpy(so->front.items, so->back.items, sizeof(FunnelEstimated) * need);
		memmove(so->back.items, so->back.items + need,
				sizeof(FunnelEstimated) * (so->back.n - need));
		so->front.n = need;
		so->back.n -= need;
		so->thr = so->front.items[0].est;
		for (int64 i = 1; i < need; i++)
			so->thr = Max(so->thr, so->front.items[i].est);
	}
	else
	{
		FunnelEstimated *t = so->front.items;
		int64		cap = so->front.cap;

		/* all of back moves to front: swap the arrays */
		so->front = so->back;
		so->back.items = t;
		so->back.cap = cap;
		so->back.n = 0;
	}
}

/*
 * Reranks look up a row's page this many rows ahead, and have the CPU fetch
 * its tuple half as many ahead.
 */
#define FUNNEL_RERANK_AHEAD 16

/*
 * Look up the page of a row about to be reranked (without pinning it; a
 * page not in shared buffers is prefetched from the kernel) and have the
 * CPU fetch its buffer header, page header and line pointer: each rerank
 * touches these first, and at millions of rows none is in the CPU's caches.
 * The buffer found, or InvalidBuffer.
 */
static Buffer
PrefetchRowPage(IndexScanDesc scan, ItemPointer tid)
{
	PrefetchBufferResult r = PrefetchBuffer(scan->heapRelation, MAIN_FORKNUM,
											ItemPointerGetBlockNumber(tid));
	Page		page;

	if (!BufferIsValid(r.recent_buffer) || BufferIsLocal(r.recent_buffer))
		return InvalidBuffer;
	page = BufferGetPage(r.recent_buffer);
	__builtin_prefetch(GetBufferDescriptor(r.recent_buffer - 1));
	__builtin_prefetch(page);
	__builtin_prefetch(PageGetItemId(page, ItemPointerGetOffsetNumber(tid)));
	return r.recent_buffer;
}

/*
 * Have the CPU fetch the start of a row's tuple, on the page PrefetchRowPage
 * found (its line pointer read unlocked, as a hint only: an offset beyond
 * the page is ignored).
 */
static void
PrefetchRowTuple(Buffer buf, ItemPointer tid)
{
	Page		page;
	ItemId		lp;

	if (!BufferIsValid(buf))
		return;
	page = BufferGetPage(buf);
	lp = PageGetItemId(page, ItemPointerGetOffsetNumber(tid));
	if (ItemIdIsNormal(lp) && ItemIdGetOffset(lp) < BLCKSZ - 4 * 64)
		for (int line = 0; line < 4; line++)
			__builtin_prefetch((char *) page + ItemIdGetOffset(lp) + 64 * line);
}

/*
 * Approximate mode: rerank the entries of front (in heap order), and empty
 * it; the pages of the rows ahead are looked up, and their tuples fetched
 * into the CPU's caches, while the current one is reranked.
 */
static void
RerankFront(IndexScanDesc scan, FunnelScanOpaque so)
{
	Buffer		ahead[FUNNEL_RERANK_AHEAD];
	FunnelEstimated *rows = so->front.items;
	int64		n = so->front.n;

	/* only a heap's TIDs name its blocks */
	bool		heap = scan->heapRelation->rd_tableam == GetHeapamTableAmRoutine();

	qsort(rows, n, sizeof(FunnelEstimated), CompareByTid);
	for (int64 i = heap ? -FUNNEL_RERANK_AHEAD : 0; i < n; i++)
	{
		int64		page = i + FUNNEL_RERANK_AHEAD,
					tuple = i + FUNNEL_RERANK_AHEAD / 2;

		if (heap && page < n)
			ahead[page % FUNNEL_RERANK_AHEAD] = PrefetchRowPage(scan, &rows[page].tid);
		if (heap && tuple >= 0 && tuple < n)
			PrefetchRowTuple(ahead[tuple % FUNNEL_RERANK_AHEAD], &rows[tuple].tid);
		if (i >= 0)
			Rerank(scan, so, &rows[i].tid);
	}
	so->ntaken += n;
	so->front.n = 0;
}

/*
 * Approximate mode: whether a list not read yet could hold a row nearer
 * than d, by its bound; if so, read every such list, and rerank those of
 * their entries under the round's threshold.
 */
static bool
OpenListsBelow(IndexScanDesc scan, FunnelScanOpaque so, double d, int64 need)
{
	bool		any = false;

	if (!so->bounded)
		ListBounds(scan, so);
	for (int i = so->nextList; i < so->nlists; i++)
		if (!so->lists[i].opened && so->lists[i].bound < d)
		{
			OpenOnce(scan, so, i, need);
			any = true;
		}
	if (any)
		RerankFront(scan, so);
	return any;
}

/*
 * Approximate mode: the rank-th smallest distance reranked so far (the
 * largest, if fewer; -infinity if none).
 */
static double
RerankedDistance(FunnelScanOpaque so, int64 rank)
{
	if (so->ndists == 0)
		return -get_float8_infinity();
	qsort(so->dists, so->ndists, sizeof(double), CompareDoubles);
	return so->dists[Min(rank, so->ndists) - 1];
}

/*
 * Approximate mode: take the `need` best estimates not reranked yet (those
 * of the lists opened so far, and of the lists opened now, up to `probes`
 * or, if none of them has an entry left, until one has), and rerank them.
 */
static void
ReadAndRerank(IndexScanDesc scan, FunnelScanOpaque so, int probes, int64 need)
{
	TakeBest(so, need);
	while (so->nopened < so->nlists && (so->nopened < probes || so->front.n == 0))
		OpenOnce(scan, so, so->nextList, need);
	if (so->front.n > need)
		TrimFront(so, need);
	RerankFront(scan, so);
}

/* Approximate mode: the 10th smallest distance reranked; +infinity if fewer. */
static double
TenthReranked(FunnelScanOpaque so)
{
	return so->ndists < FUNNEL_ROUND_K ? get_float8_infinity() :
		RerankedDistance(so, FUNNEL_ROUND_K);
}

/*
 * Approximate mode, round 0 at the calibrated settings (neither
 * mrl.funnel_probes nor mrl.funnel_shortlist set) of a query unlike the
 * rows: the 10th nearest distance it reranked is beyond the build's
 * farDistance, which 99% of the rows sampled as queries stay within.  The
 * calibration fits those rows, not this query, whose nearest rows lie in
 * more lists and rank worse by estimate (100,000 synthetic Matryoshka rows
 * queried around other centres: recall@10 0.56 at the calibrated 5 lists
 * and shortlist 61, 0.98 at 40 lists and 400).  So widen both until a
 * widening finds no row nearer than the 10th, the 10th comes within
 * farDistance, or every list is open and every entry reranked.  The first
 * widening quadruples them, the next ones double them: a first doubling
 * found nothing for a quarter of those queries while most of their top 10
 * was still missing (recall 0.955 in all, 0.986 so).  Indexes built before
 * version 6 have no farDistance and never widen.
 */
static void
WidenFarQuery(IndexScanDesc scan, FunnelScanOpaque so, int probes, int64 shortlist)
{
	double		first = TenthReranked(so),
				kth = first;
	int			growth = 4;

	if (so->meta.version < 6 || so->meta.calibratedProbes <= 0 ||
		funnel_probes > 0 || funnel_shortlist > 0 || !(first > so->meta.farDistance))
		return;
	while (kth > so->meta.farDistance && !(so->nopened >= so->nlists && so->back.n == 0))
	{
		double		before = kth;

		probes = (int) Min((int64) probes * growth, so->nlists);
		shortlist *= growth;
		growth = 2;
		ReadAndRerank(scan, so, probes, Max(1, shortlist - so->ntaken));
		kth = TenthReranked(so);
		if (!(kth < before))
			break;
	}
	elog(DEBUG1, "funnel index \"%s\": the 10th nearest row at %g, beyond the sampled rows' %g: widened to %d lists and %lld reranks, 10th nearest now %g",
		 RelationGetRelationName(scan->indexRelation), first, so->meta.farDistance,
		 so->nopened, (long long) so->ntaken, kth);
}

/*
 * Approximate mode, round r, which aims at the first 10 * 2^r rows: open
 * the lists it adds, rerank the next best entries by estimate among all
 * opened lists (as many as FunnelRoundSettings gives for that many rows, in
 * all; round 0 of a far query more: WidenFarQuery), and raise the
 * frontier to the 10th smallest distance reranked in round 0, to the
 * (10 * 2^(r-1))th in later ones: a row found near the
 * frontier of round r is checked by the deeper round r + 1 before it is
 * returned, so strict order seldom skips one (on 250,000 real sentences,
 * recall@10 under a filter keeping 10% of rows went from 0.933 to 0.962).
 * From round 1 on, a list not read yet whose bound is below the frontier
 * is read too, and the frontier taken again: past the rows the calibration
 * measured (the nearest 100), a round could otherwise return far rows of
 * the lists it opened before nearer ones of lists it did not (on 3,000
 * clustered rows, a scan without LIMIT returned 321 rows).  Every row,
 * when nothing is left to open or rerank.
 */
static void
NextRound(IndexScanDesc scan, FunnelScanOpaque so)
{
	int			r = so->round++;
	double		aim = ldexp(FUNNEL_ROUND_K, Min(r, 60));
	int64		rank = (int64) (r == 0 ? aim : aim / 2);
	int			probes;
	int64		target,
				need;
	double		frontier;

	FunnelRoundSettings(&so->meta, aim, &probes, &target);
	/* past round 0, at least two reranks for each row aimed at */
	if (r > 0)
		target = Max(target, (int64) (2 * aim));
	need = Max(1, target - so->ntaken);
	ReadAndRerank(scan, so, probes, need);
	if (r == 0)
		WidenFarQuery(scan, so, probes, target);

	do
		frontier = RerankedDistance(so, rank);
	while (r > 0 && OpenListsBelow(scan, so, frontier, need));

	so->exhausted = so->nopened >= so->nlists && so->back.n == 0;
	so->frontier = so->exhausted ? get_float8_infinity() : Max(so->frontier, frontier);
}

/* ---------- sweeps: exact mode where bounds cannot prune ---------- */

/* qsort order of a sweep */
static int
CompareSwept(const void *a, const void *b)
{
	if (SweepAfter(a, b))
		return 1;
	return SweepAfter(b, a) ? -1 : 0;
}

/*
 * Keep c if it is among the topCap first of the pass so far: top is a
 * max-heap of them, whose root is the one a better row evicts.
 */
static void
SweepOffer(FunnelScanOpaque so, FunnelCandidate c)
{
	if (so->ntop < so->topCap)
		SiftUp(so->top, so->ntop++, c, SweepAfter);
	else if (SweepAfter(&so->top[0], &c))
	{
		so->top[0] = c;
		SiftDown(so->top, so->ntop, 0, SweepAfter);
	}
}

/*
 * Sort heap pointers by block, so their rows are fetched in heap order:
 * a least-significant-digit radix sort, 16 bits of the block a pass (one
 * pass below 65,536 blocks); the order within a block does not matter.
 */
static void
SortByBlock(ItemPointerData *tids, int64 n, MemoryContext ctx)
{
	ItemPointerData *src = tids,
			   *dst = MemoryContextAllocHuge(ctx, sizeof(ItemPointerData) * Max(n, 1)),
			   *tmp = dst;
	int64	   *count = MemoryContextAlloc(ctx, sizeof(int64) * 65536);
	BlockNumber maxBlock = 0;

	for (int64 i = 0; i < n; i++)
		maxBlock = Max(maxBlock, ItemPointerGetBlockNumberNoCheck(&tids[i]));
	for (int shift = 0; shift < 32 && (shift == 0 || (maxBlock >> shift) != 0); shift += 16)
	{
		int64		sum = 0;
		ItemPointerData *t;

		memset(count, 0, sizeof(int64) * 65536);
		for (int64 i = 0; i < n; i++)
			count[(ItemPointerGetBlockNumberNoCheck(&src[i]) >> shift) & 0xFFFF]++;
		for (int b = 0; b < 65536; b++)
		{
			int64		c = count[b];

			count[b] = sum;
			sum += c;
		}
		for (int64 i = 0; i < n; i++)
			dst[count[(ItemPointerGetBlockNumberNoCheck(&src[i]) >> shift) & 0xFFFF]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != tids)
		memcpy(tids, src, sizeof(ItemPointerData) * n);
	pfree(tmp);
	pfree(count);
}

/* Fetch the chunk's rows in heap order, offering those after `after`. */
static void
SweepChunk(IndexScanDesc scan, FunnelScanOpaque so)
{
	SortByBlock(so->tids, so->ntids, so->queryCtx);
	for (int64 i = 0; i < so->ntids; i++)
	{
		FunnelCandidate c;

		CHECK_FOR_INTERRUPTS();
		if (!FetchDistance(scan, so, &so->tids[i], &c.key))
			continue;
		c.tid = so->tids[i];
		if (!so->hasAfter || SweepAfter(&c, &so->after))
			SweepOffer(so, c);
	}
	so->ntids = 0;
}

/*
 * One pass of a sweep: every list's heap pointers, a chunk of work_mem at a
 * time, their rows fetched in heap order; the pass keeps the nearest rows
 * after those returned already (FUNNEL_SWEEP_FIRST in the first pass, 8
 * times as many in each next one, within work_mem), sorted, to be returned
 * next.  Fewer than it could keep means no row is left after them.
 */
static void
SweepPass(IndexScanDesc scan, FunnelScanOpaque so)
{
	int64		chunk = Max(1024, (int64) work_mem * 1024 / (int64) sizeof(ItemPointerData));
	int64		maxTop = Max(FUNNEL_SWEEP_FIRST,
							 (int64) work_mem * 1024 / (int64) sizeof(FunnelCandidate));

	so->topCap = so->topCap == 0 ? FUNNEL_SWEEP_FIRST : Min(so->topCap * 8, maxTop);
	if (so->top)
		pfree(so->top);
	so->top = MemoryContextAllocHuge(so->queryCtx, sizeof(FunnelCandidate) * so->topCap);
	so->ntop = so->topPos = 0;
	for (int l = 0; l < so->nlists; l++)
	{
		OpenList(scan, so, &so->lists[l], 0);
		if (so->ntids >= chunk)
			SweepChunk(scan, so);
	}
	SweepChunk(scan, so);
	qsort(so->top, so->ntop, sizeof(FunnelCandidate), CompareSwept);
	so->swept = so->ntop < so->topCap;
	elog(DEBUG1, "funnel index \"%s\": exact scan swept the heap for up to %lld rows, kept %lld",
		 RelationGetRelationName(scan->indexRelation), (long long) so->topCap,
		 (long long) so->ntop);
	if (so->ntop > 0)
	{
		so->after = so->top[so->ntop - 1];
		so->hasAfter = true;
	}
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

/*
 * Approximate mode: the nearest reranked row within the frontier, after
 * as many rounds as that takes; rows no nearer than one returned already
 * are skipped in strict order.  False when every row has been returned.
 */
static bool
NextApproximate(IndexScanDesc scan, FunnelScanOpaque so, FunnelCandidate *c)
{
	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		if (so->reranked.n > 0 && so->reranked.items[0].key <= so->frontier)
		{
			*c = HeapPop(&so->reranked);
			if (so->strictOrder && c->key < so->lastReturned)
				continue;
			so->lastReturned = Max(so->lastReturned, c->key);
			return true;
		}
		if (so->exhausted)
			return false;
		NextRound(scan, so);
	}
}

/* amgettuple: the next row, lazily. */
bool
funnelgettuple(IndexScanDesc scan, ScanDirection dir)
{
	FunnelScanOpaque so = (FunnelScanOpaque) scan->opaque;
	FunnelCandidate c;

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

	/* a sweep: the rows of each pass, then the NULL rows */
	if (so->sweep)
	{
		while (so->topPos >= so->ntop && !so->swept)
			SweepPass(scan, so);
		if (so->topPos < so->ntop)
			return ReturnCandidate(scan, so->top[so->topPos++], true, false);
		return ReturnNull(scan, so);
	}

	/* no query (all keys 0, list by list) or exact mode: by bound */
	if (!so->ordered || so->exact)
	{
		(void) NextBound(scan, so);
		if (so->pending.n == 0)
			return ReturnNull(scan, so);
		return ReturnCandidate(scan, HeapPop(&so->pending), so->ordered, so->ordered);
	}
	if (NextApproximate(scan, so, &c))
		return ReturnCandidate(scan, c, true, false);
	return ReturnNull(scan, so);
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
	if (so->estate)
		FreeExecutorState(so->estate);
	MemoryContextDelete(so->queryCtx);
	MemoryContextDelete(so->rerankCtx);
	pfree(so);
	scan->opaque = NULL;
}
