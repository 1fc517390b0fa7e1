/*
 * funnelcalibrate.c: the build's calibration of approximate scans: how many
 * lists (probes) and reranks (shortlist) a scan needs on this data for its
 * first 10 rows, and for its first 100.
 *
 * How far an approximate scan must read depends on the vectors, not on the
 * index's size: on Matryoshka-structured data a few lists and a few dozen
 * reranks find every true neighbour; on the built-in model's real-text
 * vectors the nearest rows spread over a third of the lists.  A fixed
 * default is wrong for one or the other, so the build measures it.  Pass 1
 * keeps a uniform sample of rows as queries; pass 2 compares every row with
 * each of them on the full vector and keeps each query's true top 100 (its
 * own row excluded); then every entry of the index is estimated against
 * every query, as a scan would, which tells for each true neighbour in
 * which list (by centroid distance) it lies and how many candidates of the
 * lists up to it rank before it.  For the top 10 and the top 100, the
 * cheapest (probes, shortlist) pair whose mean recall reaches
 * FUNNEL_CALIBRATION_RECALL goes into the metapage.  mrl.funnel_probes and
 * mrl.funnel_shortlist at 0 (their defaults) mean the first pair; later
 * rounds of a scan, which want more rows (a larger LIMIT, or a WHERE clause
 * rejecting rows), grow toward and beyond the second (FunnelRoundSettings).
 * The build also records how far the sampled queries' 10th nearest rows
 * are (farDistance, the 99th percentile): a query whose own 10th is
 * farther is unlike the rows this calibration fits, and its scan widens.
 * When the probes needed for the top 10 exceed half the lists, the build
 * warns: the index then costs nearly a scan of itself per query.
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "distance.h"
#include "funnel.h"
#include "miscadmin.h"
#include "mvector.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/*
 * Sampled queries: as many as keep the multiply-adds of pass 2's
 * comparisons (rows x queries x dims) within FUNNEL_CALIBRATION_WORK (50
 * million rows x queries at 256 dims), between 200 and 500 (fewer only when
 * the table has fewer rows).
 */
#define FUNNEL_CALIBRATION_QUERIES	500
#define FUNNEL_CALIBRATION_MIN_QUERIES	200
#define FUNNEL_CALIBRATION_WORK		12.8e9
/* neighbours kept per query: the deeper of the two depths calibrated */
#define FUNNEL_CALIBRATION_NEAR		FUNNEL_DEEP_K
/* probe counts tried, at most (ProbeGrid) */
#define FUNNEL_CALIBRATION_GRID		128
/* recall to reach on the sample: a margin over the 0.95 promised */
#define FUNNEL_CALIBRATION_RECALL	0.965
/* entries estimated for all queries together, at most (a sample of the pages beyond) */
#define FUNNEL_CALIBRATION_ESTIMATES	20000000.0
/* the sampled queries' 10th nearest distance recorded: this quantile of them */
#define FUNNEL_FAR_SHARE			0.99
/* the build warns when a scan must rerank more than this many rows and 1% of them */
#define FUNNEL_POOR_RANKING_ROWS	1000
/* a rerank (heap fetch and full distance) costs as much as estimating this many entries */
#define FUNNEL_RERANK_ENTRIES		100

/*
 * One sampled query: its row, and its true nearest rows by the full
 * distance, with their entries and lists (slot[i] holds the i-th nearest).
 */
typedef struct CalibrationQuery
{
	ItemPointerData tid;		/* its own row, never its own neighbour */
	float	   *x;				/* its elements */
	int			dim;
	int			nnear;
	float		nearDist[FUNNEL_CALIBRATION_NEAR];	/* ascending */
	int			nearSlot[FUNNEL_CALIBRATION_NEAR];
	int			slotList[FUNNEL_CALIBRATION_NEAR];
	char	   *slotEntries;	/* entrySize bytes apart */
} CalibrationQuery;

struct FunnelCalibration
{
	MemoryContext ctx;
	FunnelMetric metric;
	int			entrySize;
	int64		seen;			/* rows offered in pass 1 */
	bool		trimmed;		/* queries cut to the table's size (pass 2) */
	int			nqueries;
	CalibrationQuery queries[FUNNEL_CALIBRATION_QUERIES];
	pg_prng_state prng;
};

/* Start a calibration for an index of these options. */
FunnelCalibration *
FunnelCalibrationBegin(const FunnelMetaPageData *meta, FunnelMetric metric)
{
	MemoryContext ctx = AllocSetContextCreate(CurrentMemoryContext, "funnel calibration",
											  ALLOCSET_DEFAULT_SIZES);
	FunnelCalibration *cal = MemoryContextAllocZero(ctx, sizeof(FunnelCalibration));

	cal->ctx = ctx;
	cal->metric = metric;
	cal->entrySize = meta->entrySize;
	pg_prng_seed(&cal->prng, 0x43616C6962ULL);
	return cal;
}

/*
 * Pass 1: offer a row as a query (reservoir sampling, so every row is kept
 * with the same probability).  Queries hold at most an eighth of
 * maintenance_work_mem.
 */
void
FunnelCalibrationOffer(FunnelCalibration *cal, ItemPointer tid, const float *x, int dim)
{
	int			cap = (int) Min(FUNNEL_CALIBRATION_QUERIES,
								(Size) maintenance_work_mem * 1024 / 8 / (sizeof(float) * dim + 16));
	int64		slot;
	CalibrationQuery *q;

	cal->seen++;
	slot = cal->nqueries < cap ? cal->nqueries++ :
		(int64) pg_prng_uint64_range(&cal->prng, 0, cal->seen - 1);
	if (slot >= cap)
		return;
	q = &cal->queries[slot];
	if (q->x)
		pfree(q->x);
	q->x = MemoryContextAlloc(cal->ctx, sizeof(float) * dim);
	memcpy(q->x, x, sizeof(float) * dim);
	q->dim = dim;
	q->tid = *tid;
}

/*
 * The distance the opclass orders by, for ranking only: cosine and inner
 * product as 1 - and minus the dot product (the query's norm is left out,
 * which keeps the order), L2 squared, L1 as it is.  NaN for a zero row
 * under cosine.
 */
static float
RankingDistance(FunnelMetric metric, const float *q, const float *x, int dim, double xnorm)
{
	switch (metric)
	{
		case FUNNEL_L2:
			return mrl_kernels.l2sq(q, x, dim);
		case FUNNEL_IP:
			return -mrl_kernels.dot(q, x, dim);
		case FUNNEL_COSINE:
			return xnorm > 0 ? (float) (1 - mrl_kernels.dot(q, x, dim) / xnorm) : NAN;
		case FUNNEL_L1:
			return mrl_kernels.l1(q, x, dim);
	}
	return NAN;
}

/*
 * Whether a row at distance d with heap pointer tid is nearer to query q
 * than its r-th nearest: by distance, equal distances by heap pointer.  A
 * total order, so the rows kept do not depend on the order they come in: a
 * serial build offers them in heap order, a parallel one merges each
 * participant's share, and which blocks a participant scans depends on
 * timing.  Both keep the same nearest rows (those of smallest heap pointer
 * among equal distances, as a serial build always did).
 */
static bool
NearerThan(const FunnelCalibration *cal, const CalibrationQuery *q, int r, float d,
		   const ItemPointerData *tid)
{
	FunnelEntry *kept;

	if (d != q->nearDist[r])
		return d < q->nearDist[r];
	kept = (FunnelEntry *) (q->slotEntries + (Size) q->nearSlot[r] * cal->entrySize);
	return ItemPointerCompare((ItemPointer) tid, &kept->heapPtr) < 0;
}

/* Whether a row at distance d with heap pointer tid belongs among q's nearest. */
static bool
QualifiesNear(const FunnelCalibration *cal, const CalibrationQuery *q, float d,
			  const ItemPointerData *tid)
{
	return q->nnear < FUNNEL_CALIBRATION_NEAR ||
		NearerThan(cal, q, FUNNEL_CALIBRATION_NEAR - 1, d, tid);
}

/* Keep a row among query q's nearest, by distance d (it must qualify). */
static void
KeepNear(FunnelCalibration *cal, CalibrationQuery *q, float d, const FunnelEntry *entry,
		 int listNo)
{
	int			pos = Min(q->nnear, FUNNEL_CALIBRATION_NEAR - 1);
	int			slot = q->nnear < FUNNEL_CALIBRATION_NEAR ? q->nnear : q->nearSlot[pos];

	if (q->slotEntries == NULL)
		q->slotEntries = MemoryContextAlloc(cal->ctx,
											(Size) cal->entrySize * FUNNEL_CALIBRATION_NEAR);
	while (pos > 0 && NearerThan(cal, q, pos - 1, d, &entry->heapPtr))
	{
		q->nearDist[pos] = q->nearDist[pos - 1];
		q->nearSlot[pos] = q->nearSlot[pos - 1];
		pos--;
	}
	q->nearDist[pos] = d;
	q->nearSlot[pos] = slot;
	q->slotList[slot] = listNo;
	memcpy(q->slotEntries + (Size) slot * cal->entrySize, entry, cal->entrySize);
	q->nnear = Min(q->nnear + 1, FUNNEL_CALIBRATION_NEAR);
}

/*
 * Before pass 2, keep as many queries as its comparisons' budget allows for
 * the rows pass 1 saw (at the size of the first query's vectors): the first
 * slots of a uniform sample are a uniform sample too.
 */
static void
TrimQueries(FunnelCalibration *cal)
{
	if (cal->trimmed || cal->nqueries == 0)
		return;
	cal->nqueries = Min(cal->nqueries,
						Max(FUNNEL_CALIBRATION_MIN_QUERIES,
							(int) (FUNNEL_CALIBRATION_WORK / Max(cal->seen, 1) /
								   cal->queries[0].dim)));
	cal->trimmed = true;
}

/*
 * Pass 2: compare an indexed row (its vector, entry and list) with every
 * query of its size, keeping each query's nearest with their entries.
 */
void
FunnelCalibrationAdd(FunnelCalibration *cal, Datum value, ItemPointer tid,
					 const FunnelEntry *entry, int listNo)
{
	int			dim;
	const float *x = FunnelDatumFloats(value, &dim);
	double		xnorm = cal->metric == FUNNEL_COSINE ? MrlNorm(x, dim) : 0;

	TrimQueries(cal);
	for (int i = 0; i < cal->nqueries; i++)
	{
		CalibrationQuery *q = &cal->queries[i];
		float		d;

		if (q->dim != dim || ItemPointerEquals(&q->tid, tid))
			continue;
		d = RankingDistance(cal->metric, q->x, x, dim, xnorm);
		if (!isnan(d) && QualifiesNear(cal, q, d, tid))
			KeepNear(cal, q, d, entry, listNo);
	}
}

/* What the analysis knows of one sampled query. */
typedef struct QueryAnalysis
{
	CalibrationQuery *query;
	FunnelQuery fq;
	int		   *bucketOfList;	/* by list number: probes bucket, -1 if empty */
	int			nnear;
	/* its neighbours by estimate, ascending: estimate, distance rank, bucket */
	float		nearEst[FUNNEL_CALIBRATION_NEAR];
	int			nearRank[FUNNEL_CALIBRATION_NEAR];
	int			nearBucket[FUNNEL_CALIBRATION_NEAR];
	double		entries[FUNNEL_CALIBRATION_GRID];	/* entries in each bucket */

	/*
	 * rank[i][b]: entries of buckets <= b estimated below the i-th neighbour
	 * (first counted by the entries' j, the neighbours they do not beat;
	 * then summed), each page read counting for the pages it stands for
	 */
	float		rank[FUNNEL_CALIBRATION_NEAR][FUNNEL_CALIBRATION_GRID];
} QueryAnalysis;

/* A list and its centroid distance to a query, for ranking lists. */
typedef struct ListRank
{
	double		closeness;
	int			listNo;
} ListRank;

static int
CompareListRanks(const void *a, const void *b)
{
	const ListRank *la = a;
	const ListRank *lb = b;

	if (la->closeness != lb->closeness)
		return la->closeness < lb->closeness ? -1 : 1;
	return la->listNo - lb->listNo;
}

/* A neighbour's estimate and rank by distance, for sorting by estimate. */
typedef struct Neighbour
{
	float		est;
	int			rank;
} Neighbour;

static int
CompareNeighbours(const void *a, const void *b)
{
	const Neighbour *x = a;
	const Neighbour *y = b;

	if (x->est != y->est)
		return x->est < y->est ? -1 : 1;
	return x->rank - y->rank;
}

/* qsort order of floats */
static int
CompareFloats(const void *a, const void *b)
{
	float		x = *(const float *) a;
	float		y = *(const float *) b;

	return (x > y) - (x < y);
}

/*
 * Set up the analysis of query q: its lists in the order a scan opens them
 * (by centroid distance, as funnelscan.c sorts them; equal distances by
 * list number, where the scan takes the head block, which differs between
 * a parallel and a serial build), grouped in buckets of probe counts
 * (probes[b] lists open bucket b and before), and its neighbours by
 * estimate.
 */
static void
InitAnalysis(QueryAnalysis *qa, CalibrationQuery *q, const FunnelMetaPageData *meta,
			 const FunnelList *dir, FunnelMetric metric, const int *probes, int entrySize)
{
	ListRank   *order = palloc(sizeof(ListRank) * meta->nlists);
	Neighbour	near[FUNNEL_CALIBRATION_NEAR];
	int			nonEmpty = 0,
				b = 0;

	memset(qa, 0, sizeof(QueryAnalysis));
	qa->query = q;
	qa->nnear = q->nnear;
	FunnelQueryInit(&qa->fq, q->x, q->dim, meta->coarseDims,
					meta->precision, metric);
	qa->bucketOfList = palloc(sizeof(int) * meta->nlists);
	for (uint32 l = 0; l < meta->nlists; l++)
	{
		const FunnelList *list = FunnelDirList(dir, l, meta->listSize);

		qa->bucketOfList[l] = -1;
		if (list->head == InvalidBlockNumber)
			continue;
		order[nonEmpty].closeness = FunnelListCloseness(&qa->fq, list);
		order[nonEmpty].listNo = l;
		nonEmpty++;
	}
	qsort(order, nonEmpty, sizeof(ListRank), CompareListRanks);
	for (int r = 0; r < nonEmpty; r++)
	{
		while (r >= probes[b])
			b++;
		qa->bucketOfList[order[r].listNo] = b;
		qa->entries[b] += FunnelDirList(dir, order[r].listNo, meta->listSize)->count;
	}
	pfree(order);

	for (int i = 0; i < q->nnear; i++)
	{
		FunnelEstimateEntries(&qa->fq, q->slotEntries + (Size) q->nearSlot[i] * entrySize, 1,
							  entrySize, &near[i].est);
		near[i].rank = i;
	}
	qsort(near, q->nnear, sizeof(Neighbour), CompareNeighbours);
	for (int i = 0; i < q->nnear; i++)
	{
		qa->nearEst[i] = near[i].est;
		qa->nearRank[i] = near[i].rank;
		qa->nearBucket[i] = qa->bucketOfList[q->slotList[q->nearSlot[near[i].rank]]];
	}
}

/*
 * Count, for every query, the entries of a page that estimate below each
 * of its neighbours (a page at a time, so it is read once for all queries).
 */
static void
CountPage(QueryAnalysis *qas, int nq, Page page, int listNo, int entrySize, float weight)
{
	int			n = FunnelPageGetOpaque(page)->nentries;
	float		est[FUNNEL_MAX_PAGE_ENTRIES];

	for (int qi = 0; qi < nq; qi++)
	{
		QueryAnalysis *qa = &qas[qi];
		int			b = qa->bucketOfList[listNo];
		float		worst = qa->nearEst[qa->nnear - 1];

		FunnelEstimateEntries(&qa->fq, PageGetContents(page), n, entrySize, est);
		for (int i = 0; i < n; i++)
		{
			int			lo = 0,
						hi = qa->nnear;

			if (est[i] >= worst ||
				ItemPointerEquals(&FunnelPageGetEntry(page, i, entrySize)->heapPtr,
								  &qa->query->tid))
				continue;
			/* j: how many neighbours estimate at or below this entry */
			while (lo < hi)
			{
				int			mid = (lo + hi) / 2;

				if (qa->nearEst[mid] <= est[i])
					lo = mid + 1;
				else
					hi = mid;
			}
			qa->rank[lo][b] += weight;
		}
	}
}

/*
 * Read the data pages of the index's lists, counting each for every query:
 * all of them, or on large tables a uniform sample of them, whose counts
 * are scaled up, so that the work stays within FUNNEL_CALIBRATION_ESTIMATES.
 *
 * The sample is chosen by a page's place in this walk (lists in order,
 * each chain from its newest page), not by its block number: a parallel
 * build writes the same pages as a serial one, the same entries in each
 * list's chain, but into other blocks, and its calibration must be the
 * serial one's.  Knuth's multiplicative hash of consecutive numbers takes
 * close to the share of any run of pages, evenly spread over the walk.
 */
static void
CountEntries(Relation index, QueryAnalysis *qas, int nq, const FunnelMetaPageData *meta,
			 const FunnelList *dir)
{
	double		entries = 0,
				share;
	uint32		cutoff,
				walked = 0,
				counted = 0;

	for (uint32 l = 0; l < meta->nlists; l++)
		entries += FunnelDirList(dir, l, meta->listSize)->count;
	share = Min(1, FUNNEL_CALIBRATION_ESTIMATES / Max(1, entries * nq));
	cutoff = (uint32) (share * PG_UINT32_MAX);
	for (uint32 l = 0; l < meta->nlists; l++)
	{
		BlockNumber blkno = FunnelDirList(dir, l, meta->listSize)->head;

		while (blkno != InvalidBlockNumber)
		{
			Buffer		buf = ReadBuffer(index, blkno);
			Page		page;

			CHECK_FOR_INTERRUPTS();
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			if (share >= 1 || walked * 2654435761U <= cutoff)
			{
				CountPage(qas, nq, page, l, meta->entrySize, (float) (1 / share));
				counted++;
			}
			walked++;
			blkno = FunnelPageGetOpaque(page)->next;
			UnlockReleaseBuffer(buf);
		}
	}
	elog(DEBUG1, "funnel index \"%s\": the calibration estimated the entries of %u of %u data pages",
		 RelationGetRelationName(index), counted, walked);
}

/*
 * For probes[b] lists and the top k: the smallest shortlist that finds
 * `need` of the queries' k nearest, or -1 if fewer lie in those lists.
 */
static int64
ShortlistNeeded(QueryAnalysis *qas, int nq, int k, int b, int need, float *ranks)
{
	int			n = 0;

	for (int qi = 0; qi < nq; qi++)
		for (int i = 0; i < qas[qi].nnear; i++)
			if (qas[qi].nearRank[i] < k &&
				qas[qi].nearBucket[i] >= 0 && qas[qi].nearBucket[i] <= b)
				ranks[n++] = qas[qi].rank[i][b];
	if (n < need)
		return -1;
	qsort(ranks, n, sizeof(float), CompareFloats);
	return (int64) ranks[need - 1] + 1;
}

/* Mean recall of the top k with probes[b] lists and a shortlist. */
static double
RecallAt(QueryAnalysis *qas, int nq, int k, int b, int64 shortlist)
{
	int			found = 0;

	for (int qi = 0; qi < nq; qi++)
		for (int i = 0; i < qas[qi].nnear; i++)
			found += qas[qi].nearRank[i] < k &&
				qas[qi].nearBucket[i] >= 0 && qas[qi].nearBucket[i] <= b &&
				qas[qi].rank[i][b] < shortlist;
	return (double) found / (nq * k);
}

/*
 * The cheapest (probes, shortlist) pair that finds FUNNEL_CALIBRATION_RECALL
 * of the top k of the first nq queries (those with k neighbours), in
 * *probes and *shortlist; its recall.
 */
static double
ChoosePair(QueryAnalysis *qas, int nq, int k, const int *probes, int nbuckets,
		   int *bestProbes, int *bestShortlist)
{
	int			need = (int) ceil(FUNNEL_CALIBRATION_RECALL * nq * k);
	float	   *ranks = palloc(sizeof(float) * nq * k);
	double		bestCost = get_float8_infinity();
	int			bestBucket = nbuckets - 1;
	int64		shortlist;

	for (int b = 0; b < nbuckets; b++)
	{
		double		entries = 0,
					cost;

		shortlist = ShortlistNeeded(qas, nq, k, b, need, ranks);
		if (shortlist < 0)
			continue;
		shortlist = Max(shortlist, FUNNEL_ROUND_K);
		for (int qi = 0; qi < nq; qi++)
			for (int b2 = 0; b2 <= b; b2++)
				entries += qas[qi].entries[b2];
		cost = entries / nq + (double) shortlist * FUNNEL_RERANK_ENTRIES;
		if (cost < bestCost)
		{
			bestCost = cost;
			bestBucket = b;
			*bestShortlist = (int) Min(shortlist, 1000000);
		}
	}
	pfree(ranks);
	*bestProbes = probes[bestBucket];
	return RecallAt(qas, nq, k, bestBucket, *bestShortlist);
}

/*
 * Query q's distance to a row, in the opclass's distance, from its ranking
 * distance (RankingDistance); NaN for a zero query under cosine.
 */
static double
OpclassDistance(FunnelMetric metric, const CalibrationQuery *q, double ranking)
{
	double		qnorm;

	switch (metric)
	{
		case FUNNEL_L2:
			return sqrt(Max(ranking, 0));
		case FUNNEL_COSINE:
			qnorm = MrlNorm(q->x, q->dim);
			return qnorm > 0 ? 1 - (1 - ranking) / qnorm : NAN;
		case FUNNEL_IP:
		case FUNNEL_L1:
			break;
	}
	return ranking;
}

/*
 * The FUNNEL_FAR_SHARE quantile of the sampled queries' 10th nearest
 * distance: a query whose own is beyond it is unlike the rows (funnelscan.c
 * widens its first round).
 */
static float
FarDistance(const QueryAnalysis *qas, int nq, FunnelMetric metric)
{
	float	   *d = palloc(sizeof(float) * nq);
	int			n = 0;
	float		far;

	for (int qi = 0; qi < nq; qi++)
	{
		const CalibrationQuery *q = qas[qi].query;
		double		kth = OpclassDistance(metric, q, q->nearDist[FUNNEL_ROUND_K - 1]);

		if (!isnan(kth))
			d[n++] = (float) kth;
	}
	qsort(d, n, sizeof(float), CompareFloats);
	far = n > 0 ? d[(int) floor(FUNNEL_FAR_SHARE * (n - 1))] : get_float4_infinity();
	pfree(d);
	return far;
}

/* Order queries with more neighbours first, so any k takes a prefix. */
static int
CompareByNeighbours(const void *a, const void *b)
{
	return ((const QueryAnalysis *) b)->nnear - ((const QueryAnalysis *) a)->nnear;
}

/*
 * The probe counts the calibration tries, ascending, in probes; returns how
 * many.  A geometric grid, each count at least one more than the last and
 * `ratio` times it, ending at every non-empty list, with the smallest ratio
 * (in steps of 0.01) that fits FUNNEL_CALIBRATION_GRID counts: every count
 * up to 1 / (ratio - 1), then steps of a few percent, so the cheapest
 * probes are found whether they are 8 of 1,000 lists or 300 (a linear grid
 * of 64 could offer no fewer than 32 of 2,000 lists).
 */
static int
ProbeGrid(int nonEmpty, int *probes)
{
	if (nonEmpty == 0)
		return 0;
	for (double ratio = 1.01;; ratio += 0.01)
	{
		int			n = 1;

		probes[0] = 1;
		while (probes[n - 1] < nonEmpty && n < FUNNEL_CALIBRATION_GRID)
		{
			probes[n] = Min(nonEmpty, Max(probes[n - 1] + 1,
										  (int) ceil(probes[n - 1] * ratio)));
			n++;
		}
		if (probes[n - 1] == nonEmpty)
			return n;
	}
}

/*
 * After pass 2, with every entry written: measure what recall each number
 * of probes and shortlist gives on the sampled queries for their top 10 and
 * top 100, and record the cheapest pairs reaching FUNNEL_CALIBRATION_RECALL
 * in *meta.  Leaves them 0 (not calibrated) when the table is too small to
 * tell.
 */
void
FunnelCalibrate(Relation index, FunnelCalibration *cal, FunnelMetaPageData *meta,
				const FunnelList *dir)
{
	MemoryContext old = MemoryContextSwitchTo(cal->ctx);
	QueryAnalysis *qas = palloc(sizeof(QueryAnalysis) * Max(cal->nqueries, 1));
	int			probes[FUNNEL_CALIBRATION_GRID];
	int			nonEmpty = 0,
				nbuckets,
				nq = 0,
				ndeep = 0;
	double		deepRecall = 0,
				rows = 0;
	int64		estimateAlone;
	float	   *ranks;

	for (uint32 l = 0; l < meta->nlists; l++)
		nonEmpty += FunnelDirList(dir, l, meta->listSize)->head != InvalidBlockNumber;
	nbuckets = ProbeGrid(nonEmpty, probes);

	for (int i = 0; i < cal->nqueries; i++)
		if (cal->queries[i].nnear >= FUNNEL_ROUND_K)
			InitAnalysis(&qas[nq++], &cal->queries[i], meta, dir, cal->metric, probes,
						 cal->entrySize);
	if (nq < FUNNEL_CALIBRATION_MIN_QUERIES / 10)
	{
		MemoryContextSwitchTo(old);
		return;
	}
	qsort(qas, nq, sizeof(QueryAnalysis), CompareByNeighbours);
	while (ndeep < nq && qas[ndeep].nnear == FUNNEL_DEEP_K)
		ndeep++;
	CountEntries(index, qas, nq, meta, dir);
	/* counts by the neighbours an entry does not beat -> ranks (2-D prefix sums) */
	for (int qi = 0; qi < nq; qi++)
		for (int i = 0; i < qas[qi].nnear; i++)
			for (int b = 0; b < nbuckets; b++)
				qas[qi].rank[i][b] += (i > 0 ? qas[qi].rank[i - 1][b] : 0) +
					(b > 0 ? qas[qi].rank[i][b - 1] : 0) -
					(i > 0 && b > 0 ? qas[qi].rank[i - 1][b - 1] : 0);

	meta->calibratedRecall = (float) ChoosePair(qas, nq, FUNNEL_ROUND_K, probes, nbuckets,
												&meta->calibratedProbes,
												&meta->calibratedShortlist);
	meta->farDistance = FarDistance(qas, nq, cal->metric);
	/* how well the estimate ranks on its own: the shortlist with every list */
	ranks = palloc(sizeof(float) * nq * FUNNEL_ROUND_K);
	estimateAlone = ShortlistNeeded(qas, nq, FUNNEL_ROUND_K, nbuckets - 1,
									(int) ceil(FUNNEL_CALIBRATION_RECALL * nq * FUNNEL_ROUND_K),
									ranks);
	for (uint32 l = 0; l < meta->nlists; l++)
		rows += FunnelDirList(dir, l, meta->listSize)->count;
	if (ndeep >= FUNNEL_CALIBRATION_MIN_QUERIES / 10)
	{
		deepRecall = ChoosePair(qas, ndeep, FUNNEL_DEEP_K, probes, nbuckets,
								&meta->deepProbes, &meta->deepShortlist);
		meta->deepProbes = Max(meta->deepProbes, meta->calibratedProbes);
		meta->deepShortlist = Max(meta->deepShortlist, meta->calibratedShortlist);
	}
	elog(DEBUG1, "funnel index \"%s\": approximate scans need %d of %d lists and a shortlist of %d for recall %.3f of the top %d, %d lists and a shortlist of %d for recall %.3f of the top %d (%d and %d sampled queries); with every list, the estimates alone need a shortlist of %lld; 99%% of the queries have their 10th nearest within %g",
		 RelationGetRelationName(index), meta->calibratedProbes, nonEmpty,
		 meta->calibratedShortlist, meta->calibratedRecall, FUNNEL_ROUND_K,
		 meta->deepProbes, meta->deepShortlist, deepRecall, FUNNEL_DEEP_K, nq, ndeep,
		 (long long) estimateAlone, meta->farDistance);
	if (meta->calibratedProbes > nonEmpty / 2 && nonEmpty >= 8)
		ereport(WARNING,
				(errmsg("funnel index \"%s\" must read %d of its %d lists to find %g%% of the nearest rows",
						RelationGetRelationName(index), meta->calibratedProbes, nonEmpty,
						100 * FUNNEL_CALIBRATION_RECALL),
				 errdetail("The lists, clustered on the first %d dimensions, do not keep near rows together, so an approximate scan reads most of the index.",
						   meta->coarseDims),
				 errhint("Index more leading dimensions (a larger coarse_dims) if the vectors are not Matryoshka embeddings.")));
	if (meta->calibratedShortlist > Max(FUNNEL_POOR_RANKING_ROWS, rows / 100))
		ereport(WARNING,
				(errmsg("funnel index \"%s\" must rerank %d rows on their full vectors to find %g%% of the nearest rows",
						RelationGetRelationName(index), meta->calibratedShortlist,
						100 * FUNNEL_CALIBRATION_RECALL),
				 errdetail("Estimates from the first %d dimensions rank these vectors poorly, so an approximate scan reads many rows from the table.",
						   meta->coarseDims),
				 errhint("Index more leading dimensions (a larger coarse_dims) if the vectors are not Matryoshka embeddings.")));
	MemoryContextSwitchTo(old);
}

/* Free what the calibration holds. */
void
FunnelCalibrationEnd(FunnelCalibration *cal)
{
	MemoryContextDelete(cal->ctx);
}

/*
 * Parallel builds: pass 1's queries go to the workers (SaveQueries,
 * LoadQueries), each compares its share of the rows with them, and the
 * leader merges their nearest rows into its own (SaveNear, MergeNear).
 * Every participant computes the same distances for a row, and equal
 * distances rank by heap pointer (NearerThan), so the merged neighbours are
 * those a serial build keeps.
 */
typedef struct SavedQuery
{
	ItemPointerData tid;
	int			dim;
	float		x[FLEXIBLE_ARRAY_MEMBER];
} SavedQuery;

typedef struct SavedNear
{
	int			nnear;
	float		dist[FUNNEL_CALIBRATION_NEAR];	/* ascending */
	int			listNo[FUNNEL_CALIBRATION_NEAR];
	/* then the entries, in the same order, entrySize bytes apart */
} SavedNear;

#define SAVED_QUERY_SIZE(dim)	MAXALIGN(offsetof(SavedQuery, x) + sizeof(float) * (dim))
#define SAVED_NEAR_SIZE(cal) \
	(MAXALIGN(sizeof(SavedNear)) + (Size) (cal)->entrySize * FUNNEL_CALIBRATION_NEAR)

/* Bytes FunnelCalibrationSaveQueries writes. */
Size
FunnelCalibrationQueriesSize(FunnelCalibration *cal)
{
	Size		size = MAXALIGN(sizeof(int));

	TrimQueries(cal);
	for (int i = 0; i < cal->nqueries; i++)
		size += SAVED_QUERY_SIZE(cal->queries[i].dim);
	return size;
}

/* Write the queries kept for pass 2 at dst. */
void
FunnelCalibrationSaveQueries(FunnelCalibration *cal, char *dst)
{
	TrimQueries(cal);
	*(int *) dst = cal->nqueries;
	dst += MAXALIGN(sizeof(int));
	for (int i = 0; i < cal->nqueries; i++)
	{
		SavedQuery *sq = (SavedQuery *) dst;

		sq->tid = cal->queries[i].tid;
		sq->dim = cal->queries[i].dim;
		memcpy(sq->x, cal->queries[i].x, sizeof(float) * sq->dim);
		dst += SAVED_QUERY_SIZE(sq->dim);
	}
}

/* A calibration with the queries SaveQueries wrote at src, for pass 2. */
FunnelCalibration *
FunnelCalibrationLoadQueries(const FunnelMetaPageData *meta, FunnelMetric metric,
							 const char *src)
{
	FunnelCalibration *cal = FunnelCalibrationBegin(meta, metric);

	cal->nqueries = *(const int *) src;
	cal->trimmed = true;
	src += MAXALIGN(sizeof(int));
	for (int i = 0; i < cal->nqueries; i++)
	{
		const SavedQuery *sq = (const SavedQuery *) src;
		CalibrationQuery *q = &cal->queries[i];

		q->tid = sq->tid;
		q->dim = sq->dim;
		q->x = MemoryContextAlloc(cal->ctx, sizeof(float) * sq->dim);
		memcpy(q->x, sq->x, sizeof(float) * sq->dim);
		src += SAVED_QUERY_SIZE(sq->dim);
	}
	return cal;
}

/* Bytes FunnelCalibrationSaveNear writes. */
Size
FunnelCalibrationNearSize(FunnelCalibration *cal)
{
	TrimQueries(cal);
	return SAVED_NEAR_SIZE(cal) * cal->nqueries;
}

/* Write each query's nearest rows found so far at dst. */
void
FunnelCalibrationSaveNear(const FunnelCalibration *cal, char *dst)
{
	for (int i = 0; i < cal->nqueries; i++)
	{
		const CalibrationQuery *q = &cal->queries[i];
		SavedNear  *sn = (SavedNear *) (dst + SAVED_NEAR_SIZE(cal) * i);
		char	   *entries = (char *) sn + MAXALIGN(sizeof(SavedNear));

		sn->nnear = q->nnear;
		for (int r = 0; r < q->nnear; r++)
		{
			int			slot = q->nearSlot[r];

			sn->dist[r] = q->nearDist[r];
			sn->listNo[r] = q->slotList[slot];
			memcpy(entries + (Size) r * cal->entrySize,
				   q->slotEntries + (Size) slot * cal->entrySize, cal->entrySize);
		}
	}
}

/* Merge the nearest rows SaveNear wrote at src (another participant's). */
void
FunnelCalibrationMergeNear(FunnelCalibration *cal, const char *src)
{
	for (int i = 0; i < cal->nqueries; i++)
	{
		CalibrationQuery *q = &cal->queries[i];
		const SavedNear *sn = (const SavedNear *) (src + SAVED_NEAR_SIZE(cal) * i);
		const char *entries = (const char *) sn + MAXALIGN(sizeof(SavedNear));

		for (int r = 0; r < sn->nnear; r++)
		{
			const FunnelEntry *entry = (const FunnelEntry *) (entries + (Size) r * cal->entrySize);

			if (QualifiesNear(cal, q, sn->dist[r], &entry->heapPtr))
				KeepNear(cal, q, sn->dist[r], entry, sn->listNo[r]);
		}
	}
}
