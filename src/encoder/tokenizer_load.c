/*
 * tokenizer_load.c: building a tokenizer (tokenizer.h): from a Hugging Face
 * tokenizer.json (WordPiece model, BertNormalizer, BertPreTokenizer,
 * Template/Bert post-processing, truncation, added tokens, read with the
 * semantics of tokenizers 0.13), from a plain vocabulary array (the form
 * stored in GGUF files) or from a vocab.txt; and freeing it.  Encoding is
 * in tokenizer.c.
 */
#include "tokenizer.h"
#include "tokenizer_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>

#include "errors.h"
#include "mapfile.h"

#define MAX_JSON_BYTES ((size_t) 1 << 30)

/* ---------------------------------------------------------------------
 * The vocabulary table
 * --------------------------------------------------------------------- */

/* Allocate the id table for ids [0, n_ids) and a hash for n_model tokens. */
static bool
vocab_alloc(mrl_tokenizer *tok, int n_ids, int n_model, char *err, size_t errlen)
{
	uint32_t	cap = 16;

	while (cap < (uint32_t) n_model * 2u)
		cap <<= 1;
	tok->n_ids = n_ids;
	tok->id_to_token = calloc(n_ids, sizeof(char *));
	tok->token_len = calloc(n_ids, sizeof(uint32_t));
	tok->slots = malloc(cap * sizeof(int32_t));
	if (!tok->id_to_token || !tok->token_len || !tok->slots)
	{
		mrl_errf(err, errlen, "out of memory for a vocabulary of %d tokens", n_ids);
		return false;
	}
	memset(tok->slots, 0xff, cap * sizeof(int32_t));
	tok->slot_mask = cap - 1;
	return true;
}

/* Record token s (len bytes) under id; in_model also makes it a WordPiece. */
static bool
vocab_add(mrl_tokenizer *tok, const char *s, size_t len, int32_t id,
		  bool in_model, char *err, size_t errlen)
{
	uint32_t	i;

	if (id < 0 || id >= tok->n_ids)
	{
		mrl_errf(err, errlen, "token id %d out of range [0, %d)", (int) id, tok->n_ids);
		return false;
	}
	if (in_model && len > MAX_TOKEN_BYTES)
	{
		mrl_errf(err, errlen, "token %d is %zu bytes long (at most %d supported)",
				(int) id, len, MAX_TOKEN_BYTES);
		return false;
	}
	if (len > UINT32_MAX / 2)
	{
		mrl_errf(err, errlen, "token of %zu bytes is too long", len);
		return false;
	}
	if (tok->id_to_token[id] != NULL)
	{
		/* an added token repeating a model token is normal; a clash is not */
		if (tok->token_len[id] == len && memcmp(tok->id_to_token[id], s, len) == 0)
		{
			if (!in_model)
				return true;
		}
		else
		{
			mrl_errf(err, errlen, "token id %d is given to two different tokens", (int) id);
			return false;
		}
	}
	else
	{
		char	   *copy = malloc(len + 1);

		if (copy == NULL)
		{
			mrl_errf(err, errlen, "out of memory");
			return false;
		}
		memcpy(copy, s, len);
		copy[len] = '\0';
		tok->id_to_token[id] = copy;
		tok->token_len[id] = (uint32_t) len;
	}
	if (!in_model)
		return true;

	/* a repeated token string keeps the later (larger) id, as HF does */
	i = fnv_more(FNV_OFFSET, s, len) & tok->slot_mask;
	while (tok->slots[i] >= 0 && !token_equals2(tok, tok->slots[i], s, len, NULL, 0))
		i = (i + 1) & tok->slot_mask;
	if (tok->slots[i] < 0)
		tok->n_model_tokens++;
	tok->slots[i] = id;
	if (len > tok->max_token_bytes)
		tok->max_token_bytes = len;
	return true;
}

/* ---------------------------------------------------------------------
 * Construction helpers shared by both loaders
 * --------------------------------------------------------------------- */

/* A tokenizer with tokenizers' default BertNormalizer/WordPiece settings. */
static mrl_tokenizer *
tokenizer_new(char *err, size_t errlen)
{
	mrl_tokenizer *tok = calloc(1, sizeof(mrl_tokenizer));

	if (tok == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return NULL;
	}
	tok->has_normalizer = true;
	tok->clean_text = true;
	tok->handle_chinese_chars = true;
	tok->strip_accents = true;
	tok->lowercase = true;
	tok->bert_pretokenizer = true;
	tok->max_input_chars = 100;
	tok->unk_id = -1;
	return tok;
}

/* Set the continuing-subword prefix. */
static bool
set_prefix(mrl_tokenizer *tok, const char *p, size_t len, char *err, size_t errlen)
{
	free(tok->prefix);
	tok->prefix = malloc(len + 1);
	if (tok->prefix == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return false;
	}
	memcpy(tok->prefix, p, len);
	tok->prefix[len] = '\0';
	tok->prefix_len = len;
	tok->prefix_hash = fnv_more(FNV_OFFSET, p, len);
	return true;
}


/* Append an added token (content as UTF-8). */
static bool
add_added_token(mrl_tokenizer *tok, const char *content, size_t len, int32_t id,
				bool normalized, bool lstrip, bool rstrip, bool single_word,
				char *err, size_t errlen)
{
	cp_buf		b = {0};
	size_t		bad;
	added_token *a;

	if (len == 0 || len > MAX_TOKEN_BYTES)
	{
		mrl_errf(err, errlen, "added token %d is %zu bytes long (1 to %d supported)",
				(int) id, len, MAX_TOKEN_BYTES);
		return false;
	}
	if (!mrl_tok_utf8_decode(content, len, &b, &bad))
	{
		free(b.v);
		mrl_errf(err, errlen, "added token %d is not valid UTF-8", (int) id);
		return false;
	}
	if (!vocab_add(tok, content, len, id, false, err, errlen))
	{
		free(b.v);
		return false;
	}
	a = &tok->added[tok->n_added++];
	a->cps = b.v;
	a->n_cps = (int) b.n;
	a->id = id;
	a->normalized = normalized;
	a->lstrip = lstrip;
	a->rstrip = rstrip;
	a->single_word = single_word;
	return true;
}

/* Order pointers into added[] by content, then by position in the file. */
static int
cmp_added(const void *x, const void *y)
{
	const added_token *a = *(const added_token *const *) x,
			   *b = *(const added_token *const *) y;
	int			n = a->n_cps < b->n_cps ? a->n_cps : b->n_cps,
				k;

	for (k = 0; k < n; k++)
		if (a->cps[k] != b->cps[k])
			return a->cps[k] < b->cps[k] ? -1 : 1;
	if (a->n_cps != b->n_cps)
		return a->n_cps < b->n_cps ? -1 : 1;
	return a < b ? -1 : a > b;
}

/*
 * Give trie node `node` its children from the sorted tokens idx[lo..hi),
 * which share their first `depth` code points.  Nodes are preallocated.
 */
static void
trie_fill(const mrl_tokenizer *tok, added_trie *t, int node,
		  const added_token **idx, int lo, int hi, int depth)
{
	int			g,
				child;

	/* a token ending here; of equal ones the first in the file wins */
	for (; lo < hi && idx[lo]->n_cps == depth; lo++)
		if (t->nodes[node].token < 0)
			t->nodes[node].token = (int32_t) (idx[lo] - tok->added);
	child = t->n_nodes;
	t->nodes[node].first_child = child;
	for (g = lo; g < hi; t->nodes[node].n_children++)
	{
		int32_t		cp = idx[g]->cps[depth];

		while (g < hi && idx[g]->cps[depth] == cp)
			g++;
		t->nodes[t->n_nodes++] = (trie_node) {cp, -1, 0, 0};
	}
	for (g = lo; g < hi; child++)
	{
		int			end = g;

		while (end < hi && idx[end]->cps[depth] == t->nodes[child].cp)
			end++;
		trie_fill(tok, t, child, idx, g, end, depth + 1);
		g = end;
	}
}

/* Build the trie of the added tokens matched in raw or normalized text. */
static bool
build_trie(mrl_tokenizer *tok, bool normalized, char *err, size_t errlen)
{
	added_trie *t = &tok->trie[normalized];
	const added_token **idx = malloc((tok->n_added + 1) * sizeof(added_token *));
	size_t		total = 1;
	int			n = 0,
				k;

	if (idx == NULL)
		goto oom;
	for (k = 0; k < tok->n_added; k++)
		if (tok->added[k].normalized == normalized)
		{
			idx[n++] = &tok->added[k];
			total += tok->added[k].n_cps;
		}
	t->nodes = malloc(total * sizeof(trie_node));
	if (t->nodes == NULL)
		goto oom;
	qsort(idx, n, sizeof(added_token *), cmp_added);
	t->nodes[0] = (trie_node) {-1, -1, 0, 0};
	t->n_nodes = 1;
	trie_fill(tok, t, 0, idx, 0, n, 0);
	free(idx);
	return true;

oom:
	free(idx);
	mrl_errf(err, errlen, "out of memory");
	return false;
}

/* Final checks once vocabulary and specials are known. */
static bool
tokenizer_check(mrl_tokenizer *tok, const char *unk, char *err, size_t errlen)
{
	int			i;

	if (tok->n_model_tokens == 0)
	{
		mrl_errf(err, errlen, "the WordPiece vocabulary is empty");
		return false;
	}
	if (tok->unk_id < 0)
		tok->unk_id = mrl_tok_vocab_find2(tok, unk, strlen(unk), NULL, 0);
	if (tok->unk_id < 0 || tok->unk_id >= tok->n_ids || !tok->id_to_token[tok->unk_id])
	{
		mrl_errf(err, errlen, "unknown token \"%s\" is not in the vocabulary", unk);
		return false;
	}
	for (i = 0; i < tok->before.n + tok->after.n; i++)
	{
		int32_t		id = i < tok->before.n ? tok->before.ids[i] : tok->after.ids[i - tok->before.n];

		if (id < 0 || id >= tok->n_ids)
		{
			mrl_errf(err, errlen, "special token id %d is outside the vocabulary", (int) id);
			return false;
		}
	}
	if (!build_trie(tok, false, err, errlen) || !build_trie(tok, true, err, errlen))
		return false;
	if (!mrl_tok_prepare_cuts(tok))
	{
		mrl_errf(err, errlen, "out of memory");
		return false;
	}
	return true;
}

/* Free a tokenizer (NULL is allowed) */
void
mrl_tokenizer_free(mrl_tokenizer *tok)
{
	int			i;

	if (tok == NULL)
		return;
	if (tok->id_to_token)
		for (i = 0; i < tok->n_ids; i++)
			free(tok->id_to_token[i]);
	free(tok->id_to_token);
	free(tok->token_len);
	free(tok->slots);
	free(tok->prefix);
	for (i = 0; i < tok->n_added; i++)
		free(tok->added[i].cps);
	free(tok->added);
	free(tok->trie[0].nodes);
	free(tok->trie[1].nodes);
	free(tok->added_cps);
	free(tok);
}

/* ---------------------------------------------------------------------
 * tokenizer.json
 * --------------------------------------------------------------------- */

/* Member key of object o if o is an object, else NULL (also when JSON null) */
static json_object *
jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

/* Boolean member with a default; false with an error if it is not a boolean */
static bool
jbool(json_object *o, const char *key, bool dflt, bool *out,
	  char *err, size_t errlen)
{
	json_object *v = jget(o, key);

	if (v == NULL)
		*out = dflt;
	else if (json_object_is_type(v, json_type_boolean))
		*out = json_object_get_boolean(v);
	else
	{
		mrl_errf(err, errlen, "\"%s\" must be true or false", key);
		return false;
	}
	return true;
}

/* Integer member within [lo, hi]; false with an error otherwise */
static bool
jint(json_object *v, const char *what, int64_t lo, int64_t hi, int64_t *out,
	 char *err, size_t errlen)
{
	if (v == NULL || !json_object_is_type(v, json_type_int))
	{
		mrl_errf(err, errlen, "%s must be an integer", what);
		return false;
	}
	errno = 0;
	*out = json_object_get_int64(v);
	if (errno != 0 || *out < lo || *out > hi)
	{
		mrl_errf(err, errlen, "%s out of range [%lld, %lld]", what,
				(long long) lo, (long long) hi);
		return false;
	}
	return true;
}

/* String member (NULL with an error if missing or not a string) */
static const char *
jstr(json_object *o, const char *key, size_t *len, char *err, size_t errlen)
{
	json_object *v = jget(o, key);

	if (v == NULL || !json_object_is_type(v, json_type_string))
	{
		mrl_errf(err, errlen, "\"%s\" must be a string", key);
		return NULL;
	}
	if (len)
		*len = (size_t) json_object_get_string_len(v);
	return json_object_get_string(v);
}

/* "type" of a component object, or NULL if missing */
static const char *
jtype(json_object *o)
{
	json_object *t = jget(o, "type");

	return (t && json_object_is_type(t, json_type_string)) ? json_object_get_string(t) : NULL;
}

/* Is component o (e.g. the "normalizer") of the one supported type? */
static bool
require_type(json_object *o, const char *what, const char *want,
			 char *err, size_t errlen)
{
	const char *type = jtype(o);

	if (type == NULL || strcmp(type, want) != 0)
	{
		mrl_errf(err, errlen, "unsupported %s type \"%s\" (only %s)",
				what, type ? type : "?", want);
		return false;
	}
	return true;
}

/* Read "normalizer" (null or BertNormalizer). */
static bool
read_normalizer(mrl_tokenizer *tok, json_object *n, char *err, size_t errlen)
{
	json_object *sa;

	if (n == NULL)
	{
		tok->has_normalizer = false;
		return true;
	}
	if (!require_type(n, "normalizer", "BertNormalizer", err, errlen))
		return false;
	if (!jbool(n, "clean_text", true, &tok->clean_text, err, errlen) ||
		!jbool(n, "handle_chinese_chars", true, &tok->handle_chinese_chars, err, errlen) ||
		!jbool(n, "lowercase", true, &tok->lowercase, err, errlen))
		return false;
	sa = jget(n, "strip_accents");
	if (sa == NULL)
		tok->strip_accents = tok->lowercase;	/* null follows lowercase */
	else if (!jbool(n, "strip_accents", false, &tok->strip_accents, err, errlen))
		return false;
	return true;
}

/* Read "pre_tokenizer" (null or BertPreTokenizer). */
static bool
read_pre_tokenizer(mrl_tokenizer *tok, json_object *p, char *err, size_t errlen)
{
	if (p == NULL)
	{
		tok->bert_pretokenizer = false;
		return true;
	}
	return require_type(p, "pre_tokenizer", "BertPreTokenizer", err, errlen);
}

/* Append ids (with one type id) to a template part. */
static bool
template_append(template_ids *t, const int32_t *ids, int n, int32_t type,
				char *err, size_t errlen)
{
	int			i;

	if (n > MAX_TEMPLATE_IDS - t->n)
	{
		mrl_errf(err, errlen, "post_processor adds more than %d special tokens", MAX_TEMPLATE_IDS);
		return false;
	}
	for (i = 0; i < n; i++)
	{
		t->ids[t->n] = ids[i];
		t->types[t->n++] = type;
	}
	return true;
}

/* BertProcessing's "cls"/"sep": ["[CLS]", 101] */
static bool
read_bert_pair(json_object *p, const char *key, int32_t *id, char *err, size_t errlen)
{
	json_object *a = jget(p, key);
	int64_t		v;

	if (a == NULL || !json_object_is_type(a, json_type_array) ||
		json_object_array_length(a) != 2)
	{
		mrl_errf(err, errlen, "BertProcessing \"%s\" must be [token, id]", key);
		return false;
	}
	if (!jint(json_object_array_get_idx(a, 1), "BertProcessing id", 0, INT32_MAX, &v, err, errlen))
		return false;
	*id = (int32_t) v;
	return true;
}

/* One TemplateProcessing "single" item: SpecialToken or Sequence A. */
static bool
read_template_item(mrl_tokenizer *tok, json_object *item, json_object *specials,
				   bool *seen_seq, char *err, size_t errlen)
{
	json_object *st = jget(item, "SpecialToken");
	json_object *sq = jget(item, "Sequence");
	json_object *spec,
			   *ids;
	const char *name;
	int64_t		type;
	int32_t		buf[MAX_TEMPLATE_IDS];
	size_t		i,
				n;

	if (sq != NULL)
	{
		name = jstr(sq, "id", NULL, err, errlen);
		if (name == NULL || strcmp(name, "A") != 0 || *seen_seq)
		{
			mrl_errf(err, errlen, "TemplateProcessing \"single\" must use sequence A once");
			return false;
		}
		if (!jint(jget(sq, "type_id"), "type_id", 0, INT32_MAX, &type, err, errlen))
			return false;
		tok->seq_type = (int32_t) type;
		*seen_seq = true;
		return true;
	}
	if (st == NULL)
	{
		mrl_errf(err, errlen, "TemplateProcessing item is neither SpecialToken nor Sequence");
		return false;
	}
	name = jstr(st, "id", NULL, err, errlen);
	if (name == NULL ||
		!jint(jget(st, "type_id"), "type_id", 0, INT32_MAX, &type, err, errlen))
		return false;
	spec = jget(specials, name);
	ids = jget(spec, "ids");
	if (ids == NULL || !json_object_is_type(ids, json_type_array))
	{
		mrl_errf(err, errlen, "TemplateProcessing special token \"%s\" has no ids", name);
		return false;
	}
	n = json_object_array_length(ids);
	if (n > MAX_TEMPLATE_IDS)
	{
		mrl_errf(err, errlen, "post_processor adds more than %d special tokens", MAX_TEMPLATE_IDS);
		return false;
	}
	for (i = 0; i < n; i++)
	{
		int64_t		v;

		if (!jint(json_object_array_get_idx(ids, i), "special token id", 0, INT32_MAX, &v, err, errlen))
			return false;
		buf[i] = (int32_t) v;
	}
	return template_append(*seen_seq ? &tok->after : &tok->before, buf, (int) n,
						   (int32_t) type, err, errlen);
}

/* Read "post_processor" (null, TemplateProcessing or BertProcessing). */
static bool
read_post_processor(mrl_tokenizer *tok, json_object *p, char *err, size_t errlen)
{
	const char *type;

	if (p == NULL)
		return true;
	type = jtype(p);
	if (type != NULL && strcmp(type, "BertProcessing") == 0)
	{
		int32_t		cls,
					sep;

		return read_bert_pair(p, "cls", &cls, err, errlen) &&
			read_bert_pair(p, "sep", &sep, err, errlen) &&
			template_append(&tok->before, &cls, 1, 0, err, errlen) &&
			template_append(&tok->after, &sep, 1, 0, err, errlen);
	}
	if (type != NULL && strcmp(type, "TemplateProcessing") == 0)
	{
		json_object *single = jget(p, "single");
		json_object *specials = jget(p, "special_tokens");
		bool		seen_seq = false;
		size_t		i;

		if (single == NULL || !json_object_is_type(single, json_type_array))
		{
			mrl_errf(err, errlen, "TemplateProcessing has no \"single\" template");
			return false;
		}
		for (i = 0; i < json_object_array_length(single); i++)
			if (!read_template_item(tok, json_object_array_get_idx(single, i),
									specials, &seen_seq, err, errlen))
				return false;
		if (!seen_seq)
		{
			mrl_errf(err, errlen, "TemplateProcessing \"single\" must use sequence A once");
			return false;
		}
		return true;
	}
	mrl_errf(err, errlen, "unsupported post_processor type \"%s\"", type ? type : "?");
	return false;
}

/* Read "truncation" (null or {max_length, direction}). */
static bool
read_truncation(mrl_tokenizer *tok, json_object *t, char *err, size_t errlen)
{
	json_object *dir;
	int64_t		v;

	if (t == NULL)
		return true;
	if (!jint(jget(t, "max_length"), "truncation max_length", 1, INT_MAX, &v, err, errlen))
		return false;
	tok->trunc_max = (int) v;
	dir = jget(t, "direction");
	if (dir != NULL)
	{
		const char *d = json_object_get_string(dir);

		if (!json_object_is_type(dir, json_type_string) ||
			(strcmp(d, "Left") != 0 && strcmp(d, "Right") != 0))
		{
			mrl_errf(err, errlen, "truncation direction must be \"Left\" or \"Right\"");
			return false;
		}
		tok->trunc_left = strcmp(d, "Left") == 0;
	}
	return true;
}

/* One "added_tokens" string, for finding repeats */
typedef struct added_entry
{
	const char *s;
	size_t		len;
	int			index;
} added_entry;

/* Order entries by content bytes, then by position in the file. */
static int
cmp_entry(const void *x, const void *y)
{
	const added_entry *a = x,
			   *b = y;
	int			c = memcmp(a->s, b->s, a->len < b->len ? a->len : b->len);

	if (c != 0)
		return c;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->index - b->index;
}

/*
 * Refuse an "added_tokens" list naming one content twice: tokenizers never
 * writes such a file, and reads it with options mixed from both entries.
 */
static bool
check_repeats(json_object *arr, size_t n, char *err, size_t errlen)
{
	added_entry *e = malloc((n + 1) * sizeof(added_entry));
	size_t		i;

	if (e == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return false;
	}
	for (i = 0; i < n; i++)
	{
		e[i].s = jstr(json_object_array_get_idx(arr, i), "content", &e[i].len, err, errlen);
		e[i].index = (int) i;
		if (e[i].s == NULL)
		{
			free(e);
			return false;
		}
	}
	qsort(e, n, sizeof(added_entry), cmp_entry);
	for (i = 1; i < n; i++)
		if (e[i].len == e[i - 1].len && memcmp(e[i].s, e[i - 1].s, e[i].len) == 0)
		{
			mrl_errf(err, errlen, "added token \"%.40s\" is listed twice", e[i].s);
			free(e);
			return false;
		}
	free(e);
	return true;
}

/*
 * Read "added_tokens" into tok->added.  Like tokenizers 0.13, ignore the
 * stated ids: a token the model vocabulary has keeps the model's id (and a
 * non-special one is not matched separately at all: WordPiece handles it);
 * a new token gets the next id after the model vocabulary.
 */
static bool
read_added_tokens(mrl_tokenizer *tok, json_object *arr, int n_model,
				  char *err, size_t errlen)
{
	size_t		i,
				n = arr ? json_object_array_length(arr) : 0;
	int32_t		next_id = n_model;

	if (!check_repeats(arr, n, err, errlen))
		return false;
	tok->added = calloc(n + 1, sizeof(added_token));
	if (tok->added == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return false;
	}
	for (i = 0; i < n; i++)
	{
		json_object *a = json_object_array_get_idx(arr, i);
		const char *content;
		size_t		len;
		int32_t		id;
		bool		special,
					normalized,
					lstrip,
					rstrip,
					single_word;

		if ((content = jstr(a, "content", &len, err, errlen)) == NULL ||
			!jbool(a, "special", false, &special, err, errlen) ||
			!jbool(a, "normalized", !special, &normalized, err, errlen) ||
			!jbool(a, "lstrip", false, &lstrip, err, errlen) ||
			!jbool(a, "rstrip", false, &rstrip, err, errlen) ||
			!jbool(a, "single_word", false, &single_word, err, errlen))
			break;
		if (len == 0)
			continue;
		id = mrl_tok_vocab_find2(tok, content, len, NULL, 0);
		if (id >= 0 && !special)
			continue;
		if (id < 0)
			id = next_id++;
		if (!add_added_token(tok, content, len, id, normalized,
							 lstrip, rstrip, single_word, err, errlen))
			break;
	}
	return i == n;
}

/* Largest id of the model vocabulary, checking every id. */
static bool
scan_ids(json_object *vocab, int64_t limit, int64_t *max_id, char *err, size_t errlen)
{
	*max_id = -1;
	json_object_object_foreach(vocab, key, val)
	{
		int64_t		id;

		if (!jint(val, "vocabulary id", 0, limit - 1, &id, err, errlen))
		{
			size_t		l = strlen(err ? err : "");

			mrl_errf(err ? err + l : NULL, errlen - l, " (token \"%.40s\")", key);
			return false;
		}
		if (id > *max_id)
			*max_id = id;
	}
	return true;
}

/* Read "model" (WordPiece) and the vocabulary. */
static bool
read_model(mrl_tokenizer *tok, json_object *root, const char **unk,
		   char *err, size_t errlen)
{
	json_object *model = jget(root, "model");
	json_object *vocab = jget(model, "vocab");
	json_object *added = jget(root, "added_tokens");
	const char *type = jtype(model);
	const char *prefix = "##";
	size_t		prefix_len = 2;
	int64_t		n_model,
				n_added,
				n_ids,
				max_id,
				v;

	if (model == NULL)
	{
		mrl_errf(err, errlen, "tokenizer.json has no \"model\"");
		return false;
	}
	if (type == NULL && jget(model, "merges") != NULL)
		type = "BPE";
	if (type != NULL && strcmp(type, "WordPiece") != 0)
	{
		mrl_errf(err, errlen, "unsupported tokenizer model type \"%s\" (only WordPiece)", type);
		return false;
	}
	if (vocab == NULL || !json_object_is_type(vocab, json_type_object))
	{
		mrl_errf(err, errlen, "WordPiece \"vocab\" must be an object");
		return false;
	}
	if (jget(model, "unk_token") && (*unk = jstr(model, "unk_token", NULL, err, errlen)) == NULL)
		return false;
	if (jget(model, "continuing_subword_prefix") &&
		(prefix = jstr(model, "continuing_subword_prefix", &prefix_len, err, errlen)) == NULL)
		return false;
	if (jget(model, "max_input_chars_per_word"))
	{
		if (!jint(jget(model, "max_input_chars_per_word"), "max_input_chars_per_word",
				  0, INT_MAX, &v, err, errlen))
			return false;
		tok->max_input_chars = (int) v;
	}
	if (!set_prefix(tok, prefix, prefix_len, err, errlen))
		return false;

	if (added != NULL && !json_object_is_type(added, json_type_array))
	{
		mrl_errf(err, errlen, "\"added_tokens\" must be an array");
		return false;
	}
	n_model = json_object_object_length(vocab);
	n_added = added ? json_object_array_length(added) : 0;

	/* ids must be dense enough that the id table stays linear in the input */
	if (!scan_ids(vocab, 2 * (int64_t) n_model + 256, &max_id, err, errlen))
		return false;
	if (max_id < 0)
	{
		mrl_errf(err, errlen, "the WordPiece vocabulary is empty");
		return false;
	}
	if (max_id + 1 > n_model + n_added)
		n_ids = max_id + 1;
	else
		n_ids = n_model + n_added;
	if (!vocab_alloc(tok, (int) n_ids, n_model, err, errlen))
		return false;
	{
		json_object_object_foreach(vocab, key, val)
		{
			if (!vocab_add(tok, key, strlen(key), (int32_t) json_object_get_int64(val),
						   true, err, errlen))
				return false;
		}
	}
	if (!read_added_tokens(tok, added, n_model, err, errlen))
		return false;
	/* the id space ends at the largest id in use */
	while (tok->n_ids > 0 && tok->id_to_token[tok->n_ids - 1] == NULL)
		tok->n_ids--;
	return true;
}

/* Parse a tokenizer.json held in memory */
mrl_tokenizer *
mrl_tokenizer_load_json(const char *json, size_t len, char *err, size_t errlen)
{
	json_tokener *jt;
	json_object *root;
	mrl_tokenizer *tok;
	const char *unk = "[UNK]";
	bool		ok;

	if (len > MAX_JSON_BYTES)
	{
		mrl_errf(err, errlen, "tokenizer.json is too large (%zu bytes)", len);
		return NULL;
	}
	jt = json_tokener_new_ex(64);
	if (jt == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		return NULL;
	}
	root = json_tokener_parse_ex(jt, json, (int) len);
	if (root == NULL || json_tokener_get_error(jt) != json_tokener_success ||
		json_tokener_get_parse_end(jt) < len)
	{
		enum json_tokener_error e = json_tokener_get_error(jt);

		mrl_errf(err, errlen, "malformed tokenizer.json: %s",
				e == json_tokener_success ? "trailing data" :
				e == json_tokener_continue ? "unexpected end of data" :
				json_tokener_error_desc(e));
		json_object_put(root);
		json_tokener_free(jt);
		return NULL;
	}
	json_tokener_free(jt);
	if (!json_object_is_type(root, json_type_object))
	{
		mrl_errf(err, errlen, "malformed tokenizer.json: not a JSON object");
		json_object_put(root);
		return NULL;
	}
	tok = tokenizer_new(err, errlen);
	ok = tok != NULL &&
		read_model(tok, root, &unk, err, errlen) &&
		read_normalizer(tok, jget(root, "normalizer"), err, errlen) &&
		read_pre_tokenizer(tok, jget(root, "pre_tokenizer"), err, errlen) &&
		read_post_processor(tok, jget(root, "post_processor"), err, errlen) &&
		read_truncation(tok, jget(root, "truncation"), err, errlen) &&
		tokenizer_check(tok, unk, err, errlen);
	json_object_put(root);
	if (!ok)
	{
		mrl_tokenizer_free(tok);
		return NULL;
	}
	return tok;
}

/* Read a tokenizer.json file */
mrl_tokenizer *
mrl_tokenizer_load_file(const char *path, char *err, size_t errlen)
{
	mrl_mapping m;
	mrl_tokenizer *tok;

	if (mrl_map_file(path, &m, err, errlen) != 0)
		return NULL;
	tok = mrl_tokenizer_load_json((const char *) m.base, m.size, err, errlen);
	mrl_unmap(&m);
	return tok;
}

/* ---------------------------------------------------------------------
 * Plain vocabulary (GGUF)
 * --------------------------------------------------------------------- */

/* bert-base-uncased defaults, as tokenizers and llama.cpp assume them */
void
mrl_wordpiece_config_init(mrl_wordpiece_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->lowercase = 1;
	cfg->strip_accents = -1;
	cfg->clean_text = 1;
	cfg->handle_chinese_chars = 1;
	cfg->max_input_chars_per_word = 100;
	cfg->unk_id = -1;
	cfg->cls_id = -1;
	cfg->sep_id = -1;
	cfg->gguf_phantom_space = 1;
}

#define PHANTOM_SPACE "\xe2\x96\x81"	/* U+2581 LOWER ONE EIGHTH BLOCK */

/* Undo the GGUF rewrite of one token (see tokenizer.h) */
int
mrl_wordpiece_unphantom(const char *token, size_t len, int token_type,
						char *out, size_t outcap)
{
	const char *src = token;
	const char *pre = "";
	size_t		n = len;

	if (token_type == MRL_GGUF_TOKEN_CONTROL ||
		(token_type == 0 && len >= 2 && token[0] == '[' && token[len - 1] == ']'))
		;						/* unchanged */
	else if (len >= 3 && memcmp(token, PHANTOM_SPACE, 3) == 0)
	{
		src = token + 3;
		n = len - 3;
	}
	else
		pre = "##";
	if (strlen(pre) + n + 1 > outcap)
		return -1;
	memcpy(out, pre, strlen(pre));
	memcpy(out + strlen(pre), src, n);
	out[strlen(pre) + n] = '\0';
	return (int) (strlen(pre) + n);
}

/* Resolve a special id: explicit, looked up by name, or none (-2). */
static int32_t
resolve_special(const mrl_tokenizer *tok, int32_t id, const char *name)
{
	if (id == -1)
		return mrl_tok_vocab_find2(tok, name, strlen(name), NULL, 0);
	return id;
}

/*
 * Without token types, only BERT's five special tokens count as control
 * tokens matched in raw text; "[unused0]" and the like are ordinary pieces,
 * as in the tokenizer.json files converted from such vocabularies.
 */
static bool
is_bert_special_name(const char *s)
{
	return strcmp(s, "[PAD]") == 0 || strcmp(s, "[UNK]") == 0 ||
		strcmp(s, "[CLS]") == 0 || strcmp(s, "[SEP]") == 0 ||
		strcmp(s, "[MASK]") == 0;
}

/* Add vocabulary entry i of a plain vocabulary array. */
static bool
add_plain_token(mrl_tokenizer *tok, const char *s, int32_t i, int type,
				const mrl_wordpiece_config *cfg, char *err, size_t errlen)
{
	size_t		len = strlen(s);
	char		stackbuf[256];
	char	   *buf = stackbuf;
	bool		ok;
	bool		control;

	if (len > UINT32_MAX / 4)
	{
		mrl_errf(err, errlen, "token %d is too long", (int) i);
		return false;
	}
	control = type == MRL_GGUF_TOKEN_CONTROL || (type == 0 && is_bert_special_name(s));
	if (cfg->gguf_phantom_space)
	{
		if (len + 3 > sizeof(stackbuf) && (buf = malloc(len + 3)) == NULL)
		{
			mrl_errf(err, errlen, "out of memory");
			return false;
		}
		len = (size_t) mrl_wordpiece_unphantom(s, len, type, buf, len + 3);
		s = buf;
	}
	ok = vocab_add(tok, s, len, i, true, err, errlen);
	/* control tokens are HF's special added tokens: matched in raw text */
	if (ok && control && len > 0)
		ok = add_added_token(tok, s, len, i, false, false, false, false, err, errlen);
	if (buf != stackbuf)
		free(buf);
	return ok;
}

/* Build a tokenizer from a vocabulary array (token i has id i) */
mrl_tokenizer *
mrl_tokenizer_from_vocab(const char *const *tokens, int n_tokens,
						 const int32_t *token_types,
						 const mrl_wordpiece_config *cfg,
						 char *err, size_t errlen)
{
	mrl_tokenizer *tok;
	int32_t		cls,
				sep;
	int			i;

	if (cfg->max_input_chars_per_word < 0)
	{
		mrl_errf(err, errlen, "max_input_chars_per_word must not be negative");
		return NULL;
	}
	if (tokens == NULL || n_tokens <= 0)
	{
		mrl_errf(err, errlen, "the WordPiece vocabulary is empty");
		return NULL;
	}
	if ((tok = tokenizer_new(err, errlen)) == NULL)
		return NULL;
	tok->lowercase = cfg->lowercase != 0;
	tok->strip_accents = cfg->strip_accents < 0 ? tok->lowercase : cfg->strip_accents != 0;
	tok->clean_text = cfg->clean_text != 0;
	tok->handle_chinese_chars = cfg->handle_chinese_chars != 0;
	tok->max_input_chars = cfg->max_input_chars_per_word;
	tok->added = calloc(n_tokens, sizeof(added_token));
	if (tok->added == NULL || !set_prefix(tok, "##", 2, err, errlen) ||
		!vocab_alloc(tok, n_tokens, n_tokens, err, errlen))
		goto fail;
	for (i = 0; i < n_tokens; i++)
	{
		if (tokens[i] == NULL)
		{
			mrl_errf(err, errlen, "vocabulary entry %d is missing", i);
			goto fail;
		}
		if (!add_plain_token(tok, tokens[i], i, token_types ? token_types[i] : 0,
							 cfg, err, errlen))
			goto fail;
	}
	tok->unk_id = resolve_special(tok, cfg->unk_id, "[UNK]");
	cls = resolve_special(tok, cfg->cls_id, "[CLS]");
	sep = resolve_special(tok, cfg->sep_id, "[SEP]");
	if (cls == -1 || sep == -1)
	{
		mrl_errf(err, errlen, "the vocabulary has no %s token", cls == -1 ? "[CLS]" : "[SEP]");
		goto fail;
	}
	if ((cls >= 0 && !template_append(&tok->before, &cls, 1, 0, err, errlen)) ||
		(sep >= 0 && !template_append(&tok->after, &sep, 1, 0, err, errlen)) ||
		!tokenizer_check(tok, "[UNK]", err, errlen))
		goto fail;
	return tok;

fail:
	mrl_tokenizer_free(tok);
	return NULL;
}

/* Read a vocab.txt: line i is token i, trailing whitespace trimmed as tokenizers does */
mrl_tokenizer *
mrl_tokenizer_load_vocab_txt(const char *path, const mrl_wordpiece_config *cfg,
							 char *err, size_t errlen)
{
	mrl_mapping m;
	size_t		len,
				i,
				n = 0;
	char	   *buf;
	char	  **lines;
	mrl_wordpiece_config plain = *cfg;
	mrl_tokenizer *tok = NULL;

	if (mrl_map_file(path, &m, err, errlen) != 0)
		return NULL;
	len = m.size;
	buf = malloc(len + 1);		/* a copy: lines are cut in place */
	lines = malloc((len + 1) * sizeof(char *));
	if (buf == NULL || lines == NULL)
	{
		mrl_errf(err, errlen, "out of memory");
		free(buf);
		free(lines);
		mrl_unmap(&m);
		return NULL;
	}
	memcpy(buf, m.base, len);
	mrl_unmap(&m);
	for (i = 0; i < len; n++)
	{
		size_t		end = i;

		while (end < len && buf[end] != '\n')
			end++;
		lines[n] = buf + i;
		i = end + 1;
		while (end > (size_t) (lines[n] - buf) && (buf[end - 1] == ' ' || buf[end - 1] == '\t' ||
												   buf[end - 1] == '\r'))
			end--;
		buf[end] = '\0';
		if (n >= INT_MAX - 1 || memchr(lines[n], '\0', end - (lines[n] - buf)) != NULL)
		{
			mrl_errf(err, errlen, "line %zu of \"%s\" contains a NUL byte", n + 1, path);
			goto done;
		}
	}
	plain.gguf_phantom_space = 0;
	tok = mrl_tokenizer_from_vocab((const char *const *) lines, (int) n, NULL, &plain,
								   err, errlen);
done:
	free(lines);
	free(buf);
	return tok;
}

