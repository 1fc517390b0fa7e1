/*
 * test_model.c: mrl_model_load on the models of make_fixtures.py (argv[1]).
 * Each models/NAME must load with the expected configuration, and its
 * weights, walked in the canonical order (walk_weights.h), must equal models/NAME.flat (numpy's conversion of the same random
 * weights) bit for bit.  Then the conversion cache, and the refusals of
 * model_bad/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "model.h"
#include "tap.h"
#include "walk_weights.h"

static const char *fixtures;

typedef struct expected
{
	const char *name;
	mrl_arch	arch;
	int			n_embd,
				n_layer,
				n_head,
				n_ff,
				n_vocab,
				n_ctx,
				n_types;
	mrl_pooling pooling;
	int			normalize;
	mrl_tokenizer_source tok;
} expected;

#define B MRL_ARCH_BERT
#define N MRL_ARCH_NOMIC_BERT
#define S MRL_ARCH_STATIC
#define MEAN MRL_POOL_MEAN
#define CLS MRL_POOL_CLS
#define J MRL_TOK_JSON
#define G MRL_TOK_GGUF

static const expected models[] = {
	{"bert_hf", B, 32, 2, 4, 64, 64, 12, 2, MEAN, 1, J},
	{"bert_hf_sharded", B, 32, 2, 4, 64, 64, 16, 2, CLS, 0, J},
	{"bert_hf_prefixed_f16", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, J},
	{"bert_hf_bf16", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, J},
	{"bert_st_subdir", B, 32, 2, 4, 64, 64, 10, 2, CLS, 1, J},
	{"bert_hf_gamma", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 0, J},
	{"bert_f32.gguf", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, G},
	{"bert_f16.gguf", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, G},
	{"bert_q8_0.gguf", B, 32, 2, 4, 64, 64, 16, 2, CLS, 1, G},
	{"bert_q4_0.gguf", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, G},
	{"bert_q4_1.gguf", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, G},
	{"bert_q5_0.gguf", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, G},
	{"bert_q5_1.gguf", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, G},
	{"bert_bf16_v2.gguf", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, G},
	{"bert_fused_qkv.gguf", B, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, G},
	{"nomic_hf", N, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, J},
	{"nomic_f16.gguf", N, 32, 2, 4, 64, 64, 16, 2, MEAN, 1, G},
	{"nomic_q4_k.gguf", N, 256, 1, 4, 512, 40, 16, 2, MEAN, 1, G},
	{"nomic_q5_k.gguf", N, 256, 1, 4, 512, 40, 16, 2, MEAN, 1, G},
	{"nomic_q6_k.gguf", N, 256, 1, 4, 512, 40, 16, 2, MEAN, 1, G},
	{"m2v", S, 24, 0, 0, 0, 64, 0, 0, MEAN, 1, J},
	{"m2v_modules", S, 24, 0, 0, 0, 64, 0, 0, MEAN, 1, J},
	{"m2v_f16_mapped", S, 24, 0, 0, 0, 64, 0, 0, MEAN, 0, J},
	{"st_static", S, 24, 0, 0, 0, 64, 0, 0, MEAN, 0, J},
	{"st_static_bf16", S, 24, 0, 0, 0, 64, 0, 0, MEAN, 1, J},
};

/* a cursor over the expected flat weights */
typedef struct flat
{
	const float *v;
	size_t		n,
				pos;
	int			bad;
} flat;

/* Compare the next n expected floats with p. */
static void
take(void *arg, const float *p, size_t n)
{
	flat	   *f = arg;

	if (f->pos + n > f->n || memcmp(p, f->v + f->pos, n * sizeof(float)) != 0)
		f->bad++;
	f->pos += n;
}

/* Weights of m equal models/NAME.flat. */
static int
weights_match(const mrl_model *m, const char *name)
{
	char		path[4096];
	size_t		n = 0;
	flat		f = {0};

	snprintf(path, sizeof(path), "%s/models/%s.flat", fixtures, name);
	f.v = tap_slurp(path, &n);
	f.n = n / sizeof(float);
	if (f.v == NULL)
		return 0;
	walk_weights(m, take, &f);
	free((void *) f.v);
	return f.bad == 0 && f.pos == f.n;
}

static int
config_matches(const mrl_model *m, const expected *x)
{
	const mrl_bert_config *c = &m->config;
	int			is_static = x->arch == MRL_ARCH_STATIC;

	return c->arch == x->arch && c->n_embd == x->n_embd && c->n_layer == x->n_layer &&
		c->n_head == x->n_head && c->n_ff == x->n_ff && c->n_vocab == x->n_vocab &&
		c->n_ctx == x->n_ctx && c->n_token_types == x->n_types && c->pooling == x->pooling &&
		c->normalize == x->normalize && m->tok_source == x->tok &&
		m->drop_unk == (is_static && strncmp(x->name, "m2v", 3) == 0) &&
		(x->tok == MRL_TOK_JSON ? m->tokenizer_path != NULL : m->gguf != NULL) &&
		m->add_special_tokens == !is_static &&
		c->norm_eps == (is_static ? 0.0f : 1e-12f) &&
		c->rope_theta == (x->arch == MRL_ARCH_NOMIC_BERT ? 1000.0f : c->rope_theta);
}

/* Load every fixture model without a cache. */
static void
check_models(void)
{
	char		path[4096],
				err[1024];
	size_t		i;
	mrl_model  *m;

	for (i = 0; i < sizeof(models) / sizeof(models[0]); i++)
	{
		snprintf(path, sizeof(path), "%s/models/%s", fixtures, models[i].name);
		m = mrl_model_load(path, NULL, err, sizeof(err));
		if (!ok(m != NULL, "%s loads (%s)", models[i].name, m ? "ok" : err))
			continue;
		ok(config_matches(m, &models[i]), "%s: configuration (%s, %d layers, vocab %d, ctx %d)",
		   models[i].name, mrl_arch_name(m->config.arch), m->config.n_layer,
		   m->config.n_vocab, m->config.n_ctx);
		ok(weights_match(m, models[i].name), "%s: every weight equals the numpy reference",
		   models[i].name);
		mrl_model_free(m);
	}
}

/* F32 GGUF tensors are used in place from the file mapping. */
static void
check_in_place(void)
{
	char		path[4096],
				err[1024];
	mrl_model  *m;
	const uint8_t *lo,
			   *hi,
			   *p;

	snprintf(path, sizeof(path), "%s/models/bert_f32.gguf", fixtures);
	m = mrl_model_load(path, NULL, err, sizeof(err));
	if (!ok(m != NULL, "bert_f32.gguf loads"))
		return;
	lo = m->gguf->base;
	hi = lo + m->gguf->size;
	p = (const uint8_t *) m->weights.layers[1].ffn_down_w;
	ok(m->converted_bytes == 0 && p >= lo && p < hi &&
	   (const uint8_t *) m->weights.tok_embd >= lo, "F32 weights point into the GGUF mapping");
	mrl_model_free(m);
}

/* Load with the cache; checks hit/miss and the weights. */
static mrl_model *
load_cached(const char *path, const char *dir, const char *name, int want_hit, const char *what)
{
	mrl_load_options o = {dir};
	char		err[1024];
	mrl_model  *m = mrl_model_load(path, &o, err, sizeof(err));

	ok(m && m->cache_path && m->cache_hit == want_hit && m->converted_bytes > 0 &&
	   weights_match(m, name), "%s: cache %s, weights equal (%s)", what,
	   want_hit ? "hit" : "written", m ? (m->cache_path ? m->cache_path : m->cache_note) : err);
	return m;
}

static void
check_cache(void)
{
	char		tmpl[] = "/tmp/mrl-cache-test.XXXXXX",
				src[4096],
				copy[4096],
				path1[4096],
				cmd[8400],
				err[1024];
	char	   *dir = mkdtemp(tmpl);
	mrl_model  *m;
	struct timeval tv[2] = {{1000000, 0}, {1000000, 0}};
	mrl_load_options bad = {"/nonexistent/cache"};
	FILE	   *f;

	snprintf(src, sizeof(src), "%s/models/bert_f16.gguf", fixtures);
	snprintf(copy, sizeof(copy), "%s/model.gguf", dir);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", src, copy);
	if (!ok(dir && system(cmd) == 0, "model copied to %s", dir))
		return;
	m = load_cached(copy, dir, "bert_f16.gguf", 0, "first load");
	snprintf(path1, sizeof(path1), "%s", m && m->cache_path ? m->cache_path : "");
	mrl_model_free(m);
	m = load_cached(copy, dir, "bert_f16.gguf", 1, "second load");
	ok(m && strcmp(m->cache_path, path1) == 0, "same cache file reused");
	mrl_model_free(m);

	utimes(copy, tv);			/* a changed model file gets a new cache file */
	m = load_cached(copy, dir, "bert_f16.gguf", 0, "after mtime change");
	ok(m && strcmp(m->cache_path, path1) != 0, "new cache file after the model changed");
	/* a damaged cache file is detected and rebuilt */
	if (m && (f = fopen(m->cache_path, "r+b")) != NULL)
	{
		ftruncate(fileno(f), 100);
		fclose(f);
	}
	mrl_model_free(m);
	mrl_model_free(load_cached(copy, dir, "bert_f16.gguf", 0, "after truncating the cache"));

	snprintf(src, sizeof(src), "%s/models/m2v_f16_mapped", fixtures);
	mrl_model_free(load_cached(src, dir, "m2v_f16_mapped", 0, "model2vec first load"));
	mrl_model_free(load_cached(src, dir, "m2v_f16_mapped", 1, "model2vec second load"));

	m = mrl_model_load(copy, &bad, err, sizeof(err));
	ok(m && m->cache_path == NULL && m->cache_note[0] && weights_match(m, "bert_f16.gguf"),
	   "unwritable cache dir: private conversion (%s)", m ? m->cache_note : err);
	mrl_model_free(m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ok(system(cmd) == 0, "cache dir removed");
}

static int
try_load(const char *path, char *err, size_t errlen)
{
	mrl_model  *m = mrl_model_load(path, NULL, err, errlen);

	mrl_model_free(m);
	return m != NULL;
}

int
main(int argc, char **argv)
{
	char		path[4096];

	if (argc < 2)
		return 2;
	fixtures = argv[1];
	check_models();
	check_in_place();
	check_cache();
	snprintf(path, sizeof(path), "%s/model_bad", fixtures);
	tap_bad_dir(path, try_load);
	return tap_done();
}
