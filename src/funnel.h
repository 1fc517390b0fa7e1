/*
 * funnel.h: the funnel index access method.
 *
 * A funnel index keeps, per heap row, a compact code of the first
 * coarse_dims dimensions plus the norms of the remaining dimensions in a few
 * Matryoshka segments.  From them a scan computes a LOWER BOUND of the full
 * distance to the query; rows come out in increasing bound order and the
 * executor (exact mode) or the index itself (approximate mode) reranks them
 * on the full vectors read from the heap.
 *
 * Rows are partitioned IVF-style: k-means on the coarse prefixes at build
 * time gives lists, each with a centroid and a radius, so a scan bounds a
 * whole list at once and opens lists only while they can still hold the
 * next row.
 *
 * Rows with a NULL vector are kept too, as bare heap pointers in one more
 * list, and returned after all others, as a sequential scan's ORDER BY
 * distance returns them.
 *
 * Layout: block 0 is the metapage, then the list directory, then data
 * pages, each holding fixed-size entries of one list packed after the page
 * header and chained newest to oldest.  VACUUM unlinks the empty pages at
 * the old end of a chain and records them in the free space map, from which
 * any list takes its next new page.  All page changes are WAL-logged with
 * generic WAL.
 *
 * This header is what the index's files share: funnel.c (handler, options,
 * settings, validation), funnelcost.c (pruning measure, cost estimate),
 * funnelcode.c (codes, bounds, estimates), funnelutils.c (pages, metapage,
 * directory), funnelkmeans.c, funnelbuild.c, funnelinsert.c, funnelscan.c,
 * funnelvacuum.c.
 */
#ifndef FUNNEL_H
#define FUNNEL_H

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/itup.h"
#include "common/pg_prng.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "storage/dsm.h"
#include "storage/shm_toc.h"
#include "utils/relcache.h"

#define FUNNEL_MAGIC		0x464E4C31	/* "FNL1" */
#define FUNNEL_VERSION		6	/* 2: IVF lists, 3: page sequence numbers,
									 * 4: the NULL list, 5: residual sign bits
									 * and calibrated scan defaults, 6: the
									 * sample's far distance */
#define FUNNEL_OLDEST_VERSION	5	/* the oldest this code reads: a version 5
									 * metapage reads farDistance 0 */
#define FunnelVersionReadable(meta) \
	((meta)->version >= FUNNEL_OLDEST_VERSION && (meta)->version <= FUNNEL_VERSION)
#define FUNNEL_METAPAGE_BLKNO	0

/* Residual (non-prefix) dimensions are summarised by this many norms. */
#define FUNNEL_NSEG			4

/* At most this many residual dims are also kept as sign bits per entry. */
#define FUNNEL_MAX_SIGN_DIMS	2048

/* Lists when the "lists" option is 0: about sqrt(rows), within these. */
#define FUNNEL_MAX_LISTS	32768

/* Support functions: 1 = the distance, 2 = the metric code. */
#define FUNNEL_DISTANCE_PROC	1
#define FUNNEL_METRIC_PROC		2
#define FUNNEL_NPROCS			2

/* Which distance an opclass orders by (returned by support function 2). */
typedef enum FunnelMetric
{
	FUNNEL_L2 = 1,				/* <->, Euclidean */
	FUNNEL_IP = 2,				/* <#>, negative inner product */
	FUNNEL_COSINE = 3,			/* <=>, cosine distance */
	FUNNEL_L1 = 4				/* <+>, Manhattan (taxicab) distance */
} FunnelMetric;

/* How the coarse prefix is stored (the "precision" reloption). */
typedef enum FunnelPrecision
{
	FUNNEL_FLOAT4 = 1,			/* exact prefix, 4 bytes a dim */
	FUNNEL_INT8 = 2,			/* symmetric int8 with a per-entry scale */
	FUNNEL_BIT = 3				/* sign bits times a per-entry magnitude */
} FunnelPrecision;

/* mrl.funnel_order: what approximate scans do with a row found too late. */
typedef enum FunnelOrder
{
	FUNNEL_ORDER_STRICT,		/* skip it: the output stays sorted */
	FUNNEL_ORDER_RELAXED		/* return it, out of order */
} FunnelOrder;

/* Reloptions as parsed by amoptions. */
typedef struct FunnelOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int			coarseDims;
	int			precision;
	int			lists;			/* 0: chosen from the row count */
} FunnelOptions;

/*
 * Metapage contents: the build-time options are authoritative here.  The
 * list directory follows in blocks dirStart .. dirStart + dirPages - 1:
 * nlists records, then that of the NULL list (FunnelNullList).
 */
typedef struct FunnelMetaPageData
{
	uint32		magic;
	uint32		version;
	int16		coarseDims;
	int16		precision;
	int16		entrySize;		/* bytes per entry, including the code */
	int16		entriesPerPage;
	uint32		nlists;
	int16		listSize;		/* bytes per directory record */
	int16		listsPerPage;
	BlockNumber dirStart;
	BlockNumber dirPages;
	/* measured by the build (funnelcost.c); 0: not measured */
	float		exactFetchFraction; /* rows an exact top-10 scan fetches */
	float		exactListFraction;	/* indexed rows in the lists it opens */
	/* calibrated by the build (funnelcalibrate.c); 0: not calibrated */
	int32		calibratedProbes;	/* lists an approximate top-10 scan opens */
	int32		calibratedShortlist;	/* rows it reranks */
	float		calibratedRecall;	/* the recall@10 they gave on the sample */
	int32		deepProbes;		/* the same for the top 100 */
	int32		deepShortlist;

	/*
	 * version 6: 99% of the sampled queries have their 10th nearest row
	 * within this distance (funnelscan.c widens scans of farther ones)
	 */
	float		farDistance;
} FunnelMetaPageData;

/*
 * One list (IVF partition) of the directory: rows whose coarse prefix is
 * nearest to the centroid.  The statistics only ever widen, so they bound
 * every member ever inserted, which is what lets a scan skip whole lists.
 */
typedef struct FunnelList
{
	BlockNumber head;			/* newest data page */
	BlockNumber insertHint;		/* where inserts look for room first, walking
								 * toward older pages; then the head */
	float		radius;			/* >= ||prefix - centroid|| of members */
	float		minResid;		/* <= residual norm of members */
	float		maxResid;		/* >= residual norm of members */
	float		maxNorm;		/* >= norm of members */
	uint32		count;			/* entries inserted (for statistics) */
	float		centroid[FLEXIBLE_ARRAY_MEMBER];
} FunnelList;

/*
 * Special space of every funnel page.  Pages of a chain have decreasing
 * sequence numbers, so a scan that follows a next link to a page VACUUM
 * has freed and a list has taken again (its listNo differs, or its seq is
 * not below the page it came from) knows the chain ended there.
 */
typedef struct FunnelPageOpaqueData
{
	BlockNumber next;			/* data page: older page of the same list */
	uint32		seq;			/* data page: its next page's seq + 1 */
	uint16		listNo;			/* data page: its list */
	uint16		nentries;		/* data page: entries on it */
	uint16		flags;
	uint16		pageId;			/* FUNNEL_PAGE_ID, for tools */
} FunnelPageOpaqueData;

#define FUNNEL_META			(1 << 0)
#define FUNNEL_DIRECTORY	(1 << 1)
#define FUNNEL_DATA			(1 << 2)
#define FUNNEL_FREE			(1 << 3)	/* unlinked by VACUUM, reusable */
#define FUNNEL_PAGE_ID		0xFF8A

#define FunnelPageGetOpaque(page) \
	((FunnelPageOpaqueData *) PageGetSpecialPointer(page))
#define FunnelPageGetMeta(page) \
	((FunnelMetaPageData *) PageGetContents(page))
#define FunnelPageGetEntry(page, i, size) \
	((FunnelEntry *) (PageGetContents(page) + (Size) (i) * (size)))
#define FunnelPageGetList(page, i, size) \
	((FunnelList *) (PageGetContents(page) + (Size) (i) * (size)))

/* The NULL list's number, after the IVF lists, and the directory's records. */
#define FunnelNullList(meta)	((int) (meta)->nlists)
#define FunnelDirRecords(meta)	((meta)->nlists + 1)

/* Record i of a palloc'd copy of the directory (FunnelReadDirectory). */
#define FunnelDirList(dir, i, size) \
	((FunnelList *) ((char *) (dir) + (Size) (i) * (size)))

/* Bytes usable for entries or directory records on a page. */
#define FUNNEL_PAGE_SPACE \
	((int) (BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(FunnelPageOpaqueData))))

/* The most coarse dims whose directory record (with centroid) fits a page. */
#define FUNNEL_MAX_COARSE_DIMS \
	((FUNNEL_PAGE_SPACE - (int) offsetof(FunnelList, centroid)) / (int) sizeof(float))

/*
 * One indexed row.  The code of the prefix follows the fixed part; its
 * reconstruction x^ satisfies ||prefix - x^|| <= err, which is what keeps
 * the scan's bound a bound for quantised codes.  After the prefix code come
 * the sign bits of the first residual segments' dims (FunnelSignSegments):
 * with signScale they estimate the residual's dot product with a query.
 */
typedef struct FunnelEntry
{
	ItemPointerData heapPtr;
	uint16		dim;			/* full dimension count of the row */
	float		scale;			/* int8 step or bit magnitude */
	float		err;			/* upper bound of the prefix's code error */
	float		norm;			/* norm of the whole (stored) vector */
	float		rnorm[FUNNEL_NSEG]; /* norms of the residual segments */
	float		signScale;		/* ||r||^2 / sum |r_i| of the signed dims r */
	uint8		code[FLEXIBLE_ARRAY_MEMBER];
} FunnelEntry;

#define FUNNEL_ENTRY_HEADER offsetof(FunnelEntry, code)
/* The most entries a data page holds (each has at least a byte of code). */
#define FUNNEL_MAX_PAGE_ENTRIES (FUNNEL_PAGE_SPACE / ((int) FUNNEL_ENTRY_HEADER + 1))
StaticAssertDecl(offsetof(FunnelEntry, heapPtr) == 0,
				 "an entry begins with its heap pointer, as the NULL list's do");

/* What a scan needs to know about the query, computed once per rescan. */
typedef struct FunnelQuery
{
	FunnelMetric metric;
	int			coarseDims;
	int			dim;			/* full dims of the query */
	bool		degenerate;		/* zero query under cosine: all NaN */
	float	   *prefix;			/* first coarseDims dims (unit if cosine) */
	double		prefixNorm;
	double		norm;
	double		rnorm[FUNNEL_NSEG];
	double		slack;			/* rounding margin relative to the distance */
	double		absSlack;		/* margin relative to the squared norms */
	int			precision;		/* of the index's codes */
	double		prefixSum;		/* sum of the prefix dims (binary codes) */
	float	   *bitTable;		/* binary codes: per-byte sums of q dims */
	int			codeBytes;		/* of the prefix code: the sign bits follow */
	int			signSegments;	/* residual segments also kept as sign bits */
	int			signDims;		/* how many of its dims this query's size has */
	float	   *signQuery;		/* the query's dims there (unit if cosine) */
	/* approximate scans' estimates: both quantised to int8 (QuantiseQuery) */
	int8	   *prefixQ;		/* prefix / prefixStep, rounded */
	double		prefixStep;
	double		prefixQSum;		/* prefixStep times the sum of prefixQ */
	int8	   *signQ;			/* signQuery / signStep, rounded */
	double		signStep;
	double		signQSum;		/* signStep times the sum of signQ */
} FunnelQuery;

/*
 * Approximate scans work in rounds: round r aims at the first
 * FUNNEL_ROUND_K << r rows (funnelscan.c; the cost estimate prices the
 * same).  The build calibrates the probes and shortlist a scan needs for
 * the first FUNNEL_ROUND_K rows and for the first FUNNEL_DEEP_K
 * (funnelcalibrate.c); FunnelRoundSettings goes from one to the other.
 */
#define FUNNEL_ROUND_K			10
#define FUNNEL_DEEP_K			100

/*
 * Exact mode sweeps (funnelscan.c) instead of following bounds when the
 * build measured that an exact top-10 scan fetches at least this share of
 * the rows: fetched in bound order, each row costs a random heap access and
 * a place in the executor's reorder queue, about 20 times a row of a sweep,
 * which reads every row in heap order (250,000 real sentences: 7.8 s for
 * every row in bound order, 0.36 s swept).  The cost estimate prices the
 * same.
 */
#define FUNNEL_SWEEP_FETCH_FRACTION	0.05
#define FUNNEL_SWEEP_FIRST	100 /* rows its first pass keeps, 8 times more
									 * each further pass */
#define FunnelExactSweeps(meta) \
	((meta)->exactFetchFraction >= FUNNEL_SWEEP_FETCH_FRACTION)

/* funnel.c: handler, options, settings */
extern int	funnel_shortlist;
extern int	funnel_probes;
extern bool funnel_exact;
extern int	funnel_order;
extern void FunnelInit(void);
extern void FunnelRoundSettings(const FunnelMetaPageData *meta, double rows,
								int *probes, int64 *shortlist);
extern FunnelMetric FunnelGetMetric(Relation index);
extern int	FunnelPrecisionByName(const char *name);
extern void FunnelGetOptions(Relation index, int *coarseDims, int *precision,
							 int *lists);

/* funnelcode.c: codes, bounds and estimates */
extern int	FunnelCodeBytes(int coarseDims, int precision);
extern int	FunnelSignSegments(int coarseDims, int precision);
extern int	FunnelSignBytes(int coarseDims, int precision);
extern void FunnelSegmentBounds(int coarseDims, int dim, int bounds[FUNNEL_NSEG + 1]);
extern double FunnelSquaredDistance(const float *a, const float *b, int n);
extern void FunnelEncode(FunnelEntry *entry, const float *x, int dim,
						 int coarseDims, int precision, FunnelMetric metric,
						 float *prefix);
extern void FunnelEncodeDatum(FunnelEntry *entry, Datum value, ItemPointer tid,
							  const FunnelMetaPageData *meta, FunnelMetric metric,
							  float *prefix);
extern void FunnelQueryInit(FunnelQuery *q, const float *x, int dim,
							int coarseDims, int precision, FunnelMetric metric);
extern double FunnelBound(const FunnelQuery *q, const FunnelEntry *entry);
extern void FunnelEstimateEntries(const FunnelQuery *q, const char *entries, int n,
								  int entrySize, float *est);
extern double FunnelListBound(const FunnelQuery *q, const FunnelList *list);
extern double FunnelListCloseness(const FunnelQuery *q, const FunnelList *list);
extern void FunnelListAddMember(FunnelList *list, const FunnelEntry *entry,
								const float *prefix, int coarseDims);

/* funnelutils.c: pages, metapage and directory */
extern void FunnelInitPage(Page page, uint16 flags);
extern void FunnelInitDataPage(Page page, int listNo, BlockNumber next, uint32 seq);
extern void FunnelSetPageUsed(Page page, Size used);
extern void FunnelInitMeta(FunnelMetaPageData *meta, int coarseDims,
						   int precision, int nlists);
extern void FunnelCheckMeta(Relation index, const FunnelMetaPageData *meta);
extern void FunnelCopyMeta(Relation index, FunnelMetaPageData *meta);
extern void FunnelReadMeta(Relation index, FunnelMetaPageData *meta);
extern uint32 FunnelListsOnDirPage(const FunnelMetaPageData *meta, BlockNumber d);
extern FunnelList *FunnelReadDirectory(Relation index, const FunnelMetaPageData *meta);
extern int	FunnelNearestList(const FunnelList *dir, const FunnelMetaPageData *meta,
							  const float *prefix, int first, int end, float *dist);
extern const float *FunnelDatumFloats(Datum value, int *dim);
extern int	FunnelEntrySizeOf(const FunnelMetaPageData *meta, int listNo);
extern int	FunnelCapacityOf(const FunnelMetaPageData *meta, int listNo);
extern Buffer FunnelNewBuffer(Relation index);
extern Buffer FunnelGetPage(Relation index);
extern BlockNumber FunnelWritePage(Relation index, BlockNumber blkno, Page image);
extern void FunnelAppendEntry(Page page, const void *entry, int entrySize);

/* funnelcost.c: a uniform sample of indexed rows, to measure pruning */
typedef struct FunnelPruneSample
{
	MemoryContext ctx;
	int			cap;			/* rows it can hold */
	int			n;				/* rows it holds */
	int64		seen;			/* rows offered */
	int			entrySize;
	struct MVector **rows;		/* detoasted copies */
	FunnelEntry *entries;		/* entrySize bytes apart */
	int		   *listNos;
	pg_prng_state prng;
} FunnelPruneSample;

extern void FunnelPruneSampleInit(FunnelPruneSample *s, const FunnelMetaPageData *meta);
extern void FunnelPruneSampleAdd(FunnelPruneSample *s, Datum value, ItemPointer tid);
struct FunnelGroups;
extern void FunnelPruneSampleAssign(FunnelPruneSample *s, const FunnelMetaPageData *meta,
									const FunnelList *dir, const struct FunnelGroups *groups,
									FunnelMetric metric);
extern void FunnelMeasurePruning(Relation index, FunnelPruneSample *s,
								 FunnelMetaPageData *meta, const FunnelList *dir,
								 FunnelMetric metric, double rows);
extern void funnelcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
							   Cost *indexStartupCost, Cost *indexTotalCost,
							   Selectivity *indexSelectivity, double *indexCorrelation,
							   double *indexPages);

/* funnelcalibrate.c: the build's calibration of approximate scans */
typedef struct FunnelCalibration FunnelCalibration;
struct MVector;
extern FunnelCalibration *FunnelCalibrationBegin(const FunnelMetaPageData *meta,
												 FunnelMetric metric);
extern void FunnelCalibrationOffer(FunnelCalibration *cal, ItemPointer tid,
								   const float *x, int dim);
extern void FunnelCalibrationAdd(FunnelCalibration *cal, Datum value, ItemPointer tid,
								 const FunnelEntry *entry, int listNo);
extern void FunnelCalibrate(Relation index, FunnelCalibration *cal,
							FunnelMetaPageData *meta, const FunnelList *dir);
extern void FunnelCalibrationEnd(FunnelCalibration *cal);
extern Size FunnelCalibrationQueriesSize(FunnelCalibration *cal);
extern void FunnelCalibrationSaveQueries(FunnelCalibration *cal, char *dst);
extern FunnelCalibration *FunnelCalibrationLoadQueries(const FunnelMetaPageData *meta,
													   FunnelMetric metric,
													   const char *src);
extern Size FunnelCalibrationNearSize(FunnelCalibration *cal);
extern void FunnelCalibrationSaveNear(const FunnelCalibration *cal, char *dst);
extern void FunnelCalibrationMergeNear(FunnelCalibration *cal, const char *src);

/*
 * funnelkmeans.c: k-means, and the build's assignment of rows to lists.
 * Hierarchical k-means leaves groups of lists: lists firstList[g] ..
 * firstList[g + 1] - 1 were clustered from the points nearest group g's
 * centroid.
 */
typedef struct FunnelGroups
{
	int			ngroups;
	int			dims;
	float	   *centroids;		/* ngroups x dims */
	int		   *firstList;		/* ngroups + 1 */
} FunnelGroups;

extern float *FunnelKMeans(const float *sample, int64 n, int dims, int k,
						   FunnelGroups **groups);
extern int	FunnelAssignList(const FunnelGroups *groups, const FunnelList *dir,
							 const FunnelMetaPageData *meta, const float *prefix);
extern Size FunnelGroupsSize(const FunnelGroups *groups);
extern void FunnelGroupsSave(const FunnelGroups *groups, char *dst);
extern FunnelGroups *FunnelGroupsLoad(char *src);

/* funnelbuild.c */
extern IndexBuildResult *funnelbuild(Relation heap, Relation index,
									 IndexInfo *indexInfo);
extern void funnelbuildempty(Relation index);
extern PGDLLEXPORT void FunnelParallelBuildMain(dsm_segment *seg, shm_toc *toc);
extern char *funnelbuildphasename(int64 phase);

/* funnelinsert.c */
extern bool funnelinsert(Relation index, Datum *values, bool *isnull,
						 ItemPointer ht_ctid, Relation heapRel,
						 IndexUniqueCheck checkUnique, bool indexUnchanged,
						 IndexInfo *indexInfo);

/* funnelvacuum.c */
extern IndexBulkDeleteResult *funnelbulkdelete(IndexVacuumInfo *info,
											   IndexBulkDeleteResult *stats,
											   IndexBulkDeleteCallback callback,
											   void *callback_state);
extern IndexBulkDeleteResult *funnelvacuumcleanup(IndexVacuumInfo *info,
												  IndexBulkDeleteResult *stats);

/* funnelscan.c */
extern IndexScanDesc funnelbeginscan(Relation index, int nkeys, int norderbys);
extern void funnelrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
						 ScanKey orderbys, int norderbys);
extern bool funnelgettuple(IndexScanDesc scan, ScanDirection dir);
extern void funnelendscan(IndexScanDesc scan);

#endif							/* FUNNEL_H */
