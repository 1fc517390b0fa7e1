/*
 * encoder_bench.c: forward-pass throughput against the machine's sgemm.
 *
 * Builds a BERT-base-sized model with random weights in memory (12 layers,
 * 768 wide, 3072 FFN, 30522 vocab), embeds 128-token inputs on one thread
 * at several batch sizes, and compares the FLOP rate reached with
 * single-thread OpenBLAS sgemm on the same GEMM shapes.
 *
 * usage: encoder_bench [n_sequences_per_batch_size] [arch: bert|nomic]
 */
#include "bert.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N_LAYER	12
#define N_EMBD	768
#define N_FF	3072
#define N_VOCAB	30522
#define N_CTX	512
#define SEQ_LEN	128

/*
 * Seconds of CPU time used by this process: with one thread this is the
 * single-core time even when other jobs share the machine.
 */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A float array of uniform values in [mean - a, mean + a] (xorshift). */
static float *
random_floats(size_t n, float mean, float a, uint64_t *state)
{
	float	   *p = malloc(n * sizeof(float));
	size_t		i;

	if (!p)
	{
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (i = 0; i < n; i++)
	{
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		p[i] = mean + a * (2.0f * (*state >> 40) / (float) (1 << 24) - 1.0f);
	}
	return p;
}

/* Random BERT-base (or nomic-bert of the same size) weights. */
static void
make_model(mrl_arch arch, mrl_bert_config *c, mrl_bert_weights *w)
{
	uint64_t	st = 88172645463325252ULL;
	size_t		d = N_EMBD,
				ff = N_FF;
	int			i;

	memset(c, 0, sizeof(*c));
	memset(w, 0, sizeof(*w));
	c->arch = arch;
	c->n_layer = N_LAYER;
	c->n_embd = N_EMBD;
	c->n_head = 12;
	c->n_ff = N_FF;
	c->n_vocab = N_VOCAB;
	c->n_ctx = N_CTX;
	c->n_token_types = 2;
	c->norm_eps = 1e-12f;
	c->rope_theta = 1000.0f;
	c->pooling = MRL_POOL_MEAN;
	c->normalize = 1;
	w->tok_embd = random_floats(N_VOCAB * d, 0, 0.5f, &st);
	w->pos_embd = arch == MRL_ARCH_BERT ? random_floats(N_CTX * d, 0, 0.3f, &st) : NULL;
	w->type_embd = random_floats(2 * d, 0, 0.3f, &st);
	w->embd_norm_w = random_floats(d, 1, 0.1f, &st);
	w->embd_norm_b = random_floats(d, 0, 0.1f, &st);
	w->layers = calloc(N_LAYER, sizeof(mrl_bert_layer));
	for (i = 0; i < N_LAYER; i++)
	{
		mrl_bert_layer *l = &w->layers[i];

		if (arch == MRL_ARCH_BERT)
		{
			l->wq = random_floats(d * d, 0, 0.06f, &st);
			l->wk = random_floats(d * d, 0, 0.06f, &st);
			l->wv = random_floats(d * d, 0, 0.06f, &st);
			l->bq = random_floats(d, 0, 0.05f, &st);
			l->bk = random_floats(d, 0, 0.05f, &st);
			l->bv = random_floats(d, 0, 0.05f, &st);
			l->bo = random_floats(d, 0, 0.05f, &st);
			l->ffn_up_b = random_floats(ff, 0, 0.05f, &st);
			l->ffn_down_b = random_floats(d, 0, 0.05f, &st);
		}
		else
		{
			l->wqkv = random_floats(3 * d * d, 0, 0.06f, &st);
			l->ffn_gate_w = random_floats(ff * d, 0, 0.06f, &st);
		}
		l->wo = random_floats(d * d, 0, 0.06f, &st);
		l->attn_norm_w = random_floats(d, 1, 0.1f, &st);
		l->attn_norm_b = random_floats(d, 0, 0.1f, &st);
		l->ffn_up_w = random_floats(ff * d, 0, 0.06f, &st);
		l->ffn_down_w = random_floats(d * ff, 0, 0.03f, &st);
		l->ffn_norm_w = random_floats(d, 1, 0.1f, &st);
		l->ffn_norm_b = random_floats(d, 0, 0.1f, &st);
	}
}

/* Model FLOPs per token at sequence length n (GEMMs + attention). */
static double
flops_per_token(mrl_arch arch, int n)
{
	double		d = N_EMBD,
				ff = N_FF;
	double		ffn = arch == MRL_ARCH_BERT ? 2 * d * ff : 3 * d * ff;

	return N_LAYER * (2.0 * (4 * d * d + ffn) + 4.0 * n * d);
}

/* Single-thread sgemm GFLOP/s on one layer's projection shapes at m rows. */
static double
sgemm_gflops(int m)
{
	int			shapes[3][2] = {{N_EMBD, N_EMBD}, {N_FF, N_EMBD}, {N_EMBD, N_FF}};
	double		flops = 0,
				t0,
				best = 1e30;
	int			rep,
				s;
	uint64_t	st = 12345;
	float	   *a = random_floats((size_t) m * N_FF, 0, 1, &st);
	float	   *b = random_floats((size_t) N_FF * N_EMBD, 0, 1, &st);
	float	   *c = random_floats((size_t) m * N_FF, 0, 1, &st);

	for (s = 0; s < 3; s++)
		flops += 2.0 * m * shapes[s][0] * shapes[s][1];
	for (rep = 0; rep < 5; rep++)
	{
		t0 = now();
		for (s = 0; s < 3; s++)
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m,
						shapes[s][0], shapes[s][1], 1.0f, a, shapes[s][1],
						b, shapes[s][1], 0.0f, c, shapes[s][0]);
		t0 = now() - t0;
		best = t0 < best ? t0 : best;
	}
	free(a);
	free(b);
	free(c);
	return flops / best / 1e9;
}

/* Random token sequences: n_seq of len tokens each. */
static int32_t **
random_inputs(int n_seq, int len, int **lens)
{
	int32_t   **ids = malloc(n_seq * sizeof(int32_t *));
	uint64_t	st = 99;
	int			i,
				p;

	*lens = malloc(n_seq * sizeof(int));
	for (i = 0; i < n_seq; i++)
	{
		float	   *r = random_floats(len, 0.5f, 0.5f, &st);

		(*lens)[i] = len;
		ids[i] = malloc(len * sizeof(int32_t));
		for (p = 0; p < len; p++)
			ids[i][p] = (int32_t) (r[p] * (N_VOCAB - 1));
		free(r);
	}
	return ids;
}

/*
 * Tokens/s at batch sizes 1, 8, 32 for n_seq inputs of len tokens (with
 * the default exact_batch), and at 32 with tight packing.
 */
static int
bench_length(mrl_bert_ctx *ctx, mrl_arch arch, int n_seq, int len, double peak)
{
	int			batches[] = {1, 8, 32, 32};
	mrl_embed_options o;
	int		   *lens;
	int32_t   **ids = random_inputs(n_seq, len, &lens);
	float	   *out = malloc((size_t) n_seq * N_EMBD * sizeof(float));
	char		err[256];
	int			b;

	mrl_embed_options_init(&o);
	o.threads = 1;
	printf("%d-token inputs, %d sequences per run:\n", len, n_seq);
	for (b = 0; b < 4; b++)
	{
		double		t0,
					t,
					tps;

		o.batch_size = batches[b];
		o.exact_batch = b < 3;
		/* a warm-up call sizes the work buffers */
		mrl_bert_embed(ctx, (const int32_t *const *) ids, lens,
					   n_seq < batches[b] ? n_seq : batches[b], &o, out,
					   err, sizeof(err));
		t0 = now();
		if (mrl_bert_embed(ctx, (const int32_t *const *) ids, lens, n_seq,
						   &o, out, err, sizeof(err)) != MRL_FWD_OK)
		{
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		t = now() - t0;
		tps = n_seq * (double) len / t;
		printf("  batch %2d%s: %.2f s CPU = %6.0f tokens/s = %5.1f GFLOP/s = %3.0f%% of sgemm\n",
			   batches[b], b < 3 ? "" : " (tight packing)", t, tps, tps * flops_per_token(arch, len) / 1e9,
			   100.0 * tps * flops_per_token(arch, len) / 1e9 / peak);
	}
	for (b = 0; b < n_seq; b++)
		free(ids[b]);
	free(ids);
	free(lens);
	free(out);
	return 0;
}

int
main(int argc, char **argv)
{
	int			n_seq = argc > 1 ? atoi(argv[1]) : 32;
	mrl_arch	arch = argc > 2 && strcmp(argv[2], "nomic") == 0 ?
		MRL_ARCH_NOMIC_BERT : MRL_ARCH_BERT;
	mrl_bert_config cfg;
	mrl_bert_weights w;
	mrl_bert_ctx *ctx;
	char		err[256];
	double		peak;

	if (n_seq < 1)
		n_seq = 1;
	openblas_set_num_threads(1);
	make_model(arch, &cfg, &w);
	ctx = mrl_bert_ctx_create(&cfg, &w, err, sizeof(err));
	if (!ctx)
	{
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	printf("model: %s, %d layers, %d wide, %d ffn, %d vocab, random weights; 1 thread; OpenBLAS core %s\n",
		   arch == MRL_ARCH_BERT ? "bert" : "nomic-bert", N_LAYER, N_EMBD,
		   N_FF, N_VOCAB, openblas_get_corename());
	printf("model FLOPs per token: %.1f M at 128 tokens, %.1f M at 16 tokens\n",
		   flops_per_token(arch, 128) / 1e6, flops_per_token(arch, 16) / 1e6);
	peak = sgemm_gflops(32 * SEQ_LEN);
	printf("sgemm, 1 thread, one layer's shapes: %.1f GFLOP/s at 16 rows, %.1f at %d rows, %.1f at %d rows (= the peak below)\n",
		   sgemm_gflops(16), sgemm_gflops(SEQ_LEN), SEQ_LEN, peak, 32 * SEQ_LEN);
	if (bench_length(ctx, arch, n_seq, SEQ_LEN, peak) ||
		bench_length(ctx, arch, 4 * n_seq, 16, peak))
		return 1;
	mrl_bert_ctx_free(ctx);
	return 0;
}
