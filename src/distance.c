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

/* int8_dot_norm's dot for each of count codes, stride bytes apart. */
static void
int8_dots_scalar(const int8_t *codes, long stride, int count, const float *q, int n,
				 float *dots)
{
	for (int k = 0; k < count; k++)
	{
		float		cc;

		int8_dot_norm_scalar(codes + k * stride, q, n, &dots[k], &cc);
	}
}

/* Sum of the q[i] whose bit is set, for each of count bit codes. */
static void
bit_sums_scalar(const uint8_t *bits, long stride, int count, const float *q, int n,
				float *sums)
{
	for (int k = 0; k < count; k++)
	{
		const uint8_t *b = bits + k * stride;
		float		s[8] = {0, 0, 0, 0, 0, 0, 0, 0};

		for (int i = 0; i < n; i++)
			s[i & 7] += ((b[i >> 3] >> (i & 7)) & 1) ? q[i] : 0;
		sums[k] = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
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

AVX2 static void
int8_dots_avx2(const int8_t *codes, long stride, int count, const float *q, int n,
			   float *dots)
{
	for (int k = 0; k < count; k++)
	{
		float		cc;

		int8_dot_norm_avx2(codes + k * stride, q, n, &dots[k], &cc);
	}
}

/* Each byte of bits widened to a lane mask of 8 floats. */
AVX2 static void
bit_sums_avx2(const uint8_t *bits, long stride, int count, const float *q, int n,
			  float *sums)
{
	const __m256i lanebits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);

	for (int k = 0; k < count; k++)
	{
		const uint8_t *b = bits + k * stride;
		__m256		s = _mm256_setzero_ps();
		float		t = 0;
		int			i = 0;

		for (; i + 8 <= n; i += 8)
		{
			__m256i		m = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(b[i >> 3]), lanebits),
											   lanebits);

			s = _mm256_add_ps(s, _mm256_and_ps(_mm256_castsi256_ps(m), _mm256_loadu_ps(q + i)));
		}
		for (; i < n; i++)
			t += ((b[i >> 3] >> (i & 7)) & 1) ? q[i] : 0;
		sums[k] = hsum256(s) + t;
	}
}

/* ---------- AVX-512: 16 lanes, masked tail ---------- */

#define AVX512 __attribute__((target("avx512f,avx2,fma")))

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

/* int8_dot_norm_avx512's dot for each code, without the squared norm. */
AVX512 static void
int8_dots_avx512(const int8_t *codes, long stride, int count, const float *q, int n,
				 float *dots)
{
	for (int k = 0; k < count; k++)
	{
		const int8_t *c = codes + k * stride;
		__m512		sd = _mm512_setzero_ps();
		float		td = 0;
		int			i = 0;

		for (; i + 16 <= n; i += 16)
			sd = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *) (c + i)))),
								 _mm512_loadu_ps(q + i), sd);
		for (; i < n; i++)
			td += c[i] * q[i];
		dots[k] = _mm512_reduce_add_ps(sd) + td;
	}
}

/*
 * Two bytes of bits are the lane mask of a masked add of 16 floats; 32
 * dims a step in two accumulators, then a masked tail.
 */
AVX512 static void
bit_sums_avx512(const uint8_t *bits, long stride, int count, const float *q, int n,
				float *sums)
{
	for (int k = 0; k < count; k++)
	{
		const uint8_t *b = bits + k * stride;
		__m512		s0 = _mm512_setzero_ps(),
					s1 = _mm512_setzero_ps();
		int			i = 0;

		for (; i + 32 <= n; i += 32)
		{
			uint32_t	m;

			memcpy(&m, b + (i >> 3), sizeof(m));
			s0 = _mm512_mask_add_ps(s0, (__mmask16) m, s0, _mm512_loadu_ps(q + i));
			s1 = _mm512_mask_add_ps(s1, (__mmask16) (m >> 16), s1, _mm512_loadu_ps(q + i + 16));
		}
		for (; i < n; i += 16)
		{
			__mmask16	m = b[i >> 3] | (i + 8 < n ? b[(i >> 3) + 1] << 8 : 0);

			m &= tailmask(n - i);
			s0 = _mm512_mask_add_ps(s0, m, s0, _mm512_maskz_loadu_ps(m, q + i));
		}
		sums[k] = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
	}
}
#endif							/* MRL_X86_DISPATCH */

static const MrlKernels kernels_scalar = {
	"scalar", l2sq_scalar, dot_scalar, l1_scalar, dot_norms_scalar, int8_dot_norm_scalar,
	int8_dots_scalar, bit_sums_scalar
};

#ifdef MRL_X86_DISPATCH
static const MrlKernels kernels_avx2 = {
	"avx2", l2sq_avx2, dot_avx2, l1_avx2, dot_norms_avx2, int8_dot_norm_avx2,
	int8_dots_avx2, bit_sums_avx2
};
static const MrlKernels kernels_avx512 = {
	"avx512", l2sq_avx512, dot_avx512, l1_avx512, dot_norms_avx512, int8_dot_norm_avx512,
	int8_dots_avx512, bit_sums_avx512
};
#endif

MrlKernels	mrl_kernels = {
	"scalar", l2sq_scalar, dot_scalar, l1_scalar, dot_norms_scalar, int8_dot_norm_scalar,
	int8_dots_scalar, bit_sums_scalar
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
	if (strcmp(isa, "avx512") == 0 && __builtin_cpu_supports("avx512f"))
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
