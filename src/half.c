/*
 * half.c: float4 <-> IEEE half precision conversions, portable and F16C.
 *
 * The portable versions are bit-exact twins of the F16C instructions for
 * every finite float (test/suites/11_mhalfvec_rounding.sh checks both
 * against numpy at every rounding boundary), so results never depend on
 * the CPU.  NaN never reaches them: mhalfvec refuses it on the way in.
 */
#include <string.h>

#include "half.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MRL_X86_DISPATCH 1
#include <cpuid.h>
#include <immintrin.h>
#endif

/* ---------- portable ---------- */

/* One half to float: exact (every half is a float). */
static inline float
HalfToFloat(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000) << 16;
	uint32_t	exponent = (h >> 10) & 0x1f;
	uint32_t	mantissa = h & 0x3ff;
	uint32_t	bits;
	float		f;

	if (exponent == 0)
	{
		/* zero or subnormal: mantissa units of 2^-24 */
		f = (float) mantissa * 0x1p-24f;
		return sign ? -f : f;
	}
	if (exponent == 0x1f)
		bits = sign | 0x7f800000 | (mantissa << 13);
	else
		bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* One float to the nearest half, ties to even. */
static inline uint16_t
FloatToHalf(float f)
{
	uint32_t	bits;
	uint32_t	sign;
	uint32_t	magnitude;

	memcpy(&bits, &f, sizeof(bits));
	sign = (bits >> 16) & 0x8000;
	magnitude = bits & 0x7fffffff;
	if (magnitude > 0x7f800000)
		return sign | 0x7e00;	/* NaN */
	if (magnitude >= 0x477ff000)
		return sign | 0x7c00;	/* 65520 and up round to infinity */
	if (magnitude >= 0x38800000)
	{
		/*
		 * A normal half (2^-14 and up): drop 13 mantissa bits, rounding to
		 * nearest with ties to even; a carry out of the mantissa correctly
		 * raises the exponent.  Then rebias the exponent from 127 to 15.
		 */
		magnitude += 0xfff + ((magnitude >> 13) & 1);
		return sign | ((magnitude - ((127 - 15) << 23)) >> 13);
	}
	if (magnitude < 0x33000000)
		return sign;			/* below 2^-25: rounds to zero */
	{
		/*
		 * A subnormal half: the value in units of 2^-24 is the 24-bit
		 * significand shifted right by 126 - exponent (14 to 24 places),
		 * rounded to nearest with ties to even.  Rounding up from the
		 * largest subnormal gives 0x400, the smallest normal, as it should.
		 */
		uint32_t	significand = (magnitude & 0x7fffff) | 0x800000;
		int			shift = 126 - (int) (magnitude >> 23);
		uint32_t	units = significand >> shift;
		uint32_t	rest = significand & ((1u << shift) - 1);
		uint32_t	halfway = 1u << (shift - 1);

		if (rest > halfway || (rest == halfway && (units & 1)))
			units++;
		return sign | units;
	}
}

static void
to_float_scalar(const uint16_t *h, float *f, int n)
{
	for (int i = 0; i < n; i++)
		f[i] = HalfToFloat(h[i]);
}

static void
from_float_scalar(const float *f, uint16_t *h, int n)
{
	for (int i = 0; i < n; i++)
		h[i] = FloatToHalf(f[i]);
}

#ifdef MRL_X86_DISPATCH

/* ---------- F16C: 8 elements per instruction, portable tail ---------- */

#define F16C __attribute__((target("avx,f16c")))

F16C static void
to_float_f16c(const uint16_t *h, float *f, int n)
{
	int			i = 0;

	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (h + i))));
	for (; i < n; i++)
		f[i] = HalfToFloat(h[i]);
}

F16C static void
from_float_f16c(const float *f, uint16_t *h, int n)
{
	int			i = 0;

	for (; i + 8 <= n; i += 8)
		_mm_storeu_si128((__m128i *) (h + i),
						 _mm256_cvtps_ph(_mm256_loadu_ps(f + i),
										 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
	for (; i < n; i++)
		h[i] = FloatToHalf(f[i]);
}

static const MrlHalfKernels half_kernels_f16c = {"f16c", to_float_f16c, from_float_f16c};
#endif							/* MRL_X86_DISPATCH */

static const MrlHalfKernels half_kernels_scalar = {"scalar", to_float_scalar, from_float_scalar};

MrlHalfKernels mrl_half_kernels = {"scalar", to_float_scalar, from_float_scalar};

#ifdef MRL_X86_DISPATCH
/*
 * F16C's 256-bit forms need AVX (which the builtin also checks the OS
 * enables); F16C itself is read from CPUID, as not every compiler's
 * __builtin_cpu_supports knows its name.
 */
static int
CpuHasF16C(void)
{
	unsigned int eax,
				ebx,
				ecx,
				edx;

	__builtin_cpu_init();
	return __builtin_cpu_supports("avx") &&
		__get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C);
}
#endif

/* Portable conversions when the float kernels are, F16C otherwise if present. */
void
MrlHalfKernelsSelect(const char *isa)
{
	mrl_half_kernels = half_kernels_scalar;
#ifdef MRL_X86_DISPATCH
	if (strcmp(isa, "scalar") != 0 && CpuHasF16C())
		mrl_half_kernels = half_kernels_f16c;
#endif
}
