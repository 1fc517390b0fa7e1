/*
 * mrl_embed: embed lines of text from the command line with the encoder
 * library (the same code the extension runs).
 *
 *   mrl_embed [options] MODEL < lines.txt > vectors.txt
 *
 * MODEL is a GGUF file or a Hugging Face / sentence-transformers directory.
 * Each input line is tokenized with the model's tokenizer (or, with --ids,
 * read as space-separated token ids) and one vector is printed per line,
 * as space-separated numbers.
 */
#include "encoder.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cli_options
{
	const char *model_path;
	const char *cache_dir;
	const char *prefix;			/* prepended to every line (task prompts) */
	int			ids_input;		/* lines are token ids, no tokenizer */
	int			max_len;		/* tokens per input; 0 = the model's n_ctx */
	int			batch;			/* lines per forward call */
	mrl_embed_options embed;
} cli_options;

/* The lines of one batch, tokenized. */
typedef struct batch
{
	int			n;
	int32_t   **ids;
	int		   *lens;
	mrl_encoding *enc;			/* text mode: one encoding per line */
} batch;

static void
usage(FILE *f)
{
	fprintf(f,
			"usage: mrl_embed [options] MODEL < lines > vectors\n"
			"  MODEL                 a GGUF file or a Hugging Face model directory\n"
			"  --ids                 input lines are space-separated token ids\n"
			"  --prefix TEXT         prepend TEXT to every line (e.g. \"search_query: \")\n"
			"  --dims N              Matryoshka output width (truncate + renormalise)\n"
			"  --nomic-dims          nomic recipe for --dims: LayerNorm, truncate, L2\n"
			"  --layers N            run only the first N layers\n"
			"  --pooling mean|cls    override the model's pooling\n"
			"  --no-normalize        do not L2-normalise (--normalize forces it)\n"
			"  --max-len N           truncate inputs to N tokens (default: model maximum)\n"
			"  --batch N             lines per forward call (default 32)\n"
			"  --threads N           OpenBLAS threads (default 1)\n"
			"  --cache-dir DIR       where converted (F16/quantised) weights are cached\n");
}

/* Parses a decimal int in [lo, hi]; exits with a message otherwise. */
static int
parse_int(const char *opt, const char *s, int lo, int hi)
{
	char	   *end;
	long		v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi)
	{
		fprintf(stderr, "mrl_embed: %s needs an integer from %d to %d, not \"%s\"\n",
				opt, lo, hi, s);
		exit(2);
	}
	return (int) v;
}

/* Fills o from argv; exits on a usage error. */
static void
parse_args(int argc, char **argv, cli_options *o)
{
	static const struct option longopts[] = {
		{"ids", no_argument, NULL, 'i'},
		{"prefix", required_argument, NULL, 'p'},
		{"dims", required_argument, NULL, 'd'},
		{"nomic-dims", no_argument, NULL, 'N'},
		{"layers", required_argument, NULL, 'l'},
		{"pooling", required_argument, NULL, 'P'},
		{"no-normalize", no_argument, NULL, 'n'},
		{"normalize", no_argument, NULL, 'L'},
		{"max-len", required_argument, NULL, 'm'},
		{"batch", required_argument, NULL, 'b'},
		{"threads", required_argument, NULL, 't'},
		{"cache-dir", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	memset(o, 0, sizeof(*o));
	mrl_embed_options_init(&o->embed);
	o->batch = 32;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'i':
				o->ids_input = 1;
				break;
			case 'p':
				o->prefix = optarg;
				break;
			case 'd':
				o->embed.dims = parse_int("--dims", optarg, 1, INT_MAX);
				break;
			case 'N':
				o->embed.dims_mode = MRL_DIMS_LAYERNORM;
				break;
			case 'l':
				o->embed.layers = parse_int("--layers", optarg, 1, INT_MAX);
				break;
			case 'n':
				o->embed.normalize = 0;
				break;
			case 'L':
				o->embed.normalize = 1;
				break;
			case 'm':
				o->max_len = parse_int("--max-len", optarg, 1, INT_MAX);
				break;
			case 'b':
				o->batch = parse_int("--batch", optarg, 1, 4096);
				break;
			case 't':
				o->embed.threads = parse_int("--threads", optarg, 1, 256);
				break;
			case 'c':
				o->cache_dir = optarg;
				break;
			case 'P':
				if (strcmp(optarg, "mean") == 0)
					o->embed.pooling = MRL_POOL_MEAN;
				else if (strcmp(optarg, "cls") == 0)
					o->embed.pooling = MRL_POOL_CLS;
				else
				{
					fprintf(stderr, "mrl_embed: --pooling must be mean or cls\n");
					exit(2);
				}
				break;
			case 'h':
				usage(stdout);
				exit(0);
			default:
				usage(stderr);
				exit(2);
		}
	}
	if (optind != argc - 1)
	{
		usage(stderr);
		exit(2);
	}
	o->model_path = argv[optind];
	o->embed.batch_size = o->batch;
}

/* Reads space-separated token ids from line into enc; -1 on bad input. */
static int
parse_ids(const char *line, mrl_encoding *enc, long lineno)
{
	const char *p = line;

	enc->n = 0;
	for (;;)
	{
		char	   *end;
		long		v;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0' || *p == '\n' || *p == '\r')
			break;
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno || v < 0 || v > INT32_MAX)
		{
			fprintf(stderr, "mrl_embed: line %ld: bad token id near \"%.20s\"\n", lineno, p);
			return -1;
		}
		if (enc->n == enc->cap)
		{
			int			cap = enc->cap ? 2 * enc->cap : 64;
			int32_t    *ids = realloc(enc->ids, cap * sizeof(int32_t));

			if (!ids)
				return -1;
			enc->ids = ids;
			enc->cap = cap;
		}
		enc->ids[enc->n++] = (int32_t) v;
		p = end;
	}
	return 0;
}

/* Prints n vectors of dim numbers, one per line. */
static void
print_vectors(const float *v, int n, int dim)
{
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		for (j = 0; j < dim; j++)
			printf(j ? " %.7g" : "%.7g", v[(size_t) i * dim + j]);
		putchar('\n');
	}
}

/* Token ids of one input line (prefix + text, or literal ids); 0 or -1. */
static int
encode_line(const cli_options *o, const mrl_encoder *encoder,
			const char *line, size_t len, long lineno,
			mrl_encoding *enc)
{
	size_t		plen = o->prefix ? strlen(o->prefix) : 0;
	char		err[512];
	char	   *text;
	int			n;

	if (o->ids_input)
		return parse_ids(line, enc, lineno);
	if (!(text = malloc(plen + len + 1)))
	{
		fprintf(stderr, "mrl_embed: out of memory\n");
		return -1;
	}
	memcpy(text, o->prefix ? o->prefix : "", plen);
	memcpy(text + plen, line, len + 1);
	n = mrl_encoder_tokenize(encoder, text, plen + len, o->max_len, enc, err, sizeof(err));
	free(text);
	if (n < 0)
	{
		fprintf(stderr, "mrl_embed: line %ld: %s\n", lineno, err);
		return -1;
	}
	return 0;
}

/* Embeds the lines collected in b and prints their vectors; 0 or -1. */
static int
flush_batch(mrl_encoder *encoder, const cli_options *o, batch *b, float *out,
			int dim, long lineno)
{
	char		err[512];
	int			i;

	for (i = 0; i < b->n; i++)
	{
		b->ids[i] = b->enc[i].ids;
		b->lens[i] = b->enc[i].n;
	}
	if (mrl_encoder_embed_ids(encoder, (const int32_t *const *) b->ids, b->lens, b->n,
					   &o->embed, out, err, sizeof(err)) != MRL_FWD_OK)
	{
		/* sequence i of the message is line (first line of batch) + i */
		fprintf(stderr, "mrl_embed: batch from line %ld: %s\n",
				lineno - b->n + 1, err);
		return -1;
	}
	print_vectors(out, b->n, dim);
	b->n = 0;
	return 0;
}

int
main(int argc, char **argv)
{
	cli_options o;
	mrl_encoder *encoder;
	batch		b;
	char		err[512] = "";
	char	   *line = NULL;
	size_t		linecap = 0;
	ssize_t		len;
	long		lineno = 0;
	float	   *out;
	int			dim,
				rc = 0,
				i;

	parse_args(argc, argv, &o);
	if (!(encoder = mrl_encoder_open(o.model_path, o.cache_dir, err, sizeof(err))))
	{
		fprintf(stderr, "mrl_embed: %s\n", err);
		return 1;
	}
	if ((dim = mrl_encoder_out_dim(encoder, &o.embed, err, sizeof(err))) < 0)
	{
		fprintf(stderr, "mrl_embed: %s\n", err);
		return 2;
	}
	b.n = 0;
	b.ids = calloc(o.batch, sizeof(int32_t *));
	b.lens = calloc(o.batch, sizeof(int));
	b.enc = calloc(o.batch, sizeof(mrl_encoding));
	out = calloc((size_t) o.batch * dim, sizeof(float));
	if (!b.ids || !b.lens || !b.enc || !out)
	{
		fprintf(stderr, "mrl_embed: out of memory\n");
		return 1;
	}
	while (rc == 0 && (len = getline(&line, &linecap, stdin)) >= 0)
	{
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		rc = encode_line(&o, encoder, line, len, lineno, &b.enc[b.n]);
		if (rc == 0 && ++b.n == o.batch)
			rc = flush_batch(encoder, &o, &b, out, dim, lineno);
	}
	if (rc == 0 && b.n > 0)
		rc = flush_batch(encoder, &o, &b, out, dim, lineno);

	for (i = 0; i < o.batch; i++)
		mrl_encoding_free(&b.enc[i]);
	free(b.enc);
	free(b.ids);
	free(b.lens);
	free(out);
	free(line);
	mrl_encoder_free(encoder);
	return rc ? 1 : 0;
}
