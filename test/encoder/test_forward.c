/*
 * test_forward.c: the encoder forward pass against the PyTorch reference.
 *
 * usage: test_forward EXPECTED.json MODELDIR...
 * EXPECTED.json is written by reference_forward.py (float64 PyTorch, padded
 * batches with a mask); each MODELDIR is a tiny Hugging Face model made by
 * make_tiny_models.py.  Prints TAP.
 */
#include "bert.h"

#include <json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAYERS	8
#define MAX_SEQS	64
#define COS_MIN		0.99999
#define REL_MAX		1e-5		/* float32 vs float64 gives ~5e-7 */

static int	n_test = 0;
static int	n_failed = 0;

/* Prints one TAP line. */
static void
ok(int cond, const char *fmt,...)
{
	va_list		ap;

	printf("%sok %d - ", cond ? "" : "not ", ++n_test);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		n_failed++;
}

/* ---------------------------------------------------------------------
 * A minimal Hugging Face directory reader (F32 safetensors + config.json),
 * enough for the tiny test models.
 * --------------------------------------------------------------------- */

typedef struct tiny_model
{
	mrl_bert_config cfg;
	mrl_bert_weights w;
	mrl_bert_layer layers[MAX_LAYERS];
	char	   *file;			/* the whole safetensors file */
	size_t		file_len;
	json_object *header;
	size_t		data_start;
} tiny_model;

/* Reads a whole file into malloc'd memory (NULL on error). */
static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	long		n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
		fseek(f, 0, SEEK_SET) == 0 && (buf = malloc(n + 1)) != NULL)
	{
		if (fread(buf, 1, n, f) != (size_t) n)
		{
			free(buf);
			buf = NULL;
		}
		else
		{
			buf[n] = '\0';
			*len = n;
		}
	}
	fclose(f);
	return buf;
}

/* The F32 tensor called name with numel elements, or NULL. */
static const float *
tensor(tiny_model *m, const char *name, size_t numel)
{
	json_object *t,
			   *offs;
	size_t		b,
				e;

	if (!json_object_object_get_ex(m->header, name, &t) ||
		!json_object_object_get_ex(t, "data_offsets", &offs))
		return NULL;
	b = json_object_get_int64(json_object_array_get_idx(offs, 0));
	e = json_object_get_int64(json_object_array_get_idx(offs, 1));
	if (e - b != numel * sizeof(float) || m->data_start + e > m->file_len)
		return NULL;
	return (const float *) (m->file + m->data_start + b);
}

/* An integer from config.json. */
static int
cfg_int(json_object *c, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(c, key, &v) ? json_object_get_int(v) : 0;
}

/* Points the weights of a BertModel at the safetensors data. */
static void
map_bert(tiny_model *m)
{
	mrl_bert_config *c = &m->cfg;
	size_t		d = c->n_embd,
				ff = c->n_ff;
	char		n[128];
	int			i;

#define T(field, fmt, numel) (snprintf(n, sizeof(n), fmt, i), field = tensor(m, n, numel))
	m->w.tok_embd = tensor(m, "embeddings.word_embeddings.weight", c->n_vocab * d);
	m->w.pos_embd = tensor(m, "embeddings.position_embeddings.weight", c->n_ctx * d);
	m->w.type_embd = tensor(m, "embeddings.token_type_embeddings.weight", c->n_token_types * d);
	m->w.embd_norm_w = tensor(m, "embeddings.LayerNorm.weight", d);
	m->w.embd_norm_b = tensor(m, "embeddings.LayerNorm.bias", d);
	for (i = 0; i < c->n_layer; i++)
	{
		mrl_bert_layer *l = &m->layers[i];

		T(l->wq, "encoder.layer.%d.attention.self.query.weight", d * d);
		T(l->bq, "encoder.layer.%d.attention.self.query.bias", d);
		T(l->wk, "encoder.layer.%d.attention.self.key.weight", d * d);
		T(l->bk, "encoder.layer.%d.attention.self.key.bias", d);
		T(l->wv, "encoder.layer.%d.attention.self.value.weight", d * d);
		T(l->bv, "encoder.layer.%d.attention.self.value.bias", d);
		T(l->wo, "encoder.layer.%d.attention.output.dense.weight", d * d);
		T(l->bo, "encoder.layer.%d.attention.output.dense.bias", d);
		T(l->attn_norm_w, "encoder.layer.%d.attention.output.LayerNorm.weight", d);
		T(l->attn_norm_b, "encoder.layer.%d.attention.output.LayerNorm.bias", d);
		T(l->ffn_up_w, "encoder.layer.%d.intermediate.dense.weight", ff * d);
		T(l->ffn_up_b, "encoder.layer.%d.intermediate.dense.bias", ff);
		T(l->ffn_down_w, "encoder.layer.%d.output.dense.weight", d * ff);
		T(l->ffn_down_b, "encoder.layer.%d.output.dense.bias", d);
		T(l->ffn_norm_w, "encoder.layer.%d.output.LayerNorm.weight", d);
		T(l->ffn_norm_b, "encoder.layer.%d.output.LayerNorm.bias", d);
	}
}

/* Points the weights of a NomicBertModel at the safetensors data. */
static void
map_nomic(tiny_model *m)
{
	mrl_bert_config *c = &m->cfg;
	size_t		d = c->n_embd,
				ff = c->n_ff;
	char		n[128];
	int			i;

	m->w.tok_embd = tensor(m, "embeddings.word_embeddings.weight", c->n_vocab * d);
	m->w.type_embd = tensor(m, "embeddings.token_type_embeddings.weight", c->n_token_types * d);
	m->w.embd_norm_w = tensor(m, "emb_ln.weight", d);
	m->w.embd_norm_b = tensor(m, "emb_ln.bias", d);
	for (i = 0; i < c->n_layer; i++)
	{
		mrl_bert_layer *l = &m->layers[i];

		T(l->wqkv, "encoder.layers.%d.attn.Wqkv.weight", 3 * d * d);
		T(l->wo, "encoder.layers.%d.attn.out_proj.weight", d * d);
		T(l->attn_norm_w, "encoder.layers.%d.norm1.weight", d);
		T(l->attn_norm_b, "encoder.layers.%d.norm1.bias", d);
		T(l->ffn_up_w, "encoder.layers.%d.mlp.fc11.weight", ff * d);
		T(l->ffn_gate_w, "encoder.layers.%d.mlp.fc12.weight", ff * d);
		T(l->ffn_down_w, "encoder.layers.%d.mlp.fc2.weight", d * ff);
		T(l->ffn_norm_w, "encoder.layers.%d.norm2.weight", d);
		T(l->ffn_norm_b, "encoder.layers.%d.norm2.bias", d);
	}
#undef T
}

/* Loads DIR/config.json and DIR/model.safetensors; 0 on success. */
static int
load_tiny(const char *dir, tiny_model *m)
{
	char		path[4096];
	char	   *text;
	size_t		len;
	json_object *c;
	uint64_t	hlen;
	const char *type;

	memset(m, 0, sizeof(*m));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	if (!(text = read_file(path, &len)) || !(c = json_tokener_parse(text)))
		return -1;
	free(text);
	type = json_object_get_string(json_object_object_get(c, "model_type"));
	m->cfg.arch = strcmp(type, "bert") == 0 ? MRL_ARCH_BERT : MRL_ARCH_NOMIC_BERT;
	if (m->cfg.arch == MRL_ARCH_BERT)
	{
		m->cfg.n_layer = cfg_int(c, "num_hidden_layers");
		m->cfg.n_embd = cfg_int(c, "hidden_size");
		m->cfg.n_head = cfg_int(c, "num_attention_heads");
		m->cfg.n_ff = cfg_int(c, "intermediate_size");
		m->cfg.n_ctx = cfg_int(c, "max_position_embeddings");
	}
	else
	{
		m->cfg.n_layer = cfg_int(c, "n_layer");
		m->cfg.n_embd = cfg_int(c, "n_embd");
		m->cfg.n_head = cfg_int(c, "n_head");
		m->cfg.n_ff = cfg_int(c, "n_inner");
		m->cfg.n_ctx = cfg_int(c, "n_positions");
		m->cfg.rope_theta = cfg_int(c, "rotary_emb_base");
	}
	m->cfg.n_vocab = cfg_int(c, "vocab_size");
	m->cfg.n_token_types = cfg_int(c, "type_vocab_size");
	m->cfg.norm_eps = 1e-12f;
	m->cfg.pooling = MRL_POOL_MEAN;
	m->cfg.normalize = 1;
	json_object_put(c);
	if (m->cfg.n_layer > MAX_LAYERS)
		return -1;

	snprintf(path, sizeof(path), "%s/model.safetensors", dir);
	if (!(m->file = read_file(path, &m->file_len)) || m->file_len < 8)
		return -1;
	memcpy(&hlen, m->file, 8);
	if (hlen > m->file_len - 8)
		return -1;
	m->data_start = 8 + hlen;
	m->file[m->data_start - 1] = '\0';	/* header padding is a space */
	if (!(m->header = json_tokener_parse(m->file + 8)))
		return -1;
	m->w.layers = m->layers;
	if (m->cfg.arch == MRL_ARCH_BERT)
		map_bert(m);
	else
		map_nomic(m);
	return 0;
}

static void
free_tiny(tiny_model *m)
{
	json_object_put(m->header);
	free(m->file);
}

/* ---------------------------------------------------------------------
 * Checks
 * --------------------------------------------------------------------- */

typedef struct seqs
{
	int			n;
	int			lens[MAX_SEQS];
	int32_t    *ids[MAX_SEQS];
} seqs;

/* Reads the "sequences" array of the expected file. */
static void
read_sequences(json_object *arr, seqs *s)
{
	int			i,
				p;

	s->n = json_object_array_length(arr);
	for (i = 0; i < s->n && i < MAX_SEQS; i++)
	{
		json_object *seq = json_object_array_get_idx(arr, i);

		s->lens[i] = json_object_array_length(seq);
		s->ids[i] = malloc(sizeof(int32_t) * s->lens[i]);
		for (p = 0; p < s->lens[i]; p++)
			s->ids[i][p] = json_object_get_int(json_object_array_get_idx(seq, p));
	}
}

/* Cosine similarity of a float vector and a JSON array of numbers. */
static double
cosine_json(const float *v, json_object *ref, int n, double *rel_err)
{
	double		dot = 0,
				na = 0,
				nb = 0,
				diff = 0;
	int			j;

	if ((int) json_object_array_length(ref) != n)
		return -2.0;
	for (j = 0; j < n; j++)
	{
		double		r = json_object_get_double(json_object_array_get_idx(ref, j));

		dot += v[j] * r;
		na += (double) v[j] * v[j];
		nb += r * r;
		diff += (v[j] - r) * (v[j] - r);
	}
	if (rel_err)
		*rel_err = sqrt(diff / nb);
	return dot / sqrt(na * nb);
}

/* Options of an expected case. */
static void
case_options(json_object *cs, mrl_embed_options *o)
{
	const char *pooling = json_object_get_string(json_object_object_get(cs, "pooling"));
	const char *mode = json_object_get_string(json_object_object_get(cs, "dims_mode"));

	mrl_embed_options_init(o);
	o->layers = json_object_get_int(json_object_object_get(cs, "layers"));
	o->dims = json_object_get_int(json_object_object_get(cs, "dims"));
	o->normalize = json_object_get_int(json_object_object_get(cs, "normalize"));
	o->pooling = strcmp(pooling, "cls") == 0 ? MRL_POOL_CLS : 0;
	o->dims_mode = strcmp(mode, "layernorm") == 0 ? MRL_DIMS_LAYERNORM : MRL_DIMS_TRUNCATE;
}

/* Runs one reference case on all sequences in one call and compares. */
static void
check_case(const char *model, mrl_bert_ctx *ctx, const seqs *s, json_object *cs)
{
	mrl_embed_options o;
	const char *name = json_object_get_string(json_object_object_get(cs, "name"));
	json_object *vecs = json_object_object_get(cs, "vectors");
	char		err[256] = "";
	double		worst = 1.0,
				worst_rel = 0.0;
	float	   *out;
	int			dim,
				rc,
				i;

	case_options(cs, &o);
	dim = mrl_bert_out_dim(ctx, &o);
	out = calloc((size_t) s->n * dim, sizeof(float));
	rc = mrl_bert_embed(ctx, (const int32_t *const *) s->ids, s->lens, s->n,
						&o, out, err, sizeof(err));
	for (i = 0; rc == 0 && i < s->n; i++)
	{
		double		rel = 1.0;
		double		c = cosine_json(out + (size_t) i * dim,
									json_object_array_get_idx(vecs, i), dim, &rel);

		worst = c < worst ? c : worst;
		worst_rel = rel > worst_rel ? rel : worst_rel;
	}
	ok(rc == 0 && worst >= COS_MIN && worst_rel <= REL_MAX,
	   "%s %s: %d sequences batched, min cosine %.9f, max rel. error %.2e %s",
	   model, name, s->n, worst, worst_rel, err);
	free(out);
}

/* Embeds with the given options; returns a malloc'd [n][dim] array. */
static float *
run(mrl_bert_ctx *ctx, const seqs *s, int first, int n,
	const mrl_embed_options *o, int *rc)
{
	char		err[256];
	float	   *out = calloc((size_t) (n ? n : 1) * mrl_bert_out_dim(ctx, o), sizeof(float));

	*rc = mrl_bert_embed(ctx, (const int32_t *const *) s->ids + first,
						 s->lens + first, n, o, out, err, sizeof(err));
	return out;
}

/* Batched (several batch sizes) must equal one-by-one embedding. */
static void
check_batching(const char *model, mrl_bert_ctx *ctx, const seqs *s)
{
	mrl_embed_options o;
	int			d,
				rc,
				rc2,
				bs,
				i,
				j;
	float	   *single;

	mrl_embed_options_init(&o);
	o.normalize = 0;
	d = mrl_bert_out_dim(ctx, &o);
	single = calloc((size_t) s->n * d, sizeof(float));
	rc = 0;
	for (i = 0; i < s->n; i++)
	{
		float	   *one = run(ctx, s, i, 1, &o, &rc2);

		memcpy(single + (size_t) i * d, one, d * sizeof(float));
		rc |= rc2;
		free(one);
	}
	for (bs = 2; bs <= 32; bs *= 4)
	{
		float	   *all;
		double		maxdiff = 0;
		int			identical = 1;

		o.batch_size = bs;
		all = run(ctx, s, 0, s->n, &o, &rc2);
		for (i = 0; i < s->n * d; i++)
		{
			double		diff = fabs(all[i] - single[i]);

			maxdiff = diff > maxdiff ? diff : maxdiff;
			identical &= all[i] == single[i];
		}
		ok(rc == 0 && rc2 == 0 && maxdiff <= 1e-5,
		   "%s: batch size %d equals one-by-one (max abs diff %.2e, %s)",
		   model, bs, maxdiff, identical ? "bit-identical" : "not bit-identical");
		free(all);
	}
	(void) j;
	free(single);
}

typedef struct hook_state
{
	int			calls;
	int			stop_at;		/* return 1 on this call (0 = never) */
} hook_state;

/* The interrupt hook under test: counts calls, fires on stop_at. */
static int
count_hook(void *arg)
{
	hook_state *h = arg;

	return ++h->calls == h->stop_at;
}

/* The hook is called between batches and layers and aborts cleanly. */
static void
check_interrupt(const char *model, mrl_bert_ctx *ctx, const seqs *s,
				int n_layer)
{
	mrl_embed_options o;
	hook_state	h = {0, 0};
	char		err[256] = "";
	float	   *ref,
			   *out;
	int			rc,
				n_batches = (s->n + 1) / 2,
				d;

	mrl_embed_options_init(&o);
	o.batch_size = 2;
	o.interrupt = count_hook;
	o.interrupt_arg = &h;
	d = mrl_bert_out_dim(ctx, &o);
	ref = run(ctx, s, 0, s->n, &o, &rc);
	ok(rc == 0 && h.calls == n_batches * (1 + n_layer),
	   "%s: hook called %d times (%d batches x (1 + %d layers))",
	   model, h.calls, n_batches, n_layer);

	h.calls = 0;
	h.stop_at = 5;
	out = calloc((size_t) s->n * d, sizeof(float));
	rc = mrl_bert_embed(ctx, (const int32_t *const *) s->ids, s->lens, s->n,
						&o, out, err, sizeof(err));
	ok(rc == MRL_FWD_EINTERRUPTED && h.calls == 5 && strstr(err, "interrupt"),
	   "%s: hook returning nonzero aborts (rc %d, \"%s\")", model, rc, err);
	free(out);

	h.stop_at = 0;
	out = run(ctx, s, 0, s->n, &o, &rc);
	ok(rc == 0 && memcmp(out, ref, (size_t) s->n * d * sizeof(float)) == 0,
	   "%s: the context works again after an abort", model);
	free(out);
	free(ref);
}

/* Bad input is rejected with an error, never a crash. */
static void
check_errors(const char *model, mrl_bert_ctx *ctx, const tiny_model *m)
{
	mrl_embed_options o;
	int32_t		good[3] = {101, 5, 102};
	int32_t		bad[3] = {101, m->cfg.n_vocab, 102};
	int32_t		neg[1] = {-1};
	int32_t    *longseq = calloc(m->cfg.n_ctx + 1, sizeof(int32_t));
	const int32_t *ids[1];
	float		out[4096];
	char		err[256];
	int			len,
				rc;

	mrl_embed_options_init(&o);
	ids[0] = bad;
	len = 3;
	rc = mrl_bert_embed(ctx, ids, &len, 1, &o, out, err, sizeof(err));
	ok(rc == MRL_FWD_EINVAL && strstr(err, "token id"), "%s: token id = vocab size rejected (%s)", model, err);
	ids[0] = neg;
	len = 1;
	rc = mrl_bert_embed(ctx, ids, &len, 1, &o, out, err, sizeof(err));
	ok(rc == MRL_FWD_EINVAL, "%s: negative token id rejected (%s)", model, err);
	ids[0] = good;
	len = 0;
	rc = mrl_bert_embed(ctx, ids, &len, 1, &o, out, err, sizeof(err));
	ok(rc == MRL_FWD_EINVAL, "%s: empty sequence rejected (%s)", model, err);
	ids[0] = longseq;
	len = m->cfg.n_ctx + 1;
	rc = mrl_bert_embed(ctx, ids, &len, 1, &o, out, err, sizeof(err));
	ok(rc == MRL_FWD_EINVAL, "%s: sequence longer than n_ctx rejected (%s)", model, err);
	ids[0] = good;
	len = 3;
	o.dims = m->cfg.n_embd + 1;
	rc = mrl_bert_embed(ctx, ids, &len, 1, &o, out, err, sizeof(err));
	ok(rc == MRL_FWD_EINVAL, "%s: dims > n_embd rejected (%s)", model, err);
	o.dims = 0;
	o.layers = m->cfg.n_layer + 1;
	rc = mrl_bert_embed(ctx, ids, &len, 1, &o, out, err, sizeof(err));
	ok(rc == MRL_FWD_EINVAL, "%s: layers > n_layer rejected (%s)", model, err);
	free(longseq);
}

/* A context refuses a model with a missing tensor or a bad config. */
static void
check_bad_models(const char *model, const tiny_model *m)
{
	mrl_bert_weights w = m->w;
	mrl_bert_layer layers[MAX_LAYERS];
	mrl_bert_config c = m->cfg;
	mrl_bert_ctx *ctx;
	char		err[256] = "";

	memcpy(layers, m->layers, sizeof(layers));
	w.layers = layers;
	layers[c.n_layer - 1].ffn_down_w = NULL;
	ctx = mrl_bert_ctx_create(&c, &w, err, sizeof(err));
	ok(ctx == NULL && strstr(err, "layer 1"), "%s: missing tensor refused (%s)", model, err);
	w.layers = (mrl_bert_layer *) m->layers;
	c.n_head = 5;				/* does not divide n_embd */
	ctx = mrl_bert_ctx_create(&c, &w, err, sizeof(err));
	ok(ctx == NULL, "%s: heads not dividing n_embd refused (%s)", model, err);
}

/* All checks for one model directory. */
static void
check_model(char *dir, json_object *models, const seqs *s)
{
	const char *name = strrchr(dir, '/') ? strrchr(dir, '/') + 1 : dir;
	json_object *mj,
			   *cases;
	tiny_model	m;
	mrl_bert_ctx *ctx = NULL;
	char		err[256] = "";
	int			i;

	if (load_tiny(dir, &m) != 0 || !json_object_object_get_ex(models, name, &mj))
	{
		ok(0, "%s: load model and expected vectors", name);
		return;
	}
	ctx = mrl_bert_ctx_create(&m.cfg, &m.w, err, sizeof(err));
	ok(ctx != NULL, "%s: context created %s", name, err);
	if (!ctx)
		return;
	cases = json_object_object_get(mj, "cases");
	for (i = 0; i < (int) json_object_array_length(cases); i++)
		check_case(name, ctx, s, json_object_array_get_idx(cases, i));
	check_batching(name, ctx, s);
	check_interrupt(name, ctx, s, m.cfg.n_layer);
	check_errors(name, ctx, &m);
	check_bad_models(name, &m);
	mrl_bert_ctx_free(ctx);
	free_tiny(&m);
}

int
main(int argc, char **argv)
{
	json_object *expected;
	seqs		s;
	int			i;

	if (argc < 3)
	{
		fprintf(stderr, "usage: %s EXPECTED.json MODELDIR...\n", argv[0]);
		return 2;
	}
	expected = json_object_from_file(argv[1]);
	if (!expected)
	{
		printf("not ok 1 - cannot read %s\n", argv[1]);
		return 1;
	}
	read_sequences(json_object_object_get(expected, "sequences"), &s);
	for (i = 2; i < argc; i++)
		check_model(argv[i], json_object_object_get(expected, "models"), &s);
	printf("1..%d\n", n_test);
	json_object_put(expected);
	for (i = 0; i < s.n; i++)
		free(s.ids[i]);
	return n_failed ? 1 : 0;
}
