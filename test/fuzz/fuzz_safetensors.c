/*
 * fuzz_safetensors.c: libFuzzer target for the safetensors reader.  Any
 * input must be refused with a message, or give tensors that lie inside
 * the buffer, tile it exactly, and convert (float dtypes) without error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"
#include "safetensors.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		err[512];
	uint8_t    *copy = malloc(size ? size : 1);
	mrl_safetensors *st;
	size_t		i,
				total = 0;
	float	   *out;
	int			type;

	memcpy(copy, data, size);
	err[0] = '\0';
	st = mrl_st_open_buffer(copy, size, err, sizeof(err));
	if (st == NULL)
	{
		if (err[0] == '\0')
			abort();
		free(copy);
		return 0;
	}
	for (i = 0; i < st->n_tensors; i++)
	{
		const mrl_st_tensor *t = &st->tensors[i];

		if (t->data < copy || t->data + t->nbytes > copy + size || mrl_st_find(st, t->name) == NULL)
			abort();
		total += t->nbytes;
		type = mrl_st_dtype_ggml(t->dtype);
		if (type < 0 || t->numel > (1u << 22))
			continue;
		out = malloc(t->numel * sizeof(float) + 1);
		if (out && mrl_dequantize((uint32_t) type, t->data, out, t->numel) != 0)
			abort();
		free(out);
	}
	if (size < 8 || total > size - 8)
		abort();
	mrl_st_close(st);
	free(copy);
	return 0;
}
