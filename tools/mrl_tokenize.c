/*
 * mrl_tokenize: print how the encoder's tokenizer splits a text.
 *
 *   mrl_tokenize TOKENIZER.json TEXT
 *
 * prints one line: the vocabulary size (with added tokens), then the ids of
 * TEXT with the special tokens of the file's post-processor, space-separated;
 * the same line Hugging Face tokenizers gives, for comparing the two.
 */
#include "tokenizer.h"

#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	char		err[256];
	mrl_tokenizer *tok;
	mrl_encoding enc = {0};
	int			i;

	if (argc != 3)
	{
		fprintf(stderr, "usage: mrl_tokenize TOKENIZER.json TEXT\n");
		return 2;
	}
	tok = mrl_tokenizer_load_file(argv[1], err, sizeof(err));
	if (tok == NULL ||
		mrl_tokenizer_encode(tok, argv[2], strlen(argv[2]), 0, &enc, err, sizeof(err)) < 0)
	{
		fprintf(stderr, "mrl_tokenize: %s\n", err);
		return 1;
	}
	printf("%d", mrl_tokenizer_vocab_size(tok));
	for (i = 0; i < enc.n; i++)
		printf(" %d", enc.ids[i]);
	printf("\n");
	mrl_encoding_free(&enc);
	mrl_tokenizer_free(tok);
	return 0;
}
