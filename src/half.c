/*
 * half.c: IEEE half precision (mhalfvec's elements): conversions from and
 * to float4, and distance kernels; portable and F16C, dispatched with
 * distance.c's kernels (mrl.simd).
 *
 * The portable conversions are bit-exact twins of the F16C instructions for
 * every finite float (test/suites/11_mhalfvec.sh checks both against numpy
 * at every rounding boundary), so stored values never depend on the CPU.
 * NaN never reaches them: mhalfvec refuses it on the way in.  Distances sum
 * in float, which cannot overflow or underflow for halves (|x| <= 65504, a
 * nonzero product is at least 2^-48), so they need no double fallback.
 */
#include <string.h>

#include "distance.h"
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

/*
 * The portable distances widen a block of each argument at a time and run
 * the float kernels in use on it (the portable ones, under mrl.simd =
 * scalar), so any size needs only this much stack.
 */
#define HALF_BLOCK 256

typedef float (*FloatKernel) (const float *a, const float *b, int n);

/* The sum over blocks of a float kernel. */
static float
Blockwise(FloatKernel kernel, const uint16_t *a, const uint16_t *b, int n)
{
	float		fa[HALF_BLOCK],
				fb[HALF_BLOCK],
				sum = 0;

	for (int i = 0; i < n; i += HALF_BLOCK)
	{
		int			m = n - i < HALF_BLOCK ? n - i : HALF_BLOCK;

		to_float_scalar(a + i, fa, m);
		to_float_scalar(b + i, fb, m);
		sum += kernel(fa, fb, m);
	}
	return sum;
}

static float
l2sq_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	return Blockwise(mrl_kernels.l2sq, a, b, n);
}

static float
dot_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	return Blockwise(mrl_kernels.dot, a, b, n);
}

static float
l1_scalar(const uint16_t *a, const uint16_t *b, int n)
{
	return Blockwise(mrl_kernels.l1, a, b, n);
}

static void
dot_norms_scalar(const uint16_t *a, const uint16_t *b, int n,
				 float *dot, float *norma, float *normb)
{
	*dot = Blockwise(mrl_kernels.dot, a, b, n);
	*norma = Blockwise(mrl_kernels.dot, a, a, n);
	*normb = Blockwise(mrl_kernels.dot, b, b, n);
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

/*
 * Distances with the widening fused into the loads (AVX2 + FMA + F16C): 16
 * elements per step in two accumulators; the last partial step reads the
 * rest from zero-padded copies, whose zeros add nothing to any sum.
 */
#define F16C_FMA __attribute__((target("avx2,fma,f16c")))

F16C_FMA static inline __m256
Load8(const uint16_t *h)
{
	return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) h));
}

/* Copy the last n - i (< 16) elements of a and b into zeroed 16-element buffers. */
static inline void
PadTail(const uint16_t *a, const uint16_t *b, int i, int n, uint16_t *ta, uint16_t *tb)
{
	memset(ta, 0, 16 * sizeof(uint16_t));
	memset(tb, 0, 16 * sizeof(uint16_t));
	memcpy(ta, a + i, (n - i) * sizeof(uint16_t));
	memcpy(tb, b + i, (n - i) * sizeof(uint16_t));
}

F16C_FMA static inline float
Sum8(__m256 v)
{
	float		t[8];

	_mm256_storeu_ps(t, v);
	return ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
}

/*
 * One kernel body for each metric: STEP(x, y) accumulates 8 widened
 * elements of a and b; the loop runs it over full steps, then once over the
 * zero-padded rest.
 */
#define HALF_KERNEL_LOOP(STEP) \
	int			i = 0; \
	uint16_t	ta[16], \
				tb[16]; \
	for (; i + 16 <= n; i += 16) \
	{ \
		STEP(0, Load8(a + i), Load8(b + i)); \
		STEP(1, Load8(a + i + 8), Load8(b + i + 8)); \
	} \
	if (i < n) \
	{ \
		PadTail(a, b, i, n, ta, tb); \
		STEP(0, Load8(ta), Load8(tb)); \
		STEP(1, Load8(ta + 8), Load8(tb + 8)); \
	}

#define L2SQ_STEP(k, x, y) do { __m256 d = _mm256_sub_ps(x, y); s[k] = _mm256_fmadd_ps(d, d, s[k]); } while (0)

F16C_FMA static float
l2sq_f16c(const uint16_t *a, const uint16_t *b, int n)
{
	__m256		s[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};

	HALF_KERNEL_LOOP(L2SQ_STEP);
	return Sum8(_mm256_add_ps(s[0], s[1]));
}

#define DOT_STEP(k, x, y) (s[k] = _mm256_fmadd_ps(x, y, s[k]))

F16C_FMA static float
dot_f16c(const uint16_t *a, const uint16_t *b, int n)
{
	__m256		s[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};

	HALF_KERNEL_LOOP(DOT_STEP);
	return Sum8(_mm256_add_ps(s[0], s[1]));
}

#define L1_STEP(k, x, y) (s[k] = _mm256_add_ps(s[k], _mm256_and_ps(_mm256_sub_ps(x, y), absmask)))

F16C_FMA static float
l1_f16c(const uint16_t *a, const uint16_t *b, int n)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256		s[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};

	HALF_KERNEL_LOOP(L1_STEP);
	return Sum8(_mm256_add_ps(s[0], s[1]));
}

#define DOT_NORMS_STEP(k, x, y) do { __m256 va = (x), vb = (y); \
		sd[k] = _mm256_fmadd_ps(va, vb, sd[k]); \
		sa[k] = _mm256_fmadd_ps(va, va, sa[k]); \
		sb[k] = _mm256_fmadd_ps(vb, vb, sb[k]); } while (0)

F16C_FMA static void
dot_norms_f16c(const uint16_t *a, const uint16_t *b, int n,
			   float *dot, float *norma, float *normb)
{
	__m256		sd[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()},
				sa[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()},
				sb[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};

	HALF_KERNEL_LOOP(DOT_NORMS_STEP);
	*dot = Sum8(_mm256_add_ps(sd[0], sd[1]));
	*norma = Sum8(_mm256_add_ps(sa[0], sa[1]));
	*normb = Sum8(_mm256_add_ps(sb[0], sb[1]));
}

static const MrlHalfKernels half_kernels_f16c = {
	"f16c", to_float_f16c, from_float_f16c, l2sq_f16c, dot_f16c, l1_f16c, dot_norms_f16c
};
#endif							/* MRL_X86_DISPATCH */

static const MrlHalfKernels half_kernels_scalar = {
	"scalar", to_float_scalar, from_float_scalar, l2sq_scalar, dot_scalar, l1_scalar, dot_norms_scalar
};

MrlHalfKernels mrl_half_kernels = {
	"scalar", to_float_scalar, from_float_scalar, l2sq_scalar, dot_scalar, l1_scalar, dot_norms_scalar
};

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

/* The portable kernels when the float ones are, F16C otherwise if present. */
void
MrlHalfKernelsSelect(const char *isa)
{
	mrl_half_kernels = half_kernels_scalar;
#ifdef MRL_X86_DISPATCH
	if (strcmp(isa, "scalar") != 0 && CpuHasF16C())
		mrl_half_kernels = half_kernels_f16c;
#endif
}
