/*
 * model.c: the model loader (see model.h).
 *
 * Loading is three steps:
 *   1. read the configuration (GGUF metadata, or config.json and the
 *      sentence-transformers side files) into mrl_bert_config;
 *   2. plan the weights: every destination pointer of mrl_bert_weights gets
 *      a "slot" naming its source tensor, whose shape is checked against
 *      the configuration.  Tensors are looked up by their GGUF names;
 *      safetensors sources translate those to Hugging Face names;
 *   3. materialise: float32 sources aligned to 4 bytes are used in place,
 *      every other slot is converted into one float32 buffer, kept in a
 *      shared cache file (model_cache.c) when a cache directory is given.
 */
#include "model.h"

#include <errno.h>
#include <json.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "mapfile.h"
#include "model_cache.h"
#include "quant.h"
#include "safetensors.h"

#define MAX_LAYERS 1024
#define MAX_EMBD 65536
#define MAX_FF (1 << 20)
#define MAX_CTX (1 << 20)
#define CACHE_ALIGN 16			/* floats: each converted slot starts 64-byte
								 * aligned */
#define QUANT_CHUNK (1 << 18)	/* floats converted per write: a multiple of
								 * every block size */

/* a tensor as found in a model file, shape in PyTorch (row-major) order */
typedef struct src_tensor
{
	char		name[128];
	const void *data;
	uint32_t	type;			/* ggml type id */
	int			n_dims;
	uint64_t	shape[MRL_GGUF_MAX_DIMS];
	uint64_t	numel;
} src_tensor;

typedef enum slot_kind
{
	SLOT_CONVERT,				/* dequantise src */
	SLOT_STATIC_GATHER			/* model2vec: table[mapping[i]] * weights[i] */
} slot_kind;

/* how one float array of the weights is produced */
typedef struct slot
{
	const float **dst;
	src_tensor	src;
	slot_kind	kind;
	int			in_place;
	uint64_t	out_numel;
	size_t		out_offset;		/* in floats, within the converted buffer */
} slot;

typedef enum source_kind
{
	SRC_GGUF,
	SRC_SAFETENSORS
} source_kind;

struct mrl_model_private
{
	source_kind kind;
	mrl_gguf   *gguf;
	mrl_st_set *st;
	const char *hf_prefix;		/* "", "bert." or "model." */
	char	   *source_paths[64];	/* files the weights come from */
	int			n_source_paths;
	char	  **files_read;		/* every file the loader read */
	int			n_files_read;
	slot	   *slots;
	int			n_slots;
	mrl_bert_layer *layers;
	/* model2vec extras (SLOT_STATIC_GATHER) */
	src_tensor	m2v_mapping,
				m2v_weights;
	int			has_mapping,
				has_weights;
	/* the converted float32 buffer: a cache-file or an anonymous mapping */
	mrl_mapping cache_map;
	mrl_mapping private_map;
};

/* ------------------------------------------------------------ utilities */

const char *
mrl_arch_name(mrl_arch arch)
{
	switch (arch)
	{
		case MRL_ARCH_BERT:
			return "bert";
		case MRL_ARCH_NOMIC_BERT:
			return "nomic-bert";
		case MRL_ARCH_STATIC:
			return "static";
	}
	return "unknown";
}

static char *
path_join(const char *dir, const char *name)
{
	size_t		n = strlen(dir) + strlen(name) + 2;
	char	   *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int
file_exists(const char *dir, const char *name)
{
	char	   *p = path_join(dir, name);
	struct stat st;
	int			r = p && stat(p, &st) == 0;

	free(p);
	return r;
}

static int
add_source_path(mrl_model *m, const char *path)
{
	mrl_model_private *p = m->priv;

	if (p->n_source_paths >= (int) (sizeof(p->source_paths) / sizeof(p->source_paths[0])))
		return 0;				/* the key then covers the first 64 files */
	p->source_paths[p->n_source_paths] = strdup(path);
	if (p->source_paths[p->n_source_paths] == NULL)
		return -1;
	p->n_source_paths++;
	return 0;
}

/* Remember that the loader read path (once); -1 when out of memory. */
static int
note_file_read(mrl_model *m, const char *path)
{
	mrl_model_private *p = m->priv;
	char	  **grown;

	for (int i = 0; i < p->n_files_read; i++)
		if (strcmp(p->files_read[i], path) == 0)
			return 0;
	grown = realloc(p->files_read, sizeof(char *) * (p->n_files_read + 1));
	if (grown == NULL)
		return -1;
	p->files_read = grown;
	if ((grown[p->n_files_read] = strdup(path)) == NULL)
		return -1;
	p->n_files_read++;
	return 0;
}

/* Parse a JSON file; NULL (err set) if missing or not an object. */
static json_object *
read_json(mrl_model *m, const char *dir, const char *name, int required, char *err, size_t errlen)
{
	char	   *path = path_join(dir, name);
	json_object *o = NULL;
	struct stat st;

	if (path == NULL)
		mrl_errf(err, errlen, "out of memory");
	else if (stat(path, &st) != 0)
	{
		if (required)
			mrl_errf(err, errlen, "%s: not found", path);
		else
			err[0] = '\0';
	}
	else if ((o = json_object_from_file(path)) == NULL ||
			 !json_object_is_type(o, json_type_object))
	{
		json_object_put(o);
		o = NULL;
		mrl_errf(err, errlen, "%s: not a JSON object", path);
	}
	else if (note_file_read(m, path) != 0)
	{
		json_object_put(o);
		o = NULL;
		mrl_errf(err, errlen, "out of memory");
	}
	free(path);
	return o;
}

/*
 * Integer member of a JSON object into *out: absent or null leaves *out (the
 * default) unless required; a non-integer or out-of-range value is an error.
 */
static int
json_int(json_object *o, const char *key, int required, int64_t lo, int64_t hi,
		 int *out, char *err, size_t errlen)
{
	json_object *v;
	int64_t		x;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
	{
		if (required)
			mrl_errf(err, errlen, "config.json: \"%s\" is missing", key);
		return required ? -1 : 0;
	}
	x = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || x < lo || x > hi)
	{
		mrl_errf(err, errlen, "config.json: \"%s\" must be an integer in [%lld, %lld]",
				 key, (long long) lo, (long long) hi);
		return -1;
	}
	*out = (int) x;
	return 0;
}

/* Number member (int or double); absent or null keeps the default. */
static int
json_num(json_object *o, const char *key, double *out, char *err, size_t errlen)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
	{
		mrl_errf(err, errlen, "config.json: \"%s\" must be a number", key);
		return -1;
	}
	*out = json_object_get_double(v);
	return 0;
}

/* String member or NULL. */
static const char *
json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Boolean member (default 0 when absent). */
static int
json_flag(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
		json_object_get_boolean(v);
}

/* --------------------------------------------------------- tensor lookup */

static void
src_from_gguf(const mrl_gguf_tensor *t, src_tensor *s)
{
	int			j;

	snprintf(s->name, sizeof(s->name), "%.*s", (int) t->name.len, t->name.ptr);
	s->data = t->data;
	s->type = t->type;
	s->n_dims = (int) t->n_dims;
	for (j = 0; j < s->n_dims; j++)
		s->shape[j] = t->ne[s->n_dims - 1 - j];
	s->numel = t->n_elems;
}

/* A safetensors tensor as a source; -1 if its dtype cannot become float. */
static int
src_from_st(const mrl_st_tensor *t, src_tensor *s, char *err, size_t errlen)
{
	int			type = mrl_st_dtype_ggml(t->dtype);
	int			j;

	if (type < 0 || t->n_dims > MRL_GGUF_MAX_DIMS)
	{
		mrl_errf(err, errlen, "tensor \"%s\": dtype %s with %d dimensions is not supported "
				 "(F32, F16 or BF16 with at most 4 dimensions)", t->name, t->dtype, t->n_dims);
		return -1;
	}
	snprintf(s->name, sizeof(s->name), "%s", t->name);
	s->data = t->data;
	s->type = (uint32_t) type;
	s->n_dims = t->n_dims;
	for (j = 0; j < t->n_dims; j++)
		s->shape[j] = t->shape[j];
	s->numel = t->numel;
	return 0;
}

/* GGUF tensor-name parts and their Hugging Face names per architecture */
static const struct
{
	const char *gguf;
	const char *bert;
	const char *nomic;
}			hf_names[] = {
	{"token_embd", "embeddings.word_embeddings", "embeddings.word_embeddings"},
	{"position_embd", "embeddings.position_embeddings", NULL},
	{"token_types", "embeddings.token_type_embeddings", "embeddings.token_type_embeddings"},
	{"token_embd_norm", "embeddings.LayerNorm", "emb_ln"},
	{"attn_q", "encoder.layer.%d.attention.self.query", NULL},
	{"attn_k", "encoder.layer.%d.attention.self.key", NULL},
	{"attn_v", "encoder.layer.%d.attention.self.value", NULL},
	{"attn_qkv", NULL, "encoder.layers.%d.attn.Wqkv"},
	{"attn_output", "encoder.layer.%d.attention.output.dense", "encoder.layers.%d.attn.out_proj"},
	{"attn_output_norm", "encoder.layer.%d.attention.output.LayerNorm", "encoder.layers.%d.norm1"},
	{"ffn_up", "encoder.layer.%d.intermediate.dense", "encoder.layers.%d.mlp.fc11"},
	{"ffn_gate", NULL, "encoder.layers.%d.mlp.fc12"},
	{"ffn_down", "encoder.layer.%d.output.dense", "encoder.layers.%d.mlp.fc2"},
	{"layer_output_norm", "encoder.layer.%d.output.LayerNorm", "encoder.layers.%d.norm2"},
};

/*
 * The Hugging Face name of GGUF name "part.suffix" or "blk.N.part.suffix"
 * (suffix weight/bias; old checkpoints' LayerNorms use gamma/beta, asked
 * for with old_norm).  0 if the architecture has no such tensor.
 */
static int
hf_name(mrl_arch arch, const char *prefix, const char *gguf, int old_norm,
		char *out, size_t outlen)
{
	char		part[64],
				suffix[16],
				hf[128];
	const char *pattern = NULL;
	int			layer = -1;
	size_t		i;

	if (sscanf(gguf, "blk.%d.%63[a-z_].%15s", &layer, part, suffix) != 3 &&
		sscanf(gguf, "%63[a-z_].%15s", part, suffix) != 2)
		return 0;
	for (i = 0; i < sizeof(hf_names) / sizeof(hf_names[0]); i++)
		if (strcmp(hf_names[i].gguf, part) == 0)
			pattern = arch == MRL_ARCH_BERT ? hf_names[i].bert : hf_names[i].nomic;
	if (pattern == NULL)
		return 0;
	snprintf(hf, sizeof(hf), pattern, layer);
	if (old_norm)
	{
		if (strstr(part, "norm") == NULL)
			return 0;
		strcpy(suffix, strcmp(suffix, "weight") == 0 ? "gamma" : "beta");
	}
	snprintf(out, outlen, "%s%s.%s", prefix, hf, suffix);
	return 1;
}

/*
 * Find a tensor by GGUF name in the model's source: 1 found, 0 absent,
 * -1 error (message in err).
 */
static int
find_tensor(mrl_model *m, const char *name, src_tensor *s, char *err, size_t errlen)
{
	mrl_model_private *p = m->priv;
	const mrl_gguf_tensor *gt;
	const mrl_st_tensor *st;
	char		hf[160];
	int			old_norm;

	if (p->kind == SRC_GGUF)
	{
		if ((gt = mrl_gguf_find_tensor(p->gguf, name)) == NULL)
			return 0;
		src_from_gguf(gt, s);
		return 1;
	}
	for (old_norm = 0; old_norm <= 1; old_norm++)
		if (hf_name(m->config.arch, p->hf_prefix, name, old_norm, hf, sizeof(hf)) &&
			(st = mrl_st_set_find(p->st, hf, NULL)) != NULL)
			return src_from_st(st, s, err, errlen) == 0 ? 1 : -1;
	return 0;
}

/* ---------------------------------------------------------- weight plan */

static int
add_slot(mrl_model *m, const float **dst, const src_tensor *s, slot_kind kind,
		 uint64_t out_numel, char *err, size_t errlen)
{
	mrl_model_private *p = m->priv;
	slot	   *n = realloc(p->slots, (p->n_slots + 1) * sizeof(slot));

	if (n == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return -1;
	}
	p->slots = n;
	n = &p->slots[p->n_slots++];
	memset(n, 0, sizeof(*n));
	n->dst = dst;
	n->src = *s;
	n->kind = kind;
	n->out_numel = out_numel;
	return 0;
}

/* "[a, b]" for messages */
static const char *
shape_str(const src_tensor *s, char *buf, size_t len)
{
	int			j;
	size_t		o = 0;

	o += snprintf(buf + o, len - o, "[");
	for (j = 0; j < s->n_dims && o < len; j++)
		o += snprintf(buf + o, len - o, "%s%llu", j ? ", " : "", (unsigned long long) s->shape[j]);
	if (o < len)
		snprintf(buf + o, len - o, "]");
	return buf;
}

/*
 * Plan one weight: find `name`, check its shape is [rows] (cols == 0) or [rows, cols], where rows < 0
 * accepts any row count and stores it in *rows_out.  Absent optional
 * tensors leave *dst NULL.
 */
static int
want(mrl_model *m, const float **dst, const char *name, int required,
	 int64_t rows, int64_t cols, int *rows_out, char *err, size_t errlen)
{
	char		sb[96],
				shape[96];
	src_tensor	s;
	int			r,
				ndims = cols ? 2 : 1;

	r = find_tensor(m, name, &s, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0)
	{
		if (required)
			mrl_errf(err, errlen, "model file has no tensor \"%s\"", name);
		return required ? -1 : 0;
	}
	if (s.n_dims != ndims || (rows >= 0 && s.shape[0] != (uint64_t) rows) ||
		(cols && s.shape[1] != (uint64_t) cols) || s.shape[0] == 0 || s.shape[0] > INT_MAX)
	{
		if (rows >= 0)
			snprintf(sb, sizeof(sb), cols ? "[%lld, %lld]" : "[%lld]", (long long) rows, (long long) cols);
		else
			snprintf(sb, sizeof(sb), "[n, %lld]", (long long) cols);
		mrl_errf(err, errlen, "tensor \"%s\" has shape %s, the configuration needs %s",
				 s.name, shape_str(&s, shape, sizeof(shape)), sb);
		return -1;
	}
	if (rows_out)
		*rows_out = (int) s.shape[0];
	return add_slot(m, dst, &s, SLOT_CONVERT, s.numel, err, errlen);
}

/* Plan the embedding tensors shared by bert and nomic-bert. */
static int
plan_embeddings(mrl_model *m, char *err, size_t errlen)
{
	mrl_bert_config *c = &m->config;
	mrl_bert_weights *w = &m->weights;
	int			types = 0;

	if (want(m, &w->tok_embd, "token_embd.weight", 1, -1, c->n_embd, &c->n_vocab, err, errlen) ||
		want(m, &w->type_embd, "token_types.weight", 0, -1, c->n_embd, &types, err, errlen) ||
		want(m, &w->embd_norm_w, "token_embd_norm.weight", 1, c->n_embd, 0, NULL, err, errlen) ||
		want(m, &w->embd_norm_b, "token_embd_norm.bias", 1, c->n_embd, 0, NULL, err, errlen))
		return -1;
	if (c->n_token_types > 0 && types != c->n_token_types)
	{
		mrl_errf(err, errlen, "token_types has %d rows, the configuration says %d",
				 types, c->n_token_types);
		return -1;
	}
	c->n_token_types = types;
	if (c->arch == MRL_ARCH_BERT)
		return want(m, &w->pos_embd, "position_embd.weight", 1, m->n_ctx_train, c->n_embd,
					NULL, err, errlen);
	return 0;
}

/* how an architecture uses a layer tensor */
enum
{
	UNUSED = 0,
	REQUIRED = 1,
	OPTIONAL = 2
};

/* a tensor size in units of the configuration */
enum
{
	DIM_NONE = 0,				/* as cols: a 1-D tensor */
	DIM_E,						/* n_embd */
	DIM_3E,						/* 3 * n_embd (fused Q, K, V) */
	DIM_F						/* n_ff */
};

/*
 * The tensors of one layer ("blk.N." + name), their shapes and their use by
 * bert (separate Q/K/V, GELU FFN, all biased), bert with a fused QKV, and
 * nomic-bert (fused QKV, SwiGLU, biases only if the file has them).
 */
static const struct layer_tensor
{
	const char *name;
	size_t		field;			/* offsetof in mrl_bert_layer */
	char		rows,
				cols;
	char		bert,
				bert_fused,
				nomic;
}			layer_tensors[] = {
#define LT(name, field, r, c, b, bf, n) {name, offsetof(mrl_bert_layer, field), r, c, b, bf, n}
	LT("attn_q.weight", wq, DIM_E, DIM_E, REQUIRED, UNUSED, UNUSED),
	LT("attn_q.bias", bq, DIM_E, DIM_NONE, REQUIRED, UNUSED, UNUSED),
	LT("attn_k.weight", wk, DIM_E, DIM_E, REQUIRED, UNUSED, UNUSED),
	LT("attn_k.bias", bk, DIM_E, DIM_NONE, REQUIRED, UNUSED, UNUSED),
	LT("attn_v.weight", wv, DIM_E, DIM_E, REQUIRED, UNUSED, UNUSED),
	LT("attn_v.bias", bv, DIM_E, DIM_NONE, REQUIRED, UNUSED, UNUSED),
	LT("attn_qkv.weight", wqkv, DIM_3E, DIM_E, UNUSED, REQUIRED, REQUIRED),
	LT("attn_qkv.bias", bqkv, DIM_3E, DIM_NONE, UNUSED, REQUIRED, OPTIONAL),
	LT("attn_output.weight", wo, DIM_E, DIM_E, REQUIRED, REQUIRED, REQUIRED),
	LT("attn_output.bias", bo, DIM_E, DIM_NONE, REQUIRED, REQUIRED, OPTIONAL),
	LT("attn_output_norm.weight", attn_norm_w, DIM_E, DIM_NONE, REQUIRED, REQUIRED, REQUIRED),
	LT("attn_output_norm.bias", attn_norm_b, DIM_E, DIM_NONE, REQUIRED, REQUIRED, REQUIRED),
	LT("ffn_up.weight", ffn_up_w, DIM_F, DIM_E, REQUIRED, REQUIRED, REQUIRED),
	LT("ffn_up.bias", ffn_up_b, DIM_F, DIM_NONE, REQUIRED, REQUIRED, OPTIONAL),
	LT("ffn_gate.weight", ffn_gate_w, DIM_F, DIM_E, UNUSED, UNUSED, REQUIRED),
	LT("ffn_down.weight", ffn_down_w, DIM_E, DIM_F, REQUIRED, REQUIRED, REQUIRED),
	LT("ffn_down.bias", ffn_down_b, DIM_E, DIM_NONE, REQUIRED, REQUIRED, OPTIONAL),
	LT("layer_output_norm.weight", ffn_norm_w, DIM_E, DIM_NONE, REQUIRED, REQUIRED, REQUIRED),
	LT("layer_output_norm.bias", ffn_norm_b, DIM_E, DIM_NONE, REQUIRED, REQUIRED, REQUIRED),
#undef LT
};

/* A DIM_* unit in elements. */
static int64_t
dim_size(const mrl_bert_config *c, int d)
{
	return d == DIM_E ? c->n_embd : d == DIM_3E ? 3 * (int64_t) c->n_embd
		: d == DIM_F ? c->n_ff : 0;
}

/* Plan the tensors of layer i per layer_tensors. */
static int
plan_layer(mrl_model *m, int i, mrl_bert_layer *l, int fused, char *err, size_t errlen)
{
	const mrl_bert_config *c = &m->config;
	char		name[96];
	size_t		k;

	for (k = 0; k < sizeof(layer_tensors) / sizeof(layer_tensors[0]); k++)
	{
		const struct layer_tensor *t = &layer_tensors[k];
		int			use = c->arch == MRL_ARCH_NOMIC_BERT ? t->nomic
			: fused ? t->bert_fused : t->bert;

		if (use == UNUSED)
			continue;
		snprintf(name, sizeof(name), "blk.%d.%s", i, t->name);
		if (want(m, (const float **) ((char *) l + t->field), name, use == REQUIRED,
				 dim_size(c, t->rows), dim_size(c, t->cols), NULL, err, errlen))
			return -1;
	}
	return 0;
}

/* Check the configuration's sizes, then plan every transformer weight. */
static int
plan_transformer(mrl_model *m, char *err, size_t errlen)
{
	mrl_bert_config *c = &m->config;
	src_tensor	probe;
	int			i,
				fused;

	if (c->n_layer < 1 || c->n_layer > MAX_LAYERS || c->n_embd < 1 || c->n_embd > MAX_EMBD ||
		c->n_head < 1 || c->n_embd % c->n_head != 0 || c->n_ff < 1 || c->n_ff > MAX_FF ||
		m->n_ctx_train < 1 || m->n_ctx_train > MAX_CTX || !(c->norm_eps > 0 && c->norm_eps < 1) ||
		(c->arch == MRL_ARCH_NOMIC_BERT && ((c->n_embd / c->n_head) % 2 != 0 || !(c->rope_theta > 0))))
	{
		mrl_errf(err, errlen, "implausible configuration: %d layers, hidden %d, %d heads, "
				 "ffn %d, context %d, eps %g, rope base %g", c->n_layer, c->n_embd, c->n_head,
				 c->n_ff, m->n_ctx_train, c->norm_eps, c->rope_theta);
		return -1;
	}
	if (c->n_ctx <= 0 || c->n_ctx > m->n_ctx_train)
		c->n_ctx = m->n_ctx_train;
	m->priv->layers = calloc(c->n_layer, sizeof(mrl_bert_layer));
	if (m->priv->layers == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return -1;
	}
	m->weights.layers = m->priv->layers;
	if (plan_embeddings(m, err, errlen))
		return -1;
	/* a bert file may fuse Q, K and V like nomic-bert */
	fused = c->arch == MRL_ARCH_BERT && find_tensor(m, "blk.0.attn_q.weight", &probe, err, errlen) != 1;
	for (i = 0; i < c->n_layer; i++)
		if (plan_layer(m, i, &m->priv->layers[i], fused, err, errlen))
			return -1;
	return 0;
}

/* bert with a fused QKV: point Q, K, V at its row blocks (Q, then K, then V). */
static void
split_fused_qkv(mrl_model *m)
{
	size_t		e = (size_t) m->config.n_embd;
	int			i;

	if (m->config.arch != MRL_ARCH_BERT)
		return;
	for (i = 0; i < m->config.n_layer; i++)
	{
		mrl_bert_layer *l = &m->priv->layers[i];

		if (l->wqkv == NULL)
			continue;
		l->wq = l->wqkv;
		l->wk = l->wqkv + e * e;
		l->wv = l->wqkv + 2 * e * e;
		l->bq = l->bqkv;
		l->bk = l->bqkv + e;
		l->bv = l->bqkv + 2 * e;
		l->wqkv = l->bqkv = NULL;
	}
}

/* ------------------------------------------------------- materialisation */

/*
 * Convert elements [first, first + n) of a slot's output into out.  For
 * SLOT_CONVERT first and n are multiples of the block size; for
 * SLOT_STATIC_GATHER (float tables, block size 1) multiples of the row.
 */
static void
fill_range(mrl_model *m, const slot *s, uint64_t first, uint64_t n, float *out)
{
	mrl_model_private *p = m->priv;
	uint64_t	dim,
				i,
				j;
	size_t		esize;
	int64_t		row;
	float		w;

	if (s->kind == SLOT_CONVERT)
	{
		mrl_dequantize(s->src.type, (const uint8_t *) s->src.data +
					   first / mrl_ggml_block_elems(s->src.type) * mrl_ggml_block_bytes(s->src.type),
					   out, n);
		return;
	}
	dim = s->src.shape[1];
	esize = mrl_ggml_block_bytes(s->src.type);
	for (i = first / dim; i < (first + n) / dim; i++, out += dim)
	{
		row = (int64_t) i;
		if (p->has_mapping)
			memcpy(&row, (const int64_t *) p->m2v_mapping.data + i, sizeof(row));
		mrl_dequantize(s->src.type, (const uint8_t *) s->src.data + row * dim * esize, out, dim);
		if (p->has_weights)
		{
			mrl_dequantize(p->m2v_weights.type,
						   (const uint8_t *) p->m2v_weights.data +
						   i * mrl_ggml_block_bytes(p->m2v_weights.type), &w, 1);
			for (j = 0; j < dim; j++)
				out[j] *= w;
		}
	}
}

/* Elements converted per step when writing a cache file (whole blocks/rows). */
static uint64_t
chunk_elems(const slot *s)
{
	uint64_t	unit = s->kind == SLOT_CONVERT ? QUANT_CHUNK : s->src.shape[1];

	return s->kind == SLOT_CONVERT ? unit : (QUANT_CHUNK / unit > 0 ? QUANT_CHUNK / unit : 1) * unit;
}

/*
 * The cache key: the identity of every source file and the conversion plan,
 * so any change gives a new file.
 */
static uint64_t
cache_key(mrl_model *m, const char *content_key)
{
	mrl_model_private *p = m->priv;
	uint64_t	h;
	char		buf[256];

	if (content_key)
		h = mrl_cache_key_content(content_key);
	else
		h = mrl_cache_key_files(p->source_paths, p->n_source_paths);

	for (int i = 0; i < p->n_slots; i++)
	{
		const slot *s = &p->slots[i];

		if (s->in_place)
			continue;
		snprintf(buf, sizeof(buf), "%s|%u|%d|%llu|%zu\n", s->src.name, s->src.type, s->kind,
				 (unsigned long long) s->out_numel, s->out_offset);
		h = mrl_cache_hash(h, buf, strlen(buf));
	}
	return h;
}

/* Convert every slot chunk by chunk through buf into the cache file. */
static int
write_slots(mrl_model *m, mrl_cache_writer *w, float *buf)
{
	uint64_t	pos,
				n;
	int			i;

	for (i = 0; i < m->priv->n_slots; i++)
	{
		const slot *s = &m->priv->slots[i];

		for (pos = 0; !s->in_place && pos < s->out_numel; pos += n)
		{
			n = chunk_elems(s);
			if (n > s->out_numel - pos)
				n = s->out_numel - pos;
			fill_range(m, s, pos, n, buf);
			if (mrl_cache_put(w, s->out_offset + pos, buf, n) != 0)
				return -1;
		}
	}
	return 0;
}

/*
 * Write the cache file at path: convert with pwrite (no page faults on a
 * huge mapping), then commit it; 0, or -1 with why in m->cache_note.
 */
static int
cache_write(mrl_model *m, const char *dir, const char *path, uint64_t key, uint64_t n_floats)
{
	mrl_cache_writer w;
	float	   *buf = malloc(QUANT_CHUNK * sizeof(float));
	int			rc = -1;

	if (buf == NULL)
		mrl_errf(m->cache_note, sizeof(m->cache_note), "out of memory");
	else if (mrl_cache_create(&w, dir, key, n_floats, m->cache_note, sizeof(m->cache_note)) == 0)
	{
		if (write_slots(m, &w, buf) == 0)
			rc = mrl_cache_commit(&w, path, m->cache_note, sizeof(m->cache_note));
		else
			mrl_cache_abort(&w, m->cache_note, sizeof(m->cache_note));
	}
	free(buf);
	return rc;
}

/*
 * Convert every slot into private memory: an anonymous mapping populated in
 * one go, much cheaper than faulting in hundreds of MB page by page.
 */
static int
convert_private(mrl_model *m, uint64_t n_floats, char *err, size_t errlen)
{
	mrl_model_private *p = m->priv;
	void	   *buf;
	int			i;

	if (n_floats > SIZE_MAX / sizeof(float) ||
		(buf = mmap(NULL, n_floats * sizeof(float), PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0)) == MAP_FAILED)
	{
		mrl_errf(err, errlen, "out of memory converting %llu weights", (unsigned long long) n_floats);
		return -1;
	}
	p->private_map.base = buf;
	p->private_map.size = n_floats * sizeof(float);
	for (i = 0; i < p->n_slots; i++)
		if (!p->slots[i].in_place)
			fill_range(m, &p->slots[i], 0, p->slots[i].out_numel, (float *) buf + p->slots[i].out_offset);
	return 0;
}

/*
 * Decide which slots are used in place, lay out the others in one float32
 * buffer (cache file or private memory) and set every destination pointer.
 */
static int
materialise(mrl_model *m, const mrl_load_options *opts, char *err, size_t errlen)
{
	mrl_model_private *p = m->priv;
	uint64_t	n_floats = 0,
				key;
	const float *base = NULL;
	int			i;

	for (i = 0; i < p->n_slots; i++)
	{
		slot	   *s = &p->slots[i];

		s->in_place = s->kind == SLOT_CONVERT && s->src.type == MRL_TYPE_F32 &&
			((uintptr_t) s->src.data % sizeof(float)) == 0;
		if (s->in_place)
			continue;
		s->out_offset = n_floats;
		n_floats += (s->out_numel + CACHE_ALIGN - 1) / CACHE_ALIGN * CACHE_ALIGN;
	}
	m->converted_bytes = n_floats * sizeof(float);
	if (n_floats > 0 && opts && opts->cache_dir)
	{
		key = cache_key(m, opts->content_key);
		m->cache_path = mrl_cache_path(opts->cache_dir, key);
		if (m->cache_path && mrl_cache_open(m->cache_path, key, n_floats, &p->cache_map) == 0)
			m->cache_hit = 1;
		else if (m->cache_path && cache_write(m, opts->cache_dir, m->cache_path, key, n_floats) == 0 &&
				 mrl_cache_open(m->cache_path, key, n_floats, &p->cache_map) == 0)
			m->cache_hit = 0;
		else
		{
			free(m->cache_path);
			m->cache_path = NULL;
		}
		if (p->cache_map.base)
			base = (const float *) (p->cache_map.base + MRL_CACHE_HEADER);
	}
	else if (n_floats > 0)
		mrl_errf(m->cache_note, sizeof(m->cache_note), "no cache directory given");
	if (n_floats > 0 && base == NULL)
	{
		if (convert_private(m, n_floats, err, errlen))
			return -1;
		base = (const float *) p->private_map.base;
	}
	for (i = 0; i < p->n_slots; i++)
		*p->slots[i].dst = p->slots[i].in_place ? (const float *) p->slots[i].src.data
			: base + p->slots[i].out_offset;
	split_fused_qkv(m);
	return 0;
}

/* ------------------------------------------------------------------ GGUF */

/* Integer hyperparameter "<arch>.<key>" into *out (required unless dflt >= 0). */
static int
gguf_hparam(mrl_model *m, const char *arch, const char *key, int64_t dflt, int *out,
			char *err, size_t errlen)
{
	char		full[128];
	int64_t		v;
	int			r;

	snprintf(full, sizeof(full), "%s.%s", arch, key);
	r = mrl_gguf_get_int(m->priv->gguf, full, &v);
	if (r == 0 && dflt >= 0)
		v = dflt;
	else if (r <= 0 || v < 0 || v > INT_MAX)
	{
		mrl_errf(err, errlen, r == 0 ? "GGUF metadata \"%s\" is missing"
				 : "GGUF metadata \"%s\" must be a non-negative integer", full);
		return -1;
	}
	*out = (int) v;
	return 0;
}

/* Float hyperparameter "<arch>.<key>", default when absent. */
static int
gguf_fparam(mrl_model *m, const char *arch, const char *key, double dflt, float *out,
			char *err, size_t errlen)
{
	char		full[128];
	double		v = dflt;

	snprintf(full, sizeof(full), "%s.%s", arch, key);
	if (mrl_gguf_get_float(m->priv->gguf, full, &v) < 0)
	{
		mrl_errf(err, errlen, "GGUF metadata \"%s\" must be a float", full);
		return -1;
	}
	*out = (float) v;
	return 0;
}

/* The GGUF tokenizer must be WordPiece with a token list no larger than the table. */
static int
gguf_tokenizer(mrl_model *m, char *err, size_t errlen)
{
	const mrl_gguf *g = m->priv->gguf;
	const mrl_gguf_kv *toks = mrl_gguf_find_kv(g, "tokenizer.ggml.tokens");
	mrl_gguf_str model;

	if (mrl_gguf_get_string(g, "tokenizer.ggml.model", &model) != 1)
	{
		mrl_errf(err, errlen, "GGUF has no tokenizer (tokenizer.ggml.model)");
		return -1;
	}
	if (!mrl_gguf_str_eq(model, "bert"))
	{
		mrl_errf(err, errlen, "tokenizer model \"%.*s\" is not supported (only \"bert\" WordPiece)",
				 (int) (model.len > 64 ? 64 : model.len), model.ptr);
		return -1;
	}
	if (toks == NULL || toks->type != MRL_GGUF_ARRAY || toks->arr_type != MRL_GGUF_STRING ||
		toks->arr_count == 0 || toks->arr_count > (uint64_t) m->config.n_vocab)
	{
		mrl_errf(err, errlen, "tokenizer.ggml.tokens must be a string array of 1 to %d tokens",
				 m->config.n_vocab);
		return -1;
	}
	m->tok_source = MRL_TOK_GGUF;
	m->gguf = g;
	m->add_special_tokens = 1;
	return 0;
}

/* Architecture, hyperparameters, pooling of a GGUF embedding model. */
static int
gguf_config(mrl_model *m, char *err, size_t errlen)
{
	mrl_gguf   *g = m->priv->gguf;
	mrl_bert_config *c = &m->config;
	mrl_gguf_str archs;
	char		arch[32],
				key[64];
	int			pooling,
				causal = 0,
				kv_heads,
				n_rot;

	if (mrl_gguf_get_string(g, "general.architecture", &archs) != 1)
	{
		mrl_errf(err, errlen, "GGUF has no general.architecture");
		return -1;
	}
	snprintf(arch, sizeof(arch), "%.*s", (int) (archs.len > 31 ? 31 : archs.len), archs.ptr);
	if (mrl_gguf_str_eq(archs, "bert"))
		c->arch = MRL_ARCH_BERT;
	else if (mrl_gguf_str_eq(archs, "nomic-bert"))
		c->arch = MRL_ARCH_NOMIC_BERT;
	else
	{
		mrl_errf(err, errlen, "model architecture \"%.*s\" is not supported (bert, nomic-bert)",
				 (int) (archs.len > 64 ? 64 : archs.len), archs.ptr);
		return -1;
	}
	if (gguf_hparam(m, arch, "block_count", -1, &c->n_layer, err, errlen) ||
		gguf_hparam(m, arch, "embedding_length", -1, &c->n_embd, err, errlen) ||
		gguf_hparam(m, arch, "feed_forward_length", -1, &c->n_ff, err, errlen) ||
		gguf_hparam(m, arch, "attention.head_count", -1, &c->n_head, err, errlen) ||
		gguf_hparam(m, arch, "attention.head_count_kv", c->n_head, &kv_heads, err, errlen) ||
		gguf_hparam(m, arch, "context_length", -1, &m->n_ctx_train, err, errlen) ||
		gguf_hparam(m, arch, "pooling_type", MRL_POOL_MEAN, &pooling, err, errlen) ||
		gguf_fparam(m, arch, "attention.layer_norm_epsilon", 1e-12, &c->norm_eps, err, errlen) ||
		gguf_fparam(m, arch, "rope.freq_base", 10000.0, &c->rope_theta, err, errlen))
		return -1;
	if (kv_heads != c->n_head)
	{
		mrl_errf(err, errlen, "grouped-query attention (%d KV heads, %d heads) is not supported",
				 kv_heads, c->n_head);
		return -1;
	}
	if (c->arch == MRL_ARCH_NOMIC_BERT && c->n_head > 0 &&
		(gguf_hparam(m, arch, "rope.dimension_count", c->n_embd / c->n_head, &n_rot, err, errlen) ||
		 n_rot != c->n_embd / c->n_head))
	{
		mrl_errf(err, errlen, "partial rotary embeddings are not supported");
		return -1;
	}
	snprintf(key, sizeof(key), "%s.attention.causal", arch);
	if (mrl_gguf_get_bool(g, key, &causal) < 0 || causal)
	{
		mrl_errf(err, errlen, "causal attention is not supported for an encoder");
		return -1;
	}
	if (pooling != MRL_POOL_MEAN && pooling != MRL_POOL_CLS)
	{
		static const char *const names[] = {"NONE", "MEAN", "CLS", "LAST", "RANK"};

		mrl_errf(err, errlen, "pooling type %s is not supported (MEAN, CLS)",
				 pooling < 5 ? names[pooling] : "unknown");
		return -1;
	}
	c->pooling = (mrl_pooling) pooling;
	c->normalize = 1;			/* llama.cpp L2-normalises embeddings */
	c->n_ctx = m->n_ctx_train;
	return 0;
}

static int
load_gguf(mrl_model *m, const char *path, char *err, size_t errlen)
{
	m->priv->kind = SRC_GGUF;
	m->priv->gguf = mrl_gguf_open(path, err, errlen);
	if (m->priv->gguf == NULL || add_source_path(m, path) || note_file_read(m, path) ||
		gguf_config(m, err, errlen) || plan_transformer(m, err, errlen))
		return -1;
	return gguf_tokenizer(m, err, errlen);
}

/* ------------------------------------------------------ Hugging Face dirs */

/* Read config.json of a BertModel or NomicBertModel. */
static int
hf_config(mrl_model *m, json_object *cfg, char *err, size_t errlen)
{
	mrl_bert_config *c = &m->config;
	const char *type = json_str(cfg, "model_type");
	const char *s;
	double		eps = 1e-12,
				theta = 10000,
				frac = 1.0;

	c->n_token_types = 0;
	if (type && strcmp(type, "bert") == 0)
	{
		c->arch = MRL_ARCH_BERT;
		c->n_ff = 3072;
		m->n_ctx_train = 512;
		if ((s = json_str(cfg, "hidden_act")) && strcmp(s, "gelu") != 0)
		{
			mrl_errf(err, errlen, "hidden_act \"%s\" is not supported (gelu)", s);
			return -1;
		}
		if ((s = json_str(cfg, "position_embedding_type")) && strcmp(s, "absolute") != 0)
		{
			mrl_errf(err, errlen, "position_embedding_type \"%s\" is not supported (absolute)", s);
			return -1;
		}
		if (json_int(cfg, "hidden_size", 1, 1, MAX_EMBD, &c->n_embd, err, errlen) ||
			json_int(cfg, "num_hidden_layers", 1, 1, MAX_LAYERS, &c->n_layer, err, errlen) ||
			json_int(cfg, "num_attention_heads", 1, 1, MAX_EMBD, &c->n_head, err, errlen) ||
			json_int(cfg, "intermediate_size", 0, 1, MAX_FF, &c->n_ff, err, errlen) ||
			json_int(cfg, "max_position_embeddings", 0, 1, INT_MAX, &m->n_ctx_train, err, errlen) ||
			json_int(cfg, "type_vocab_size", 0, 0, INT_MAX, &c->n_token_types, err, errlen) ||
			json_num(cfg, "layer_norm_eps", &eps, err, errlen))
			return -1;
		c->norm_eps = (float) eps;
		return 0;
	}
	if (type && strcmp(type, "nomic_bert") == 0)
	{
		c->arch = MRL_ARCH_NOMIC_BERT;
		m->n_ctx_train = 2048;
		if (((s = json_str(cfg, "activation_function")) && strcmp(s, "swiglu") != 0) ||
			json_flag(cfg, "rotary_emb_interleaved") || json_flag(cfg, "prenorm") ||
			json_num(cfg, "rotary_emb_fraction", &frac, err, errlen) || frac != 1.0)
		{
			mrl_errf(err, errlen, "this nomic_bert variant is not supported (needs swiglu, "
					 "post-norm, full non-interleaved rotary embeddings)");
			return -1;
		}
		if (json_int(cfg, "n_embd", 1, 1, MAX_EMBD, &c->n_embd, err, errlen) ||
			json_int(cfg, "n_layer", 1, 1, MAX_LAYERS, &c->n_layer, err, errlen) ||
			json_int(cfg, "n_head", 1, 1, MAX_EMBD, &c->n_head, err, errlen))
			return -1;
		c->n_ff = 4 * c->n_embd;	/* GPT-2 convention when n_inner is null */
		if (json_int(cfg, "n_inner", 0, 1, MAX_FF, &c->n_ff, err, errlen) ||
			json_int(cfg, "n_positions", 0, 1, INT_MAX, &m->n_ctx_train, err, errlen) ||
			json_int(cfg, "max_trained_positions", 0, 1, INT_MAX, &m->n_ctx_train, err, errlen) ||
			json_int(cfg, "type_vocab_size", 0, 0, INT_MAX, &c->n_token_types, err, errlen) ||
			json_num(cfg, "layer_norm_epsilon", &eps, err, errlen) ||
			json_num(cfg, "rotary_emb_base", &theta, err, errlen))
			return -1;
		c->norm_eps = (float) eps;
		c->rope_theta = (float) theta;
		return 0;
	}
	mrl_errf(err, errlen, "model_type \"%s\" is not supported (bert, nomic_bert, model2vec, "
			 "sentence-transformers StaticEmbedding)", type ? type : "(none)");
	return -1;
}

/*
 * sentence-transformers modules.json: pooling (1_Pooling/config.json),
 * Normalize, and the directory of the first module (Transformer or
 * StaticEmbedding; older snapshots keep the model in e.g. 0_Transformer/).
 * Without modules.json sentence-transformers uses mean pooling and no
 * normalisation, and the model is dir itself.
 */
static int
st_modules(mrl_model *m, const char *dir, char *model_dir, size_t mdlen, int *is_static,
		   char *err, size_t errlen)
{
	json_object *mods = NULL,
			   *pool;
	char	   *path = path_join(dir, "modules.json"),
				sub[PATH_MAX];
	size_t		i;
	int			rc = 0;

	m->config.pooling = MRL_POOL_MEAN;
	m->config.normalize = 0;
	*is_static = 0;
	snprintf(model_dir, mdlen, "%s", dir);
	if (path && access(path, R_OK) == 0)
	{
		mods = json_object_from_file(path);
		if (note_file_read(m, path) != 0)
		{
			json_object_put(mods);
			free(path);
			mrl_errf(err, errlen, "out of memory");
			return -1;
		}
	}
	else if (path)
	{
		free(path);
		return 0;
	}
	free(path);
	if (mods == NULL || !json_object_is_type(mods, json_type_array))
	{
		json_object_put(mods);
		mrl_errf(err, errlen, "%s/modules.json is not a JSON array", dir);
		return -1;
	}
	for (i = 0; i < json_object_array_length(mods) && rc == 0; i++)
	{
		json_object *mod = json_object_array_get_idx(mods, i);
		const char *type = mod ? json_str(mod, "type") : NULL;
		const char *mpath = mod ? json_str(mod, "path") : NULL;
		const char *base = type ? strrchr(type, '.') : NULL;

		base = base ? base + 1 : (type ? type : "");
		if (mpath == NULL || strstr(mpath, "..") || mpath[0] == '/')
			mpath = "";
		if (strcmp(base, "Normalize") == 0)
			m->config.normalize = 1;
		else if (strcmp(base, "Transformer") == 0 || strcmp(base, "StaticEmbedding") == 0)
		{
			if (mpath[0] && strcmp(mpath, ".") != 0)
				snprintf(model_dir, mdlen, "%s/%s", dir, mpath);
			*is_static = base[0] == 'S';
		}
		else if (strcmp(base, "Pooling") == 0)
		{
			snprintf(sub, sizeof(sub), "%s/%s", dir, mpath);
			pool = read_json(m, sub, "config.json", 1, err, errlen);
			if (pool == NULL)
				rc = -1;
			else if (json_flag(pool, "pooling_mode_cls_token") +
					 json_flag(pool, "pooling_mode_mean_tokens") != 1 ||
					 json_flag(pool, "pooling_mode_max_tokens") ||
					 json_flag(pool, "pooling_mode_mean_sqrt_len_tokens") ||
					 json_flag(pool, "pooling_mode_weightedmean_tokens") ||
					 json_flag(pool, "pooling_mode_lasttoken"))
			{
				mrl_errf(err, errlen, "%s/config.json: only CLS or mean pooling is supported", sub);
				rc = -1;
			}
			else
				m->config.pooling = json_flag(pool, "pooling_mode_cls_token") ? MRL_POOL_CLS : MRL_POOL_MEAN;
			json_object_put(pool);
		}
		else
		{
			mrl_errf(err, errlen, "sentence-transformers module \"%s\" is not supported",
					 type ? type : "(no type)");
			rc = -1;
		}
	}
	json_object_put(mods);
	return rc;
}

/* Open model.safetensors or its sharded index in dir. */
static int
open_weights(mrl_model *m, const char *dir, char *err, size_t errlen)
{
	mrl_model_private *p = m->priv;
	const char *name = file_exists(dir, "model.safetensors") ? "model.safetensors"
		: "model.safetensors.index.json";
	char	   *path = path_join(dir, name);
	int			i;

	if (!file_exists(dir, name))
	{
		mrl_errf(err, errlen, "%s has no model.safetensors%s", dir,
				 file_exists(dir, "pytorch_model.bin") ?
				 " (pytorch_model.bin is a pickle and cannot be read safely: convert it to safetensors)" : "");
		free(path);
		return -1;
	}
	p->kind = SRC_SAFETENSORS;
	p->st = path ? mrl_st_set_open(path, err, errlen) : NULL;
	if (p->st == NULL || note_file_read(m, path) != 0)
	{
		free(path);
		return -1;
	}
	free(path);
	for (i = 0; i < p->st->n_files; i++)
		if (add_source_path(m, p->st->paths[i]) || note_file_read(m, p->st->paths[i]))
			return -1;
	return 0;
}

/* The tokenizer.json of a directory. */
static int
json_tokenizer(mrl_model *m, const char *dir, char *err, size_t errlen)
{
	if (!file_exists(dir, "tokenizer.json"))
	{
		mrl_errf(err, errlen, "%s has no tokenizer.json", dir);
		return -1;
	}
	m->tokenizer_path = path_join(dir, "tokenizer.json");
	m->tok_source = MRL_TOK_JSON;
	return m->tokenizer_path ? note_file_read(m, m->tokenizer_path) : -1;
}

/* A BertModel / NomicBertModel snapshot. */
static int
load_hf_transformer(mrl_model *m, const char *dir, json_object *cfg, char *err, size_t errlen)
{
	json_object *sbert;
	static const char *const prefixes[] = {"", "bert.", "model."};
	size_t		i;
	char		probe[160];

	if (hf_config(m, cfg, err, errlen) || open_weights(m, dir, err, errlen))
		return -1;
	m->priv->hf_prefix = "";
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
	{
		snprintf(probe, sizeof(probe), "%sembeddings.word_embeddings.weight", prefixes[i]);
		if (mrl_st_set_find(m->priv->st, probe, NULL))
			m->priv->hf_prefix = prefixes[i];
	}
	sbert = read_json(m, dir, "sentence_bert_config.json", 0, err, errlen);
	if (sbert && json_int(sbert, "max_seq_length", 0, 1, INT_MAX, &m->config.n_ctx, err, errlen))
	{
		json_object_put(sbert);
		return -1;
	}
	json_object_put(sbert);
	m->add_special_tokens = 1;
	return plan_transformer(m, err, errlen) || json_tokenizer(m, dir, err, errlen) ? -1 : 0;
}

/* Validate model2vec's optional mapping (int64 row ids) and weights. */
static int
static_extras(mrl_model *m, uint64_t rows, uint64_t *n_vocab, char *err, size_t errlen)
{
	mrl_model_private *p = m->priv;
	const mrl_st_tensor *map = mrl_st_set_find(p->st, "mapping", NULL);
	const mrl_st_tensor *wt = mrl_st_set_find(p->st, "weights", NULL);
	uint64_t	i;
	int64_t		row;

	*n_vocab = rows;
	if (map)
	{
		if (strcmp(map->dtype, "I64") != 0 || map->n_dims != 1 || map->numel == 0)
		{
			mrl_errf(err, errlen, "model2vec \"mapping\" must be a 1-D I64 tensor");
			return -1;
		}
		for (i = 0; i < map->numel; i++)
			if (memcpy(&row, map->data + i * sizeof(row), sizeof(row)), row < 0 ||
				(uint64_t) row >= rows)
			{
				mrl_errf(err, errlen, "model2vec \"mapping\"[%llu] is outside the table",
						 (unsigned long long) i);
				return -1;
			}
		snprintf(p->m2v_mapping.name, sizeof(p->m2v_mapping.name), "mapping");
		p->m2v_mapping.data = map->data;
		p->has_mapping = 1;
		*n_vocab = map->numel;
	}
	if (wt)
	{
		if (src_from_st(wt, &p->m2v_weights, err, errlen))
			return -1;
		if (wt->n_dims != 1 || wt->numel != *n_vocab)
		{
			mrl_errf(err, errlen, "model2vec \"weights\" must have one value per token (%llu)",
					 (unsigned long long) *n_vocab);
			return -1;
		}
		p->has_weights = 1;
	}
	return 0;
}

/*
 * A static model: model2vec (model.safetensors "embeddings", optional
 * mapping/weights, config.json normalize) or sentence-transformers
 * StaticEmbedding ("embedding.weight").  Mean pooling, no special tokens.
 */
static int
load_static(mrl_model *m, const char *dir, json_object *cfg, char *err, size_t errlen)
{
	mrl_model_private *p = m->priv;
	const mrl_st_tensor *t;
	src_tensor	s;
	uint64_t	n_vocab;
	int			m2v;

	if (open_weights(m, dir, err, errlen))
		return -1;
	m2v = (t = mrl_st_set_find(p->st, "embeddings", NULL)) != NULL;
	if (!m2v && (t = mrl_st_set_find(p->st, "embedding.weight", NULL)) == NULL)
	{
		mrl_errf(err, errlen, "%s: no \"embeddings\" or \"embedding.weight\" tensor", dir);
		return -1;
	}
	if (src_from_st(t, &s, err, errlen) || static_extras(m, t->shape[0], &n_vocab, err, errlen))
		return -1;
	if (s.n_dims != 2 || s.shape[0] == 0 || s.shape[1] == 0 || s.shape[1] > MAX_EMBD ||
		n_vocab > INT_MAX)
	{
		mrl_errf(err, errlen, "static embedding table \"%s\" must be 2-D [vocab, dim]", s.name);
		return -1;
	}
	m->config.arch = MRL_ARCH_STATIC;
	m->config.n_embd = (int) s.shape[1];
	m->config.n_vocab = (int) n_vocab;
	m->config.pooling = MRL_POOL_MEAN;
	m->config.n_ctx = 0;
	if (cfg && json_flag(cfg, "normalize"))
		m->config.normalize = 1;
	m->drop_unk = m2v;
	m->add_special_tokens = 0;
	if (add_slot(m, &m->weights.tok_embd, &s,
				 p->has_mapping || p->has_weights ? SLOT_STATIC_GATHER : SLOT_CONVERT,
				 n_vocab * s.shape[1], err, errlen))
		return -1;
	return json_tokenizer(m, dir, err, errlen);
}

/* A directory: sentence-transformers / Hugging Face / model2vec layouts. */
static int
load_dir(mrl_model *m, const char *dir, char *err, size_t errlen)
{
	char		mdir[PATH_MAX];
	json_object *cfg;
	const char *type;
	int			rc,
				is_static;

	if (st_modules(m, dir, mdir, sizeof(mdir), &is_static, err, errlen))
		return -1;
	cfg = read_json(m, mdir, "config.json", 0, err, errlen);
	if (cfg == NULL && err[0])
		return -1;
	type = cfg ? json_str(cfg, "model_type") : NULL;
	if (is_static || (type && strcmp(type, "model2vec") == 0))
		rc = load_static(m, mdir, cfg, err, errlen);
	else if (cfg)
		rc = load_hf_transformer(m, mdir, cfg, err, errlen);
	else
	{
		mrl_errf(err, errlen, "%s: no config.json or modules.json: not a model directory", mdir);
		rc = -1;
	}
	json_object_put(cfg);
	return rc;
}

/* ------------------------------------------------------------ public API */

mrl_model *
mrl_model_load(const char *path, const mrl_load_options *opts, char *err, size_t errlen)
{
	mrl_model  *m = calloc(1, sizeof(*m));
	char		local[1024];
	struct stat st;
	int			rc;

	if (err == NULL || errlen == 0)
	{
		err = local;
		errlen = sizeof(local);
	}
	err[0] = '\0';
	if (m == NULL || (m->priv = calloc(1, sizeof(*m->priv))) == NULL)
	{
		free(m);
		mrl_errf(err, errlen, "out of memory");
		return NULL;
	}
	if (stat(path, &st) != 0)
	{
		mrl_errf(err, errlen, "could not open model \"%s\": %s", path, strerror(errno));
		rc = -1;
	}
	else if (S_ISDIR(st.st_mode))
		rc = load_dir(m, path, err, errlen);
	else
		rc = load_gguf(m, path, err, errlen);
	if (rc == 0 && !(opts && opts->plan_only))
		rc = materialise(m, opts, err, errlen);
	if (rc != 0)
	{
		mrl_model_free(m);
		return NULL;
	}
	return m;
}

int
mrl_model_files(const char *path, char ***files, int *n, char *err, size_t errlen)
{
	mrl_load_options lo = {NULL, NULL, 1};
	mrl_model  *m = mrl_model_load(path, &lo, err, errlen);

	if (m == NULL)
		return -1;
	/* hand the list over to the caller */
	*files = m->priv->files_read;
	*n = m->priv->n_files_read;
	m->priv->files_read = NULL;
	m->priv->n_files_read = 0;
	mrl_model_free(m);
	return 0;
}

void
mrl_model_free(mrl_model *m)
{
	mrl_model_private *p;
	int			i;

	if (m == NULL)
		return;
	p = m->priv;
	if (p)
	{
		mrl_gguf_close(p->gguf);
		mrl_st_set_close(p->st);
		for (i = 0; i < p->n_source_paths; i++)
			free(p->source_paths[i]);
		for (i = 0; i < p->n_files_read; i++)
			free(p->files_read[i]);
		free(p->files_read);
		free(p->slots);
		free(p->layers);
		mrl_unmap(&p->cache_map);
		mrl_unmap(&p->private_map);
		free(p);
	}
	free(m->tokenizer_path);
	free(m->cache_path);
	free(m);
}
