/*
 * test_tokenizer.c: the WordPiece tokenizer against Hugging Face tokenizers.
 *
 * Usage: test_tokenizer [REPO_ROOT]
 *
 * For every variant of the built-in vocabulary (the tokenizer.json of
 * model/0_StaticEmbedding) listed in test/encoder/tokenizer_expected.txt (a
 * JSON merge patch each, written by tokenizer_reference.js with the npm
 * `tokenizers` library) and every string of tokenizer_corpus.txt, our ids
 * must equal the library's.  Also: the explicit max_len argument, the GGUF
 * vocabulary path (the converter's "phantom space" rewrite undone), and
 * error paths.  Huge texts, read a chunk at a time, give the same tokens as
 * Hugging Face's and a peak memory that does not follow the text.  Prints
 * TAP.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <json.h>

#include "tap.h"
#include "tokenizer.h"
#include "tokenizer_unicode.h"

#define MAX_SHOWN 3				/* mismatches detailed per check */

static const char *root = ".";

/* One corpus string (may contain NUL bytes) */
typedef struct text
{
	char	   *s;
	size_t		len;
} text;

/* One variant: its name, merge patch, and expected ids per corpus string */
typedef struct variant
{
	char	   *name;
	json_object *patch;
	char	  **expected;		/* "2 345 3" per corpus string */
} variant;

static text *corpus;
static int	n_corpus;
static variant variants[32];
static int	n_variants;
static char *tokenizer_json;	/* model/0_StaticEmbedding/tokenizer.json */

/* Read a whole file (NUL-terminated) or exit with a TAP failure. */
static char *
read_file(const char *rel)
{
	char		path[4096];
	size_t		len;
	char	   *buf;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if ((buf = tap_slurp(path, &len)) == NULL)
	{
		ok(0, "read %s", path);
		exit(tap_done());
	}
	return buf;
}

/* Load the corpus: one JSON string per line. */
static void
load_corpus(void)
{
	char	   *buf = read_file("test/encoder/tokenizer_corpus.txt");
	char	   *line,
			   *save = NULL;

	corpus = calloc(100000, sizeof(text));
	for (line = strtok_r(buf, "\n", &save); line && n_corpus < 100000;
		 line = strtok_r(NULL, "\n", &save))
	{
		json_object *j = json_tokener_parse(line);

		if (j == NULL || !json_object_is_type(j, json_type_string))
		{
			ok(0, "corpus line %d is a JSON string", n_corpus + 1);
			exit(tap_done());
		}
		corpus[n_corpus].len = json_object_get_string_len(j);
		corpus[n_corpus].s = malloc(corpus[n_corpus].len + 1);
		memcpy(corpus[n_corpus].s, json_object_get_string(j), corpus[n_corpus].len + 1);
		n_corpus++;
		json_object_put(j);
	}
	free(buf);
}

/* Load the expected ids: "config\tNAME\tPATCH" then "NAME\tINDEX\tIDS" lines. */
static void
load_expected(void)
{
	char	   *buf = read_file("test/encoder/tokenizer_expected.txt");
	char	   *line,
			   *save = NULL;

	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
	{
		char	   *f1 = strchr(line, '\t'),
				   *f2 = f1 ? strchr(f1 + 1, '\t') : NULL;
		variant    *v = n_variants ? &variants[n_variants - 1] : NULL;
		long		idx;

		if (line[0] == '#' || f2 == NULL)
			continue;
		*f1 = *f2 = '\0';
		if (strcmp(line, "config") == 0 && n_variants < 32)
		{
			v = &variants[n_variants++];
			v->name = strdup(f1 + 1);
			v->patch = json_tokener_parse(f2 + 1);
			v->expected = calloc(n_corpus, sizeof(char *));
			continue;
		}
		idx = strtol(f1 + 1, NULL, 10);
		if (v && strcmp(line, v->name) == 0 && idx >= 0 && idx < n_corpus)
			v->expected[idx] = strdup(f2 + 1);
	}
	free(buf);
}

/* RFC 7386 JSON merge patch: returns the patched target (may replace it). */
static json_object *
merge_patch(json_object *target, json_object *patch)
{
	if (!json_object_is_type(patch, json_type_object))
	{
		json_object_put(target);
		return json_object_get(patch);
	}
	if (!json_object_is_type(target, json_type_object))
	{
		json_object_put(target);
		target = json_object_new_object();
	}
	json_object_object_foreach(patch, key, val)
	{
		json_object *cur = NULL;

		if (val == NULL)
		{
			json_object_object_del(target, key);
			continue;
		}
		json_object_object_get_ex(target, key, &cur);
		json_object_object_add(target, key, merge_patch(json_object_get(cur), val));
	}
	return target;
}

/* The built-in vocabulary with a merge patch applied, as a tokenizer. */
static mrl_tokenizer *
load_variant(json_object *patch, char *err, size_t errlen)
{
	json_object *j = merge_patch(json_tokener_parse(tokenizer_json), patch);
	const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
												   JSON_C_TO_STRING_NOSLASHESCAPE);
	mrl_tokenizer *tok = mrl_tokenizer_load_json(s, strlen(s), err, errlen);

	json_object_put(j);
	return tok;
}

/* Our ids of text i as a space-separated string (static buffer). */
static const char *
our_ids(const mrl_tokenizer *tok, int i, int max_len, mrl_encoding *enc)
{
	static char buf[1 << 20];
	char		err[256];
	size_t		pos = 0;
	int			k,
				n = mrl_tokenizer_encode(tok, corpus[i].s, corpus[i].len, max_len, enc,
										 err, sizeof(err));

	if (n < 0)
	{
		snprintf(buf, sizeof(buf), "error: %s", err);
		return buf;
	}
	buf[0] = '\0';
	for (k = 0; k < n && pos < sizeof(buf) - 16; k++)
		pos += snprintf(buf + pos, sizeof(buf) - pos, k ? " %d" : "%d", enc->ids[k]);
	return buf;
}

/* Compare a tokenizer with a variant's expected ids over the corpus. */
static void
check_corpus(const mrl_tokenizer *tok, const variant *v, int max_len, const char *what)
{
	mrl_encoding enc = {0};
	int			i,
				bad = 0,
				missing = 0;

	for (i = 0; i < n_corpus; i++)
	{
		const char *ours;

		if (v->expected[i] == NULL)
		{
			missing++;
			continue;
		}
		ours = our_ids(tok, i, max_len, &enc);
		if (strcmp(ours, v->expected[i]) == 0)
			continue;
		if (++bad <= MAX_SHOWN)
		{
			json_object *js = json_object_new_string_len(corpus[i].s, (int) corpus[i].len);

			printf("# %s: string %d %s\n#   expected %s\n#   got      %s\n", what, i,
				   json_object_to_json_string(js), v->expected[i], ours);
			json_object_put(js);
		}
	}
	mrl_encoding_free(&enc);
	ok(bad == 0 && missing == 0, "%s: %d strings, %d mismatches, %d without expectation",
		what, n_corpus, bad, missing);
}

/* The variant called name, or NULL */
static const variant *
find_variant(const char *name)
{
	int			i;

	for (i = 0; i < n_variants; i++)
		if (strcmp(variants[i].name, name) == 0)
			return &variants[i];
	return NULL;
}

/* Every variant of tokenizer.json against the library's ids. */
static void
test_variants(void)
{
	int			i;
	const variant *trunc = find_variant("truncate_right_8");
	const variant *dflt = find_variant("default");
	const variant *left;
	mrl_tokenizer *tok;
	char		err[256],
				path[4096];
	const char *table_version;
	bool		current;

	ok(n_variants >= 10 && n_corpus >= 1000 && dflt && trunc,
		"expectations loaded: %d variants, %d strings", n_variants, n_corpus);
	current = mrl_unicode_table_current(&table_version);
	ok(current, "utf8proc has Unicode %s, the version tools/unicode_compat.js compared with tokenizers",
		table_version);
	for (i = 0; i < n_variants; i++)
	{
		char		what[128];

		tok = load_variant(variants[i].patch, err, sizeof(err));
		snprintf(what, sizeof(what), "config %s", variants[i].name);
		if (tok == NULL)
		{
			ok(false, "%s: load failed: %s", what, err);
			continue;
		}
		check_corpus(tok, &variants[i], 0, what);
		mrl_tokenizer_free(tok);
	}
	if (dflt == NULL || trunc == NULL)
		return;
	snprintf(path, sizeof(path), "%s/model/0_StaticEmbedding/tokenizer.json", root);
	tok = mrl_tokenizer_load_file(path, err, sizeof(err));
	ok(tok != NULL, "mrl_tokenizer_load_file(model/0_StaticEmbedding/tokenizer.json)%s%s",
		tok ? "" : ": ", tok ? "" : err);
	if (tok == NULL)
		return;
	check_corpus(tok, dflt, 0, "load_file, no truncation");
	check_corpus(tok, trunc, 8, "encode max_len=8 = truncation 8");
	mrl_tokenizer_free(tok);
	/* an explicit max_len overrides the file's left truncation */
	left = find_variant("truncate_left_12");
	tok = left ? load_variant(left->patch, err, sizeof(err)) : NULL;
	if (tok)
		check_corpus(tok, trunc, 8, "file truncates left at 12, encode max_len=8 = right 8");
	else
		ok(false, "variant truncate_left_12 %s", left ? err : "missing");
	mrl_tokenizer_free(tok);
}

/* ---------------------------------------------------------------------
 * Huge texts, tokenized a chunk at a time
 * --------------------------------------------------------------------- */

/* Parse "2 345 3" into ids (at most cap); returns the count. */
static int
parse_ids(const char *s, int32_t *ids, int cap)
{
	int			n = 0;
	char	   *end;

	while (*s && n < cap)
	{
		ids[n++] = (int32_t) strtol(s, &end, 10);
		if (end == s)
			break;
		s = end;
	}
	return n;
}

/*
 * A long text: shift spaces, then the corpus strings joined by newlines,
 * repeat times.  Its pieces, as Hugging Face gives them, are each string's
 * pieces (v's expected ids without the special tokens around them) one
 * after the other: a newline ends a word in every stage, and no added token
 * holds one.  *cls / *sep are the ids v puts around them.
 */
typedef struct long_text
{
	char	   *s;
	size_t		len;
	int32_t    *pieces;
	int			n_pieces;
	int32_t		cls,
				sep;
} long_text;

static void
make_long_text(const variant *v, int shift, int repeat, long_text *t)
{
	size_t		cap = shift + 1;
	int32_t		ids[4096];
	int			k;

	for (int i = 0; i < n_corpus; i++)
		cap += (corpus[i].len + 1) * repeat;
	t->s = malloc(cap);
	t->pieces = malloc(sizeof(int32_t) * cap);
	memset(t->s, ' ', shift);
	t->len = shift;
	t->n_pieces = 0;
	for (int r = 0; r < repeat; r++)
		for (int i = 0; i < n_corpus; i++)
		{
			memcpy(t->s + t->len, corpus[i].s, corpus[i].len);
			t->len += corpus[i].len;
			t->s[t->len++] = '\n';
			k = parse_ids(v->expected[i], ids, 4096);
			memcpy(t->pieces + t->n_pieces, ids + 1, sizeof(int32_t) * (k - 2));
			t->n_pieces += k - 2;
			t->cls = ids[0];
			t->sep = ids[k - 1];
		}
}

static void
free_long_text(long_text *t)
{
	free(t->s);
	free(t->pieces);
}

/* Are ids[0..n) [cls] + want[0..n_want) + [sep]? */
static bool
wrapped_equal(const int32_t *ids, int n, const long_text *t, const int32_t *want, int n_want)
{
	return n == n_want + 2 && ids[0] == t->cls && ids[n - 1] == t->sep &&
		memcmp(ids + 1, want, sizeof(int32_t) * n_want) == 0;
}

/*
 * One long text through all three ways of reading it: whole (no limit),
 * chunk by chunk (mrl_tokenizer_encode_chunk), and with a 512-token window.
 * Returns the number that differ from Hugging Face's tokens; *chunks counts
 * the chunks read.
 */
static int
check_long_text(const mrl_tokenizer *tok, const long_text *t, int *chunks)
{
	mrl_encoding enc = {0},
				part = {0};
	int32_t    *streamed = malloc(sizeof(int32_t) * (t->n_pieces + 1));
	char		err[256];
	size_t		pos = 0;
	int			n,
				n_streamed = 0,
				bad = 0;

	n = mrl_tokenizer_encode(tok, t->s, t->len, 0, &enc, err, sizeof(err));
	bad += !wrapped_equal(enc.ids, n, t, t->pieces, t->n_pieces);
	while (pos < t->len && n_streamed <= t->n_pieces)
	{
		n = mrl_tokenizer_encode_chunk(tok, t->s, t->len, &pos, &part, err, sizeof(err));
		if (n < 0 || n_streamed + n > t->n_pieces)
			break;
		memcpy(streamed + n_streamed, part.ids, sizeof(int32_t) * n);
		n_streamed += n;
		++*chunks;
	}
	bad += pos != t->len || n_streamed != t->n_pieces ||
		memcmp(streamed, t->pieces, sizeof(int32_t) * n_streamed) != 0;
	n = mrl_tokenizer_encode(tok, t->s, t->len, 512, &enc, err, sizeof(err));
	bad += !wrapped_equal(enc.ids, n, t, t->pieces, t->n_pieces < 510 ? t->n_pieces : 510);
	mrl_encoding_free(&enc);
	mrl_encoding_free(&part);
	free(streamed);
	return bad;
}

/*
 * The corpus joined into texts of ~250 kB (four chunks each), shifted by 0
 * to 144 spaces so the cuts fall on different characters: every way of
 * reading them gives the variant's expected tokens.
 */
static void
check_long_texts(const mrl_tokenizer *tok, const variant *v, const char *what)
{
	static const int shifts[] = {0, 3, 21, 144};
	int			bad = 0,
				chunks = 0;
	long_text	t = {0};

	for (int i = 0; i < (int) (sizeof(shifts) / sizeof(shifts[0])); i++)
	{
		make_long_text(v, shifts[i], 2, &t);
		bad += check_long_text(tok, &t, &chunks);
		free_long_text(&t);
	}
	ok(bad == 0 && chunks > 3 * (int) (sizeof(shifts) / sizeof(shifts[0])),
	   "%s: %d texts of %zu kB, %d chunks: whole, chunk by chunk and in a 512-token window, Hugging Face's tokens (%d differ)",
	   what, (int) (sizeof(shifts) / sizeof(shifts[0])), t.len / 1024, chunks, bad);
}

/* Every variant that keeps words apart, on long texts. */
static void
test_long_texts(void)
{
	const variant *dflt = find_variant("default");
	const variant *right = find_variant("truncate_right_8"),
			   *left = find_variant("truncate_left_12");
	mrl_tokenizer *tok;
	mrl_encoding enc = {0};
	long_text	t = {0};
	char		err[256];
	int			n;

	for (int i = 0; i < n_variants; i++)
	{
		char		what[128];

		/* without a pre-tokenizer a whole text is one word; truncation below */
		if (strcmp(variants[i].name, "no_pre_tokenizer") == 0 ||
			strncmp(variants[i].name, "truncate_", 9) == 0)
			continue;
		tok = load_variant(variants[i].patch, err, sizeof(err));
		snprintf(what, sizeof(what), "long texts, config %s", variants[i].name);
		if (tok)
			check_long_texts(tok, &variants[i], what);
		else
			ok(false, "%s: load failed: %s", what, err);
		mrl_tokenizer_free(tok);
	}
	if (!dflt || !right || !left)
		return;
	/* tokenizer.json truncation: the first 6 or the last 10 pieces */
	make_long_text(dflt, 0, 2, &t);
	tok = load_variant(right->patch, err, sizeof(err));
	n = tok ? mrl_tokenizer_encode(tok, t.s, t.len, 0, &enc, err, sizeof(err)) : -1;
	ok(wrapped_equal(enc.ids, n, &t, t.pieces, 6),
	   "a %zu kB text, truncation right 8: its first 6 pieces", t.len / 1024);
	mrl_tokenizer_free(tok);
	tok = load_variant(left->patch, err, sizeof(err));
	n = tok ? mrl_tokenizer_encode(tok, t.s, t.len, 0, &enc, err, sizeof(err)) : -1;
	ok(wrapped_equal(enc.ids, n, &t, t.pieces + t.n_pieces - 10, 10),
	   "a %zu kB text, truncation left 12: its last 10 pieces", t.len / 1024);
	mrl_tokenizer_free(tok);
	mrl_encoding_free(&enc);
	free_long_text(&t);
}

/* Peak resident memory of this process so far, in kB. */
static long
peak_rss_kb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

/*
 * A 32 MB text (the corpus again and again) costs no memory in proportion
 * to it: neither in a 512-token window nor read chunk by chunk, whose
 * pieces add up to the corpus's pieces times the repeats.  Run first, so
 * that no earlier peak hides this one.
 */
static void
test_huge_text_memory(void)
{
	const variant *dflt = find_variant("default");
	mrl_tokenizer *tok = mrl_tokenizer_load_json(tokenizer_json, strlen(tokenizer_json),
												 NULL, 0);
	mrl_encoding enc = {0};
	long_text	one = {0};
	size_t		len = 0,
				pos = 0;
	long		peak0,
				window_kb,
				stream_kb,
				pieces = 0;
	int			repeat,
				n = -1;
	char	   *text,
				err[256] = "";

	if (!dflt || !tok)
	{
		ok(false, "huge texts: the default tokenizer and its expectations");
		return;
	}
	make_long_text(dflt, 0, 1, &one);
	repeat = (int) ((32 << 20) / one.len);
	text = malloc(one.len * repeat);
	for (int r = 0; r < repeat; r++, len += one.len)
		memcpy(text + len, one.s, one.len);
	peak0 = peak_rss_kb();
	n = mrl_tokenizer_encode(tok, text, len, 512, &enc, err, sizeof(err));
	window_kb = peak_rss_kb() - peak0;
	ok(wrapped_equal(enc.ids, n, &one, one.pieces, 510) && window_kb < 16384,
	   "a %zu MB text in a 512-token window: its first 510 pieces, peak RSS +%ld kB (< 16 MB)",
	   len >> 20, window_kb);
	while (pos < len && (n = mrl_tokenizer_encode_chunk(tok, text, len, &pos, &enc,
														  err, sizeof(err))) >= 0)
		pieces += n;
	stream_kb = peak_rss_kb() - peak0;
	ok(pos == len && pieces == (long) one.n_pieces * repeat && stream_kb < 16384,
	   "the %zu MB text chunk by chunk: %ld pieces (%d x %d), peak RSS +%ld kB (< 16 MB) %s",
	   len >> 20, pieces, repeat, one.n_pieces, stream_kb, err);
	mrl_encoding_free(&enc);
	free_long_text(&one);
	free(text);
	mrl_tokenizer_free(tok);
}

/*
 * Past the chunk bounds: a 3 MiB run with no white space or punctuation is
 * cut every MiB (each cut piece a word of its own: 3 [UNK], where Hugging
 * Face gives one), the text after it tokenizes as usual; bytes after a full
 * window are not read, while an error before it gives its exact offset.
 */
static void
test_chunk_edges(void)
{
	mrl_tokenizer *tok = mrl_tokenizer_load_json(tokenizer_json, strlen(tokenizer_json),
												 NULL, 0);
	size_t		run = (size_t) 3 << 20,
				len = run + 8;
	char	   *text = malloc(len + 1),
				err[256] = "";
	mrl_encoding enc = {0},
				tail = {0};
	int			n,
				n_tail;
	int32_t		unk;

	if (!tok)
	{
		ok(false, "load the built-in tokenizer.json");
		return;
	}
	unk = mrl_tokenizer_unk_id(tok);
	memset(text, 'a', run);
	memcpy(text + run, " the end", 8);
	n = mrl_tokenizer_encode(tok, text, len, 0, &enc, err, sizeof(err));
	n_tail = mrl_tokenizer_encode(tok, "the end", 7, 0, &tail, err, sizeof(err));
	ok(n == n_tail + 3 && enc.ids[1] == unk && enc.ids[2] == unk && enc.ids[3] == unk &&
	   memcmp(enc.ids + 4, tail.ids + 1, sizeof(int32_t) * (n_tail - 1)) == 0,
	   "a 3 MiB run without a cut point is cut every MiB: 3 [UNK], then \"the end\" (%d ids)", n);
	/* the same text with an invalid byte at its end */
	memcpy(text + run, " the \xff", 6);
	n = mrl_tokenizer_encode(tok, text, run + 6, 0, &enc, err, sizeof(err));
	ok(n == -1 && strstr(err, "invalid UTF-8 at byte 3145733") != NULL,
	   "invalid UTF-8 3 MiB in: refused with its offset (%s)", err);
	n = mrl_tokenizer_encode(tok, text, run + 6, 3, &enc, err, sizeof(err));
	ok(n == 3 && enc.ids[1] == unk, "the same text in a window full before it: read no further");
	mrl_encoding_free(&enc);
	mrl_encoding_free(&tail);
	mrl_tokenizer_free(tok);
	free(text);
}

/* Rewrite the tokenizer's vocabulary the way the GGUF converter does. */
static char **
gguf_vocab(const mrl_tokenizer *tok, int32_t *types, int n)
{
	char	  **v = calloc(n, sizeof(char *));
	int			i;

	for (i = 0; i < n; i++)
	{
		const char *t = mrl_tokenizer_id_to_token(tok, i);
		size_t		len = strlen(t);

		v[i] = malloc(len + 4);
		types[i] = MRL_GGUF_TOKEN_NORMAL;
		if (len >= 2 && t[0] == '[' && t[len - 1] == ']')
		{
			types[i] = MRL_GGUF_TOKEN_CONTROL;
			strcpy(v[i], t);
		}
		else if (strncmp(t, "##", 2) == 0 && len > 2)
			strcpy(v[i], t + 2);
		else
			sprintf(v[i], "\xe2\x96\x81%s", t);
	}
	return v;
}

/* A tokenizer from a GGUF-form vocabulary against a variant's ids. */
static void
check_gguf(char **v, int n, const int32_t *types, const mrl_wordpiece_config *cfg,
		   const char *variant_name, const char *what)
{
	char		err[256];
	mrl_tokenizer *tok = mrl_tokenizer_from_vocab((const char *const *) v, n, types, cfg,
												  err, sizeof(err));

	if (tok == NULL)
		ok(false, "%s: %s", what, err);
	else
	{
		char		long_what[160];

		check_corpus(tok, find_variant(variant_name), 0, what);
		snprintf(long_what, sizeof(long_what), "long texts, %s", what);
		check_long_texts(tok, find_variant(variant_name), long_what);
	}
	mrl_tokenizer_free(tok);
}

/* A vocab.txt (CRLF line ends) written from the reference tokenizer. */
static void
test_vocab_txt(const mrl_tokenizer *ref)
{
	char		path[] = "/tmp/mrl_vocab_txt_XXXXXX",
				err[256];
	int			fd = mkstemp(path),
				i;
	FILE	   *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	mrl_wordpiece_config cfg;
	mrl_tokenizer *tok;

	if (f == NULL)
	{
		ok(false, "write a temporary vocab.txt");
		return;
	}
	for (i = 0; i < mrl_tokenizer_vocab_size(ref); i++)
		fprintf(f, "%s\r\n", mrl_tokenizer_id_to_token(ref, i));
	fclose(f);
	mrl_wordpiece_config_init(&cfg);
	tok = mrl_tokenizer_load_vocab_txt(path, &cfg, err, sizeof(err));
	unlink(path);
	if (tok == NULL)
		ok(false, "vocab.txt: %s", err);
	else
	{
		check_corpus(tok, find_variant("default"), 0, "vocab.txt with CRLF line ends");
		check_long_texts(tok, find_variant("default"), "long texts, vocab.txt");
	}
	ok(tok != NULL && mrl_tokenizer_unk_id(tok) == mrl_tokenizer_unk_id(ref) &&
		mrl_tokenizer_unk_id(ref) == mrl_tokenizer_token_to_id(ref, "[UNK]", 5),
		"vocab.txt: [UNK] id %d", tok ? mrl_tokenizer_unk_id(tok) : -1);
	mrl_tokenizer_free(tok);
	tok = mrl_tokenizer_load_vocab_txt("/nonexistent/vocab.txt", &cfg, err, sizeof(err));
	ok(tok == NULL && strstr(err, "could not open") != NULL, "refused: missing vocab.txt (%s)", err);
}

/* The GGUF path: vocabulary array in phantom-space form, undone. */
static void
test_gguf_vocab(void)
{
	char		err[256],
				out[16];
	mrl_tokenizer *ref = mrl_tokenizer_load_json(tokenizer_json, strlen(tokenizer_json),
												 err, sizeof(err));
	mrl_wordpiece_config cfg;
	mrl_tokenizer *tok;
	int32_t    *types;
	char	  **v;
	int			n,
				i;

	ok(mrl_wordpiece_unphantom("\xe2\x96\x81the", 6, MRL_GGUF_TOKEN_NORMAL, out, sizeof(out)) == 3 &&
		strcmp(out, "the") == 0 &&
		mrl_wordpiece_unphantom("ing", 3, MRL_GGUF_TOKEN_NORMAL, out, sizeof(out)) == 5 &&
		strcmp(out, "##ing") == 0 &&
		mrl_wordpiece_unphantom("[CLS]", 5, MRL_GGUF_TOKEN_CONTROL, out, sizeof(out)) == 5 &&
		strcmp(out, "[CLS]") == 0 &&
		mrl_wordpiece_unphantom("[SEP]", 5, 0, out, sizeof(out)) == 5 &&
		mrl_wordpiece_unphantom("abcdefghijklmn", 14, 1, out, sizeof(out)) == -1,
		"mrl_wordpiece_unphantom: word-initial, continuation, control, too small");
	if (ref == NULL)
	{
		ok(false, "load model/0_StaticEmbedding/tokenizer.json: %s", err);
		return;
	}
	n = mrl_tokenizer_vocab_size(ref);
	types = calloc(n, sizeof(int32_t));
	v = gguf_vocab(ref, types, n);
	mrl_wordpiece_config_init(&cfg);
	tok = mrl_tokenizer_from_vocab((const char *const *) v, n, types, &cfg, err, sizeof(err));
	ok(tok != NULL && mrl_tokenizer_vocab_size(tok) == n,
		"GGUF-form vocabulary of %d tokens loads%s%s", n, tok ? "" : ": ", tok ? "" : err);
	mrl_tokenizer_free(tok);
	check_gguf(v, n, types, &cfg, "default", "GGUF vocabulary, uncased");
	/* older converters give no token types */
	check_gguf(v, n, NULL, &cfg, "default", "GGUF vocabulary without token types");
	cfg.lowercase = 0;
	check_gguf(v, n, types, &cfg, "cased", "GGUF vocabulary, lowercase=false");

	test_vocab_txt(ref);
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
	free(types);
	mrl_tokenizer_free(ref);
}

/* A load from JSON text must fail with a message containing want. */
static void
expect_json_error(const char *json, const char *want, const char *what)
{
	char		err[256] = "";
	mrl_tokenizer *tok = mrl_tokenizer_load_json(json, strlen(json), err, sizeof(err));

	ok(tok == NULL && strstr(err, want) != NULL, "refused: %s (%s)", what, err);
	mrl_tokenizer_free(tok);
}

/*
 * 30,000 added tokens sharing their first character, and a 500,000-char
 * run of that character: matching stays fast (a trie, not a scan).
 */
static void
test_many_added_tokens(void)
{
	int			n_added = 30000,
				n_run = 500000,
				k,
				n;
	size_t		cap = 200 + (size_t) n_added * 80,
				pos = 0;
	char	   *json = malloc(cap),
			   *text = malloc(n_run + 8);
	char		err[256] = "";
	mrl_tokenizer *tok;
	mrl_encoding enc = {0};

	pos += snprintf(json + pos, cap - pos, "{\"added_tokens\": [");
	for (k = 0; k < n_added; k++)
		pos += snprintf(json + pos, cap - pos,
						"%s{\"id\": %d, \"content\": \"a\\u%04x\", \"special\": true}",
						k ? ", " : "", k + 2, 0x4E00 + k);
	snprintf(json + pos, cap - pos,
			 "], \"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"a\": 1}}}");
	tok = mrl_tokenizer_load_json(json, strlen(json), err, sizeof(err));
	memset(text, 'a', n_run + 1);
	memcpy(text + n_run + 1, "\xe4\xb8\x81", 3); /* U+4E01: the token a\u4e01 */
	n = tok ? mrl_tokenizer_encode(tok, text, n_run + 4, 0, &enc, err, sizeof(err)) : -1;
	ok(n == 2 && enc.ids[0] == 0 && enc.ids[1] == 3,
		"30,000 added tokens, 500,000-char run: [UNK] then the added token (%d ids%s%s)",
		n, tok ? "" : ": ", tok ? "" : err);
	mrl_encoding_free(&enc);
	mrl_tokenizer_free(tok);
	free(json);
	free(text);
}

/*
 * Hostile sizes: an over-long vocabulary token is refused; a huge word with
 * max_input_chars_per_word = 10^9 is split in linear time.
 */
static void
test_long_inputs(void)
{
	const char *head = "{\"model\": {\"type\": \"WordPiece\", \"max_input_chars_per_word\": 1000000000, "
		"\"vocab\": {\"[UNK]\": 0, \"a\": 1, \"##a\": 2";
	size_t		n_word = 2000000,
				hl = strlen(head);
	char	   *json = malloc(hl + 3000),
			   *word = malloc(n_word);
	char		err[256] = "";
	mrl_tokenizer *tok;
	mrl_encoding enc = {0};
	int			n;

	memcpy(json, head, hl);
	strcpy(json + hl, ", \"");
	memset(json + hl + 3, 'b', 2000);
	strcpy(json + hl + 2003, "\": 3}}}");
	tok = mrl_tokenizer_load_json(json, strlen(json), err, sizeof(err));
	ok(tok == NULL && strstr(err, "2000 bytes long") != NULL,
		"refused: a 2000-byte vocabulary token (%s)", err);
	strcpy(json + hl, "}}}");
	tok = mrl_tokenizer_load_json(json, strlen(json), err, sizeof(err));
	memset(word, 'a', n_word);
	n = tok ? mrl_tokenizer_encode(tok, word, n_word, 0, &enc, err, sizeof(err)) : -1;
	ok(n == (int) n_word && enc.ids[0] == 1 && enc.ids[1] == 2 && enc.ids[n - 1] == 2,
		"a 2,000,000-char word with no length limit: %d pieces", n);
	mrl_encoding_free(&enc);
	mrl_tokenizer_free(tok);
	free(json);
	free(word);
	test_many_added_tokens();
}

/* Bad files, bad vocabularies, bad input text. */
static void
test_errors(void)
{
	char		err[256] = "";
	mrl_tokenizer *tok;
	mrl_encoding enc = {0};
	mrl_wordpiece_config cfg;
	const char *vocab[] = {"[UNK]", "[CLS]", "[SEP]", "\xe2\x96\x81" "a"};
	const char *no_unk[] = {"[CLS]", "[SEP]", "\xe2\x96\x81" "a"};
	const char *unused[] = {"[UNK]", "[CLS]", "[SEP]", "[unused0]", "\xe2\x96\x81[", "\xe2\x96\x81]",
	"\xe2\x96\x81unused", "0"};

	tok = mrl_tokenizer_load_file("/nonexistent/tokenizer.json", err, sizeof(err));
	ok(tok == NULL && strstr(err, "could not open") != NULL, "refused: missing file (%s)", err);

	expect_json_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0,",
					  "malformed", "truncated JSON");
	expect_json_error("{\"model\": 1} trailing", "malformed", "trailing garbage");
	expect_json_error("[1, 2, 3]", "not a JSON object", "JSON array");
	expect_json_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}",
					  "unsupported tokenizer model type \"BPE\"", "BPE model");
	expect_json_error("{\"model\": {\"type\": \"Unigram\", \"vocab\": [[\"a\", 0.0]]}}",
					  "unsupported tokenizer model type \"Unigram\"", "Unigram model");
	expect_json_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}",
					  "empty", "empty vocabulary");
	expect_json_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}",
					  "\"[UNK]\" is not in the vocabulary", "no [UNK]");
	expect_json_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"a\": 99999999}}}",
					  "out of range", "absurd token id");
	expect_json_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"a\": -1}}}",
					  "out of range", "negative token id");
	expect_json_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": \"x\"}}}",
					  "must be an integer", "string token id");
	expect_json_error("{\"normalizer\": {\"type\": \"Lowercase\"}, \"model\": {\"type\": \"WordPiece\", "
					  "\"vocab\": {\"[UNK]\": 0}}}",
					  "unsupported normalizer type \"Lowercase\"", "other normalizer");
	expect_json_error("{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"WordPiece\", "
					  "\"vocab\": {\"[UNK]\": 0}}}",
					  "unsupported pre_tokenizer type \"ByteLevel\"", "other pre_tokenizer");
	expect_json_error("{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": "
					  "[{\"SpecialToken\": {\"id\": \"[CLS]\", \"type_id\": 0}}]}, "
					  "\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}}",
					  "no ids", "template naming an undefined special token");
	expect_json_error("{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"b\": 0}}}",
					  "two different tokens", "one id for two tokens");
	expect_json_error("{\"added_tokens\": [{\"id\": 0, \"content\": \"[UNK]\", \"special\": true}, "
					  "{\"id\": 1, \"content\": \"zz\"}, {\"id\": 2, \"content\": \"zz\", \"special\": true}], "
					  "\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}}",
					  "\"zz\" is listed twice", "an added token listed twice");

	test_long_inputs();

	tok = mrl_tokenizer_load_json(tokenizer_json, strlen(tokenizer_json), err, sizeof(err));
	if (tok == NULL)
	{
		ok(false, "load model/0_StaticEmbedding/tokenizer.json: %s", err);
		return;
	}
	ok(mrl_tokenizer_encode(tok, "ab\xc3(", 4, 0, &enc, err, sizeof(err)) == -1 &&
		strstr(err, "invalid UTF-8 at byte 2") != NULL, "refused: invalid UTF-8 text (%s)", err);
	ok(mrl_tokenizer_encode(tok, "a\xed\xa0\x80", 4, 0, &enc, err, sizeof(err)) == -1,
		"refused: UTF-8-encoded surrogate (%s)", err);
	ok(mrl_tokenizer_encode(tok, "hello", 5, 1, &enc, err, sizeof(err)) == -1 &&
		strstr(err, "special tokens") != NULL, "refused: max_len 1 < 2 special tokens (%s)", err);
	ok(mrl_tokenizer_encode(tok, "hello world", 11, 2, &enc, err, sizeof(err)) == 2 &&
		enc.ids[0] == mrl_tokenizer_token_to_id(tok, "[CLS]", 5) &&
		enc.ids[1] == mrl_tokenizer_token_to_id(tok, "[SEP]", 5) &&
		enc.type_ids[0] == 0 && enc.type_ids[1] == 0,
		"max_len 2 gives [CLS] [SEP] with type ids 0");
	mrl_encoding_free(&enc);
	mrl_tokenizer_free(tok);

	mrl_wordpiece_config_init(&cfg);
	tok = mrl_tokenizer_from_vocab(vocab, 0, NULL, &cfg, err, sizeof(err));
	ok(tok == NULL && strstr(err, "empty") != NULL, "refused: empty GGUF vocabulary (%s)", err);
	tok = mrl_tokenizer_from_vocab(no_unk, 3, NULL, &cfg, err, sizeof(err));
	ok(tok == NULL && strstr(err, "[UNK]") != NULL, "refused: GGUF vocabulary without [UNK] (%s)", err);
	tok = mrl_tokenizer_from_vocab(vocab + 1, 3, NULL, &cfg, err, sizeof(err));
	ok(tok == NULL, "refused: GGUF vocabulary without [UNK] token name (%s)", err);
	tok = mrl_tokenizer_from_vocab(vocab, 4, NULL, &cfg, err, sizeof(err));
	ok(tok != NULL && mrl_tokenizer_encode(tok, "A a b", 5, 0, &enc, err, sizeof(err)) == 5 &&
		enc.ids[0] == 1 && enc.ids[1] == 3 && enc.ids[2] == 3 && enc.ids[3] == 0 && enc.ids[4] == 2,
		"tiny GGUF vocabulary: \"A a b\" -> [CLS] a a [UNK] [SEP]");
	mrl_tokenizer_free(tok);
	tok = mrl_tokenizer_from_vocab(unused, 8, NULL, &cfg, err, sizeof(err));
	ok(tok != NULL && mrl_tokenizer_encode(tok, "[unused0][SEP]", 14, 0, &enc, err, sizeof(err)) == 7 &&
		enc.ids[1] == 4 && enc.ids[2] == 6 && enc.ids[3] == 7 && enc.ids[4] == 5 && enc.ids[5] == 2,
		"untyped GGUF vocabulary: [unused0] is text, [SEP] is special");
	mrl_encoding_free(&enc);
	mrl_tokenizer_free(tok);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		root = argv[1];
	tokenizer_json = read_file("model/0_StaticEmbedding/tokenizer.json");
	load_corpus();
	load_expected();
	test_huge_text_memory();
	test_variants();
	test_long_texts();
	test_chunk_edges();
	test_gguf_vocab();
	test_errors();
	return tap_done();
}
