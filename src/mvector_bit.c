/*
 * mvector_bit.c: binary quantisation of an mvector to a bit string, and the
 * Hamming and Jaccard distances between bit strings (pgvector's names).
 *
 * The bit strings are PostgreSQL's own bit type, as pgvector's are.  The
 * distances are declared in SQL on mrl_bit, a domain over bit, so that they
 * and their operators coexist with pgvector's on bit in one database (README:
 * Coming from pgvector).
 */
#include "postgres.h"

#include "mvector.h"
#include "pgcompat.h"
#include "port/pg_bitutils.h"
#include "utils/varbit.h"

/* binary_quantize(v): one bit per dimension, set where the element is > 0. */
PG_FUNCTION_INFO_V1(mvector_binary_quantize);
Datum
mvector_binary_quantize(PG_FUNCTION_ARGS)
{
	MVector    *v = PG_GETARG_MVECTOR_P(0);
	Size		size = VARBITTOTALLEN(v->dim);
	VarBit	   *result = (VarBit *) palloc0(size);
	bits8	   *bits = VARBITS(result);

	SET_VARSIZE(result, size);
	VARBITLEN(result) = v->dim;
	/* the first dimension is the high bit of the first byte, as in bit's text */
	for (int i = 0; i < v->dim; i++)
		if (v->x[i] > 0)
			bits[i / BITS_PER_BYTE] |= 0x80 >> (i % BITS_PER_BYTE);
	PG_RETURN_VARBIT_P(result);
}

/*
 * Popcounts of a AND b, of a and of b, for the two bit string arguments,
 * which must have the same length.  The padding bits of a bit value are
 * always zero, so whole bytes are counted.
 */
static void
CountBits(FunctionCallInfo fcinfo, uint64 *both, uint64 *ina, uint64 *inb)
{
	VarBit	   *a = PG_GETARG_VARBIT_P(0);
	VarBit	   *b = PG_GETARG_VARBIT_P(1);
	const bits8 *ax = VARBITS(a);
	const bits8 *bx = VARBITS(b);
	int			bytes = VARBITBYTES(a);
	int			i = 0;

	if (VARBITLEN(a) != VARBITLEN(b))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different bit lengths %d and %d", VARBITLEN(a), VARBITLEN(b))));
	*both = *ina = *inb = 0;
	for (; i + (int) sizeof(uint64) <= bytes; i += sizeof(uint64))
	{
		uint64		aw,
					bw;

		memcpy(&aw, ax + i, sizeof(uint64));
		memcpy(&bw, bx + i, sizeof(uint64));
		*both += pg_popcount64(aw & bw);
		*ina += pg_popcount64(aw);
		*inb += pg_popcount64(bw);
	}
	for (; i < bytes; i++)
	{
		*both += pg_number_of_ones[ax[i] & bx[i]];
		*ina += pg_number_of_ones[ax[i]];
		*inb += pg_number_of_ones[bx[i]];
	}
}

/* hamming_distance(a, b): the number of positions where the bits differ. */
PG_FUNCTION_INFO_V1(mrl_hamming_distance);
Datum
mrl_hamming_distance(PG_FUNCTION_ARGS)
{
	uint64		both,
				ina,
				inb;

	CountBits(fcinfo, &both, &ina, &inb);
	/* |a XOR b| = |a| + |b| - 2 |a AND b| */
	PG_RETURN_FLOAT8((double) (ina + inb - 2 * both));
}

/*
 * jaccard_distance(a, b): 1 - |a AND b| / |a OR b|; 1 when no bit is set in
 * both (two empty sets included), as pgvector defines it.
 */
PG_FUNCTION_INFO_V1(mrl_jaccard_distance);
Datum
mrl_jaccard_distance(PG_FUNCTION_ARGS)
{
	uint64		both,
				ina,
				inb;

	CountBits(fcinfo, &both, &ina, &inb);
	if (both == 0)
		PG_RETURN_FLOAT8(1.0);
	PG_RETURN_FLOAT8(1.0 - (double) both / (double) (ina + inb - both));
}
