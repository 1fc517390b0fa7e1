/*
 * test_builtin_model.c: the shipped built-in model (model/) loads through
 * the shared model loader as a 256-dim static model whose vocabulary
 * matches its tokenizer, has finite weights, and ranks the matching
 * document first for at least 4 of 5 hand-written queries at every
 * Matryoshka prefix size (a smoke test: a
 * random N(0,1) table, which sees only shared words, gets 2 of 5).
 * Also builds training pairs from texts with this model's tokenizer
 * (train_set.c) and fine-tunes on them, and writes the matrix back through
 * the library's writer: the same bytes as the shipped file, so `make model`
 * reproduces it byte for byte from the same weights.  A long text, which a
 * static model reads a chunk at a time, embeds as its whole token sequence.
 * usage: test_builtin_model MODEL_DIR.  Prints TAP.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encoder.h"
#include "model.h"
#include "static_model.h"
#include "tokenizer.h"
#include "train.h"
#include "train_set.h"
#include "tap.h"

/* Queries and their documents (held-out style, not training text). */
static const char *queries[] = {
	"list the files in a directory",
	"a small domesticated feline animal",
	"compress data with the gzip algorithm",
	"a vehicle that flies through the air",
	"library for parsing JSON in C",
};
static const char *docs[] = {
	"show the names of the entries in a folder, sorted by name",
	"a house cat kept as a pet, with soft fur and whiskers",
	"a tool that reduces the size of files using Lempel-Ziv coding",
	"an aircraft with fixed wings powered by jet engines",
	"a small C library to read and write JavaScript Object Notation",
};

#define N_PAIRS 5

/* Tokenise without [CLS]/[SEP] and mean-pool into v. */
static int
embed(const mrl_model *m, const mrl_tokenizer *tok, const char *text, float *v)
{
	mrl_encoding enc = {0};
	char		err[256];
	int			n = mrl_tokenizer_encode(tok, text, strlen(text), 0, &enc, err, sizeof(err));

	if (n < 2)
		return -1;
	/* the tokenizer.json template adds [CLS] ... [SEP]; static models skip them */
	mrl_static_pool(m->weights.tok_embd, m->config.n_embd, enc.ids + 1, n - 2, v);
	mrl_encoding_free(&enc);
	return 0;
}

/* cosine of the first k coordinates */
static double
cos_prefix(const float *a, const float *b, int k)
{
	double		ab = 0,
				aa = 0,
				bb = 0;

	for (int i = 0; i < k; i++)
	{
		ab += a[i] * b[i];
		aa += a[i] * a[i];
		bb += b[i] * b[i];
	}
	return ab / (sqrt(aa * bb) + 1e-30);
}

/* Add one pair of NUL-terminated texts (neg may be NULL). */
static int
add(mrl_train_set *set, const mrl_encoder *enc, const char *q, const char *p,
	const char *neg, char *err, size_t errlen)
{
	return mrl_train_set_add(set, enc, q, strlen(q), p, strlen(p), neg,
							 neg ? strlen(neg) : 0, err, errlen);
}

/* Pairs from texts: merging, dropping, negatives, then a fine-tune. */
static void
test_train_set(const char *dir)
{
	char		err[256] = "";
	mrl_encoder *enc = mrl_encoder_open(dir, NULL, err, sizeof(err));
	mrl_train_set set;
	int			r1,
				r2,
				r3,
				r4,
				r5,
				vocab,
				dim,
				specials = 0;
	const float *E0;
	float	   *E;
	mrl_train_params p;
	mrl_train_stats st;
	int32_t		eval_pairs[] = {0, 2};	/* pair 1 shares pair 0's query */
	double		before = 0,
				after = 0;

	if (!ok(enc != NULL, "encoder opens the built-in model%s%s", enc ? "" : ": ", err))
		return;
	mrl_train_set_init(&set, 0);
	r1 = add(&set, enc, "List directory contents", "show the files in a folder", NULL, err, sizeof(err));
	r2 = add(&set, enc, "list   DIRECTORY contents", "print the working directory", NULL, err, sizeof(err));
	ok(r1 == 1 && r2 == 1 && set.data.n_pairs == 2 && set.data.n_texts == 3 &&
	   set.data.anchor[0] == set.data.anchor[1],
	   "texts with the same tokens become one text (%d texts for 4)", set.data.n_texts);
	r3 = add(&set, enc, "", "an empty query", NULL, err, sizeof(err));
	r4 = add(&set, enc, "same words", "SAME   words", NULL, err, sizeof(err));
	ok(r3 == 0 && r4 == 0 && set.n_dropped == 2 && set.data.n_pairs == 2,
	   "empty text and query == positive are dropped and counted");
	r5 = add(&set, enc, "remove a file", "delete a file from the disk", "copy a file", err, sizeof(err));
	ok(r5 == 1 && set.data.negative && set.data.negative[0] == -1 &&
	   set.data.negative[1] == -1 && set.data.negative[2] >= 0,
	   "a hard negative after pairs without one: earlier pairs get -1");
	for (int64_t i = 0; i < set.data.text_off[set.data.n_texts]; i++)
		specials += set.data.ids[i] == 2 || set.data.ids[i] == 3;
	ok(specials == 0, "no [CLS]/[SEP] ids in the texts (static model)");
	ok(add(&set, enc, "bad \xff utf-8", "x y", NULL, err, sizeof(err)) == -1 && err[0],
	   "invalid UTF-8 is an error (%s)", err);

	/* fine-tune a copy of the built-in matrix on these pairs */
	E0 = mrl_encoder_static_matrix(enc, &vocab, &dim);
	E = E0 ? malloc(sizeof(float) * (size_t) vocab * dim) : NULL;
	if (E)
	{
		memcpy(E, E0, sizeof(float) * (size_t) vocab * dim);
		mrl_train_params_init(&p, dim);
		p.n_dims = 2;
		p.dims[0] = 64;
		p.dims[1] = dim;
		p.lr = 0.01f;
		p.epochs = 5;
		mrl_static_batch_loss(E, vocab, &set.data, eval_pairs, 2, &p, &before, NULL, NULL, 0);
		r1 = mrl_train_static(E, vocab, &set.data, &p, &st, err, sizeof(err));
		mrl_static_batch_loss(E, vocab, &set.data, eval_pairs, 2, &p, &after, NULL, NULL, 0);
		ok(r1 == 0 && st.steps_done == 5 && after < before,
		   "fine-tuning the built-in model on the set: loss on pairs 0, 2 %.4f -> %.4f",
		   before, after);
	}
	free(E);
	mrl_train_set_free(&set);
	mrl_encoder_free(enc);
}

/* The built-in model's vector of a text, through mrl_encoder_embed. */
static int
embed_text(mrl_encoder *enc, const char *text, size_t len, float *v)
{
	mrl_embed_options o;
	char		err[256];

	mrl_embed_options_init(&o);
	return mrl_encoder_embed(enc, &text, &len, 1, &o, v, err, sizeof(err));
}

/* The built-in model's vector of token ids, through mrl_encoder_embed_ids. */
static int
embed_ids(mrl_encoder *enc, const int32_t *ids, int n, float *v)
{
	mrl_embed_options o;
	char		err[256];

	mrl_embed_options_init(&o);
	return mrl_encoder_embed_ids(enc, &ids, &n, 1, &o, v, err, sizeof(err));
}

/* Write the NUL-terminated parts one after the other into a new file. */
static int
put_file(const char *path, const char *const *parts, int n)
{
	FILE	   *f = fopen(path, "w");

	for (int i = 0; f && i < n; i++)
		fputs(parts[i], f);
	return f && fclose(f) == 0 ? 0 : -1;
}

/*
 * A copy of the model directory whose tokenizer.json truncates on the right
 * at max_length (the weights linked, not copied); its path, or NULL.
 */
static char *
truncating_copy(const char *model_dir, int max_length)
{
	static char dir[] = "/tmp/mrl_trunc_XXXXXX";
	static const char *copied[] = {"modules.json", "config_sentence_transformers.json"};
	const char *no_truncation = "\"truncation\": null";
	char		path[4096],
				real[4096],
				truncation[128];
	char	   *json,
			   *at,
			   *body;
	size_t		n;
	int			rc = 0;

	snprintf(path, sizeof(path), "%s/0_StaticEmbedding/tokenizer.json", model_dir);
	if (!(json = tap_slurp(path, &n)) || !(at = strstr(json, no_truncation)) || !mkdtemp(dir))
		return NULL;
	*at = '\0';
	snprintf(truncation, sizeof(truncation),
			 "\"truncation\": {\"max_length\": %d, \"direction\": \"Right\"}", max_length);
	for (int i = 0; i < 2; i++)
	{
		snprintf(path, sizeof(path), "%s/%s", model_dir, copied[i]);
		body = tap_slurp(path, &n);
		snprintf(path, sizeof(path), "%s/%s", dir, copied[i]);
		rc |= body ? put_file(path, (const char *const *) &body, 1) : -1;
		free(body);
	}
	snprintf(path, sizeof(path), "%s/0_StaticEmbedding", dir);
	rc |= mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/0_StaticEmbedding/tokenizer.json", dir);
	rc |= put_file(path, (const char *const[]) {json, truncation, at + strlen(no_truncation)}, 3);
	free(json);
	snprintf(path, sizeof(path), "%s/0_StaticEmbedding/model.safetensors", model_dir);
	if (!realpath(path, real))
		return NULL;
	snprintf(path, sizeof(path), "%s/0_StaticEmbedding/model.safetensors", dir);
	return rc == 0 && symlink(real, path) == 0 ? dir : NULL;
}

/*
 * A 1 MB text: a static model reads it a chunk at a time and pools every
 * token, so its vector equals, bit for bit, the pooled ids of the text's
 * whole tokenization.  With a tokenizer.json truncating at 20, the model
 * takes the first 18 pieces (20 counting [CLS]/[SEP]), as before.
 */
static void
test_long_static_text(const char *model_dir)
{
	char		err[256] = "";
	mrl_encoder *enc = mrl_encoder_open(model_dir, NULL, err, sizeof(err)),
			   *trunc_enc = NULL;
	mrl_encoding all = {0};
	size_t		len = 0;
	char	   *text = malloc(1 << 20),
			   *trunc_dir;
	static float streamed[256],
				pooled[256];
	int			n;

	for (int i = 0; len + 200 < (1 << 20); i++)
	{
		const char *s = i % 2 ? docs[i / 2 % N_PAIRS] : queries[i / 2 % N_PAIRS];

		memcpy(text + len, s, strlen(s));
		len += strlen(s);
		text[len++] = i % 7 ? ' ' : '\n';
	}
	n = enc ? mrl_encoder_tokenize(enc, text, len, 0, &all, err, sizeof(err)) : -1;
	ok(n > 100000 && embed_text(enc, text, len, streamed) == 0 &&
	   embed_ids(enc, all.ids, n, pooled) == 0 && memcmp(streamed, pooled, sizeof(pooled)) == 0,
	   "a %zu kB text, streamed through the static model, equals its %d pooled ids bit for bit %s",
	   len >> 10, n, err);
	trunc_dir = truncating_copy(model_dir, 20);
	if (trunc_dir)
		trunc_enc = mrl_encoder_open(trunc_dir, NULL, err, sizeof(err));
	ok(trunc_enc && n > 18 && embed_text(trunc_enc, text, len, streamed) == 0 &&
	   embed_ids(enc, all.ids, 18, pooled) == 0 && memcmp(streamed, pooled, sizeof(pooled)) == 0,
	   "with tokenizer.json truncating at 20, its first 18 pieces %s", err);
	if (trunc_dir)
	{
		char		cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", trunc_dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", trunc_dir);
	}
	mrl_encoder_free(trunc_enc);
	mrl_encoder_free(enc);
	mrl_encoding_free(&all);
	free(text);
}

/*
 * The shipped matrix file read back through the validating reader equals
 * the loaded weights, and written again gives the shipped file's bytes.
 */
static void
test_matrix_file(const char *model_dir, const mrl_model *m)
{
	char		path[4096],
				copy[] = "/tmp/mrl_matrix_XXXXXX",
				err[512] = "";
	size_t		n_orig = 0,
				n_copy = 0;
	int			vocab = 0,
				dim = 0,
				fd = mkstemp(copy);
	float	   *E;
	char	   *orig,
			   *again;

	snprintf(path, sizeof(path), "%s/0_StaticEmbedding/model.safetensors", model_dir);
	E = mrl_static_matrix_read(path, &vocab, &dim, err, sizeof(err));
	ok(E && vocab == m->config.n_vocab && dim == m->config.n_embd &&
	   memcmp(E, m->weights.tok_embd, sizeof(float) * vocab * dim) == 0,
	   "the matrix file reads back as the loaded weights [%d][%d] %s", vocab, dim, err);
	ok(E && fd >= 0 && mrl_static_matrix_write(copy, E, vocab, dim, err, sizeof(err)) == 0,
	   "the matrix written again %s", err);
	orig = tap_slurp(path, &n_orig);
	again = tap_slurp(copy, &n_copy);
	ok(orig && again && n_orig == n_copy && memcmp(orig, again, n_orig) == 0,
	   "written again, it is the shipped file byte for byte (%zu bytes)", n_copy);
	if (fd >= 0)
		close(fd);
	unlink(copy);
	free(orig);
	free(again);
	free(E);
}

int
main(int argc, char **argv)
{
	char		err[512];
	mrl_model  *m;
	mrl_tokenizer *tok = NULL;
	static float q[N_PAIRS][256],
				d[N_PAIRS][256];
	int			finite = 1;

	if (argc != 2)
	{
		fprintf(stderr, "usage: test_builtin_model MODEL_DIR\n");
		return 2;
	}
	m = mrl_model_load(argv[1], NULL, err, sizeof(err));
	ok(m != NULL, "built-in model loads (%s)", m ? "ok" : err);
	if (!m)
		return 1;
	ok(m->config.arch == MRL_ARCH_STATIC && m->config.n_embd == 256 &&
	   !m->add_special_tokens, "static, 256 dimensions, no special tokens");
	tok = mrl_tokenizer_load_file(m->tokenizer_path, err, sizeof(err));
	ok(tok && mrl_tokenizer_vocab_size(tok) == m->config.n_vocab,
	   "embedding rows (%d) = tokenizer vocabulary (%d)", m->config.n_vocab,
	   tok ? mrl_tokenizer_vocab_size(tok) : -1);
	for (size_t i = 0; i < (size_t) m->config.n_vocab * 256; i++)
		finite &= isfinite(m->weights.tok_embd[i]);
	ok(finite, "all weights finite");
	if (!tok || m->config.n_embd != 256)
		return 1;
	for (int i = 0; i < N_PAIRS; i++)
		if (embed(m, tok, queries[i], q[i]) || embed(m, tok, docs[i], d[i]))
			return 1;
	for (int k = 16; k <= 256; k *= 2)
	{
		int			correct = 0;

		for (int i = 0; i < N_PAIRS; i++)
		{
			int			best = 0;

			for (int j = 1; j < N_PAIRS; j++)
				if (cos_prefix(q[i], d[j], k) > cos_prefix(q[i], d[best], k))
					best = j;
			correct += best == i;
		}
		ok(correct >= N_PAIRS - 1,
		   "prefix %d: %d of %d queries rank their document first", k, correct, N_PAIRS);
	}
	test_matrix_file(argv[1], m);
	mrl_tokenizer_free(tok);
	mrl_model_free(m);
	test_train_set(argv[1]);
	test_long_static_text(argv[1]);
	return tap_done();
}
