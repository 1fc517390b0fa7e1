/*
 * eval_model: retrieval quality of static models at each prefix size on a
 * held-out pair file.  Queries are the distinct anchor texts, the corpus is
 * the distinct positive texts, and every positive of a query is relevant
 * (grade 1).  For each model and prefix size m, the first m coordinates of
 * the pooled vectors are L2-normalised and ranked by cosine.
 *
 * A model given as --pca NAME=FILE is first rotated by a PCA fitted on
 * pooled embeddings of the --fit pair file (training texts, never the
 * held-out ones) and baked into the table, E' = (E - mean) W^T, so its
 * prefixes are its top principal components.
 *
 * usage: eval_model --heldout heldout.tok [--fit train.tok]
 *        [--dims 16,32,64,128,256] [--source NAME]
 *        --model NAME=FILE [--pca NAME=FILE] ...
 * --source keeps only the held-out pairs of one source (e.g. debian).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "evaluate.h"
#include "static_model.h"
#include "tool_io.h"
#include "train.h"

#define MAX_MODELS 16
#define PCA_SAMPLE 50000		/* training texts used to fit a PCA */
#define QUERY_BLOCK 512

/* The held-out task: query and document text ids plus relevance lists. */
typedef struct task
{
	int			n_q,
				n_d;
	int32_t    *q_text,			/* [n_q] text index of each query */
			   *d_text;			/* [n_d] text index of each document */
	int32_t    *rel_off,		/* [n_q + 1] into rel */
			   *rel;			/* relevant document numbers */
} task;

/* Does pair i come from the source named only (NULL: any)? */
static int
pair_selected(const pair_file *pf, int i, const char *only)
{
	return !only || strcmp(pf->source_names[pf->source[i]], only) == 0;
}

/*
 * Number the distinct anchor / positive texts of the selected pairs and
 * collect the qrels.
 */
static int
build_task(const pair_file *pf, const char *only, task *t)
{
	int			n_texts = pf->data.n_texts,
				n_pairs = pf->data.n_pairs;
	int32_t    *qnum = malloc(sizeof(int32_t) * n_texts),
			   *dnum = malloc(sizeof(int32_t) * n_texts),
			   *fill;

	memset(t, 0, sizeof(*t));
	t->q_text = malloc(sizeof(int32_t) * n_pairs);
	t->d_text = malloc(sizeof(int32_t) * n_pairs);
	t->rel = malloc(sizeof(int32_t) * n_pairs);
	if (!qnum || !dnum || !t->q_text || !t->d_text || !t->rel)
		return -1;
	for (int i = 0; i < n_texts; i++)
		qnum[i] = dnum[i] = -1;
	for (int i = 0; i < n_pairs; i++)
	{
		int			a = pf->anchor[i],
					p = pf->positive[i];

		if (!pair_selected(pf, i, only))
			continue;
		if (qnum[a] < 0)
		{
			qnum[a] = t->n_q;
			t->q_text[t->n_q++] = a;
		}
		if (dnum[p] < 0)
		{
			dnum[p] = t->n_d;
			t->d_text[t->n_d++] = p;
		}
	}
	t->rel_off = calloc(t->n_q + 1, sizeof(int32_t));
	fill = calloc(t->n_q, sizeof(int32_t));
	if (!t->rel_off || !fill)
		return -1;
	for (int i = 0; i < n_pairs; i++)
		if (pair_selected(pf, i, only))
			t->rel_off[qnum[pf->anchor[i]] + 1]++;
	for (int q = 0; q < t->n_q; q++)
		t->rel_off[q + 1] += t->rel_off[q];
	/* the tokenizer script merges identical texts, so pairs are distinct */
	for (int i = 0; i < n_pairs; i++)
	{
		int			q = qnum[pf->anchor[i]];

		if (!pair_selected(pf, i, only))
			continue;
		t->rel[t->rel_off[q] + fill[q]++] = dnum[pf->positive[i]];
	}
	free(fill);
	free(qnum);
	free(dnum);
	return 0;
}

/* Pool texts[0..n) into V [n][dim], then keep and normalise the first m. */
static void
encode_prefix(const float *E, int dim, const pair_file *pf,
			  const int32_t *texts, int n, int m, float *V)
{
	float	   *tmp = malloc(sizeof(float) * dim);

	for (int i = 0; i < n; i++)
	{
		int			t = texts[i];
		float	   *v = V + (size_t) i * m;
		float		norm;

		mrl_static_pool(E, dim, pf->ids + pf->text_off[t],
						pf->text_off[t + 1] - pf->text_off[t], tmp);
		norm = cblas_snrm2(m, tmp, 1);
		for (int k = 0; k < m; k++)
			v[k] = norm > 0 ? tmp[k] / norm : 0.0f;
	}
	free(tmp);
}

/* Mean metrics over all queries at prefix m. */
static mrl_ir_metrics
evaluate_prefix(const float *E, int dim, const pair_file *pf, const task *t,
				int m, int *n_scored)
{
	float	   *Q = malloc(sizeof(float) * (size_t) t->n_q * m),
			   *D = malloc(sizeof(float) * (size_t) t->n_d * m),
			   *S = malloc(sizeof(float) * (size_t) QUERY_BLOCK * t->n_d);
	int32_t		top[100];
	int			k = t->n_d < 100 ? t->n_d : 100;
	mrl_ir_metrics sum = {0},
				one;
	float	   *grades = malloc(sizeof(float) * (t->rel_off[t->n_q] + 1));

	*n_scored = 0;
	for (int i = 0; i < t->rel_off[t->n_q]; i++)
		grades[i] = 1.0f;
	encode_prefix(E, dim, pf, t->q_text, t->n_q, m, Q);
	encode_prefix(E, dim, pf, t->d_text, t->n_d, m, D);
	for (int q0 = 0; q0 < t->n_q; q0 += QUERY_BLOCK)
	{
		int			nq = t->n_q - q0 < QUERY_BLOCK ? t->n_q - q0 : QUERY_BLOCK;

		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nq, t->n_d, m,
					1.0f, Q + (size_t) q0 * m, m, D, m, 0.0f, S, t->n_d);
		for (int i = 0; i < nq; i++)
		{
			int			q = q0 + i;

			mrl_topk(S + (size_t) i * t->n_d, t->n_d, k, top);
			if (mrl_ir_score_query(top, k, t->rel + t->rel_off[q], grades,
								   t->rel_off[q + 1] - t->rel_off[q], &one) == 1)
			{
				mrl_ir_metrics_add(&sum, &one);
				(*n_scored)++;
			}
		}
	}
	if (*n_scored > 0)
	{
		sum.ndcg10 /= *n_scored;
		sum.recall10 /= *n_scored;
		sum.recall100 /= *n_scored;
		sum.mrr10 /= *n_scored;
	}
	free(Q);
	free(D);
	free(S);
	free(grades);
	return sum;
}

/* Rotate E into its PCA basis fitted on pooled training texts. */
static int
bake_pca(float *E, int vocab, int dim, const pair_file *fit, char *err,
		 size_t errlen)
{
	int			n = fit->data.n_texts < PCA_SAMPLE ? fit->data.n_texts : PCA_SAMPLE;
	long		stride = fit->data.n_texts / n;
	float	   *X = malloc(sizeof(float) * (size_t) n * dim),
			   *Y = malloc(sizeof(float) * (size_t) vocab * dim);
	mrl_pca		pca;

	if (!X || !Y)
		return -1;
	for (int i = 0; i < n; i++)
	{
		long		t = i * stride;

		mrl_static_pool(E, dim, fit->ids + fit->text_off[t],
						fit->text_off[t + 1] - fit->text_off[t], X + (size_t) i * dim);
	}
	if (mrl_pca_fit(X, n, dim, dim, &pca, err, errlen) != 0)
		return -1;
	mrl_pca_apply(&pca, E, vocab, Y);
	memcpy(E, Y, sizeof(float) * (size_t) vocab * dim);
	mrl_pca_free(&pca);
	free(X);
	free(Y);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: eval_model --heldout FILE [--fit FILE] [--dims a,b,..] "
			"[--source NAME] --model NAME=FILE [--pca NAME=FILE] ...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *heldout = NULL,
			   *fitpath = NULL,
			   *only = NULL,
			   *names[MAX_MODELS],
			   *paths[MAX_MODELS];
	int			is_pca[MAX_MODELS],
				n_models = 0,
				dims[16] = {16, 32, 64, 128, 256},
				n_dims = 5;
	pair_file	pf,
				fit;
	task		t;
	char		err[512];

	for (int i = 1; i + 1 < argc; i += 2)
	{
		char	   *v = argv[i + 1],
				   *eq;

		if (!strcmp(argv[i], "--heldout"))
			heldout = v;
		else if (!strcmp(argv[i], "--fit"))
			fitpath = v;
		else if (!strcmp(argv[i], "--source"))
			only = v;
		else if (!strcmp(argv[i], "--dims"))
		{
			char	   *s = v;

			for (n_dims = 0; *s && n_dims < 16; n_dims++)
			{
				dims[n_dims] = (int) strtol(s, &s, 10);
				if (*s == ',')
					s++;
			}
		}
		else if ((!strcmp(argv[i], "--model") || !strcmp(argv[i], "--pca")) &&
				 (eq = strchr(v, '=')) && n_models < MAX_MODELS)
		{
			*eq = '\0';
			names[n_models] = v;
			paths[n_models] = eq + 1;
			is_pca[n_models++] = !strcmp(argv[i], "--pca");
		}
		else
			usage();
	}
	if (!heldout || n_models == 0)
		usage();
	if (pair_file_read(heldout, &pf, err, sizeof(err)) != 0 ||
		(fitpath && pair_file_read(fitpath, &fit, err, sizeof(err)) != 0) ||
		build_task(&pf, only, &t) != 0)
	{
		fprintf(stderr, "eval_model: %s\n", err);
		return 1;
	}
	if (t.n_q == 0)
	{
		fprintf(stderr, "eval_model: no held-out pairs from source %s\n", only);
		return 1;
	}
	printf("# %d queries, %d documents, %d relevance judgements\n",
		   t.n_q, t.n_d, t.rel_off[t.n_q]);
	printf("| model | dims | nDCG@10 | R@10 | R@100 | MRR@10 |\n|---|---|---|---|---|---|\n");
	for (int mi = 0; mi < n_models; mi++)
	{
		int			vocab,
					dim;
		float	   *E = mrl_static_matrix_read(paths[mi], &vocab, &dim, err, sizeof(err));

		if (!E || pf.max_id >= vocab ||
			(is_pca[mi] && (!fitpath || bake_pca(E, vocab, dim, &fit, err, sizeof(err)) != 0)))
		{
			fprintf(stderr, "eval_model: %s: %s\n", names[mi],
					E ? "token ids beyond the vocabulary, or PCA failed (needs --fit)" : err);
			return 1;
		}
		for (int di = 0; di < n_dims; di++)
		{
			int			n_scored;
			mrl_ir_metrics r;

			if (dims[di] < 1 || dims[di] > dim)
				continue;
			r = evaluate_prefix(E, dim, &pf, &t, dims[di], &n_scored);
			printf("| %s | %d | %.4f | %.4f | %.4f | %.4f |\n", names[mi], dims[di],
				   r.ndcg10, r.recall10, r.recall100, r.mrr10);
			fflush(stdout);
		}
		free(E);
	}
	return 0;
}
