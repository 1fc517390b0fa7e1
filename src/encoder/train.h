/*
 * train.h: Matryoshka training of static embedding models.
 *
 * A static model is a token embedding matrix E [vocab][dim]; a text's
 * embedding is the mean of its token rows.  Training minimises
 * MatryoshkaLoss over MultipleNegativesRankingLoss (in-batch negatives):
 * for every prefix size m of the dims list, the first m coordinates of each
 * pooled vector are L2-normalised, anchors are scored against all candidates
 * (the batch's positives, then its hard negatives) by scale * cosine, and
 * the cross-entropy with the anchor's own positive as target is added with
 * weight w_m.  Gradients are pushed back only to the rows of E that occur in
 * the batch, and a lazy (sparse) AdamW updates those rows.
 *
 * Plain C, no PostgreSQL headers, no global state; errors are reported as a
 * return code plus a message in the caller's buffer.  Only the sgemms are
 * multi-threaded (by OpenBLAS); pooling, softmax and the optimizer are
 * serial, so on 2 cores one BLAS thread trained faster than two (about
 * 7,000 against 4,300 pairs/s at batch 1024, dim 256).
 */
#ifndef MRL_TRAIN_H
#define MRL_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#define MRL_TRAIN_OK		0
#define MRL_TRAIN_EINVAL	(-1)	/* bad parameter or data */
#define MRL_TRAIN_ENOMEM	(-2)
#define MRL_TRAIN_CANCELLED	(-3)	/* the cancel hook asked to stop */

#define MRL_TRAIN_MAX_DIMS	16

/* Tokenised texts and the (anchor, positive[, negative]) pairs over them. */
typedef struct mrl_train_data
{
	int			n_texts;
	const int64_t *text_off;	/* [n_texts + 1]: text t is ids[off[t]..off[t+1]) */
	const int32_t *ids;			/* token ids, each in [0, vocab) */
	int			n_pairs;
	const int32_t *anchor;		/* [n_pairs] text indexes */
	const int32_t *positive;	/* [n_pairs] */
	const int32_t *negative;	/* NULL, or [n_pairs] with -1 for "none" */
} mrl_train_data;

/* Called after every step; loss is the batch's Matryoshka loss. */
typedef void (*mrl_train_progress_fn) (void *arg, long step, long total_steps,
									   double loss);

/* Polled before every step; nonzero stops training cleanly. */
typedef int (*mrl_train_cancel_fn) (void *arg);

typedef struct mrl_train_params
{
	int			dim;			/* width of E */
	int			n_dims;			/* Matryoshka prefix sizes, ascending */
	int			dims[MRL_TRAIN_MAX_DIMS];
	float		dim_weights[MRL_TRAIN_MAX_DIMS];	/* c_m; 1 by default */
	float		scale;			/* logit scale (1 / temperature), 20 */
	int			batch_size;		/* pairs per batch */
	int			epochs;
	float		lr;				/* peak learning rate */
	float		warmup_ratio;	/* linear warm-up share of all steps */
	float		beta1,
				beta2,
				adam_eps,
				weight_decay;	/* decoupled (AdamW) */
	uint64_t	seed;			/* shuffling (and random init) */
	mrl_train_progress_fn progress;
	mrl_train_cancel_fn cancel;
	void	   *callback_arg;
} mrl_train_params;

typedef struct mrl_train_stats
{
	long		steps_done;
	long		total_steps;
	double		first_loss;		/* loss of the first step */
	double		last_loss;		/* mean loss of the last up-to-50 steps */
	long		pairs_seen;
} mrl_train_stats;

/* Recipe defaults: dims {dim}, scale 20, batch 1024, lr 0.2, 10% warm-up. */
extern void mrl_train_params_init(mrl_train_params *p, int dim);

/* Check parameters against a model width; 0 or MRL_TRAIN_EINVAL + message. */
extern int	mrl_train_check_params(const mrl_train_params *p, char *err,
								   size_t errlen);

/* Fill E [vocab][dim] with N(0, 1) values from a seeded generator. */
extern void mrl_static_init_random(float *E, int vocab, int dim, uint64_t seed);

/*
 * Train E in place.  On MRL_TRAIN_CANCELLED, E holds the weights after the
 * last completed step (a usable model).  stats may be NULL.
 */
extern int	mrl_train_static(float *E, int vocab, const mrl_train_data *data,
							 const mrl_train_params *p, mrl_train_stats *stats,
							 char *err, size_t errlen);

/*
 * The batch plan: every epoch the pairs are shuffled and greedily packed
 * into batches of batch_size in which no text occurs in two different pairs
 * (a duplicate would be a false in-batch negative).  A final batch with
 * fewer than 2 pairs is dropped.  *order receives the pair indexes and
 * *bounds (n_batches + 1 entries) the batch boundaries; free() both.
 */
extern int	mrl_train_plan(const mrl_train_data *data, int batch_size,
						   int epochs, uint64_t seed, int32_t **order,
						   int64_t **bounds, long *n_batches,
						   char *err, size_t errlen);

/*
 * The loss on pooled vectors: anchors U [B][dim], candidates C [K][dim]
 * (K >= B; candidate i is anchor i's positive).  Writes the gradients dU,
 * dC (same shapes; may be NULL to skip the backward pass).  work must hold
 * mrl_mnrl_work_floats(B, K, n_dims) floats.
 */
extern size_t mrl_mnrl_work_floats(int B, int K, int n_dims);
extern int	mrl_matryoshka_mnrl(const float *U, int B, const float *C, int K,
								const mrl_train_params *p, double *loss,
								float *dU, float *dC, float *work);

/*
 * Loss of one batch of pairs on E, and optionally its dense gradient
 * dE [vocab][dim] (overwritten).  For tests and evaluation.
 */
extern int	mrl_static_batch_loss(const float *E, int vocab,
								  const mrl_train_data *data,
								  const int32_t *pairs, int n,
								  const mrl_train_params *p, double *loss,
								  float *dE, char *err, size_t errlen);

#endif							/* MRL_TRAIN_H */
