/*
 * quant.h: ggml tensor element types (the type ids stored in GGUF files)
 * and their conversion to float32.
 *
 * Supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K.
 * Every other type is known by name only, so that errors can say which
 * type a file uses.  Block layouts are ggml's block_* structs (ggml-common.h
 * in https://github.com/ggml-org/ggml); the type ids are its enum ggml_type.
 */
#ifndef MRL_QUANT_H
#define MRL_QUANT_H

#include <stddef.h>
#include <stdint.h>

/* ggml_type ids as stored in GGUF files (part of the file format) */
typedef enum mrl_ggml_type
{
	MRL_TYPE_F32 = 0,
	MRL_TYPE_F16 = 1,
	MRL_TYPE_Q4_0 = 2,
	MRL_TYPE_Q4_1 = 3,
	MRL_TYPE_Q5_0 = 6,
	MRL_TYPE_Q5_1 = 7,
	MRL_TYPE_Q8_0 = 8,
	MRL_TYPE_Q4_K = 12,
	MRL_TYPE_Q5_K = 13,
	MRL_TYPE_Q6_K = 14,
	MRL_TYPE_BF16 = 30
} mrl_ggml_type;

/* Name of a ggml type id ("Q4_K", "IQ2_XXS", ...) or NULL if unknown. */
extern const char *mrl_ggml_type_name(uint32_t type);

/* Non-zero if mrl_dequantize() handles this type. */
extern int	mrl_ggml_type_supported(uint32_t type);

/* Elements per block and bytes per block of a supported type (0 if not). */
extern size_t mrl_ggml_block_elems(uint32_t type);
extern size_t mrl_ggml_block_bytes(uint32_t type);

/*
 * Bytes needed for n elements of a supported type; returns 0 and sets *ok
 * to 0 when n is not a multiple of the block size or the size overflows.
 */
extern size_t mrl_ggml_nbytes(uint32_t type, uint64_t n, int *ok);

/*
 * Convert n elements (a multiple of the block size) of a supported type
 * from src (any alignment) to float32 dst.  Returns 0, or -1 for an
 * unsupported type or a bad n.
 */
extern int	mrl_dequantize(uint32_t type, const void *src, float *dst, size_t n);

/* IEEE binary16 and bfloat16 bit patterns to float32 (exact). */
extern float mrl_fp16_to_f32(uint16_t h);
extern float mrl_bf16_to_f32(uint16_t h);

#endif							/* MRL_QUANT_H */
