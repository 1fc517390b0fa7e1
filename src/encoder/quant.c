/*
 * quant.c: ggml element types and dequantisation to float32.
 *
 * Block layouts follow ggml's block_* structs (src/ggml-common.h in
 * https://github.com/ggml-org/ggml).
 * Blocks start with 2-byte fields and are not aligned, so every multi-byte
 * field is read byte by byte (little-endian).  The arithmetic is done in
 * float32 in the same order as ggml's dequantize_row_* so results are
 * bit-identical to it.
 */
#include "quant.h"

#include <math.h>
#include <string.h>

#define QK 32					/* elements per block of the legacy types */
#define QK_K 256				/* elements per super-block of the K types */

/* ggml_type names by id; NULL marks ids that were never assigned */
static const char *const type_names[] = {
	"F32", "F16", "Q4_0", "Q4_1", "Q4_2 (removed)", "Q4_3 (removed)",
	"Q5_0", "Q5_1", "Q8_0", "Q8_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K",
	"Q8_K", "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S", "IQ4_NL", "IQ3_S",
	"IQ2_S", "IQ4_XS", "I8", "I16", "I32", "I64", "F64", "IQ1_M", "BF16",
	"Q4_0_4_4 (removed)", "Q4_0_4_8 (removed)", "Q4_0_8_8 (removed)",
	"TQ1_0", "TQ2_0", "IQ4_NL_4_4 (removed)", "IQ4_NL_4_8 (removed)",
	"IQ4_NL_8_8 (removed)", "MXFP4", "NVFP4", "Q1_0", "Q2_0"
};

#define N_TYPE_NAMES (sizeof(type_names) / sizeof(type_names[0]))

/* Name of a ggml type id, or NULL for an id this code does not know. */
const char *
mrl_ggml_type_name(uint32_t type)
{
	return type < N_TYPE_NAMES ? type_names[type] : NULL;
}

/* Block geometry of the supported types; {0, 0} for the others. */
static void
block_geometry(uint32_t type, size_t *elems, size_t *bytes)
{
	*elems = 0;
	*bytes = 0;
	switch (type)
	{
		case MRL_TYPE_F32:
			*elems = 1, *bytes = 4;
			break;
		case MRL_TYPE_F16:
		case MRL_TYPE_BF16:
			*elems = 1, *bytes = 2;
			break;
		case MRL_TYPE_Q4_0:
			*elems = QK, *bytes = 2 + QK / 2;
			break;
		case MRL_TYPE_Q4_1:
			*elems = QK, *bytes = 4 + QK / 2;
			break;
		case MRL_TYPE_Q5_0:
			*elems = QK, *bytes = 2 + 4 + QK / 2;
			break;
		case MRL_TYPE_Q5_1:
			*elems = QK, *bytes = 4 + 4 + QK / 2;
			break;
		case MRL_TYPE_Q8_0:
			*elems = QK, *bytes = 2 + QK;
			break;
		case MRL_TYPE_Q4_K:
			*elems = QK_K, *bytes = 4 + 12 + QK_K / 2;
			break;
		case MRL_TYPE_Q5_K:
			*elems = QK_K, *bytes = 4 + 12 + QK_K / 8 + QK_K / 2;
			break;
		case MRL_TYPE_Q6_K:
			*elems = QK_K, *bytes = QK_K / 2 + QK_K / 4 + QK_K / 16 + 2;
			break;
		default:
			break;
	}
}

int
mrl_ggml_type_supported(uint32_t type)
{
	return mrl_ggml_block_elems(type) != 0;
}

size_t
mrl_ggml_block_elems(uint32_t type)
{
	size_t		e,
				b;

	block_geometry(type, &e, &b);
	return e;
}

size_t
mrl_ggml_block_bytes(uint32_t type)
{
	size_t		e,
				b;

	block_geometry(type, &e, &b);
	return b;
}

/* Byte size of n elements; *ok = 0 on a partial block or overflow. */
size_t
mrl_ggml_nbytes(uint32_t type, uint64_t n, int *ok)
{
	size_t		e,
				b;
	uint64_t	blocks;

	block_geometry(type, &e, &b);
	*ok = 0;
	if (e == 0 || n % e != 0)
		return 0;
	blocks = n / e;
	if (blocks > SIZE_MAX / b)
		return 0;
	*ok = 1;
	return (size_t) (blocks * b);
}

/* Little-endian 16-bit load from an unaligned address. */
static inline uint16_t
load_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

/* IEEE binary16 to binary32: every half value is exactly representable. */
float
mrl_fp16_to_f32(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h >> 15) << 31;
	uint32_t	exp = (h >> 10) & 0x1f;
	uint32_t	mant = h & 0x3ff;
	uint32_t	bits;
	float		f;

	if (exp == 0x1f)			/* infinity or NaN (payload kept) */
		bits = sign | 0x7f800000u | (mant << 13);
	else if (exp != 0)			/* normal: rebias 15 -> 127 */
		bits = sign | ((exp + 112) << 23) | (mant << 13);
	else if (mant == 0)			/* signed zero */
		bits = sign;
	else
	{
		/* subnormal half = mant * 2^-24, a normal float */
		f = (float) mant * 0x1p-24f;
		return sign ? -f : f;
	}
	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* bfloat16 is the upper half of a binary32. */
float
mrl_bf16_to_f32(uint16_t h)
{
	uint32_t	bits = (uint32_t) h << 16;
	float		f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* Q4_0 block {f16 d; u8 qs[16]}: low nibbles are elements 0..15. */
static void
dequant_q4_0(const uint8_t *b, float *y)
{
	float		d = mrl_fp16_to_f32(load_u16(b));
	const uint8_t *qs = b + 2;
	int			j;

	for (j = 0; j < QK / 2; j++)
	{
		y[j] = ((qs[j] & 0x0F) - 8) * d;
		y[j + QK / 2] = ((qs[j] >> 4) - 8) * d;
	}
}

/* Q4_1 block {f16 d; f16 m; u8 qs[16]}: y = q * d + m. */
static void
dequant_q4_1(const uint8_t *b, float *y)
{
	float		d = mrl_fp16_to_f32(load_u16(b));
	float		m = mrl_fp16_to_f32(load_u16(b + 2));
	const uint8_t *qs = b + 4;
	int			j;

	for (j = 0; j < QK / 2; j++)
	{
		y[j] = (qs[j] & 0x0F) * d + m;
		y[j + QK / 2] = (qs[j] >> 4) * d + m;
	}
}

/*
 * The fifth bit of the 5-bit types: bit j of the 32-bit qh word belongs to
 * element j (elements 0..15 from low nibbles, 16..31 from high nibbles).
 */
static inline int
fifth_bit(uint32_t qh, int j)
{
	return ((qh >> j) & 1) << 4;
}

static inline uint32_t
load_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

/* Q5_0 block {f16 d; u8 qh[4]; u8 qs[16]}: y = (q - 16) * d. */
static void
dequant_q5_0(const uint8_t *b, float *y)
{
	float		d = mrl_fp16_to_f32(load_u16(b));
	uint32_t	qh = load_u32(b + 2);
	const uint8_t *qs = b + 6;
	int			j;

	for (j = 0; j < QK / 2; j++)
	{
		y[j] = (((qs[j] & 0x0F) | fifth_bit(qh, j)) - 16) * d;
		y[j + QK / 2] = (((qs[j] >> 4) | fifth_bit(qh, j + QK / 2)) - 16) * d;
	}
}

/* Q5_1 block {f16 d; f16 m; u8 qh[4]; u8 qs[16]}: y = q * d + m. */
static void
dequant_q5_1(const uint8_t *b, float *y)
{
	float		d = mrl_fp16_to_f32(load_u16(b));
	float		m = mrl_fp16_to_f32(load_u16(b + 2));
	uint32_t	qh = load_u32(b + 4);
	const uint8_t *qs = b + 8;
	int			j;

	for (j = 0; j < QK / 2; j++)
	{
		y[j] = ((qs[j] & 0x0F) | fifth_bit(qh, j)) * d + m;
		y[j + QK / 2] = ((qs[j] >> 4) | fifth_bit(qh, j + QK / 2)) * d + m;
	}
}

/* Q8_0 block {f16 d; i8 qs[32]}: y = q * d. */
static void
dequant_q8_0(const uint8_t *b, float *y)
{
	float		d = mrl_fp16_to_f32(load_u16(b));
	const int8_t *qs = (const int8_t *) (b + 2);
	int			j;

	for (j = 0; j < QK; j++)
		y[j] = qs[j] * d;
}

/*
 * The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block, packed
 * in 12 bytes: sub-blocks 0..3 use the low 6 bits of bytes 0..3 (scales) and
 * 4..7 (mins); sub-blocks 4..7 put their low 4 bits in bytes 8..11 and their
 * top 2 bits in the spare top bits of bytes 0..7.
 */
static void
scale_min_k4(int j, const uint8_t *q, uint8_t *sc, uint8_t *m)
{
	if (j < 4)
	{
		*sc = q[j] & 63;
		*m = q[j + 4] & 63;
	}
	else
	{
		*sc = (q[j + 4] & 0x0F) | ((q[j - 4] >> 6) << 4);
		*m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
	}
}

/*
 * Q4_K and Q5_K super-blocks {f16 d; f16 dmin; u8 scales[12]; [u8 qh[32];]
 * u8 qs[128]}: each 64-element chunk takes 32 bytes of qs (low nibbles
 * first), y = d * scale * q - dmin * min.  qh (Q5_K only, else NULL) gives
 * the fifth bit: bit 2c of qh[l] for element l of chunk c's low half, bit
 * 2c+1 for its high half.
 */
static void
dequant_k4_k5(const uint8_t *scales, float d, float dmin, const uint8_t *qh,
			  const uint8_t *qs, float *y)
{
	int			chunk,
				l;
	uint8_t		sc,
				m;

	for (chunk = 0; chunk < QK_K / 64; chunk++)
	{
		float		d1,
					m1,
					d2,
					m2;
		int			lo_bit = 2 * chunk,
					hi_bit = 2 * chunk + 1;

		scale_min_k4(2 * chunk, scales, &sc, &m);
		d1 = d * sc;
		m1 = dmin * m;
		scale_min_k4(2 * chunk + 1, scales, &sc, &m);
		d2 = d * sc;
		m2 = dmin * m;
		for (l = 0; l < 32; l++)
		{
			int			q = qs[l] & 0x0F;

			if (qh)
				q += ((qh[l] >> lo_bit) & 1) << 4;
			*y++ = d1 * q - m1;
		}
		for (l = 0; l < 32; l++)
		{
			int			q = qs[l] >> 4;

			if (qh)
				q += ((qh[l] >> hi_bit) & 1) << 4;
			*y++ = d2 * q - m2;
		}
		qs += 32;
	}
}

static void
dequant_q4_k(const uint8_t *b, float *y)
{
	dequant_k4_k5(b + 4, mrl_fp16_to_f32(load_u16(b)),
				  mrl_fp16_to_f32(load_u16(b + 2)), NULL, b + 16, y);
}

static void
dequant_q5_k(const uint8_t *b, float *y)
{
	dequant_k4_k5(b + 4, mrl_fp16_to_f32(load_u16(b)),
				  mrl_fp16_to_f32(load_u16(b + 2)), b + 16, b + 48, y);
}

/*
 * Q6_K super-block {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}: per
 * 128-element half (64 bytes of ql, 32 of qh), element l + 32k (k = 0..3,
 * l = 0..31) takes its low 4 bits from ql[l + 32(k & 1)] (low nibble for
 * k < 2, high nibble for k >= 2), its top 2 bits from bits 2k..2k+1 of
 * qh[l], and the scale of its 16-element group; y = d * scale * (q - 32).
 */
static void
dequant_q6_k(const uint8_t *b, float *y)
{
	const uint8_t *ql = b;
	const uint8_t *qh = b + QK_K / 2;
	const int8_t *sc = (const int8_t *) (b + QK_K / 2 + QK_K / 4);
	float		d = mrl_fp16_to_f32(load_u16(b + QK_K / 2 + QK_K / 4 + QK_K / 16));
	int			half,
				l;

	for (half = 0; half < 2; half++)
	{
		for (l = 0; l < 32; l++)
		{
			int			is = l / 16;
			int			q1 = ((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
			int			q2 = ((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
			int			q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
			int			q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;

			y[l] = d * sc[is] * q1;
			y[l + 32] = d * sc[is + 2] * q2;
			y[l + 64] = d * sc[is + 4] * q3;
			y[l + 96] = d * sc[is + 6] * q4;
		}
		y += 128;
		ql += 64;
		qh += 32;
		sc += 8;
	}
}

/* Convert n elements of a supported type to float32. */
int
mrl_dequantize(uint32_t type, const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t		be,
				bb,
				i;
	void		(*block_fn) (const uint8_t *, float *) = NULL;

	block_geometry(type, &be, &bb);
	if (be == 0 || n % be != 0)
		return -1;
	switch (type)
	{
		case MRL_TYPE_F32:
			memcpy(dst, src, n * sizeof(float));
			return 0;
		case MRL_TYPE_F16:
			for (i = 0; i < n; i++)
				dst[i] = mrl_fp16_to_f32(load_u16(p + 2 * i));
			return 0;
		case MRL_TYPE_BF16:
			for (i = 0; i < n; i++)
				dst[i] = mrl_bf16_to_f32(load_u16(p + 2 * i));
			return 0;
		case MRL_TYPE_Q4_0:
			block_fn = dequant_q4_0;
			break;
		case MRL_TYPE_Q4_1:
			block_fn = dequant_q4_1;
			break;
		case MRL_TYPE_Q5_0:
			block_fn = dequant_q5_0;
			break;
		case MRL_TYPE_Q5_1:
			block_fn = dequant_q5_1;
			break;
		case MRL_TYPE_Q8_0:
			block_fn = dequant_q8_0;
			break;
		case MRL_TYPE_Q4_K:
			block_fn = dequant_q4_k;
			break;
		case MRL_TYPE_Q5_K:
			block_fn = dequant_q5_k;
			break;
		case MRL_TYPE_Q6_K:
			block_fn = dequant_q6_k;
			break;
		default:
			return -1;
	}
	for (i = 0; i < n / be; i++)
		block_fn(p + i * bb, dst + i * be);
	return 0;
}
