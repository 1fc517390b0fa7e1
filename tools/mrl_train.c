/*
 * mrl_train: train a static embedding model with MatryoshkaLoss(MNRL) on a
 * tokenised pair file (tools/data/tokenize_pairs.js) and write its matrix
 * as safetensors "embedding.weight" [vocab][dim] float32.
 *
 * usage: mrl_train --pairs train.tok --vocab N --out model.safetensors
 *        [--dim 256] [--dims 16,32,64,128,256] [--weights 1,1,...]
 *        [--batch 1024] [--epochs 1] [--lr 0.2] [--warmup 0.1]
 *        [--weight-decay 0] [--seed 42] [--init base.safetensors]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "static_model.h"
#include "tool_io.h"
#include "train.h"

typedef struct progress_state
{
	struct timespec start;
	int			batch_size;
	long		every;
} progress_state;

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + 1e-9 * (t.tv_nsec - t0->tv_nsec);
}

/* Print the loss every few steps, with the pair rate. */
static void
print_progress(void *arg, long step, long total, double loss)
{
	progress_state *ps = arg;

	if (step % ps->every == 0 || step == total)
	{
		double		s = seconds_since(&ps->start);

		fprintf(stderr, "step %ld/%ld loss %.4f  %.0f pairs/s  %.0fs\n", step,
				total, loss, step * (double) ps->batch_size / s, s);
	}
}

/* Parse "a,b,c" into ints (or floats if f != NULL); returns the count. */
static int
parse_list(const char *s, int *ints, float *floats, int max)
{
	int			n = 0;
	char	   *end;

	while (*s && n < max)
	{
		if (ints)
			ints[n] = (int) strtol(s, &end, 10);
		else
			floats[n] = strtof(s, &end);
		if (end == s)
			return -1;
		n++;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return *s ? -1 : n;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mrl_train --pairs FILE --vocab N --out FILE [--dim D] "
			"[--dims a,b,..] [--weights w,..] [--batch B] [--epochs E] [--lr LR] "
			"[--warmup R] [--weight-decay W] [--seed S] [--init FILE]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *pairs_path = NULL,
			   *out_path = NULL,
			   *init_path = NULL,
			   *dims_arg = NULL,
			   *weights_arg = NULL;
	int			vocab = 0,
				dim = 256;
	mrl_train_params p;
	pair_file	pf;
	mrl_train_stats st;
	progress_state ps;
	float	   *E;
	char		err[512];
	int			rc;

	mrl_train_params_init(&p, dim);
	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i],
				   *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--pairs"))
			pairs_path = v;
		else if (!strcmp(a, "--out"))
			out_path = v;
		else if (!strcmp(a, "--init"))
			init_path = v;
		else if (!strcmp(a, "--vocab"))
			vocab = atoi(v);
		else if (!strcmp(a, "--dim"))
			dim = atoi(v);
		else if (!strcmp(a, "--dims"))
			dims_arg = v;
		else if (!strcmp(a, "--weights"))
			weights_arg = v;
		else if (!strcmp(a, "--batch"))
			p.batch_size = atoi(v);
		else if (!strcmp(a, "--epochs"))
			p.epochs = atoi(v);
		else if (!strcmp(a, "--lr"))
			p.lr = strtof(v, NULL);
		else if (!strcmp(a, "--warmup"))
			p.warmup_ratio = strtof(v, NULL);
		else if (!strcmp(a, "--weight-decay"))
			p.weight_decay = strtof(v, NULL);
		else if (!strcmp(a, "--seed"))
			p.seed = strtoull(v, NULL, 10);
		else
			usage();
	}
	if (!pairs_path || !out_path || vocab < 1)
		usage();
	p.dim = dim;
	p.n_dims = 1;
	p.dims[0] = dim;
	if (dims_arg && (p.n_dims = parse_list(dims_arg, p.dims, NULL, MRL_TRAIN_MAX_DIMS)) < 1)
		usage();
	if (weights_arg && parse_list(weights_arg, NULL, p.dim_weights, MRL_TRAIN_MAX_DIMS) != p.n_dims)
		usage();
	if (mrl_train_check_params(&p, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "mrl_train: %s\n", err);
		return 1;
	}
	if (pair_file_read(pairs_path, &pf, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "mrl_train: %s\n", err);
		return 1;
	}
	if (init_path)
	{
		int			iv,
					id;

		E = mrl_static_matrix_read(init_path, &iv, &id, err, sizeof(err));
		if (E && (iv != vocab || id != dim))
		{
			snprintf(err, sizeof(err), "%s is [%d][%d], expected [%d][%d]",
					 init_path, iv, id, vocab, dim);
			free(E);
			E = NULL;
		}
	}
	else if ((E = malloc(sizeof(float) * (size_t) vocab * dim)) != NULL)
		mrl_static_init_random(E, vocab, dim, p.seed);
	else
		snprintf(err, sizeof(err), "out of memory");
	if (!E)
	{
		fprintf(stderr, "mrl_train: %s\n", err);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ps.start);
	ps.batch_size = p.batch_size;
	ps.every = 20;
	p.progress = print_progress;
	p.callback_arg = &ps;
	fprintf(stderr, "mrl_train: %d pairs, %d texts, vocab %d, dim %d, %d prefix sizes\n",
			pf.data.n_pairs, pf.data.n_texts, vocab, dim, p.n_dims);
	rc = mrl_train_static(E, vocab, &pf.data, &p, &st, err, sizeof(err));
	if (rc != MRL_TRAIN_OK)
	{
		fprintf(stderr, "mrl_train: %s\n", err);
		return 1;
	}
	fprintf(stderr, "mrl_train: %ld steps, %ld pairs in %.1fs (%.0f pairs/s); loss %.4f -> %.4f\n",
			st.steps_done, st.pairs_seen, seconds_since(&ps.start),
			st.pairs_seen / seconds_since(&ps.start), st.first_loss, st.last_loss);
	if (mrl_static_matrix_write(out_path, E, vocab, dim, err, sizeof(err)) != 0)
	{
		fprintf(stderr, "mrl_train: %s\n", err);
		return 1;
	}
	pair_file_free(&pf);
	free(E);
	return 0;
}
