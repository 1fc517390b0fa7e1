/*
 * funnel.c: the funnel access method's handler, options, settings, cost
 * model, and the coarse codes with their distance lower bounds.
 *
 * The bounds (p = the coarse prefix, r = the rest, split in segments s):
 *   L2:     ||a-q||^2 >= max(0, ||x^-q_p|| - err)^2 + sum_s (||a_s|| - ||q_s||)^2
 *   cosine: the same on unit vectors, halved (1 - cos = ||a^-q^||^2 / 2)
 *   IP:     -a.q >= -x^.q_p - err ||q_p|| - sum_s ||a_s|| ||q_s||
 * where x^ is the decoded prefix code and err >= ||a_p - x^||.  A margin
 * proportional to the dimension count covers float rounding, both ours and
 * that of the operator the executor rechecks with, so a bound never exceeds
 * the distance the operator computes (the executor errors out if it did).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/amvalidate.h"
#include "access/reloptions.h"
#include "catalog/pg_opclass.h"
#include "commands/vacuum.h"
#include "distance.h"
#include "funnel.h"
#include "mvector.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

int			funnel_shortlist = 400;
int			funnel_probes = 0;
bool		funnel_exact = false;

static relopt_kind funnel_relopt_kind;

static relopt_enum_elt_def funnel_precision_values[] = {
	{"float4", FUNNEL_FLOAT4},
	{"int8", FUNNEL_INT8},
	{"binary", FUNNEL_BIT},
	{NULL}
};

/* Register the reloptions and GUCs; called from _PG_init. */
void
FunnelInit(void)
{
	funnel_relopt_kind = add_reloption_kind();
	add_int_reloption(funnel_relopt_kind, "coarse_dims",
					  "Number of leading dimensions kept in the index",
					  64, 1, MVECTOR_MAX_DIM, AccessExclusiveLock);
	add_enum_reloption(funnel_relopt_kind, "precision",
					   "Storage of the coarse prefix: float4, int8 or binary",
					   funnel_precision_values, FUNNEL_INT8,
					   "Valid values are \"float4\", \"int8\" and \"binary\".",
					   AccessExclusiveLock);
	add_int_reloption(funnel_relopt_kind, "lists",
					  "Number of IVF lists (0 = about the square root of the row count)",
					  0, 0, FUNNEL_MAX_LISTS, AccessExclusiveLock);

	DefineCustomBoolVariable("mrl.funnel_exact",
							 "Makes funnel index scans return exactly the rows and order of a sequential scan.",
							 "When off, each batch of mrl.funnel_shortlist candidates is reranked on full vectors.",
							 &funnel_exact, false, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("mrl.funnel_shortlist",
							"Candidates reranked on full vectors per batch in approximate funnel scans.",
							NULL, &funnel_shortlist, 400, 1, 1000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("mrl.funnel_probes",
							"IVF lists an approximate funnel scan considers, nearest centroids first (0 = a quarter of the lists, at least 32).",
							"More lists are opened when the candidates run out.",
							&funnel_probes, 0, 0, FUNNEL_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
}

/* Parse and validate WITH (...) options. */
static bytea *
funneloptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"coarse_dims", RELOPT_TYPE_INT, offsetof(FunnelOptions, coarseDims)},
		{"precision", RELOPT_TYPE_ENUM, offsetof(FunnelOptions, precision)},
		{"lists", RELOPT_TYPE_INT, offsetof(FunnelOptions, lists)},
	};

	return (bytea *) build_reloptions(reloptions, validate, funnel_relopt_kind,
									  sizeof(FunnelOptions), tab, lengthof(tab));
}

/* The metric of the index's opclass, from its support function 2. */
FunnelMetric
FunnelGetMetric(Relation index)
{
	FmgrInfo   *proc = index_getprocinfo(index, 1, FUNNEL_METRIC_PROC);
	int32		metric = DatumGetInt32(FunctionCall1(proc, PointerGetDatum(NULL)));

	if (metric < FUNNEL_L2 || metric > FUNNEL_COSINE)
		elog(ERROR, "funnel support function 2 returned unknown metric %d", metric);
	return (FunnelMetric) metric;
}

#define FUNNEL_METRIC_FUNC(name, metric) \
PG_FUNCTION_INFO_V1(name); \
Datum name(PG_FUNCTION_ARGS) { PG_RETURN_INT32(metric); }

FUNNEL_METRIC_FUNC(mrl_funnel_l2_support, FUNNEL_L2)
FUNNEL_METRIC_FUNC(mrl_funnel_ip_support, FUNNEL_IP)
FUNNEL_METRIC_FUNC(mrl_funnel_cosine_support, FUNNEL_COSINE)

/* Bytes of the coarse code for a prefix of coarseDims dims. */
int
FunnelCodeBytes(int coarseDims, int precision)
{
	switch (precision)
	{
		case FUNNEL_FLOAT4:
			return coarseDims * (int) sizeof(float);
		case FUNNEL_INT8:
			return coarseDims;
		case FUNNEL_BIT:
			return (coarseDims + 7) / 8;
	}
	elog(ERROR, "unknown funnel precision %d", precision);
	return 0;
}

/*
 * Segment boundaries of the residual dims [coarseDims, dim): each segment
 * doubles the previous prefix (64..128, 128..256, ...), the last one takes
 * the rest.  Empty segments have equal bounds.
 */
void
FunnelSegmentBounds(int coarseDims, int dim, int bounds[FUNNEL_NSEG + 1])
{
	bounds[0] = coarseDims;
	for (int s = 1; s < FUNNEL_NSEG; s++)
		bounds[s] = Min((int64) bounds[s - 1] * 2, dim);
	bounds[FUNNEL_NSEG] = dim;
}

/* Euclidean norm of n floats, in double. */
static double
NormOf(const float *x, int n)
{
	double		sum = 0;

	for (int i = 0; i < n; i++)
		sum += (double) x[i] * x[i];
	return sqrt(sum);
}

/*
 * Decode a prefix code into out[0..n).  Encoding measures its error against
 * this very function, so the bound's err covers exactly what scans see.
 */
static const float *
DecodePrefix(const FunnelEntry *entry, int n, int precision, float *out)
{
	switch (precision)
	{
		case FUNNEL_FLOAT4:
			return (const float *) entry->code;
		case FUNNEL_INT8:
			for (int i = 0; i < n; i++)
				out[i] = (float) ((const int8 *) entry->code)[i] * entry->scale;
			return out;
		case FUNNEL_BIT:
			for (int i = 0; i < n; i++)
				out[i] = (entry->code[i >> 3] & (1 << (i & 7))) ? entry->scale : -entry->scale;
			return out;
	}
	elog(ERROR, "unknown funnel precision %d", precision);
	return NULL;
}

/* sum c_i q_i and sum c_i^2 of an int8 code, portable version. */
static void
Int8DotNormScalar(const int8 *c, const float *q, int n, float *dot, float *cc)
{
	float		d = 0,
				x2 = 0;

	for (int i = 0; i < n; i++)
	{
		d += c[i] * q[i];
		x2 += c[i] * c[i];
	}
	*dot = d;
	*cc = x2;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* The same with AVX2: 8 codes widened to floats per step. */
__attribute__((target("avx2,fma")))
static void
Int8DotNormAvx2(const int8 *c, const float *q, int n, float *dot, float *cc)
{
	__m256		d = _mm256_setzero_ps(),
				x2 = _mm256_setzero_ps();
	float		buf[8];
	int			i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256		x = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *) (c + i))));

		d = _mm256_fmadd_ps(x, _mm256_loadu_ps(q + i), d);
		x2 = _mm256_fmadd_ps(x, x, x2);
	}
	Int8DotNormScalar(c + i, q + i, n - i, dot, cc);
	_mm256_storeu_ps(buf, d);
	for (int j = 0; j < 8; j++)
		*dot += buf[j];
	_mm256_storeu_ps(buf, x2);
	for (int j = 0; j < 8; j++)
		*cc += buf[j];
}
#endif

/* The int8 kernel for this CPU (and the mrl.simd setting). */
static void
Int8DotNorm(const int8 *c, const float *q, int n, float *dot, float *cc)
{
#if defined(__x86_64__) && defined(__GNUC__)
	if (strcmp(mrl_kernels.isa, "scalar") != 0)
	{
		Int8DotNormAvx2(c, q, n, dot, cc);
		return;
	}
#endif
	Int8DotNormScalar(c, q, n, dot, cc);
}

/* Squared Euclidean distance of n floats, in double. */
double
FunnelSquaredDistance(const float *a, const float *b, int n)
{
	double		sum = 0;

	for (int i = 0; i < n; i++)
		sum += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
	return sum;
}

/*
 * Fill an entry (all but heapPtr) from a vector of dim >= coarseDims.
 * Cosine entries describe the unit vector; a zero vector gets norm 0.
 * If prefix is given, it receives the (unit for cosine) uncoded prefix.
 */
void
FunnelEncode(FunnelEntry *entry, const float *x, int dim, int coarseDims,
			 int precision, FunnelMetric metric, float *prefix)
{
	float	   *y = palloc(sizeof(float) * dim);
	float	   *decoded = palloc(sizeof(float) * coarseDims);
	const float *xh;
	int			bounds[FUNNEL_NSEG + 1];
	double		norm = NormOf(x, dim);
	double		err = 0;

	for (int i = 0; i < dim; i++)
		y[i] = (metric == FUNNEL_COSINE && norm > 0) ? (float) (x[i] / norm) : x[i];
	entry->dim = dim;
	entry->norm = (float) NormOf(y, dim);
	FunnelSegmentBounds(coarseDims, dim, bounds);
	for (int s = 0; s < FUNNEL_NSEG; s++)
		entry->rnorm[s] = (float) NormOf(y + bounds[s], bounds[s + 1] - bounds[s]);

	entry->scale = 0;
	memset(entry->code, 0, FunnelCodeBytes(coarseDims, precision));
	if (precision == FUNNEL_FLOAT4)
		memcpy(entry->code, y, sizeof(float) * coarseDims);
	else if (precision == FUNNEL_INT8)
	{
		float		maxabs = 0;

		for (int i = 0; i < coarseDims; i++)
			maxabs = Max(maxabs, fabsf(y[i]));
		entry->scale = maxabs / 127;
		for (int i = 0; i < coarseDims && maxabs > 0; i++)
		{
			double		c = rint(y[i] / entry->scale);

			((int8 *) entry->code)[i] = (int8) Max(-127, Min(127, c));
		}
	}
	else
	{
		double		sumabs = 0;

		for (int i = 0; i < coarseDims; i++)
		{
			sumabs += fabs(y[i]);
			if (y[i] > 0)
				entry->code[i >> 3] |= 1 << (i & 7);
		}
		entry->scale = (float) (sumabs / coarseDims);
	}

	xh = DecodePrefix(entry, coarseDims, precision, decoded);
	for (int i = 0; i < coarseDims; i++)
		err += ((double) y[i] - xh[i]) * ((double) y[i] - xh[i]);
	/* round up, so the stored float is never below the true error */
	entry->err = err > 0 ? nextafterf((float) (sqrt(err) * (1 + 1e-6)), INFINITY) : 0;
	if (prefix)
		memcpy(prefix, y, sizeof(float) * coarseDims);
	pfree(y);
	pfree(decoded);
}

/* Precompute the query's prefix and segment norms for FunnelBound. */
void
FunnelQueryInit(FunnelQuery *q, const float *x, int dim, int coarseDims,
				int precision, FunnelMetric metric)
{
	int			bounds[FUNNEL_NSEG + 1];
	double		norm = NormOf(x, dim);
	double		div = (metric == FUNNEL_COSINE && norm > 0) ? norm : 1;
	float	   *y = palloc(sizeof(float) * dim);

	if (dim < coarseDims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("query mvector has %d dimensions, fewer than the index's coarse_dims (%d)",
						dim, coarseDims)));
	for (int i = 0; i < dim; i++)
		y[i] = (float) (x[i] / div);
	q->metric = metric;
	q->coarseDims = coarseDims;
	q->dim = dim;
	q->degenerate = (metric == FUNNEL_COSINE && norm == 0);
	q->prefix = palloc(sizeof(float) * coarseDims);
	memcpy(q->prefix, y, sizeof(float) * coarseDims);
	q->prefixNorm = NormOf(y, coarseDims);
	q->norm = NormOf(y, dim);
	FunnelSegmentBounds(coarseDims, dim, bounds);
	for (int s = 0; s < FUNNEL_NSEG; s++)
		q->rnorm[s] = NormOf(y + bounds[s], bounds[s + 1] - bounds[s]);
	q->precision = precision;
	q->prefixSum = 0;
	for (int i = 0; i < coarseDims; i++)
		q->prefixSum += y[i];
	q->bitTable = NULL;
	if (precision == FUNNEL_BIT)
	{
		/* bitTable[b * 256 + v]: sum of the prefix dims whose bit is set in byte b = v */
		int			nbytes = (coarseDims + 7) / 8;

		q->bitTable = palloc(sizeof(float) * 256 * nbytes);
		for (int b = 0; b < nbytes; b++)
			for (int v = 0; v < 256; v++)
			{
				double		sum = 0;

				for (int k = 0; k < 8 && b * 8 + k < coarseDims; k++)
					if (v & (1 << k))
						sum += y[b * 8 + k];
				q->bitTable[b * 256 + v] = (float) sum;
			}
	}
	q->slack = 2.0 * (dim + 16) * FLT_EPSILON;
	q->absSlack = 2.0 * (coarseDims + 16) * FLT_EPSILON;
	pfree(y);
}

/*
 * x^.q_p for the entry's decoded prefix x^, read straight from the code;
 * with xx, also ||x^||^2.
 */
static double
PrefixDot(const FunnelQuery *q, const FunnelEntry *entry, double *xx)
{
	const float *xf = (const float *) entry->code;
	float		dot,
				cc;
	double		set = 0;

	switch (q->precision)
	{
		case FUNNEL_FLOAT4:
			if (xx)
				*xx = mrl_kernels.dot(xf, xf, q->coarseDims);
			return mrl_kernels.dot(xf, q->prefix, q->coarseDims);
		case FUNNEL_INT8:
			Int8DotNorm((const int8 *) entry->code, q->prefix, q->coarseDims, &dot, &cc);
			if (xx)
				*xx = (double) entry->scale * entry->scale * cc;
			return (double) entry->scale * dot;
		case FUNNEL_BIT:
			/* x^ = +-scale: x^.q = scale (2 sum_set q - sum q) */
			for (int b = 0; b < (q->coarseDims + 7) / 8; b++)
				set += q->bitTable[b * 256 + entry->code[b]];
			if (xx)
				*xx = (double) entry->scale * entry->scale * q->coarseDims;
			return entry->scale * (2 * set - q->prefixSum);
	}
	elog(ERROR, "unknown funnel precision %d", q->precision);
	return 0;
}

/*
 * Whether the entry's distance to the query is NaN and sorts last (the
 * cosine operator's answer for a zero vector); rows of another dimension
 * count are an error, as in the SQL operator.
 */
static bool
SortsLast(const FunnelQuery *q, const FunnelEntry *entry)
{
	if (entry->dim != q->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different mvector dimensions %d and %d", entry->dim, q->dim)));
	return q->metric == FUNNEL_COSINE && (q->degenerate || entry->norm == 0);
}

/*
 * A lower bound of the opclass distance between the entry's row and the
 * query, as the SQL operator would compute it.
 */
double
FunnelBound(const FunnelQuery *q, const FunnelEntry *entry)
{
	double		dot,
				bound;

	if (SortsLast(q, entry))
		return get_float8_infinity();

	if (q->metric == FUNNEL_IP)
	{
		bound = -PrefixDot(q, entry, NULL) - entry->err * q->prefixNorm;
		for (int s = 0; s < FUNNEL_NSEG; s++)
			bound -= entry->rnorm[s] * q->rnorm[s];
		bound -= q->slack * ((double) entry->norm * q->norm + 1e-30);
	}
	else
	{
		double		d2,
					p;

		/* exact codes: the direct kernel, accurate relative to d itself */
		if (q->precision == FUNNEL_FLOAT4)
			d2 = mrl_kernels.l2sq((const float *) entry->code, q->prefix, q->coarseDims);
		else
		{
			double		xx;

			dot = PrefixDot(q, entry, &xx);
			d2 = Max(0, xx - 2 * dot + q->prefixNorm * q->prefixNorm);
		}
		p = Max(0, sqrt(d2) - entry->err);
		bound = p * p;
		for (int s = 0; s < FUNNEL_NSEG; s++)
			bound += (entry->rnorm[s] - q->rnorm[s]) * (entry->rnorm[s] - q->rnorm[s]);
		/* quantised codes round relative to the norms, not to the bound */
		bound = bound * (1 - q->slack)
			- (q->precision == FUNNEL_FLOAT4 ? 8 * FLT_EPSILON : q->absSlack) *
			((double) entry->norm * entry->norm + q->norm * q->norm);
		bound = Max(0, bound);
		bound = (q->metric == FUNNEL_L2) ? sqrt(bound) : bound / 2 - q->slack;
	}
	return isnan(bound) ? -get_float8_infinity() : bound;
}

/*
 * An estimate of the opclass distance (not a bound), for ranking the
 * shortlist of an approximate scan.  The prefix part comes from the code;
 * each residual segment's dot product with the query is guessed as the
 * prefixes' cosine times the two segment norms, since a Matryoshka
 * embedding's dims agree with one another.  The bound instead assumes every
 * residual points exactly at the query's, which ranks rows with long
 * residuals first and fills the shortlist with them.
 */
double
FunnelEstimate(const FunnelQuery *q, const FunnelEntry *entry)
{
	double		xx,
				dot,
				agree = 0,
				rdot = 0,
				d2;

	if (SortsLast(q, entry))
		return get_float8_infinity();
	dot = PrefixDot(q, entry, &xx);
	if (xx > 0 && q->prefixNorm > 0)
		agree = Max(-1, Min(1, dot / (sqrt(xx) * q->prefixNorm)));
	for (int s = 0; s < FUNNEL_NSEG; s++)
		rdot += (double) entry->rnorm[s] * q->rnorm[s];
	dot += agree * rdot;
	if (q->metric == FUNNEL_IP)
		return -dot;
	d2 = Max(0, (double) entry->norm * entry->norm + q->norm * q->norm - 2 * dot);
	return q->metric == FUNNEL_L2 ? sqrt(d2) : d2 / 2;
}

/*
 * A lower bound of the distance from the query to every member of a list,
 * from its centroid, radius and residual-norm range: the same inequalities
 * as FunnelBound with the list's ball in place of one code.
 */
double
FunnelListBound(const FunnelQuery *q, const FunnelList *list)
{
	double		qr = 0,
				bound;

	if (q->metric == FUNNEL_COSINE && q->degenerate)
		return get_float8_infinity();
	for (int s = 0; s < FUNNEL_NSEG; s++)
		qr += q->rnorm[s] * q->rnorm[s];
	qr = sqrt(qr);
	if (q->metric == FUNNEL_IP)
	{
		double		cq = 0;

		for (int i = 0; i < q->coarseDims; i++)
			cq += (double) list->centroid[i] * q->prefix[i];
		bound = -cq - list->radius * q->prefixNorm - list->maxResid * qr
			- q->slack * ((double) list->maxNorm * q->norm + 1e-30);
	}
	else
	{
		double		p = Max(0, sqrt(FunnelSquaredDistance(q->prefix, list->centroid,
														  q->coarseDims)) - list->radius);
		double		r = qr < list->minResid ? list->minResid - qr :
			qr > list->maxResid ? qr - list->maxResid : 0;

		bound = (p * p + r * r) * (1 - q->slack)
			- 8 * FLT_EPSILON * ((double) list->maxNorm * list->maxNorm + q->norm * q->norm);
		bound = Max(0, bound);
		bound = (q->metric == FUNNEL_L2) ? sqrt(bound) : bound / 2 - q->slack;
	}
	return isnan(bound) ? -get_float8_infinity() : bound;
}

/*
 * How near a list's centroid is to the query's prefix, for opening the
 * nearest lists first: the squared distance, or minus the inner product.
 */
double
FunnelListCloseness(const FunnelQuery *q, const FunnelList *list)
{
	double		cq = 0;

	if (q->metric != FUNNEL_IP)
		return FunnelSquaredDistance(q->prefix, list->centroid, q->coarseDims);
	for (int i = 0; i < q->coarseDims; i++)
		cq += (double) list->centroid[i] * q->prefix[i];
	return -cq;
}

/*
 * Costs: startup is priced as reading the whole index (an upper bound:
 * scans open only the lists that can still matter); each row then costs a
 * heap fetch, which cost_index adds.  Without an ORDER BY distance the
 * index is useless, so it is priced out.
 */
static void
funnelcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				   Cost *indexStartupCost, Cost *indexTotalCost,
				   Selectivity *indexSelectivity, double *indexCorrelation,
				   double *indexPages)
{
	IndexOptInfo *index = path->indexinfo;
	double		pages = Max(index->pages, 1);
	double		tuples = Max(index->tuples, 1);

	*indexSelectivity = 1.0;
	*indexCorrelation = 0;
	*indexPages = pages;
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		return;
	}
	*indexStartupCost = pages * seq_page_cost +
		tuples * (cpu_index_tuple_cost + cpu_operator_cost);
	*indexTotalCost = *indexStartupCost;
}

/* Check an opclass has both support functions. */
static bool
funnelvalidate(Oid opclassoid)
{
	HeapTuple	tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	bool		ok = HeapTupleIsValid(tup);

	if (ok)
		ReleaseSysCache(tup);
	return ok;
}

PG_FUNCTION_INFO_V1(funnel_handler);
Datum
funnel_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = FUNNEL_NPROCS;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = funnelbuild;
	am->ambuildempty = funnelbuildempty;
	am->aminsert = funnelinsert;
	am->ambulkdelete = funnelbulkdelete;
	am->amvacuumcleanup = funnelvacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = funnelcostestimate;
	am->amoptions = funneloptions;
	am->amproperty = NULL;
	am->ambuildphasename = NULL;
	am->amvalidate = funnelvalidate;
	am->amadjustmembers = NULL;
	am->ambeginscan = funnelbeginscan;
	am->amrescan = funnelrescan;
	am->amgettuple = funnelgettuple;
	am->amgetbitmap = NULL;
	am->amendscan = funnelendscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}

/*
 * mrl_funnel_bound(a, q, coarse_dims, precision, metric): the lower bound a
 * funnel index computes for row a and query q, for tests and diagnosis.
 */
PG_FUNCTION_INFO_V1(mrl_funnel_bound);
Datum
mrl_funnel_bound(PG_FUNCTION_ARGS)
{
	MVector    *a = PG_GETARG_MVECTOR_P(0);
	MVector    *qv = PG_GETARG_MVECTOR_P(1);
	int32		coarseDims = PG_GETARG_INT32(2);
	char	   *precisionName = text_to_cstring(PG_GETARG_TEXT_PP(3));
	char	   *metricName = text_to_cstring(PG_GETARG_TEXT_PP(4));
	int			precision = 0;
	FunnelMetric metric;
	FunnelEntry *entry;
	FunnelQuery q;

	for (int i = 0; funnel_precision_values[i].string_val; i++)
		if (strcmp(precisionName, funnel_precision_values[i].string_val) == 0)
			precision = funnel_precision_values[i].symbol_val;
	if (strcmp(metricName, "l2") == 0)
		metric = FUNNEL_L2;
	else if (strcmp(metricName, "ip") == 0)
		metric = FUNNEL_IP;
	else if (strcmp(metricName, "cosine") == 0)
		metric = FUNNEL_COSINE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown metric \"%s\"", metricName),
				 errhint("Use \"l2\", \"ip\" or \"cosine\".")));
	if (precision == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown precision \"%s\"", precisionName),
				 errhint("Use \"float4\", \"int8\" or \"binary\".")));
	if (coarseDims < 1 || coarseDims > a->dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("coarse_dims %d is out of range for an mvector of %d dimensions",
						coarseDims, a->dim)));
	entry = palloc0(FUNNEL_ENTRY_HEADER + FunnelCodeBytes(coarseDims, precision));
	FunnelEncode(entry, a->x, a->dim, coarseDims, precision, metric, NULL);
	FunnelQueryInit(&q, qv->x, qv->dim, coarseDims, precision, metric);
	PG_RETURN_FLOAT8(FunnelBound(&q, entry));
}
