/*
 * test_blas: the run-time binding of OpenBLAS and LAPACKE (blas.c).  This
 * program is not linked against either library, so every call below goes
 * through the table mrl_blas_load() fills.  Expected values are worked by
 * hand.
 */
#include <math.h>

#include "blas.h"
#include "tap.h"

int
main(void)
{
	const char *error = mrl_blas_load();
	float		a[6] = {1, 2, 3, 4, 5, 6},	/* 2 x 3 */
				b[6] = {7, 8, 9, 10, 11, 12},	/* 3 x 2 */
				c[4] = {0},
				x[3] = {1, -2, 0.5f},
				y[3] = {4, 1, 2},
				sym[4] = {2, 1, 1, 2},
				eig[2],
				vec[4];
	mrl_blas_fns fns;
	char		err[512];
	int			info,
				found,
				support[4];

	if (!ok(error == NULL, "the system's OpenBLAS and LAPACKE load (%s)", error ? error : "ok"))
		return tap_done();

	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1.0f, a, 3, b, 2, 0.0f, c, 2);
	ok(c[0] == 58 && c[1] == 64 && c[2] == 139 && c[3] == 154,
	   "sgemm: [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154] (got %g %g %g %g)",
	   c[0], c[1], c[2], c[3]);
	{
		double		ad[6] = {1, 2, 3, 4, 5, 6},
					bd[6] = {7, 8, 9, 10, 11, 12},
					cd[4] = {0};

		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2, 2, 3, 1.0, ad, 3, bd, 2, 0.0, cd, 2);
		ok(cd[0] == 58 && cd[1] == 64 && cd[2] == 139 && cd[3] == 154,
		   "dgemm: the same product in double (got %g %g %g %g)", cd[0], cd[1], cd[2], cd[3]);
	}
	ok(cblas_sdot(3, x, 1, y, 1) == 3.0f, "sdot: 4 - 2 + 1 = 3");
	cblas_saxpy(3, 2.0f, x, 1, y, 1);
	ok(y[0] == 6 && y[1] == -3 && y[2] == 3, "saxpy: y + 2x = [6 -3 3]");
	/* [2 1; 1 2] has eigenvalues 1 and 3, ascending; 3's vector is (1, 1) / sqrt 2 */
	info = LAPACKE_ssyevr(LAPACK_COL_MAJOR, 'V', 'A', 'L', 2, sym, 2, 0.0f, 0.0f, 0, 0, 0.0f,
						  &found, eig, vec, 2, support);
	ok(info == 0 && found == 2 && fabsf(eig[0] - 1) < 1e-6f && fabsf(eig[1] - 3) < 1e-6f &&
	   fabsf(fabsf(vec[2]) - sqrtf(0.5f)) < 1e-6f && vec[2] == vec[3],
	   "ssyevr: eigenvalues of [2 1; 1 2] are 1 and 3 (got %g %g), the second's vector (1, 1) / sqrt 2",
	   eig[0], eig[1]);
	openblas_set_num_threads(1);
	ok(mrl_blas_load() == NULL && mrl_blas.sgemm != NULL, "a second load is a no-op");

	ok(mrl_blas_open("libmrl-no-such-blas.so.0", "liblapacke.so.3", &fns, err, sizeof(err)) == -1 &&
	   strstr(err, "libmrl-no-such-blas.so.0: cannot open") != NULL,
	   "a missing library is an error naming it: %s", err);
	ok(mrl_blas_open("libopenblas.so.0", "libjson-c.so.5", &fns, err, sizeof(err)) == -1 &&
	   strstr(err, "libjson-c.so.5 has no symbol LAPACKE_ssyevr") != NULL,
	   "a library without the routine is an error naming both: %s", err);
	return tap_done();
}
