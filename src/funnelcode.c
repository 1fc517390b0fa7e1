/*
 * funnelcode.c: the funnel index's coarse codes: quantisation, distance
 * lower bounds and estimates, for one entry and for a whole list.
 *
 * The bounds (p = the coarse prefix, r = the rest, split in segments s):
 *   L2:     ||a-q||^2 >= max(0, ||x^-q_p|| - err)^2 + sum_s (||a_s|| - ||q_s||)^2
 *   cosine: the same on unit vectors, halved (1 - cos = ||a^-q^||^2 / 2)
 *   IP:     -a.q >= -x^.q_p - err ||q_p|| - sum_s ||a_s|| ||q_s||
 *   L1:     ||a-q||_1 >= max(||x^-q_p||_1 - sqrt(|p|) err, ||x^-q_p|| - err)
 *                        + sum_s | ||a_s|| - ||q_s|| |
 * where x^ is the decoded prefix code and err >= ||a_p - x^|| (for L1,
 * ||v||_1 <= sqrt(n) ||v|| on n dims, and ||v||_1 >= ||v||, which also makes
 * the Euclidean residual term a lower bound of the residual's L1).  A margin
 * proportional to the dimension count covers float rounding, both ours and
 * that of the operator the executor rechecks with, so a bound never exceeds
 * the distance the operator computes (the executor errors out if it did).
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "distance.h"
#include "funnel.h"
#include "mvector.h"
#include "utils/builtins.h"
#include "utils/float.h"

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
 * How many leading residual segments (dims coarseDims..2 coarseDims, then
 * ..4 coarseDims) an entry also keeps as one sign bit a dim: both when their
 * bits fit FUNNEL_MAX_SIGN_DIMS and the page, else the first, else none.
 * The bits let an approximate scan estimate the residual's dot product with
 * the query (the RaBitQ estimator without rotation, below) instead of
 * guessing it from norms: on the built-in model's 256-dim vectors, with a
 * 64-dim prefix, the true top-10 then rank within the first 200 estimates of
 * 100,000 candidates 97% of the time, against 79% from norms alone.
 */
int
FunnelSignSegments(int coarseDims, int precision)
{
	int			roomBits = 8 * (FUNNEL_PAGE_SPACE - (int) FUNNEL_ENTRY_HEADER -
								FunnelCodeBytes(coarseDims, precision));

	if (3 * coarseDims <= Min(FUNNEL_MAX_SIGN_DIMS, roomBits))
		return 2;
	if (coarseDims <= Min(FUNNEL_MAX_SIGN_DIMS, roomBits))
		return 1;
	return 0;
}

/* Bytes of sign bits after the prefix code (for the largest rows). */
int
FunnelSignBytes(int coarseDims, int precision)
{
	int			segments = FunnelSignSegments(coarseDims, precision);

	return ((segments == 2 ? 3 * coarseDims : segments * coarseDims) + 7) / 8;
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

/* Squared Euclidean distance of n floats, in double. */
double
FunnelSquaredDistance(const float *a, const float *b, int n)
{
	double		sum[4] = {0, 0, 0, 0};
	int			i = 0;

	/* four independent sums: a scan computes one per list */
	for (; i + 4 <= n; i += 4)
		for (int j = 0; j < 4; j++)
			sum[j] += ((double) a[i + j] - b[i + j]) * ((double) a[i + j] - b[i + j]);
	for (; i < n; i++)
		sum[0] += ((double) a[i] - b[i]) * ((double) a[i] - b[i]);
	return (sum[0] + sum[1]) + (sum[2] + sum[3]);
}

/*
 * The sign bits of dims [from, to) of y into bits (zeroed), and the scale
 * that turns a query's signed sum over them into an estimate of their dot
 * product: for r = y[from, to), r.q ~ (||r||^2 / sum |r_i|) sum sign(r_i) q_i,
 * exact when r is q's direction up to signs of equal magnitude.
 */
static void
EncodeSigns(FunnelEntry *entry, const float *y, int from, int to, uint8 *bits)
{
	double		l1 = 0,
				l2 = 0;

	for (int i = from; i < to; i++)
	{
		l1 += fabs(y[i]);
		l2 += (double) y[i] * y[i];
		if (y[i] > 0)
			bits[(i - from) >> 3] |= 1 << ((i - from) & 7);
	}
	entry->signScale = l1 > 0 ? (float) (l2 / l1) : 0;
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
	double		norm = MrlNorm(x, dim);
	double		err = 0;

	for (int i = 0; i < dim; i++)
		y[i] = (metric == FUNNEL_COSINE && norm > 0) ? (float) (x[i] / norm) : x[i];
	entry->dim = dim;
	entry->norm = (float) MrlNorm(y, dim);
	FunnelSegmentBounds(coarseDims, dim, bounds);
	for (int s = 0; s < FUNNEL_NSEG; s++)
		entry->rnorm[s] = (float) MrlNorm(y + bounds[s], bounds[s + 1] - bounds[s]);

	entry->scale = 0;
	memset(entry->code, 0, FunnelCodeBytes(coarseDims, precision) +
		   FunnelSignBytes(coarseDims, precision));
	EncodeSigns(entry, y, coarseDims, bounds[FunnelSignSegments(coarseDims, precision)],
				entry->code + FunnelCodeBytes(coarseDims, precision));
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

/*
 * table[b * 256 + v]: the sum of the x[8b + k] whose bit k is set in v, for
 * the (n + 7) / 8 bytes of a bit code of x[0..n); NULL when n is 0.
 */
static float *
ByteSumTable(const float *x, int n)
{
	int			nbytes = (n + 7) / 8;
	float	   *table;

	if (n <= 0)
		return NULL;
	table = palloc(sizeof(float) * 256 * nbytes);
	for (int b = 0; b < nbytes; b++)
		for (int v = 0; v < 256; v++)
		{
			double		sum = 0;

			for (int k = 0; k < 8 && b * 8 + k < n; k++)
				if (v & (1 << k))
					sum += x[b * 8 + k];
			table[b * 256 + v] = (float) sum;
		}
	return table;
}

/*
 * x[0..n) as int8 steps of the largest |x_i| / 127 into out, and in *sum
 * the sum they stand for; returns the step (0 for a zero x).  Approximate
 * scans estimate entries by exact integer sums against these: the same on
 * every kernel set, and cheaper than float lanes (a page's entries in half
 * the time with AVX2, a quarter less with AVX-512; the float kernels were
 * 42% of a default query on 250,000 real sentences).  The rounding moves
 * an estimate by at most half a step per dim, far below the codes' error.
 */
static double
QuantiseQuery(const float *x, int n, int8 *out, double *sum)
{
	float		maxabs = 0;
	double		step;
	int64		steps = 0;

	for (int i = 0; i < n; i++)
		maxabs = Max(maxabs, fabsf(x[i]));
	step = maxabs > 0 ? maxabs / 127.0 : 0;
	for (int i = 0; i < n; i++)
	{
		out[i] = step > 0 ? (int8) Max(-127, Min(127, rint(x[i] / step))) : 0;
		steps += out[i];
	}
	*sum = step * steps;
	return step;
}

/* Precompute the query's prefix, segment norms and tables for a scan. */
void
FunnelQueryInit(FunnelQuery *q, const float *x, int dim, int coarseDims,
				int precision, FunnelMetric metric)
{
	int			bounds[FUNNEL_NSEG + 1];
	double		norm = MrlNorm(x, dim);
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
	q->prefixNorm = MrlNorm(y, coarseDims);
	q->norm = MrlNorm(y, dim);
	FunnelSegmentBounds(coarseDims, dim, bounds);
	for (int s = 0; s < FUNNEL_NSEG; s++)
		q->rnorm[s] = MrlNorm(y + bounds[s], bounds[s + 1] - bounds[s]);
	q->precision = precision;
	q->prefixSum = 0;
	for (int i = 0; i < coarseDims; i++)
		q->prefixSum += y[i];
	q->bitTable = precision == FUNNEL_BIT ? ByteSumTable(y, coarseDims) : NULL;
	q->codeBytes = FunnelCodeBytes(coarseDims, precision);
	q->signSegments = FunnelSignSegments(coarseDims, precision);
	q->signDims = bounds[q->signSegments] - coarseDims;
	q->signQuery = palloc(sizeof(float) * Max(1, q->signDims));
	memcpy(q->signQuery, y + coarseDims, sizeof(float) * q->signDims);
	q->prefixQ = palloc(coarseDims);
	q->prefixStep = QuantiseQuery(q->prefix, coarseDims, q->prefixQ, &q->prefixQSum);
	q->signQ = palloc(Max(1, q->signDims));
	q->signStep = QuantiseQuery(q->signQuery, q->signDims, q->signQ, &q->signQSum);
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
			mrl_kernels.int8_dot_norm((const int8 *) entry->code, q->prefix, q->coarseDims,
									   &dot, &cc);
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
 * ||x^ - q_p||_1 for the entry's decoded prefix x^ (decoded as DecodePrefix
 * does, so err covers it), and with l2, ||x^ - q_p||.  The float4 code is
 * exact (err 0), so l2 is left 0 there.
 */
static double
PrefixL1(const FunnelQuery *q, const FunnelEntry *entry, double *l2)
{
	const int8 *c8 = (const int8 *) entry->code;
	double		l1 = 0,
				sq = 0;

	if (q->precision == FUNNEL_FLOAT4)
	{
		if (l2)
			*l2 = 0;
		return mrl_kernels.l1((const float *) entry->code, q->prefix, q->coarseDims);
	}
	for (int i = 0; i < q->coarseDims; i++)
	{
		float		x = q->precision == FUNNEL_INT8 ? (float) c8[i] * entry->scale :
			(entry->code[i >> 3] & (1 << (i & 7))) ? entry->scale : -entry->scale;
		double		d = (double) x - q->prefix[i];

		l1 += fabs(d);
		sq += d * d;
	}
	if (l2)
		*l2 = sqrt(sq);
	return l1;
}

/*
 * The key of an entry whose distance the code does not tell, in *key:
 * +infinity when it is NaN and sorts last (the cosine operator's answer for
 * a zero vector); -infinity for a row of another dimension count, so that
 * the scan visits it first and the heap decides: a row that is not visible
 * (rolled back, deleted) is skipped, a visible one makes the operator
 * raise the error a sequential scan raises.
 */
static bool
SpecialKey(const FunnelQuery *q, const FunnelEntry *entry, double *key)
{
	if (entry->dim != q->dim)
		*key = -get_float8_infinity();
	else if (q->metric == FUNNEL_COSINE && (q->degenerate || entry->norm == 0))
		*key = get_float8_infinity();
	else
		return false;
	return true;
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

	if (SpecialKey(q, entry, &bound))
		return bound;

	if (q->metric == FUNNEL_L1)
	{
		double		l2,
					l1 = PrefixL1(q, entry, &l2);

		bound = Max(0, Max(l1 - sqrt(q->coarseDims) * entry->err, l2 - entry->err));
		for (int s = 0; s < FUNNEL_NSEG; s++)
			bound += fabs(entry->rnorm[s] - q->rnorm[s]);
		/* the norms are rounded relative to themselves, the sums to the sum */
		bound = Max(0, bound * (1 - q->slack) -
					q->slack * ((double) entry->norm + q->norm));
	}
	else if (q->metric == FUNNEL_IP)
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
 * The residual segments' dot product with the query beyond the signed ones,
 * guessed as the prefixes' cosine (from the prefix dot product and the norm
 * of the row's prefix, which its norms give) times their norms.
 */
static double
GuessedResidualDot(const FunnelQuery *q, const FunnelEntry *e, double prefixDot)
{
	double		pn2 = (double) e->norm * e->norm,
				rdot = 0,
				agree;

	for (int s = 0; s < FUNNEL_NSEG; s++)
		pn2 -= (double) e->rnorm[s] * e->rnorm[s];
	if (pn2 <= 0 || q->prefixNorm <= 0)
		return 0;
	agree = Max(-1, Min(1, prefixDot / (sqrt(pn2) * q->prefixNorm)));
	for (int s = q->signSegments; s < FUNNEL_NSEG; s++)
		rdot += (double) e->rnorm[s] * q->rnorm[s];
	return agree * rdot;
}

/*
 * An estimate of the L1 distance of an entry of q's size: the prefix's from
 * the code, plus the residual's Euclidean distance (from the norms and
 * residualDot, the estimate of the residuals' dot product) scaled to L1 as
 * for dims of one spread: ||v||_1 ~ sqrt(2 n / pi) ||v|| on n dims of a
 * normal distribution.  Only the order of the estimates matters (the scan
 * reranks), so the scale need not be exact.
 */
static double
EstimateL1(const FunnelQuery *q, const FunnelEntry *e, double residualDot)
{
	double		rr = 0;

	for (int s = 0; s < FUNNEL_NSEG; s++)
		rr += (double) e->rnorm[s] * e->rnorm[s] + q->rnorm[s] * q->rnorm[s];
	rr = Max(0, rr - 2 * residualDot);
	return PrefixL1(q, e, NULL) + sqrt(2.0 * (q->dim - q->coarseDims) / M_PI * rr);
}

/*
 * Estimates of the opclass distance (not bounds) of n entries entrySize
 * bytes apart (at most FUNNEL_MAX_PAGE_ENTRIES), into est, for ranking the
 * shortlist of an approximate scan.  The prefix part comes from the code;
 * the signed residual segments' from their sign bits (EncodeSigns); each
 * further segment's dot product with the query is guessed as the
 * prefixes' cosine times the two segment norms, since a Matryoshka
 * embedding's dims agree with one another.  The bound instead assumes every
 * residual points exactly at the query's, which ranks rows with long
 * residuals first and fills the shortlist with them.  The dot products of
 * all n entries come from the batch kernels first, so a page costs a few
 * nanoseconds an entry.
 */
void
FunnelEstimateEntries(const FunnelQuery *q, const char *entries, int n, int entrySize,
					  float *est)
{
	float		pdot[FUNNEL_MAX_PAGE_ENTRIES];
	int32		idot[FUNNEL_MAX_PAGE_ENTRIES],
				sdot[FUNNEL_MAX_PAGE_ENTRIES];
	const char *codes = entries + FUNNEL_ENTRY_HEADER;
	double		unsigned_ = 0;	/* the query's norm beyond the signed dims */

	Assert(n <= FUNNEL_MAX_PAGE_ENTRIES);
	if (q->precision == FUNNEL_INT8)
	{
		mrl_kernels.int8_qdots((const int8 *) codes, entrySize, n, q->prefixQ, q->coarseDims, idot);
		for (int i = 0; i < n; i++)
			pdot[i] = (float) (q->prefixStep * idot[i]);
	}
	else if (q->precision == FUNNEL_BIT)
	{
		/* x^ = +-scale: x^.q = scale (2 sum_set q - sum q) */
		mrl_kernels.bit_qsums((const uint8 *) codes, entrySize, n, q->prefixQ, q->coarseDims, idot);
		for (int i = 0; i < n; i++)
			pdot[i] = (float) (2 * q->prefixStep * idot[i] - q->prefixQSum);
	}
	else
		for (int i = 0; i < n; i++)
			pdot[i] = mrl_kernels.dot((const float *) (codes + (Size) i * entrySize),
									  q->prefix, q->coarseDims);
	if (q->signDims > 0)
		mrl_kernels.bit_qsums((const uint8 *) codes + q->codeBytes, entrySize, n,
							  q->signQ, q->signDims, sdot);
	for (int s = q->signSegments; s < FUNNEL_NSEG; s++)
		unsigned_ += q->rnorm[s];

	for (int i = 0; i < n; i++)
	{
		const FunnelEntry *e = (const FunnelEntry *) (entries + (Size) i * entrySize);
		double		dot = pdot[i],
					prefixDot,
					key;

		if (SpecialKey(q, e, &key))
		{
			est[i] = (float) key;
			continue;
		}
		if (q->precision != FUNNEL_FLOAT4)
			dot *= e->scale;
		prefixDot = dot;
		if (unsigned_ > 0)
			dot += GuessedResidualDot(q, e, dot);
		if (q->signDims > 0)
			dot += e->signScale * (2 * q->signStep * sdot[i] - q->signQSum);
		if (q->metric == FUNNEL_IP)
			key = -dot;
		else if (q->metric == FUNNEL_L1)
			key = EstimateL1(q, e, dot - prefixDot);
		else
		{
			key = Max(0, (double) e->norm * e->norm + q->norm * q->norm - 2 * dot);
			key = q->metric == FUNNEL_L2 ? sqrt(key) : key / 2;
		}
		est[i] = (float) key;
	}
}

/*
 * A lower bound of the distance from the query to every member of a list,
 * from its centroid, radius and residual-norm range: the same inequalities
 * as FunnelBound with the list's ball in place of one code (for L1, the
 * prefix's ||q_p - c||_1 - sqrt(|p|) radius or its Euclidean form).
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
	if (q->metric == FUNNEL_L1)
	{
		double		l1 = 0,
					p,
					r = qr < list->minResid ? list->minResid - qr :
			qr > list->maxResid ? qr - list->maxResid : 0;

		for (int i = 0; i < q->coarseDims; i++)
			l1 += fabs((double) q->prefix[i] - list->centroid[i]);
		p = Max(sqrt(FunnelSquaredDistance(q->prefix, list->centroid, q->coarseDims)) - list->radius,
				l1 - sqrt(q->coarseDims) * list->radius);
		bound = Max(0, (Max(0, p) + r) * (1 - q->slack) -
					q->slack * ((double) list->maxNorm + q->norm));
	}
	else if (q->metric == FUNNEL_IP)
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
 * nearest lists first: the L1 or squared distance, or minus the inner
 * product (float kernels: only the order matters).
 */
double
FunnelListCloseness(const FunnelQuery *q, const FunnelList *list)
{
	if (q->metric == FUNNEL_L1)
		return mrl_kernels.l1(q->prefix, list->centroid, q->coarseDims);
	if (q->metric != FUNNEL_IP)
		return mrl_kernels.l2sq(q->prefix, list->centroid, q->coarseDims);
	return -mrl_kernels.dot(q->prefix, list->centroid, q->coarseDims);
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
void
FunnelListAddMember(FunnelList *list, const FunnelEntry *entry, const float *prefix,
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

/* Encode a vector datum into entry; errors on too few dims. */
void
FunnelEncodeDatum(FunnelEntry *entry, Datum value, ItemPointer tid,
			const FunnelMetaPageData *meta, FunnelMetric metric, float *prefix)
{
	int			dim;
	const float *x = FunnelDatumFloats(value, &dim);

	if (dim < meta->coarseDims)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("mvector has %d dimensions, fewer than the funnel index's coarse_dims (%d)",
						dim, meta->coarseDims),
				 errhint("Index a column whose vectors have at least coarse_dims dimensions, or lower coarse_dims.")));
	FunnelEncode(entry, x, dim, meta->coarseDims, meta->precision, metric, prefix);
	entry->heapPtr = *tid;
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
	int			precision;
	FunnelMetric metric;
	FunnelEntry *entry;
	FunnelQuery q;

	precision = FunnelPrecisionByName(precisionName);
	if (strcmp(metricName, "l2") == 0)
		metric = FUNNEL_L2;
	else if (strcmp(metricName, "ip") == 0)
		metric = FUNNEL_IP;
	else if (strcmp(metricName, "cosine") == 0)
		metric = FUNNEL_COSINE;
	else if (strcmp(metricName, "l1") == 0)
		metric = FUNNEL_L1;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown metric \"%s\"", metricName),
				 errhint("Use \"l2\", \"ip\", \"cosine\" or \"l1\".")));
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
	if (a->dim != qv->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different mvector dimensions %d and %d", a->dim, qv->dim)));
	entry = palloc0(FUNNEL_ENTRY_HEADER + FunnelCodeBytes(coarseDims, precision) +
					FunnelSignBytes(coarseDims, precision));
	FunnelEncode(entry, a->x, a->dim, coarseDims, precision, metric, NULL);
	FunnelQueryInit(&q, qv->x, qv->dim, coarseDims, precision, metric);
	PG_RETURN_FLOAT8(FunnelBound(&q, entry));
}
