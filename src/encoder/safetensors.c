/*
 * safetensors.c: validating safetensors reader (see safetensors.h).
 *
 * Layout: u64 LE header length N, N bytes of JSON (an object mapping tensor
 * names to {dtype, shape, data_offsets}, plus an ignored __metadata__), then
 * the data buffer.  The JSON is parsed with json-c.
 */
#include "safetensors.h"

#include <json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "quant.h"

/* dtypes of the format and their width in bits */
static const struct
{
	const char *name;
	int			bits;
}			st_dtypes[] = {
	{"BOOL", 8}, {"F4", 4}, {"F6_E2M3", 6}, {"F6_E3M2", 6}, {"U8", 8}, {"I8", 8},
	{"F8_E5M2", 8}, {"F8_E4M3", 8}, {"F8_E8M0", 8}, {"F8_E4M3FNUZ", 8},
	{"F8_E5M2FNUZ", 8}, {"I16", 16}, {"U16", 16}, {"F16", 16}, {"BF16", 16},
	{"I32", 32}, {"U32", 32}, {"F32", 32}, {"C64", 64}, {"F64", 64},
	{"I64", 64}, {"U64", 64},
};

/* Width in bits of a dtype name, 0 if unknown. */
static int
dtype_bits(const char *name)
{
	size_t		i;

	for (i = 0; i < sizeof(st_dtypes) / sizeof(st_dtypes[0]); i++)
		if (strcmp(st_dtypes[i].name, name) == 0)
			return st_dtypes[i].bits;
	return 0;
}

int
mrl_st_dtype_ggml(const char *dtype)
{
	if (strcmp(dtype, "F32") == 0)
		return MRL_TYPE_F32;
	if (strcmp(dtype, "F16") == 0)
		return MRL_TYPE_F16;
	if (strcmp(dtype, "BF16") == 0)
		return MRL_TYPE_BF16;
	return -1;
}

/* A JSON integer >= 0 (json-c saturates larger values, caught by callers). */
static int
json_uint(json_object *o, uint64_t *out)
{
	int64_t		v;

	if (o == NULL || !json_object_is_type(o, json_type_int))
		return -1;
	v = json_object_get_int64(o);
	if (v < 0 || v == INT64_MAX)
		return -1;
	*out = (uint64_t) v;
	return 0;
}

/* Fill t from one header entry {dtype, shape, data_offsets}. */
static int
parse_entry(const char *name, json_object *o, mrl_st_tensor *t, uint64_t *begin,
			uint64_t *end, char *err, size_t errlen)
{
	json_object *dt,
			   *shape,
			   *offs;
	const char *dts;
	size_t		j;
	int			bits;
	uint64_t	nbits;

	if (!json_object_is_type(o, json_type_object) ||
		!json_object_object_get_ex(o, "dtype", &dt) || !json_object_is_type(dt, json_type_string) ||
		!json_object_object_get_ex(o, "shape", &shape) || !json_object_is_type(shape, json_type_array) ||
		!json_object_object_get_ex(o, "data_offsets", &offs) ||
		!json_object_is_type(offs, json_type_array) || json_object_array_length(offs) != 2)
	{
		mrl_errf(err, errlen, "tensor \"%s\": entry needs dtype, shape and two data_offsets", name);
		return -1;
	}
	dts = json_object_get_string(dt);
	bits = dtype_bits(dts);
	if (bits == 0 || strlen(dts) >= sizeof(t->dtype))
	{
		mrl_errf(err, errlen, "tensor \"%s\": unknown dtype \"%.32s\"", name, dts);
		return -1;
	}
	strcpy(t->dtype, dts);
	if (json_object_array_length(shape) > MRL_ST_MAX_DIMS)
	{
		mrl_errf(err, errlen, "tensor \"%s\": more than %d dimensions", name, MRL_ST_MAX_DIMS);
		return -1;
	}
	t->n_dims = (int) json_object_array_length(shape);
	t->numel = 1;
	for (j = 0; j < (size_t) t->n_dims; j++)
	{
		if (json_uint(json_object_array_get_idx(shape, j), &t->shape[j]) ||
			(t->shape[j] != 0 && t->numel > (UINT64_MAX / 64) / t->shape[j]))
		{
			mrl_errf(err, errlen, "tensor \"%s\": bad or overflowing shape", name);
			return -1;
		}
		t->numel *= t->shape[j];
	}
	if (json_uint(json_object_array_get_idx(offs, 0), begin) ||
		json_uint(json_object_array_get_idx(offs, 1), end) || *end < *begin)
	{
		mrl_errf(err, errlen, "tensor \"%s\": bad data_offsets", name);
		return -1;
	}
	nbits = t->numel * (uint64_t) bits;
	if (nbits % 8 != 0 || *end - *begin != nbits / 8)
	{
		mrl_errf(err, errlen,
				 "tensor \"%s\": %llu bytes in data_offsets but shape and dtype %s need %llu bits",
				 name, (unsigned long long) (*end - *begin), dts, (unsigned long long) nbits);
		return -1;
	}
	t->nbytes = (size_t) (*end - *begin);
	return 0;
}

/* a tensor's byte range, for the tiling check */
typedef struct range
{
	uint64_t	begin,
				end;
	size_t		index;
} range;

static int
range_cmp(const void *a, const void *b)
{
	const range *x = a,
			   *y = b;

	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	return x->end < y->end ? -1 : (x->end > y->end);
}

/*
 * The ranges, sorted, must tile [0, buf_len) exactly, as the reference
 * reader demands; this rules out overlaps, holes and data past the end.
 */
static int
check_tiling(mrl_safetensors *st, range *r, uint64_t buf_len, char *err, size_t errlen)
{
	uint64_t	pos = 0;
	size_t		i;

	qsort(r, st->n_tensors, sizeof(range), range_cmp);
	for (i = 0; i < st->n_tensors; i++)
	{
		if (r[i].begin != pos)
		{
			mrl_errf(err, errlen, "tensor \"%s\": data starts at %llu, expected %llu (%s)",
					 st->tensors[r[i].index].name, (unsigned long long) r[i].begin,
					 (unsigned long long) pos, r[i].begin < pos ? "overlap" : "hole");
			return -1;
		}
		pos = r[i].end;
	}
	if (pos != buf_len)
	{
		mrl_errf(err, errlen, "tensor data covers %llu bytes but the file holds %llu",
				 (unsigned long long) pos, (unsigned long long) buf_len);
		return -1;
	}
	return 0;
}

/* Walk the header object, filling st->tensors, then check the layout. */
static int
parse_header(mrl_safetensors *st, json_object *root, const uint8_t *buf,
			 uint64_t buf_len, char *err, size_t errlen)
{
	size_t		n = 0,
				i;
	range	   *r;
	int			rc = 0;

	st->tensors = calloc(json_object_object_length(root) + 1, sizeof(mrl_st_tensor));
	r = calloc(json_object_object_length(root) + 1, sizeof(range));
	if (st->tensors == NULL || r == NULL)
	{
		free(r);
		mrl_errf(err, errlen, "out of memory");
		return -1;
	}
	json_object_object_foreach(root, key, val)
	{
		if (rc != 0 || strcmp(key, "__metadata__") == 0)
			continue;
		st->tensors[n].name = strdup(key);
		r[n].index = n;
		if (st->tensors[n].name == NULL ||
			parse_entry(key, val, &st->tensors[n], &r[n].begin, &r[n].end, err, errlen))
			rc = -1;
		n++;
		st->n_tensors = n;
	}
	if (rc == 0)
	{
		for (i = 0; i < n; i++)
			st->tensors[r[i].index].data = buf + r[i].begin;
		rc = check_tiling(st, r, buf_len, err, errlen);
	}
	free(r);
	return rc;
}

mrl_safetensors *
mrl_st_open_buffer(const void *buf, size_t size, char *err, size_t errlen)
{
	const uint8_t *p = buf;
	mrl_safetensors *st;
	uint64_t	hlen = 0;
	json_tokener *tok;
	json_object *root = NULL;
	int			i;

	if (size < 8)
	{
		mrl_errf(err, errlen, "file too small for a safetensors header (%zu bytes)", size);
		return NULL;
	}
	for (i = 7; i >= 0; i--)
		hlen = (hlen << 8) | p[i];
	if (hlen < 2 || hlen > MRL_ST_MAX_HEADER || hlen > size - 8 || p[8] != '{')
	{
		mrl_errf(err, errlen, "not a safetensors file (header length %llu, file %zu bytes)",
				 (unsigned long long) hlen, size);
		return NULL;
	}
	tok = json_tokener_new();
	if (tok)
	{
		root = json_tokener_parse_ex(tok, (const char *) p + 8, (int) hlen);
		/* after the object only space padding may follow */
		for (i = (int) json_tokener_get_parse_end(tok); root && i < (int) hlen; i++)
			if (p[8 + i] != ' ')
			{
				json_object_put(root);
				root = NULL;
			}
		json_tokener_free(tok);
	}
	if (root == NULL || !json_object_is_type(root, json_type_object))
	{
		json_object_put(root);
		mrl_errf(err, errlen, "safetensors header is not a valid JSON object");
		return NULL;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		mrl_errf(err, errlen, "out of memory");
	else
	{
		st->base = p;
		st->size = size;
		if (parse_header(st, root, p + 8 + hlen, size - 8 - hlen, err, errlen))
		{
			mrl_st_close(st);
			st = NULL;
		}
	}
	json_object_put(root);
	return st;
}

mrl_safetensors *
mrl_st_open(const char *path, char *err, size_t errlen)
{
	mrl_mapping m;
	mrl_safetensors *st;

	if (mrl_map_file(path, &m, err, errlen))
		return NULL;
	if ((st = mrl_st_open_buffer(m.base, m.size, err, errlen)) == NULL)
	{
		mrl_err_prefix(err, errlen, path);
		mrl_unmap(&m);
		return NULL;
	}
	st->map = m;
	return st;
}

void
mrl_st_close(mrl_safetensors *st)
{
	size_t		i;

	if (st == NULL)
		return;
	for (i = 0; i < st->n_tensors; i++)
		free(st->tensors[i].name);
	free(st->tensors);
	mrl_unmap(&st->map);
	free(st);
}

const mrl_st_tensor *
mrl_st_find(const mrl_safetensors *st, const char *name)
{
	size_t		i;

	for (i = 0; i < st->n_tensors; i++)
		if (strcmp(st->tensors[i].name, name) == 0)
			return &st->tensors[i];
	return NULL;
}

/* Add one opened file to the set. */
static int
set_add(mrl_st_set *set, const char *path, char *err, size_t errlen)
{
	mrl_safetensors *st;
	void	   *f,
			   *p;

	f = realloc(set->files, (set->n_files + 1) * sizeof(*set->files));
	if (f)
		set->files = f;
	p = realloc(set->paths, (set->n_files + 1) * sizeof(*set->paths));
	if (p)
		set->paths = p;
	if (f == NULL || p == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return -1;
	}
	st = mrl_st_open(path, err, errlen);
	if (st == NULL)
		return -1;
	set->files[set->n_files] = st;
	set->paths[set->n_files] = strdup(path);
	set->n_files++;
	return 0;
}

/* Directory part of path (with the trailing slash), or "". */
static void
dir_of(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t		n = slash ? (size_t) (slash - path + 1) : 0;

	if (n >= len)
		n = 0;
	memcpy(dir, path, n);
	dir[n] = '\0';
}

/*
 * Open every shard named in an index's weight_map (each once; names must be
 * plain file names in the index's directory) and check that each listed
 * tensor is in the shard the index says.
 */
static int
open_index(mrl_st_set *set, const char *path, char *err, size_t errlen)
{
	json_object *root = json_object_from_file(path),
			   *map;
	char		dir[4096],
				shard[8192];
	int			i,
				found,
				rc = 0;

	if (root == NULL || !json_object_object_get_ex(root, "weight_map", &map) ||
		!json_object_is_type(map, json_type_object))
	{
		json_object_put(root);
		mrl_errf(err, errlen, "%s: not a safetensors index (no weight_map object)", path);
		return -1;
	}
	dir_of(path, dir, sizeof(dir));
	json_object_object_foreach(map, name, val)
	{
		const char *file = json_object_get_string(val);

		if (rc != 0)
			break;
		if (!json_object_is_type(val, json_type_string) || file[0] == '\0' ||
			strchr(file, '/') || strcmp(file, "..") == 0)
		{
			mrl_errf(err, errlen, "%s: tensor \"%s\" maps to a bad file name", path, name);
			rc = -1;
			break;
		}
		snprintf(shard, sizeof(shard), "%s%s", dir, file);
		for (found = -1, i = 0; i < set->n_files; i++)
			if (strcmp(set->paths[i], shard) == 0)
				found = i;
		if (found < 0 && (rc = set_add(set, shard, err, errlen)) == 0)
			found = set->n_files - 1;
		if (rc == 0 && mrl_st_find(set->files[found], name) == NULL)
		{
			mrl_errf(err, errlen, "%s: tensor \"%s\" is not in %s", path, name, file);
			rc = -1;
		}
	}
	json_object_put(root);
	return rc;
}

mrl_st_set *
mrl_st_set_open(const char *path, char *err, size_t errlen)
{
	mrl_st_set *set = calloc(1, sizeof(*set));
	size_t		n = strlen(path);
	int			rc;

	if (set == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return NULL;
	}
	if (n > 5 && strcmp(path + n - 5, ".json") == 0)
		rc = open_index(set, path, err, errlen);
	else
		rc = set_add(set, path, err, errlen);
	if (rc == 0 && set->n_files == 0)
	{
		mrl_errf(err, errlen, "%s: the index lists no tensors", path);
		rc = -1;
	}
	if (rc != 0)
	{
		mrl_st_set_close(set);
		return NULL;
	}
	return set;
}

void
mrl_st_set_close(mrl_st_set *set)
{
	int			i;

	if (set == NULL)
		return;
	for (i = 0; i < set->n_files; i++)
	{
		mrl_st_close(set->files[i]);
		free(set->paths[i]);
	}
	free(set->files);
	free(set->paths);
	free(set);
}

const mrl_st_tensor *
mrl_st_set_find(const mrl_st_set *set, const char *name, int *file_index)
{
	const mrl_st_tensor *t;
	int			i;

	for (i = 0; i < set->n_files; i++)
		if ((t = mrl_st_find(set->files[i], name)) != NULL)
		{
			if (file_index)
				*file_index = i;
			return t;
		}
	return NULL;
}

size_t
mrl_st_header_f32(const char *name, uint64_t rows, uint64_t cols,
				  uint8_t *buf, size_t cap)
{
	char	   *json = (char *) buf + 8;
	int			n;
	uint64_t	len;

	if (cap < 16)
		return 0;
	n = snprintf(json, cap - 8,
				 "{\"__metadata__\":{\"format\":\"pt\"},\"%s\":"
				 "{\"dtype\":\"F32\",\"shape\":[%llu,%llu],\"data_offsets\":[0,%llu]}}",
				 name, (unsigned long long) rows, (unsigned long long) cols,
				 (unsigned long long) (rows * cols * sizeof(float)));
	if (n < 0 || (size_t) n + 8 + 7 >= cap)
		return 0;
	while (n % 8 != 0)
		json[n++] = ' ';
	len = (uint64_t) n;
	for (int i = 0; i < 8; i++)	/* little-endian */
		buf[i] = (uint8_t) (len >> (8 * i));
	return 8 + (size_t) n;
}
