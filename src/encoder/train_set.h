/*
 * train_set.h: training pairs for the static trainer (train.h) built from
 * texts.  Each text is tokenised the way the model sees it
 * (mrl_encoder_tokenize: no [CLS]/[SEP] for static models) and texts with
 * identical token sequences become one text, so the trainer's
 * no-duplicates batching can keep them out of each other's negatives.
 * Pairs are added one at a time (e.g. row by row from a query), then
 * set->data is passed to mrl_train_static().  No PostgreSQL headers.
 */
#ifndef MRL_TRAIN_SET_H
#define MRL_TRAIN_SET_H

#include <stddef.h>
#include <stdint.h>

#include "encoder.h"
#include "train.h"

typedef struct mrl_train_set
{
	mrl_train_data data;		/* valid after every successful add */
	int			n_dropped;		/* pairs skipped: a text without tokens, or
								 * query and positive the same text */
	int			max_tokens;		/* truncation per text, 0 = none */
	/* storage behind data */
	int64_t    *text_off;
	int32_t    *ids;
	int32_t    *anchor,
			   *positive,
			   *negative;		/* NULL until a pair has a negative */
	int64_t		cap_ids;
	int			cap_texts,
				cap_pairs;
	/* hash of token sequences: slot holds text index + 1, 0 = empty */
	int32_t    *slots;
	uint64_t   *text_hash;
	size_t		n_slots;
	mrl_encoding enc[3];
} mrl_train_set;

/* An empty set; texts are cut to max_tokens tokens (0: no limit). */
extern void mrl_train_set_init(mrl_train_set *set, int max_tokens);

/*
 * Add (query, positive[, negative]); negative may be NULL.  Texts are UTF-8
 * of the given byte lengths.  Returns 1 if added, 0 if dropped (counted in
 * n_dropped), -1 with a message (e.g. invalid UTF-8), -2 with a message when
 * out of memory or over the limits on texts and pairs.
 */
extern int	mrl_train_set_add(mrl_train_set *set, const mrl_encoder *enc,
							  const char *query, size_t qlen,
							  const char *positive, size_t plen,
							  const char *negative, size_t nlen,
							  char *err, size_t errlen);

extern void mrl_train_set_free(mrl_train_set *set);

#endif							/* MRL_TRAIN_SET_H */
