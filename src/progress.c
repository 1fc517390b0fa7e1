/*
 * progress.c: progress of mrl_train, mrl_evaluate and mrl_embed_table that
 * other connections read in the mrl_progress view.
 *
 * PostgreSQL's own progress views (pg_stat_progress_*) read a slot in each
 * backend's entry of the shared backend status array: a command code and 20
 * int64 counters, written without locks by the backend and read by others
 * through a consistent snapshot.  backend_progress.h keeps the slot free of
 * meaning; the command codes are a fixed enum, and
 * pg_stat_get_progress_info() shows only PostgreSQL's.  This file fills the
 * slot under a code that no PostgreSQL command uses, and
 * mrl_progress_info() reads it back.  Nothing of our own lives in shared
 * memory, so shared_preload_libraries is not needed (a dynamic shared
 * memory segment could not be found by other backends on PostgreSQL 15,
 * which has no registry of named segments), and an error clears the slot
 * as it does PostgreSQL's (AbortTransaction ends the command).  A backend
 * already reporting a command of PostgreSQL's (COPY (SELECT * FROM
 * mrl_evaluate(...)) TO ...) keeps it: mrl's reports are then skipped
 * rather than overwrite it.
 */
#include "postgres.h"

#include "catalog/pg_authid.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/backend_progress.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"

#include "pgcompat.h"
#include "progress.h"

/* Our command code: "mrl" in ASCII, far from PostgreSQL's small enum values. */
#define MRL_PROGRESS_CODE ((ProgressCommandType) 0x6d726c)

/* The counters' slots. */
#define PARAM_COMMAND	0		/* MrlProgressCommand */
#define PARAM_PHASE		1		/* MrlProgressPhase */
#define PARAM_DONE		2
#define PARAM_TOTAL		3		/* -1 when not known */
#define PARAM_LOSS		4		/* a float8's bits; training only */

/* True if this backend's progress slot holds our command. */
static bool
Reporting(void)
{
	return MyBEEntry != NULL && MyBEEntry->st_progress_command == MRL_PROGRESS_CODE;
}

/*
 * Start reporting command, unless the slot is taken (by a command of
 * PostgreSQL's this one runs inside) or activity tracking is off.
 */
void
MrlProgressStart(MrlProgressCommand command)
{
	if (MyBEEntry == NULL || MyBEEntry->st_progress_command != PROGRESS_COMMAND_INVALID)
		return;
	pgstat_progress_start_command(MRL_PROGRESS_CODE, InvalidOid);
	if (Reporting())
		pgstat_progress_update_param(PARAM_COMMAND, command);
}

/* Enter phase, with total units of work (-1 if not known), none done. */
void
MrlProgressSetPhase(MrlProgressPhase phase, int64 total)
{
	const int	index[] = {PARAM_PHASE, PARAM_DONE, PARAM_TOTAL};
	int64		val[] = {phase, 0, total};

	if (Reporting())
		pgstat_progress_update_multi_param(lengthof(index), index, val);
}

/* Units of work done in the current phase. */
void
MrlProgressDone(int64 done)
{
	if (Reporting())
		pgstat_progress_update_param(PARAM_DONE, done);
}

/* A training step done, of total, and its loss. */
void
MrlProgressTrainStep(int64 step, int64 total, double loss)
{
	const int	index[] = {PARAM_DONE, PARAM_TOTAL, PARAM_LOSS};
	int64		val[3];

	StaticAssertStmt(sizeof(int64) == sizeof(double), "int64 holds a double");
	val[0] = step;
	val[1] = total;
	memcpy(&val[2], &loss, sizeof(loss));
	if (Reporting())
		pgstat_progress_update_multi_param(lengthof(index), index, val);
}

/* Stop reporting (only our own command). */
void
MrlProgressEnd(void)
{
	if (Reporting())
		pgstat_progress_end_command();
}

/* The SQL names of commands and phases. */
static const char *
CommandName(int64 command)
{
	switch (command)
	{
		case MRL_PROGRESS_TRAIN:
			return "mrl_train";
		case MRL_PROGRESS_EVALUATE:
			return "mrl_evaluate";
		case MRL_PROGRESS_EMBED_TABLE:
			return "mrl_embed_table";
	}
	return "unknown";
}

static const char *
PhaseName(int64 phase)
{
	switch (phase)
	{
		case MRL_PHASE_READING_PAIRS:
			return "reading pairs";
		case MRL_PHASE_TRAINING:
			return "training";
		case MRL_PHASE_WRITING_MODEL:
			return "writing model";
		case MRL_PHASE_EMBEDDING_DOCUMENTS:
			return "embedding documents";
		case MRL_PHASE_READING_JUDGEMENTS:
			return "reading judgements";
		case MRL_PHASE_EMBEDDING_QUERIES:
			return "embedding queries";
		case MRL_PHASE_SCORING:
			return "scoring";
		case MRL_PHASE_EMBEDDING_ROWS:
			return "embedding rows";
	}
	return "starting";
}

/*
 * mrl_progress_info(): one row per backend running mrl_train or mrl_evaluate:
 * pid, database, command, and, to members of that backend's role or of
 * pg_read_all_stats (as for pg_stat_progress_*), phase, done, total and
 * the latest training loss.  Within a transaction the rows are a snapshot
 * taken at the first read, as pg_stat_activity's.
 */
PG_FUNCTION_INFO_V1(mrl_progress_info);
Datum
mrl_progress_info(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n = pgstat_fetch_stat_numbackends();

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = MrlLocalBackendStatus(i);
		PgBackendStatus *be = local ? &local->backendStatus : NULL;
		const int64 *param;
		Datum		values[7];
		bool		nulls[7] = {0};
		double		loss;

		if (be == NULL || be->st_progress_command != MRL_PROGRESS_CODE)
			continue;
		param = be->st_progress_param;
		values[0] = Int32GetDatum(be->st_procpid);
		values[1] = ObjectIdGetDatum(be->st_databaseid);
		values[2] = CStringGetTextDatum(CommandName(param[PARAM_COMMAND]));
		if (has_privs_of_role(GetUserId(), ROLE_PG_READ_ALL_STATS) ||
			has_privs_of_role(GetUserId(), be->st_userid))
		{
			memcpy(&loss, &param[PARAM_LOSS], sizeof(loss));
			values[3] = CStringGetTextDatum(PhaseName(param[PARAM_PHASE]));
			values[4] = Int64GetDatum(param[PARAM_DONE]);
			values[5] = Int64GetDatum(param[PARAM_TOTAL]);
			nulls[5] = param[PARAM_TOTAL] < 0;
			values[6] = Float8GetDatum(loss);
			nulls[6] = param[PARAM_PHASE] != MRL_PHASE_TRAINING || param[PARAM_DONE] == 0;
		}
		else
			nulls[3] = nulls[4] = nulls[5] = nulls[6] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
