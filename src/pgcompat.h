/*
 * pgcompat.h: what differs between the PostgreSQL majors mrl builds on (15 to 18).
 *
 * Every PG_VERSION_NUM test of the extension is here, so that the other files
 * read as code for one server.  Include it after postgres.h.  The index AM
 * fields added after 15 (amcanbuildparallel, aminsertcleanup in 17;
 * amcanhash, amgettreeheight, amtranslatestrategy and others in 18) need no
 * entry: makeNode zeroes them, which means "no" or "not provided"; but
 * amcanbuildparallel, below.
 */
#ifndef MRL_PGCOMPAT_H
#define MRL_PGCOMPAT_H

/* 16 moved the varlena macros (VARSIZE, SET_VARSIZE) out of postgres.h. */
#if PG_VERSION_NUM >= 160000
#include "varatt.h"
#endif

/*
 * The physical file identity of an smgr relation, as log_newpage takes it:
 * 16 renamed RelFileNode to RelFileLocator (smgr_rnode.node became
 * smgr_rlocator.locator).
 */
#if PG_VERSION_NUM >= 160000
#define MrlSmgrFileLocator(reln) (&(reln)->smgr_rlocator.locator)
#else
#define MrlSmgrFileLocator(reln) (&(reln)->smgr_rnode.node)
#endif

/* A cost-based vacuum delay; 18 asks whether it is ANALYZE's (it is not). */
#if PG_VERSION_NUM >= 180000
#define MrlVacuumDelayPoint() vacuum_delay_point(false)
#else
#define MrlVacuumDelayPoint() vacuum_delay_point()
#endif

/*
 * A role's USAGE of a foreign server: 16 folded the per-kind ACL checks
 * into object_aclcheck.
 */
#if PG_VERSION_NUM >= 160000
#define MrlForeignServerAclCheck(server, role, mode) \
	object_aclcheck(ForeignServerRelationId, (server), (role), (mode))
#else
#define MrlForeignServerAclCheck(server, role, mode) \
	pg_foreign_server_aclcheck((server), (role), (mode))
#endif

/*
 * The i-th (from 1) backend of this transaction's activity snapshot:
 * renamed in 17 and in 16.2, when the old name's meaning was fixed.
 */
#if PG_VERSION_NUM >= 160002
#define MrlLocalBackendStatus(i) pgstat_get_local_beentry_by_index(i)
#else
#define MrlLocalBackendStatus(i) pgstat_fetch_stat_local_beentry(i)
#endif

/*
 * Workers for a parallel index build: from 17, an AM that sets
 * amcanbuildparallel gets them planned by index_build (0 when the caller
 * wants no parallel build); before, only btree's are, so the AM asks the
 * planner's rules itself.
 */
#if PG_VERSION_NUM >= 170000
#define MrlSetCanBuildParallel(amroutine) ((amroutine)->amcanbuildparallel = true)
#define MrlIndexBuildWorkers(heap, index, indexInfo) ((indexInfo)->ii_ParallelWorkers)
#else
#define MrlSetCanBuildParallel(amroutine) ((void) 0)
#define MrlIndexBuildWorkers(heap, index, indexInfo) \
	(IsNormalProcessingMode() ? \
	 plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index)) : 0)
#endif

#endif							/* MRL_PGCOMPAT_H */
