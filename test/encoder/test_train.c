/*
 * test_train.c: the static Matryoshka trainer (src/encoder/train.c).
 * Loss and gradient against a torch reference (reference_loss.py), the
 * analytic gradient against central finite differences, the no-duplicates
 * batch plan, loss decrease on a toy task, determinism, callbacks, and
 * rejection of bad input.  Prints TAP.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train.h"
#include "reference_loss_expected.h"
#include "tap.h"

/* The reference texts and pairs, with or without hard negatives. */
static mrl_train_data
ref_data(int use_neg)
{
	mrl_train_data d = {REF_N_TEXTS, ref_text_off, ref_ids, REF_N_PAIRS,
	ref_anchor, ref_positive, use_neg ? ref_negative : NULL};

	return d;
}

/* Parameters of a reference case. */
static mrl_train_params
case_params(const ref_case *rc)
{
	mrl_train_params p;

	mrl_train_params_init(&p, REF_DIM);
	p.n_dims = rc->n_dims;
	for (int i = 0; i < rc->n_dims; i++)
	{
		p.dims[i] = rc->dims[i];
		p.dim_weights[i] = rc->weights[i];
	}
	p.scale = rc->scale;
	return p;
}

/* max |a - b| / max |b| over n floats */
static double
max_rel_diff(const float *a, const float *b, int n)
{
	double		md = 0,
				mb = 1e-30;

	for (int i = 0; i < n; i++)
	{
		md = fmax(md, fabs((double) a[i] - b[i]));
		mb = fmax(mb, fabs((double) b[i]));
	}
	return md / mb;
}

static const int32_t all_pairs[] = {0, 1, 2, 3, 4};

/* Loss value and dE against torch autograd. */
static void
test_reference(void)
{
	float		dE[REF_VOCAB * REF_DIM];

	for (size_t c = 0; c < sizeof(ref_cases) / sizeof(ref_cases[0]); c++)
	{
		const ref_case *rc = &ref_cases[c];
		mrl_train_params p = case_params(rc);
		mrl_train_data d = ref_data(rc->use_neg);
		double		loss = -1;
		char		err[256];
		int			r = mrl_static_batch_loss(ref_E, REF_VOCAB, &d, all_pairs,
											  REF_N_PAIRS, &p, &loss, dE, err, sizeof(err));

		ok(r == 0 && fabs(loss - rc->loss) <= 1e-5 * rc->loss,
		   "%s: loss %.7f matches torch %.7f", rc->name, loss, rc->loss);
		ok(r == 0 && max_rel_diff(dE, rc->dE, REF_VOCAB * REF_DIM) < 1e-4,
		   "%s: dL/dE matches torch autograd (max rel diff %.2g)", rc->name,
		   max_rel_diff(dE, rc->dE, REF_VOCAB * REF_DIM));
	}
}

/* Analytic dL/dE against central differences, for every entry of E. */
static void
test_finite_differences(void)
{
	static const int dims_sets[][4] = {{8}, {2, 4, 8}, {1, 3, 8}, {3, 6}};
	static const int n_dims[] = {1, 3, 3, 2};
	static const int use_neg[] = {0, 0, 1, 1};
	const int	n = REF_VOCAB * REF_DIM;
	float		E[REF_VOCAB * REF_DIM],
				dE[REF_VOCAB * REF_DIM];
	const float h = 2e-3f;

	for (int s = 0; s < 4; s++)
	{
		mrl_train_params p;
		mrl_train_data d = ref_data(use_neg[s]);
		double		num2 = 0,
					diff2 = 0,
					loss;

		mrl_train_params_init(&p, REF_DIM);
		p.n_dims = n_dims[s];
		for (int i = 0; i < n_dims[s]; i++)
		{
			p.dims[i] = dims_sets[s][i];
			p.dim_weights[i] = 1.0f + 0.5f * i;
		}
		p.scale = 5.0f;			/* an unsaturated softmax: large gradients */
		mrl_static_init_random(E, REF_VOCAB, REF_DIM, 100 + s);
		mrl_static_batch_loss(E, REF_VOCAB, &d, all_pairs, REF_N_PAIRS, &p,
							  &loss, dE, NULL, 0);
		for (int i = 0; i < n; i++)
		{
			double		lp,
						lm,
						fd;
			float		saved = E[i];

			E[i] = saved + h;
			mrl_static_batch_loss(E, REF_VOCAB, &d, all_pairs, REF_N_PAIRS, &p,
								  &lp, NULL, NULL, 0);
			E[i] = saved - h;
			mrl_static_batch_loss(E, REF_VOCAB, &d, all_pairs, REF_N_PAIRS, &p,
								  &lm, NULL, NULL, 0);
			E[i] = saved;
			fd = (lp - lm) / (2 * h);
			num2 += (double) dE[i] * dE[i];
			diff2 += (fd - dE[i]) * (fd - dE[i]);
		}
		ok(num2 > 1e-6 && sqrt(diff2 / num2) < 2e-3,
		   "finite differences, dims set %d (%d prefixes, negatives %d): relative error %.2g",
		   s, n_dims[s], use_neg[s], sqrt(diff2 / num2));
	}
}

/* Random pairs over few texts, so that the planner must avoid many clashes. */
static void
make_clashing_data(mrl_train_data *d, int32_t *a, int32_t *pp, int32_t *ng,
				   int n_pairs, int n_texts, int64_t *off, int32_t *ids)
{
	uint64_t	x = 12345;

	for (int t = 0; t <= n_texts; t++)
		off[t] = t;
	for (int t = 0; t < n_texts; t++)
		ids[t] = t % 7;
	for (int i = 0; i < n_pairs; i++)
	{
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		a[i] = (x >> 33) % n_texts;
		pp[i] = (a[i] + 1 + (x >> 13) % (n_texts - 1)) % n_texts;
		ng[i] = (i % 3 == 0) ? -1 : (int32_t) ((x >> 43) % n_texts);
	}
	d->n_texts = n_texts;
	d->text_off = off;
	d->ids = ids;
	d->n_pairs = n_pairs;
	d->anchor = a;
	d->positive = pp;
	d->negative = ng;
}

/* Every batch: 2..bs pairs, no text in two pairs, no pair twice per epoch. */
static void
test_plan(void)
{
	enum
	{
	NP = 600, NT = 240, BS = 16, EPOCHS = 3};
	static int32_t a[NP],
				pp[NP],
				ng[NP],
				ids[NT];
	static int64_t off[NT + 1];
	mrl_train_data d;
	int32_t    *order,
			   *order2;
	int64_t    *bounds,
			   *bounds2;
	long		nb,
				nb2;
	int			bad_dup = 0,
				bad_size = 0,
				bad_repeat = 0;
	int		   *last_batch = calloc(NT, sizeof(int));
	int		   *seen_epoch = calloc(NP, sizeof(int));
	int			r,
				epoch = 0,
				planned_in_epoch = 0,
				min_epoch_pairs = NP;

	make_clashing_data(&d, a, pp, ng, NP, NT, off, ids);
	r = mrl_train_plan(&d, BS, EPOCHS, 7, &order, &bounds, &nb, NULL, 0);
	ok(r == 0 && nb > 0,
	   "plan: %ld batches for %d epochs of %d pairs", nb, EPOCHS, NP);
	for (int i = 0; i < NP; i++)
		seen_epoch[i] = -1;
	for (long b = 0; b < nb; b++)
	{
		int			n = (int) (bounds[b + 1] - bounds[b]);

		if (n < 2 || n > BS)
			bad_size++;
		for (int k = 0; k < n; k++)
		{
			int			i = order[bounds[b] + k];
			int			texts[3] = {a[i], pp[i], ng[i]};

			/* a pair seen again means a new epoch started */
			if (seen_epoch[i] == epoch)
			{
				min_epoch_pairs = planned_in_epoch < min_epoch_pairs ? planned_in_epoch : min_epoch_pairs;
				epoch++;
				planned_in_epoch = 0;
				if (k != 0)
					bad_repeat++;	/* repeated inside one batch */
			}
			seen_epoch[i] = epoch;
			planned_in_epoch++;
			for (int j = 0; j < 3; j++)
			{
				if (texts[j] < 0 || (j > 0 && texts[j] == texts[0]) ||
					(j == 2 && texts[2] == texts[1]))
					continue;
				if (last_batch[texts[j]] == (int) b + 1)
					bad_dup++;
				last_batch[texts[j]] = (int) b + 1;
			}
		}
	}
	ok(bad_dup == 0, "plan: no text occurs in two pairs of a batch (%d clashes)", bad_dup);
	ok(bad_size == 0 && bad_repeat == 0, "plan: batch sizes within 2..%d, no pair twice in a batch", BS);
	ok(epoch == EPOCHS - 1 && min_epoch_pairs > NP * 9 / 10,
	   "plan: %d epochs seen, each keeps >= 90%% of the pairs (min %d of %d)",
	   epoch + 1, min_epoch_pairs, NP);
	mrl_train_plan(&d, BS, EPOCHS, 7, &order2, &bounds2, &nb2, NULL, 0);
	ok(nb2 == nb && memcmp(order, order2, sizeof(int32_t) * bounds[nb]) == 0 &&
	   memcmp(bounds, bounds2, sizeof(int64_t) * (nb + 1)) == 0,
	   "plan: same seed, same plan");
	free(order2);
	free(bounds2);
	mrl_train_plan(&d, BS, EPOCHS, 8, &order2, &bounds2, &nb2, NULL, 0);
	ok(memcmp(order, order2, sizeof(int32_t) * 50) != 0, "plan: another seed, another order");
	free(order2);
	free(bounds2);
	free(order);
	free(bounds);
	free(last_batch);
	free(seen_epoch);
}

/*
 * Toy task: 40 topics; an anchor holds its topic token plus noise, its
 * positive the topic's partner token plus noise.  Only training can link
 * the two.
 */
enum
{
TOY_TOPICS = 40, TOY_PAIRS = 480, TOY_VOCAB = 120, TOY_DIM = 32};
static int64_t toy_off[2 * TOY_PAIRS + 1];
static int32_t toy_ids[5 * TOY_PAIRS],
			toy_a[TOY_PAIRS],
			toy_p[TOY_PAIRS];

static mrl_train_data
toy_data(void)
{
	mrl_train_data d = {2 * TOY_PAIRS, toy_off, toy_ids, TOY_PAIRS, toy_a, toy_p, NULL};
	uint64_t	x = 99;
	int			pos = 0;

	for (int i = 0; i < TOY_PAIRS; i++)
	{
		int			k = i % TOY_TOPICS;

		toy_a[i] = 2 * i;
		toy_p[i] = 2 * i + 1;
		toy_off[2 * i] = pos;
		toy_ids[pos++] = k;
		for (int j = 0; j < 2; j++)
		{
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			toy_ids[pos++] = 2 * TOY_TOPICS + (x >> 33) % (TOY_VOCAB - 2 * TOY_TOPICS);
		}
		toy_off[2 * i + 1] = pos;
		toy_ids[pos++] = TOY_TOPICS + k;
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		toy_ids[pos++] = 2 * TOY_TOPICS + (x >> 33) % (TOY_VOCAB - 2 * TOY_TOPICS);
	}
	toy_off[2 * TOY_PAIRS] = pos;
	return d;
}

static mrl_train_params
toy_params(void)
{
	mrl_train_params p;

	mrl_train_params_init(&p, TOY_DIM);
	p.n_dims = 3;
	p.dims[0] = 8;
	p.dims[1] = 16;
	p.dims[2] = 32;
	p.batch_size = 32;
	p.epochs = 4;
	p.lr = 0.05f;
	return p;
}

typedef struct progress_log
{
	long		calls,
				last_step,
				total;
	int			monotone;
	long		cancel_after;
} progress_log;

static void
log_progress(void *arg, long step, long total, double loss)
{
	progress_log *l = arg;

	if (step != l->last_step + 1 || !isfinite(loss))
		l->monotone = 0;
	l->last_step = step;
	l->total = total;
	l->calls++;
}

static int
cancel_when(void *arg)
{
	progress_log *l = arg;

	return l->cancel_after >= 0 && l->calls >= l->cancel_after;
}

/* Loss on the first 40 pairs (one per topic) as a single batch. */
static double
toy_eval_loss(const float *E, const mrl_train_data *d, const mrl_train_params *p)
{
	int32_t		pairs[TOY_TOPICS];
	double		loss = NAN;

	for (int i = 0; i < TOY_TOPICS; i++)
		pairs[i] = i;
	mrl_static_batch_loss(E, TOY_VOCAB, d, pairs, TOY_TOPICS, p, &loss, NULL, NULL, 0);
	return loss;
}

static void
test_training(void)
{
	mrl_train_data d = toy_data();
	mrl_train_params p = toy_params();
	static float E1[TOY_VOCAB * TOY_DIM],
				E2[TOY_VOCAB * TOY_DIM];
	progress_log log = {0, 0, 0, 1, -1};
	mrl_train_stats st;
	char		err[256];
	double		before,
				after;
	int			r;

	mrl_static_init_random(E1, TOY_VOCAB, TOY_DIM, 1);
	memcpy(E2, E1, sizeof(E1));
	before = toy_eval_loss(E1, &d, &p);
	p.progress = log_progress;
	p.cancel = cancel_when;
	p.callback_arg = &log;
	r = mrl_train_static(E1, TOY_VOCAB, &d, &p, &st, err, sizeof(err));
	after = toy_eval_loss(E1, &d, &p);
	ok(r == 0 && after < 0.25 * before,
	   "toy task: loss falls from %.3f to %.3f (train loss %.3f -> %.3f, %ld steps)",
	   before, after, st.first_loss, st.last_loss, st.steps_done);
	ok(log.calls == st.total_steps && log.monotone && log.total == st.total_steps &&
	   st.steps_done == st.total_steps,
	   "progress callback: %ld calls, steps 1..%ld in order", log.calls, log.total);

	r = mrl_train_static(E2, TOY_VOCAB, &d, &p, &st, err, sizeof(err));
	ok(r == 0 && memcmp(E1, E2, sizeof(E1)) == 0, "same seed: identical weights, byte for byte");

	mrl_static_init_random(E2, TOY_VOCAB, TOY_DIM, 1);
	p.seed = 43;
	mrl_train_static(E2, TOY_VOCAB, &d, &p, &st, err, sizeof(err));
	ok(memcmp(E1, E2, sizeof(E1)) != 0, "another seed: different weights");

	log = (progress_log) {0, 0, 0, 1, 3};
	mrl_static_init_random(E2, TOY_VOCAB, TOY_DIM, 1);
	r = mrl_train_static(E2, TOY_VOCAB, &d, &p, &st, err, sizeof(err));
	ok(r == MRL_TRAIN_CANCELLED && st.steps_done == 3 && log.calls == 3 &&
	   isfinite(toy_eval_loss(E2, &d, &p)),
	   "cancel hook stops after 3 steps with a usable model (%s)", err);
}

/* Bad parameters and data give MRL_TRAIN_EINVAL with a message. */
static void
test_rejects(void)
{
	mrl_train_data d = ref_data(1);
	mrl_train_params p;
	float		E[REF_VOCAB * REF_DIM];
	int32_t		bad_ids[31];
	int32_t		bad_pair[] = {0, 7};
	char		err[256] = "";
	double		loss;

	memcpy(E, ref_E, sizeof(E));
	mrl_train_params_init(&p, REF_DIM);
	p.n_dims = 2;
	p.dims[0] = 8;
	p.dims[1] = 4;
	ok(mrl_train_static(E, REF_VOCAB, &d, &p, NULL, err, sizeof(err)) == MRL_TRAIN_EINVAL &&
	   strstr(err, "ascending"), "descending dims rejected (%s)", err);
	p.dims[1] = 9;
	ok(mrl_train_check_params(&p, err, sizeof(err)) == MRL_TRAIN_EINVAL,
	   "dim above the width rejected");
	mrl_train_params_init(&p, REF_DIM);
	memcpy(bad_ids, ref_ids, sizeof(bad_ids));
	bad_ids[4] = REF_VOCAB;
	d.ids = bad_ids;
	ok(mrl_train_static(E, REF_VOCAB, &d, &p, NULL, err, sizeof(err)) == MRL_TRAIN_EINVAL &&
	   strstr(err, "outside the vocabulary"), "token id out of range rejected (%s)", err);
	d = ref_data(1);
	ok(mrl_static_batch_loss(E, REF_VOCAB, &d, bad_pair, 2, &p, &loss, NULL, err, sizeof(err)) ==
	   MRL_TRAIN_EINVAL, "pair index out of range rejected (%s)", err);
	p.lr = NAN;
	ok(mrl_train_check_params(&p, err, sizeof(err)) == MRL_TRAIN_EINVAL, "NaN learning rate rejected");
	ok(memcmp(E, ref_E, sizeof(E)) == 0, "rejected calls leave the weights untouched");
}

int
main(void)
{
	test_reference();
	test_finite_differences();
	test_plan();
	test_training();
	test_rejects();
	return tap_done();
}
