/*
 * tokenizer_impl.h: the tokenizer's internals, shared by its loaders
 * (tokenizer_load.c) and its encoder (tokenizer.c): the loaded tokenizer's
 * layout, code point buffers and the vocabulary hash.  Not for other files;
 * callers use tokenizer.h.
 */
#ifndef MRL_TOKENIZER_IMPL_H
#define MRL_TOKENIZER_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tokenizer.h"

#define MAX_TEMPLATE_IDS 16
#define MAX_TOKEN_BYTES 1024	/* longest vocabulary token accepted; keeps
								 * WordPiece linear in the word length */

/* One entry of tokenizer.json "added_tokens", content as code points */
typedef struct added_token
{
	int32_t    *cps;
	int			n_cps;
	int32_t		id;
	bool		normalized;		/* matched after normalization */
	bool		lstrip;
	bool		rstrip;
	bool		single_word;
} added_token;

/*
 * Trie over the code points of the added tokens of one stage.  Node 0 is
 * the root; the children of a node are contiguous and sorted by code point.
 */
typedef struct trie_node
{
	int32_t		cp;				/* code point on the edge into this node */
	int32_t		token;			/* index into added[] ending here, or -1 */
	int32_t		first_child;
	int32_t		n_children;
} trie_node;

typedef struct added_trie
{
	trie_node  *nodes;
	int			n_nodes;
} added_trie;

/* Special ids the post-processor puts before and after the sequence */
typedef struct template_ids
{
	int			n;
	int32_t		ids[MAX_TEMPLATE_IDS];
	int32_t		types[MAX_TEMPLATE_IDS];
} template_ids;

struct mrl_tokenizer
{
	/* BertNormalizer (identity when !has_normalizer) */
	bool		has_normalizer;
	bool		clean_text;
	bool		handle_chinese_chars;
	bool		strip_accents;
	bool		lowercase;
	bool		bert_pretokenizer;	/* false: the whole text is one word */

	/* vocabulary: id -> token, and an open-addressing hash token -> id */
	int			n_ids;
	char	  **id_to_token;	/* NULL for unused ids */
	uint32_t   *token_len;
	int32_t    *slots;			/* model vocabulary only; -1 = empty */
	uint32_t	slot_mask;
	int			n_model_tokens;
	size_t		max_token_bytes;

	/* WordPiece */
	char	   *prefix;			/* continuing_subword_prefix, e.g. "##" */
	size_t		prefix_len;
	uint32_t	prefix_hash;	/* FNV state after the prefix */
	int			max_input_chars;
	int32_t		unk_id;

	/* added tokens, matched leftmost-longest through a code point trie */
	added_token *added;
	int			n_added;
	added_trie	trie[2];		/* [0] raw text, [1] normalized text */

	/* post-processing and truncation */
	template_ids before;
	template_ids after;
	int32_t		seq_type;
	int			trunc_max;		/* 0 = none */
	bool		trunc_left;

	/* where a long text may be cut into chunks (mrl_tok_prepare_cuts) */
	bool		chunkable;		/* false: a text is tokenized whole */
	bool		any_single_word;	/* an added token is single_word */
	bool		cut_ascii[128];	/* ASCII characters a cut may precede */
	int32_t    *added_cps;		/* the added tokens' code points, sorted */
	int			n_added_cps;
};

/* A growable array of code points */
typedef struct cp_buf
{
	int32_t    *v;
	size_t		n;
	size_t		cap;
} cp_buf;

/* Append one code point (room must have been reserved). */
static inline void
cp_push(cp_buf *b, int32_t c)
{
	b->v[b->n++] = c;
}

#define FNV_OFFSET 2166136261u

/* FNV-1a continued over len more bytes (so hashes extend incrementally). */
static inline uint32_t
fnv_more(uint32_t h, const char *s, size_t len)
{
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 16777619u;
	return h;
}

/* Does vocabulary entry id spell a ++ b? */
static inline bool
token_equals2(const mrl_tokenizer *tok, int32_t id,
			  const char *a, size_t alen, const char *b, size_t blen)
{
	const char *s = tok->id_to_token[id];

	return tok->token_len[id] == alen + blen &&
		(alen == 0 || memcmp(s, a, alen) == 0) &&
		(blen == 0 || memcmp(s + alen, b, blen) == 0);
}

/*
 * Capacity for n + extra elements of an array with capacity cap: cap if it
 * suffices, else at least double (amortised growth); SIZE_MAX beyond limit.
 */
extern size_t mrl_tok_grown_capacity(size_t n, size_t extra, size_t cap,
									 size_t limit);

/* Make room for extra more code points; false when out of memory. */
extern bool mrl_tok_cp_reserve(cp_buf *b, size_t extra);

/*
 * Decode UTF-8 into code points (appended to out); false if invalid, with
 * the offset of the bad byte (SIZE_MAX when out of memory).
 */
extern bool mrl_tok_utf8_decode(const char *s, size_t len, cp_buf *out,
								size_t *bad_offset);

/*
 * Once the added tokens are known: work out where a text may be cut into
 * chunks without changing its tokens (tokenizer.c); false when out of
 * memory.
 */
extern bool mrl_tok_prepare_cuts(mrl_tokenizer *tok);

/* Id of the model-vocabulary token a ++ b whose hash is h, or -1. */
extern int32_t mrl_tok_vocab_probe(const mrl_tokenizer *tok, uint32_t h,
								   const char *a, size_t alen,
								   const char *b, size_t blen);

/* Id of the model-vocabulary token a ++ b, or -1. */
extern int32_t mrl_tok_vocab_find2(const mrl_tokenizer *tok,
								   const char *a, size_t alen,
								   const char *b, size_t blen);

#endif							/* MRL_TOKENIZER_IMPL_H */
