/*
 * gguf.h: a validating reader for GGUF v2/v3 little-endian files.
 *
 * The file is mapped read-only; opening it checks the whole header (every
 * metadata value, every tensor info, alignment, that all tensor data lies
 * inside the file, no duplicate keys or names, supported tensor types) so
 * the accessors below never read outside the mapping.  Strings point into
 * the mapping and are NOT NUL-terminated.
 *
 * Layout (the GGUF specification, docs/gguf.md in
 * https://github.com/ggml-org/ggml): "GGUF", uint32 version, uint64 tensor
 * count, uint64 key-value count; the key-value pairs (string key, uint32
 * value type, value; an array is an element type, a uint64 count and the
 * elements; a string is a uint64 length and its bytes); the tensor infos
 * (string name, uint32 n_dims, uint64 ne[n_dims], uint32 ggml type, uint64
 * offset into the data); padding to general.alignment (default 32); the
 * tensor data.  All little-endian.
 */
#ifndef MRL_GGUF_H
#define MRL_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "mapfile.h"

/* metadata value types (gguf_type) */
typedef enum mrl_gguf_vtype
{
	MRL_GGUF_UINT8 = 0,
	MRL_GGUF_INT8 = 1,
	MRL_GGUF_UINT16 = 2,
	MRL_GGUF_INT16 = 3,
	MRL_GGUF_UINT32 = 4,
	MRL_GGUF_INT32 = 5,
	MRL_GGUF_FLOAT32 = 6,
	MRL_GGUF_BOOL = 7,
	MRL_GGUF_STRING = 8,
	MRL_GGUF_ARRAY = 9,
	MRL_GGUF_UINT64 = 10,
	MRL_GGUF_INT64 = 11,
	MRL_GGUF_FLOAT64 = 12
} mrl_gguf_vtype;

#define MRL_GGUF_MAX_DIMS 4
#define MRL_GGUF_DEFAULT_ALIGNMENT 32

/* a length-counted string inside the mapping */
typedef struct mrl_gguf_str
{
	const char *ptr;
	uint64_t	len;
} mrl_gguf_str;

typedef struct mrl_gguf_kv
{
	mrl_gguf_str key;
	uint32_t	type;			/* mrl_gguf_vtype */
	uint32_t	arr_type;		/* ARRAY: element type */
	uint64_t	arr_count;		/* ARRAY: number of elements */
	const uint8_t *value;		/* the value's bytes (ARRAY: first element) */
	size_t		value_size;		/* bytes from value to the end of the value */
} mrl_gguf_kv;

typedef struct mrl_gguf_tensor
{
	mrl_gguf_str name;
	uint32_t	n_dims;
	uint64_t	ne[MRL_GGUF_MAX_DIMS];	/* ggml order: ne[0] is contiguous;
										 * unused dims are 1 */
	uint32_t	type;			/* mrl_ggml_type, always supported */
	uint64_t	n_elems;
	uint64_t	offset;			/* from the start of the file */
	size_t		nbytes;
	const void *data;			/* inside the mapping */
} mrl_gguf_tensor;

typedef struct mrl_gguf
{
	const uint8_t *base;		/* the whole file */
	size_t		size;
	mrl_mapping map;			/* set when opened from a file */
	uint32_t	version;
	uint32_t	alignment;
	uint64_t	data_offset;	/* start of the tensor data section */
	uint64_t	n_kv;
	mrl_gguf_kv *kv;
	uint64_t	n_tensors;
	mrl_gguf_tensor *tensors;
} mrl_gguf;

/* Map and validate a file; NULL with a message in err on any problem. */
extern mrl_gguf *mrl_gguf_open(const char *path, char *err, size_t errlen);

/* Validate an in-memory image (which must outlive the result). */
extern mrl_gguf *mrl_gguf_open_buffer(const void *buf, size_t size,
									  char *err, size_t errlen);

extern void mrl_gguf_close(mrl_gguf *g);

/* Lookups by NUL-terminated name; NULL when absent. */
extern const mrl_gguf_kv *mrl_gguf_find_kv(const mrl_gguf *g, const char *key);
extern const mrl_gguf_tensor *mrl_gguf_find_tensor(const mrl_gguf *g,
												   const char *name);

/*
 * Typed getters: 1 = found and stored in *out, 0 = key absent, -1 = present
 * with an incompatible type or value.  get_int accepts every integer type
 * (and bool); get_float accepts FLOAT32 and FLOAT64.
 */
extern int	mrl_gguf_get_int(const mrl_gguf *g, const char *key, int64_t *out);
extern int	mrl_gguf_get_float(const mrl_gguf *g, const char *key, double *out);
extern int	mrl_gguf_get_bool(const mrl_gguf *g, const char *key, int *out);
extern int	mrl_gguf_get_string(const mrl_gguf *g, const char *key,
								mrl_gguf_str *out);

/* Elements of an ARRAY value (index < arr_count); same return codes. */
extern int	mrl_gguf_array_int(const mrl_gguf_kv *kv, uint64_t i, int64_t *out);
extern int	mrl_gguf_array_float(const mrl_gguf_kv *kv, uint64_t i, double *out);

/*
 * All strings of an array of STRING: out must have kv->arr_count entries.
 * Returns 1, or -1 if kv is not an array of strings.
 */
extern int	mrl_gguf_array_strings(const mrl_gguf_kv *kv, mrl_gguf_str *out);

/* Compare a length-counted string with a C string. */
extern int	mrl_gguf_str_eq(mrl_gguf_str s, const char *c);

/* Byte size of one scalar value type (0 for STRING/ARRAY/unknown). */
extern size_t mrl_gguf_scalar_size(uint32_t vtype);

#endif							/* MRL_GGUF_H */
