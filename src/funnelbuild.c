/*
 * funnelbuild.c: building a funnel index (ambuild, ambuildempty).
 *
 * Build makes two passes over the table: the first samples coarse prefixes
 * for k-means (the lists' centroids), the second assigns every row to its
 * nearest list and writes the lists' pages, keeping a sample of rows on
 * which funnelcost.c then measures how well the bounds prune.  Every page
 * is WAL-logged.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/tableam.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "funnel.h"
#include "miscadmin.h"
#include "mvector.h"
#include "pgcompat.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#define KMEANS_SAMPLES_PER_LIST 32

/* Build phases in pg_stat_progress_create_index (funnelbuildphasename). */
#define FUNNEL_PHASE_SAMPLE		2
#define FUNNEL_PHASE_KMEANS		3
#define FUNNEL_PHASE_ASSIGN		4
#define FUNNEL_PHASE_MEASURE	5

/* Write the metapage and directory pages (at their fixed blocks). */
static void
WriteMetaAndDirectory(Relation index, const FunnelMetaPageData *meta,
					  const FunnelList *dir, bool isNew)
{
	PGAlignedBlock page;

	FunnelInitPage(page.data, FUNNEL_META);
	memcpy(FunnelPageGetMeta(page.data), meta, sizeof(FunnelMetaPageData));
	FunnelSetPageUsed(page.data, sizeof(FunnelMetaPageData));
	FunnelWritePage(index, isNew ? P_NEW : FUNNEL_METAPAGE_BLKNO, page.data);

	for (BlockNumber d = 0; d < meta->dirPages; d++)
	{
		uint32		first = d * meta->listsPerPage;
		uint32		n = FunnelListsOnDirPage(meta, d);

		FunnelInitPage(page.data, FUNNEL_DIRECTORY);
		memcpy(PageGetContents(page.data), FunnelDirList(dir, first, meta->listSize),
			   (Size) n * meta->listSize);
		FunnelSetPageUsed(page.data, (Size) n * meta->listSize);
		FunnelWritePage(index, isNew ? P_NEW : meta->dirStart + d, page.data);
	}
}

/*
 * Directory records with these centroids (nlists x coarseDims), and the
 * NULL list's, with no members.
 */
static FunnelList *
NewDirectory(const FunnelMetaPageData *meta, const float *centroids)
{
	FunnelList *dir = palloc0((Size) FunnelDirRecords(meta) * meta->listSize);

	for (uint32 i = 0; i < FunnelDirRecords(meta); i++)
	{
		FunnelList *list = FunnelDirList(dir, i, meta->listSize);

		list->head = InvalidBlockNumber;
		list->insertHint = InvalidBlockNumber;
		list->minResid = FLT_MAX;
		if (centroids && i < meta->nlists)
			memcpy(list->centroid, centroids + (Size) i * meta->coarseDims,
				   sizeof(float) * meta->coarseDims);
	}
	return dir;
}

typedef struct FunnelBuildState
{
	FunnelMetaPageData meta;
	FunnelMetric metric;
	FunnelEntry *entry;
	float	   *prefix;
	MemoryContext tmpCtx;

	/* pass 1: a uniform sample of prefixes (reservoir sampling) */
	float	   *sample;
	int64		maxSample;
	int64		sampleCap;		/* allocated, grows up to maxSample */
	int64		nsample;
	int64		seen;
	pg_prng_state prng;
	int64		rows;			/* rows offered, NULL ones included */
	int64		rowsTotal;		/* tuples_total of the phase */

	/* pass 2: the directory and each list's page being filled */
	FunnelList *dir;
	char	  **pages;
	double		indtuples;
	FunnelPruneSample pruneSample;	/* rows to measure pruning on */
	FunnelCalibration *calibration; /* queries sampled in pass 1 */
} FunnelBuildState;

/* Enter build phase phase, with total rows to go through (0: not counted). */
static void
ReportPhase(FunnelBuildState *bs, int phase, int64 total)
{
	const int	params[] = {PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_CREATEIDX_TUPLES_TOTAL,
	PROGRESS_CREATEIDX_TUPLES_DONE};
	const int64 values[] = {phase, total, 0};

	bs->rowsTotal = total;
	pgstat_progress_update_multi_param(lengthof(params), params, values);
}

/*
 * Report done rows of the phase, raising its total if it was an estimate
 * below them (the table's reltuples, or rows that arrived since the first
 * pass of a concurrent build).
 */
static void
ReportDone(FunnelBuildState *bs, int64 done)
{
	if (done > bs->rowsTotal)
	{
		bs->rowsTotal = done;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, done);
	}
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
}

/* ambuildphasename: the names of the phases above. */
char *
funnelbuildphasename(int64 phase)
{
	switch (phase)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case FUNNEL_PHASE_SAMPLE:
			return "sampling rows";
		case FUNNEL_PHASE_KMEANS:
			return "performing k-means";
		case FUNNEL_PHASE_ASSIGN:
			return "assigning rows to lists";
		case FUNNEL_PHASE_MEASURE:
			return "measuring pruning";
		default:
			return NULL;
	}
}

/* Pass 1 callback: keep a uniform sample of the coarse prefixes. */
static void
SampleCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	FunnelBuildState *bs = (FunnelBuildState *) state;
	MemoryContext old;
	const float *x;
	int			dim;
	int64		slot;

	CHECK_FOR_INTERRUPTS();
	ReportDone(bs, ++bs->rows);
	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	x = FunnelDatumFloats(values[0], &dim);
	if (dim >= bs->meta.coarseDims)
	{
		FunnelCalibrationOffer(bs->calibration, tid, x, dim);
		bs->seen++;
		slot = bs->nsample < bs->maxSample ? bs->nsample++ :
			(int64) pg_prng_uint64_range(&bs->prng, 0, bs->seen - 1);
		if (slot < bs->maxSample)
		{
			if (slot >= bs->sampleCap)
			{
				bs->sampleCap = Min(bs->maxSample, bs->sampleCap * 2);
				bs->sample = repalloc_huge(bs->sample,
										   sizeof(float) * bs->meta.coarseDims * bs->sampleCap);
			}
			FunnelEncode(bs->entry, x, dim, bs->meta.coarseDims,
						 bs->meta.precision, bs->metric, bs->prefix);
			memcpy(bs->sample + slot * bs->meta.coarseDims, bs->prefix,
				   sizeof(float) * bs->meta.coarseDims);
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
}

/* Write list ln's page being filled, chained before the list's head. */
static void
FlushListPage(Relation index, FunnelBuildState *bs, int ln)
{
	FunnelList *list = FunnelDirList(bs->dir, ln, bs->meta.listSize);
	Page		page = bs->pages[ln];
	uint32		seq = FunnelPageGetOpaque(page)->seq;

	FunnelPageGetOpaque(page)->next = list->head;
	list->head = FunnelWritePage(index, P_NEW, page);
	FunnelInitDataPage(page, ln, InvalidBlockNumber, seq + 1);
}

/* Append an entry to list ln's page being filled, writing it out when full. */
static void
AddToListPage(Relation index, FunnelBuildState *bs, int ln, const void *entry)
{
	if (bs->pages[ln] == NULL)
	{
		bs->pages[ln] = palloc(BLCKSZ);
		FunnelInitDataPage(bs->pages[ln], ln, InvalidBlockNumber, 1);
	}
	FunnelAppendEntry(bs->pages[ln], entry, FunnelEntrySizeOf(&bs->meta, ln));
	if (FunnelPageGetOpaque(bs->pages[ln])->nentries >= FunnelCapacityOf(&bs->meta, ln))
		FlushListPage(index, bs, ln);
}

/* Pass 2 callback: one heap row into its nearest list, or the NULL list. */
static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *state)
{
	FunnelBuildState *bs = (FunnelBuildState *) state;
	MemoryContext old;
	int			ln;

	CHECK_FOR_INTERRUPTS();
	if (isnull[0])
		AddToListPage(index, bs, FunnelNullList(&bs->meta), tid);
	else
	{
		old = MemoryContextSwitchTo(bs->tmpCtx);
		FunnelEncodeDatum(bs->entry, values[0], tid, &bs->meta, bs->metric, bs->prefix);
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpCtx);
		ln = FunnelNearestList(bs->dir, &bs->meta, bs->prefix);
		FunnelListAddMember(FunnelDirList(bs->dir, ln, bs->meta.listSize), bs->entry,
							bs->prefix, bs->meta.coarseDims);
		AddToListPage(index, bs, ln, bs->entry);
		FunnelPruneSampleAdd(&bs->pruneSample, values[0], bs->entry, ln);
		/* per-row memory (a detoasted or widened copy) goes with tmpCtx */
		old = MemoryContextSwitchTo(bs->tmpCtx);
		FunnelCalibrationAdd(bs->calibration, values[0], tid, bs->entry, ln);
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpCtx);
	}
	bs->indtuples++;
	ReportDone(bs, (int64) bs->indtuples);
}

/* How many lists: the option, else about sqrt(rows); memory-capped. */
static int
ChooseLists(int option, int64 rows)
{
	int64		maxByMemory = (int64) maintenance_work_mem * 1024 / (2 * BLCKSZ);
	int64		lists = option > 0 ? option :
		Min((int64) (sqrt((double) rows) + 0.5), maxByMemory);

	if (lists > maxByMemory)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a funnel index with %lld lists needs more maintenance_work_mem",
						(long long) lists),
				 errhint("Raise maintenance_work_mem to at least %lld kB, or use fewer lists.",
						 (long long) lists * 2 * BLCKSZ / 1024)));
	return (int) Max(1, Min(lists, Max(rows, 1)));
}

/* ambuild: sample, cluster, then write every row into its list. */
IndexBuildResult *
funnelbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	FunnelBuildState bs;
	int			coarseDims,
				precision,
				lists;
	double		reltuples;
	float	   *centroids;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));
	FunnelGetOptions(index, &coarseDims, &precision, &lists);
	memset(&bs, 0, sizeof(bs));
	FunnelInitMeta(&bs.meta, coarseDims, precision, 1);
	bs.metric = FunnelGetMetric(index);
	bs.entry = palloc0(bs.meta.entrySize);
	bs.prefix = palloc(sizeof(float) * coarseDims);
	bs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "funnel build",
									  ALLOCSET_DEFAULT_SIZES);

	/* pass 1: sample within half of maintenance_work_mem */
	bs.maxSample = Min((int64) maintenance_work_mem * 1024 / 2 / ((int64) sizeof(float) * coarseDims),
					   (int64) KMEANS_SAMPLES_PER_LIST * (lists > 0 ? lists : FUNNEL_MAX_LISTS));
	bs.maxSample = Max(1, bs.maxSample);
	bs.sampleCap = Min(bs.maxSample, 1024);
	bs.sample = MemoryContextAllocHuge(CurrentMemoryContext,
									   sizeof(float) * coarseDims * bs.sampleCap);
	pg_prng_seed(&bs.prng, 0x46756E6E656CULL);
	ReportPhase(&bs, FUNNEL_PHASE_SAMPLE, (int64) Max(heap->rd_rel->reltuples, 0));
	bs.calibration = FunnelCalibrationBegin(&bs.meta, bs.metric);
	table_index_build_scan(heap, index, indexInfo, true, true, SampleCallback, &bs, NULL);

	lists = ChooseLists(lists, bs.seen);
	FunnelInitMeta(&bs.meta, coarseDims, precision, lists);
	bs.nsample = Min(bs.nsample, (int64) KMEANS_SAMPLES_PER_LIST * lists);
	ReportPhase(&bs, FUNNEL_PHASE_KMEANS, 0);
	centroids = bs.nsample > 0 ? FunnelKMeans(bs.sample, bs.nsample, coarseDims, lists) : NULL;
	pfree(bs.sample);
	bs.dir = NewDirectory(&bs.meta, centroids);
	WriteMetaAndDirectory(index, &bs.meta, bs.dir, true);

	/* pass 2 */
	bs.pages = palloc0(sizeof(char *) * FunnelDirRecords(&bs.meta));
	FunnelPruneSampleInit(&bs.pruneSample, &bs.meta);
	ReportPhase(&bs, FUNNEL_PHASE_ASSIGN, bs.rows);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   BuildCallback, &bs, NULL);
	for (int ln = 0; ln < (int) FunnelDirRecords(&bs.meta); ln++)
		if (bs.pages[ln] && FunnelPageGetOpaque(bs.pages[ln])->nentries > 0)
			FlushListPage(index, &bs, ln);
	ReportPhase(&bs, FUNNEL_PHASE_MEASURE, 0);
	FunnelMeasurePruning(index, &bs.pruneSample, &bs.meta, bs.dir, bs.metric,
						 bs.indtuples);
	MemoryContextDelete(bs.pruneSample.ctx);
	FunnelCalibrate(index, bs.calibration, &bs.meta, bs.dir);
	FunnelCalibrationEnd(bs.calibration);
	WriteMetaAndDirectory(index, &bs.meta, bs.dir, false);
	MemoryContextDelete(bs.tmpCtx);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/*
 * ambuildempty: the init fork of an unlogged index: the metapage and the
 * directory of one list and the NULL list.
 */
void
funnelbuildempty(Relation index)
{
	FunnelMetaPageData meta;
	PGAlignedBlock page;
	FunnelList *dir;
	int			coarseDims,
				precision,
				lists;

	FunnelGetOptions(index, &coarseDims, &precision, &lists);
	FunnelInitMeta(&meta, coarseDims, precision, 1);
	dir = NewDirectory(&meta, NULL);
	for (BlockNumber blkno = 0; blkno < meta.dirStart + meta.dirPages; blkno++)
	{
		BlockNumber d = blkno - meta.dirStart;
		Size		used = blkno == 0 ? sizeof(meta) :
			(Size) FunnelListsOnDirPage(&meta, d) * meta.listSize;

		FunnelInitPage(page.data, blkno == 0 ? FUNNEL_META : FUNNEL_DIRECTORY);
		if (blkno == 0)
			memcpy(FunnelPageGetMeta(page.data), &meta, sizeof(meta));
		else
			memcpy(PageGetContents(page.data),
				   FunnelDirList(dir, d * meta.listsPerPage, meta.listSize), used);
		FunnelSetPageUsed(page.data, used);
		PageSetChecksumInplace(page.data, blkno);
		smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, blkno, page.data, true);
		log_newpage(MrlSmgrFileLocator(RelationGetSmgr(index)), INIT_FORKNUM,
					blkno, page.data, true);
	}
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}
