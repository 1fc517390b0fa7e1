/*
 * mvector_distance.c: SQL distance functions over all dimensions (the
 * operators) and over a Matryoshka prefix (the 3-argument functions).
 *
 * The prefix forms read only the first d elements of each argument: an
 * out-of-line value is fetched with a slice, so a 64-dim prefix of a
 * 3072-dim vector costs one TOAST chunk, not six.
 */
#include "postgres.h"

#include <math.h>

#include "distance.h"
#include "mvector.h"

/* Which distance a SQL function computes. */
typedef enum MrlMetric
{
	METRIC_L2,
	METRIC_L2_SQUARED,
	METRIC_NEG_IP,
	METRIC_IP,
	METRIC_COSINE,
	METRIC_L1
} MrlMetric;

/* The distance between the first n elements of a and b. */
static double
Distance(MrlMetric metric, const float *a, const float *b, int n)
{
	switch (metric)
	{
		case METRIC_L2:
			return sqrt(MrlL2SquaredDistance(a, b, n));
		case METRIC_L2_SQUARED:
			return MrlL2SquaredDistance(a, b, n);
		case METRIC_NEG_IP:
			return -MrlInnerProduct(a, b, n);
		case METRIC_IP:
			return MrlInnerProduct(a, b, n);
		case METRIC_COSINE:
			return MrlCosineDistance(a, b, n);
		case METRIC_L1:
			return MrlL1Distance(a, b, n);
	}
	pg_unreachable();
}

/* A full-dimension distance: both arguments must have the same dims. */
static Datum
FullDistance(FunctionCallInfo fcinfo, MrlMetric metric)
{
	MVector    *a = PG_GETARG_MVECTOR_P(0);
	MVector    *b = PG_GETARG_MVECTOR_P(1);

	MVectorCheckDims(a, b);
	PG_RETURN_FLOAT8(Distance(metric, a->x, b->x, a->dim));
}

/*
 * A distance over the first d dims.  The arguments may differ in size as
 * long as both have at least d dims: comparing the 256-dim prefix of a
 * stored 768-dim vector with a 256-dim query is exactly the point.
 */
static Datum
PrefixDistance(FunctionCallInfo fcinfo, MrlMetric metric)
{
	int32		d = PG_GETARG_INT32(2);
	int			dima,
				dimb;
	MVector    *a = MVectorGetPrefix(PG_GETARG_DATUM(0), d, &dima);
	MVector    *b = MVectorGetPrefix(PG_GETARG_DATUM(1), d, &dimb);

	if (d < 1 || d > Min(dima, dimb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prefix of %d dimensions is out of range for mvectors of %d and %d dimensions",
						d, dima, dimb),
				 errhint("Use a prefix between 1 and %d.", Min(dima, dimb))));
	PG_RETURN_FLOAT8(Distance(metric, a->x, b->x, d));
}

#define MRL_DISTANCE_FUNCS(full, prefix, metric) \
PG_FUNCTION_INFO_V1(full); \
Datum full(PG_FUNCTION_ARGS) { return FullDistance(fcinfo, metric); } \
PG_FUNCTION_INFO_V1(prefix); \
Datum prefix(PG_FUNCTION_ARGS) { return PrefixDistance(fcinfo, metric); }

MRL_DISTANCE_FUNCS(mvector_l2_distance, mvector_l2_distance_prefix, METRIC_L2)
MRL_DISTANCE_FUNCS(mvector_l2_squared_distance, mvector_l2_squared_distance_prefix, METRIC_L2_SQUARED)
MRL_DISTANCE_FUNCS(mvector_negative_inner_product, mvector_negative_inner_product_prefix, METRIC_NEG_IP)
MRL_DISTANCE_FUNCS(mvector_inner_product, mvector_inner_product_prefix, METRIC_IP)
MRL_DISTANCE_FUNCS(mvector_cosine_distance, mvector_cosine_distance_prefix, METRIC_COSINE)
MRL_DISTANCE_FUNCS(mvector_l1_distance, mvector_l1_distance_prefix, METRIC_L1)
