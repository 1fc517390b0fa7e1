/*
 * distance.c: distance kernels (scalar, AVX2+FMA, AVX-512) and dispatch.
 *
 * One build runs on any x86-64: the SIMD versions are compiled with target
 * attributes and picked at load time from what the CPU reports.  Sums are
 * kept in several float accumulators (as the SIMD lanes do) so that the
 * scalar version vectorises and all versions agree to float rounding.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "distance.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MRL_X86_DISPATCH 1
#include <immintrin.h>
#endif

/* ---------- scalar ---------- */

/* Squared Euclidean distance. */
static float
l2sq_scalar(const float *a, const float *b, int n)
{
	float		s[4] = {0, 0, 0, 0};
	int			i = 0;

	for (; i + 4 <= n; i += 4)
		for (int j = 0; j < 4; j++)
		{
			float		d = a[i + j] - b[i + j];

			s[j] += d * d;
		}
	for (; i < n; i++)
		s[0] += (a[i] - b[i]) * (a[i] - b[i]);
	return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Inner product. */
static float
dot_scalar(const float *a, const float *b, int n)
{
	float		s[4] = {0, 0, 0, 0};
	int			i = 0;

	for (; i + 4 <= n; i += 4)
		for (int j = 0; j < 4; j++)
			s[j] += a[i + j] * b[i + j];
	for (; i < n; i++)
		s[0] += a[i] * b[i];
	return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Manhattan distance. */
static float
l1_scalar(const float *a, const float *b, int n)
{
	float		s[4] = {0, 0, 0, 0};
	int			i = 0;

	for (; i + 4 <= n; i += 4)
		for (int j = 0; j < 4; j++)
			s[j] += fabsf(a[i + j] - b[i + j]);
	for (; i < n; i++)
		s[0] += fabsf(a[i] - b[i]);
	return (s[0] + s[1]) + (s[2] + s[3]);
}

/* Dot product and squared norms in one pass. */
static void
dot_norms_scalar(const float *a, const float *b, int n,
				 float *dot, float *norma, float *normb)
{
	float		d = 0,
				na = 0,
				nb = 0;

	for (int i = 0; i < n; i++)
	{
		d += a[i] * b[i];
		na += a[i] * a[i];
		nb += b[i] * b[i];
	}
	*dot = d;
	*norma = na;
	*normb = nb;
}

/* Dot product of int8 codes with floats, and the codes' squared norm. */
static void
int8_dot_norm_scalar(const int8_t *c, const float *q, int n, float *dot, float *cc)
{
	float		d[4] = {0, 0, 0, 0},
				x2[4] = {0, 0, 0, 0};
	int			i = 0;

	for (; i + 4 <= n; i += 4)
		for (int j = 0; j < 4; j++)
		{
			d[j] += c[i + j] * q[i + j];
			x2[j] += c[i + j] * c[i + j];
		}
	for (; i < n; i++)
	{
		d[0] += c[i] * q[i];
		x2[0] += c[i] * c[i];
	}
	*dot = (d[0] + d[1]) + (d[2] + d[3]);
	*cc = (x2[0] + x2[1]) + (x2[2] + x2[3]);
}

/* Exact int8 dot product of each of count int8 codes with int8 q. */
static void
int8_qdots_scalar(const int8_t *codes, long stride, int count, const int8_t *q, int n,
				  int32_t *dots)
{
	for (int k = 0; k < count; k++)
	{
		const int8_t *c = codes + k * stride;
		int32_t		s = 0;

		for (int i = 0; i < n; i++)
			s += c[i] * q[i];
		dots[k] = s;
	}
}

/* Exact sum of the int8 q[i] whose bit is set, for each of count bit codes. */
static void
bit_qsums_scalar(const uint8_t *bits, long stride, int count, const int8_t *q, int n,
				 int32_t *sums)
{
	for (int k = 0; k < count; k++)
	{
		const uint8_t *b = bits + k * stride;
		int32_t		s = 0;

		for (int i = 0; i < n; i++)
			s += ((b[i >> 3] >> (i & 7)) & 1) ? q[i] : 0;
		sums[k] = s;
	}
}

#ifdef MRL_X86_DISPATCH

/* ---------- AVX2 + FMA: 8 lanes, two accumulators, scalar tail ---------- */

#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline float
hsum256(__m256 v)
{
	__m128		lo = _mm256_castps256_ps128(v);
	__m128		hi = _mm256_extractf128_ps(v, 1);

	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
	return _mm_cvtss_f32(lo);
}

AVX2 static inline int32_t
hsum256i(__m256i v)
{
	__m128i		x = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));

	x = _mm_add_epi32(x, _mm_shuffle_epi32(x, _MM_SHUFFLE(1, 0, 3, 2)));
	x = _mm_add_epi32(x, _mm_shuffle_epi32(x, _MM_SHUFFLE(2, 3, 0, 1)));
	return _mm_cvtsi128_si32(x);
}

AVX2 static float
l2sq_avx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
	}
	for (; i < n; i++)
		tail += (a[i] - b[i]) * (a[i] - b[i]);
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

AVX2 static float
dot_avx2(const float *a, const float *b, int n)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0;

	for (; i + 16 <= n; i += 16)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
	}
	for (; i < n; i++)
		tail += a[i] * b[i];
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

AVX2 static float
l1_avx2(const float *a, const float *b, int n)
{
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps();
	int			i = 0;
	float		tail = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));

		s0 = _mm256_add_ps(s0, _mm256_and_ps(d0, absmask));
		s1 = _mm256_add_ps(s1, _mm256_and_ps(d1, absmask));
	}
	for (; i < n; i++)
		tail += fabsf(a[i] - b[i]);
	return hsum256(_mm256_add_ps(s0, s1)) + tail;
}

AVX2 static void
dot_norms_avx2(const float *a, const float *b, int n,
			   float *dot, float *norma, float *normb)
{
	__m256		sd = _mm256_setzero_ps(),
				sa = _mm256_setzero_ps(),
				sb = _mm256_setzero_ps();
	int			i = 0;
	float		td = 0,
				ta = 0,
				tb = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256		va = _mm256_loadu_ps(a + i);
		__m256		vb = _mm256_loadu_ps(b + i);

		sd = _mm256_fmadd_ps(va, vb, sd);
		sa = _mm256_fmadd_ps(va, va, sa);
		sb = _mm256_fmadd_ps(vb, vb, sb);
	}
	for (; i < n; i++)
	{
		td += a[i] * b[i];
		ta += a[i] * a[i];
		tb += b[i] * b[i];
	}
	*dot = hsum256(sd) + td;
	*norma = hsum256(sa) + ta;
	*normb = hsum256(sb) + tb;
}

/* 8 codes widened to floats per step. */
AVX2 static void
int8_dot_norm_avx2(const int8_t *c, const float *q, int n, float *dot, float *cc)
{
	__m256		sd = _mm256_setzero_ps(),
				sc = _mm256_setzero_ps();
	int			i = 0;
	float		td = 0,
				tc = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m256		x = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *) (c + i))));

		sd = _mm256_fmadd_ps(x, _mm256_loadu_ps(q + i), sd);
		sc = _mm256_fmadd_ps(x, x, sc);
	}
	for (; i < n; i++)
	{
		td += c[i] * q[i];
		tc += c[i] * c[i];
	}
	*dot = hsum256(sd) + td;
	*cc = hsum256(sc) + tc;
}

/* 16 codes and query bytes widened to int16 and multiply-added per step. */
AVX2 static void
int8_qdots_avx2(const int8_t *codes, long stride, int count, const int8_t *q, int n,
				int32_t *dots)
{
	for (int k = 0; k < count; k++)
	{
		const int8_t *c = codes + k * stride;
		__m256i		s = _mm256_setzero_si256();
		int32_t		t = 0;
		int			i = 0;

		for (; i + 16 <= n; i += 16)
			s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *) (c + i))),
													  _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *) (q + i)))));
		for (; i < n; i++)
			t += c[i] * q[i];
		dots[k] = hsum256i(s) + t;
	}
}

/*
 * Four bytes of bits spread to 32 byte lanes (lane j gets byte j / 8 and
 * tests bit j % 8) select query bytes, summed as int16 pairs then int32.
 */
AVX2 static void
bit_qsums_avx2(const uint8_t *bits, long stride, int count, const int8_t *q, int n,
			   int32_t *sums)
{
	const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
											2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
	const __m256i lanebit = _mm256_set1_epi64x(0x8040201008040201LL);
	const __m256i ones8 = _mm256_set1_epi8(1);
	const __m256i ones16 = _mm256_set1_epi16(1);

	for (int k = 0; k < count; k++)
	{
		const uint8_t *b = bits + k * stride;
		__m256i		s = _mm256_setzero_si256();
		int32_t		t = 0;
		int			i = 0;

		for (; i + 32 <= n; i += 32)
		{
			uint32_t	m;
			__m256i		sel;

			memcpy(&m, b + (i >> 3), sizeof(m));
			sel = _mm256_shuffle_epi8(_mm256_set1_epi32((int) m), spread);
			sel = _mm256_cmpeq_epi8(_mm256_and_si256(sel, lanebit), lanebit);
			sel = _mm256_and_si256(sel, _mm256_loadu_si256((const __m256i *) (q + i)));
			s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, sel), ones16));
		}
		for (; i < n; i++)
			t += ((b[i >> 3] >> (i & 7)) & 1) ? q[i] : 0;
		sums[k] = hsum256i(s) + t;
	}
}

/* ---------- AVX-512: 16 lanes, masked tail ---------- */

#define AVX512 __attribute__((target("avx512f,avx512bw,avx2,fma,popcnt")))

AVX512 static inline __mmask16
tailmask(int left)
{
	return left >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << left) - 1);
}

AVX512 static float
l2sq_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));

		s0 = _mm512_fmadd_ps(d0, d0, s0);
		s1 = _mm512_fmadd_ps(d1, d1, s1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = tailmask(n - i);
		__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));

		s0 = _mm512_fmadd_ps(d, d, s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX512 static float
dot_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = tailmask(n - i);

		s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX512 static float
l1_avx512(const float *a, const float *b, int n)
{
	__m512		s0 = _mm512_setzero_ps(),
				s1 = _mm512_setzero_ps();
	int			i = 0;

	for (; i + 32 <= n; i += 32)
	{
		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i))));
		s1 = _mm512_add_ps(s1, _mm512_abs_ps(_mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16))));
	}
	for (; i < n; i += 16)
	{
		__mmask16	m = tailmask(n - i);

		s0 = _mm512_add_ps(s0, _mm512_abs_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
														   _mm512_maskz_loadu_ps(m, b + i))));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

AVX512 static void
dot_norms_avx512(const float *a, const float *b, int n,
				 float *dot, float *norma, float *normb)
{
	__m512		sd = _mm512_setzero_ps(),
				sa = _mm512_setzero_ps(),
				sb = _mm512_setzero_ps();

	for (int i = 0; i < n; i += 16)
	{
		__mmask16	m = tailmask(n - i);
		__m512		va = _mm512_maskz_loadu_ps(m, a + i);
		__m512		vb = _mm512_maskz_loadu_ps(m, b + i);

		sd = _mm512_fmadd_ps(va, vb, sd);
		sa = _mm512_fmadd_ps(va, va, sa);
		sb = _mm512_fmadd_ps(vb, vb, sb);
	}
	*dot = _mm512_reduce_add_ps(sd);
	*norma = _mm512_reduce_add_ps(sa);
	*normb = _mm512_reduce_add_ps(sb);
}

/* 16 codes widened to floats per step; the tail is scalar (byte masks need AVX512BW). */
AVX512 static void
int8_dot_norm_avx512(const int8_t *c, const float *q, int n, float *dot, float *cc)
{
	__m512		sd = _mm512_setzero_ps(),
				sc = _mm512_setzero_ps();
	int			i = 0;
	float		td = 0,
				tc = 0;

	for (; i + 16 <= n; i += 16)
	{
		__m512		x = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) (c + i))));

		sd = _mm512_fmadd_ps(x, _mm512_loadu_ps(q + i), sd);
		sc = _mm512_fmadd_ps(x, x, sc);
	}
	for (; i < n; i++)
	{
		td += c[i] * q[i];
		tc += c[i] * c[i];
	}
	*dot = _mm512_reduce_add_ps(sd) + td;
	*cc = _mm512_reduce_add_ps(sc) + tc;
}

/*
 * 32 dims a step, codes and query widened to int16; the steps are the
 * outer loop, so each step's query lanes are loaded once for all codes.
 */
AVX512 static void
int8_qdots_avx512(const int8_t *codes, long stride, int count, const int8_t *q, int n,
				  int32_t *dots)
{
	memset(dots, 0, sizeof(int32_t) * count);
	for (int i = 0; i < n; i += 32)
	{
		__mmask64	m = n - i >= 32 ? (__mmask64) 0xFFFFFFFF : (((__mmask64) 1 << (n - i)) - 1);
		__m512i		qq = _mm512_cvtepi8_epi16(_mm512_castsi512_si256(_mm512_maskz_loadu_epi8(m, q + i)));

		for (int k = 0; k < count; k++)
		{
			__m256i		cc = _mm512_castsi512_si256(_mm512_maskz_loadu_epi8(m, codes + k * stride + i));

			dots[k] += _mm512_reduce_add_epi32(_mm512_madd_epi16(_mm512_cvtepi8_epi16(cc), qq));
		}
	}
}

/*
 * Eight bytes of bits are the byte mask of 64 query bytes (offset by 128
 * to unsigned), summed by SAD; the offset comes off per set bit.  As
 * above, the steps are the outer loop.
 */
AVX512 static void
bit_qsums_avx512(const uint8_t *bits, long stride, int count, const int8_t *q, int n,
				 int32_t *sums)
{
	memset(sums, 0, sizeof(int32_t) * count);
	for (int i = 0; i < n; i += 64)
	{
		int			left = n - i;
		__mmask64	lanes = left >= 64 ? ~(__mmask64) 0 : (((__mmask64) 1 << left) - 1);
		__m512i		u = _mm512_xor_si512(_mm512_maskz_loadu_epi8(lanes, q + i),
										 _mm512_set1_epi8((char) 0x80));

		for (int k = 0; k < count; k++)
		{
			const uint8_t *b = bits + k * stride + (i >> 3);
			uint64_t	m = 0;

			if (left >= 64)
				memcpy(&m, b, sizeof(m));
			else
				for (int j = 0; j < (left + 7) / 8; j++)
					m |= (uint64_t) b[j] << (8 * j);
			m &= lanes;
			sums[k] += (int32_t) (_mm512_reduce_add_epi64(_mm512_sad_epu8(_mm512_maskz_mov_epi8(m, u),
																		   _mm512_setzero_si512())) -
								  128 * __builtin_popcountll(m));
		}
	}
}
#endif							/* MRL_X86_DISPATCH */

static const MrlKernels kernels_scalar = {
	"scalar", l2sq_scalar, dot_scalar, l1_scalar, dot_norms_scalar, int8_dot_norm_scalar,
	int8_qdots_scalar, bit_qsums_scalar
};

#ifdef MRL_X86_DISPATCH
static const MrlKernels kernels_avx2 = {
	"avx2", l2sq_avx2, dot_avx2, l1_avx2, dot_norms_avx2, int8_dot_norm_avx2,
	int8_qdots_avx2, bit_qsums_avx2
};
static const MrlKernels kernels_avx512 = {
	"avx512", l2sq_avx512, dot_avx512, l1_avx512, dot_norms_avx512, int8_dot_norm_avx512,
	int8_qdots_avx512, bit_qsums_avx512
};
#endif

MrlKernels	mrl_kernels = {
	"scalar", l2sq_scalar, dot_scalar, l1_scalar, dot_norms_scalar, int8_dot_norm_scalar,
	int8_qdots_scalar, bit_qsums_scalar
};

/*
 * Choose kernels by name if this CPU supports them; returns 0 when it does
 * not (tests use this to compare every variant with the others).
 */
int
MrlKernelsSelect(const char *isa)
{
	if (strcmp(isa, "scalar") == 0)
	{
		mrl_kernels = kernels_scalar;
		return 1;
	}
#ifdef MRL_X86_DISPATCH
	__builtin_cpu_init();
	if (strcmp(isa, "avx2") == 0 &&
		__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
	{
		mrl_kernels = kernels_avx2;
		return 1;
	}
	if (strcmp(isa, "avx512") == 0 && __builtin_cpu_supports("avx512f") &&
		__builtin_cpu_supports("avx512bw"))
	{
		mrl_kernels = kernels_avx512;
		return 1;
	}
#endif
	return 0;
}

/* Pick the best kernels the CPU supports. */
void
MrlKernelsInit(void)
{
	if (!MrlKernelsSelect("avx512") && !MrlKernelsSelect("avx2"))
		MrlKernelsSelect("scalar");
}

/* ---------- double precision, for what float cannot hold ---------- */

/*
 * The float kernels keep ordinary data fast; on extreme finite inputs their
 * sums overflow (elements beyond ~1e19 square past FLT_MAX) or underflow
 * (products below FLT_MIN ~ 1e-38 lose digits, and vanish under 1e-45).
 * Each distance below recomputes in double, where neither can happen for
 * float inputs, when the float result is not finite or is small enough
 * for underflow to matter: each product under FLT_MIN is off by at most
 * 2^-150, so 16,000 of them by under 2^-136, which is below float rounding
 * for any sum from 2^-100 up.  Ordinary data never comes near that, except
 * for exact zeros (a vector and itself, orthogonal vectors), which are
 * recomputed cheaply.
 */
#define FLOAT_SUM_SAFE_MIN 0x1p-100f

/* True when a float sum needs no double-precision recomputation. */
static inline int
FloatSumSafe(float s)
{
	s = fabsf(s);
	return s >= FLOAT_SUM_SAFE_MIN && s <= FLT_MAX;	/* false for NaN */
}

static double
l2sq_double(const float *a, const float *b, int n)
{
	double		s = 0;

	for (int i = 0; i < n; i++)
	{
		double		d = (double) a[i] - b[i];

		s += d * d;
	}
	return s;
}

static double
dot_double(const float *a, const float *b, int n)
{
	double		s = 0;

	for (int i = 0; i < n; i++)
		s += (double) a[i] * b[i];
	return s;
}

static double
l1_double(const float *a, const float *b, int n)
{
	double		s = 0;

	for (int i = 0; i < n; i++)
		s += fabs((double) a[i] - b[i]);
	return s;
}

/* Squared Euclidean distance of the first n elements. */
double
MrlL2SquaredDistance(const float *a, const float *b, int n)
{
	float		s = mrl_kernels.l2sq(a, b, n);

	return FloatSumSafe(s) ? s : l2sq_double(a, b, n);
}

/* Euclidean norm of n floats, summed in double (never overflows). */
double
MrlNorm(const float *x, int n)
{
	double		sum = 0;

	for (int i = 0; i < n; i++)
		sum += (double) x[i] * x[i];
	return sqrt(sum);
}

/* Inner product of the first n elements. */
double
MrlInnerProduct(const float *a, const float *b, int n)
{
	float		s = mrl_kernels.dot(a, b, n);

	return FloatSumSafe(s) ? s : dot_double(a, b, n);
}

/* Manhattan distance of the first n elements (no products: only overflow). */
double
MrlL1Distance(const float *a, const float *b, int n)
{
	float		s = mrl_kernels.l1(a, b, n);

	return s <= FLT_MAX ? s : l1_double(a, b, n);
}

/*
 * Cosine distance of the first n elements, with the similarity clamped to
 * [-1, 1] against rounding.  A zero vector has no direction: the result is
 * NaN, which sorts after every number.  The norms decide the precision:
 * when both are safe in float, the dot product's error is far below them.
 */
double
MrlCosineDistance(const float *a, const float *b, int n)
{
	float		fdot,
				fna,
				fnb;
	double		dot,
				na,
				nb;

	mrl_kernels.dot_norms(a, b, n, &fdot, &fna, &fnb);
	if (FloatSumSafe(fna) && FloatSumSafe(fnb) && fabsf(fdot) <= FLT_MAX)
	{
		dot = fdot;
		na = fna;
		nb = fnb;
	}
	else
	{
		dot = dot_double(a, b, n);
		na = dot_double(a, a, n);
		nb = dot_double(b, b, n);
	}
	return MrlCosineFromSums(dot, na, nb);
}

/* The cosine distance from a dot product and two squared norms. */
double
MrlCosineFromSums(double dot, double na, double nb)
{
	double		sim;

	if (na == 0 || nb == 0)
		return NAN;
	sim = dot / sqrt(na * nb);
	if (sim > 1)
		sim = 1;
	else if (sim < -1)
		sim = -1;
	return 1 - sim;
}
