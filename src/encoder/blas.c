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
static char load_error[512];

/* dlsym, or NULL with the reason in err (unless err already has one). */
static void *
bind(void *lib, const char *libname, const char *name, char *err, size_t errlen)
{
	void	   *p = lib ? dlsym(lib, name) : NULL;

	if (p == NULL && err[0] == '\0')
	{
		if (lib)
			snprintf(err, errlen, "%s has no symbol %s", libname, name);
		else
			snprintf(err, errlen, "%s", dlerror());	/* names the library */
	}
	return p;
}

int
mrl_blas_open(const char *blas_lib, const char *lapacke_lib, mrl_blas_fns *fns,
			  char *err, size_t errlen)
{
	void	   *blas = dlopen(blas_lib, RTLD_NOW | RTLD_LOCAL);
	void	   *lapacke = NULL;
	mrl_blas_fns f;

	err[0] = '\0';
	f.sgemm = bind(blas, blas_lib, "cblas_sgemm", err, errlen);
	f.dgemm = bind(blas, blas_lib, "cblas_dgemm", err, errlen);
	f.sgemv = bind(blas, blas_lib, "cblas_sgemv", err, errlen);
	f.dsyrk = bind(blas, blas_lib, "cblas_dsyrk", err, errlen);
	f.saxpy = bind(blas, blas_lib, "cblas_saxpy", err, errlen);
	f.sdot = bind(blas, blas_lib, "cblas_sdot", err, errlen);
	f.set_num_threads = bind(blas, blas_lib, "openblas_set_num_threads", err, errlen);
	if (err[0] == '\0')
		lapacke = dlopen(lapacke_lib, RTLD_NOW | RTLD_LOCAL);
	f.ssyevr = bind(lapacke, lapacke_lib, "LAPACKE_ssyevr", err, errlen);
	if (err[0] != '\0')
	{
		if (lapacke)
			dlclose(lapacke);
		if (blas)
			dlclose(blas);
		return -1;
	}
	*fns = f;
	return 0;
}

static void
load(void)
{
	(void) mrl_blas_open("libopenblas.so.0", "liblapacke.so.3", &mrl_blas,
						 load_error, sizeof(load_error));
}

const char *
mrl_blas_load(void)
{
	pthread_once(&load_once, load);
	return load_error[0] ? load_error : NULL;
}

const mrl_blas_fns *
mrl_blas_get(void)
{
	if (mrl_blas.sgemm == NULL && mrl_blas_load() != NULL)
	{
		fprintf(stderr, "mrl: %s\n", load_error);
		abort();
	}
	return &mrl_blas;
}
