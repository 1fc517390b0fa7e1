/*
 * fuzz_tokenizer.c: libFuzzer target for the tokenizer.json reader, the
 * plain-vocabulary loader and the tokenizer.
 *
 * Input layout: CONFIG 0xFF TEXT (0xFF occurs in neither valid UTF-8 nor
 * JSON).  CONFIG empty: TEXT goes through model/tokenizer.json (path in
 * $MRL_TOKENIZER_JSON).  CONFIG starting with 'V': the rest is a vocabulary,
 * one token per line, in GGUF form.  Otherwise CONFIG is a tokenizer.json.
 * Whatever loads must tokenize TEXT without crashing, with ids in range.
 *
 * clang -g -O1 -fsanitize=fuzzer,address -Isrc/encoder -I/usr/include/json-c \
 *   test/fuzz/fuzz_tokenizer.c  src/encoder/tokenizer*.c src/encoder/mapfile.c src/encoder/errors.c \
 *   -lutf8proc -ljson-c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

static mrl_tokenizer *builtin;

/* Load the built-in tokenizer once. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *path = getenv("MRL_TOKENIZER_JSON");
	char		err[256];

	builtin = mrl_tokenizer_load_file(path ? path : "model/tokenizer.json", err, sizeof(err));
	return 0;
}

/* Tokenize text with several length limits; ids must be valid. */
static void
exercise(const mrl_tokenizer *tok, const char *text, size_t len)
{
	static const int limits[] = {0, 2, 3, 7, 512};
	mrl_encoding enc = {0};
	char		err[256];
	size_t		i;
	int			k;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
	{
		int			n = mrl_tokenizer_encode(tok, text, len, limits[i], &enc, err, sizeof(err));

		if (n < 0)
			continue;
		if (limits[i] > 0 && n > limits[i])
			abort();
		for (k = 0; k < n; k++)
			if (enc.ids[k] < 0 || enc.ids[k] >= mrl_tokenizer_vocab_size(tok))
				abort();
	}
	mrl_encoding_free(&enc);
}

/* Split CONFIG into lines and build a tokenizer from them as a GGUF vocabulary. */
static mrl_tokenizer *
load_vocab_lines(const char *cfg, size_t len)
{
	char	   *copy = malloc(len + 1);
	const char **tokens = malloc((len + 1) * sizeof(char *));
	int			n = 0;
	size_t		i,
				start = 0;
	mrl_wordpiece_config wc;
	mrl_tokenizer *tok;
	char		err[256];

	memcpy(copy, cfg, len);
	copy[len] = '\0';
	for (i = 0; i <= len; i++)
		if (i == len || copy[i] == '\n')
		{
			copy[i] = '\0';
			tokens[n++] = copy + start;
			start = i + 1;
		}
	mrl_wordpiece_config_init(&wc);
	wc.lowercase = len % 2;
	tok = mrl_tokenizer_from_vocab(tokens, n, NULL, &wc, err, sizeof(err));
	free(tokens);
	free(copy);
	return tok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memchr(data, 0xFF, size);
	size_t		cfg_len = sep ? (size_t) (sep - data) : 0;
	const char *text = (const char *) (sep ? sep + 1 : data);
	size_t		text_len = sep ? size - cfg_len - 1 : size;
	mrl_tokenizer *tok;
	char		err[256];

	if (cfg_len == 0)
	{
		if (builtin)
			exercise(builtin, text, text_len);
		return 0;
	}
	if (data[0] == 'V')
		tok = load_vocab_lines((const char *) data + 1, cfg_len - 1);
	else
		tok = mrl_tokenizer_load_json((const char *) data, cfg_len, err, sizeof(err));
	if (tok)
	{
		exercise(tok, text, text_len);
		mrl_tokenizer_free(tok);
	}
	return 0;
}
