/*
 * test_builtin_model.c: the shipped built-in model (model/) loads through
 * the shared model loader as a 256-dim static model whose vocabulary
 * matches its tokenizer, has finite weights, and ranks the matching
 * document first for at least 4 of 5 hand-written queries at every
 * Matryoshka prefix size (a smoke test: a
 * random N(0,1) table, which sees only shared words, gets 2 of 5).
 * usage: test_builtin_model MODEL_DIR.  Prints TAP.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "tokenizer.h"
#include "train.h"
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
	mrl_tokenizer_free(tok);
	mrl_model_free(m);
	return tap_done();
}
