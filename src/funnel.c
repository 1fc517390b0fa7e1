/*
 * funnel.c: the funnel access method's handler, reloptions, settings and
 * opclass validation.
 *
 * The index's jobs live one per file, as in PostgreSQL's own access
 * methods: funnelcode.c (codes, bounds, estimates), funnelutils.c (pages,
 * metapage, directory), funnelkmeans.c, funnelbuild.c, funnelinsert.c,
 * funnelscan.c, funnelvacuum.c and funnelcost.c (the cost model), sharing
 * funnel.h.
 */
#include "postgres.h"

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "commands/vacuum.h"
#include "funnel.h"
#include "optimizer/optimizer.h"
#include "pgcompat.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

int			funnel_shortlist = 0;
int			funnel_probes = 0;
bool		funnel_exact = false;
int			funnel_order = FUNNEL_ORDER_STRICT;

static relopt_kind funnel_relopt_kind;

static relopt_enum_elt_def funnel_precision_values[] = {
	{"float4", FUNNEL_FLOAT4},
	{"int8", FUNNEL_INT8},
	{"binary", FUNNEL_BIT},
	{NULL}
};

static const struct config_enum_entry funnel_order_values[] = {
	{"strict", FUNNEL_ORDER_STRICT, false},
	{"relaxed", FUNNEL_ORDER_RELAXED, false},
	{NULL, 0, false}
};

/* Register the reloptions and GUCs; called from _PG_init. */
void
FunnelInit(void)
{
	funnel_relopt_kind = add_reloption_kind();
	add_int_reloption(funnel_relopt_kind, "coarse_dims",
					  "Number of leading dimensions kept in the index",
					  64, 1, FUNNEL_MAX_COARSE_DIMS, AccessExclusiveLock);
	add_enum_reloption(funnel_relopt_kind, "precision",
					   "Storage of the coarse prefix: float4, int8 or binary",
					   funnel_precision_values, FUNNEL_INT8,
					   "Valid values are \"float4\", \"int8\" and \"binary\".",
					   AccessExclusiveLock);
	add_int_reloption(funnel_relopt_kind, "lists",
					  "Number of IVF lists (0 = about the square root of the row count)",
					  0, 0, FUNNEL_MAX_LISTS, AccessExclusiveLock);

	DefineCustomBoolVariable("mrl.funnel_exact",
							 "Makes funnel index scans return exactly the rows and order of a sequential scan.",
							 "When off, each batch of mrl.funnel_shortlist candidates is reranked on full vectors.",
							 &funnel_exact, false, PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("mrl.funnel_shortlist",
							"Candidates an approximate funnel scan reranks on full vectors for its first 10 rows (0 = the index's calibrated value).",
							"Later rounds, for more rows, rerank twice as many each.",
							&funnel_shortlist, 0, 0, 1000000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("mrl.funnel_probes",
							"IVF lists an approximate funnel scan opens for its first 10 rows, nearest centroids first (0 = the index's calibrated value).",
							"Later rounds, for more rows, open more.",
							&funnel_probes, 0, 0, FUNNEL_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("mrl.funnel_order",
							 "Whether approximate funnel scans return rows strictly in distance order.",
							 "strict: a row found nearer than one already returned is skipped; relaxed: it is returned, out of order.",
							 &funnel_order, FUNNEL_ORDER_STRICT, funnel_order_values,
							 PGC_USERSET, 0, NULL, NULL, NULL);
}

/*
 * The probes and shortlist of an approximate scan that aims at its first
 * `rows` rows (at least FUNNEL_ROUND_K): for FUNNEL_ROUND_K, the settings,
 * or where they are 0 what the build calibrated, or for an index it could
 * not calibrate (too few rows) a quarter of the lists (at least 32) and
 * 400.  Each grows with the rows as the calibration found from the first
 * FUNNEL_ROUND_K rows to the first FUNNEL_DEEP_K (a power of the rows);
 * past those, the probes as before and the shortlist faster, halfway (in
 * the exponent) to growing in proportion to the rows: on 250,000 real
 * sentences, the calibrated power alone left recall@10 at 0.94 under a
 * filter keeping 1% of rows (which reads 1,000 rows), the half-way growth
 * gives 0.98.  Where the build could not tell: the shortlist in
 * proportion to the rows, the probes 2.5 times for 10 times the rows.
 */
void
FunnelRoundSettings(const FunnelMetaPageData *meta, double rows, int *probes,
					int64 *shortlist)
{
	double		basis = meta->calibratedProbes > 0 ? meta->calibratedProbes :
		Max(32, (int) meta->nlists / 4);
	double		probeGrowth = 2.5,
				shortlistGrowth = 10,
				decades = log10(Max(rows, FUNNEL_ROUND_K) / FUNNEL_ROUND_K),
				calibrated = log10((double) FUNNEL_DEEP_K / FUNNEL_ROUND_K),
				grown;

	if (meta->deepProbes > 0 && meta->calibratedProbes > 0)
	{
		probeGrowth = (double) meta->deepProbes / meta->calibratedProbes;
		shortlistGrowth = (double) meta->deepShortlist / meta->calibratedShortlist;
	}
	if (funnel_probes > 0)
		basis = funnel_probes;
	*probes = (int) Min(ceil(basis * pow(probeGrowth, decades)), PG_INT32_MAX);
	basis = funnel_shortlist > 0 ? funnel_shortlist :
		meta->calibratedShortlist > 0 ? meta->calibratedShortlist : 400;
	grown = basis * pow(shortlistGrowth, Min(decades, calibrated)) *
		pow(sqrt(10 * shortlistGrowth), Max(0, decades - calibrated));
	*shortlist = (int64) Min(ceil(grown), (double) PG_INT64_MAX / 4);
}

/* The precision code of a reloption value name, 0 if there is none. */
int
FunnelPrecisionByName(const char *name)
{
	for (int i = 0; funnel_precision_values[i].string_val; i++)
		if (strcmp(name, funnel_precision_values[i].string_val) == 0)
			return funnel_precision_values[i].symbol_val;
	return 0;
}

/* The reloption value name of a precision code. */
static const char *
PrecisionName(int precision)
{
	for (int i = 0; funnel_precision_values[i].string_val; i++)
		if (funnel_precision_values[i].symbol_val == precision)
			return funnel_precision_values[i].string_val;
	return "?";
}

/*
 * Errors unless a data entry and a directory record with these options fit
 * a page (the reloption's range covers the record; float4 codes make the
 * entry larger).
 */
static void
CheckPageFit(int coarseDims, int precision)
{
	int			maxDims = FUNNEL_MAX_COARSE_DIMS;

	if (precision == FUNNEL_FLOAT4)
		maxDims = Min(maxDims, (FUNNEL_PAGE_SPACE - (int) FUNNEL_ENTRY_HEADER) / (int) sizeof(float));
	if (coarseDims > maxDims)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("coarse_dims %d is too large for a funnel index with precision %s",
						coarseDims, PrecisionName(precision)),
				 errhint("Use at most %d dims.", maxDims)));
}

/*
 * Parse WITH (...) options; validate is set when they are being set
 * (CREATE INDEX, ALTER INDEX ... SET), so bad combinations fail there
 * rather than at the next rebuild.
 */
static bytea *
funneloptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"coarse_dims", RELOPT_TYPE_INT, offsetof(FunnelOptions, coarseDims)},
		{"precision", RELOPT_TYPE_ENUM, offsetof(FunnelOptions, precision)},
		{"lists", RELOPT_TYPE_INT, offsetof(FunnelOptions, lists)},
	};
	FunnelOptions *opts;

	opts = (FunnelOptions *) build_reloptions(reloptions, validate, funnel_relopt_kind,
											  sizeof(FunnelOptions), tab, lengthof(tab));
	if (validate && opts)
		CheckPageFit(opts->coarseDims, opts->precision);
	return (bytea *) opts;
}

/* The metric of the index's opclass, from its support function 2. */
FunnelMetric
FunnelGetMetric(Relation index)
{
	FmgrInfo   *proc = index_getprocinfo(index, 1, FUNNEL_METRIC_PROC);
	int32		metric = DatumGetInt32(FunctionCall1(proc, PointerGetDatum(NULL)));

	if (metric < FUNNEL_L2 || metric > FUNNEL_L1)
		elog(ERROR, "funnel support function 2 returned unknown metric %d", metric);
	return (FunnelMetric) metric;
}

#define FUNNEL_METRIC_FUNC(name, metric) \
PG_FUNCTION_INFO_V1(name); \
Datum name(PG_FUNCTION_ARGS) { PG_RETURN_INT32(metric); }

FUNNEL_METRIC_FUNC(mrl_funnel_l2_support, FUNNEL_L2)
FUNNEL_METRIC_FUNC(mrl_funnel_ip_support, FUNNEL_IP)
FUNNEL_METRIC_FUNC(mrl_funnel_cosine_support, FUNNEL_COSINE)
FUNNEL_METRIC_FUNC(mrl_funnel_l1_support, FUNNEL_L1)

/*
 * The options to build the index with (the defaults if it has none),
 * checked against the page size and the indexed column's dimension count
 * (the checks amoptions cannot make: it does not see the column).
 */
void
FunnelGetOptions(Relation index, int *coarseDims, int *precision, int *lists)
{
	FunnelOptions *opts = (FunnelOptions *) index->rd_options;
	int32		typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	*coarseDims = opts ? opts->coarseDims : 64;
	*precision = opts ? opts->precision : FUNNEL_INT8;
	*lists = opts ? opts->lists : 0;
	CheckPageFit(*coarseDims, *precision);
	if (typmod > 0 && *coarseDims > typmod)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("coarse_dims %d is more than the %d dimensions of the indexed column",
						*coarseDims, typmod)));
}

/*
 * amvalidate, support functions: 1 is the distance (float8 of two values),
 * 2 the metric code (int4 of internal); no others.  Sets *distanceProc to
 * function 1 for the opclass's type.
 */
static bool
ValidateFunctions(const char *family, CatCList *proclist, Oid type, Oid *distanceProc)
{
	bool		result = true;

	for (int i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc proc = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);
		bool		ok;

		if (proc->amprocnum == FUNNEL_DISTANCE_PROC)
			ok = check_amproc_signature(proc->amproc, FLOAT8OID, true, 2, 2,
										proc->amproclefttype, proc->amprocrighttype);
		else if (proc->amprocnum == FUNNEL_METRIC_PROC)
			ok = check_amproc_signature(proc->amproc, INT4OID, true, 1, 1, INTERNALOID);
		else
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator family \"%s\" of access method %s contains function %s with invalid support number %d",
							family, "funnel", format_procedure(proc->amproc), proc->amprocnum)));
			result = false;
			continue;
		}
		if (!ok)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator family \"%s\" of access method %s contains function %s with wrong signature for support number %d",
							family, "funnel", format_procedure(proc->amproc), proc->amprocnum)));
			result = false;
		}
		if (proc->amprocnum == FUNNEL_DISTANCE_PROC &&
			proc->amproclefttype == type && proc->amprocrighttype == type)
			*distanceProc = proc->amproc;
	}
	return result;
}

/*
 * amvalidate, operators: only strategy 1, an ORDER BY operator returning
 * float8 (a scan evaluates no search operator).  Sets *orderProc to the
 * function of operator 1 for the opclass's type.
 */
static bool
ValidateOperators(const char *family, CatCList *oprlist, Oid type, Oid *orderProc)
{
	bool		result = true;

	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop op = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (op->amopstrategy != 1)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator family \"%s\" of access method %s contains operator %s with invalid strategy number %d",
							family, "funnel", format_operator(op->amopopr), op->amopstrategy)));
			result = false;
		}
		if (op->amoppurpose != AMOP_ORDER ||
			!opfamily_can_sort_type(op->amopsortfamily, FLOAT8OID) ||
			!check_amop_signature(op->amopopr, FLOAT8OID, op->amoplefttype, op->amoprighttype))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator family \"%s\" of access method %s contains operator %s that is not an ORDER BY operator returning float8",
							family, "funnel", format_operator(op->amopopr))));
			result = false;
		}
		if (op->amopstrategy == 1 && op->amoplefttype == type && op->amoprighttype == type)
			*orderProc = get_opcode(op->amopopr);
	}
	return result;
}

/*
 * amvalidate, the opclass itself: its type has operator 1 and support
 * functions 1 and 2, and function 1 is the operator's (approximate scans
 * rerank with it, the executor sorts by the operator).
 */
static bool
ValidateOpclass(const char *opclass, CatCList *oprlist, CatCList *proclist, Oid type,
				Oid orderProc, Oid distanceProc)
{
	bool		result = true;
	uint64		operators = 0,
				functions = 0;
	ListCell   *lc;

	foreach(lc, identify_opfamily_groups(oprlist, proclist))
	{
		OpFamilyOpFuncGroup *group = (OpFamilyOpFuncGroup *) lfirst(lc);

		if (group->lefttype == type && group->righttype == type)
		{
			operators = group->operatorset;
			functions = group->functionset;
		}
	}
	if (!(operators & (1 << 1)))
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator class \"%s\" of access method %s is missing operator 1",
						opclass, "funnel")));
		result = false;
	}
	for (int procnum = 1; procnum <= FUNNEL_NPROCS; procnum++)
		if (!(functions & ((uint64) 1 << procnum)))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("operator class \"%s\" of access method %s is missing support function %d",
							opclass, "funnel", procnum)));
			result = false;
		}
	if (OidIsValid(orderProc) && OidIsValid(distanceProc) && orderProc != distanceProc)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("operator class \"%s\" of access method %s has support function %d %s, which is not the function of its operator 1",
						opclass, "funnel", FUNNEL_DISTANCE_PROC, format_procedure(distanceProc))));
		result = false;
	}
	return result;
}

/*
 * amvalidate: what the opclass and its family hold is what a funnel scan
 * uses (see the three checks above).  Problems are reported as INFO
 * messages, as PostgreSQL's own access methods do.
 */
static bool
funnelvalidate(Oid opclassoid)
{
	HeapTuple	classtup,
				familytup;
	Form_pg_opclass classform;
	const char *family;
	CatCList   *proclist,
			   *oprlist;
	Oid			orderProc = InvalidOid,
				distanceProc = InvalidOid;
	bool		result;

	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	familytup = SearchSysCache1(OPFAMILYOID, ObjectIdGetDatum(classform->opcfamily));
	if (!HeapTupleIsValid(familytup))
		elog(ERROR, "cache lookup failed for operator family %u", classform->opcfamily);
	family = NameStr(((Form_pg_opfamily) GETSTRUCT(familytup))->opfname);
	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(classform->opcfamily));
	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(classform->opcfamily));

	result = ValidateFunctions(family, proclist, classform->opcintype, &distanceProc);
	result &= ValidateOperators(family, oprlist, classform->opcintype, &orderProc);
	result &= ValidateOpclass(NameStr(classform->opcname), oprlist, proclist,
							  classform->opcintype, orderProc, distanceProc);

	ReleaseCatCacheList(proclist);
	ReleaseCatCacheList(oprlist);
	ReleaseSysCache(familytup);
	ReleaseSysCache(classtup);
	return result;
}

PG_FUNCTION_INFO_V1(funnel_handler);
Datum
funnel_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = FUNNEL_NPROCS;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false;
	MrlSetCanBuildParallel(am);
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = funnelbuild;
	am->ambuildempty = funnelbuildempty;
	am->aminsert = funnelinsert;
	am->ambulkdelete = funnelbulkdelete;
	am->amvacuumcleanup = funnelvacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = funnelcostestimate;
	am->amoptions = funneloptions;
	am->amproperty = NULL;
	am->ambuildphasename = funnelbuildphasename;
	am->amvalidate = funnelvalidate;
	am->amadjustmembers = NULL;
	am->ambeginscan = funnelbeginscan;
	am->amrescan = funnelrescan;
	am->amgettuple = funnelgettuple;
	am->amgetbitmap = NULL;
	am->amendscan = funnelendscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}
