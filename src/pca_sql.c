/*
 * pca_sql.c: PCA for users: the aggregate mrl_pca_fit(mvector, components)
 * returns mvector[] {mean, direction 1, ..., direction k} (directions by
 * falling variance, each with its largest-magnitude coordinate positive),
 * and mrl_pca_apply(pca, v) projects v on them.  Projections come in order
 * of variance, so they are prefix-friendly: any embedding made
 * Matryoshka-like.  The fit itself is the encoder's streaming accumulator
 * (mrl_pca_acc_*, src/encoder/evaluate.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mvector.h"
#include "utils/array.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "evaluate.h"

/*
 * The aggregate's state, in the aggregate context: the rows streamed into a
 * covariance accumulator (memory for dim x dim doubles and a block of rows,
 * not for the rows).
 */
typedef struct PcaFitState
{
	int			dim;
	int			components;
	mrl_pca_acc *acc;
} PcaFitState;

/* Error unless the number of components fits a width-dim input. */
static void
CheckComponents(int components, int dim)
{
	if (dim > MRL_PCA_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("mrl_pca_fit takes vectors of at most %d dimensions, not %d",
						MRL_PCA_MAX_DIM, dim),
				 errdetail("The eigendecomposition cannot be interrupted and its time grows as the cube of the width.")));
	if (components < 1 || components > dim)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("components must be between 1 and the vectors' %d dimensions, not %d",
						dim, components)));
}

/* mrl_pca_fit_accum(state, emb, components): add one row (NULLs skipped). */
PG_FUNCTION_INFO_V1(mrl_pca_fit_accum);
Datum
mrl_pca_fit_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	PcaFitState *st = PG_ARGISNULL(0) ? NULL : (PcaFitState *) PG_GETARG_POINTER(0);
	MVector    *v;
	int			components;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		elog(ERROR, "mrl_pca_fit_accum called in non-aggregate context");
	if (PG_ARGISNULL(1))
		PG_RETURN_POINTER(st);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("components must not be NULL")));
	v = PG_GETARG_MVECTOR_P(1);
	components = PG_GETARG_INT32(2);

	if (st == NULL)
	{
		char		err[256];

		CheckComponents(components, v->dim);
		st = MemoryContextAllocZero(aggcxt, sizeof(PcaFitState));
		st->dim = v->dim;
		st->components = components;
		st->acc = mrl_pca_acc_init(MemoryContextAllocHuge(aggcxt, mrl_pca_acc_size(v->dim)),
								   v->dim, err, sizeof(err));
		if (st->acc == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("could not fit PCA: %s", err)));
	}
	if (v->dim != st->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different mvector dimensions %d and %d", st->dim, v->dim)));
	if (components != st->components)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("components must be the same for every row")));
	mrl_pca_acc_add(st->acc, v->x, 1);
	PG_RETURN_POINTER(st);
}

/* An mvector holding a copy of x[0..dim), checked like any returned one. */
static Datum
MVectorDatum(const float *x, int dim)
{
	MVector    *v = InitMVector(dim);

	memcpy(v->x, x, sizeof(float) * dim);
	return PointerGetDatum(MVectorFinish(v));
}

/* mrl_pca_fit_final(state) -> mvector[] {mean, direction 1, ..., direction k} */
PG_FUNCTION_INFO_V1(mrl_pca_fit_final);
Datum
mrl_pca_fit_final(PG_FUNCTION_ARGS)
{
	PcaFitState *st = PG_ARGISNULL(0) ? NULL : (PcaFitState *) PG_GETARG_POINTER(0);
	Oid			elemtype = get_element_type(get_fn_expr_rettype(fcinfo->flinfo));
	mrl_pca		pca;
	char		err[256];
	Datum	   *elems;
	int16		typlen;
	bool		typbyval;
	char		typalign;

	/* k directions are determined only by more than k rows */
	if (st == NULL || mrl_pca_acc_rows(st->acc) <= st->components)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("mrl_pca_fit needs more non-NULL vectors than components, got %lld",
						st ? (long long) mrl_pca_acc_rows(st->acc) : 0LL)));
	if (!OidIsValid(elemtype))
		elog(ERROR, "could not determine the result type of mrl_pca_fit");
	if (mrl_pca_acc_fit(st->acc, st->components,
						MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * (Size) st->dim * st->dim),
						&pca, err, sizeof(err)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("could not fit PCA: %s", err)));

	elems = palloc(sizeof(Datum) * (pca.n_comp + 1));
	elems[0] = MVectorDatum(pca.mean, pca.dim);
	for (int c = 0; c < pca.n_comp; c++)
		elems[c + 1] = MVectorDatum(pca.components + (size_t) c * pca.dim, pca.dim);
	mrl_pca_free(&pca);
	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, st->components + 1, elemtype,
										  typlen, typbyval, typalign));
}

/*
 * mrl_pca_apply(pca, v) -> mvector: the k projections (v - mean) . direction,
 * computed in double.
 */
PG_FUNCTION_INFO_V1(mrl_pca_apply_mvector);
Datum
mrl_pca_apply_mvector(PG_FUNCTION_ARGS)
{
	ArrayType  *arr = MrlArrayHeader(PG_GETARG_DATUM(0));
	MVector    *v = PG_GETARG_MVECTOR_P(1);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	MVector    *mean;
	MVector    *result;

	if (ARR_NDIM(arr) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("a PCA is a one-dimensional mvector array {mean, directions...}")));
	n = ARR_DIMS(arr)[0];
	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a PCA needs a mean and at least one direction, got %d element(s)", n)));
	result = InitMVector(n - 1);	/* its size checked before the array is read */

	arr = PG_GETARG_ARRAYTYPE_P(0);
	get_typlenbyvalalign(ARR_ELEMTYPE(arr), &typlen, &typbyval, &typalign);
	deconstruct_array(arr, ARR_ELEMTYPE(arr), typlen, typbyval, typalign, &elems, &nulls, &n);
	for (int i = 0; i < n; i++)
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("a PCA must not contain NULL")));

	mean = DatumGetMVector(elems[0]);
	MVectorCheckDims(mean, v);
	for (int c = 1; c < n; c++)
	{
		MVector    *dir = DatumGetMVector(elems[c]);
		double		dot = 0.0;

		MVectorCheckDims(dir, v);
		for (int k = 0; k < v->dim; k++)
			dot += ((double) v->x[k] - mean->x[k]) * dir->x[k];
		result->x[c - 1] = (float) dot;
		if ((Pointer) dir != DatumGetPointer(elems[c]))
			pfree(dir);			/* a detoasted copy: one at a time */
	}
	PG_RETURN_MVECTOR_P(result);
}
