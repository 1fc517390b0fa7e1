/*
 * evaluate_sql.c: mrl_evaluate(), retrieval quality of a model at each
 * Matryoshka prefix size (and of PCA / full-text baselines) on a judged
 * test collection stored in tables.
 *
 * The collection is read with SPI, embedded once with the full model in
 * batches, and scored in C: cosine scores by sgemm on the prefix columns,
 * top-100 per query, metrics from src/encoder/evaluate.h.  Documents and
 * queries are numbered by their id order (row_number() OVER (ORDER BY id)),
 * the same numbering in every statement, so judgements join to rows by
 * number.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"

#include "blas.h"
#include "embed.h"
#include "encoder.h"
#include "evaluate.h"

#define EVAL_TOPK 100			/* ranked list length: Recall@100 */
#define EVAL_FETCH_ROWS 256		/* rows per cursor fetch (and embedding batch) */
#define EVAL_SCORE_FLOATS (32 * 1024 * 1024)	/* score matrix budget per query batch */

/* One table of the collection: its quoted name and the columns we read. */
typedef struct EvalTable
{
	Oid			relid;
	char	   *name;			/* quoted, schema-qualified if needed */
	int64		rows;
} EvalTable;

/*
 * Judgements of the scored queries (those with a grade > 0), as compact
 * lists: query j has judged documents doc[start[j] .. start[j + 1]).
 * Document ids are the documents' numbers in id order.
 */
typedef struct Judgements
{
	int			n_queries;		/* rows in the queries table */
	int			n_scored;		/* queries with a relevant document */
	int		   *scored_of;		/* [n_queries]: compact index or -1 */
	int		   *query_of;		/* [n_scored]: query number */
	int		   *start;			/* [n_scored + 1] */
	int32	   *doc;
	float	   *grade;
} Judgements;

/* ---------- the column contract ---------- */

/* A relation's name as SQL would write it (quoted, qualified if needed). */
static char *
RelName(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

/* Error unless rel has column col of one of the listed types. */
static void
CheckColumn(Oid relid, const char *col, const Oid *types, int ntypes,
			const char *what)
{
	AttrNumber	att = get_attnum(relid, col);
	Oid			type;

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("relation %s has no column \"%s\"", RelName(relid), col),
				 errhint("mrl_evaluate reads queries(id, body), docs(id, body) and qrels(query_id, doc_id, relevance).")));
	type = get_atttype(relid, att);
	for (int i = 0; i < ntypes; i++)
		if (type == types[i])
			return;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" of relation %s must be %s, not %s",
					col, RelName(relid), what, format_type_be(type))));
}

static const Oid key_types[] = {INT2OID, INT4OID, INT8OID, TEXTOID, VARCHAROID, BPCHAROID};
static const Oid text_types[] = {TEXTOID, VARCHAROID, BPCHAROID};
static const Oid int_types[] = {INT2OID, INT4OID, INT8OID};

/*
 * Check a queries or docs table: columns id and body, at least one row,
 * ids unique and not null (the numbering by id order relies on it).
 */
static void
OpenTextTable(EvalTable *t, Oid relid)
{
	char	   *sql;
	bool		isnull;
	int64		rows,
				ids,
				distinct_ids;

	t->relid = relid;
	t->name = RelName(relid);
	CheckColumn(relid, "id", key_types, lengthof(key_types), "an integer or text type");
	CheckColumn(relid, "body", text_types, lengthof(text_types), "text");

	sql = psprintf("SELECT count(*), count(id), count(DISTINCT id) FROM %s", t->name);
	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not count the rows of %s", t->name);
	rows = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	ids = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	distinct_ids = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	if (rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s is empty", t->name)));
	if (ids != rows || distinct_ids != rows)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"id\" of relation %s must be unique and not null", t->name)));
	if (rows > INT_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("relation %s has too many rows to evaluate", t->name)));
	t->rows = rows;
}

/* A table's rows numbered 0.. in id order, as a FROM item: (n, id, body). */
static char *
Numbered(const EvalTable *t)
{
	return psprintf("(SELECT (row_number() OVER (ORDER BY id) - 1)::int4 AS n, id, body FROM %s)",
					t->name);
}

/* ---------- judgements ---------- */

/* Say how many relevant judgements name ids that are not in the tables. */
static void
NoticeUnmatched(const char *qname, const EvalTable *queries, const EvalTable *docs)
{
	char	   *sql = psprintf("SELECT count(*) FROM %s r WHERE r.relevance > 0 AND "
							   "(NOT EXISTS (SELECT 1 FROM %s q WHERE q.id::text = r.query_id::text) OR "
							   "NOT EXISTS (SELECT 1 FROM %s d WHERE d.id::text = r.doc_id::text))",
							   qname, queries->name, docs->name);
	bool		isnull;
	int64		unmatched;

	if (SPI_execute(sql, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the judgements in %s", qname);
	unmatched = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (unmatched > 0)
		ereport(NOTICE,
				(errmsg_plural("%lld relevant judgement in %s names a query or document not in %s or %s: ignored",
							   "%lld relevant judgements in %s name a query or document not in %s or %s: ignored",
							   unmatched, (long long) unmatched, qname, queries->name, docs->name)));
	SPI_freetuptable(SPI_tuptable);
}

/*
 * Read qrels, joined to the numbered queries and docs by the text form of
 * the ids (so an integer id 7 matches a text doc_id '7').  Judgements of
 * unknown ids and NULL grades are ignored.
 */
static void
LoadJudgements(Oid qrels, const EvalTable *queries, const EvalTable *docs,
			   MemoryContext mcxt, Judgements *J)
{
	char	   *qname = RelName(qrels);
	char	   *sql;
	uint64		nrows;
	int			scored = 0;
	MemoryContext old;

	CheckColumn(qrels, "query_id", key_types, lengthof(key_types), "an integer or text type");
	CheckColumn(qrels, "doc_id", key_types, lengthof(key_types), "an integer or text type");
	CheckColumn(qrels, "relevance", int_types, lengthof(int_types), "an integer type");

	/* only queries with a relevant document are scored; keep their rows */
	sql = psprintf("SELECT q.n, d.n, r.relevance::float4 FROM %s r "
				   "JOIN %s q ON q.id::text = r.query_id::text "
				   "JOIN %s d ON d.id::text = r.doc_id::text "
				   "WHERE r.relevance IS NOT NULL AND q.n IN "
				   "(SELECT q2.n FROM %s r2 JOIN %s q2 ON q2.id::text = r2.query_id::text WHERE r2.relevance > 0) "
				   "ORDER BY 1, 2",
				   qname, Numbered(queries), Numbered(docs), qname, Numbered(queries));
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the judgements in %s", qname);
	nrows = SPI_processed;
	if (nrows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no query in %s has a relevant document in %s", queries->name, qname),
				 errdetail("A judgement is relevant when its relevance is > 0 and its ids are in %s and %s.",
						   queries->name, docs->name)));
	if (nrows > INT_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("relation %s has too many judgements to evaluate", qname)));

	old = MemoryContextSwitchTo(mcxt);
	J->n_queries = (int) queries->rows;
	J->scored_of = palloc(sizeof(int) * J->n_queries);
	J->query_of = palloc(sizeof(int) * J->n_queries);
	J->start = palloc(sizeof(int) * (J->n_queries + 1));
	J->doc = palloc(sizeof(int32) * nrows);
	J->grade = palloc(sizeof(float) * nrows);
	MemoryContextSwitchTo(old);
	for (int q = 0; q < J->n_queries; q++)
		J->scored_of[q] = -1;

	for (uint64 i = 0; i < nrows; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		int			q = DatumGetInt32(SPI_getbinval(tup, desc, 1, &isnull));

		if (J->scored_of[q] < 0)
		{
			J->scored_of[q] = scored;
			J->query_of[scored] = q;
			J->start[scored++] = (int) i;
		}
		J->doc[i] = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		J->grade[i] = DatumGetFloat4(SPI_getbinval(tup, desc, 3, &isnull));
		if (i > 0 && J->doc[i] == J->doc[i - 1] &&
			DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i - 1], desc, 1, &isnull)) == q)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relation %s judges a (query_id, doc_id) pair more than once", qname)));
	}
	J->n_scored = scored;
	J->start[scored] = (int) nrows;
	SPI_freetuptable(SPI_tuptable);
	NoticeUnmatched(qname, queries, docs);
}

/* ---------- embedding ---------- */

/*
 * Embed the bodies of a numbered table in id order, keeping the rows whose
 * number maps to a non-negative index in keep_of (NULL: all rows), into
 * out[index] (dim floats each).  Reads through a cursor, one batch at a
 * time, so only the vectors are held in memory.
 */
static void
EmbedTable(const EvalTable *t, const int *keep_of, mrl_encoder *enc,
		   const mrl_embed_options *opts, int dim, float *out)
{
	char	   *sql = psprintf("SELECT n, coalesce(body::text, '') FROM %s s ORDER BY n", Numbered(t));
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);
	Portal		portal;
	const char *texts[EVAL_FETCH_ROWS];
	size_t		lens[EVAL_FETCH_ROWS];
	int			index[EVAL_FETCH_ROWS];
	float	   *batch = palloc(sizeof(float) * (size_t) EVAL_FETCH_ROWS * dim);
	MemoryContext texts_cxt = AllocSetContextCreate(CurrentMemoryContext, "mrl_evaluate texts",
													ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;

	if (plan == NULL)
		elog(ERROR, "could not read %s: %s", t->name, SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		int			m = 0;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, EVAL_FETCH_ROWS);
		if (SPI_processed == 0)
			break;
		old = MemoryContextSwitchTo(texts_cxt);	/* detoasted bodies: one batch */
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			int			n = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
			text	   *body;

			if (keep_of != NULL && keep_of[n] < 0)
				continue;
			body = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
			texts[m] = VARDATA_ANY(body);
			lens[m] = VARSIZE_ANY_EXHDR(body);
			index[m++] = keep_of ? keep_of[n] : n;
		}
		MemoryContextSwitchTo(old);
		MrlEmbedTexts(enc, texts, lens, m, opts, dim, batch);
		for (int i = 0; i < m; i++)
			memcpy(out + (size_t) index[i] * dim, batch + (size_t) i * dim, sizeof(float) * dim);
		SPI_freetuptable(SPI_tuptable);
		MemoryContextReset(texts_cxt);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(texts_cxt);
	SPI_freeplan(plan);
	pfree(batch);
}

/* ---------- scoring ---------- */

/* Score one query's ranking and add it to sum; error on bad judgements. */
static void
AddQueryMetrics(const Judgements *J, int j, const int32 *ranked, int n_ranked,
				mrl_ir_metrics *sum)
{
	mrl_ir_metrics m;
	int			s = J->start[j];

	if (mrl_ir_score_query(ranked, n_ranked, J->doc + s, J->grade + s,
						   J->start[j + 1] - s, &m) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid judgements for a query")));
	mrl_ir_metrics_add(sum, &m);
}

/* 1 / the L2 norm of each row's first d values (0 for a zero row). */
static float *
InverseNorms(const float *X, int n, int stride, int d)
{
	float	   *inv = palloc(sizeof(float) * Max(n, 1));

	for (int i = 0; i < n; i++)
	{
		double		ss = 0.0;

		for (int k = 0; k < d; k++)
			ss += (double) X[(size_t) i * stride + k] * X[(size_t) i * stride + k];
		inv[i] = ss > 0 ? (float) (1.0 / sqrt(ss)) : 0.0f;
	}
	return inv;
}

/*
 * Mean metrics of ranking the docs D for the queries Q by the cosine of
 * their first d values (rows stride floats apart).  Queries go through
 * sgemm in batches sized so the score matrix stays within a fixed budget.
 */
static mrl_ir_metrics
ScorePrefix(const Judgements *J, const float *Q, const float *D, int n_docs,
			int stride, int d)
{
	float	   *qinv = InverseNorms(Q, J->n_scored, stride, d);
	float	   *dinv = InverseNorms(D, n_docs, stride, d);
	int			batch = Max(1, Min(256, EVAL_SCORE_FLOATS / n_docs));
	float	   *S = MemoryContextAllocHuge(CurrentMemoryContext,
										   sizeof(float) * (size_t) batch * n_docs);
	int32		ranked[EVAL_TOPK];
	mrl_ir_metrics sum = {0};

	for (int q0 = 0; q0 < J->n_scored; q0 += batch)
	{
		int			nb = Min(batch, J->n_scored - q0);

		CHECK_FOR_INTERRUPTS();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, n_docs, d,
					1.0f, Q + (size_t) q0 * stride, stride, D, stride,
					0.0f, S, n_docs);
		for (int i = 0; i < nb; i++)
		{
			float	   *row = S + (size_t) i * n_docs;
			int			n_ranked;

			for (int k = 0; k < n_docs; k++)
				row[k] *= qinv[q0 + i] * dinv[k];
			n_ranked = mrl_topk(row, n_docs, EVAL_TOPK, ranked);
			AddQueryMetrics(J, q0 + i, ranked, n_ranked, &sum);
		}
	}
	pfree(S);
	pfree(qinv);
	pfree(dinv);
	return sum;
}

/*
 * Full-text baseline: rank each scored query's docs by ts_rank_cd of the
 * docs' english tsvector against an OR of the query's lexemes (the terms
 * plainto_tsquery would AND), ties by id order; only matching docs are
 * ranked.  Lexemes are quoted for tsquery input ('' and \ escaped).
 */
static mrl_ir_metrics
ScoreFulltext(const Judgements *J, const EvalTable *queries, const EvalTable *docs)
{
	char	   *sql;
	Oid			argtypes[1] = {INT4ARRAYOID};
	Datum		args[1];
	Datum	   *qn = palloc(sizeof(Datum) * J->n_scored);
	mrl_ir_metrics sum = {0};

	for (int j = 0; j < J->n_scored; j++)
		qn[j] = Int32GetDatum(J->query_of[j]);
	args[0] = PointerGetDatum(construct_array(qn, J->n_scored, INT4OID, 4, true, TYPALIGN_INT));
	sql = psprintf("WITH d AS MATERIALIZED (SELECT n, pg_catalog.to_tsvector('pg_catalog.english', coalesce(body::text, '')) AS tsv FROM %s s), "
				   "q AS (SELECT n, (SELECT pg_catalog.string_agg('''' || replace(replace(l, chr(92), chr(92) || chr(92)), '''', '''''') || '''', ' | ') "
				   "FROM pg_catalog.unnest(pg_catalog.tsvector_to_array(pg_catalog.to_tsvector('pg_catalog.english', coalesce(body::text, '')))) l)::pg_catalog.tsquery AS tsq "
				   "FROM %s s WHERE n = ANY($1)) "
				   "SELECT q.n, ARRAY(SELECT d.n FROM d WHERE d.tsv @@ q.tsq "
				   "ORDER BY pg_catalog.ts_rank_cd(d.tsv, q.tsq) DESC, d.n LIMIT %d) FROM q",
				   Numbered(docs), Numbered(queries), EVAL_TOPK);
	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run the full-text baseline");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		bool		isnull;
		int			q = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		ArrayType  *arr = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		Datum	   *elems;
		int			n_ranked;
		int32		ranked[EVAL_TOPK];

		CHECK_FOR_INTERRUPTS();
		deconstruct_array(arr, INT4OID, 4, true, TYPALIGN_INT, &elems, NULL, &n_ranked);
		n_ranked = Min(n_ranked, EVAL_TOPK);
		for (int k = 0; k < n_ranked; k++)
			ranked[k] = DatumGetInt32(elems[k]);
		AddQueryMetrics(J, J->scored_of[q], ranked, n_ranked, &sum);
	}
	SPI_freetuptable(SPI_tuptable);
	return sum;
}

/* ---------- arguments and output ---------- */

/* The requested prefix sizes: a non-empty list of 1..full_dim. */
static int *
ParseDims(ArrayType *arr, int full_dim, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int		   *dims;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("dims must be a one-dimensional array")));
	deconstruct_array(arr, INT4OID, 4, true, TYPALIGN_INT, &elems, &nulls, n);
	if (*n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dims must list at least one prefix size")));
	dims = palloc(sizeof(int) * *n);
	for (int i = 0; i < *n; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("dims must not contain NULL")));
		dims[i] = DatumGetInt32(elems[i]);
		if (dims[i] < 1 || dims[i] > full_dim)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("prefix size %d is out of range", dims[i]),
					 errdetail("The model's embeddings have %d dimensions.", full_dim)));
	}
	return dims;
}

/* Which baselines were asked for: 'pca' and/or 'fulltext'. */
static void
ParseBaselines(ArrayType *arr, bool *pca, bool *fulltext)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	*pca = *fulltext = false;
	if (arr == NULL)
		return;
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *b = nulls[i] ? "" : TextDatumGetCString(elems[i]);

		if (strcmp(b, "pca") == 0)
			*pca = true;
		else if (strcmp(b, "fulltext") == 0)
			*fulltext = true;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown baseline \"%s\"", b),
					 errhint("The baselines are \"pca\" and \"fulltext\"; for a non-Matryoshka model, pass its name as model.")));
	}
}

/* Emit one result row: the mean of sum over the scored queries. */
static void
EmitRow(ReturnSetInfo *rsinfo, int dims, const char *method,
		mrl_ir_metrics sum, int n_scored)
{
	Datum		values[6];
	bool		nulls[6] = {0};

	values[0] = Int32GetDatum(dims);
	nulls[0] = dims <= 0;
	values[1] = CStringGetTextDatum(method);
	values[2] = Float8GetDatum(sum.ndcg10 / n_scored);
	values[3] = Float8GetDatum(sum.recall10 / n_scored);
	values[4] = Float8GetDatum(sum.recall100 / n_scored);
	values[5] = Float8GetDatum(sum.mrr10 / n_scored);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* Fit PCA on the docs and project docs and queries on the top k components. */
static void
ProjectPca(const float *D, int n_docs, const float *Q, int n_q, int dim, int k,
		   float *Dp, float *Qp)
{
	mrl_pca		pca;
	char		err[256];

	if (n_docs < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the pca baseline needs at least 2 documents")));
	if (mrl_pca_fit(D, n_docs, dim, k, &pca, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not fit PCA: %s", err)));
	mrl_pca_apply(&pca, D, n_docs, Dp);
	mrl_pca_apply(&pca, Q, n_q, Qp);
	mrl_pca_free(&pca);
}

/*
 * mrl_evaluate(queries, qrels, docs, model, dims, baselines): one row per
 * (prefix size, method) with nDCG@10, Recall@10, Recall@100 and MRR@10
 * averaged over the queries that have a relevant document.
 */
PG_FUNCTION_INFO_V1(mrl_evaluate);
Datum
mrl_evaluate(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	EvalTable	queries,
				docs;
	Judgements	J;
	mrl_encoder *enc;
	mrl_embed_options opts;
	int			full_dim,
				n_dims,
			   *dims,
				max_d = 0;
	bool		pca,
				fulltext;
	float	   *D,
			   *Q;
	MemoryContext work;

	for (int i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("queries, qrels and docs must not be NULL")));
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("dims must not be NULL")));
	ParseBaselines(PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5), &pca, &fulltext);
	enc = MrlModelForUse(fcinfo, PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	MrlEmbedOptionsInit(&opts);
	full_dim = MrlOutputDim(enc, &opts);
	dims = ParseDims(PG_GETARG_ARRAYTYPE_P(4), full_dim, &n_dims);
	for (int i = 0; i < n_dims; i++)
		max_d = Max(max_d, dims[i]);

	InitMaterializedSRF(fcinfo, 0);
	work = AllocSetContextCreate(CurrentMemoryContext, "mrl_evaluate", ALLOCSET_DEFAULT_SIZES);
	SPI_connect();
	OpenTextTable(&queries, PG_GETARG_OID(0));
	OpenTextTable(&docs, PG_GETARG_OID(2));
	LoadJudgements(PG_GETARG_OID(1), &queries, &docs, work, &J);

	D = MemoryContextAllocHuge(work, sizeof(float) * (size_t) docs.rows * full_dim);
	Q = MemoryContextAllocHuge(work, sizeof(float) * (size_t) J.n_scored * full_dim);
	EmbedTable(&docs, NULL, enc, &opts, full_dim, D);
	EmbedTable(&queries, J.scored_of, enc, &opts, full_dim, Q);

	for (int i = 0; i < n_dims; i++)
		EmitRow(rsinfo, dims[i], "prefix",
				ScorePrefix(&J, Q, D, (int) docs.rows, full_dim, dims[i]), J.n_scored);
	if (pca)
	{
		float	   *Dp = MemoryContextAllocHuge(work, sizeof(float) * (size_t) docs.rows * max_d);
		float	   *Qp = MemoryContextAllocHuge(work, sizeof(float) * (size_t) J.n_scored * max_d);

		ProjectPca(D, (int) docs.rows, Q, J.n_scored, full_dim, max_d, Dp, Qp);
		for (int i = 0; i < n_dims; i++)
			EmitRow(rsinfo, dims[i], "pca",
					ScorePrefix(&J, Qp, Dp, (int) docs.rows, max_d, dims[i]), J.n_scored);
	}
	if (fulltext)
		EmitRow(rsinfo, 0, "fulltext", ScoreFulltext(&J, &queries, &docs), J.n_scored);
	SPI_finish();
	MemoryContextDelete(work);
	return (Datum) 0;
}
