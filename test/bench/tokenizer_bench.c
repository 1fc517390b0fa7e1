/*
 * tokenizer_bench.c: throughput of the WordPiece tokenizer on the
 * conformance corpus (test/encoder/tokenizer_corpus.txt), one thread.
 *
 * usage: tokenizer_bench TOKENIZER_JSON CORPUS [seconds]
 */
#include <json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tokenizer.h"

/* CPU seconds used by this process */
static double
cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int
main(int argc, char **argv)
{
	static char line[1 << 20];
	char	  **texts = NULL;
	size_t	   *lens = NULL;
	int			n = 0,
				i;
	double		budget = argc > 3 ? atof(argv[3]) : 3.0,
				t0,
				t;
	long		rounds = 0,
				tokens = 0,
				bytes = 0;
	char		err[256];
	mrl_tokenizer *tok;
	mrl_encoding enc = {0};
	FILE	   *f;

	if (argc < 3)
	{
		fprintf(stderr, "usage: tokenizer_bench TOKENIZER_JSON CORPUS [seconds]\n");
		return 2;
	}
	if ((tok = mrl_tokenizer_load_file(argv[1], err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if ((f = fopen(argv[2], "r")) == NULL)
	{
		perror(argv[2]);
		return 1;
	}
	while (fgets(line, sizeof(line), f))
	{
		json_object *j = json_tokener_parse(line);

		if (j == NULL)
			continue;
		texts = realloc(texts, (n + 1) * sizeof(char *));
		lens = realloc(lens, (n + 1) * sizeof(size_t));
		lens[n] = json_object_get_string_len(j);
		texts[n] = malloc(lens[n] + 1);
		memcpy(texts[n], json_object_get_string(j), lens[n] + 1);
		n++;
		json_object_put(j);
	}
	fclose(f);

	t0 = cpu_seconds();
	do
	{
		for (i = 0; i < n; i++)
		{
			int			k = mrl_tokenizer_encode(tok, texts[i], lens[i], 0, &enc, err, sizeof(err));

			if (k < 0)
			{
				fprintf(stderr, "string %d: %s\n", i, err);
				return 1;
			}
			tokens += k;
			bytes += lens[i];
		}
		rounds++;
	} while ((t = cpu_seconds() - t0) < budget);
	printf("tokenizer: %d strings x %ld rounds in %.2f s CPU: %.0f tokens/s, %.0f strings/s, %.1f MB/s\n",
		   n, rounds, t, tokens / t, n * rounds / t, bytes / t / 1e6);
	mrl_encoding_free(&enc);
	mrl_tokenizer_free(tok);
	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	free(lens);
	return 0;
}
