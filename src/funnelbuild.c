/*
 * funnelbuild.c: building a funnel index (ambuild, ambuildempty).
 *
 * Build makes two passes over the table: the first samples coarse prefixes
 * for k-means (the lists' centroids), rows on which funnelcost.c measures
 * how well the bounds prune, and queries for funnelcalibrate.c; the second
 * assigns every row to a list (its nearest, or with many lists the nearest
 * of a few groups', FunnelAssignList) and writes the lists' pages.  Every
 * page is WAL-logged.
 *
 * With max_parallel_maintenance_workers, workers and the leader share the
 * second pass, the costly one (a code and a nearest centroid per row, and
 * the calibration's comparisons): each encodes its rows into a shared
 * tuplesort ordered by list and heap pointer, and keeps its own lists'
 * statistics and calibration neighbours, which the leader merges; the
 * leader then writes each list's pages from the sorted entries.  The first
 * pass and k-means stay serial and work on bounded samples, so a parallel
 * build makes the same lists with the same entries in the same order, and
 * the same calibration, as a serial one.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/parallel.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "common/pg_prng.h"
#include "funnel.h"
#include "miscadmin.h"
#include "mvector.h"
#include "optimizer/optimizer.h"
#include "pgcompat.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/condition_variable.h"
#include "storage/smgr.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/tuplesort.h"

#define KMEANS_SAMPLES_PER_LIST 32

/* Build phases in pg_stat_progress_create_index (funnelbuildphasename). */
#define FUNNEL_PHASE_SAMPLE		2
#define FUNNEL_PHASE_KMEANS		3
#define FUNNEL_PHASE_ASSIGN		4
#define FUNNEL_PHASE_MEASURE	5
#define FUNNEL_PHASE_WRITE		6	/* parallel builds: sorted entries to pages */

/* Keys of the parallel build's shared memory table of contents. */
#define FUNNEL_KEY_SHARED		UINT64CONST(0xF0E1000000000001)
#define FUNNEL_KEY_SCAN			UINT64CONST(0xF0E1000000000002)
#define FUNNEL_KEY_SORT			UINT64CONST(0xF0E1000000000003)
#define FUNNEL_KEY_DIRECTORY	UINT64CONST(0xF0E1000000000004)
#define FUNNEL_KEY_QUERIES		UINT64CONST(0xF0E1000000000005)
#define FUNNEL_KEY_RESULTS		UINT64CONST(0xF0E1000000000006)
#define FUNNEL_KEY_QUERY_TEXT	UINT64CONST(0xF0E1000000000007)
#define FUNNEL_KEY_GROUPS		UINT64CONST(0xF0E1000000000008)

/*
 * What the participants of a parallel second pass share.  Each worker
 * leaves in the results area (its ParallelWorkerNumber's part) its copy of
 * the directory, with its members' statistics, and its calibration
 * neighbours, before it counts itself done.
 */
typedef struct FunnelShared
{
	/* set by the leader before launching the workers */
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	int			scantuplesortstates;	/* workers asked for + the leader */
	FunnelMetaPageData meta;
	Size		dirSize;		/* bytes of the directory */
	Size		groupsSize;		/* bytes of the lists' groups; 0: none */
	Size		nearSize;		/* bytes of a participant's neighbours */

	ConditionVariable workersdonecv;	/* signalled as each one is done */
	pg_atomic_uint64 rowsDone;	/* rows the participants went through */
	slock_t		mutex;			/* protects the fields below */
	int			nparticipantsdone;
	double		reltuples;
	double		indtuples;
} FunnelShared;

/* The leader's handle on a parallel second pass. */
typedef struct FunnelLeader
{
	ParallelContext *pcxt;
	int			nparticipants;	/* workers launched + the leader */
	FunnelShared *shared;
	Sharedsort *sharedsort;
	char	   *results;
	Snapshot	snapshot;
} FunnelLeader;

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

	FunnelPruneSample pruneSample;	/* rows to measure pruning on */

	/* pass 2: the directory and each list's page being filled */
	FunnelList *dir;
	FunnelGroups *groups;		/* of hierarchical k-means, else NULL */
	char	  **pages;
	double		indtuples;
	FunnelCalibration *calibration; /* queries sampled in pass 1 */

	/* a participant of a parallel pass 2: its rows go to a shared sort */
	FunnelShared *shared;
	Tuplesortstate *sortstate;
	TupleTableSlot *slot;
	bytea	   *entryDatum;		/* an entry as the sort's bytea column */
	bool		isLeader;
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
		case FUNNEL_PHASE_WRITE:
			return "writing lists";
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
		FunnelPruneSampleAdd(&bs->pruneSample, values[0], tid);
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

/*
 * Pass 2: encode a non-NULL row into bs->entry, find its list and count it
 * in the list's statistics and in the calibration.  Returns the list.
 */
static int
AssignRow(FunnelBuildState *bs, Datum value, ItemPointer tid)
{
	MemoryContext old;
	int			ln;

	old = MemoryContextSwitchTo(bs->tmpCtx);
	FunnelEncodeDatum(bs->entry, value, tid, &bs->meta, bs->metric, bs->prefix);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
	ln = FunnelAssignList(bs->groups, bs->dir, &bs->meta, bs->prefix);
	FunnelListAddMember(FunnelDirList(bs->dir, ln, bs->meta.listSize), bs->entry,
						bs->prefix, bs->meta.coarseDims);
	/* per-row memory (a detoasted or widened copy) goes with tmpCtx */
	old = MemoryContextSwitchTo(bs->tmpCtx);
	FunnelCalibrationAdd(bs->calibration, value, tid, bs->entry, ln);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
	return ln;
}

/* Serial pass 2 callback: one heap row into its list's page. */
static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *state)
{
	FunnelBuildState *bs = (FunnelBuildState *) state;

	CHECK_FOR_INTERRUPTS();
	if (isnull[0])
		AddToListPage(index, bs, FunnelNullList(&bs->meta), tid);
	else
		AddToListPage(index, bs, AssignRow(bs, values[0], tid), bs->entry);
	bs->indtuples++;
	ReportDone(bs, (int64) bs->indtuples);
}

/*
 * Parallel pass 2 callback: one heap row, as (list, heap pointer, entry),
 * into the participant's part of the shared sort.  The leader reports the
 * rows all participants went through.
 */
static void
SortCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			 bool tupleIsAlive, void *state)
{
	FunnelBuildState *bs = (FunnelBuildState *) state;
	int			ln = FunnelNullList(&bs->meta);
	const void *entry = tid;
	uint64		done;

	CHECK_FOR_INTERRUPTS();
	if (!isnull[0])
	{
		ln = AssignRow(bs, values[0], tid);
		entry = bs->entry;
	}
	SET_VARSIZE(bs->entryDatum, VARHDRSZ + FunnelEntrySizeOf(&bs->meta, ln));
	memcpy(VARDATA(bs->entryDatum), entry, FunnelEntrySizeOf(&bs->meta, ln));
	ExecClearTuple(bs->slot);
	bs->slot->tts_values[0] = Int32GetDatum(ln);
	bs->slot->tts_isnull[0] = false;
	bs->slot->tts_values[1] = PointerGetDatum(tid);
	bs->slot->tts_isnull[1] = false;
	bs->slot->tts_values[2] = PointerGetDatum(bs->entryDatum);
	bs->slot->tts_isnull[2] = false;
	ExecStoreVirtualTuple(bs->slot);
	tuplesort_puttupleslot(bs->sortstate, bs->slot);
	bs->indtuples++;
	done = pg_atomic_add_fetch_u64(&bs->shared->rowsDone, 1);
	if (bs->isLeader)
		ReportDone(bs, (int64) done);
}

/* The shared sort's rows: list number, heap pointer, entry. */
static TupleDesc
SortTupleDesc(void)
{
	TupleDesc	desc = CreateTemplateTupleDesc(3);

	TupleDescInitEntry(desc, 1, "list", INT4OID, -1, 0);
	TupleDescInitEntry(desc, 2, "tid", TIDOID, -1, 0);
	TupleDescInitEntry(desc, 3, "entry", BYTEAOID, -1, 0);
	return desc;
}

/*
 * A participant's sort (coordinate->isWorker) or the leader's merge of
 * them: by list, then heap pointer, which is the order a serial build's
 * scan meets them in.
 */
static Tuplesortstate *
BeginSort(Sharedsort *sharedsort, bool isWorker,
		  int nparticipants, int workMem)
{
	SortCoordinate coordinate = palloc0(sizeof(SortCoordinateData));
	AttrNumber	attNums[] = {1, 2};
	Oid			sortOperators[] = {Int4LessOperator, TIDLessOperator};
	Oid			sortCollations[] = {InvalidOid, InvalidOid};
	bool		nullsFirstFlags[] = {false, false};

	coordinate->isWorker = isWorker;
	coordinate->nParticipants = isWorker ? -1 : nparticipants;
	coordinate->sharedsort = sharedsort;
	return tuplesort_begin_heap(SortTupleDesc(), 2, attNums, sortOperators,
								sortCollations, nullsFirstFlags, workMem,
								coordinate, TUPLESORT_NONE);
}

/*
 * A participant's share of pass 2: its rows of the parallel heap scan into
 * its part of the sort; then a worker leaves its lists' statistics and
 * calibration neighbours at results (the leader keeps its own), and counts
 * itself done.
 */
static void
ParticipateInScan(FunnelBuildState *bs, Relation heap, Relation index,
				  IndexInfo *indexInfo, ParallelTableScanDesc pscan,
				  Sharedsort *sharedsort, char *results)
{
	FunnelShared *shared = bs->shared;
	TupleDesc	desc = SortTupleDesc();
	double		reltuples;

	bs->sortstate = BeginSort(sharedsort, true, 0,
							  Max(64, maintenance_work_mem / shared->scantuplesortstates));
	bs->slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
	bs->entryDatum = palloc(VARHDRSZ + bs->meta.entrySize);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, bs->isLeader,
									   SortCallback, bs,
									   table_beginscan_parallel(heap, pscan));
	tuplesort_performsort(bs->sortstate);
	if (results)
	{
		memcpy(results, bs->dir, shared->dirSize);
		FunnelCalibrationSaveNear(bs->calibration, results + MAXALIGN(shared->dirSize));
	}
	SpinLockAcquire(&shared->mutex);
	shared->nparticipantsdone++;
	shared->reltuples += reltuples;
	shared->indtuples += bs->indtuples;
	SpinLockRelease(&shared->mutex);
	ConditionVariableSignal(&shared->workersdonecv);
	tuplesort_end(bs->sortstate);
	ExecDropSingleTupleTableSlot(bs->slot);
}

/* Pass 2 state of a participant: codes, prefix, scratch memory. */
static void
InitAssignState(FunnelBuildState *bs)
{
	bs->entry = palloc0(bs->meta.entrySize);
	bs->prefix = palloc(sizeof(float) * bs->meta.coarseDims);
	bs->tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "funnel build",
									   ALLOCSET_DEFAULT_SIZES);
}

/*
 * Parallel worker entry point: open the relations with the locks the
 * leader holds, take the leader's directory and calibration queries, and
 * do a share of pass 2.
 */
void
FunnelParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	FunnelShared *shared = shm_toc_lookup(toc, FUNNEL_KEY_SHARED, false);
	Sharedsort *sharedsort = shm_toc_lookup(toc, FUNNEL_KEY_SORT, false);
	char	   *results = shm_toc_lookup(toc, FUNNEL_KEY_RESULTS, false);
	LOCKMODE	heapLock = shared->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	LOCKMODE	indexLock = shared->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;
	FunnelBuildState bs;

	debug_query_string = shm_toc_lookup(toc, FUNNEL_KEY_QUERY_TEXT, true);
	pgstat_report_activity(STATE_RUNNING, debug_query_string);
	heap = table_open(shared->heaprelid, heapLock);
	index = index_open(shared->indexrelid, indexLock);
	indexInfo = BuildIndexInfo(index);
	indexInfo->ii_Concurrent = shared->isconcurrent;

	memset(&bs, 0, sizeof(bs));
	bs.meta = shared->meta;
	bs.metric = FunnelGetMetric(index);
	InitAssignState(&bs);
	bs.dir = palloc(shared->dirSize);
	memcpy(bs.dir, shm_toc_lookup(toc, FUNNEL_KEY_DIRECTORY, false), shared->dirSize);
	if (shared->groupsSize > 0)
		bs.groups = FunnelGroupsLoad(shm_toc_lookup(toc, FUNNEL_KEY_GROUPS, false));
	bs.calibration = FunnelCalibrationLoadQueries(&bs.meta, bs.metric,
												  shm_toc_lookup(toc, FUNNEL_KEY_QUERIES, false));
	bs.shared = shared;
	tuplesort_attach_shared(sharedsort, seg);
	ParticipateInScan(&bs, heap, index, indexInfo,
					  shm_toc_lookup(toc, FUNNEL_KEY_SCAN, false), sharedsort,
					  results + ParallelWorkerNumber *
					  (MAXALIGN(shared->dirSize) + shared->nearSize));
	index_close(index, indexLock);
	table_close(heap, heapLock);
}

/* Put bytes at a new key of the parallel context's shared memory. */
static void *
ShareBytes(ParallelContext *pcxt, uint64 key, const void *data, Size size)
{
	void	   *place = shm_toc_allocate(pcxt->toc, size);

	if (data)
		memcpy(place, data, size);
	shm_toc_insert(pcxt->toc, key, place);
	return place;
}

/* End a parallel pass 2: wait for the workers, free the shared memory. */
static void
EndParallel(FunnelLeader *leader)
{
	WaitForParallelWorkersToFinish(leader->pcxt);
	if (IsMVCCSnapshot(leader->snapshot))
		UnregisterSnapshot(leader->snapshot);
	DestroyParallelContext(leader->pcxt);
	ExitParallelMode();
}

/*
 * Launch up to nworkers workers for pass 2, sharing the directory and the
 * calibration queries.  NULL when none could start (the build goes on
 * serially).
 */
static FunnelLeader *
BeginParallel(FunnelBuildState *bs, Relation heap, Relation index, bool isconcurrent,
			  int nworkers)
{
	FunnelLeader *leader = palloc0(sizeof(FunnelLeader));
	ParallelContext *pcxt;
	FunnelShared *shared;
	Snapshot	snapshot;
	Size		dirSize = (Size) FunnelDirRecords(&bs->meta) * bs->meta.listSize;
	Size		groupsSize = bs->groups ? FunnelGroupsSize(bs->groups) : 0;
	Size		nearSize = FunnelCalibrationNearSize(bs->calibration);
	Size		queriesSize = FunnelCalibrationQueriesSize(bs->calibration);
	Size		resultsSize = (MAXALIGN(dirSize) + nearSize) * nworkers;
	Size		scanSize;
	Size		sortSize = tuplesort_estimate_shared(nworkers + 1);
	int			querylen = debug_query_string ? strlen(debug_query_string) + 1 : 0;

	EnterParallelMode();
	pcxt = CreateParallelContext("mrl", "FunnelParallelBuildMain", nworkers);
	snapshot = isconcurrent ? RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;
	scanSize = table_parallelscan_estimate(heap, snapshot);
	shm_toc_estimate_chunk(&pcxt->estimator, sizeof(FunnelShared));
	shm_toc_estimate_chunk(&pcxt->estimator, scanSize);
	shm_toc_estimate_chunk(&pcxt->estimator, sortSize);
	shm_toc_estimate_chunk(&pcxt->estimator, dirSize);
	shm_toc_estimate_chunk(&pcxt->estimator, queriesSize);
	shm_toc_estimate_chunk(&pcxt->estimator, resultsSize);
	shm_toc_estimate_keys(&pcxt->estimator, 6);
	if (groupsSize > 0)
	{
		shm_toc_estimate_chunk(&pcxt->estimator, groupsSize);
		shm_toc_estimate_keys(&pcxt->estimator, 1);
	}
	if (querylen > 0)
	{
		shm_toc_estimate_chunk(&pcxt->estimator, querylen);
		shm_toc_estimate_keys(&pcxt->estimator, 1);
	}
	InitializeParallelDSM(pcxt);
	leader->pcxt = pcxt;
	leader->snapshot = snapshot;
	if (pcxt->seg == NULL)
	{
		EndParallel(leader);
		return NULL;
	}

	shared = ShareBytes(pcxt, FUNNEL_KEY_SHARED, NULL, sizeof(FunnelShared));
	memset(shared, 0, sizeof(FunnelShared));
	shared->heaprelid = RelationGetRelid(heap);
	shared->indexrelid = RelationGetRelid(index);
	shared->isconcurrent = isconcurrent;
	shared->scantuplesortstates = nworkers + 1;
	shared->meta = bs->meta;
	shared->dirSize = dirSize;
	shared->groupsSize = groupsSize;
	shared->nearSize = nearSize;
	ConditionVariableInit(&shared->workersdonecv);
	pg_atomic_init_u64(&shared->rowsDone, 0);
	SpinLockInit(&shared->mutex);
	table_parallelscan_initialize(heap, ShareBytes(pcxt, FUNNEL_KEY_SCAN, NULL, scanSize),
								  snapshot);
	leader->sharedsort = ShareBytes(pcxt, FUNNEL_KEY_SORT, NULL, sortSize);
	tuplesort_initialize_shared(leader->sharedsort, nworkers + 1, pcxt->seg);
	ShareBytes(pcxt, FUNNEL_KEY_DIRECTORY, bs->dir, dirSize);
	if (groupsSize > 0)
		FunnelGroupsSave(bs->groups, ShareBytes(pcxt, FUNNEL_KEY_GROUPS, NULL, groupsSize));
	FunnelCalibrationSaveQueries(bs->calibration,
								 ShareBytes(pcxt, FUNNEL_KEY_QUERIES, NULL, queriesSize));
	leader->results = ShareBytes(pcxt, FUNNEL_KEY_RESULTS, NULL, resultsSize);
	if (querylen > 0)
		ShareBytes(pcxt, FUNNEL_KEY_QUERY_TEXT, debug_query_string, querylen);
	leader->shared = shared;

	LaunchParallelWorkers(pcxt);
	if (pcxt->nworkers_launched == 0)
	{
		EndParallel(leader);
		return NULL;
	}
	leader->nparticipants = pcxt->nworkers_launched + 1;
	ereport(DEBUG1,
			(errmsg_internal("funnel index \"%s\": %d parallel workers launched",
							 RelationGetRelationName(index), pcxt->nworkers_launched)));
	return leader;
}

/* Merge a participant's lists' statistics (list by list) into dir. */
static void
MergeListStatistics(FunnelList *dir, const FunnelList *from, const FunnelMetaPageData *meta)
{
	for (uint32 i = 0; i < FunnelDirRecords(meta); i++)
	{
		FunnelList *to = FunnelDirList(dir, i, meta->listSize);
		const FunnelList *part = FunnelDirList(from, i, meta->listSize);

		to->radius = Max(to->radius, part->radius);
		to->minResid = Min(to->minResid, part->minResid);
		to->maxResid = Max(to->maxResid, part->maxResid);
		to->maxNorm = Max(to->maxNorm, part->maxNorm);
		to->count += part->count;
	}
}

/*
 * Parallel pass 2, in the leader: take a share of the rows, wait for the
 * workers (reporting the rows all have gone through), merge their
 * statistics and neighbours, then write every list's pages from the
 * sorted entries.  Returns the heap rows scanned.
 */
static double
ParallelPass2(FunnelBuildState *bs, FunnelLeader *leader, Relation heap, Relation index,
			  IndexInfo *indexInfo)
{
	FunnelShared *shared = leader->shared;
	Tuplesortstate *sortstate;
	TupleTableSlot *slot;
	double		reltuples;
	int64		written = 0;

	bs->shared = shared;
	bs->isLeader = true;
	ParticipateInScan(bs, heap, index, indexInfo,
					  shm_toc_lookup(leader->pcxt->toc, FUNNEL_KEY_SCAN, false),
					  leader->sharedsort, NULL);
	WaitForParallelWorkersToAttach(leader->pcxt);
	for (;;)
	{
		int			done;

		SpinLockAcquire(&shared->mutex);
		done = shared->nparticipantsdone;
		SpinLockRelease(&shared->mutex);
		if (done == leader->nparticipants)
			break;
		ReportDone(bs, (int64) pg_atomic_read_u64(&shared->rowsDone));
		ConditionVariableTimedSleep(&shared->workersdonecv, 1000,
									WAIT_EVENT_PARALLEL_CREATE_INDEX_SCAN);
	}
	ConditionVariableCancelSleep();
	ReportDone(bs, (int64) pg_atomic_read_u64(&shared->rowsDone));
	for (int w = 0; w < leader->nparticipants - 1; w++)
	{
		char	   *part = leader->results + w * (MAXALIGN(shared->dirSize) + shared->nearSize);

		MergeListStatistics(bs->dir, (FunnelList *) part, &bs->meta);
		FunnelCalibrationMergeNear(bs->calibration, part + MAXALIGN(shared->dirSize));
	}
	reltuples = shared->reltuples;
	bs->indtuples = shared->indtuples;

	ReportPhase(bs, FUNNEL_PHASE_WRITE, (int64) bs->indtuples);
	sortstate = BeginSort(leader->sharedsort, false, leader->nparticipants,
						  maintenance_work_mem);
	tuplesort_performsort(sortstate);
	slot = MakeSingleTupleTableSlot(SortTupleDesc(), &TTSOpsMinimalTuple);
	while (tuplesort_gettupleslot(sortstate, true, false, slot, NULL))
	{
		bool		isnull;
		int			ln = DatumGetInt32(slot_getattr(slot, 1, &isnull));
		Pointer		entry = DatumGetPointer(slot_getattr(slot, 3, &isnull));

		CHECK_FOR_INTERRUPTS();
		AddToListPage(index, bs, ln, VARDATA_ANY(entry));
		if ((++written & 1023) == 0)
			ReportDone(bs, written);
	}
	ReportDone(bs, written);
	ExecDropSingleTupleTableSlot(slot);
	tuplesort_end(sortstate);
	EndParallel(leader);
	return reltuples;
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

/*
 * Pass 2 over the heap, serial or shared with parallel workers (as many as
 * the planner's rules for CREATE INDEX allow): every row into its list.
 * Returns the heap rows scanned.
 */
static double
Pass2(FunnelBuildState *bs, Relation heap, Relation index, IndexInfo *indexInfo)
{
	int			nworkers = MrlIndexBuildWorkers(heap, index, indexInfo);
	FunnelLeader *leader = NULL;
	double		reltuples;

	bs->pages = palloc0(sizeof(char *) * FunnelDirRecords(&bs->meta));
	elog(DEBUG1, "funnel index \"%s\": %d parallel workers planned",
		 RelationGetRelationName(index), nworkers);
	if (nworkers > 0)
		leader = BeginParallel(bs, heap, index, indexInfo->ii_Concurrent, nworkers);
	if (leader)
		reltuples = ParallelPass2(bs, leader, heap, index, indexInfo);
	else
		reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
										   BuildCallback, bs, NULL);
	for (int ln = 0; ln < (int) FunnelDirRecords(&bs->meta); ln++)
		if (bs->pages[ln] && FunnelPageGetOpaque(bs->pages[ln])->nentries > 0)
			FlushListPage(index, bs, ln);
	return reltuples;
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
	InitAssignState(&bs);

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
	FunnelPruneSampleInit(&bs.pruneSample, &bs.meta);
	table_index_build_scan(heap, index, indexInfo, true, true, SampleCallback, &bs, NULL);

	lists = ChooseLists(lists, bs.seen);
	FunnelInitMeta(&bs.meta, coarseDims, precision, lists);
	bs.nsample = Min(bs.nsample, (int64) KMEANS_SAMPLES_PER_LIST * lists);
	ReportPhase(&bs, FUNNEL_PHASE_KMEANS, 0);
	centroids = bs.nsample > 0 ?
		FunnelKMeans(bs.sample, bs.nsample, coarseDims, lists, &bs.groups) : NULL;
	elog(DEBUG1, "funnel index \"%s\": %d lists by k-means on %lld sampled prefixes, %s",
		 RelationGetRelationName(index), lists, (long long) bs.nsample,
		 bs.groups ? psprintf("in %d groups", bs.groups->ngroups) : "flat");
	pfree(bs.sample);
	bs.dir = NewDirectory(&bs.meta, centroids);
	WriteMetaAndDirectory(index, &bs.meta, bs.dir, true);
	FunnelPruneSampleAssign(&bs.pruneSample, &bs.meta, bs.dir, bs.groups, bs.metric);

	ReportPhase(&bs, FUNNEL_PHASE_ASSIGN, bs.rows);
	reltuples = Pass2(&bs, heap, index, indexInfo);
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
