/*
 * safetensors.h: a validating safetensors reader, single files and sharded
 * checkpoints (model.safetensors.index.json).
 *
 * The format (https://github.com/huggingface/safetensors#format): a uint64
 * little-endian header size N, N bytes of JSON mapping every tensor name to
 * {"dtype", "shape", "data_offsets": [begin, end]} (byte offsets into the
 * data buffer; an optional "__metadata__" entry is a string map), then the
 * data buffer.
 *
 * Opening checks the whole header: JSON syntax, every entry's dtype, shape
 * and data_offsets, that shape x dtype matches the byte range, and that the
 * ranges tile the data buffer exactly (no overlap, no hole, nothing past the
 * end).  Tensors of any dtype are accepted here (checkpoints carry int64
 * buffers such as position_ids); mrl_st_dtype_ggml() says which ones can be
 * converted to float32.
 */
#ifndef MRL_SAFETENSORS_H
#define MRL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "mapfile.h"

#define MRL_ST_MAX_DIMS 8
#define MRL_ST_MAX_HEADER 100000000	/* the safetensors crate's
									 * MAX_HEADER_SIZE */

typedef struct mrl_st_tensor
{
	char	   *name;
	char		dtype[16];		/* "F32", "BF16", "I64", ... */
	int			n_dims;
	uint64_t	shape[MRL_ST_MAX_DIMS]; /* row-major, shape[n_dims-1] contiguous */
	uint64_t	numel;
	const uint8_t *data;
	size_t		nbytes;
} mrl_st_tensor;

typedef struct mrl_safetensors
{
	mrl_mapping map;			/* set when opened from a file */
	const uint8_t *base;
	size_t		size;
	size_t		n_tensors;
	mrl_st_tensor *tensors;
} mrl_safetensors;

/* a checkpoint: one file, or the shards listed by an index */
typedef struct mrl_st_set
{
	int			n_files;
	mrl_safetensors **files;
	char	  **paths;
} mrl_st_set;

extern mrl_safetensors *mrl_st_open(const char *path, char *err, size_t errlen);
extern mrl_safetensors *mrl_st_open_buffer(const void *buf, size_t size,
										   char *err, size_t errlen);
extern void mrl_st_close(mrl_safetensors *st);
extern const mrl_st_tensor *mrl_st_find(const mrl_safetensors *st, const char *name);

/* ggml type id for a float dtype (F32, F16, BF16), or -1. */
extern int	mrl_st_dtype_ggml(const char *dtype);

/*
 * Open a checkpoint: a .safetensors file, or a model.safetensors.index.json
 * whose weight_map names shard files in the same directory.
 */
extern mrl_st_set *mrl_st_set_open(const char *path, char *err, size_t errlen);
extern void mrl_st_set_close(mrl_st_set *set);

/* Find a tensor in any file of the set; *file_index (if given) says which. */
extern const mrl_st_tensor *mrl_st_set_find(const mrl_st_set *set, const char *name,
											int *file_index);

/*
 * Writing: the header of a file holding one F32 tensor name [rows][cols]
 * (the 8-byte length, then the JSON with a {"format": "pt"} metadata entry,
 * as PyTorch's save_file writes it, padded with spaces so that the data,
 * written right after it, is 8-byte aligned) into buf.  Returns its length,
 * or 0 if it does not fit in cap bytes.
 */
extern size_t mrl_st_header_f32(const char *name, uint64_t rows, uint64_t cols,
								uint8_t *buf, size_t cap);

#endif							/* MRL_SAFETENSORS_H */
