/*
 * mvector.h: the mvector type, a varlena of float4 elements.
 *
 * The layout matches pgvector's `vector` (length word, int16 dim, int16
 * unused, float4 x[]) so data moves between the two by text or binary I/O
 * without surprises.
 */
#ifndef MVECTOR_H
#define MVECTOR_H

#include "fmgr.h"

#define MVECTOR_MAX_DIM 16000

typedef struct MVector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of dimensions */
	int16		unused;			/* reserved, always zero */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} MVector;

#define MVECTOR_HEADER_SIZE offsetof(MVector, x)
#define MVECTOR_SIZE(_dim) (MVECTOR_HEADER_SIZE + sizeof(float) * (_dim))

#define DatumGetMVector(x) ((MVector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_MVECTOR_P(n) DatumGetMVector(PG_GETARG_DATUM(n))
/* every mvector a function returns is checked on its way out */
#define PG_RETURN_MVECTOR_P(x) PG_RETURN_POINTER(MVectorFinish(x))

/*
 * Every mvector is made by InitMVector (which checks the size) and leaves
 * through MVectorFinish (which checks the elements are finite), so no SQL
 * function can store a NaN, an infinity or an out-of-range size.
 */
extern MVector *InitMVector(int dim);
extern MVector *MVectorFinish(MVector *v);
extern void MVectorCheckModelOutput(const float *x, size_t n, const char *model);
extern struct ArrayType *MrlArrayHeader(Datum d);
extern void MVectorCheckDims(const MVector *a, const MVector *b);

/*
 * What mvector and mhalfvec share (their headers are alike): checks that
 * name the type, parsers of the text, binary and array forms into floats,
 * and the prefix fetch (elemSize 4 or 2).
 */
extern void MrlCheckElement(float value, const char *typname);
extern void MrlCheckDim(int dim, const char *typname);
extern void MrlCheckExpectedDim(int32 typmod, int dim);
extern int	MrlParseVector(const char *lit, const char *typname, float limit, float *x);
extern int32 MrlTypmodIn(struct ArrayType *ta, const char *typname);
extern int	MrlRecvHeader(struct StringInfoData *buf, int32 typmod, int elemSize,
						  const char *typname);
extern float *MrlArrayToFloats(Datum arrayDatum, int32 typmod, const char *typname,
							   float limit, int *dim);
extern void *MrlGetPrefix(Datum d, int prefix, int elemSize, int *fulldim);
extern void MrlCheckPrefix(int d, int dim, const char *typname);
extern void *MrlSubvector(Datum d, int32 start, int32 count, int elemSize,
						  const char *typname, int *first, int *n);
extern char *MrlFormatVector(const float *x, int dim);
extern void MrlNormalizeFloats(float *x, int n);

static inline MVector *
MVectorGetPrefix(Datum d, int prefix, int *fulldim)
{
	return (MVector *) MrlGetPrefix(d, prefix, sizeof(float), fulldim);
}

#endif							/* MVECTOR_H */
