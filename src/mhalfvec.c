/*
 * mhalfvec.c: the mhalfvec type, Matryoshka embeddings in half precision:
 * I/O, typmod, casts, comparison, norms and truncation.  Its distances are
 * in mvector_distance.c.
 *
 * Elements enter as float4 (text, arrays, mvector) and are rounded to the
 * nearest half, ties to even, as pgvector's halfvec does; an element that
 * rounds past 65504 is out of range.  Text and binary forms are halfvec's.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "distance.h"
#include "half.h"
#include "libpq/pqformat.h"
#include "mhalfvec.h"
#include "utils/array.h"

/* Allocate a zeroed mhalfvec of dim dimensions, after checking dim. */
MHalfVec *
InitMHalfVec(int dim)
{
	Size		size;
	MHalfVec   *v;

	MrlCheckDim(dim, "mhalfvec");
	size = MHALFVEC_SIZE(dim);
	v = (MHalfVec *) palloc0(size);
	SET_VARSIZE(v, size);
	v->dim = dim;
	return v;
}

/*
 * An mhalfvec of dim finite floats, each rounded to the nearest half; one
 * that rounds past the largest half is out of range.  (mrl_pgvector's casts
 * to halfvec come here too, hence "half precision", not a type name.)
 */
MHalfVec *
MHalfVecFromFloats(const float *x, int dim)
{
	MHalfVec   *v = InitMHalfVec(dim);

	mrl_half_kernels.from_float(x, v->x, dim);
	for (int i = 0; i < dim; i++)
		if (unlikely(!MRL_HALF_IS_FINITE(v->x[i])))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value %g is out of range for half precision", x[i])));
	return v;
}

/* The elements widened to floats, in a new array. */
float *
MHalfVecFloats(const MHalfVec *v)
{
	float	   *x = palloc(sizeof(float) * v->dim);

	mrl_half_kernels.to_float(v->x, x, v->dim);
	return x;
}

/* ---------- text and binary I/O ---------- */

/* Parse "[1,2.5,-3e-2]": elements read as float4, then rounded to halves. */
PG_FUNCTION_INFO_V1(mhalfvec_in);
Datum
mhalfvec_in(PG_FUNCTION_ARGS)
{
	float	   *x = palloc(sizeof(float) * MVECTOR_MAX_DIM);
	int			dim = MrlParseVector(PG_GETARG_CSTRING(0), "mhalfvec", MRL_HALF_OVERFLOW, x);

	MrlCheckExpectedDim(PG_GETARG_INT32(2), dim);
	PG_RETURN_POINTER(MHalfVecFromFloats(x, dim));
}

/*
 * Each element as the shortest text of its float4 value, as halfvec's: it
 * reads back to the same half.
 */
PG_FUNCTION_INFO_V1(mhalfvec_out);
Datum
mhalfvec_out(PG_FUNCTION_ARGS)
{
	MHalfVec   *v = PG_GETARG_MHALFVEC_P(0);

	PG_RETURN_CSTRING(MrlFormatVector(MHalfVecFloats(v), v->dim));
}

/* mhalfvec(n) */
PG_FUNCTION_INFO_V1(mhalfvec_typmod_in);
Datum
mhalfvec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MrlTypmodIn(PG_GETARG_ARRAYTYPE_P(0), "mhalfvec"));
}

/* Read int16 dim, int16 unused, then dim halves (int16, network order). */
PG_FUNCTION_INFO_V1(mhalfvec_recv);
Datum
mhalfvec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			dim = MrlRecvHeader(buf, PG_GETARG_INT32(2), sizeof(uint16), "mhalfvec");
	MHalfVec   *result = InitMHalfVec(dim);
	float	   *x;

	for (int i = 0; i < dim; i++)
		result->x[i] = (uint16) pq_getmsgint(buf, sizeof(uint16));
	x = MHalfVecFloats(result);
	for (int i = 0; i < dim; i++)
		MrlCheckElement(x[i], "mhalfvec");
	PG_RETURN_POINTER(result);
}

/* Write the binary form read by mhalfvec_recv. */
PG_FUNCTION_INFO_V1(mhalfvec_send);
Datum
mhalfvec_send(PG_FUNCTION_ARGS)
{
	MHalfVec   *v = PG_GETARG_MHALFVEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, v->unused);
	for (int i = 0; i < v->dim; i++)
		pq_sendint16(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------- casts ---------- */

/* Length coercion mhalfvec -> mhalfvec(n): enforce the typmod. */
PG_FUNCTION_INFO_V1(mhalfvec);
Datum
mhalfvec(PG_FUNCTION_ARGS)
{
	MHalfVec   *v = PG_GETARG_MHALFVEC_P(0);

	MrlCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_POINTER(v);
}

/*
 * mvector -> mhalfvec, rounding each element.  mrl_pgvector also casts
 * pgvector's vector to mhalfvec and mvector to halfvec with it: their
 * layouts are mvector's and mhalfvec's.
 */
PG_FUNCTION_INFO_V1(mvector_to_mhalfvec);
Datum
mvector_to_mhalfvec(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);

	MrlCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_POINTER(MHalfVecFromFloats(v->x, v->dim));
}

/* mhalfvec -> mvector, exact (also halfvec -> mvector, mhalfvec -> vector). */
PG_FUNCTION_INFO_V1(mhalfvec_to_mvector);
Datum
mhalfvec_to_mvector(PG_FUNCTION_ARGS)
{
	MHalfVec   *v = PG_GETARG_MHALFVEC_P(0);
	MVector    *r;

	MrlCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	r = InitMVector(v->dim);
	mrl_half_kernels.to_float(v->x, r->x, v->dim);
	PG_RETURN_MVECTOR_P(r);
}

/* real[], double precision[], integer[] or numeric[] -> mhalfvec. */
PG_FUNCTION_INFO_V1(array_to_mhalfvec);
Datum
array_to_mhalfvec(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = MrlArrayToFloats(PG_GETARG_DATUM(0), PG_GETARG_INT32(1), "mhalfvec",
									 MRL_HALF_OVERFLOW, &dim);

	PG_RETURN_POINTER(MHalfVecFromFloats(x, dim));
}

/* mhalfvec -> real[]. */
PG_FUNCTION_INFO_V1(mhalfvec_to_float4);
Datum
mhalfvec_to_float4(PG_FUNCTION_ARGS)
{
	MHalfVec   *v = PG_GETARG_MHALFVEC_P(0);
	float	   *x = MHalfVecFloats(v);
	Datum	   *d = palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		d[i] = Float4GetDatum(x[i]);
	PG_RETURN_POINTER(construct_array(d, v->dim, FLOAT4OID, sizeof(float4),
									  true, TYPALIGN_INT));
}

/* ---------- comparison (btree, hash) ---------- */

/*
 * An integer that orders finite halves as their values do, 0 and -0 alike:
 * the magnitude bits of a half grow with its magnitude.
 */
static inline int
HalfOrderKey(uint16 h)
{
	return (h & 0x8000) ? -(int) (h & 0x7fff) : (int) h;
}

/* Element by element, then by dimension count, as mvector's. */
static int
MHalfVecCmp(const MHalfVec *a, const MHalfVec *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		int			ka = HalfOrderKey(a->x[i]);
		int			kb = HalfOrderKey(b->x[i]);

		if (ka != kb)
			return ka < kb ? -1 : 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define MHALFVEC_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = MHalfVecCmp(PG_GETARG_MHALFVEC_P(0), PG_GETARG_MHALFVEC_P(1)); \
	PG_RETURN_BOOL(expr); \
}

MHALFVEC_CMP_FUNC(mhalfvec_lt, c < 0)
MHALFVEC_CMP_FUNC(mhalfvec_le, c <= 0)
MHALFVEC_CMP_FUNC(mhalfvec_eq, c == 0)
MHALFVEC_CMP_FUNC(mhalfvec_ne, c != 0)
MHALFVEC_CMP_FUNC(mhalfvec_ge, c >= 0)
MHALFVEC_CMP_FUNC(mhalfvec_gt, c > 0)

/* Btree support: three-way comparison. */
PG_FUNCTION_INFO_V1(mhalfvec_cmp);
Datum
mhalfvec_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MHalfVecCmp(PG_GETARG_MHALFVEC_P(0), PG_GETARG_MHALFVEC_P(1)));
}

/* Hash support: equal vectors (including 0 and -0) hash alike. */
PG_FUNCTION_INFO_V1(mhalfvec_hash);
Datum
mhalfvec_hash(PG_FUNCTION_ARGS)
{
	MHalfVec   *v = PG_GETARG_MHALFVEC_P(0);
	uint32		h = hash_uint32((uint32) v->dim);

	for (int i = 0; i < v->dim; i++)
		h = hash_combine(h, hash_uint32((uint32) HalfOrderKey(v->x[i])));
	PG_RETURN_UINT32(h);
}

/* ---------- norms and Matryoshka truncation ---------- */

/* The first n elements, scaled to unit length (zero stays zero) and rounded. */
static MHalfVec *
NormalizedPrefix(const MHalfVec *v, int n)
{
	float	   *x = palloc(sizeof(float) * n);

	mrl_half_kernels.to_float(v->x, x, n);
	MrlNormalizeFloats(x, n);
	return MHalfVecFromFloats(x, n);
}

/* mrl_truncate(v, d [, normalize]) and v # d: the first d dimensions. */
PG_FUNCTION_INFO_V1(mhalfvec_truncate);
Datum
mhalfvec_truncate(PG_FUNCTION_ARGS)
{
	int32		d = PG_GETARG_INT32(1);
	bool		normalize = PG_NARGS() > 2 && PG_GETARG_BOOL(2);
	int			dim;
	MHalfVec   *v = MrlGetPrefix(PG_GETARG_DATUM(0), d, sizeof(uint16), &dim);
	MHalfVec   *r;

	MrlCheckPrefix(d, dim, "mhalfvec");
	if (normalize)
		PG_RETURN_POINTER(NormalizedPrefix(v, d));
	r = InitMHalfVec(d);
	memcpy(r->x, v->x, sizeof(uint16) * d);
	PG_RETURN_POINTER(r);
}

/* subvector(v, start, count), as mvector's. */
PG_FUNCTION_INFO_V1(mhalfvec_subvector);
Datum
mhalfvec_subvector(PG_FUNCTION_ARGS)
{
	int			first,
				n;
	MHalfVec   *v = MrlSubvector(PG_GETARG_DATUM(0), PG_GETARG_INT32(1), PG_GETARG_INT32(2),
								 sizeof(uint16), "mhalfvec", &first, &n);
	MHalfVec   *r = InitMHalfVec(n);

	memcpy(r->x, v->x + first, sizeof(uint16) * n);
	PG_RETURN_POINTER(r);
}

/* mrl_dims(v): read from the header only, even for a TOASTed value. */
PG_FUNCTION_INFO_V1(mhalfvec_dims);
Datum
mhalfvec_dims(PG_FUNCTION_ARGS)
{
	int			dim;

	(void) MrlGetPrefix(PG_GETARG_DATUM(0), 1, sizeof(uint16), &dim);
	PG_RETURN_INT32(dim);
}

/* mrl_norm(v): Euclidean length. */
PG_FUNCTION_INFO_V1(mhalfvec_norm);
Datum
mhalfvec_norm(PG_FUNCTION_ARGS)
{
	MHalfVec   *v = PG_GETARG_MHALFVEC_P(0);

	PG_RETURN_FLOAT8(MrlNorm(MHalfVecFloats(v), v->dim));
}

/* mrl_normalize(v): v scaled to unit length; a zero vector stays zero. */
PG_FUNCTION_INFO_V1(mhalfvec_normalize);
Datum
mhalfvec_normalize(PG_FUNCTION_ARGS)
{
	MHalfVec   *v = PG_GETARG_MHALFVEC_P(0);

	PG_RETURN_POINTER(NormalizedPrefix(v, v->dim));
}
