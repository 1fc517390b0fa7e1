/*
 * mhalfvec.h: the mhalfvec type, a varlena of IEEE half-precision elements.
 *
 * The layout is mvector's with 2-byte elements (length word, int16 dim,
 * int16 unused, uint16 x[]), which is also pgvector's halfvec: mrl_pgvector
 * casts between the two without conversion.  The shared header lets code
 * that only reads dim (MrlGetPrefix, the funnel) take either type.
 */
#ifndef MHALFVEC_H
#define MHALFVEC_H

#include "mvector.h"

typedef struct MHalfVec
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved, always zero */
	uint16		x[FLEXIBLE_ARRAY_MEMBER];	/* IEEE binary16, finite */
} MHalfVec;

StaticAssertDecl(offsetof(MHalfVec, dim) == offsetof(MVector, dim) &&
				 offsetof(MHalfVec, x) == MVECTOR_HEADER_SIZE,
				 "mhalfvec and mvector headers differ");

#define MHALFVEC_SIZE(_dim) (MVECTOR_HEADER_SIZE + sizeof(uint16) * (_dim))
#define DatumGetMHalfVec(x) ((MHalfVec *) PG_DETOAST_DATUM(x))
#define PG_GETARG_MHALFVEC_P(n) DatumGetMHalfVec(PG_GETARG_DATUM(n))

extern MHalfVec *InitMHalfVec(int dim);
extern MHalfVec *MHalfVecFromFloats(const float *x, int dim);
extern float *MHalfVecFloats(const MHalfVec *v);

#endif							/* MHALFVEC_H */
