/*
 * mint8vec.c: the mint8vec type, Matryoshka embeddings as int8 codes with
 * one scale per vector: I/O, typmod, casts, norms and truncation.  Its
 * distances are in mvector_distance.c.
 *
 * A vector x is stored as scale = max |x_i| / 127 and codes rint(x_i /
 * scale), so each element is off by at most scale / 2 (0.4% of the largest
 * element).  One scale per vector, not per Matryoshka segment: truncation
 * keeps it, so a prefix of a stored vector is exactly the stored prefix, and
 * the leading dims, which carry most of an MRL embedding's length, set it.
 * The distances (mvector_distance.c) widen the codes with MInt8VecFloats
 * and use mvector's kernels.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "distance.h"
#include "libpq/pqformat.h"
#include "mhalfvec.h"
#include "mint8vec.h"
#include "utils/array.h"

/* Allocate a zeroed mint8vec of dim dimensions, after checking dim. */
static MInt8Vec *
InitMInt8Vec(int dim)
{
	Size		size;
	MInt8Vec   *v;

	MrlCheckDim(dim, "mint8vec");
	size = MINT8VEC_SIZE(dim);
	v = (MInt8Vec *) palloc0(size);
	SET_VARSIZE(v, size);
	v->dim = dim;
	v->format = MINT8VEC_FORMAT;
	return v;
}

/*
 * Quantise dim finite floats: scale max |x_i| / 127, each code the nearest
 * integer of x_i / scale.  Elements too small for a nonzero float scale
 * (all below 1.2e-43) become a zero vector.
 */
MInt8Vec *
MInt8VecFromFloats(const float *x, int dim)
{
	MInt8Vec   *v = InitMInt8Vec(dim);
	float		maxabs = 0;

	for (int i = 0; i < dim; i++)
		maxabs = Max(maxabs, fabsf(x[i]));
	v->scale = maxabs / MINT8VEC_MAX_CODE;
	for (int i = 0; i < dim && v->scale > 0; i++)
	{
		float		c = rintf(x[i] / v->scale);

		v->x[i] = (int8) Max(-MINT8VEC_MAX_CODE, Min(MINT8VEC_MAX_CODE, c));
	}
	return v;
}

/*
 * The first n elements as floats (codes times the scale), in a new array:
 * the values every distance, cast and output uses.
 */
float *
MInt8VecFloats(const MInt8Vec *v, int n)
{
	float	   *x = palloc(sizeof(float) * Max(n, 1));
	const int8 *codes = v->x;
	float		scale = v->scale;

	for (int i = 0; i < n; i++)
		x[i] = codes[i] * scale;
	return x;
}

/*
 * The header, scale and first `prefix` codes of a value, sliced from TOAST
 * when it is stored out of line (MrlGetPrefix reads an mvector header and
 * elemSize-byte elements: the scale counts as 4 more one-byte elements).
 */
MInt8Vec *
MInt8VecGetPrefix(Datum d, int prefix, int *fulldim)
{
	return (MInt8Vec *) MrlGetPrefix(d, prefix + (int) sizeof(float), 1, fulldim);
}

/* Whether a value read as an mvector header is a mint8vec (the funnel's). */
bool
MInt8VecIs(const MVector *v)
{
	return v->unused == MINT8VEC_FORMAT && VARSIZE(v) == MINT8VEC_SIZE(v->dim);
}

/* ---------- text and binary I/O ---------- */

/* Parse "[1,2.5,-3e-2]" as mvector's text, then quantise. */
PG_FUNCTION_INFO_V1(mint8vec_in);
Datum
mint8vec_in(PG_FUNCTION_ARGS)
{
	float	   *x = palloc(sizeof(float) * MVECTOR_MAX_DIM);
	int			dim = MrlParseVector(PG_GETARG_CSTRING(0), "mint8vec", INFINITY, x);

	MrlCheckExpectedDim(PG_GETARG_INT32(2), dim);
	PG_RETURN_POINTER(MInt8VecFromFloats(x, dim));
}

/* Each element's float value (code times scale), as mvector prints floats. */
PG_FUNCTION_INFO_V1(mint8vec_out);
Datum
mint8vec_out(PG_FUNCTION_ARGS)
{
	MInt8Vec   *v = PG_GETARG_MINT8VEC_P(0);

	PG_RETURN_CSTRING(MrlFormatVector(MInt8VecFloats(v, v->dim), v->dim));
}

/* mint8vec(n) */
PG_FUNCTION_INFO_V1(mint8vec_typmod_in);
Datum
mint8vec_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MrlTypmodIn(PG_GETARG_ARRAYTYPE_P(0), "mint8vec"));
}

/*
 * Read int16 dim, int16 format (MINT8VEC_FORMAT), float4 scale, then dim
 * int8 codes: the stored bytes, so values round-trip exactly.
 */
PG_FUNCTION_INFO_V1(mint8vec_recv);
Datum
mint8vec_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int16		dim = (int16) pq_getmsgint(buf, sizeof(int16));
	int16		format = (int16) pq_getmsgint(buf, sizeof(int16));
	float		scale;
	MInt8Vec   *v;

	MrlCheckDim(dim, "mint8vec");
	MrlCheckExpectedDim(PG_GETARG_INT32(2), dim);
	if (format != MINT8VEC_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("expected mint8vec format %d, not %d", MINT8VEC_FORMAT, format)));
	if (buf->len - buf->cursor != (int) sizeof(float) + dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("mint8vec binary data has %d bytes for %d dimensions",
						buf->len - buf->cursor, dim)));
	scale = pq_getmsgfloat4(buf);
	if (!(scale >= 0 && scale * MINT8VEC_MAX_CODE <= FLT_MAX))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("mint8vec scale %g is not a finite number >= 0 (below %g)",
						scale, FLT_MAX / MINT8VEC_MAX_CODE)));
	v = InitMInt8Vec(dim);
	v->scale = scale;
	for (int i = 0; i < dim; i++)
	{
		v->x[i] = (int8) pq_getmsgbyte(buf);
		if (v->x[i] < -MINT8VEC_MAX_CODE)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
					 errmsg("mint8vec code %d is out of range -127..127", v->x[i])));
	}
	PG_RETURN_POINTER(v);
}

/* Write the binary form read by mint8vec_recv. */
PG_FUNCTION_INFO_V1(mint8vec_send);
Datum
mint8vec_send(PG_FUNCTION_ARGS)
{
	MInt8Vec   *v = PG_GETARG_MINT8VEC_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, v->format);
	pq_sendfloat4(&buf, v->scale);
	pq_sendbytes(&buf, (const char *) v->x, v->dim);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------- casts ---------- */

/* Length coercion mint8vec -> mint8vec(n): enforce the typmod. */
PG_FUNCTION_INFO_V1(mint8vec);
Datum
mint8vec(PG_FUNCTION_ARGS)
{
	MInt8Vec   *v = PG_GETARG_MINT8VEC_P(0);

	MrlCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_POINTER(v);
}

/* mvector -> mint8vec, quantised. */
PG_FUNCTION_INFO_V1(mvector_to_mint8vec);
Datum
mvector_to_mint8vec(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);

	MrlCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_POINTER(MInt8VecFromFloats(v->x, v->dim));
}

/* mhalfvec -> mint8vec, quantised from the exact widened halves. */
PG_FUNCTION_INFO_V1(mhalfvec_to_mint8vec);
Datum
mhalfvec_to_mint8vec(PG_FUNCTION_ARGS)
{
	MHalfVec   *v = PG_GETARG_MHALFVEC_P(0);

	MrlCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_POINTER(MInt8VecFromFloats(MHalfVecFloats(v), v->dim));
}

/* mint8vec -> mvector: the values, exact (a code times a float scale). */
PG_FUNCTION_INFO_V1(mint8vec_to_mvector);
Datum
mint8vec_to_mvector(PG_FUNCTION_ARGS)
{
	MInt8Vec   *v = PG_GETARG_MINT8VEC_P(0);
	MVector    *r;

	MrlCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	r = InitMVector(v->dim);
	for (int i = 0; i < v->dim; i++)
		r->x[i] = v->x[i] * v->scale;
	PG_RETURN_MVECTOR_P(r);
}

/* mint8vec -> mhalfvec, each value rounded to a half (past 65504: 22003). */
PG_FUNCTION_INFO_V1(mint8vec_to_mhalfvec);
Datum
mint8vec_to_mhalfvec(PG_FUNCTION_ARGS)
{
	MInt8Vec   *v = PG_GETARG_MINT8VEC_P(0);

	MrlCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_POINTER(MHalfVecFromFloats(MInt8VecFloats(v, v->dim), v->dim));
}

/* real[], double precision[], integer[] or numeric[] -> mint8vec. */
PG_FUNCTION_INFO_V1(array_to_mint8vec);
Datum
array_to_mint8vec(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = MrlArrayToFloats(PG_GETARG_DATUM(0), PG_GETARG_INT32(1), "mint8vec",
									 INFINITY, &dim);

	PG_RETURN_POINTER(MInt8VecFromFloats(x, dim));
}

/* ---------- norms and Matryoshka truncation ---------- */

/*
 * mrl_truncate(v, d [, renormalize]) and v # d: the first d dimensions,
 * with the vector's scale (exact), or scaled to unit length and quantised
 * again.
 */
PG_FUNCTION_INFO_V1(mint8vec_truncate);
Datum
mint8vec_truncate(PG_FUNCTION_ARGS)
{
	int32		d = PG_GETARG_INT32(1);
	bool		normalize = PG_NARGS() > 2 && PG_GETARG_BOOL(2);
	int			dim;
	MInt8Vec   *v = MInt8VecGetPrefix(PG_GETARG_DATUM(0), d, &dim);
	MInt8Vec   *r;
	float	   *x;

	MrlCheckPrefix(d, dim, "mint8vec");
	if (normalize)
	{
		x = MInt8VecFloats(v, d);
		MrlNormalizeFloats(x, d);
		PG_RETURN_POINTER(MInt8VecFromFloats(x, d));
	}
	r = InitMInt8Vec(d);
	r->scale = v->scale;
	memcpy(r->x, v->x, d);
	PG_RETURN_POINTER(r);
}

/* mrl_dims(v): read from the header only, even for a TOASTed value. */
PG_FUNCTION_INFO_V1(mint8vec_dims);
Datum
mint8vec_dims(PG_FUNCTION_ARGS)
{
	int			dim;

	(void) MrlGetPrefix(PG_GETARG_DATUM(0), 1, 1, &dim);
	PG_RETURN_INT32(dim);
}

/* mrl_norm(v): Euclidean length. */
PG_FUNCTION_INFO_V1(mint8vec_norm);
Datum
mint8vec_norm(PG_FUNCTION_ARGS)
{
	MInt8Vec   *v = PG_GETARG_MINT8VEC_P(0);

	PG_RETURN_FLOAT8(MrlNorm(MInt8VecFloats(v, v->dim), v->dim));
}
