/*
 * evaluate_sql.c: mrl_evaluate(), retrieval quality of a model at each
 * Matryoshka prefix size (and of PCA / full-text baselines) on a judged
 * test collection stored in tables.
 *
 * Each table is read once, through a cursor: documents (embedded with the
 * full model in batches), then the judgements of known documents, then the
 * judged queries (embedded likewise).  Documents and queries are numbered
 * in id order as they are read, and judgements are matched to them by the
 * text form of the ids.  A remote model's texts go to its API in batches,
 * several requests in flight (MrlEmbedder), and its prefixes are cut here
 * from the full vectors, as for a local model.  Scoring is in C: cosine
 * scores by sgemm on the prefix columns, top-100 per query, metrics from
 * src/encoder/evaluate.h.
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
#include "evaluate_sql.h"
#include "mvector.h"
#include "progress.h"

#define EVAL_TOPK 100			/* ranked list length: Recall@100 */
#define EVAL_JUDGEMENT_ROWS 4096	/* judgement rows per cursor fetch */
#define EVAL_SCORE_FLOATS (32 * 1024 * 1024)	/* score matrix budget per query batch */
#define EVAL_HINT "mrl_evaluate reads queries(id, body), docs(id, body) and qrels(query_id, doc_id, relevance)."

/*
 * Judgements with a known document, sorted by query id (text) then
 * document number, so a query's judgements are one run found by binary
 * search; a query whose run holds a relevant grade is scored.  Scored
 * queries are numbered in the order they are read: query j has the
 * judgements doc[first[j] .. first[j] + count[j]).
 */
typedef struct Judgements
{
	char	   *relname;
	int			n;
	int			capacity;
	char	  **query_id;		/* [n] */
	int32	   *doc;			/* [n] document numbers */
	float	   *grade;			/* [n] */
	int64		relevant_no_doc;	/* relevant, of a document not in docs */
	int64		relevant_unclaimed; /* relevant, of no query read so far */
	int			n_scored;
	int			scored_capacity;
	int		   *query_of;		/* [n_scored]: query number */
	int		   *first;			/* [n_scored] */
	int		   *count;			/* [n_scored] */
} Judgements;

/* ---------- the column contract ---------- */

/* A relation's name as SQL would write it (quoted, qualified if needed). */
char *
MrlRelName(Oid relid)
{
	return DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(relid)));
}

/* Error unless rel has column col of one of the listed types (what names them). */
void
MrlCheckColumn(Oid relid, const char *col, const Oid *types, int ntypes,
			   const char *what, const char *hint)
{
	AttrNumber	att = get_attnum(relid, col);
	Oid			type;

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("relation %s has no column \"%s\"", MrlRelName(relid), col),
				 errhint("%s", hint)));
	type = get_atttype(relid, att);
	for (int i = 0; i < ntypes; i++)
		if (type == types[i])
			return;
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("column \"%s\" of relation %s must be %s, not %s",
					col, MrlRelName(relid), what, format_type_be(type))));
}

const Oid	MrlKeyTypes[6] = {INT2OID, INT4OID, INT8OID, TEXTOID, VARCHAROID, BPCHAROID};
const Oid	MrlTextTypes[3] = {TEXTOID, VARCHAROID, BPCHAROID};
const Oid	MrlIntTypes[3] = {INT2OID, INT4OID, INT8OID};

/* Check the columns of a queries or docs table: id and body. */
static void
CheckTextTable(Oid relid)
{
	MrlCheckColumn(relid, "id", MrlKeyTypes, lengthof(MrlKeyTypes), "an integer or text type", EVAL_HINT);
	MrlCheckColumn(relid, "body", MrlTextTypes, lengthof(MrlTextTypes), "text", EVAL_HINT);
}

/* Check the columns of a qrels table: query_id, doc_id and relevance. */
static void
CheckQrels(Oid relid)
{
	MrlCheckColumn(relid, "query_id", MrlKeyTypes, lengthof(MrlKeyTypes), "an integer or text type", EVAL_HINT);
	MrlCheckColumn(relid, "doc_id", MrlKeyTypes, lengthof(MrlKeyTypes), "an integer or text type", EVAL_HINT);
	MrlCheckColumn(relid, "relevance", MrlIntTypes, lengthof(MrlIntTypes), "an integer type", EVAL_HINT);
}

/* ---------- ids ---------- */

/* p resized to size bytes, or allocated if NULL (in the current context). */
static void *
Resize(void *p, Size size)
{
	return p ? repalloc(p, size) : palloc(size);
}

/* Twice the capacity of an array of at least `need` elements, within limits. */
int
MrlGrowCapacity(int capacity, int need, const char *relname)
{
	if (need > INT_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("relation %s has too many rows to evaluate", relname)));
	return Max(Max(capacity * 2, need), 1024);
}

/*
 * Number the next row of a table by its id (text form, NULL an error);
 * the index keeps the string.
 */
static int
IdIndexAdd(IdIndex *idx, char *id)
{
	if (id == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column \"id\" of relation %s must be unique and not null", idx->relname)));
	if (idx->n == idx->capacity)
	{
		idx->capacity = MrlGrowCapacity(idx->capacity, idx->n + 1, idx->relname);
		idx->id = Resize(idx->id, sizeof(char *) * idx->capacity);
	}
	idx->id[idx->n] = id;
	return idx->n++;
}

/* qsort_arg comparator: row numbers by the text of their ids. */
static int
CompareIdNumbers(const void *a, const void *b, void *arg)
{
	char	  **id = (char **) arg;

	return strcmp(id[*(const int *) a], id[*(const int *) b]);
}

/* Sort the ids for lookups; error if the table was empty or an id repeats. */
static void
IdIndexFinish(IdIndex *idx)
{
	if (idx->n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("relation %s is empty", idx->relname)));
	idx->sorted = palloc(sizeof(int) * idx->n);
	for (int i = 0; i < idx->n; i++)
		idx->sorted[i] = i;
	qsort_arg(idx->sorted, idx->n, sizeof(int), CompareIdNumbers, idx->id);
	for (int i = 1; i < idx->n; i++)
		if (strcmp(idx->id[idx->sorted[i - 1]], idx->id[idx->sorted[i]]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"id\" of relation %s must be unique and not null", idx->relname)));
}

/* The number of the row with this id, or -1. */
static int
IdIndexLookup(const IdIndex *idx, const char *id)
{
	int			lo = 0,
				hi = idx->n;

	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = strcmp(idx->id[idx->sorted[mid]], id);

		if (c == 0)
			return idx->sorted[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Column c of an SPI result row as a C string in the current context, or NULL. */
char *
MrlSpiText(uint64 row, int c)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, c, &isnull);

	return isnull ? NULL : TextDatumGetCString(d);
}

/* ---------- reading the tables, each once ---------- */

/*
 * Open a cursor on sql, which reads a user's relation.  Each table is read
 * once: a relation may be a view whose rows change from one read to the
 * next, so nothing sized by one read may be written by another.
 */
static Portal
OpenCursor(const char *sql, const char *relname)
{
	SPIPlanPtr	plan = SPI_prepare(sql, 0, NULL);

	if (plan == NULL)
		elog(ERROR, "could not read %s: %s", relname, SPI_result_code_string(SPI_result));
	return SPI_cursor_open(NULL, plan, NULL, NULL, true);
}

/*
 * Read a table of texts once, in id order, through a cursor: number every
 * row in ids, and embed the bodies of the rows keep() selects (all rows if
 * keep is NULL) with the model into (*vecs)[index], model->dim floats each,
 * growing *vecs (allocated in mcxt) as needed.  extra (or NULL) is SQL for
 * more columns, which keep() reads from the fetched row.  Only one batch of
 * texts (model->batch_texts) is held.
 */
void
MrlReadTextTable(IdIndex *ids, const char *extra, KeepRow keep, void *keep_arg,
				 const MrlEmbedder *model, MemoryContext mcxt, float **vecs)
{
	char	   *sql = psprintf("SELECT id::text, coalesce(body::text, '')%s%s FROM %s ORDER BY id",
						   extra ? ", " : "", extra ? extra : "", ids->relname);
	Portal		portal = OpenCursor(sql, ids->relname);
	int			dim = model->dim;
	int			fetch = model->batch_texts;
	const char **texts = palloc(sizeof(char *) * fetch);
	size_t	   *lens = palloc(sizeof(size_t) * fetch);
	int		   *index = palloc(sizeof(int) * fetch);
	int			capacity = 0;
	int64		embedded = 0;
	float	   *batch = MemoryContextAllocHuge(CurrentMemoryContext,
											   sizeof(float) * (size_t) fetch * dim);
	MemoryContext batch_cxt = AllocSetContextCreate(CurrentMemoryContext, "mrl_evaluate batch",
													ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;

	*vecs = NULL;
	for (;;)
	{
		int			m = 0;

		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, fetch);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			int			n,
						k;
			bool		isnull;
			text	   *body;

			old = MemoryContextSwitchTo(mcxt);
			n = IdIndexAdd(ids, MrlSpiText(i, 1));
			k = keep ? keep(keep_arg, n, ids->id[n], i) : n;
			MemoryContextSwitchTo(old);
			if (k < 0)
				continue;
			if (k >= capacity)
			{
				capacity = MrlGrowCapacity(capacity, k + 1, ids->relname);
				*vecs = *vecs ? repalloc_huge(*vecs, sizeof(float) * (size_t) capacity * dim)
					: MemoryContextAllocHuge(mcxt, sizeof(float) * (size_t) capacity * dim);
			}
			old = MemoryContextSwitchTo(batch_cxt);	/* detoasted bodies: one batch */
			body = DatumGetTextPP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
			MemoryContextSwitchTo(old);
			texts[m] = VARDATA_ANY(body);
			lens[m] = VARSIZE_ANY_EXHDR(body);
			index[m++] = k;
		}
		old = MemoryContextSwitchTo(batch_cxt);	/* a remote model's requests */
		MrlEmbedderRun(model, texts, lens, m, batch);
		MemoryContextSwitchTo(old);
		for (int i = 0; i < m; i++)
			memcpy(*vecs + (size_t) index[i] * dim, batch + (size_t) i * dim, sizeof(float) * dim);
		MrlProgressDone(embedded += m);
		SPI_freetuptable(SPI_tuptable);
		MemoryContextReset(batch_cxt);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(batch_cxt);
	pfree(batch);
	pfree(texts);
	pfree(lens);
	pfree(index);
	old = MemoryContextSwitchTo(mcxt);
	IdIndexFinish(ids);
	MemoryContextSwitchTo(old);
}

/* Add one judgement (in mcxt). */
static void
JudgementsAdd(Judgements *J, char *query_id, int doc, float grade)
{
	if (J->n == J->capacity)
	{
		J->capacity = MrlGrowCapacity(J->capacity, J->n + 1, J->relname);
		J->query_id = Resize(J->query_id, sizeof(char *) * J->capacity);
		J->doc = Resize(J->doc, sizeof(int32) * J->capacity);
		J->grade = Resize(J->grade, sizeof(float) * J->capacity);
	}
	J->query_id[J->n] = query_id;
	J->doc[J->n] = doc;
	J->grade[J->n++] = grade;
}

/* qsort_arg comparator: judgement numbers by query id, then document. */
static int
CompareJudgements(const void *a, const void *b, void *arg)
{
	const Judgements *J = (const Judgements *) arg;
	int			i = *(const int *) a,
				j = *(const int *) b;
	int			c = strcmp(J->query_id[i], J->query_id[j]);

	if (c != 0)
		return c;
	return (J->doc[i] > J->doc[j]) - (J->doc[i] < J->doc[j]);
}

/* Sort the judgements by query id, then document; error on a repeated pair. */
static void
JudgementsSort(Judgements *J)
{
	int		   *order = palloc(sizeof(int) * Max(J->n, 1));
	char	  **query_id = palloc(sizeof(char *) * Max(J->n, 1));
	int32	   *doc = palloc(sizeof(int32) * Max(J->n, 1));
	float	   *grade = palloc(sizeof(float) * Max(J->n, 1));

	for (int i = 0; i < J->n; i++)
		order[i] = i;
	qsort_arg(order, J->n, sizeof(int), CompareJudgements, J);
	for (int i = 0; i < J->n; i++)
	{
		if (i > 0 && CompareJudgements(&order[i - 1], &order[i], J) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("relation %s judges a (query_id, doc_id) pair more than once", J->relname)));
		query_id[i] = J->query_id[order[i]];
		doc[i] = J->doc[order[i]];
		grade[i] = J->grade[order[i]];
	}
	J->query_id = query_id;
	J->doc = doc;
	J->grade = grade;
	pfree(order);
}

/*
 * Read qrels once: keep the judgements (NULL grades skipped) whose document
 * is in docs, matched by the text form of the ids (so an integer id 7
 * matches a text doc_id '7'), sorted by query id.  Queries are matched when
 * the queries table is read (MatchQuery).
 */
static void
ReadJudgements(Judgements *J, const IdIndex *docs, MemoryContext mcxt)
{
	char	   *sql = psprintf("SELECT query_id::text, doc_id::text, relevance::float4 FROM %s "
							   "WHERE relevance IS NOT NULL", J->relname);
	Portal		portal = OpenCursor(sql, J->relname);
	MemoryContext old;
	int64		read = 0;

	for (;;)
	{
		CHECK_FOR_INTERRUPTS();
		SPI_cursor_fetch(portal, true, EVAL_JUDGEMENT_ROWS);
		if (SPI_processed == 0)
			break;
		old = MemoryContextSwitchTo(mcxt);
		for (uint64 i = 0; i < SPI_processed; i++)
		{
			char	   *query_id = MrlSpiText(i, 1);
			char	   *doc_id = MrlSpiText(i, 2);
			bool		isnull;
			float		grade = DatumGetFloat4(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
			int			doc = doc_id ? IdIndexLookup(docs, doc_id) : -1;

			if (doc_id)
				pfree(doc_id);
			if (query_id == NULL || doc < 0)
			{
				J->relevant_no_doc += grade > 0;
				if (query_id)
					pfree(query_id);
				continue;
			}
			J->relevant_unclaimed += grade > 0;
			JudgementsAdd(J, query_id, doc, grade);
		}
		MemoryContextSwitchTo(old);
		MrlProgressDone(read += SPI_processed);
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	old = MemoryContextSwitchTo(mcxt);
	JudgementsSort(J);
	MemoryContextSwitchTo(old);
}

/*
 * KeepRow for the queries table: a query is embedded (and scored) when its
 * judgements hold a relevant grade.  Returns its index among the scored
 * queries, or -1.  Called in the judgements' memory context.
 */
static int
MatchQuery(void *arg, int n, const char *id, uint64 row)
{
	Judgements *J = (Judgements *) arg;
	int			lo = 0,
				hi = J->n,
				end,
				relevant = 0;

	while (lo < hi)				/* the first judgement of this query */
	{
		int			mid = lo + (hi - lo) / 2;

		if (strcmp(J->query_id[mid], id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (end = lo; end < J->n && strcmp(J->query_id[end], id) == 0; end++)
		relevant += J->grade[end] > 0;
	if (relevant == 0)
		return -1;
	J->relevant_unclaimed -= relevant;
	if (J->n_scored == J->scored_capacity)
	{
		J->scored_capacity = MrlGrowCapacity(J->scored_capacity, J->n_scored + 1, J->relname);
		J->query_of = Resize(J->query_of, sizeof(int) * J->scored_capacity);
		J->first = Resize(J->first, sizeof(int) * J->scored_capacity);
		J->count = Resize(J->count, sizeof(int) * J->scored_capacity);
	}
	J->query_of[J->n_scored] = n;
	J->first[J->n_scored] = lo;
	J->count[J->n_scored] = end - lo;
	return J->n_scored++;
}

/* Say how many relevant judgements name ids that are not in the tables. */
static void
NoticeUnmatched(const Judgements *J, const IdIndex *queries, const IdIndex *docs)
{
	int64		unmatched = J->relevant_no_doc + J->relevant_unclaimed;

	if (unmatched > 0)
		ereport(NOTICE,
				(errmsg_plural("%lld relevant judgement in %s names a query or document not in %s or %s: ignored",
							   "%lld relevant judgements in %s name a query or document not in %s or %s: ignored",
							   unmatched, (long long) unmatched, J->relname, queries->relname, docs->relname)));
}

/* ---------- scoring ---------- */

/* Score one query's ranking and add it to sum; error on bad judgements. */
static void
AddQueryMetrics(const Judgements *J, int j, const int32 *ranked, int n_ranked,
				mrl_ir_metrics *sum)
{
	mrl_ir_metrics m;
	int			s = J->first[j];

	if (mrl_ir_score_query(ranked, n_ranked, J->doc + s, J->grade + s,
						   J->count[j], &m) < 0)
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
 * ranked.  Lexemes are quoted for tsquery input ('' and \ escaped).  This
 * reads the tables a second time: rows are matched back by id, and ids the
 * first read did not see (a view may change) are skipped.  Queries come in
 * id order, so that the sum does not depend on the order the rows come in
 * (a distributed table's shards answer in any order).
 */
static mrl_ir_metrics
ScoreFulltext(const Judgements *J, const IdIndex *queries, const IdIndex *docs)
{
	char	   *sql;
	Oid			argtypes[1] = {TEXTARRAYOID};
	Datum		args[1];
	Datum	   *qid = palloc(sizeof(Datum) * J->n_scored);
	int		   *scored_of = palloc(sizeof(int) * queries->n);
	bool	   *done = palloc0(sizeof(bool) * J->n_scored);
	mrl_ir_metrics sum = {0};

	for (int q = 0; q < queries->n; q++)
		scored_of[q] = -1;
	for (int j = 0; j < J->n_scored; j++)
	{
		scored_of[J->query_of[j]] = j;
		qid[j] = CStringGetTextDatum(queries->id[J->query_of[j]]);
	}
	args[0] = PointerGetDatum(construct_array(qid, J->n_scored, TEXTOID, -1, false, TYPALIGN_INT));
	sql = psprintf("WITH d AS MATERIALIZED (SELECT id AS key, id::text AS id, pg_catalog.to_tsvector('pg_catalog.english', coalesce(body::text, '')) AS tsv FROM %s), "
				   "q AS (SELECT id AS key, id::text AS id, (SELECT pg_catalog.string_agg('''' || replace(replace(l, chr(92), chr(92) || chr(92)), '''', '''''') || '''', ' | ') "
				   "FROM pg_catalog.unnest(pg_catalog.tsvector_to_array(pg_catalog.to_tsvector('pg_catalog.english', coalesce(body::text, '')))) l)::pg_catalog.tsquery AS tsq "
				   "FROM %s WHERE id::text = ANY($1)) "
				   "SELECT q.id, ARRAY(SELECT d.id FROM d WHERE d.tsv @@ q.tsq "
				   "ORDER BY pg_catalog.ts_rank_cd(d.tsv, q.tsq) DESC, d.key LIMIT %d) FROM q ORDER BY q.key",
				   docs->relname, queries->relname, EVAL_TOPK);
	if (SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run the full-text baseline");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *id = MrlSpiText(i, 1);
		int			q = id ? IdIndexLookup(queries, id) : -1;
		int			j = q >= 0 ? scored_of[q] : -1;
		bool		isnull;
		ArrayType  *arr;
		Datum	   *elems;
		bool	   *nulls;
		int			n_elems,
					n_ranked = 0;
		int32		ranked[EVAL_TOPK];

		CHECK_FOR_INTERRUPTS();
		if (j < 0 || done[j])
			continue;
		done[j] = true;
		arr = DatumGetArrayTypeP(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n_elems);
		for (int k = 0; k < n_elems && n_ranked < EVAL_TOPK; k++)
		{
			int			doc = nulls[k] ? -1 : IdIndexLookup(docs, TextDatumGetCString(elems[k]));

			if (doc >= 0)
				ranked[n_ranked++] = doc;
		}
		AddQueryMetrics(J, j, ranked, n_ranked, &sum);
	}
	SPI_freetuptable(SPI_tuptable);
	return sum;
}

/* ---------- arguments and output ---------- */

/* The requested prefix sizes: a non-empty list of 1..full_dim. */
int *
MrlParseDims(ArrayType *arr, int full_dim, int *n)
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

/*
 * Which of the baselines names[0..n_names) arr asks for (asked[i]); any
 * other name is an error with hint.
 */
void
MrlParseBaselines(ArrayType *arr, const char *const *names, int n_names, bool *asked,
				  const char *hint)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	memset(asked, 0, sizeof(bool) * n_names);
	if (arr == NULL)
		return;
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		char	   *b = nulls[i] ? "" : TextDatumGetCString(elems[i]);
		int			j = 0;

		while (j < n_names && strcmp(b, names[j]) != 0)
			j++;
		if (j == n_names)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown baseline \"%s\"", b),
					 errhint("%s", hint)));
		asked[j] = true;
	}
}

/*
 * Emit one result row: the mean of sum over the scored queries; count it in
 * *rows_done for the progress view.
 */
static void
EmitRow(ReturnSetInfo *rsinfo, int dims, const char *method,
		mrl_ir_metrics sum, int n_scored, int64 *rows_done)
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
	MrlProgressDone(++*rows_done);
}

/*
 * Fit a PCA of k components on the rows of X [n][dim] that use[] marks
 * (all if use is NULL); rows names them in errors.  Free it with
 * mrl_pca_free.
 */
void
MrlFitPca(const float *X, int n, int dim, const bool *use, int k, const char *rows,
		  mrl_pca *pca)
{
	mrl_pca_acc *acc;
	void	   *acc_mem;
	float	   *scratch;
	char		err[256];

	if (dim > MRL_PCA_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the pca baseline takes models of at most %d dimensions, not %d",
						MRL_PCA_MAX_DIM, dim)));
	/* the accumulator and scratch in palloc'd memory: counted as the query's */
	acc_mem = MemoryContextAllocHuge(CurrentMemoryContext, mrl_pca_acc_size(dim));
	acc = mrl_pca_acc_init(acc_mem, dim, err, sizeof(err));
	for (int i = 0; acc != NULL && i < n; i++)
		if (use == NULL || use[i])
			mrl_pca_acc_add(acc, X + (size_t) i * dim, 1);
	if (acc != NULL && mrl_pca_acc_rows(acc) < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the pca baseline needs at least 2 %s", rows)));
	scratch = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) dim * dim);
	if (acc == NULL || mrl_pca_acc_fit(acc, k, scratch, pca, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not fit PCA: %s", err)));
	pfree(scratch);
	pfree(acc_mem);
}

/* Fit PCA on the docs and project docs and queries on the top k components. */
static void
ProjectPca(const float *D, int n_docs, const float *Q, int n_q, int dim, int k,
		   float *Dp, float *Qp)
{
	mrl_pca		pca;

	MrlFitPca(D, n_docs, dim, NULL, k, "documents", &pca);
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
	Oid			queries_rel = PG_GETARG_OID(0),
				qrels_rel = PG_GETARG_OID(1),
				docs_rel = PG_GETARG_OID(2);
	IdIndex		queries = {0},
				docs = {0};
	Judgements	J = {0};
	MrlEmbedder model;
	int			full_dim,
				n_dims,
			   *dims,
				max_d = 0;
	static const char *const baseline_names[] = {"pca", "fulltext"};
	bool		asked[lengthof(baseline_names)];
	float	   *D,
			   *Q;
	MemoryContext work;
	int64		rows_done = 0;

	for (int i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("queries, qrels and docs must not be NULL")));
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("dims must not be NULL")));
	MrlParseBaselines(PG_ARGISNULL(5) ? NULL : PG_GETARG_ARRAYTYPE_P(5), baseline_names,
					  lengthof(baseline_names), asked,
					  "The baselines are \"pca\" and \"fulltext\"; for a non-Matryoshka model, pass its name as model.");
	MrlEmbedderOpen(&model, fcinfo, PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)),
					0, NULL);
	full_dim = model.dim;
	dims = MrlParseDims(PG_GETARG_ARRAYTYPE_P(4), full_dim, &n_dims);
	for (int i = 0; i < n_dims; i++)
		max_d = Max(max_d, dims[i]);
	CheckTextTable(queries_rel);
	CheckTextTable(docs_rel);
	CheckQrels(qrels_rel);

	InitMaterializedSRF(fcinfo, 0);
	work = AllocSetContextCreate(CurrentMemoryContext, "mrl_evaluate", ALLOCSET_DEFAULT_SIZES);
	queries.relname = MrlRelName(queries_rel);
	docs.relname = MrlRelName(docs_rel);
	J.relname = MrlRelName(qrels_rel);
	SPI_connect();
	MrlProgressStart(MRL_PROGRESS_EVALUATE);
	/* docs, then the judgements of known docs, then the judged queries */
	MrlProgressSetPhase(MRL_PHASE_EMBEDDING_DOCUMENTS, -1);
	MrlReadTextTable(&docs, NULL, NULL, NULL, &model, work, &D);
	MrlProgressSetPhase(MRL_PHASE_READING_JUDGEMENTS, -1);
	ReadJudgements(&J, &docs, work);
	MrlProgressSetPhase(MRL_PHASE_EMBEDDING_QUERIES, -1);
	MrlReadTextTable(&queries, NULL, MatchQuery, &J, &model, work, &Q);
	if (J.n_scored == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no query in %s has a relevant document in %s", queries.relname, J.relname),
				 errdetail("A judgement is relevant when its relevance is > 0 and its ids are in %s and %s.",
						   queries.relname, docs.relname)));
	NoticeUnmatched(&J, &queries, &docs);

	MrlProgressSetPhase(MRL_PHASE_SCORING, n_dims * (asked[0] ? 2 : 1) + (asked[1] ? 1 : 0));
	for (int i = 0; i < n_dims; i++)
		EmitRow(rsinfo, dims[i], "prefix",
				ScorePrefix(&J, Q, D, docs.n, full_dim, dims[i]), J.n_scored, &rows_done);
	if (asked[0])				/* pca */
	{
		float	   *Dp = MemoryContextAllocHuge(work, sizeof(float) * (size_t) docs.n * max_d);
		float	   *Qp = MemoryContextAllocHuge(work, sizeof(float) * (size_t) J.n_scored * max_d);

		ProjectPca(D, docs.n, Q, J.n_scored, full_dim, max_d, Dp, Qp);
		for (int i = 0; i < n_dims; i++)
			EmitRow(rsinfo, dims[i], "pca",
					ScorePrefix(&J, Qp, Dp, docs.n, max_d, dims[i]), J.n_scored, &rows_done);
	}
	if (asked[1])				/* fulltext */
		EmitRow(rsinfo, 0, "fulltext", ScoreFulltext(&J, &queries, &docs), J.n_scored, &rows_done);
	SPI_finish();
	MrlProgressEnd();
	MemoryContextDelete(work);
	return (Datum) 0;
}
