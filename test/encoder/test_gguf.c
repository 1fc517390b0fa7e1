/*
 * test_gguf.c: the GGUF reader against files written by gguf_tools.py.
 * argv[1] is the fixture directory of make_fixtures.py: a round trip of
 * every metadata type and tensor type, the bad files of gguf_bad/, every
 * truncation of a good file and random corruptions of its header.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "quant.h"
#include "tap.h"

static const char *fixtures;

static int
try_open(const char *path, char *err, size_t errlen)
{
	mrl_gguf   *g = mrl_gguf_open(path, err, errlen);

	mrl_gguf_close(g);
	return g != NULL;
}

/* Metadata of roundtrip.gguf: the values make_fixtures.py wrote. */
static void
check_metadata(const mrl_gguf *g)
{
	int64_t		i;
	double		f;
	int			b;
	mrl_gguf_str s,
				strs[3];
	const mrl_gguf_kv *kv;

	ok(mrl_gguf_get_int(g, "t.u8", &i) == 1 && i == 200, "UINT8 200");
	ok(mrl_gguf_get_int(g, "t.i8", &i) == 1 && i == -100, "INT8 -100");
	ok(mrl_gguf_get_int(g, "t.u16", &i) == 1 && i == 60000, "UINT16 60000");
	ok(mrl_gguf_get_int(g, "t.i16", &i) == 1 && i == -30000, "INT16 -30000");
	ok(mrl_gguf_get_int(g, "t.u32", &i) == 1 && i == 4000000000LL, "UINT32 4e9");
	ok(mrl_gguf_get_int(g, "t.i32", &i) == 1 && i == -2000000000LL, "INT32 -2e9");
	ok(mrl_gguf_get_float(g, "t.f32", &f) == 1 && f == 0.25, "FLOAT32 0.25");
	ok(mrl_gguf_get_bool(g, "t.bool", &b) == 1 && b == 1, "BOOL true");
	ok(mrl_gguf_get_string(g, "t.str", &s) == 1 && mrl_gguf_str_eq(s, "h\xc3\xa9llo"), "STRING UTF-8");
	ok(mrl_gguf_get_int(g, "t.u64", &i) == 1 && i == (1LL << 62) + 1, "UINT64 2^62+1");
	ok(mrl_gguf_get_int(g, "t.i64", &i) == 1 && i == -(1LL << 62) - 1, "INT64 -2^62-1");
	ok(mrl_gguf_get_float(g, "t.f64", &f) == 1 && f == -1.5e300, "FLOAT64 -1.5e300");
	ok(mrl_gguf_get_int(g, "t.str", &i) == -1 && mrl_gguf_get_float(g, "t.u8", &f) == -1 &&
	   mrl_gguf_get_bool(g, "t.u8", &b) == -1 && mrl_gguf_get_string(g, "t.u8", &s) == -1,
	   "getters refuse the wrong value type");
	ok(mrl_gguf_get_int(g, "t.absent", &i) == 0, "absent key gives 0");

	kv = mrl_gguf_find_kv(g, "t.arr_i32");
	ok(kv && kv->arr_type == MRL_GGUF_INT32 && kv->arr_count == 3 &&
	   mrl_gguf_array_int(kv, 1, &i) == 1 && i == -2 && mrl_gguf_array_int(kv, 3, &i) == -1,
	   "INT32 array [1, -2, 3]");
	kv = mrl_gguf_find_kv(g, "t.arr_str");
	ok(kv && kv->arr_count == 3 && mrl_gguf_array_strings(kv, strs) == 1 &&
	   mrl_gguf_str_eq(strs[0], "a") && strs[1].len == 0 && mrl_gguf_str_eq(strs[2], "xyz"),
	   "STRING array [a, \"\", xyz]");
	kv = mrl_gguf_find_kv(g, "t.arr_f32");
	ok(kv && mrl_gguf_array_float(kv, 1, &f) == 1 && f == -8.0 &&
	   mrl_gguf_array_strings(kv, strs) == -1, "FLOAT32 array");
	kv = mrl_gguf_find_kv(g, "t.nested");
	ok(kv && kv->arr_type == MRL_GGUF_ARRAY && kv->arr_count == 2 &&
	   kv->value_size == 2 * 12 + 3 * 4, "nested ARRAY [[1, 2], [3]] (%zu bytes)",
	   kv ? kv->value_size : 0);
	kv = mrl_gguf_find_kv(g, "t.empty");
	ok(kv && kv->arr_count == 0 && kv->value_size == 0, "empty array");
}

/* Every tensor of roundtrip.gguf equals the numpy reference bit for bit. */
static void
check_tensors(const mrl_gguf *g)
{
	char		path[4096];
	size_t		n,
				off = 0;
	float	   *exp,
			   *got;
	uint64_t	i;

	snprintf(path, sizeof(path), "%s/roundtrip.expect", fixtures);
	exp = tap_slurp(path, &n);
	if (!ok(exp != NULL, "roundtrip.expect readable"))
		return;
	ok(g->n_tensors == 12, "12 tensors");
	for (i = 0; i < g->n_tensors; i++)
	{
		const mrl_gguf_tensor *t = &g->tensors[i];

		got = malloc(t->n_elems * sizeof(float));
		ok((off + t->n_elems) * sizeof(float) <= n &&
		   mrl_dequantize(t->type, t->data, got, t->n_elems) == 0 &&
		   memcmp(got, exp + off, t->n_elems * sizeof(float)) == 0 &&
		   (uintptr_t) (t->offset - g->data_offset) % g->alignment == 0,
		   "tensor %.*s (%s, %llu elements) matches", (int) t->name.len, t->name.ptr,
		   mrl_ggml_type_name(t->type), (unsigned long long) t->n_elems);
		off += t->n_elems;
		free(got);
	}
	ok(off * sizeof(float) == n, "all expected values consumed");
	ok(mrl_gguf_find_tensor(g, "tensor.4d") && mrl_gguf_find_tensor(g, "tensor.4d")->n_dims == 4 &&
	   mrl_gguf_find_tensor(g, "tensor.4d")->ne[0] == 32 &&
	   mrl_gguf_find_tensor(g, "tensor.4d")->ne[2] == 3 &&
	   mrl_gguf_find_tensor(g, "tensor.4d")->ne[3] == 2, "4-D tensor dims reversed from numpy");
	free(exp);
}

/* Open a copy of the first len bytes (exact-size buffer, for ASan). */
static mrl_gguf *
open_prefix(const uint8_t *img, size_t len, char *err, size_t errlen, uint8_t **copy)
{
	*copy = malloc(len ? len : 1);
	memcpy(*copy, img, len);
	return mrl_gguf_open_buffer(*copy, len, err, errlen);
}

/* Every prefix ending before the last tensor byte must be refused. */
static void
check_truncations(const uint8_t *img, size_t size, const mrl_gguf *g)
{
	size_t		end = 0,
				len,
				accepted = 0,
				silent = 0;
	uint64_t	i;
	char		err[512];
	uint8_t    *copy;
	mrl_gguf   *t;

	for (i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].offset + g->tensors[i].nbytes > end)
			end = g->tensors[i].offset + g->tensors[i].nbytes;
	for (len = 0; len < end; len++)
	{
		err[0] = '\0';
		t = open_prefix(img, len, err, sizeof(err), &copy);
		accepted += t != NULL;
		silent += t == NULL && err[0] == '\0';
		mrl_gguf_close(t);
		free(copy);
	}
	ok(accepted == 0 && silent == 0, "all %zu truncations refused with a message", end);
	t = open_prefix(img, end, err, sizeof(err), &copy);
	ok(t != NULL, "the prefix ending at the last tensor byte opens");
	mrl_gguf_close(t);
	free(copy);
}

/* Random byte corruptions of the header: refused, or fully usable. */
static void
check_corruptions(const uint8_t *img, size_t size, const mrl_gguf *g)
{
	uint8_t    *copy = malloc(size);
	float	   *buf;
	char		err[512];
	int			round,
				opened = 0;
	uint64_t	i;
	mrl_gguf   *t;
	int64_t		v;

	srand(12345);
	for (round = 0; round < 3000; round++)
	{
		memcpy(copy, img, size);
		for (i = 0; i < 1 + (uint64_t) (rand() % 4); i++)
			copy[rand() % g->data_offset] = (uint8_t) rand();
		t = mrl_gguf_open_buffer(copy, size, err, sizeof(err));
		if (t == NULL)
			continue;
		opened++;
		for (i = 0; i < t->n_kv; i++)
			mrl_gguf_array_int(&t->kv[i], 0, &v);
		for (i = 0; i < t->n_tensors; i++)
		{
			buf = malloc(t->tensors[i].n_elems * sizeof(float) + 1);
			mrl_dequantize(t->tensors[i].type, t->tensors[i].data, buf, t->tensors[i].n_elems);
			free(buf);
		}
		mrl_gguf_close(t);
	}
	ok(1, "3000 header corruptions handled (%d still valid and read in full)", opened);
	free(copy);
}

int
main(int argc, char **argv)
{
	char		path[4096],
				err[512];
	mrl_gguf   *g;
	uint8_t    *img;
	size_t		size;

	if (argc < 2)
		return 2;
	fixtures = argv[1];
	snprintf(path, sizeof(path), "%s/roundtrip.gguf", fixtures);
	g = mrl_gguf_open(path, err, sizeof(err));
	if (!ok(g != NULL, "roundtrip.gguf opens (%s)", g ? "" : err))
		return tap_done();
	ok(g->version == 3 && g->alignment == 64 && g->data_offset % 64 == 0,
	   "version 3, alignment 64 from general.alignment");
	check_metadata(g);
	check_tensors(g);
	img = tap_slurp(path, &size);
	check_truncations(img, size, g);
	check_corruptions(img, size, g);
	free(img);
	mrl_gguf_close(g);

	snprintf(path, sizeof(path), "%s/roundtrip_v2.gguf", fixtures);
	g = mrl_gguf_open(path, err, sizeof(err));
	ok(g && g->version == 2 && g->n_tensors == 12, "GGUF v2 opens");
	mrl_gguf_close(g);

	ok(mrl_gguf_open("/nonexistent/x.gguf", err, sizeof(err)) == NULL &&
	   strstr(err, "could not open") != NULL, "missing file: %s", err);
	snprintf(path, sizeof(path), "%s/gguf_bad", fixtures);
	tap_bad_dir(path, try_open);
	return tap_done();
}
