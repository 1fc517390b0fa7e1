/*
 * embed_table.c: mrl_embed_table(), a table's texts embedded into its
 * vector column in batches, in one statement.
 *
 * UPDATE docs SET emb = mrl_embed(body, model => 'oai3') calls a scalar
 * function once a row: one request a row for a remote model.  This reads
 * the rows through a cursor that locks them (FOR NO KEY UPDATE), embeds
 * each fetch of texts in one MrlEmbedderRun (a remote model's batches,
 * several in flight), and writes the vectors back by (tableoid, ctid) with
 * one UPDATE a fetch.  Everything runs as the caller, inside the caller's
 * transaction: privileges, row-level security and triggers apply as to
 * their own UPDATE, and an error anywhere leaves no row changed.  The lock
 * keeps each row as it was read until the transaction ends, so no vector
 * is written over a text changed in between.
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "embed.h"
#include "evaluate_sql.h"
#include "progress.h"

#define EMBED_TABLE_HINT "mrl_embed_table(table, text_column, vector_column, model, dims, only_missing)"

/* What one call works with. */
typedef struct EmbedTable
{
	Oid			relid;
	char	   *relname;		/* quoted, qualified if needed */
	char	   *text_col;		/* quoted */
	char	   *vector_col;		/* quoted */
	Oid			mvector_oid;
	MrlEmbedder model;
	SPIPlanPtr	update;			/* UPDATE ... FROM unnest($1 tableoids, $2 ctids, $3 vectors) */
} EmbedTable;

/* The OID of the extension's type of this name (in this function's schema). */
static Oid
ExtensionType(FunctionCallInfo fcinfo, const char *name)
{
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);

	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
						   ObjectIdGetDatum(nsp));
}

/*
 * Check the table and its columns; the width of the vectors to write: dims,
 * or (NULL) the vector column's declared width, else the model's.
 */
static int
CheckTable(FunctionCallInfo fcinfo, EmbedTable *t, const char *text_col, const char *vector_col)
{
	char		relkind = get_rel_relkind(t->relid);
	Oid			vector_types[2];
	Oid			type;
	int32		typmod;
	Oid			collation;

	t->relname = MrlRelName(t->relid);
	if (relkind != RELKIND_RELATION && relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s is not a table", t->relname),
				 errdetail("mrl_embed_table updates the rows of a table by their physical address.")));
	t->mvector_oid = ExtensionType(fcinfo, "mvector");
	vector_types[0] = t->mvector_oid;
	vector_types[1] = ExtensionType(fcinfo, "mhalfvec");
	MrlCheckColumn(t->relid, text_col, MrlTextTypes, lengthof(MrlTextTypes), "text", EMBED_TABLE_HINT);
	MrlCheckColumn(t->relid, vector_col, vector_types, lengthof(vector_types), "mvector or mhalfvec",
				   EMBED_TABLE_HINT);
	t->text_col = pstrdup(quote_identifier(text_col));
	t->vector_col = pstrdup(quote_identifier(vector_col));

	get_atttypetypmodcoll(t->relid, get_attnum(t->relid, vector_col), &type, &typmod, &collation);
	if (PG_ARGISNULL(4))
		return typmod > 0 ? typmod : 0;
	if (PG_GETARG_INT32(4) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dims must be at least 1, not %d", PG_GETARG_INT32(4))));
	if (typmod > 0 && PG_GETARG_INT32(4) != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dims is %d, but column %s holds vectors of %d dimensions",
						PG_GETARG_INT32(4), t->vector_col, typmod)));
	return PG_GETARG_INT32(4);
}

/*
 * Prepare the UPDATE before any text is sent, so that a column the vectors
 * cannot be assigned to, or a missing privilege, costs no request.
 */
static void
PrepareUpdate(EmbedTable *t)
{
	Oid			argtypes[3] = {OIDARRAYOID, TIDARRAYOID, get_array_type(t->mvector_oid)};
	char	   *sql = psprintf("UPDATE %s t SET %s = u.v "
							   "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2), "
							   "pg_catalog.unnest($3)) u(tableoid, ctid, v) "
							   "WHERE t.tableoid = u.tableoid AND t.ctid = u.ctid",
							   t->relname, t->vector_col);

	t->update = SPI_prepare(sql, lengthof(argtypes), argtypes);
	if (t->update == NULL)
		elog(ERROR, "could not prepare the update of %s: %s", t->relname,
			 SPI_result_code_string(SPI_result));
}

/* A cursor on the rows to embed, locking each as it is read. */
static Portal
OpenRows(EmbedTable *t, bool only_missing)
{
	char	   *missing = only_missing ?
		psprintf(" WHERE t.%s IS NULL AND t.%s IS NOT NULL", t->vector_col, t->text_col) : "";
	char	   *sql = psprintf("SELECT t.tableoid, t.ctid, t.%s::pg_catalog.text FROM %s t%s "
							   "FOR NO KEY UPDATE OF t", t->text_col, t->relname, missing);
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);

	if (plan == NULL)
		elog(ERROR, "could not read %s: %s", t->relname, SPI_result_code_string(SPI_result));
	return SPI_cursor_open(NULL, plan, NULL, NULL, false);
}

/*
 * Embed the rows of the last fetch (SPI_tuptable) and write their vectors
 * (NULL for a NULL text): the number of rows updated.
 */
static uint64
EmbedFetched(EmbedTable *t)
{
	SPITupleTable *tt = SPI_tuptable;
	int			n = (int) SPI_processed;
	Datum	   *tableoids = palloc(sizeof(Datum) * n);
	Datum	   *ctids = palloc(sizeof(Datum) * n);
	bool	   *nulls = palloc(sizeof(bool) * n);
	const char **texts = palloc(sizeof(char *) * n);
	size_t	   *lens = palloc(sizeof(size_t) * n);
	float	   *out = MemoryContextAllocHuge(CurrentMemoryContext,
											 sizeof(float) * (size_t) n * t->model.dim);
	int			m = 0;
	Datum		args[3];

	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		body;
		text	   *body_text;

		tableoids[i] = SPI_getbinval(tt->vals[i], tt->tupdesc, 1, &isnull);
		ctids[i] = SPI_getbinval(tt->vals[i], tt->tupdesc, 2, &isnull);
		body = SPI_getbinval(tt->vals[i], tt->tupdesc, 3, &nulls[i]);
		if (nulls[i])
			continue;
		body_text = DatumGetTextPP(body);
		texts[m] = VARDATA_ANY(body_text);
		lens[m++] = VARSIZE_ANY_EXHDR(body_text);
	}
	MrlEmbedderRun(&t->model, texts, lens, m, out);
	args[0] = PointerGetDatum(construct_array(tableoids, n, OIDOID, sizeof(Oid), true, TYPALIGN_INT));
	args[1] = PointerGetDatum(construct_array(ctids, n, TIDOID, sizeof(ItemPointerData), false,
											  TYPALIGN_SHORT));
	args[2] = PointerGetDatum(MrlVectorArray(out, t->model.dim, nulls, n, t->mvector_oid));
	if (SPI_execute_plan(t->update, args, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not update %s", t->relname);
	SPI_freetuptable(tt);
	return SPI_processed;
}

/*
 * mrl_embed_table(tbl, text_column, vector_column, model, dims, only_missing)
 * -> bigint: set vector_column to the embedding of text_column in every row
 * (only_missing: every row whose vector is NULL and text is not), as
 * UPDATE tbl SET vector_column = mrl_embed(text_column, model, dims) would,
 * in batches; the number of rows updated.
 */
PG_FUNCTION_INFO_V1(mrl_embed_table);
Datum
mrl_embed_table(PG_FUNCTION_ARGS)
{
	EmbedTable	t = {0};
	int			dims;
	Portal		rows;
	MemoryContext fetch_cxt;
	uint64		updated = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(5))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tbl, text_column, vector_column and only_missing must not be NULL")));
	t.relid = PG_GETARG_OID(0);
	dims = CheckTable(fcinfo, &t, NameStr(*PG_GETARG_NAME(1)), NameStr(*PG_GETARG_NAME(2)));
	MrlEmbedderOpen(&t.model, fcinfo, PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)),
					dims, NULL);

	SPI_connect();
	PrepareUpdate(&t);
	rows = OpenRows(&t, PG_GETARG_BOOL(5));
	fetch_cxt = AllocSetContextCreate(CurrentMemoryContext, "mrl_embed_table fetch",
									  ALLOCSET_DEFAULT_SIZES);
	MrlProgressStart(MRL_PROGRESS_EMBED_TABLE);
	MrlProgressSetPhase(MRL_PHASE_EMBEDDING_ROWS, -1);
	for (;;)
	{
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(rows, true, t.model.batch_texts);
		if (SPI_processed == 0)
			break;
		old = MemoryContextSwitchTo(fetch_cxt);
		updated += EmbedFetched(&t);
		MemoryContextSwitchTo(old);
		MemoryContextReset(fetch_cxt);
		MrlProgressDone((int64) updated);
	}
	SPI_cursor_close(rows);
	MrlProgressEnd();
	SPI_finish();
	PG_RETURN_INT64((int64) updated);
}
