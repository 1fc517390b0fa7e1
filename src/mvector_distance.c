/*
 * mvector_distance.c: SQL distance functions over all dimensions (the
 * operators) and over a Matryoshka prefix (the 3-argument functions), of
 * mvector, mhalfvec and mint8vec.
 *
 * The prefix forms read only the first d elements of each argument: an
 * out-of-line value is fetched with a slice, so a 64-dim prefix of a
 * 3072-dim vector costs one TOAST chunk, not six.
 */
#include "postgres.h"

#include <math.h>

#include "distance.h"
#include "half.h"
#include "mhalfvec.h"
#include "mint8vec.h"

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

/* The element type of the arguments. */
typedef enum MrlElements
{
	ELEM_FLOAT4,				/* mvector */
	ELEM_HALF,					/* mhalfvec */
	ELEM_INT8					/* mint8vec */
} MrlElements;

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

/* The distance between the first n elements of two mhalfvecs' halves. */
static double
HalfDistance(MrlMetric metric, const uint16 *a, const uint16 *b, int n)
{
	float		dot,
				na,
				nb;

	switch (metric)
	{
		case METRIC_L2:
			return sqrt(mrl_half_kernels.l2sq(a, b, n));
		case METRIC_L2_SQUARED:
			return mrl_half_kernels.l2sq(a, b, n);
		case METRIC_NEG_IP:
			return -mrl_half_kernels.dot(a, b, n);
		case METRIC_IP:
			return mrl_half_kernels.dot(a, b, n);
		case METRIC_COSINE:
			mrl_half_kernels.dot_norms(a, b, n, &dot, &na, &nb);
			return MrlCosineFromSums(dot, na, nb);
		case METRIC_L1:
			return mrl_half_kernels.l1(a, b, n);
	}
	pg_unreachable();
}

/*
 * The distance between the first n elements of two mint8vecs: that of their
 * values (codes times scale, as a cast to mvector gives them) through the
 * float kernels, so it equals mvector's on the same values.  Widening costs
 * less than the kernel (mint8vec.c is compiled to vectorise it).
 */
static double
Int8Distance(MrlMetric metric, const MInt8Vec *a, const MInt8Vec *b, int n)
{
	float	   *xa = MInt8VecFloats(a, n);
	float	   *xb = MInt8VecFloats(b, n);
	double		d = Distance(metric, xa, xb, n);

	pfree(xa);
	pfree(xb);
	return d;
}

/* The name of a vector type, for errors. */
static const char *
TypeName(MrlElements elements)
{
	return elements == ELEM_HALF ? "mhalfvec" : elements == ELEM_INT8 ? "mint8vec" : "mvector";
}

/*
 * A full-dimension distance: both arguments must have the same dims, of the
 * element type `elements`.
 */
static Datum
FullDistance(FunctionCallInfo fcinfo, MrlMetric metric, MrlElements elements)
{
	MVector    *a = PG_GETARG_MVECTOR_P(0);
	MVector    *b = PG_GETARG_MVECTOR_P(1);

	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different %s dimensions %d and %d", TypeName(elements), a->dim, b->dim)));
	if (elements == ELEM_HALF)
		PG_RETURN_FLOAT8(HalfDistance(metric, ((MHalfVec *) a)->x, ((MHalfVec *) b)->x, a->dim));
	if (elements == ELEM_INT8)
		PG_RETURN_FLOAT8(Int8Distance(metric, (MInt8Vec *) a, (MInt8Vec *) b, a->dim));
	PG_RETURN_FLOAT8(Distance(metric, a->x, b->x, a->dim));
}

/*
 * A distance over the first d dims.  The arguments may differ in size as
 * long as both have at least d dims: comparing the 256-dim prefix of a
 * stored 768-dim vector with a 256-dim query is exactly the point.
 */
static Datum
PrefixDistance(FunctionCallInfo fcinfo, MrlMetric metric, MrlElements elements)
{
	int32		d = PG_GETARG_INT32(2);
	int			dima,
				dimb;
	void	   *a,
			   *b;

	if (elements == ELEM_INT8)
	{
		a = MInt8VecGetPrefix(PG_GETARG_DATUM(0), d, &dima);
		b = MInt8VecGetPrefix(PG_GETARG_DATUM(1), d, &dimb);
	}
	else
	{
		int			elemSize = elements == ELEM_HALF ? sizeof(uint16) : sizeof(float);

		a = MrlGetPrefix(PG_GETARG_DATUM(0), d, elemSize, &dima);
		b = MrlGetPrefix(PG_GETARG_DATUM(1), d, elemSize, &dimb);
	}
	if (d < 1 || d > Min(dima, dimb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prefix of %d dimensions is out of range for %ss of %d and %d dimensions",
						d, TypeName(elements), dima, dimb),
				 errhint("Use a prefix between 1 and %d.", Min(dima, dimb))));
	if (elements == ELEM_HALF)
		PG_RETURN_FLOAT8(HalfDistance(metric, ((MHalfVec *) a)->x, ((MHalfVec *) b)->x, d));
	if (elements == ELEM_INT8)
		PG_RETURN_FLOAT8(Int8Distance(metric, a, b, d));
	PG_RETURN_FLOAT8(Distance(metric, ((MVector *) a)->x, ((MVector *) b)->x, d));
}

#define MRL_DISTANCE_FUNCS(full, prefix, metric, elements) \
PG_FUNCTION_INFO_V1(full); \
Datum full(PG_FUNCTION_ARGS) { return FullDistance(fcinfo, metric, elements); } \
PG_FUNCTION_INFO_V1(prefix); \
Datum prefix(PG_FUNCTION_ARGS) { return PrefixDistance(fcinfo, metric, elements); }

MRL_DISTANCE_FUNCS(mvector_l2_distance, mvector_l2_distance_prefix, METRIC_L2, ELEM_FLOAT4)
MRL_DISTANCE_FUNCS(mvector_l2_squared_distance, mvector_l2_squared_distance_prefix, METRIC_L2_SQUARED, ELEM_FLOAT4)
MRL_DISTANCE_FUNCS(mvector_negative_inner_product, mvector_negative_inner_product_prefix, METRIC_NEG_IP, ELEM_FLOAT4)
MRL_DISTANCE_FUNCS(mvector_inner_product, mvector_inner_product_prefix, METRIC_IP, ELEM_FLOAT4)
MRL_DISTANCE_FUNCS(mvector_cosine_distance, mvector_cosine_distance_prefix, METRIC_COSINE, ELEM_FLOAT4)
MRL_DISTANCE_FUNCS(mvector_l1_distance, mvector_l1_distance_prefix, METRIC_L1, ELEM_FLOAT4)

MRL_DISTANCE_FUNCS(mhalfvec_l2_distance, mhalfvec_l2_distance_prefix, METRIC_L2, ELEM_HALF)
MRL_DISTANCE_FUNCS(mhalfvec_l2_squared_distance, mhalfvec_l2_squared_distance_prefix, METRIC_L2_SQUARED, ELEM_HALF)
MRL_DISTANCE_FUNCS(mhalfvec_negative_inner_product, mhalfvec_negative_inner_product_prefix, METRIC_NEG_IP, ELEM_HALF)
MRL_DISTANCE_FUNCS(mhalfvec_inner_product, mhalfvec_inner_product_prefix, METRIC_IP, ELEM_HALF)
MRL_DISTANCE_FUNCS(mhalfvec_cosine_distance, mhalfvec_cosine_distance_prefix, METRIC_COSINE, ELEM_HALF)
MRL_DISTANCE_FUNCS(mhalfvec_l1_distance, mhalfvec_l1_distance_prefix, METRIC_L1, ELEM_HALF)

MRL_DISTANCE_FUNCS(mint8vec_l2_distance, mint8vec_l2_distance_prefix, METRIC_L2, ELEM_INT8)
MRL_DISTANCE_FUNCS(mint8vec_l2_squared_distance, mint8vec_l2_squared_distance_prefix, METRIC_L2_SQUARED, ELEM_INT8)
MRL_DISTANCE_FUNCS(mint8vec_negative_inner_product, mint8vec_negative_inner_product_prefix, METRIC_NEG_IP, ELEM_INT8)
MRL_DISTANCE_FUNCS(mint8vec_inner_product, mint8vec_inner_product_prefix, METRIC_IP, ELEM_INT8)
MRL_DISTANCE_FUNCS(mint8vec_cosine_distance, mint8vec_cosine_distance_prefix, METRIC_COSINE, ELEM_INT8)
MRL_DISTANCE_FUNCS(mint8vec_l1_distance, mint8vec_l1_distance_prefix, METRIC_L1, ELEM_INT8)
