/*
 * fuzz_gguf.c: libFuzzer target for the GGUF reader.  Any input must be
 * refused with a message or give a structure whose every value and tensor
 * can be read without leaving the buffer (checked by ASan).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "quant.h"

/* Read every metadata value through the public accessors. */
static void
read_metadata(const mrl_gguf *g)
{
	uint64_t	i,
				j;
	int64_t		iv;
	double		fv;
	mrl_gguf_str *strs;

	for (i = 0; i < g->n_kv; i++)
	{
		const mrl_gguf_kv *kv = &g->kv[i];
		char		key[80];

		snprintf(key, sizeof(key), "%.*s", (int) (kv->key.len < 79 ? kv->key.len : 79), kv->key.ptr);
		mrl_gguf_get_int(g, key, &iv);
		mrl_gguf_get_float(g, key, &fv);
		if (kv->type != MRL_GGUF_ARRAY)
			continue;
		for (j = 0; j < kv->arr_count && j < 64; j++)
		{
			mrl_gguf_array_int(kv, j, &iv);
			mrl_gguf_array_float(kv, j, &fv);
		}
		if (kv->arr_type == MRL_GGUF_STRING && (strs = malloc((kv->arr_count + 1) * sizeof(*strs))))
		{
			mrl_gguf_array_strings(kv, strs);
			for (j = 0; j < kv->arr_count; j++)
				if (strs[j].len && (strs[j].ptr[0] == 0x7f || strs[j].ptr[strs[j].len - 1] == 0x7f))
					iv++;		/* touch both ends of every string */
			free(strs);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		err[512];
	uint8_t    *copy = malloc(size ? size : 1);
	mrl_gguf   *g;
	uint64_t	i;
	float	   *out;

	memcpy(copy, data, size);	/* an exact-size heap copy, so ASan sees over-reads */
	g = mrl_gguf_open_buffer(copy, size, err, sizeof(err));
	if (g == NULL)
	{
		if (err[0] == '\0')
			abort();			/* every refusal must say why */
		free(copy);
		return 0;
	}
	read_metadata(g);
	for (i = 0; i < g->n_tensors; i++)
	{
		const mrl_gguf_tensor *t = &g->tensors[i];

		if (t->n_elems > (1u << 22))
			continue;
		out = malloc(t->n_elems * sizeof(float) + 1);
		if (out && mrl_dequantize(t->type, t->data, out, t->n_elems) != 0)
			abort();			/* validated tensors must always convert */
		free(out);
	}
	mrl_gguf_close(g);
	free(copy);
	return 0;
}
