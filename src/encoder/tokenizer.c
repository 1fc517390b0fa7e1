/*
 * tokenizer.c: encoding text with a loaded BERT WordPiece tokenizer (built
 * by tokenizer_load.c), bit-for-bit the behaviour of Hugging Face
 * `tokenizers` (Rust) for BERT-style tokenizer.json files.
 *
 * Pipeline of mrl_tokenizer_encode():
 *   UTF-8 -> code points -> split off added tokens matched in the raw text
 *   -> BertNormalizer (clean_text, CJK spacing, NFD + drop Mn, lowercase)
 *   -> split off added tokens matched in the normalized text
 *   -> BertPreTokenizer (whitespace, isolated punctuation)
 *   -> WordPiece (greedy longest match, whole-word [UNK])
 *   -> truncation -> [CLS] ... [SEP] from the post-processor.
 *
 * The character classes follow the Rust crates `tokenizers` uses, whose
 * Unicode tables are older than utf8proc's; tokenizer_unicode_table.h lists
 * the code points where they disagree (see tools/unicode_compat.js).
 */
#include "tokenizer.h"
#include "tokenizer_impl.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "errors.h"
#include "tokenizer_unicode.h"

/* ---------------------------------------------------------------------
 * Character classes (Rust `tokenizers` semantics)
 * --------------------------------------------------------------------- */

/* Rust char::is_whitespace (the Unicode White_Space property). */
static bool
is_white_space(int32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= 0x09 && c <= 0x0D);
	return c == 0x85 || c == 0xA0 || c == 0x1680 ||
		(c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
		c == 0x202F || c == 0x205F || c == 0x3000;
}

/* tokenizers' is_control: \t \n \r are not; Cc, Cf, Co, Cs are. */
static inline bool
is_bert_control(int32_t c)
{
	return (mrl_unicode_class(c, true) & MRL_UC_CONTROL) != 0;
}

/* tokenizers' is_bert_punc: ASCII punctuation or Unicode P*. */
static inline bool
is_bert_punct(int32_t c)
{
	return (mrl_unicode_class(c, true) & MRL_UC_PUNCT) != 0;
}

/* Nonspacing marks (Mn), removed by strip_accents. */
static inline bool
is_nonspacing_mark(int32_t c)
{
	return (mrl_unicode_class(c, true) & MRL_UC_MN) != 0;
}

/* Characters tokenizers' older tables neither decompose nor reorder. */
static inline bool
is_legacy(int32_t c)
{
	return c >= 0x300 && (mrl_unicode_class(c, true) & MRL_UC_LEGACY) != 0;
}

/* CJK ideograph ranges of tokenizers' BertNormalizer (Rust values). */
static bool
is_chinese_char(int32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
		(c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
		(c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
		(c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* ---------------------------------------------------------------------
 * Code point buffers, UTF-8 and the vocabulary hash (tokenizer_impl.h)
 * --------------------------------------------------------------------- */

size_t
mrl_tok_grown_capacity(size_t n, size_t extra, size_t cap, size_t limit)
{
	size_t		want;

	if (n > limit || extra > limit - n)
		return SIZE_MAX;
	want = n + extra;
	if (want <= cap)
		return cap;
	if (want < 2 * cap && 2 * cap <= limit)
		want = 2 * cap;
	return want < 64 ? 64 : want;
}

bool
mrl_tok_cp_reserve(cp_buf *b, size_t extra)
{
	size_t		want = mrl_tok_grown_capacity(b->n, extra, b->cap, SIZE_MAX / 8);
	int32_t    *nv;

	if (want == SIZE_MAX)
		return false;
	if (want == b->cap)
		return true;
	nv = realloc(b->v, want * sizeof(int32_t));
	if (nv == NULL)
		return false;
	b->v = nv;
	b->cap = want;
	return true;
}

bool
mrl_tok_utf8_decode(const char *s, size_t len, cp_buf *out, size_t *bad_offset)
{
	size_t		pos = 0;

	if (!mrl_tok_cp_reserve(out, len))
	{
		*bad_offset = SIZE_MAX;
		return false;
	}
	while (pos < len)
	{
		utf8proc_int32_t c;
		utf8proc_ssize_t step;
		size_t		rest = len - pos;

		if ((unsigned char) s[pos] < 0x80)
		{
			cp_push(out, (unsigned char) s[pos++]);
			continue;
		}
		step = utf8proc_iterate((const utf8proc_uint8_t *) s + pos,
								rest > 4 ? 4 : (utf8proc_ssize_t) rest, &c);
		if (step <= 0)
		{
			*bad_offset = pos;
			return false;
		}
		cp_push(out, c);
		pos += step;
	}
	return true;
}

int32_t
mrl_tok_vocab_probe(const mrl_tokenizer *tok, uint32_t h, const char *a, size_t alen,
			const char *b, size_t blen)
{
	uint32_t	i = h & tok->slot_mask;

	while (tok->slots[i] >= 0)
	{
		if (token_equals2(tok, tok->slots[i], a, alen, b, blen))
			return tok->slots[i];
		i = (i + 1) & tok->slot_mask;
	}
	return -1;
}

int32_t
mrl_tok_vocab_find2(const mrl_tokenizer *tok, const char *a, size_t alen,
			const char *b, size_t blen)
{
	if (alen + blen > tok->max_token_bytes)
		return -1;
	return mrl_tok_vocab_probe(tok, fnv_more(fnv_more(FNV_OFFSET, a, alen), b, blen),
					   a, alen, b, blen);
}

/* Id of a model-vocabulary token, or -1 */
int32_t
mrl_tokenizer_token_to_id(const mrl_tokenizer *tok, const char *token, size_t len)
{
	return mrl_tok_vocab_find2(tok, token, len, NULL, 0);
}

/* Token string of id, or NULL if id is unused */
const char *
mrl_tokenizer_id_to_token(const mrl_tokenizer *tok, int32_t id)
{
	if (id < 0 || id >= tok->n_ids)
		return NULL;
	return tok->id_to_token[id];
}

/* Size of the id space (largest id + 1) */
int
mrl_tokenizer_vocab_size(const mrl_tokenizer *tok)
{
	return tok->n_ids;
}

/* Id of the unknown token */
int32_t
mrl_tokenizer_unk_id(const mrl_tokenizer *tok)
{
	return tok->unk_id;
}

void
mrl_tokenizer_specials(const mrl_tokenizer *tok, int *before, int *after)
{
	*before = tok->before.n;
	*after = tok->after.n;
}

int
mrl_tokenizer_max_length(const mrl_tokenizer *tok)
{
	return tok->trunc_max;
}


/* ---------------------------------------------------------------------
 * Chunks: where a long text may be cut without changing its tokens
 * --------------------------------------------------------------------- */

/*
 * A text is tokenized a chunk at a time, so that memory follows the chunk
 * (and the window, once it is full), never the whole text.  A cut just
 * before character c changes no token when c ends a word in every stage:
 *   - c is white space or punctuation that the normalizer keeps as it is
 *     (white space may become a space), or a CJK ideograph that it
 *     surrounds with spaces: the pre-tokenizer ends a word there;
 *   - no added token contains c or any white space, so no added-token
 *     match spans the cut; c is not a word character (which single_word
 *     tokens look at), or no added token is single_word;
 *   - c has combining class 0, so the canonical ordering of combining
 *     marks, the only step of the normalizer that looks at more than one
 *     character, does not move anything across it.
 * Without the BERT pre-tokenizer a whole text is one word: then it is never
 * cut.  A run of MAX_RUN_BYTES without such a character (no white space or
 * punctuation in 1 MiB) is cut at a character boundary all the same: there
 * the tokens of the word that spans the cut may differ from Hugging Face's.
 */
#define CHUNK_BYTES		65536	/* a chunk ends at the last cut before this */
#define MAX_RUN_BYTES	((size_t) 1 << 20)

/* Order of code points, for bsearch. */
static int
cmp_cp(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a,
				y = *(const int32_t *) b;

	return (x > y) - (x < y);
}

/* Does an added token contain code point c? */
static bool
in_added(const mrl_tokenizer *tok, int32_t c)
{
	return tok->n_added_cps > 0 &&
		bsearch(&c, tok->added_cps, tok->n_added_cps, sizeof(int32_t), cmp_cp) != NULL;
}

/* Is c white space or punctuation that the normalizer leaves as it is? */
static bool
kept_separator(const mrl_tokenizer *tok, int32_t c)
{
	utf8proc_int32_t d[4];
	int			bc = 0;

	if (!(is_white_space(c) || is_bert_punct(c)) || is_bert_control(c) ||
		is_legacy(c) || utf8proc_get_property(c)->combining_class != 0)
		return false;
	if (!tok->has_normalizer)
		return true;
	if (tok->lowercase && utf8proc_tolower(c) != c)
		return false;
	return !tok->strip_accents ||
		(utf8proc_decompose_char(c, d, 4, UTF8PROC_DECOMPOSE, &bc) == 1 && d[0] == c);
}

bool
mrl_tok_prepare_cuts(mrl_tokenizer *tok)
{
	size_t		total = 0;
	int			n = 0;

	tok->chunkable = tok->bert_pretokenizer;
	for (int k = 0; k < tok->n_added; k++)
	{
		total += tok->added[k].n_cps;
		tok->any_single_word |= tok->added[k].single_word;
	}
	if ((tok->added_cps = malloc((total + 1) * sizeof(int32_t))) == NULL)
		return false;
	for (int k = 0; k < tok->n_added; k++)
		for (int j = 0; j < tok->added[k].n_cps; j++)
		{
			tok->added_cps[n++] = tok->added[k].cps[j];
			if (is_white_space(tok->added[k].cps[j]))
				tok->chunkable = false;
		}
	qsort(tok->added_cps, n, sizeof(int32_t), cmp_cp);
	tok->n_added_cps = 0;
	for (int i = 0; i < n; i++)
		if (i == 0 || tok->added_cps[i] != tok->added_cps[i - 1])
			tok->added_cps[tok->n_added_cps++] = tok->added_cps[i];
	for (int c = 0; c < 128; c++)
		tok->cut_ascii[c] = tok->chunkable && !in_added(tok, c) &&
			(c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
			 (is_bert_punct(c) && c != '_'));
	return true;
}

/* May a text be cut just before its byte i (see above)? */
static bool
cut_before(const mrl_tokenizer *tok, const char *text, size_t len, size_t i)
{
	unsigned char b = (unsigned char) text[i];
	utf8proc_int32_t c;
	size_t		rest = len - i;

	if (b < 0x80)
		return tok->cut_ascii[b];
	if ((b & 0xC0) == 0x80 ||
		utf8proc_iterate((const utf8proc_uint8_t *) text + i,
						 rest > 4 ? 4 : (utf8proc_ssize_t) rest, &c) <= 0 ||
		in_added(tok, c))
		return false;
	if (tok->has_normalizer && tok->handle_chinese_chars && is_chinese_char(c))
		return !tok->any_single_word;
	return kept_separator(tok, c);
}

/*
 * End of the next chunk of text[pos..len): the last cut point within
 * CHUNK_BYTES, else the first one after, else a character boundary
 * MAX_RUN_BYTES on; the whole rest when it is short or cannot be cut.
 */
static size_t
chunk_end(const mrl_tokenizer *tok, const char *text, size_t len, size_t pos)
{
	size_t		run_end,
				i;

	if (!tok->chunkable || len - pos <= CHUNK_BYTES)
		return len;
	for (i = pos + CHUNK_BYTES; i > pos; i--)
		if (cut_before(tok, text, len, i))
			return i;
	run_end = len - pos > MAX_RUN_BYTES ? pos + MAX_RUN_BYTES : len;
	for (i = pos + CHUNK_BYTES + 1; i < run_end; i++)
		if (cut_before(tok, text, len, i))
			return i;
	for (i = run_end; i > pos + 1 && i < len && ((unsigned char) text[i] & 0xC0) == 0x80; i--)
		;
	return i;
}

/* ---------------------------------------------------------------------
 * Encoding
 * --------------------------------------------------------------------- */

/* Working state of one mrl_tokenizer_encode() call */
typedef struct enc_ctx
{
	const mrl_tokenizer *tok;
	mrl_encoding *out;
	int			limit;			/* stop after this many pieces */
	cp_buf		cps;			/* the code points of the current chunk */
	cp_buf		norm[2];		/* normalizer passes ping-pong here */
	char	   *word;			/* UTF-8 of the current word */
	size_t		word_cap;
	size_t	   *offs;			/* byte offset of each char of the word */
	size_t		offs_cap;
	char	   *err;
	size_t		errlen;
} enc_ctx;

/* Result of the emit functions */
#define EMIT_MORE 0				/* keep going */
#define EMIT_FULL 1				/* truncation limit reached */
#define EMIT_ERROR (-1)

/* Make room for n more ids in the output. */
static bool
out_reserve(mrl_encoding *out, int n)
{
	size_t		want = mrl_tok_grown_capacity(out->n, n, out->cap, INT_MAX / 4);
	int32_t    *ni,
			   *nt;

	if (want == SIZE_MAX)
		return false;
	if (want == (size_t) out->cap)
		return true;
	ni = realloc(out->ids, (size_t) want * sizeof(int32_t));
	if (ni == NULL)
		return false;
	out->ids = ni;
	nt = realloc(out->type_ids, (size_t) want * sizeof(int32_t));
	if (nt == NULL)
		return false;
	out->type_ids = nt;
	out->cap = (int) want;
	return true;
}

/* Append one id; EMIT_ERROR when out of memory. */
static int
emit_id(enc_ctx *ctx, int32_t id)
{
	if (!out_reserve(ctx->out, 1))
	{
		mrl_errf(ctx->err, ctx->errlen, "out of memory");
		return EMIT_ERROR;
	}
	ctx->out->ids[ctx->out->n++] = id;
	return EMIT_MORE;
}

/* Spell word w[0..n) in UTF-8 into ctx->word, with char offsets. */
static bool
word_to_utf8(enc_ctx *ctx, const int32_t *w, size_t n)
{
	size_t		i,
				pos = 0;

	if (n > SIZE_MAX / 8 - 1)
		return false;
	if (4 * n > ctx->word_cap)
	{
		char	   *nw = realloc(ctx->word, 4 * n);

		if (nw == NULL)
			return false;
		ctx->word = nw;
		ctx->word_cap = 4 * n;
	}
	if (n + 1 > ctx->offs_cap)
	{
		size_t	   *no = realloc(ctx->offs, (n + 1) * sizeof(size_t));

		if (no == NULL)
			return false;
		ctx->offs = no;
		ctx->offs_cap = n + 1;
	}
	for (i = 0; i < n; i++)
	{
		ctx->offs[i] = pos;
		pos += utf8proc_encode_char(w[i], (utf8proc_uint8_t *) ctx->word + pos);
	}
	ctx->offs[n] = pos;
	return true;
}

/*
 * WordPiece on one pre-tokenized word: greedy longest-match-first, "##"
 * before non-initial pieces; one [UNK] for the whole word if any position
 * has no match or the word is longer than max_input_chars.
 */
static int
emit_word(enc_ctx *ctx, const int32_t *w, size_t n)
{
	const mrl_tokenizer *tok = ctx->tok;
	int			first = ctx->out->n;
	size_t		start = 0;
	uint32_t	hashes[MAX_TOKEN_BYTES + 1];	/* of the candidate pieces */

	if (n > (size_t) tok->max_input_chars)
		return emit_id(ctx, tok->unk_id);
	if (!word_to_utf8(ctx, w, n))
	{
		mrl_errf(ctx->err, ctx->errlen, "out of memory");
		return EMIT_ERROR;
	}
	while (start < n)
	{
		size_t		plen = start > 0 ? tok->prefix_len : 0;
		const char *piece = ctx->word + ctx->offs[start];
		uint32_t	h = start > 0 ? tok->prefix_hash : FNV_OFFSET;
		size_t		end = start;
		int32_t		id = -1;

		/*
		 * Hash every candidate piece in one forward pass, stopping at the
		 * longest vocabulary token; then try them longest first.
		 */
		while (end < n && ctx->offs[end + 1] - ctx->offs[start] + plen <= tok->max_token_bytes)
		{
			h = fnv_more(h, ctx->word + ctx->offs[end], ctx->offs[end + 1] - ctx->offs[end]);
			hashes[++end - start] = h;
		}
		for (; end > start; end--)
		{
			id = mrl_tok_vocab_probe(tok, hashes[end - start], tok->prefix, plen,
							 piece, ctx->offs[end] - ctx->offs[start]);
			if (id >= 0)
				break;
		}
		if (id < 0)
		{
			ctx->out->n = first;
			return emit_id(ctx, tok->unk_id);
		}
		if (emit_id(ctx, id) != EMIT_MORE)
			return EMIT_ERROR;
		start = end;
	}
	return EMIT_MORE;
}

/* After a word: report EMIT_FULL once the truncation limit is reached. */
static int
check_full(enc_ctx *ctx, int rc)
{
	if (rc == EMIT_MORE && ctx->out->n - ctx->tok->before.n >= ctx->limit)
	{
		ctx->out->n = ctx->tok->before.n + ctx->limit;
		return EMIT_FULL;
	}
	return rc;
}

/* BertPreTokenizer: split on whitespace, isolate punctuation, WordPiece each. */
static int
emit_pretokenized(enc_ctx *ctx, const int32_t *s, size_t n)
{
	size_t		i,
				word = 0;
	int			rc = EMIT_MORE;

	if (!ctx->tok->bert_pretokenizer)
		return n > 0 ? check_full(ctx, emit_word(ctx, s, n)) : EMIT_MORE;
	for (i = 0; i < n && rc == EMIT_MORE; i++)
	{
		bool		ws = is_white_space(s[i]);

		if (!ws && !is_bert_punct(s[i]))
			continue;
		if (i > word)
			rc = check_full(ctx, emit_word(ctx, s + word, i - word));
		if (rc == EMIT_MORE && !ws)
			rc = check_full(ctx, emit_word(ctx, s + i, 1));
		word = i + 1;
	}
	if (rc == EMIT_MORE && n > word)
		rc = check_full(ctx, emit_word(ctx, s + word, n - word));
	return rc;
}

/* Is c a word character for single_word added tokens? */
static bool
is_word_char(int32_t c)
{
	utf8proc_category_t cat = utf8proc_category(c);

	return c == '_' || (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) ||
		(cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

/* Child of trie node `node` on code point c, or -1 (binary search). */
static int
trie_child(const added_trie *t, int node, int32_t c)
{
	int			lo = t->nodes[node].first_child,
				hi = lo + t->nodes[node].n_children;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (t->nodes[mid].cp == c)
			return mid;
		if (t->nodes[mid].cp < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Longest added token of the given stage that matches s[i..n), or NULL. */
static const added_token *
match_added(const mrl_tokenizer *tok, const int32_t *s, size_t i, size_t n,
			bool normalized)
{
	const added_trie *t = &tok->trie[normalized];
	const added_token *best = NULL;
	int			node = 0;
	size_t		j;

	for (j = i; j < n && (node = trie_child(t, node, s[j])) >= 0; j++)
	{
		const added_token *a;

		if (t->nodes[node].token < 0)
			continue;
		a = &tok->added[t->nodes[node].token];
		if (a->single_word &&
			((i > 0 && is_word_char(s[i - 1])) || (j + 1 < n && is_word_char(s[j + 1]))))
			continue;
		best = a;
	}
	return best;
}

static int	emit_normalized(enc_ctx *ctx, const int32_t *s, size_t n);

/*
 * Split s[0..n) on the added tokens of one stage (raw text or normalized
 * text); the gaps go on to normalization or pre-tokenization.
 */
static int
emit_split_added(enc_ctx *ctx, const int32_t *s, size_t n, bool normalized)
{
	size_t		gap = 0,
				i = 0;
	int			rc = EMIT_MORE;

	while (i < n && rc == EMIT_MORE)
	{
		const added_token *a = match_added(ctx->tok, s, i, n, normalized);
		size_t		gap_end = i,
					next = i + (a ? a->n_cps : 1);

		if (a == NULL)
		{
			i++;
			continue;
		}
		while (a->lstrip && gap_end > gap && is_white_space(s[gap_end - 1]))
			gap_end--;
		while (a->rstrip && next < n && is_white_space(s[next]))
			next++;
		if (gap_end > gap)
			rc = normalized ? emit_pretokenized(ctx, s + gap, gap_end - gap)
				: emit_normalized(ctx, s + gap, gap_end - gap);
		if (rc == EMIT_MORE)
			rc = check_full(ctx, emit_id(ctx, a->id));
		gap = i = next;
	}
	if (rc == EMIT_MORE && n > gap)
		rc = normalized ? emit_pretokenized(ctx, s + gap, n - gap)
			: emit_normalized(ctx, s + gap, n - gap);
	return rc;
}

/* clean_text and handle_chinese_chars: src -> dst. */
static bool
normalize_clean(const mrl_tokenizer *tok, const int32_t *s, size_t n, cp_buf *dst)
{
	size_t		i;

	dst->n = 0;
	if (n > SIZE_MAX / 16 || !mrl_tok_cp_reserve(dst, 3 * n))
		return false;
	for (i = 0; i < n; i++)
	{
		int32_t		c = s[i];

		if (tok->clean_text)
		{
			if (c == 0 || c == 0xFFFD || is_bert_control(c))
				continue;
			if (is_white_space(c))
				c = ' ';
		}
		if (tok->handle_chinese_chars && is_chinese_char(c))
		{
			cp_push(dst, ' ');
			cp_push(dst, c);
			cp_push(dst, ' ');
		}
		else
			cp_push(dst, c);
	}
	return true;
}

/* Canonical ordering of combining marks in b[from..b->n) (stable). */
static void
canonical_reorder(cp_buf *b, size_t from)
{
	size_t		i;

	for (i = from + 1; i < b->n; i++)
	{
		int32_t		c = b->v[i];
		int			cc = is_legacy(c) ? 0 : utf8proc_get_property(c)->combining_class;
		size_t		j = i;

		if (cc == 0)
			continue;
		while (j > from && !is_legacy(b->v[j - 1]) &&
			   utf8proc_get_property(b->v[j - 1])->combining_class > cc)
		{
			b->v[j] = b->v[j - 1];
			j--;
		}
		b->v[j] = c;
	}
}

/* strip_accents: NFD then drop nonspacing marks: src -> dst. */
static bool
normalize_strip_accents(const int32_t *s, size_t n, cp_buf *dst)
{
	size_t		i;

	dst->n = 0;
	for (i = 0; i < n; i++)
	{
		utf8proc_int32_t d[32];
		utf8proc_ssize_t k;
		int			bc = 0;

		k = is_legacy(s[i]) ? 0 :
			utf8proc_decompose_char(s[i], d, 32, UTF8PROC_DECOMPOSE, &bc);
		if (k <= 0 || k > 32)
		{
			d[0] = s[i];
			k = 1;
		}
		if (!mrl_tok_cp_reserve(dst, k))
			return false;
		memcpy(dst->v + dst->n, d, k * sizeof(int32_t));
		dst->n += k;
	}
	canonical_reorder(dst, 0);
	/* drop marks after ordering, as tokenizers filters the NFD string */
	{
		size_t		j = 0;

		for (i = 0; i < dst->n; i++)
			if (!is_nonspacing_mark(dst->v[i]))
				dst->v[j++] = dst->v[i];
		dst->n = j;
	}
	return true;
}

/* Full lowercase mapping of Rust char::to_lowercase: src -> dst. */
static bool
normalize_lowercase(const int32_t *s, size_t n, cp_buf *dst)
{
	size_t		i;

	dst->n = 0;
	if (n > SIZE_MAX / 16 || !mrl_tok_cp_reserve(dst, 2 * n))
		return false;
	for (i = 0; i < n; i++)
	{
		if (s[i] == 0x130)
		{
			/* the only multi-char lowercase: I WITH DOT ABOVE -> i + U+0307 */
			cp_push(dst, 'i');
			cp_push(dst, 0x307);
		}
		else
			cp_push(dst, utf8proc_tolower(s[i]));
	}
	return true;
}

/* BertNormalizer on a raw-text gap, then the normalized-stage split. */
static int
emit_normalized(enc_ctx *ctx, const int32_t *s, size_t n)
{
	const mrl_tokenizer *tok = ctx->tok;
	cp_buf	   *a = &ctx->norm[0],
			   *b = &ctx->norm[1],
			   *t;
	bool		ok = true;

	if (!tok->has_normalizer)
		return emit_split_added(ctx, s, n, true);
	ok = normalize_clean(tok, s, n, a);
	if (ok && tok->strip_accents)
	{
		ok = normalize_strip_accents(a->v, a->n, b);
		t = a, a = b, b = t;
	}
	if (ok && tok->lowercase)
	{
		ok = normalize_lowercase(a->v, a->n, b);
		t = a, a = b, b = t;
	}
	if (!ok)
	{
		mrl_errf(ctx->err, ctx->errlen, "out of memory");
		return EMIT_ERROR;
	}
	return emit_split_added(ctx, a->v, a->n, true);
}

/* Put the post-processor's special ids around the pieces; set type ids. */
static bool
add_specials(const mrl_tokenizer *tok, mrl_encoding *out)
{
	int			i;

	if (!out_reserve(out, tok->after.n))
		return false;
	for (i = 0; i < tok->before.n; i++)
	{
		out->ids[i] = tok->before.ids[i];
		out->type_ids[i] = tok->before.types[i];
	}
	for (i = tok->before.n; i < out->n; i++)
		out->type_ids[i] = tok->seq_type;
	for (i = 0; i < tok->after.n; i++)
	{
		out->ids[out->n] = tok->after.ids[i];
		out->type_ids[out->n++] = tok->after.types[i];
	}
	return true;
}

/* Free the scratch buffers of an encode call. */
static void
enc_ctx_free(enc_ctx *ctx)
{
	free(ctx->cps.v);
	free(ctx->norm[0].v);
	free(ctx->norm[1].v);
	free(ctx->word);
	free(ctx->offs);
}

/* Decode text[from..to) and emit its pieces: EMIT_*. */
static int
emit_chunk(enc_ctx *ctx, const char *text, size_t from, size_t to)
{
	size_t		bad = 0;

	ctx->cps.n = 0;
	if (!mrl_tok_utf8_decode(text + from, to - from, &ctx->cps, &bad))
	{
		if (bad == SIZE_MAX)
			mrl_errf(ctx->err, ctx->errlen, "out of memory");
		else
			mrl_errf(ctx->err, ctx->errlen, "invalid UTF-8 at byte %zu", from + bad);
		return EMIT_ERROR;
	}
	return emit_split_added(ctx, ctx->cps.v, ctx->cps.n, false);
}

/* Left truncation: keep only the last keep pieces after the first skip ids. */
static void
keep_last(mrl_encoding *out, int skip, int keep)
{
	if (out->n - skip > keep)
	{
		memmove(out->ids + skip, out->ids + out->n - keep, keep * sizeof(int32_t));
		out->n = skip + keep;
	}
}

/* Tokenize one text (see tokenizer.h) */
int
mrl_tokenizer_encode(const mrl_tokenizer *tok, const char *text, size_t len,
					 int max_len, mrl_encoding *out, char *err, size_t errlen)
{
	enc_ctx		ctx = {0};
	int			n_special = tok->before.n + tok->after.n;
	int			rc;
	bool		left = false;

	/* an explicit max_len truncates on the right, as sentence-transformers does */
	if (max_len == 0)
	{
		max_len = tok->trunc_max;
		left = tok->trunc_left;
	}
	if (max_len < 0 || (max_len > 0 && max_len < n_special))
	{
		mrl_errf(err, errlen, "maximum length %d is less than the %d special tokens",
				 max_len, n_special);
		return -1;
	}
	ctx.tok = tok;
	ctx.out = out;
	ctx.limit = (max_len > 0 && !left) ? max_len - n_special : INT_MAX;
	ctx.err = err;
	ctx.errlen = errlen;
	out->n = 0;
	rc = out_reserve(out, tok->before.n) ? EMIT_MORE : EMIT_ERROR;
	if (rc == EMIT_ERROR)
		mrl_errf(err, errlen, "out of memory");
	else
	{
		out->n = tok->before.n;
		/* chunk by chunk until the text ends or the pieces fill max_len */
		for (size_t pos = 0, end; rc == EMIT_MORE && ctx.limit > 0 && pos < len; pos = end)
		{
			end = chunk_end(tok, text, len, pos);
			rc = emit_chunk(&ctx, text, pos, end);
			if (max_len > 0 && left)
				keep_last(out, tok->before.n, max_len - n_special);
		}
	}
	enc_ctx_free(&ctx);
	if (rc == EMIT_ERROR)
	{
		out->n = 0;
		return -1;
	}
	if (!add_specials(tok, out))
	{
		mrl_errf(err, errlen, "out of memory");
		out->n = 0;
		return -1;
	}
	return out->n;
}

/* The pieces of the next chunk of a text (see tokenizer.h) */
int
mrl_tokenizer_encode_chunk(const mrl_tokenizer *tok, const char *text, size_t len,
						   size_t *pos, mrl_encoding *out, char *err, size_t errlen)
{
	enc_ctx		ctx = {0};
	size_t		end;
	int			rc;

	out->n = 0;
	if (*pos >= len)
		return 0;
	ctx.tok = tok;
	ctx.out = out;
	ctx.limit = INT_MAX;
	ctx.err = err;
	ctx.errlen = errlen;
	end = chunk_end(tok, text, len, *pos);
	rc = emit_chunk(&ctx, text, *pos, end);
	enc_ctx_free(&ctx);
	if (rc == EMIT_ERROR)
	{
		out->n = 0;
		return -1;
	}
	for (int i = 0; i < out->n; i++)
		out->type_ids[i] = tok->seq_type;
	*pos = end;
	return out->n;
}

/* Release an encoding's arrays */
void
mrl_encoding_free(mrl_encoding *enc)
{
	free(enc->ids);
	free(enc->type_ids);
	memset(enc, 0, sizeof(*enc));
}
