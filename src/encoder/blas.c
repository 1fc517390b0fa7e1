/*
 * blas.c: binds the encoder's BLAS and LAPACK routines at run time (see
 * blas.h for why).  The libraries are Debian's: libopenblas.so.0 (the
 * pthread, OpenMP or serial variant the system selects) and
 * liblapacke.so.3.  They are opened RTLD_LOCAL so that their symbols never
 * shadow another library's in the process.
 */
#include "blas.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

mrl_blas_fns mrl_blas;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static const char *load_error;
static char error_text[512];

/* Look up one symbol; on failure remember why (the first failure wins). */
static void *
bind(void *lib, const char *libname, const char *name)
{
	void	   *p = lib ? dlsym(lib, name) : NULL;

	if (p == NULL && load_error == NULL)
	{
		if (lib)
			snprintf(error_text, sizeof(error_text), "%s has no symbol %s", libname, name);
		else
			snprintf(error_text, sizeof(error_text), "cannot open %s: %s", libname, dlerror());
		load_error = error_text;
	}
	return p;
}

static void
load(void)
{
	void	   *blas = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
	void	   *lapacke;
	mrl_blas_fns f;

	f.sgemm = bind(blas, "libopenblas.so.0", "cblas_sgemm");
	f.sgemv = bind(blas, "libopenblas.so.0", "cblas_sgemv");
	f.ssyrk = bind(blas, "libopenblas.so.0", "cblas_ssyrk");
	f.saxpy = bind(blas, "libopenblas.so.0", "cblas_saxpy");
	f.sdot = bind(blas, "libopenblas.so.0", "cblas_sdot");
	f.set_num_threads = bind(blas, "libopenblas.so.0", "openblas_set_num_threads");
	lapacke = dlopen("liblapacke.so.3", RTLD_NOW | RTLD_LOCAL);
	f.ssyevd = bind(lapacke, "liblapacke.so.3", "LAPACKE_ssyevd");
	if (load_error == NULL)
		mrl_blas = f;
}

const char *
mrl_blas_load(void)
{
	pthread_once(&load_once, load);
	return load_error;
}

const mrl_blas_fns *
mrl_blas_get(void)
{
	if (mrl_blas.sgemm == NULL && mrl_blas_load() != NULL)
	{
		fprintf(stderr, "mrl: cannot load BLAS/LAPACK: %s\n", load_error);
		abort();
	}
	return &mrl_blas;
}
