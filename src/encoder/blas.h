/*
 * blas.h: the BLAS and LAPACK routines the encoder core calls, bound at run
 * time.
 *
 * mrl.so is loaded by every backend that touches an mvector, but only
 * embedding, training and evaluation need OpenBLAS and LAPACKE.  Linked in,
 * they would be mapped and relocated (with gfortran and LAPACK behind
 * LAPACKE) and OpenBLAS would start its worker thread in each of those
 * backends: tens of milliseconds per connection.  Instead the first caller
 * opens them with mrl_blas_load(), once per process; the cblas_* and
 * LAPACKE_* names below then call through the loaded table.
 *
 * Code that includes this header calls the routines by their usual names.
 * Entry points (opening a model, training, fitting a PCA) call
 * mrl_blas_load() first, so a missing library is an error message, not a
 * crash; a routine called before any entry point loads on demand and
 * aborts the process if it cannot.
 */
#ifndef MRL_BLAS_H
#define MRL_BLAS_H

#include <cblas.h>
#include <lapacke.h>

typedef struct mrl_blas_fns
{
	__typeof__(cblas_sgemm) *sgemm;
	__typeof__(cblas_dgemm) *dgemm;
	__typeof__(cblas_sgemv) *sgemv;
	__typeof__(cblas_dsyrk) *dsyrk;
	__typeof__(cblas_saxpy) *saxpy;
	__typeof__(cblas_sdot) *sdot;
	__typeof__(LAPACKE_ssyevr) *ssyevr;
	void		(*set_num_threads) (int);
} mrl_blas_fns;

extern mrl_blas_fns mrl_blas;

/* Open the system's libraries once; NULL, or why they could not be opened. */
extern const char *mrl_blas_load(void);

/* Bind fns from the named libraries: 0, or -1 with the reason in err. */
extern int	mrl_blas_open(const char *blas_lib, const char *lapacke_lib,
						  mrl_blas_fns *fns, char *err, size_t errlen);

/* The table, loading it first if no entry point did (aborts on failure). */
extern const mrl_blas_fns *mrl_blas_get(void);

#define cblas_sgemm (mrl_blas_get()->sgemm)
#define cblas_dgemm (mrl_blas_get()->dgemm)
#define cblas_sgemv (mrl_blas_get()->sgemv)
#define cblas_dsyrk (mrl_blas_get()->dsyrk)
#define cblas_saxpy (mrl_blas_get()->saxpy)
#define cblas_sdot (mrl_blas_get()->sdot)
#define LAPACKE_ssyevr (mrl_blas_get()->ssyevr)
#define openblas_set_num_threads (mrl_blas_get()->set_num_threads)

#endif
