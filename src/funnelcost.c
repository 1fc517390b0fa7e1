/*
 * funnelcost.c: what a funnel index scan costs: the build-time measure of
 * how well the bounds prune, and the planner's cost estimate.
 *
 * An exact scan must fetch from the heap every row whose lower bound is
 * below the k-th true distance; how many that is depends on the data, not
 * on the index's size: on Matryoshka-trained vectors a few per thousand,
 * on vectors whose prefixes say little about the whole nearly all of them.
 * The planner cannot see that, so the build measures it: it keeps a
 * uniform sample of the rows (full vectors, codes and lists), takes some of
 * them as queries, and counts which sampled rows an exact top-10 scan
 * would fetch (bound below the 10th distance, scaled to the table) and
 * which lists it would open.  The means are kept in the metapage.
 *
 * The estimate prices the first 10 rows by that measure (approximate
 * mode: capped by its probes and a shortlist of reranks), each further 10
 * rows as much again up to the whole index, and, under a LIMIT, the index
 * rows the LIMIT needs given the filters' selectivity: so a LIMIT under a
 * selective WHERE clause makes the index dear where a filtered scan and a
 * sort are cheap.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/genam.h"
#include "common/pg_prng.h"
#include "funnel.h"
#include "miscadmin.h"
#include "mvector.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/selfuncs.h"

/* rows kept by the build's sample, queries taken from it, and their k */
#define FUNNEL_PRUNE_SAMPLE		1000
#define FUNNEL_PRUNE_QUERIES	32
#define FUNNEL_PRUNE_K			10

/* Start a sample of up to FUNNEL_PRUNE_SAMPLE rows, in its own context. */
void
FunnelPruneSampleInit(FunnelPruneSample *s, const FunnelMetaPageData *meta)
{
	memset(s, 0, sizeof(FunnelPruneSample));
	s->ctx = AllocSetContextCreate(CurrentMemoryContext, "funnel prune sample",
								   ALLOCSET_DEFAULT_SIZES);
	s->cap = FUNNEL_PRUNE_SAMPLE;
	s->rows = MemoryContextAllocZero(s->ctx, sizeof(MVector *) * s->cap);
	s->entries = MemoryContextAlloc(s->ctx, (Size) meta->entrySize * s->cap);
	s->listNos = MemoryContextAlloc(s->ctx, sizeof(int) * s->cap);
	s->entrySize = meta->entrySize;
	pg_prng_seed(&s->prng, 0x5072756E65ULL);
}

/*
 * Offer one row (its vector and heap pointer) to the sample: reservoir
 * sampling, so every row is kept with the same probability.  The sample
 * holds at most a quarter of maintenance_work_mem of vectors.  The build
 * offers the rows in its first pass, before the lists exist, and encodes
 * the kept ones with FunnelPruneSampleAssign, so that the second pass
 * (which parallel workers share) has no sample to keep.
 */
void
FunnelPruneSampleAdd(FunnelPruneSample *s, Datum value, ItemPointer tid)
{
	int64		slot;
	MemoryContext old;

	if (s->seen++ == 0)
		s->cap = (int) Max(2, Min((Size) s->cap, (Size) maintenance_work_mem * 1024 / 4 /
								  VARSIZE_ANY(DatumGetPointer(value))));
	slot = s->n < s->cap ? s->n++ :
		(int64) pg_prng_uint64_range(&s->prng, 0, s->seen - 1);
	if (slot >= s->cap)
		return;
	old = MemoryContextSwitchTo(s->ctx);
	if (s->rows[slot])
		pfree(s->rows[slot]);
	s->rows[slot] = (MVector *) PG_DETOAST_DATUM_COPY(value);
	MemoryContextSwitchTo(old);
	((FunnelEntry *) ((char *) s->entries + (Size) slot * s->entrySize))->heapPtr = *tid;
}

/* Encode the sampled rows and find their lists, as the build does. */
void
FunnelPruneSampleAssign(FunnelPruneSample *s, const FunnelMetaPageData *meta,
						const FunnelList *dir, const FunnelGroups *groups,
						FunnelMetric metric)
{
	float	   *prefix = palloc(sizeof(float) * meta->coarseDims);

	for (int i = 0; i < s->n; i++)
	{
		FunnelEntry *entry = (FunnelEntry *) ((char *) s->entries + (Size) i * s->entrySize);
		ItemPointerData tid = entry->heapPtr;

		FunnelEncodeDatum(entry, PointerGetDatum(s->rows[i]), &tid, meta, metric, prefix);
		s->listNos[i] = FunnelAssignList(groups, dir, meta, prefix);
	}
	pfree(prefix);
}

/* qsort comparator of doubles, NaN last */
static int
CompareDoubles(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

/*
 * For sample row qi as the query: adds to *fetched the share of the other
 * sampled rows an exact top-k scan of a table of `rows` would fetch, and to
 * *opened the share of indexed rows in the lists it would open.  Returns
 * false (adding nothing) when the query has no finite k-th distance or no
 * other row of its size.
 */
static bool
MeasureOneQuery(FunnelPruneSample *s, int qi, const FunnelMetaPageData *meta,
				const FunnelList *dir, FunnelMetric metric, FmgrInfo *distance,
				Oid collation, double rows, double *fetched, double *opened)
{
	MVector    *qv = s->rows[qi];
	int			qdim;
	const float *qx = FunnelDatumFloats(PointerGetDatum(qv), &qdim);
	FunnelQuery q;
	double	   *sorted = palloc(sizeof(double) * s->n);
	double	   *listBound = palloc(sizeof(double) * meta->nlists);
	int			others = 0,
				rank,
				nfetched = 0;
	double		threshold,
				openCount = 0,
				allCount = 0;

	FunnelQueryInit(&q, qx, qdim, meta->coarseDims, meta->precision, metric);
	/* a column without a typmod may mix sizes: compare rows of the query's */
	for (int j = 0; j < s->n; j++)
		if (j != qi && s->rows[j]->dim == qv->dim)
			sorted[others++] =
				DatumGetFloat8(FunctionCall2Coll(distance, collation,
												 PointerGetDatum(qv),
												 PointerGetDatum(s->rows[j])));
	if (others == 0)
		return false;
	qsort(sorted, others, sizeof(double), CompareDoubles);

	/* the k-th of `rows` is about the (k * others / rows)-th of the sample */
	rank = (int) rint(FUNNEL_PRUNE_K * (double) others / Max(rows - 1, 1));
	rank = Max(1, Min(others, rank));
	threshold = sorted[rank - 1];
	if (!isfinite(threshold))
		return false;

	for (uint32 l = 0; l < meta->nlists; l++)
	{
		const FunnelList *list = FunnelDirList(dir, l, meta->listSize);

		listBound[l] = FunnelListBound(&q, list);
		allCount += list->count;
		if (listBound[l] <= threshold)
			openCount += list->count;
	}
	for (int j = 0; j < s->n; j++)
	{
		const FunnelEntry *e = (const FunnelEntry *)
		((const char *) s->entries + (Size) j * s->entrySize);

		if (j != qi && s->rows[j]->dim == qv->dim &&
			listBound[s->listNos[j]] <= threshold &&
			FunnelBound(&q, e) <= threshold)
			nfetched++;
	}
	*fetched += (double) nfetched / others;
	*opened += allCount > 0 ? openCount / allCount : 1;
	return true;
}

/*
 * Measure, on the sample, the shares of rows and of lists an exact top-10
 * scan visits, and record them in *meta (left 0, "not measured", when the
 * sample is too small to tell).
 */
void
FunnelMeasurePruning(Relation index, FunnelPruneSample *s,
					 FunnelMetaPageData *meta, const FunnelList *dir,
					 FunnelMetric metric, double rows)
{
	FmgrInfo   *distance = index_getprocinfo(index, 1, FUNNEL_DISTANCE_PROC);
	MemoryContext queryCtx = AllocSetContextCreate(CurrentMemoryContext,
												   "funnel prune query",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(queryCtx);
	double		fetched = 0,
				opened = 0;
	int			queries = 0;

	for (int qi = 0; qi < Min(s->n, FUNNEL_PRUNE_QUERIES) && s->n > FUNNEL_PRUNE_K; qi++)
	{
		CHECK_FOR_INTERRUPTS();
		if (MeasureOneQuery(s, qi, meta, dir, metric, distance,
							index->rd_indcollation[0], rows, &fetched, &opened))
			queries++;
		MemoryContextReset(queryCtx);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(queryCtx);
	if (queries > 0)
	{
		/* never 0, which means "not measured" */
		meta->exactFetchFraction = Max(fetched / queries, FLT_MIN);
		meta->exactListFraction = Max(opened / queries, FLT_MIN);
		elog(DEBUG1, "funnel index \"%s\": an exact top-%d scan fetches %.4f of the rows and opens lists holding %.4f (%d sampled queries)",
			 RelationGetRelationName(index), FUNNEL_PRUNE_K,
			 meta->exactFetchFraction, meta->exactListFraction, queries);
	}
}

/*
 * The index's metapage, for the planner (which must not error): zeros, as
 * for an index the build did not measure, unless it is of a version this
 * code reads.
 */
static void
ReadMetaForPlanner(Oid indexOid, FunnelMetaPageData *meta)
{
	Relation	index = index_open(indexOid, NoLock);

	FunnelCopyMeta(index, meta);
	index_close(index, NoLock);
	if (meta->magic != FUNNEL_MAGIC || !FunnelVersionReadable(meta))
		memset(meta, 0, sizeof(FunnelMetaPageData));
}

/*
 * What a scan costs that reads openShare of the index (a bound or an
 * estimate per entry) and fetches `fetches` rows from the heap (a distance
 * each): at random, or (a sweep) every heap page in order, keeping the
 * nearest as a top-N sort does.
 */
static Cost
ScanWorkCost(PlannerInfo *root, IndexOptInfo *index, double openShare, double fetches,
			 bool sweep, Cost distanceCost)
{
	double		pages = Max(index->pages, 1);
	double		tuples = Max(index->tuples, 1);
	Cost		heap;

	/* a sweep reads every page in order and keeps its nearest rows by heap */
	if (sweep)
		heap = index->rel->pages * seq_page_cost +
			fetches * 2 * cpu_operator_cost * log2(2.0 * FUNNEL_SWEEP_FIRST);
	else
		heap = index_pages_fetched(fetches, index->rel->pages, pages, root) * random_page_cost;
	return openShare * (pages * seq_page_cost +
						tuples * (cpu_index_tuple_cost + cpu_operator_cost)) +
		fetches * (cpu_tuple_cost + distanceCost) + heap;
}

/*
 * What the scan reads and fetches for its first `rows` rows: exact mode,
 * everything where it sweeps, else the shares the build measured for the
 * first k (all, if it did not), growing linearly with the rows; approximate
 * mode, the probes and the shortlist its rounds use (FunnelRoundSettings).
 * Never more than the whole index and every row.
 */
static void
ScanShares(const FunnelMetaPageData *meta, bool exact, double tuples, double rows,
		   double *openShare, double *fetches)
{
	double		scale = Max(rows, FUNNEL_PRUNE_K) / FUNNEL_PRUNE_K;

	if (!exact)
	{
		int			probes;
		int64		shortlist;

		FunnelRoundSettings(meta, rows, &probes, &shortlist);
		*openShare = (double) probes / Max(1, meta->nlists);
		*fetches = Max(shortlist, FUNNEL_PRUNE_K);
	}
	else if (FunnelExactSweeps(meta))
	{
		/* a sweep reads everything before its first row */
		*openShare = 1;
		*fetches = tuples;
	}
	else if (meta->exactFetchFraction > 0)
	{
		*openShare = meta->exactListFraction * scale;
		*fetches = Max(meta->exactFetchFraction * tuples, FUNNEL_PRUNE_K) * scale;
	}
	else
	{
		*openShare = 1;
		*fetches = tuples;
	}
	*openShare = Min(1, *openShare);
	*fetches = Min(tuples, *fetches);
}

/*
 * amcostestimate.  Startup is what the scan does for its first k (10) rows:
 * read the lists it opens and fetch the rows it must look at (exact mode:
 * the shares the build measured; approximate mode: its probes and its
 * shortlist, as calibrated or set).  Further rows cost more, up to reading
 * the whole index and fetching every row (ScanShares).
 *
 * The planner prices a LIMIT as startup plus the share limit / rows of the
 * run cost: linear in the rows needed, where the scan's work is not.  So,
 * when the query has a LIMIT, the total is set to make that share equal
 * the work for the index rows the LIMIT needs under the filters'
 * selectivity (limit / selectivity of them): a LIMIT 10 that keeps 1% of
 * rows needs 1,000 index rows, which makes the index dear where a filtered
 * scan is cheap.  cost_index adds the heap fetches of the rows returned.
 * Without an ORDER BY distance the index is useless: it is priced out.
 */
void
funnelcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				   Cost *indexStartupCost, Cost *indexTotalCost,
				   Selectivity *indexSelectivity, double *indexCorrelation,
				   double *indexPages)
{
	IndexOptInfo *index = path->indexinfo;
	RelOptInfo *rel = index->rel;
	double		tuples = Max(index->tuples, 1);
	bool		exact = funnel_exact,
				sweep;
	double		openShare,
				fetches,
				rowsKept,
				needed;
	FunnelMetaPageData meta;
	QualCost	orderCost;

	*indexSelectivity = 1.0;
	*indexCorrelation = 0;
	*indexPages = Max(index->pages, 1);
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		return;
	}
	ReadMetaForPlanner(index->indexoid, &meta);
	cost_qual_eval(&orderCost, path->indexorderbys, root);
	sweep = exact && FunnelExactSweeps(&meta);

	ScanShares(&meta, exact, tuples, FUNNEL_PRUNE_K, &openShare, &fetches);
	*indexStartupCost = ScanWorkCost(root, index, openShare, fetches, sweep,
									 orderCost.per_tuple);
	*indexTotalCost = Max(*indexStartupCost,
						  ScanWorkCost(root, index, 1, tuples, sweep, orderCost.per_tuple));

	/* with a LIMIT: its share of the run cost is the work for the rows it needs */
	rowsKept = clamp_row_est(rel->rows);
	if (root->limit_tuples > 0 && root->limit_tuples < rowsKept && rel->tuples > 0)
	{
		needed = root->limit_tuples * Max(rel->tuples, 1) / rowsKept;
		if (needed < tuples)
		{
			ScanShares(&meta, exact, tuples, needed, &openShare, &fetches);
			*indexTotalCost = *indexStartupCost +
				(ScanWorkCost(root, index, openShare, fetches, sweep, orderCost.per_tuple) -
				 *indexStartupCost) * rowsKept / root->limit_tuples;
		}
	}
}
