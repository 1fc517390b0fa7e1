/*
 * test_safetensors.c: the safetensors reader against files written by
 * gguf_tools.py (argv[1] = make_fixtures.py directory): a round trip of
 * F32/F16/BF16/I64/0-D/empty tensors, a sharded index, the bad files of
 * st_bad/, every truncation and random header corruptions.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"
#include "safetensors.h"
#include "tap.h"

static int
try_open(const char *path, char *err, size_t errlen)
{
	mrl_safetensors *st = mrl_st_open(path, err, errlen);

	mrl_st_close(st);
	return st != NULL;
}

/* Tensor name has the given dtype and shape (n_dims values). */
static int
has_shape(const mrl_safetensors *st, const char *name, const char *dtype, int n_dims,
		  const uint64_t *shape)
{
	const mrl_st_tensor *t = mrl_st_find(st, name);

	return t && strcmp(t->dtype, dtype) == 0 && t->n_dims == n_dims &&
		memcmp(t->shape, shape, n_dims * sizeof(uint64_t)) == 0;
}

/* The float tensors a, h, b equal the numpy reference, in that order. */
static void
check_values(const mrl_safetensors *st, const char *fixtures)
{
	static const char *const names[] = {"a", "h", "b"};
	char		path[4096];
	size_t		n,
				off = 0,
				i;
	float	   *exp = NULL,
			   *got;
	const mrl_st_tensor *t;

	snprintf(path, sizeof(path), "%s/roundtrip.safetensors.expect_f32", fixtures);
	exp = tap_slurp(path, &n);
	for (i = 0; exp && i < 3; i++)
	{
		t = mrl_st_find(st, names[i]);
		got = malloc(t->numel * sizeof(float));
		ok(mrl_dequantize(mrl_st_dtype_ggml(t->dtype), t->data, got, t->numel) == 0 &&
		   (off + t->numel) * sizeof(float) <= n &&
		   memcmp(got, exp + off, t->numel * sizeof(float)) == 0,
		   "tensor %s (%s) values match numpy", t->name, t->dtype);
		off += t->numel;
		free(got);
	}
	ok(exp && off * sizeof(float) == n, "all expected values consumed");
	free(exp);
}

/* Every proper prefix is refused (the data must end exactly at EOF). */
static void
check_truncations(const uint8_t *img, size_t size)
{
	size_t		len,
				bad = 0;
	char		err[512];
	uint8_t    *copy;
	mrl_safetensors *st;

	for (len = 0; len < size; len++)
	{
		copy = malloc(len ? len : 1);
		memcpy(copy, img, len);
		err[0] = '\0';
		st = mrl_st_open_buffer(copy, len, err, sizeof(err));
		bad += st != NULL || err[0] == '\0';
		mrl_st_close(st);
		free(copy);
	}
	ok(bad == 0, "all %zu truncations refused with a message", size);
}

/* Random corruptions of the header: refused or consistent. */
static void
check_corruptions(const uint8_t *img, size_t size)
{
	uint64_t	hlen = 0;
	uint8_t    *copy = malloc(size);
	char		err[512];
	int			round,
				opened = 0,
				bad = 0,
				i;
	size_t		j,
				covered;
	mrl_safetensors *st;

	memcpy(&hlen, img, 8);
	srand(777);
	for (round = 0; round < 3000; round++)
	{
		memcpy(copy, img, size);
		for (i = 0; i < 1 + rand() % 3; i++)
			copy[8 + rand() % hlen] = (uint8_t) (rand() % 2 ? rand() : "{}[]\",:0123456789 "[rand() % 19]);
		st = mrl_st_open_buffer(copy, size, err, sizeof(err));
		if (st == NULL)
			continue;
		opened++;
		covered = 0;
		for (j = 0; j < st->n_tensors; j++)
		{
			covered += st->tensors[j].nbytes;
			if (st->tensors[j].data < copy + 8 || st->tensors[j].data + st->tensors[j].nbytes > copy + size)
				bad++;
		}
		if (covered + 8 + hlen > size)
			bad++;
		mrl_st_close(st);
	}
	ok(bad == 0, "3000 header corruptions: %d still valid, all in bounds", opened);
	free(copy);
}

int
main(int argc, char **argv)
{
	char		path[4096],
				err[512];
	mrl_safetensors *st;
	mrl_st_set *set;
	uint8_t    *img;
	size_t		size;
	int			fi = -1;
	int64_t		id5;
	const uint64_t sa[] = {3, 5},
				sh[] = {4},
				sb[] = {2, 2, 2},
				sp[] = {6},
				se[] = {0, 4};

	if (argc < 2)
		return 2;
	snprintf(path, sizeof(path), "%s/roundtrip.safetensors", argv[1]);
	st = mrl_st_open(path, err, sizeof(err));
	if (!ok(st != NULL, "roundtrip.safetensors opens (%s)", st ? "" : err))
		return tap_done();
	ok(st->n_tensors == 6, "6 tensors, __metadata__ ignored");
	ok(has_shape(st, "a", "F32", 2, sa) && has_shape(st, "h", "F16", 1, sh) &&
	   has_shape(st, "b", "BF16", 3, sb) && has_shape(st, "position_ids", "I64", 1, sp),
	   "dtypes and shapes");
	ok(has_shape(st, "scalar", "F32", 0, sa) && mrl_st_find(st, "scalar")->numel == 1 &&
	   *(const float *) mrl_st_find(st, "scalar")->data == 2.5f, "0-D tensor = 2.5");
	ok(has_shape(st, "empty", "F32", 2, se) && mrl_st_find(st, "empty")->nbytes == 0,
	   "empty [0, 4] tensor");
	ok(mrl_st_dtype_ggml("I64") == -1 && mrl_st_dtype_ggml("BF16") == MRL_TYPE_BF16,
	   "only float dtypes convert");
	memcpy(&id5, mrl_st_find(st, "position_ids")->data + 5 * sizeof(int64_t), sizeof(id5));
	ok(id5 == 5, "I64 data readable (unaligned: this writer does not pad)");
	check_values(st, argv[1]);
	mrl_st_close(st);

	img = tap_slurp(path, &size);
	check_truncations(img, size);
	check_corruptions(img, size);
	free(img);

	snprintf(path, sizeof(path), "%s/models/bert_hf_sharded/model.safetensors.index.json", argv[1]);
	set = mrl_st_set_open(path, err, sizeof(err));
	ok(set && set->n_files == 2 &&
	   mrl_st_set_find(set, "encoder.layer.1.output.dense.bias", &fi) && fi >= 0 &&
	   mrl_st_set_find(set, "embeddings.word_embeddings.weight", NULL) &&
	   !mrl_st_set_find(set, "nope", NULL), "sharded index: 2 files, lookups across shards (%s)",
	   set ? "" : err);
	mrl_st_set_close(set);

	snprintf(path, sizeof(path), "%s/st_bad", argv[1]);
	tap_bad_dir(path, try_open);
	return tap_done();
}
