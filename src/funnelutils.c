/*
 * funnelutils.c: funnel index pages: page setup, the metapage, the list
 * directory, new pages and whole-page writes (generic WAL); the floats of
 * an indexed value.
 */
#include "postgres.h"

#include <float.h>

#include "access/generic_xlog.h"
#include "distance.h"
#include "funnel.h"
#include "mhalfvec.h"
#include "mint8vec.h"
#include "storage/bufmgr.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

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

/* Initialise a data page of list listNo, chained before page next. */
void
FunnelInitDataPage(Page page, int listNo, BlockNumber next, uint32 seq)
{
	FunnelPageOpaqueData *opaque;

	FunnelInitPage(page, FUNNEL_DATA);
	opaque = FunnelPageGetOpaque(page);
	opaque->listNo = listNo;
	opaque->next = next;
	opaque->seq = seq;
}

/* Set pd_lower after the used part so full-page images skip the hole. */
void
FunnelSetPageUsed(Page page, Size used)
{
	((PageHeader) page)->pd_lower = (PageGetContents(page) - (char *) page) + used;
}

/* The metapage fields for these options and list count. */
void
FunnelInitMeta(FunnelMetaPageData *meta, int coarseDims, int precision, int nlists)
{
	memset(meta, 0, sizeof(FunnelMetaPageData));
	meta->magic = FUNNEL_MAGIC;
	meta->version = FUNNEL_VERSION;
	meta->coarseDims = coarseDims;
	meta->precision = precision;
	meta->entrySize = TYPEALIGN(sizeof(float),
								FUNNEL_ENTRY_HEADER + FunnelCodeBytes(coarseDims, precision) +
								FunnelSignBytes(coarseDims, precision));
	meta->entriesPerPage = FUNNEL_PAGE_SPACE / meta->entrySize;
	meta->nlists = nlists;
	meta->listSize = TYPEALIGN(sizeof(float),
							   offsetof(FunnelList, centroid) + sizeof(float) * coarseDims);
	meta->listsPerPage = FUNNEL_PAGE_SPACE / meta->listSize;
	meta->dirStart = FUNNEL_METAPAGE_BLKNO + 1;
	meta->dirPages = (FunnelDirRecords(meta) + meta->listsPerPage - 1) / meta->listsPerPage;
}

/*
 * Error unless meta is a funnel metapage of a version this code reads (an
 * index built by an older version must be rebuilt).
 */
void
FunnelCheckMeta(Relation index, const FunnelMetaPageData *meta)
{
	if (meta->magic != FUNNEL_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a valid funnel index",
						RelationGetRelationName(index))));
	if (!FunnelVersionReadable(meta))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("funnel index \"%s\" has on-disk version %u, this mrl reads versions %d to %d",
						RelationGetRelationName(index), meta->version,
						FUNNEL_OLDEST_VERSION, FUNNEL_VERSION),
				 errhint("REINDEX INDEX %s;", RelationGetRelationName(index))));
}

/* Copy the metapage's contents as they are (the planner must not error). */
void
FunnelCopyMeta(Relation index, FunnelMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, FUNNEL_METAPAGE_BLKNO);

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	memcpy(meta, FunnelPageGetMeta(BufferGetPage(buf)), sizeof(FunnelMetaPageData));
	UnlockReleaseBuffer(buf);
}

/* Copy the metapage's contents, checked. */
void
FunnelReadMeta(Relation index, FunnelMetaPageData *meta)
{
	FunnelCopyMeta(index, meta);
	FunnelCheckMeta(index, meta);
}

/* Number of directory records on directory page d. */
uint32
FunnelListsOnDirPage(const FunnelMetaPageData *meta, BlockNumber d)
{
	uint32		first = d * meta->listsPerPage;

	return Min((uint32) meta->listsPerPage, FunnelDirRecords(meta) - first);
}

/* A palloc'd copy of all directory records (listSize bytes apart). */
FunnelList *
FunnelReadDirectory(Relation index, const FunnelMetaPageData *meta)
{
	char	   *dir = palloc((Size) FunnelDirRecords(meta) * meta->listSize);

	for (BlockNumber d = 0; d < meta->dirPages; d++)
	{
		Buffer		buf = ReadBuffer(index, meta->dirStart + d);
		uint32		first = d * meta->listsPerPage;
		uint32		n = FunnelListsOnDirPage(meta, d);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		memcpy(dir + (Size) first * meta->listSize,
			   PageGetContents(BufferGetPage(buf)), (Size) n * meta->listSize);
		UnlockReleaseBuffer(buf);
	}
	return (FunnelList *) dir;
}

/* Bytes per entry on a page of list listNo: the NULL list's are heap pointers. */
int
FunnelEntrySizeOf(const FunnelMetaPageData *meta, int listNo)
{
	return listNo == FunnelNullList(meta) ? (int) sizeof(ItemPointerData) : meta->entrySize;
}

/* Entries a page of list listNo holds. */
int
FunnelCapacityOf(const FunnelMetaPageData *meta, int listNo)
{
	return FUNNEL_PAGE_SPACE / FunnelEntrySizeOf(meta, listNo);
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

/*
 * A page for a list's new head, exclusively locked: one VACUUM freed, from
 * the free space map (checked, since the map is only a hint), else a new
 * block at the end of the index.
 */
Buffer
FunnelGetPage(Relation index)
{
	for (;;)
	{
		BlockNumber blkno = GetFreeIndexPage(index);
		Buffer		buf;
		Page		page;

		if (blkno == InvalidBlockNumber)
			return FunnelNewBuffer(index);
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) || (FunnelPageGetOpaque(page)->flags & FUNNEL_FREE))
			return buf;
		UnlockReleaseBuffer(buf);
	}
}

/* Write a whole page image into block blkno (P_NEW: a new block), WAL-logged. */
BlockNumber
FunnelWritePage(Relation index, BlockNumber blkno, Page image)
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

/* Append an entry (entrySize bytes) to a data page (caller checked there is room). */
void
FunnelAppendEntry(Page page, const void *entry, int entrySize)
{
	FunnelPageOpaqueData *opaque = FunnelPageGetOpaque(page);

	memcpy(FunnelPageGetEntry(page, opaque->nentries, entrySize), entry, entrySize);
	opaque->nentries++;
	FunnelSetPageUsed(page, (Size) opaque->nentries * entrySize);
}

/*
 * Of lists first .. end - 1, the one whose centroid is nearest to the
 * prefix (ties to the lower number; first if none is nearer than FLT_MAX),
 * with its squared distance in *dist unless dist is NULL.
 */
int
FunnelNearestList(const FunnelList *dir, const FunnelMetaPageData *meta, const float *prefix,
				  int first, int end, float *dist)
{
	int			best = first;
	float		bestDist = FLT_MAX;

	for (int i = first; i < end; i++)
	{
		float		d = mrl_kernels.l2sq(prefix, FunnelDirList(dir, i, meta->listSize)->centroid,
										 meta->coarseDims);

		if (d < bestDist)
		{
			bestDist = d;
			best = i;
		}
	}
	if (dist)
		*dist = bestDist;
	return best;
}

/*
 * The elements of an indexed value (an mvector, mhalfvec or mint8vec) as
 * floats, and their count in *dim: an mvector's in place once detoasted,
 * the others' widened into a new array.  The types share their header; a
 * mint8vec's format field and the others' lengths (4 or 2 bytes per
 * element) tell them apart, so the build, insert and scan code need not
 * know which type an opclass indexes.
 */
const float *
FunnelDatumFloats(Datum value, int *dim)
{
	MVector    *v = DatumGetMVector(value);

	*dim = v->dim;
	if (VARSIZE(v) == MVECTOR_SIZE(v->dim))
		return v->x;
	if (MInt8VecIs(v))
		return MInt8VecFloats((MInt8Vec *) v, v->dim);
	if (VARSIZE(v) == MHALFVEC_SIZE(v->dim))
		return MHalfVecFloats((MHalfVec *) v);
	elog(ERROR, "funnel index value of %u bytes is not an mvector, mhalfvec or mint8vec of %d dimensions",
		 VARSIZE(v), v->dim);
}
