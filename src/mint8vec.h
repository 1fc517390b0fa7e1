/*
 * mint8vec.h: the mint8vec type, a varlena of int8 codes with one float4
 * scale per vector (element i is x[i] * scale).
 *
 * The header begins as mvector's (length word, int16 dim), so code that only
 * reads dim takes it too; its int16 after dim is MINT8VEC_FORMAT where
 * mvector and mhalfvec keep 0, which tells the funnel index's readers the
 * types apart (a 4-dim mint8vec has the byte size of a 4-dim mhalfvec).
 */
#ifndef MINT8VEC_H
#define MINT8VEC_H

#include "mvector.h"

#define MINT8VEC_FORMAT		1
#define MINT8VEC_MAX_CODE	127

typedef struct MInt8Vec
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of dimensions */
	int16		format;			/* MINT8VEC_FORMAT */
	float		scale;			/* finite, >= 0; 0 only for a zero vector */
	int8		x[FLEXIBLE_ARRAY_MEMBER];	/* codes in -127..127 */
} MInt8Vec;

StaticAssertDecl(offsetof(MInt8Vec, dim) == offsetof(MVector, dim),
				 "mint8vec and mvector headers differ");

#define MINT8VEC_HEADER_SIZE offsetof(MInt8Vec, x)
#define MINT8VEC_SIZE(_dim) (MINT8VEC_HEADER_SIZE + (_dim))
#define DatumGetMInt8Vec(x) ((MInt8Vec *) PG_DETOAST_DATUM(x))
#define PG_GETARG_MINT8VEC_P(n) DatumGetMInt8Vec(PG_GETARG_DATUM(n))

extern MInt8Vec *MInt8VecFromFloats(const float *x, int dim);
extern float *MInt8VecFloats(const MInt8Vec *v, int n);
extern MInt8Vec *MInt8VecGetPrefix(Datum d, int prefix, int *fulldim);
extern bool MInt8VecIs(const MVector *v);

#endif							/* MINT8VEC_H */
