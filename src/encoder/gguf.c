/*
 * gguf.c: validating GGUF v2/v3 reader (see gguf.h).
 *
 * Everything is checked once in mrl_gguf_open*: a cursor walks the header
 * and refuses any read past the end of the file, counts are bounded by the
 * bytes left before anything is allocated, and sizes are computed with
 * overflow checks.  Afterwards accessors trust the recorded offsets.
 */
#include "gguf.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "mapfile.h"
#include "quant.h"

#define GGUF_MAGIC "GGUF"
#define MAX_ARRAY_DEPTH 4		/* nesting depth accepted for ARRAY values */
#define MAX_COUNT (1u << 20)	/* sane upper bound for keys and tensors */
#define MAX_KEY_LEN 65535
#define MAX_NAME_LEN 255

/* a bounds-checked read position in the file image */
typedef struct cursor
{
	const uint8_t *base;
	size_t		size;
	size_t		pos;
	char	   *err;
	size_t		errlen;
} cursor;

/* Fail with a message naming the offset, unless n bytes remain. */
static int
need(cursor *c, uint64_t n, const char *what)
{
	if (n > c->size - c->pos)
	{
		mrl_errf(c->err, c->errlen,
				 "GGUF file truncated: %s at offset %zu needs %llu bytes, %zu left",
				 what, c->pos, (unsigned long long) n, c->size - c->pos);
		return -1;
	}
	return 0;
}

static uint64_t
le_u64(const uint8_t *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t
le_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static uint16_t
le_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static int
read_u32(cursor *c, uint32_t *v, const char *what)
{
	if (need(c, 4, what))
		return -1;
	*v = le_u32(c->base + c->pos);
	c->pos += 4;
	return 0;
}

static int
read_u64(cursor *c, uint64_t *v, const char *what)
{
	if (need(c, 8, what))
		return -1;
	*v = le_u64(c->base + c->pos);
	c->pos += 8;
	return 0;
}

/* A gguf_string_t: u64 length, then that many bytes. */
static int
read_str(cursor *c, mrl_gguf_str *s, const char *what)
{
	if (read_u64(c, &s->len, what) || need(c, s->len, what))
		return -1;
	s->ptr = (const char *) c->base + c->pos;
	c->pos += s->len;
	return 0;
}

size_t
mrl_gguf_scalar_size(uint32_t vtype)
{
	switch (vtype)
	{
		case MRL_GGUF_UINT8:
		case MRL_GGUF_INT8:
		case MRL_GGUF_BOOL:
			return 1;
		case MRL_GGUF_UINT16:
		case MRL_GGUF_INT16:
			return 2;
		case MRL_GGUF_UINT32:
		case MRL_GGUF_INT32:
		case MRL_GGUF_FLOAT32:
			return 4;
		case MRL_GGUF_UINT64:
		case MRL_GGUF_INT64:
		case MRL_GGUF_FLOAT64:
			return 8;
		default:
			return 0;
	}
}

/* BOOL values must be 0 or 1. */
static int
check_bools(cursor *c, const uint8_t *p, uint64_t n)
{
	uint64_t	i;

	for (i = 0; i < n; i++)
		if (p[i] > 1)
		{
			mrl_errf(c->err, c->errlen, "invalid BOOL value %u at offset %zu",
					 p[i], (size_t) (p + i - c->base));
			return -1;
		}
	return 0;
}

static int	skip_value(cursor *c, uint32_t type, int depth);

/*
 * Skip the elements of an array of `type`.  Fixed-size elements are checked
 * in one bound test; variable-size ones are walked, after checking that the
 * count could fit at all (each string or array takes at least 8 bytes) so
 * a huge count fails fast.
 */
static int
skip_array_elems(cursor *c, uint32_t type, uint64_t count, int depth)
{
	size_t		esize = mrl_gguf_scalar_size(type);
	uint64_t	i;

	if (esize > 0)
	{
		if (count > (c->size - c->pos) / esize)
			return need(c, UINT64_MAX, "array elements");
		if (type == MRL_GGUF_BOOL && check_bools(c, c->base + c->pos, count))
			return -1;
		c->pos += count * esize;
		return 0;
	}
	if (type != MRL_GGUF_STRING && type != MRL_GGUF_ARRAY)
	{
		mrl_errf(c->err, c->errlen, "unknown GGUF array element type %u at offset %zu",
				 type, c->pos);
		return -1;
	}
	if (count > (c->size - c->pos) / 8)
		return need(c, UINT64_MAX, "array elements");
	for (i = 0; i < count; i++)
		if (skip_value(c, type, depth))
			return -1;
	return 0;
}

/* Skip one value of `type`, validating it; depth bounds nested arrays. */
static int
skip_value(cursor *c, uint32_t type, int depth)
{
	size_t		esize = mrl_gguf_scalar_size(type);
	mrl_gguf_str s;
	uint32_t	etype;
	uint64_t	count;

	if (esize > 0)
	{
		if (need(c, esize, "metadata value"))
			return -1;
		if (type == MRL_GGUF_BOOL && check_bools(c, c->base + c->pos, 1))
			return -1;
		c->pos += esize;
		return 0;
	}
	if (type == MRL_GGUF_STRING)
		return read_str(c, &s, "string value");
	if (type != MRL_GGUF_ARRAY)
	{
		mrl_errf(c->err, c->errlen, "unknown GGUF value type %u at offset %zu",
				 type, c->pos);
		return -1;
	}
	if (depth >= MAX_ARRAY_DEPTH)
	{
		mrl_errf(c->err, c->errlen, "GGUF arrays nested deeper than %d at offset %zu",
				 MAX_ARRAY_DEPTH, c->pos);
		return -1;
	}
	if (read_u32(c, &etype, "array type") || read_u64(c, &count, "array count"))
		return -1;
	return skip_array_elems(c, etype, count, depth + 1);
}

/* Read one metadata key/value pair into kv. */
static int
read_kv(cursor *c, mrl_gguf_kv *kv)
{
	size_t		start;

	if (read_str(c, &kv->key, "metadata key"))
		return -1;
	if (kv->key.len == 0 || kv->key.len > MAX_KEY_LEN)
	{
		mrl_errf(c->err, c->errlen, "bad GGUF key length %llu at offset %zu",
				 (unsigned long long) kv->key.len, c->pos);
		return -1;
	}
	if (read_u32(c, &kv->type, "metadata value type"))
		return -1;
	if (kv->type == MRL_GGUF_ARRAY)
	{
		if (read_u32(c, &kv->arr_type, "array type") ||
			read_u64(c, &kv->arr_count, "array count"))
			return -1;
		start = c->pos;
		if (skip_array_elems(c, kv->arr_type, kv->arr_count, 1))
			return -1;
	}
	else
	{
		start = c->pos;
		if (skip_value(c, kv->type, 0))
			return -1;
	}
	kv->value = c->base + start;
	kv->value_size = c->pos - start;
	return 0;
}

/* general.alignment, if present, must be a UINT32 power of two. */
static int
read_alignment(mrl_gguf *g, cursor *c)
{
	const mrl_gguf_kv *kv = mrl_gguf_find_kv(g, "general.alignment");
	uint32_t	a;

	g->alignment = MRL_GGUF_DEFAULT_ALIGNMENT;
	if (kv == NULL)
		return 0;
	if (kv->type != MRL_GGUF_UINT32)
	{
		mrl_errf(c->err, c->errlen, "general.alignment must be UINT32, not type %u", kv->type);
		return -1;
	}
	a = le_u32(kv->value);
	if (a == 0 || (a & (a - 1)) != 0)
	{
		mrl_errf(c->err, c->errlen, "general.alignment %u is not a power of two", a);
		return -1;
	}
	g->alignment = a;
	return 0;
}

/* Read one tensor info: name, dims, type, offset (checked later). */
static int
read_tensor_info(cursor *c, mrl_gguf_tensor *t)
{
	const char *tname;
	uint32_t	j;
	int			ok;

	if (read_str(c, &t->name, "tensor name"))
		return -1;
	if (t->name.len == 0 || t->name.len > MAX_NAME_LEN)
	{
		mrl_errf(c->err, c->errlen, "bad tensor name length %llu at offset %zu",
				 (unsigned long long) t->name.len, c->pos);
		return -1;
	}
	if (read_u32(c, &t->n_dims, "tensor dimension count"))
		return -1;
	if (t->n_dims == 0 || t->n_dims > MRL_GGUF_MAX_DIMS)
	{
		mrl_errf(c->err, c->errlen, "tensor \"%.*s\" has %u dimensions (1 to %d allowed)",
				 (int) t->name.len, t->name.ptr, t->n_dims, MRL_GGUF_MAX_DIMS);
		return -1;
	}
	t->n_elems = 1;
	for (j = 0; j < MRL_GGUF_MAX_DIMS; j++)
	{
		t->ne[j] = 1;
		if (j < t->n_dims && read_u64(c, &t->ne[j], "tensor dimension"))
			return -1;
		if (t->ne[j] != 0 && t->n_elems > (uint64_t) INT64_MAX / t->ne[j])
		{
			mrl_errf(c->err, c->errlen, "tensor \"%.*s\": element count overflows",
					 (int) t->name.len, t->name.ptr);
			return -1;
		}
		t->n_elems *= t->ne[j];
	}
	if (read_u32(c, &t->type, "tensor type") || read_u64(c, &t->offset, "tensor offset"))
		return -1;
	if (!mrl_ggml_type_supported(t->type))
	{
		tname = mrl_ggml_type_name(t->type);
		if (tname)
			mrl_errf(c->err, c->errlen, "tensor \"%.*s\": tensor type %s is not supported",
					 (int) t->name.len, t->name.ptr, tname);
		else
			mrl_errf(c->err, c->errlen, "tensor \"%.*s\": unknown tensor type %u",
					 (int) t->name.len, t->name.ptr, t->type);
		return -1;
	}
	if (t->ne[0] % mrl_ggml_block_elems(t->type) != 0)
	{
		mrl_errf(c->err, c->errlen,
				 "tensor \"%.*s\": row length %llu is not a multiple of the %s block size %zu",
				 (int) t->name.len, t->name.ptr, (unsigned long long) t->ne[0],
				 mrl_ggml_type_name(t->type), mrl_ggml_block_elems(t->type));
		return -1;
	}
	t->nbytes = mrl_ggml_nbytes(t->type, t->n_elems, &ok);
	if (!ok)
	{
		mrl_errf(c->err, c->errlen, "tensor \"%.*s\": byte size overflows",
				 (int) t->name.len, t->name.ptr);
		return -1;
	}
	return 0;
}

/* Place a tensor in the data section: aligned and inside the file. */
static int
place_tensor(mrl_gguf *g, mrl_gguf_tensor *t, char *err, size_t errlen)
{
	uint64_t	rel = t->offset;

	if (rel % g->alignment != 0)
	{
		mrl_errf(err, errlen, "tensor \"%.*s\": offset %llu is not a multiple of the alignment %u",
				 (int) t->name.len, t->name.ptr, (unsigned long long) rel, g->alignment);
		return -1;
	}
	if (rel > g->size - g->data_offset || t->nbytes > g->size - g->data_offset - rel)
	{
		mrl_errf(err, errlen,
				 "tensor \"%.*s\": data [%llu, +%zu) lies outside the file (data section is %llu bytes)",
				 (int) t->name.len, t->name.ptr, (unsigned long long) rel, t->nbytes,
				 (unsigned long long) (g->size - g->data_offset));
		return -1;
	}
	t->offset = g->data_offset + rel;
	t->data = g->base + t->offset;
	return 0;
}

static int
str_cmp(const mrl_gguf_str *a, const mrl_gguf_str *b)
{
	uint64_t	n = a->len < b->len ? a->len : b->len;
	int			r = memcmp(a->ptr, b->ptr, n);

	if (r != 0)
		return r;
	return (a->len > b->len) - (a->len < b->len);
}

static int
str_ptr_cmp(const void *a, const void *b)
{
	return str_cmp(*(const mrl_gguf_str *const *) a, *(const mrl_gguf_str *const *) b);
}

/*
 * Fail if two of the n strings (at stride bytes apart from first) are equal;
 * sorting pointers keeps this O(n log n) for hostile counts.
 */
static int
check_unique(const void *first, uint64_t n, size_t stride, const char *what,
			 char *err, size_t errlen)
{
	const mrl_gguf_str **v;
	uint64_t	i;
	int			rc = 0;

	if (n < 2)
		return 0;
	v = malloc(n * sizeof(*v));
	if (v == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		v[i] = (const mrl_gguf_str *) ((const char *) first + i * stride);
	qsort(v, n, sizeof(*v), str_ptr_cmp);
	for (i = 1; i < n && rc == 0; i++)
		if (str_cmp(v[i - 1], v[i]) == 0)
		{
			mrl_errf(err, errlen, "duplicate %s \"%.*s\"", what,
					 (int) v[i]->len, v[i]->ptr);
			rc = -1;
		}
	free(v);
	return rc;
}

/* Magic, version and the two counts. */
static int
read_header(mrl_gguf *g, cursor *c)
{
	if (c->size < 24)
	{
		mrl_errf(c->err, c->errlen, "file too small for a GGUF header (%zu bytes)", c->size);
		return -1;
	}
	if (memcmp(c->base, GGUF_MAGIC, 4) != 0)
	{
		mrl_errf(c->err, c->errlen, "not a GGUF file (bad magic)");
		return -1;
	}
	c->pos = 4;
	read_u32(c, &g->version, "version");
	if (g->version == 1)
	{
		mrl_errf(c->err, c->errlen, "GGUF version 1 is no longer supported");
		return -1;
	}
	if (g->version != 2 && g->version != 3)
	{
		mrl_errf(c->err, c->errlen, "GGUF version %u is not supported%s", g->version,
				 (g->version & 0xFFFF) == 0 ? " (big-endian file?)" : "");
		return -1;
	}
	read_u64(c, &g->n_tensors, "tensor count");
	read_u64(c, &g->n_kv, "metadata count");
	/* a key/value takes at least 14 bytes, a tensor info at least 29 */
	if (g->n_kv > MAX_COUNT || g->n_kv > (c->size - c->pos) / 14 ||
		g->n_tensors > MAX_COUNT || g->n_tensors > (c->size - c->pos) / 29)
	{
		mrl_errf(c->err, c->errlen, "implausible GGUF counts: %llu tensors, %llu metadata keys in %zu bytes",
				 (unsigned long long) g->n_tensors, (unsigned long long) g->n_kv, c->size);
		return -1;
	}
	return 0;
}

/* Parse and validate the whole file image into g. */
static int
parse(mrl_gguf *g, char *err, size_t errlen)
{
	cursor		c = {g->base, g->size, 0, err, errlen};
	uint64_t	i;

	if (read_header(g, &c))
		return -1;
	g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof(mrl_gguf_kv));
	g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof(mrl_gguf_tensor));
	if (g->kv == NULL || g->tensors == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < g->n_kv; i++)
		if (read_kv(&c, &g->kv[i]))
			return -1;
	if (check_unique(&g->kv[0].key, g->n_kv, sizeof(mrl_gguf_kv), "metadata key", err, errlen) ||
		read_alignment(g, &c))
		return -1;
	for (i = 0; i < g->n_tensors; i++)
		if (read_tensor_info(&c, &g->tensors[i]))
			return -1;
	if (check_unique(&g->tensors[0].name, g->n_tensors, sizeof(mrl_gguf_tensor),
					 "tensor name", err, errlen))
		return -1;
	/* the data section starts at the next multiple of the alignment */
	g->data_offset = c.pos + (g->alignment - c.pos % g->alignment) % g->alignment;
	if (g->data_offset > g->size)
	{
		if (g->n_tensors > 0)
		{
			mrl_errf(err, errlen, "GGUF file truncated before its tensor data");
			return -1;
		}
		g->data_offset = g->size;
	}
	for (i = 0; i < g->n_tensors; i++)
		if (place_tensor(g, &g->tensors[i], err, errlen))
			return -1;
	return 0;
}

mrl_gguf *
mrl_gguf_open_buffer(const void *buf, size_t size, char *err, size_t errlen)
{
	mrl_gguf   *g = calloc(1, sizeof(*g));

	if (g == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return NULL;
	}
	g->base = buf;
	g->size = size;
	if (parse(g, err, errlen))
	{
		mrl_gguf_close(g);
		return NULL;
	}
	return g;
}

mrl_gguf *
mrl_gguf_open(const char *path, char *err, size_t errlen)
{
	mrl_mapping m;
	mrl_gguf   *g;

	if (mrl_map_file(path, &m, err, errlen))
		return NULL;
	if ((g = mrl_gguf_open_buffer(m.base, m.size, err, errlen)) == NULL)
	{
		mrl_err_prefix(err, errlen, path);
		mrl_unmap(&m);
		return NULL;
	}
	g->map = m;
	return g;
}

void
mrl_gguf_close(mrl_gguf *g)
{
	if (g == NULL)
		return;
	mrl_unmap(&g->map);
	free(g->kv);
	free(g->tensors);
	free(g);
}

int
mrl_gguf_str_eq(mrl_gguf_str s, const char *c)
{
	size_t		n = strlen(c);

	return s.len == n && memcmp(s.ptr, c, n) == 0;
}

const mrl_gguf_kv *
mrl_gguf_find_kv(const mrl_gguf *g, const char *key)
{
	uint64_t	i;

	for (i = 0; i < g->n_kv; i++)
		if (mrl_gguf_str_eq(g->kv[i].key, key))
			return &g->kv[i];
	return NULL;
}

const mrl_gguf_tensor *
mrl_gguf_find_tensor(const mrl_gguf *g, const char *name)
{
	uint64_t	i;

	for (i = 0; i < g->n_tensors; i++)
		if (mrl_gguf_str_eq(g->tensors[i].name, name))
			return &g->tensors[i];
	return NULL;
}

/* Decode one integer scalar of type t at p; -1 if t is not an integer. */
static int
decode_int(uint32_t t, const uint8_t *p, int64_t *out)
{
	uint64_t	u;

	switch (t)
	{
		case MRL_GGUF_UINT8:
		case MRL_GGUF_BOOL:
			*out = p[0];
			return 1;
		case MRL_GGUF_INT8:
			*out = (int8_t) p[0];
			return 1;
		case MRL_GGUF_UINT16:
			*out = le_u16(p);
			return 1;
		case MRL_GGUF_INT16:
			*out = (int16_t) le_u16(p);
			return 1;
		case MRL_GGUF_UINT32:
			*out = le_u32(p);
			return 1;
		case MRL_GGUF_INT32:
			*out = (int32_t) le_u32(p);
			return 1;
		case MRL_GGUF_UINT64:
			u = le_u64(p);
			if (u > INT64_MAX)
				return -1;
			*out = (int64_t) u;
			return 1;
		case MRL_GGUF_INT64:
			*out = (int64_t) le_u64(p);
			return 1;
		default:
			return -1;
	}
}

/* Decode one FLOAT32/FLOAT64 scalar at p; -1 for other types. */
static int
decode_float(uint32_t t, const uint8_t *p, double *out)
{
	uint32_t	u32;
	uint64_t	u64;
	float		f;

	if (t == MRL_GGUF_FLOAT32)
	{
		u32 = le_u32(p);
		memcpy(&f, &u32, 4);
		*out = f;
		return 1;
	}
	if (t == MRL_GGUF_FLOAT64)
	{
		u64 = le_u64(p);
		memcpy(out, &u64, 8);
		return 1;
	}
	return -1;
}

int
mrl_gguf_get_int(const mrl_gguf *g, const char *key, int64_t *out)
{
	const mrl_gguf_kv *kv = mrl_gguf_find_kv(g, key);

	return kv ? decode_int(kv->type, kv->value, out) : 0;
}

int
mrl_gguf_get_float(const mrl_gguf *g, const char *key, double *out)
{
	const mrl_gguf_kv *kv = mrl_gguf_find_kv(g, key);

	return kv ? decode_float(kv->type, kv->value, out) : 0;
}

int
mrl_gguf_get_bool(const mrl_gguf *g, const char *key, int *out)
{
	const mrl_gguf_kv *kv = mrl_gguf_find_kv(g, key);

	if (kv == NULL)
		return 0;
	if (kv->type != MRL_GGUF_BOOL)
		return -1;
	*out = kv->value[0];
	return 1;
}

int
mrl_gguf_get_string(const mrl_gguf *g, const char *key, mrl_gguf_str *out)
{
	const mrl_gguf_kv *kv = mrl_gguf_find_kv(g, key);

	if (kv == NULL)
		return 0;
	if (kv->type != MRL_GGUF_STRING)
		return -1;
	out->len = le_u64(kv->value);
	out->ptr = (const char *) kv->value + 8;
	return 1;
}

/* Element i of an array of scalars, or NULL. */
static const uint8_t *
array_elem(const mrl_gguf_kv *kv, uint64_t i)
{
	size_t		es = mrl_gguf_scalar_size(kv->arr_type);

	if (kv->type != MRL_GGUF_ARRAY || i >= kv->arr_count || es == 0)
		return NULL;
	return kv->value + i * es;
}

int
mrl_gguf_array_int(const mrl_gguf_kv *kv, uint64_t i, int64_t *out)
{
	const uint8_t *p = array_elem(kv, i);

	return p ? decode_int(kv->arr_type, p, out) : -1;
}

int
mrl_gguf_array_float(const mrl_gguf_kv *kv, uint64_t i, double *out)
{
	const uint8_t *p = array_elem(kv, i);

	return p ? decode_float(kv->arr_type, p, out) : -1;
}

int
mrl_gguf_array_strings(const mrl_gguf_kv *kv, mrl_gguf_str *out)
{
	const uint8_t *p;
	uint64_t	i;

	if (kv->type != MRL_GGUF_ARRAY || kv->arr_type != MRL_GGUF_STRING)
		return -1;
	p = kv->value;
	for (i = 0; i < kv->arr_count; i++)
	{
		out[i].len = le_u64(p);
		out[i].ptr = (const char *) p + 8;
		p += 8 + out[i].len;
	}
	return 1;
}
