/*
 * funnel_page.c: funnel index pages: build, insert and vacuum.
 *
 * Build makes two passes over the table: the first samples coarse prefixes
 * for k-means (the lists' centroids), the second assigns every row to its
 * nearest list and writes the lists' pages.  Every change goes through
 * generic WAL, so crash recovery and standbys see the same pages.  Inserts
 * and VACUUM's directory updates serialise on the metapage's exclusive lock;
 * scans never lock the metapage after reading it once.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/tableam.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "common/pg_prng.h"
#include "distance.h"
#include "funnel.h"
#include "miscadmin.h"
#include "mvector.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* Bytes usable for entries or directory records on a page. */
#define FUNNEL_PAGE_SPACE \
	((int) (BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(FunnelPageOpaqueData))))

#define KMEANS_ITERATIONS	6
#define KMEANS_SAMPLES_PER_LIST 32

/* Initialise an empty funnel page of any kind. */
void
FunnelInitPage(Page page, uint16 flags)
{
	FunnelPageOpaqueData *opaque;

	PageInit(page, BLCKSZ, sizeof(FunnelPageOpaqueData));
	opaque = FunnelPageGetOpaque(page);
	memset(opaque, 0, sizeof(FunnelPageOpaqueData));
	opaque->next = InvalidBlockNumber;
	opaque->flags = flags;
	opaque->pageId = FUNNEL_PAGE_ID;
}

/* Set pd_lower after the used part so full-page images skip the hole. */
static void
SetPageUsed(Page page, Size used)
{
	((PageHeader) page)->pd_lower = (PageGetContents(page) - (char *) page) + used;
}

/* The metapage fields for these options and list count. */
static void
InitMeta(FunnelMetaPageData *meta, int coarseDims, int precision, int nlists)
{
	memset(meta, 0, sizeof(FunnelMetaPageData));
	meta->magic = FUNNEL_MAGIC;
	meta->version = FUNNEL_VERSION;
	meta->coarseDims = coarseDims;
	meta->precision = precision;
	meta->entrySize = TYPEALIGN(sizeof(float),
								FUNNEL_ENTRY_HEADER + FunnelCodeBytes(coarseDims, precision));
	meta->entriesPerPage = FUNNEL_PAGE_SPACE / meta->entrySize;
	meta->nlists = nlists;
	meta->listSize = TYPEALIGN(sizeof(float),
							   offsetof(FunnelList, centroid) + sizeof(float) * coarseDims);
	meta->listsPerPage = FUNNEL_PAGE_SPACE / meta->listSize;
	meta->dirStart = FUNNEL_METAPAGE_BLKNO + 1;
	meta->dirPages = (nlists + meta->listsPerPage - 1) / meta->listsPerPage;
}

/* Read the index's options, checking an entry and a list record fit a page. */
static void
GetOptions(Relation index, int *coarseDims, int *precision, int *lists)
{
	FunnelOptions *opts = (FunnelOptions *) index->rd_options;
	int			maxDims = (FUNNEL_PAGE_SPACE - (int) offsetof(FunnelList, centroid)) /
		(int) sizeof(float);

	*coarseDims = opts ? opts->coarseDims : 64;
	*precision = opts ? opts->precision : FUNNEL_INT8;
	*lists = opts ? opts->lists : 0;
	if (*coarseDims > maxDims)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("coarse_dims %d is too large for a funnel index", *coarseDims),
				 errhint("Use at most %d dims.", maxDims)));
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

/* Number of directory records on directory page d. */
static uint32
ListsOnDirPage(const FunnelMetaPageData *meta, BlockNumber d)
{
	uint32		first = d * meta->listsPerPage;

	return Min((uint32) meta->listsPerPage, meta->nlists - first);
}

/* A palloc'd copy of all directory records (listSize bytes apart). */
FunnelList *
FunnelReadDirectory(Relation index, const FunnelMetaPageData *meta)
{
	char	   *dir = palloc((Size) meta->nlists * meta->listSize);

	for (BlockNumber d = 0; d < meta->dirPages; d++)
	{
		Buffer		buf = ReadBuffer(index, meta->dirStart + d);
		uint32		first = d * meta->listsPerPage;
		uint32		n = ListsOnDirPage(meta, d);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		memcpy(dir + (Size) first * meta->listSize,
			   PageGetContents(BufferGetPage(buf)), (Size) n * meta->listSize);
		UnlockReleaseBuffer(buf);
	}
	return (FunnelList *) dir;
}

#define DirList(dir, i, size) ((FunnelList *) ((char *) (dir) + (Size) (i) * (size)))

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

/* Write a whole page image into block blkno (P_NEW: a new block), WAL-logged. */
static BlockNumber
WritePage(Relation index, BlockNumber blkno, Page image)
{
	Buffer		buf;
	GenericXLogState *state;
	Page		page;

	if (blkno == P_NEW)
		buf = FunnelNewBuffer(index);
	else
	{
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	}
	blkno = BufferGetBlockNumber(buf);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	memcpy(page, image, BLCKSZ);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return blkno;
}

/* Write the metapage and directory pages (at their fixed blocks). */
static void
WriteMetaAndDirectory(Relation index, const FunnelMetaPageData *meta,
					  const FunnelList *dir, bool isNew)
{
	PGAlignedBlock page;

	FunnelInitPage(page.data, FUNNEL_META);
	memcpy(FunnelPageGetMeta(page.data), meta, sizeof(FunnelMetaPageData));
	SetPageUsed(page.data, sizeof(FunnelMetaPageData));
	WritePage(index, isNew ? P_NEW : FUNNEL_METAPAGE_BLKNO, page.data);

	for (BlockNumber d = 0; d < meta->dirPages; d++)
	{
		uint32		first = d * meta->listsPerPage;
		uint32		n = ListsOnDirPage(meta, d);

		FunnelInitPage(page.data, FUNNEL_DIRECTORY);
		memcpy(PageGetContents(page.data), DirList(dir, first, meta->listSize),
			   (Size) n * meta->listSize);
		SetPageUsed(page.data, (Size) n * meta->listSize);
		WritePage(index, isNew ? P_NEW : meta->dirStart + d, page.data);
	}
}

/* Directory records with these centroids (nlists x coarseDims) and no members. */
static FunnelList *
NewDirectory(const FunnelMetaPageData *meta, const float *centroids)
{
	FunnelList *dir = palloc0((Size) meta->nlists * meta->listSize);

	for (uint32 i = 0; i < meta->nlists; i++)
	{
		FunnelList *list = DirList(dir, i, meta->listSize);

		list->head = InvalidBlockNumber;
		list->insertHint = InvalidBlockNumber;
		list->minResid = FLT_MAX;
		if (centroids)
			memcpy(list->centroid, centroids + (Size) i * meta->coarseDims,
				   sizeof(float) * meta->coarseDims);
	}
	return dir;
}

/* Encode a vector datum into entry; errors on too few dims. */
static void
EncodeDatum(FunnelEntry *entry, Datum value, ItemPointer tid,
			const FunnelMetaPageData *meta, FunnelMetric metric, float *prefix)
{
	MVector    *v = DatumGetMVector(value);

	if (v->dim < meta->coarseDims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("mvector has %d dimensions, fewer than the funnel index's coarse_dims (%d)",
						v->dim, meta->coarseDims),
				 errhint("Index a column whose vectors have at least coarse_dims dimensions, or lower coarse_dims.")));
	FunnelEncode(entry, v->x, v->dim, meta->coarseDims, meta->precision, metric, prefix);
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

/* Float rounding away from zero / toward zero, for bounds kept in floats. */
static float
RoundUp(double x)
{
	return nextafterf((float) (x * (1 + 1e-6)), FLT_MAX);
}

static float
RoundDown(double x)
{
	return Max(0, nextafterf((float) (x * (1 - 1e-6)), 0));
}

/* Widen a list's statistics to cover a new member. */
static void
ListAddMember(FunnelList *list, const FunnelEntry *entry, const float *prefix,
			  int coarseDims)
{
	double		r = sqrt(FunnelSquaredDistance(prefix, list->centroid, coarseDims));
	double		resid = 0;

	for (int s = 0; s < FUNNEL_NSEG; s++)
		resid += (double) entry->rnorm[s] * entry->rnorm[s];
	resid = sqrt(resid);
	list->radius = Max(list->radius, RoundUp(r));
	list->minResid = Min(list->minResid, RoundDown(resid));
	list->maxResid = Max(list->maxResid, RoundUp(resid));
	list->maxNorm = Max(list->maxNorm, RoundUp(entry->norm));
	list->count++;
}

/* The list whose centroid is nearest to the prefix. */
static int
NearestList(const FunnelList *dir, const FunnelMetaPageData *meta, const float *prefix)
{
	int			best = 0;
	float		bestDist = FLT_MAX;

	for (uint32 i = 0; i < meta->nlists; i++)
	{
		float		d = mrl_kernels.l2sq(prefix, DirList(dir, i, meta->listSize)->centroid,
										 meta->coarseDims);

		if (d < bestDist)
		{
			bestDist = d;
			best = i;
		}
	}
	return best;
}

/* ---------- build ---------- */

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

	/* pass 2: the directory and each list's page being filled */
	FunnelList *dir;
	char	  **pages;
	double		indtuples;
} FunnelBuildState;

/* Pass 1 callback: keep a uniform sample of the coarse prefixes. */
static void
SampleCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	FunnelBuildState *bs = (FunnelBuildState *) state;
	MemoryContext old;
	MVector    *v;
	int64		slot;

	CHECK_FOR_INTERRUPTS();
	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	v = DatumGetMVector(values[0]);
	if (v->dim >= bs->meta.coarseDims)
	{
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
			FunnelEncode(bs->entry, v->x, v->dim, bs->meta.coarseDims,
						 bs->meta.precision, bs->metric, bs->prefix);
			memcpy(bs->sample + slot * bs->meta.coarseDims, bs->prefix,
				   sizeof(float) * bs->meta.coarseDims);
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
}

/*
 * Lloyd's k-means on the sample: k centroids, seeded with evenly spaced
 * sample points.  A centroid that loses all its points stays put.
 */
static float *
KMeans(const float *sample, int64 n, int dims, int k)
{
	float	   *centroids = palloc(sizeof(float) * k * dims);
	double	   *sums = palloc(sizeof(double) * k * dims);
	int64	   *counts = palloc(sizeof(int64) * k);

	for (int c = 0; c < k; c++)
		memcpy(centroids + (Size) c * dims, sample + (n * c / k) * dims, sizeof(float) * dims);
	for (int iter = 0; iter < KMEANS_ITERATIONS; iter++)
	{
		memset(sums, 0, sizeof(double) * k * dims);
		memset(counts, 0, sizeof(int64) * k);
		for (int64 i = 0; i < n; i++)
		{
			const float *x = sample + i * dims;
			int			best = 0;
			float		bestDist = FLT_MAX;

			if ((i & 255) == 0)
				CHECK_FOR_INTERRUPTS();
			for (int c = 0; c < k; c++)
			{
				float		d = mrl_kernels.l2sq(x, centroids + (Size) c * dims, dims);

				if (d < bestDist)
				{
					bestDist = d;
					best = c;
				}
			}
			counts[best]++;
			for (int j = 0; j < dims; j++)
				sums[(Size) best * dims + j] += x[j];
		}
		for (int c = 0; c < k; c++)
			for (int j = 0; j < dims && counts[c] > 0; j++)
				centroids[(Size) c * dims + j] = (float) (sums[(Size) c * dims + j] / counts[c]);
	}
	pfree(sums);
	pfree(counts);
	return centroids;
}

/* Write list ln's page being filled, chained before the list's head. */
static void
FlushListPage(Relation index, FunnelBuildState *bs, int ln)
{
	FunnelList *list = DirList(bs->dir, ln, bs->meta.listSize);
	Page		page = bs->pages[ln];

	FunnelPageGetOpaque(page)->next = list->head;
	list->head = WritePage(index, P_NEW, page);
	FunnelInitPage(page, FUNNEL_DATA);
	FunnelPageGetOpaque(page)->listNo = ln;
}

/* Pass 2 callback: one heap row into its nearest list. */
static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *state)
{
	FunnelBuildState *bs = (FunnelBuildState *) state;
	MemoryContext old;
	int			ln;

	CHECK_FOR_INTERRUPTS();
	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	EncodeDatum(bs->entry, values[0], tid, &bs->meta, bs->metric, bs->prefix);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);

	ln = NearestList(bs->dir, &bs->meta, bs->prefix);
	ListAddMember(DirList(bs->dir, ln, bs->meta.listSize), bs->entry, bs->prefix,
				  bs->meta.coarseDims);
	if (bs->pages[ln] == NULL)
	{
		bs->pages[ln] = palloc(BLCKSZ);
		FunnelInitPage(bs->pages[ln], FUNNEL_DATA);
		FunnelPageGetOpaque(bs->pages[ln])->listNo = ln;
	}
	AppendEntry(bs->pages[ln], bs->entry, bs->meta.entrySize);
	if (FunnelPageGetOpaque(bs->pages[ln])->nentries >= bs->meta.entriesPerPage)
		FlushListPage(index, bs, ln);
	bs->indtuples++;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
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
	GetOptions(index, &coarseDims, &precision, &lists);
	memset(&bs, 0, sizeof(bs));
	InitMeta(&bs.meta, coarseDims, precision, 1);
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
	table_index_build_scan(heap, index, indexInfo, true, true, SampleCallback, &bs, NULL);

	lists = ChooseLists(lists, bs.seen);
	InitMeta(&bs.meta, coarseDims, precision, lists);
	bs.nsample = Min(bs.nsample, (int64) KMEANS_SAMPLES_PER_LIST * lists);
	centroids = bs.nsample > 0 ? KMeans(bs.sample, bs.nsample, coarseDims, lists) : NULL;
	pfree(bs.sample);
	bs.dir = NewDirectory(&bs.meta, centroids);
	WriteMetaAndDirectory(index, &bs.meta, bs.dir, true);

	/* pass 2 */
	bs.pages = palloc0(sizeof(char *) * lists);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   BuildCallback, &bs, NULL);
	for (int ln = 0; ln < lists; ln++)
		if (bs.pages[ln] && FunnelPageGetOpaque(bs.pages[ln])->nentries > 0)
			FlushListPage(index, &bs, ln);
	WriteMetaAndDirectory(index, &bs.meta, bs.dir, false);
	MemoryContextDelete(bs.tmpCtx);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/* ambuildempty: the init fork of an unlogged index: metapage + one list. */
void
funnelbuildempty(Relation index)
{
	FunnelMetaPageData meta;
	PGAlignedBlock page;
	FunnelList *dir;
	int			coarseDims,
				precision,
				lists;

	GetOptions(index, &coarseDims, &precision, &lists);
	InitMeta(&meta, coarseDims, precision, 1);
	dir = NewDirectory(&meta, NULL);
	for (BlockNumber blkno = 0; blkno <= meta.dirStart; blkno++)
	{
		FunnelInitPage(page.data, blkno == 0 ? FUNNEL_META : FUNNEL_DIRECTORY);
		if (blkno == 0)
			memcpy(FunnelPageGetMeta(page.data), &meta, sizeof(meta));
		else
			memcpy(PageGetContents(page.data), dir, meta.listSize);
		SetPageUsed(page.data, blkno == 0 ? sizeof(meta) : (Size) meta.listSize);
		PageSetChecksumInplace(page.data, blkno);
		smgrwrite(RelationGetSmgr(index), INIT_FORKNUM, blkno, page.data, true);
		log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
					blkno, page.data, true);
	}
	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
}

/* ---------- insert ---------- */

/*
 * Add the entry to data page blkno of list slot if it has room, widening
 * the list's statistics in the same WAL record.
 */
static bool
AddToPage(Relation index, BlockNumber blkno, Buffer dirBuf, int slot,
		  const FunnelMetaPageData *meta, const FunnelEntry *entry,
		  const float *prefix, bool clearHint)
{
	Buffer		buf = ReadBuffer(index, blkno);
	GenericXLogState *state;
	Page		page;
	FunnelList *list;
	bool		added = false;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	if (!PageIsNew(page) &&
		FunnelPageGetOpaque(page)->nentries < meta->entriesPerPage)
	{
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		AppendEntry(page, entry, meta->entrySize);
		list = FunnelPageGetList(GenericXLogRegisterBuffer(state, dirBuf, 0), slot,
								 meta->listSize);
		ListAddMember(list, entry, prefix, meta->coarseDims);
		if (clearHint ||
			(list->insertHint == blkno &&
			 FunnelPageGetOpaque(page)->nentries >= meta->entriesPerPage))
			list->insertHint = InvalidBlockNumber;
		GenericXLogFinish(state);
		added = true;
	}
	UnlockReleaseBuffer(buf);
	return added;
}

/*
 * aminsert: into the nearest list, on the page VACUUM left with room, else
 * on the list's newest page, else on a new page chained before it.
 */
bool
funnelinsert(Relation index, Datum *values, bool *isnull, ItemPointer ht_ctid,
			 Relation heapRel, IndexUniqueCheck checkUnique,
			 bool indexUnchanged, IndexInfo *indexInfo)
{
	MemoryContext ctx,
				old;
	FunnelMetaPageData meta;
	FunnelEntry *entry;
	FunnelList *dir,
			   *list;
	float	   *prefix;
	Buffer		metaBuf,
				dirBuf,
				buf;
	GenericXLogState *state;
	Page		page;
	int			ln,
				slot;
	bool		clearHint = false;

	if (isnull[0])
		return false;
	ctx = AllocSetContextCreate(CurrentMemoryContext, "funnel insert", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(ctx);

	metaBuf = ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);
	LockBuffer(metaBuf, BUFFER_LOCK_EXCLUSIVE);
	meta = *FunnelPageGetMeta(BufferGetPage(metaBuf));
	entry = palloc0(meta.entrySize);
	prefix = palloc(sizeof(float) * meta.coarseDims);
	EncodeDatum(entry, values[0], ht_ctid, &meta, FunnelGetMetric(index), prefix);
	dir = FunnelReadDirectory(index, &meta);
	ln = NearestList(dir, &meta, prefix);
	slot = ln % meta.listsPerPage;

	dirBuf = ReadBuffer(index, meta.dirStart + ln / meta.listsPerPage);
	LockBuffer(dirBuf, BUFFER_LOCK_EXCLUSIVE);
	list = FunnelPageGetList(BufferGetPage(dirBuf), slot, meta.listSize);
	if (list->insertHint != InvalidBlockNumber && list->insertHint != list->head)
	{
		if (AddToPage(index, list->insertHint, dirBuf, slot, &meta, entry, prefix, false))
			goto done;
		clearHint = true;
	}
	if (list->head != InvalidBlockNumber &&
		AddToPage(index, list->head, dirBuf, slot, &meta, entry, prefix, clearHint))
		goto done;

	buf = FunnelNewBuffer(index);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	FunnelInitPage(page, FUNNEL_DATA);
	FunnelPageGetOpaque(page)->listNo = ln;
	FunnelPageGetOpaque(page)->next = list->head;
	AppendEntry(page, entry, meta.entrySize);
	list = FunnelPageGetList(GenericXLogRegisterBuffer(state, dirBuf, 0), slot, meta.listSize);
	list->head = BufferGetBlockNumber(buf);
	if (clearHint)
		list->insertHint = InvalidBlockNumber;
	ListAddMember(list, entry, prefix, meta.coarseDims);
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);

done:
	UnlockReleaseBuffer(dirBuf);
	UnlockReleaseBuffer(metaBuf);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}

/* ---------- vacuum ---------- */

/* Record insert hints (one page with room per list) in the directory. */
static void
SetInsertHints(Relation index, const FunnelMetaPageData *meta, const BlockNumber *hints)
{
	Buffer		metaBuf = ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);

	LockBuffer(metaBuf, BUFFER_LOCK_EXCLUSIVE);
	for (BlockNumber d = 0; d < meta->dirPages; d++)
	{
		Buffer		buf = ReadBuffer(index, meta->dirStart + d);
		uint32		first = d * meta->listsPerPage;
		uint32		n = ListsOnDirPage(meta, d);
		GenericXLogState *state;
		Page		page;
		bool		changed = false;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		for (uint32 i = 0; i < n; i++)
		{
			FunnelList *list = FunnelPageGetList(page, i, meta->listSize);

			if (hints[first + i] != InvalidBlockNumber && hints[first + i] != list->head &&
				list->insertHint != hints[first + i])
			{
				list->insertHint = hints[first + i];
				changed = true;
			}
		}
		if (changed)
			GenericXLogFinish(state);
		else
			GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
	}
	UnlockReleaseBuffer(metaBuf);
}

/*
 * ambulkdelete: drop the entries whose heap rows are dead, compacting each
 * data page, and point each list's inserts at a page with room.
 */
IndexBulkDeleteResult *
funnelbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				 IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	FunnelMetaPageData meta;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber *hints;
	double		kept = 0;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	FunnelReadMeta(index, &meta);
	hints = palloc(sizeof(BlockNumber) * meta.nlists);
	for (uint32 i = 0; i < meta.nlists; i++)
		hints[i] = InvalidBlockNumber;

	for (BlockNumber blkno = meta.dirStart + meta.dirPages; blkno < nblocks; blkno++)
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
		if (PageIsNew(BufferGetPage(buf)) ||
			!(FunnelPageGetOpaque(BufferGetPage(buf))->flags & FUNNEL_DATA))
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
		if (j < meta.entriesPerPage && opaque->listNo < meta.nlists &&
			hints[opaque->listNo] == InvalidBlockNumber)
			hints[opaque->listNo] = blkno;
		if (j != n)
		{
			opaque->nentries = j;
			SetPageUsed(page, (Size) j * meta.entrySize);
			GenericXLogFinish(state);
		}
		else
			GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
	}
	SetInsertHints(index, &meta, hints);

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

	if (info->analyze_only || stats != NULL)
		return stats;

	stats = palloc0(sizeof(IndexBulkDeleteResult));
	nblocks = RelationGetNumberOfBlocks(index);
	for (BlockNumber blkno = FUNNEL_METAPAGE_BLKNO + 1; blkno < nblocks; blkno++)
	{
		Buffer		buf;
		Page		page;

		vacuum_delay_point();
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
