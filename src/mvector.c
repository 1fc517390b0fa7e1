/*
 * mvector.c: the mvector type: I/O, typmod, casts, comparison, arithmetic,
 * aggregates and Matryoshka truncation; the checks and parsers it shares
 * with mhalfvec.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/shortest_dec.h"
#include "distance.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "mvector.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

/*
 * Reject NaN and infinities in a value of type typname (mvector,
 * mhalfvec): they make every distance meaningless.
 */
void
MrlCheckElement(float value, const char *typname)
{
	if (isnan(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("NaN not allowed in %s", typname)));
	if (isinf(value))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("infinite value not allowed in %s", typname)));
}

/* Check a dimension count against the types' limits. */
void
MrlCheckDim(int dim, const char *typname)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	if (dim > MVECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s cannot have more than %d dimensions", typname, MVECTOR_MAX_DIM)));
}

/* Check a dimension count against a column's typmod (-1: any). */
void
MrlCheckExpectedDim(int32 typmod, int dim)
{
	if (typmod != -1 && typmod != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/*
 * Allocate a zeroed mvector of dim dimensions, after checking dim: the
 * header holds it in an int16, so an unchecked count would wrap.
 */
MVector *
InitMVector(int dim)
{
	Size		size;
	MVector    *v;

	MrlCheckDim(dim, "mvector");
	size = MVECTOR_SIZE(dim);
	v = (MVector *) palloc0(size);
	SET_VARSIZE(v, size);
	v->dim = dim;
	return v;
}

/*
 * Check a vector on its way out of a function (PG_RETURN_MVECTOR_P): every
 * element finite.  Values come in finite, so a NaN or an infinity here was
 * made by arithmetic: an infinity is an overflow (22003), a NaN is refused
 * as everywhere else (22000).
 */
MVector *
MVectorFinish(MVector *v)
{
	for (int i = 0; i < v->dim; i++)
		if (unlikely(!isfinite(v->x[i])))
		{
			if (isinf(v->x[i]))
				float_overflow_error();
			MrlCheckElement(v->x[i], "mvector");
		}
	return v;
}

/*
 * Error unless the n floats a model wrote are finite, naming the model
 * (NULL: the default model).  A model whose weights are near float32's
 * limits overflows in its forward pass and makes NaN or infinite vectors.
 */
void
MVectorCheckModelOutput(const float *x, size_t n, const char *model)
{
	for (size_t i = 0; i < n; i++)
		if (unlikely(!isfinite(x[i])))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("model \"%s\" produced a non-finite embedding",
							model ? model : GetConfigOption("mrl.default_model", false, false)),
					 errdetail("Its output holds NaN or infinite values, which an mvector cannot hold."),
					 errhint("The model's weights may overflow float32 arithmetic.")));
}

/* Error unless two vectors have the same number of dimensions. */
void
MVectorCheckDims(const MVector *a, const MVector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different mvector dimensions %d and %d", a->dim, b->dim)));
}

/*
 * Fetch a value of elemSize-byte elements (an mvector, 4; an mhalfvec, 2:
 * their headers are alike) for reading its first `prefix` elements only.
 * An inline, uncompressed value is used in place; a TOASTed or compressed
 * one is sliced, so only the chunks holding the prefix are read.  The
 * header's dim still says the full count, returned in *fulldim; prefix
 * must be checked against it before any element is read.
 */
void *
MrlGetPrefix(Datum d, int prefix, int elemSize, int *fulldim)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(d);
	MVector    *v;

	if (!VARATT_IS_EXTENDED(raw))
		v = (MVector *) raw;
	else
	{
		if (prefix < 1 || prefix > MVECTOR_MAX_DIM)
			prefix = MVECTOR_MAX_DIM;	/* let the caller report it */
		v = (MVector *) PG_DETOAST_DATUM_SLICE(d, 0, MVECTOR_HEADER_SIZE - VARHDRSZ +
											   (Size) elemSize * prefix);
	}
	*fulldim = v->dim;
	if (prefix >= 1 && prefix <= v->dim &&
		VARSIZE(v) < MVECTOR_HEADER_SIZE + (Size) elemSize * prefix)
		elog(ERROR, "vector value is truncated");
	return v;
}

/* ---------- text I/O ---------- */

/*
 * Length of the decimal number at p: an optional sign, digits with an
 * optional point (digits on at least one side), an optional exponent; 0 if
 * there is none.  strtof also reads hexadecimal ("0x10", "0x1p3"), which
 * mvector refuses, as pgvector does; this is what it accepts instead.
 */
static int
DecimalLength(const char *p)
{
	const char *s = p;
	int			digits = 0;

	if (*s == '+' || *s == '-')
		s++;
	for (; isdigit((unsigned char) *s); s++)
		digits++;
	if (*s == '.')
		for (s++; isdigit((unsigned char) *s); s++)
			digits++;
	if (digits == 0)
		return 0;
	if (*s == 'e' || *s == 'E')
	{
		const char *e = s + 1;

		if (*e == '+' || *e == '-')
			e++;
		if (isdigit((unsigned char) *e))
		{
			while (isdigit((unsigned char) *e))
				e++;
			s = e;
		}
	}
	return (int) (s - p);
}

/*
 * The spaces allowed around brackets and elements: the six that C's isspace
 * and so strtof skip, as pgvector's vector allows them.  PostgreSQL's
 * scanner_isspace is not used: '\v' joined it only in 17, and the same text
 * must read the same on every major.
 */
static inline bool
MVectorIsSpace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/*
 * Parse the text form "[1,2.5,-3e-2]" of a value of type typname into x
 * (room for MVECTOR_MAX_DIM floats); returns the dimension count.  Each
 * element is read as a float4; `limit` is the smallest magnitude the type
 * cannot hold (infinity for mvector, 65520 for mhalfvec, where floats round
 * past the largest half).
 */
int
MrlParseVector(const char *lit, const char *typname, float limit, float *x)
{
	const char *pt = lit;
	int			dim = 0;

	while (MVectorIsSpace(*pt))
		pt++;
	if (*pt != '[')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", typname, lit),
				 errdetail("%s contents must start with \"[\".", typname)));
	pt++;
	while (MVectorIsSpace(*pt))
		pt++;
	if (*pt == ']')
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));

	for (;;)
	{
		char	   *end;
		float		val;

		if (dim == MVECTOR_MAX_DIM)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("%s cannot have more than %d dimensions", typname, MVECTOR_MAX_DIM)));
		while (MVectorIsSpace(*pt))
			pt++;
		if (*pt == '\0' || *pt == ',' || *pt == ']')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"", typname, lit)));
		errno = 0;
		/* strtof, like float4in, avoids double rounding through double */
		val = strtof(pt, &end);
		if (end == pt)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"", typname, lit)));
		if (end - pt != DecimalLength(pt))
		{
			/* NaN and infinity spellings are refused as such, hex as syntax */
			if (errno != ERANGE)
				MrlCheckElement(val, typname);
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"", typname, lit),
					 errdetail("Elements are decimal numbers.")));
		}
		/*
		 * Overflow is an error; underflow reads as 0 (or a denormal), as in
		 * pgvector, so data that loads into one loads into the other.
		 */
		if ((errno == ERANGE && isinf(val)) || (isfinite(val) && fabsf(val) >= limit))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%.*s\" is out of range for type %s",
							(int) (end - pt), pt, typname)));
		MrlCheckElement(val, typname);
		x[dim++] = val;
		pt = end;
		while (MVectorIsSpace(*pt))
			pt++;
		if (*pt == ',')
			pt++;
		else if (*pt == ']')
		{
			pt++;
			break;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid input syntax for type %s: \"%s\"", typname, lit)));
	}
	while (MVectorIsSpace(*pt))
		pt++;
	if (*pt != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type %s: \"%s\"", typname, lit),
				 errdetail("Junk after closing right bracket.")));
	return dim;
}

/* Parse the text form "[1,2.5,-3e-2]". */
PG_FUNCTION_INFO_V1(mvector_in);
Datum
mvector_in(PG_FUNCTION_ARGS)
{
	float	   *x = palloc(sizeof(float) * MVECTOR_MAX_DIM);
	int			dim = MrlParseVector(PG_GETARG_CSTRING(0), "mvector", INFINITY, x);
	MVector    *result;

	MrlCheckExpectedDim(PG_GETARG_INT32(2), dim);
	result = InitMVector(dim);
	memcpy(result->x, x, sizeof(float) * dim);
	pfree(x);
	PG_RETURN_MVECTOR_P(result);
}

/* The text form of dim floats: the shortest text that reads back to each. */
char *
MrlFormatVector(const float *x, int dim)
{
	char	   *buf = palloc(FLOAT_SHORTEST_DECIMAL_LEN * dim + 3);
	char	   *p = buf;

	*p++ = '[';
	for (int i = 0; i < dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	return buf;
}

/* Print the shortest text that reads back to the same floats. */
PG_FUNCTION_INFO_V1(mvector_out);
Datum
mvector_out(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);

	PG_RETURN_CSTRING(MrlFormatVector(v->x, v->dim));
}

/* typname(n), the typmod of mvector and mhalfvec: one integer in 1..MVECTOR_MAX_DIM. */
int32
MrlTypmodIn(ArrayType *ta, const char *typname)
{
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("%s takes one type modifier, the number of dimensions.", typname)));
	if (tl[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s must be at least 1", typname)));
	if (tl[0] > MVECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type %s cannot exceed %d", typname, MVECTOR_MAX_DIM)));
	return tl[0];
}

/* mvector(n) */
PG_FUNCTION_INFO_V1(mvector_typmod_in);
Datum
mvector_typmod_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MrlTypmodIn(PG_GETARG_ARRAYTYPE_P(0), "mvector"));
}

/* ---------- binary I/O (COPY BINARY, drivers) ---------- */

/*
 * Read the binary header shared by mvector and mhalfvec (int16 dim, int16
 * unused) and check it, and that elemSize bytes per element follow;
 * returns dim.
 */
int
MrlRecvHeader(StringInfo buf, int32 typmod, int elemSize, const char *typname)
{
	int16		dim = (int16) pq_getmsgint(buf, sizeof(int16));
	int16		unused = (int16) pq_getmsgint(buf, sizeof(int16));

	MrlCheckDim(dim, typname);
	MrlCheckExpectedDim(typmod, dim);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("expected unused to be 0, not %d", unused)));
	if (buf->len - buf->cursor != elemSize * dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("%s binary data has %d bytes for %d dimensions",
						typname, buf->len - buf->cursor, dim)));
	return dim;
}

/* Read int16 dim, int16 unused, then dim float4s; validate everything. */
PG_FUNCTION_INFO_V1(mvector_recv);
Datum
mvector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			dim = MrlRecvHeader(buf, PG_GETARG_INT32(2), sizeof(float), "mvector");
	MVector    *result;

	result = InitMVector(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = pq_getmsgfloat4(buf);
		MrlCheckElement(result->x[i], "mvector");
	}
	PG_RETURN_MVECTOR_P(result);
}

/* Write the binary form read by mvector_recv. */
PG_FUNCTION_INFO_V1(mvector_send);
Datum
mvector_send(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, v->unused);
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---------- casts ---------- */

/* Length coercion mvector -> mvector(n): enforce the typmod. */
PG_FUNCTION_INFO_V1(mvector);
Datum
mvector(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);

	MrlCheckExpectedDim(PG_GETARG_INT32(1), v->dim);
	PG_RETURN_MVECTOR_P(v);
}

/*
 * The header of an array argument (its dimensions), without detoasting the
 * elements: a slice of an out-of-line or compressed value.  Lets a function
 * refuse an oversized array before reading it.
 */
ArrayType *
MrlArrayHeader(Datum d)
{
	if (!VARATT_IS_EXTENDED(DatumGetPointer(d)))
		return (ArrayType *) DatumGetPointer(d);
	return (ArrayType *) PG_DETOAST_DATUM_SLICE(d, 0, ARR_OVERHEAD_NONULLS(MAXDIM) - VARHDRSZ);
}

/*
 * The elements of a real[], double precision[], integer[] or numeric[]
 * array as floats, for a value of type typname (typmod: its column's) whose
 * elements must stay below `limit` in magnitude (see MrlParseVector); the
 * count in *dim.
 */
float *
MrlArrayToFloats(Datum arrayDatum, int32 typmod, const char *typname, float limit, int *dim)
{
	ArrayType  *array = MrlArrayHeader(arrayDatum);
	Oid			elemtype;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	float	   *x;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D")));
	n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	MrlCheckDim(n, typname);
	MrlCheckExpectedDim(typmod, n);

	array = DatumGetArrayTypeP(arrayDatum);
	if (ARR_HASNULL(array) && array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));
	elemtype = ARR_ELEMTYPE(array);
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign,
					  &elems, &nulls, &n);

	x = palloc(sizeof(float) * n);
	for (int i = 0; i < n; i++)
	{
		double		val;

		switch (elemtype)
		{
			case INT4OID:
				val = DatumGetInt32(elems[i]);
				break;
			case FLOAT4OID:
				val = DatumGetFloat4(elems[i]);
				break;
			case FLOAT8OID:
				val = DatumGetFloat8(elems[i]);
				break;
			case NUMERICOID:
				val = DatumGetFloat8(DirectFunctionCall1(numeric_float8,
														 elems[i]));
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("unsupported array element type %s",
								format_type_be(elemtype))));
		}
		if (isnan(val) || isinf(val))
			MrlCheckElement((float) val, typname);

		/*
		 * Overflow is an error.  Underflow follows pgvector: a double rounds
		 * to 0 as a C cast does, a numeric is refused (pgvector reads it
		 * through float4in, which refuses it too).
		 */
		if (isinf((float) val) || fabsf((float) val) >= limit ||
			(elemtype == NUMERICOID && val != 0 && (float) val == 0))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("value %g is out of range for type %s", val, typname)));
		x[i] = (float) val;
	}
	*dim = n;
	return x;
}

/* real[], double precision[], integer[] or numeric[] -> mvector. */
PG_FUNCTION_INFO_V1(array_to_mvector);
Datum
array_to_mvector(PG_FUNCTION_ARGS)
{
	int			dim;
	float	   *x = MrlArrayToFloats(PG_GETARG_DATUM(0), PG_GETARG_INT32(1), "mvector",
									 INFINITY, &dim);
	MVector    *result = InitMVector(dim);

	memcpy(result->x, x, sizeof(float) * dim);
	PG_RETURN_MVECTOR_P(result);
}

/* mvector -> real[]. */
PG_FUNCTION_INFO_V1(mvector_to_float4);
Datum
mvector_to_float4(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);
	Datum	   *d = palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		d[i] = Float4GetDatum(v->x[i]);
	PG_RETURN_POINTER(construct_array(d, v->dim, FLOAT4OID, sizeof(float4),
									  true, TYPALIGN_INT));
}

/* ---------- comparison (btree, hash) ---------- */

/*
 * Order element by element, then by dimension count, so vectors of
 * different sizes still compare (a prefix sorts before its extensions).
 */
static int
MVectorCmp(const MVector *a, const MVector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	return (a->dim > b->dim) - (a->dim < b->dim);
}

#define MVECTOR_CMP_FUNC(name, expr) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = MVectorCmp(PG_GETARG_MVECTOR_P(0), PG_GETARG_MVECTOR_P(1)); \
	PG_RETURN_BOOL(expr); \
}

MVECTOR_CMP_FUNC(mvector_lt, c < 0)
MVECTOR_CMP_FUNC(mvector_le, c <= 0)
MVECTOR_CMP_FUNC(mvector_eq, c == 0)
MVECTOR_CMP_FUNC(mvector_ne, c != 0)
MVECTOR_CMP_FUNC(mvector_ge, c >= 0)
MVECTOR_CMP_FUNC(mvector_gt, c > 0)

/* Btree support: three-way comparison. */
PG_FUNCTION_INFO_V1(mvector_cmp);
Datum
mvector_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(MVectorCmp(PG_GETARG_MVECTOR_P(0), PG_GETARG_MVECTOR_P(1)));
}

/* Hash support: equal vectors (including 0 and -0) hash alike. */
PG_FUNCTION_INFO_V1(mvector_hash);
Datum
mvector_hash(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);
	uint32		h = hash_uint32((uint32) v->dim);

	for (int i = 0; i < v->dim; i++)
	{
		float		x = v->x[i] == 0 ? 0.0f : v->x[i];
		uint32		bits;

		memcpy(&bits, &x, sizeof(bits));
		h = hash_combine(h, hash_uint32(bits));
	}
	PG_RETURN_UINT32(h);
}

/* ---------- arithmetic ---------- */

#define MVECTOR_ELEMENTWISE_FUNC(name, op) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	MVector    *a = PG_GETARG_MVECTOR_P(0); \
	MVector    *b = PG_GETARG_MVECTOR_P(1); \
	MVector    *r; \
	MVectorCheckDims(a, b); \
	r = InitMVector(a->dim); \
	for (int i = 0; i < a->dim; i++) \
		r->x[i] = a->x[i] op b->x[i]; \
	PG_RETURN_MVECTOR_P(r); \
}

MVECTOR_ELEMENTWISE_FUNC(mvector_add, +)
MVECTOR_ELEMENTWISE_FUNC(mvector_sub, -)
MVECTOR_ELEMENTWISE_FUNC(mvector_mul, *)

/* a || b: the dimensions of a followed by those of b. */
PG_FUNCTION_INFO_V1(mvector_concat);
Datum
mvector_concat(PG_FUNCTION_ARGS)
{
	MVector    *a = PG_GETARG_MVECTOR_P(0);
	MVector    *b = PG_GETARG_MVECTOR_P(1);
	MVector    *r;

	r = InitMVector(a->dim + b->dim);
	memcpy(r->x, a->x, sizeof(float) * a->dim);
	memcpy(r->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_MVECTOR_P(r);
}

/* ---------- norms and Matryoshka truncation ---------- */

/* Scale n floats to unit length in place; a zero vector stays zero. */
void
MrlNormalizeFloats(float *x, int n)
{
	double		norm = MrlNorm(x, n);

	if (norm > 0)
		for (int i = 0; i < n; i++)
			x[i] = (float) (x[i] / norm);
}

/* Copy the first n elements, scaled to unit length if asked (zero stays zero). */
static MVector *
PrefixCopy(const MVector *v, int n, bool normalize)
{
	MVector    *r = InitMVector(n);

	memcpy(r->x, v->x, sizeof(float) * n);
	if (normalize)
		MrlNormalizeFloats(r->x, n);
	return r;
}

/* Error unless 1 <= d <= dim, for a value of type typname. */
void
MrlCheckPrefix(int d, int dim, const char *typname)
{
	if (d < 1 || d > dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prefix of %d dimensions is out of range for an %s of %d dimensions",
						d, typname, dim),
				 errhint("Use a prefix between 1 and %d.", dim)));
}

/* mrl_truncate(v, d [, normalize]): the first d dimensions. */
PG_FUNCTION_INFO_V1(mrl_truncate);
Datum
mrl_truncate(PG_FUNCTION_ARGS)
{
	int32		d = PG_GETARG_INT32(1);
	bool		normalize = PG_NARGS() > 2 && PG_GETARG_BOOL(2);
	int			dim;
	MVector    *v = MVectorGetPrefix(PG_GETARG_DATUM(0), d, &dim);

	MrlCheckPrefix(d, dim, "mvector");
	PG_RETURN_MVECTOR_P(PrefixCopy(v, d, normalize));
}

/*
 * subvector(v, start, count) of a value d of elemSize-byte elements: count
 * dimensions from the 1-based start, as pgvector's: like substring, a start
 * before 1 shortens the result, a count past the end stops at the end; an
 * empty result is an error.  Returns the value, read up to the last element
 * asked for, with the 0-based first element and the count to copy.
 */
void *
MrlSubvector(Datum d, int32 start, int32 count, int elemSize, const char *typname,
			 int *first, int *n)
{
	int64		end = (int64) start + count;	/* one past the last, 1-based */
	int			dim;
	void	   *v;

	if (count < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	v = MrlGetPrefix(d, (int) Min(end - 1, MVECTOR_MAX_DIM), elemSize, &dim);
	end = Min(end, dim + 1);
	if (start > dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s must have at least 1 dimension", typname)));
	start = Max(start, 1);
	*first = start - 1;
	*n = (int) (end - start);
	return v;
}

PG_FUNCTION_INFO_V1(mvector_subvector);
Datum
mvector_subvector(PG_FUNCTION_ARGS)
{
	int			first,
				n;
	MVector    *v = MrlSubvector(PG_GETARG_DATUM(0), PG_GETARG_INT32(1), PG_GETARG_INT32(2),
								 sizeof(float), "mvector", &first, &n);
	MVector    *r = InitMVector(n);

	memcpy(r->x, v->x + first, sizeof(float) * n);
	PG_RETURN_MVECTOR_P(r);
}

/* mrl_dims(v) */
PG_FUNCTION_INFO_V1(mrl_dims);
Datum
mrl_dims(PG_FUNCTION_ARGS)
{
	int			dim;

	/* only the header is needed, even for a TOASTed value */
	(void) MVectorGetPrefix(PG_GETARG_DATUM(0), 1, &dim);
	PG_RETURN_INT32(dim);
}

/* mrl_norm(v): Euclidean length. */
PG_FUNCTION_INFO_V1(mrl_norm);
Datum
mrl_norm(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);

	PG_RETURN_FLOAT8(MrlNorm(v->x, v->dim));
}

/* mrl_normalize(v): v scaled to unit length; a zero vector stays zero. */
PG_FUNCTION_INFO_V1(mrl_normalize);
Datum
mrl_normalize(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);

	PG_RETURN_MVECTOR_P(PrefixCopy(v, v->dim, true));
}

/* ---------- aggregates: state is float8[] {count, sum_1, ..., sum_dim} ---------- */

/* Return a new state array of dim + 1 zeros, in the aggregate's context. */
static ArrayType *
NewAggState(FunctionCallInfo fcinfo, int dim)
{
	MemoryContext aggctx,
				old;
	ArrayType  *state;
	Datum	   *zeros;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		aggctx = CurrentMemoryContext;
	old = MemoryContextSwitchTo(aggctx);
	zeros = palloc(sizeof(Datum) * (dim + 1));
	for (int i = 0; i <= dim; i++)
		zeros[i] = Float8GetDatum(0);
	state = construct_array(zeros, dim + 1, FLOAT8OID, sizeof(float8),
							FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	MemoryContextSwitchTo(old);
	return state;
}

/* The sums of a state (checked by AggStateDim: 1-D, no NULLs). */
static inline float8 *
AggStateData(ArrayType *state)
{
	return (float8 *) ((char *) state + ARR_OVERHEAD_NONULLS(1));
}

/* Number of dims a state holds (0 for the initial '{0}'). */
static inline int
AggStateDim(ArrayType *state)
{
	if (ARR_NDIM(state) != 1 || ARR_HASNULL(state) || ARR_ELEMTYPE(state) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("mvector aggregate state must be a one-dimensional float8 array without NULLs")));
	return ArrayGetNItems(ARR_NDIM(state), ARR_DIMS(state)) - 1;
}

/*
 * Transition: add v to the sums.  The state array is ours (allocated by
 * NewAggState in the aggregate context), so it is updated in place rather
 * than copied for every row.
 */
PG_FUNCTION_INFO_V1(mvector_accum);
Datum
mvector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	MVector    *v = PG_GETARG_MVECTOR_P(1);
	int			dim = AggStateDim(state);
	float8	   *s;

	if (dim != 0 && dim != v->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different mvector dimensions %d and %d", dim, v->dim)));
	if (dim == 0 || !AggCheckCallContext(fcinfo, NULL))
	{
		ArrayType  *fresh = NewAggState(fcinfo, v->dim);

		if (dim != 0)
			memcpy(AggStateData(fresh), AggStateData(state), sizeof(float8) * (dim + 1));
		state = fresh;
		dim = v->dim;
	}

	s = AggStateData(state);
	s[0] += 1;
	for (int i = 0; i < dim; i++)
		s[i + 1] += v->x[i];
	PG_RETURN_ARRAYTYPE_P(state);
}

/* Combine two partial states (parallel aggregation). */
PG_FUNCTION_INFO_V1(mvector_combine);
Datum
mvector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *a = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *b = PG_GETARG_ARRAYTYPE_P(1);
	int			da = AggStateDim(a);
	int			db = AggStateDim(b);
	ArrayType  *r;
	float8	   *sr,
			   *sb;

	if (db == 0)
		PG_RETURN_ARRAYTYPE_P(a);
	if (da != 0 && da != db)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different mvector dimensions %d and %d", da, db)));
	r = NewAggState(fcinfo, db);
	sr = AggStateData(r);
	sb = AggStateData(b);
	if (da != 0)
		memcpy(sr, AggStateData(a), sizeof(float8) * (da + 1));
	for (int i = 0; i <= db; i++)
		sr[i] += sb[i];
	PG_RETURN_ARRAYTYPE_P(r);
}

/* Final: sums divided by count (avg) or not (sum); NULL for no rows. */
static Datum
AggFinal(FunctionCallInfo fcinfo, bool average)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			dim = AggStateDim(state);
	float8	   *s = AggStateData(state);
	MVector    *r;

	if (dim == 0 || s[0] == 0)
		PG_RETURN_NULL();
	r = InitMVector(dim);
	for (int i = 0; i < dim; i++)
		r->x[i] = (float) (average ? s[i + 1] / s[0] : s[i + 1]);
	PG_RETURN_MVECTOR_P(r);
}

PG_FUNCTION_INFO_V1(mvector_avg);
Datum
mvector_avg(PG_FUNCTION_ARGS)
{
	return AggFinal(fcinfo, true);
}

PG_FUNCTION_INFO_V1(mvector_sum);
Datum
mvector_sum(PG_FUNCTION_ARGS)
{
	return AggFinal(fcinfo, false);
}
