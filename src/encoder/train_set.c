/*
 * train_set.c: training pairs from texts, identical token sequences merged
 * (see train_set.h).
 */
#include "train_set.h"

#include "errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXTS (INT32_MAX / 2)

void
mrl_train_set_init(mrl_train_set *set, int max_tokens)
{
	memset(set, 0, sizeof(*set));
	set->max_tokens = max_tokens > 0 ? max_tokens : 0;
}

void
mrl_train_set_free(mrl_train_set *set)
{
	free(set->text_off);
	free(set->ids);
	free(set->anchor);
	free(set->positive);
	free(set->negative);
	free(set->slots);
	free(set->text_hash);
	for (int i = 0; i < 3; i++)
		mrl_encoding_free(&set->enc[i]);
	memset(set, 0, sizeof(*set));
}

/* A capacity >= need, doubling from cap (at least 256); -1 on overflow. */
static int64_t
next_cap(int64_t cap, int64_t need)
{
	int64_t		n = cap > 0 ? cap : 256;

	while (n < need)
	{
		if (n > INT64_MAX / 2)
			return -1;
		n *= 2;
	}
	return n;
}

/* realloc *p to n elements of size elem; 0 or -1 (then *p is unchanged). */
static int
resize(void *p, int64_t n, size_t elem)
{
	void	   *q;

	if (n < 0 || (uint64_t) n > SIZE_MAX / elem ||
		!(q = realloc(*(void **) p, (size_t) n * elem)))
		return -1;
	*(void **) p = q;
	return 0;
}

/* Room for need texts (offsets need + 1) and n_ids token ids. */
static int
ensure_texts(mrl_train_set *set, int64_t need, int64_t n_ids)
{
	if (need > set->cap_texts)
	{
		int64_t		cap = next_cap(set->cap_texts, need);

		if (cap > MAX_TEXTS || resize(&set->text_off, cap + 1, sizeof(int64_t)) != 0 ||
			resize(&set->text_hash, cap, sizeof(uint64_t)) != 0)
			return -1;
		set->cap_texts = (int) cap;
	}
	if (n_ids > set->cap_ids)
	{
		int64_t		cap = next_cap(set->cap_ids, n_ids);

		if (resize(&set->ids, cap, sizeof(int32_t)) != 0)
			return -1;
		set->cap_ids = cap;
	}
	return 0;
}

/* Room for need pairs in anchor, positive and (when in use) negative. */
static int
ensure_pairs(mrl_train_set *set, int64_t need, int with_negative)
{
	int64_t		cap = next_cap(set->cap_pairs, need);

	if (need <= set->cap_pairs && (!with_negative || set->negative))
		return 0;
	if (cap > MAX_TEXTS || resize(&set->anchor, cap, sizeof(int32_t)) != 0 ||
		resize(&set->positive, cap, sizeof(int32_t)) != 0)
		return -1;
	if (with_negative || set->negative)
	{
		int			had = set->negative != NULL;

		if (resize(&set->negative, cap, sizeof(int32_t)) != 0)
			return -1;
		if (!had)				/* earlier pairs had no negative */
			for (int i = 0; i < set->data.n_pairs; i++)
				set->negative[i] = -1;
	}
	set->cap_pairs = (int) cap;
	return 0;
}

/* FNV-1a over the token ids. */
static uint64_t
hash_ids(const int32_t *ids, int n)
{
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < n; i++)
	{
		h ^= (uint32_t) ids[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Rebuild the open-addressing table at twice the size. */
static int
rehash(mrl_train_set *set)
{
	size_t		n = set->n_slots ? set->n_slots * 2 : 1024;
	int32_t    *slots = calloc(n, sizeof(int32_t));

	if (!slots)
		return -1;
	for (int t = 0; t < set->data.n_texts; t++)
	{
		size_t		i = set->text_hash[t] & (n - 1);

		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = t + 1;
	}
	free(set->slots);
	set->slots = slots;
	set->n_slots = n;
	return 0;
}

/* The text index of ids[0..n), adding the text if new; -1 if out of memory. */
static int
text_index(mrl_train_set *set, const int32_t *ids, int n)
{
	uint64_t	h = hash_ids(ids, n);
	int			t = set->data.n_texts;
	size_t		i;

	if ((size_t) t * 2 >= set->n_slots && rehash(set) != 0)
		return -1;
	for (i = h & (set->n_slots - 1); set->slots[i]; i = (i + 1) & (set->n_slots - 1))
	{
		int			u = set->slots[i] - 1;
		int64_t		off = set->text_off[u];

		if (set->text_hash[u] == h && set->text_off[u + 1] - off == n &&
			memcmp(set->ids + off, ids, sizeof(int32_t) * n) == 0)
			return u;
	}
	if (ensure_texts(set, (int64_t) t + 1, (t ? set->text_off[t] : 0) + n) != 0)
		return -1;
	if (t == 0)
		set->text_off[0] = 0;
	memcpy(set->ids + set->text_off[t], ids, sizeof(int32_t) * n);
	set->text_off[t + 1] = set->text_off[t] + n;
	set->text_hash[t] = h;
	set->slots[i] = t + 1;
	set->data.n_texts = t + 1;
	return t;
}

/* Point data at the (possibly moved) arrays. */
static void
refresh_data(mrl_train_set *set)
{
	set->data.text_off = set->text_off;
	set->data.ids = set->ids;
	set->data.anchor = set->anchor;
	set->data.positive = set->positive;
	set->data.negative = set->negative;
}

/* Append pair (a, p, neg) to the pair arrays; 0 or -1. */
static int
append_pair(mrl_train_set *set, int a, int p, int neg)
{
	int			k = set->data.n_pairs;

	if (ensure_pairs(set, (int64_t) k + 1, neg >= 0) != 0)
		return -1;
	set->anchor[k] = a;
	set->positive[k] = p;
	if (set->negative)
		set->negative[k] = neg;
	set->data.n_pairs = k + 1;
	return 0;
}

int
mrl_train_set_add(mrl_train_set *set, const mrl_encoder *enc,
				  const char *query, size_t qlen, const char *positive,
				  size_t plen, const char *negative, size_t nlen,
				  char *err, size_t errlen)
{
	const char *texts[3] = {query, positive, negative};
	size_t		lens[3] = {qlen, plen, nlen};
	int			idx[3] = {-1, -1, -1};
	int			n_texts = negative ? 3 : 2;

	/* tokenise all texts first, so a dropped pair adds nothing */
	for (int i = 0; i < n_texts; i++)
	{
		if (mrl_encoder_tokenize(enc, texts[i], lens[i], set->max_tokens,
								 &set->enc[i], err, errlen) < 0)
			return -1;
		if (set->enc[i].n == 0)
		{
			set->n_dropped++;
			return 0;
		}
	}
	for (int i = 0; i < n_texts; i++)
		if ((idx[i] = text_index(set, set->enc[i].ids, set->enc[i].n)) < 0)
			return MRL_FAIL(-2, "out of memory (or over %d texts) building training pairs",
							MAX_TEXTS);
	refresh_data(set);
	if (idx[0] == idx[1])
	{
		set->n_dropped++;
		return 0;
	}
	if (append_pair(set, idx[0], idx[1], idx[2]) != 0)
		return MRL_FAIL(-2, "out of memory (or over %d pairs) building training pairs",
						MAX_TEXTS);
	refresh_data(set);
	return 1;
}
