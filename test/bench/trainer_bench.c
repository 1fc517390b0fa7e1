/*
 * trainer_bench.c: throughput of the static-model trainer (pairs/second)
 * and of static-model encoding (sentences/second: C WordPiece tokenizer,
 * mean of token rows, L2 normalisation), one thread, CPU time.
 *
 * usage: trainer_bench MODEL.safetensors TOKENIZER.json SENTENCES.txt
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h>

#include "static_model.h"
#include "tokenizer.h"
#include "tool_io.h"
#include "train.h"

static double
cpu_seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Synthetic pairs: texts of 4..40 random tokens, as many as 12 batches need. */
static void
bench_training(int vocab, int dim)
{
	enum
	{
	N_PAIRS = 12 * 1024};
	int			n_texts = 2 * N_PAIRS;
	int64_t    *off = malloc(sizeof(int64_t) * (n_texts + 1));
	int32_t    *ids = malloc(sizeof(int32_t) * n_texts * 40),
			   *a = malloc(sizeof(int32_t) * N_PAIRS),
			   *p = malloc(sizeof(int32_t) * N_PAIRS);
	float	   *E = malloc(sizeof(float) * (size_t) vocab * dim);
	uint64_t	x = 7;
	mrl_train_params par;
	mrl_train_data d;
	mrl_train_stats st;
	double		t0,
				t;
	char		err[256];
	int64_t		n = 0;

	off[0] = 0;
	for (int i = 0; i < n_texts; i++)
	{
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		for (int k = 0, len = 4 + (x >> 33) % 37; k < len; k++)
		{
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			ids[n++] = (x >> 33) % vocab;
		}
		off[i + 1] = n;
	}
	for (int i = 0; i < N_PAIRS; i++)
	{
		a[i] = 2 * i;
		p[i] = 2 * i + 1;
	}
	d = (mrl_train_data) {n_texts, off, ids, N_PAIRS, a, p, NULL};
	mrl_static_init_random(E, vocab, dim, 1);
	mrl_train_params_init(&par, dim);
	par.n_dims = 0;
	for (int m = 16; m <= dim; m *= 2)
		par.dims[par.n_dims++] = m;
	t0 = cpu_seconds();
	if (mrl_train_static(E, vocab, &d, &par, &st, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "training failed: %s\n", err);
		exit(1);
	}
	t = cpu_seconds() - t0;
	printf("training: %ld pairs (batch %d, dim %d, %d prefix sizes, avg %.1f tokens/text) "
		   "in %.2f CPU s: %.0f pairs/s\n", st.pairs_seen, par.batch_size, dim,
		   par.n_dims, (double) n / n_texts, t, st.pairs_seen / t);
	free(off);
	free(ids);
	free(a);
	free(p);
	free(E);
}

/* Encode every line of the sentence file, repeated to >= 200k sentences. */
static void
bench_encoding(const float *E, int vocab, int dim, const char *tokpath,
			   const char *sentpath)
{
	char		err[256],
			   *buf = NULL;
	size_t		cap = 0;
	ssize_t		len;
	mrl_tokenizer *tok = mrl_tokenizer_load_file(tokpath, err, sizeof(err));
	mrl_encoding enc = {0};
	FILE	   *f = fopen(sentpath, "r");
	char	  **lines = NULL;
	int			n_lines = 0;
	long		n_sent = 0,
				n_tok = 0;
	float	   *v = malloc(sizeof(float) * dim),
				checksum = 0;
	double		t0,
				t;

	if (!tok || !f)
	{
		fprintf(stderr, "cannot load %s or %s: %s\n", tokpath, sentpath, tok ? "" : err);
		exit(1);
	}
	while ((len = getline(&buf, &cap, f)) > 0)
	{
		if ((n_lines & 1023) == 0)
			lines = realloc(lines, sizeof(char *) * (n_lines + 1024));
		buf[len - 1] = buf[len - 1] == '\n' ? '\0' : buf[len - 1];
		lines[n_lines++] = strdup(buf);
	}
	fclose(f);
	t0 = cpu_seconds();
	while (n_sent < 200000)
		for (int i = 0; i < n_lines; i++, n_sent++)
		{
			int			n = mrl_tokenizer_encode(tok, lines[i], strlen(lines[i]), 0,
												 &enc, err, sizeof(err));

			/* a static model pools the pieces without [CLS] ... [SEP] */
			if (n < 2)
				continue;
			mrl_static_pool(E, dim, enc.ids + 1, n - 2, v);
			cblas_sscal(dim, 1.0f / (cblas_snrm2(dim, v, 1) + 1e-12f), v, 1);
			checksum += v[0];
			n_tok += n - 2;
		}
	t = cpu_seconds() - t0;
	printf("encoding: %ld sentences (avg %.1f tokens) in %.2f CPU s: %.0f sentences/s "
		   "(tokenizer + pooling + normalisation, 1 thread; checksum %.3f)\n",
		   n_sent, (double) n_tok / n_sent, t, n_sent / t, checksum);
	mrl_encoding_free(&enc);
	mrl_tokenizer_free(tok);
	for (int i = 0; i < n_lines; i++)
		free(lines[i]);
	free(lines);
	free(buf);
	free(v);
}

int
main(int argc, char **argv)
{
	int			vocab,
				dim;
	char		err[256];
	float	   *E;

	if (argc != 4)
	{
		fprintf(stderr, "usage: trainer_bench MODEL.safetensors TOKENIZER.json SENTENCES.txt\n");
		return 2;
	}
	openblas_set_num_threads(1);
	if (!(E = mrl_static_matrix_read(argv[1], &vocab, &dim, err, sizeof(err))))
	{
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	bench_training(vocab, dim);
	bench_encoding(E, vocab, dim, argv[2], argv[3]);
	free(E);
	return 0;
}
