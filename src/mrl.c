/*
 * mrl.c: module entry point and settings.
 */
#include "postgres.h"

#include "blas.h"
#include "distance.h"
#include "funnel.h"
#include "half.h"
#include "loaded_models.h"
#include "model_files.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

void		_PG_init(void);
extern void MrlEmbedDefineSettings(void);

/* mrl.simd: which distance kernels to use ("auto" = the best the CPU has). */
static char *mrl_simd = NULL;

/* Accept only kernel sets this CPU can run. */
static bool
check_simd(char **newval, void **extra, GucSource source)
{
	MrlKernels	saved = mrl_kernels;
	bool		ok = strcmp(*newval, "auto") == 0 || MrlKernelsSelect(*newval);

	mrl_kernels = saved;
	if (!ok)
		GUC_check_errdetail("Valid values on this CPU are \"auto\", \"scalar\"%s%s.",
							MrlKernelsSelect("avx2") ? ", \"avx2\"" : "",
							MrlKernelsSelect("avx512") ? ", \"avx512\"" : "");
	mrl_kernels = saved;
	return ok;
}

/* Also called when the setting is defined, so the kernels are chosen at load. */
static void
assign_simd(const char *newval, void *extra)
{
	if (strcmp(newval, "auto") == 0)
		MrlKernelsInit();
	else
		MrlKernelsSelect(newval);
	MrlHalfKernelsSelect(mrl_kernels.isa);
}

PG_FUNCTION_INFO_V1(mrl_simd_kernels);
Datum
mrl_simd_kernels(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(mrl_kernels.isa));
}

void
_PG_init(void)
{
	MrlKernelsInit();
	DefineCustomStringVariable("mrl.simd",
							   "Distance kernels: auto, avx512, avx2 or scalar.",
							   "\"auto\" picks the best the CPU supports.",
							   &mrl_simd, "auto", PGC_USERSET, 0,
							   check_simd, assign_simd, NULL);
	FunnelInit();
	MrlEmbedDefineSettings();
	MrlLoadedModelsInit();
	MrlModelFilesInit();
	MarkGUCPrefixReserved("mrl");

	/*
	 * Backends load OpenBLAS when they first embed, train or evaluate.  A
	 * server that preloads mrl loads it once here, before the fork, so no
	 * backend pays for it (a failure is reported when a backend needs it).
	 */
	if (process_shared_preload_libraries_in_progress)
		(void) mrl_blas_load();
}
