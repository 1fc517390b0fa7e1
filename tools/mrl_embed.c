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
#include "bert.h"
#include "model.h"
#include "tokenizer.h"

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

/* The model's tokenizer: its tokenizer.json, or the vocabulary in the GGUF. */
static mrl_tokenizer *
load_tokenizer(const mrl_model *m, char *err, size_t errlen)
{
	const mrl_gguf_kv *tokens_kv,
			   *types_kv;
	mrl_wordpiece_config wc;
	mrl_gguf_str *strs;
	char	  **tokens;
	int32_t    *types;
	mrl_tokenizer *tok = NULL;
	uint64_t	i,
				n;
	int			flag;

	if (m->tok_source == MRL_TOK_JSON)
		return mrl_tokenizer_load_file(m->tokenizer_path, err, errlen);
	tokens_kv = mrl_gguf_find_kv(m->gguf, "tokenizer.ggml.tokens");
	types_kv = mrl_gguf_find_kv(m->gguf, "tokenizer.ggml.token_type");
	if (!tokens_kv || tokens_kv->arr_count > INT_MAX)
	{
		snprintf(err, errlen, "the GGUF file has no usable tokenizer.ggml.tokens");
		return NULL;
	}
	n = tokens_kv->arr_count;
	strs = calloc(n, sizeof(*strs));
	tokens = calloc(n, sizeof(*tokens));
	types = calloc(n, sizeof(*types));
	if (!strs || !tokens || !types || mrl_gguf_array_strings(tokens_kv, strs) != 1)
	{
		snprintf(err, errlen, "cannot read the GGUF vocabulary");
		goto done;
	}
	for (i = 0; i < n; i++)
	{
		int64_t		t = 0;

		if (!(tokens[i] = strndup(strs[i].ptr, strs[i].len)))
		{
			snprintf(err, errlen, "out of memory");
			goto done;
		}
		if (types_kv && i < types_kv->arr_count)
			mrl_gguf_array_int(types_kv, i, &t);
		types[i] = (int32_t) t;
	}
	mrl_wordpiece_config_init(&wc);
	if (mrl_gguf_get_bool(m->gguf, "tokenizer.ggml.normalizer.lowercase", &flag) == 1)
		wc.lowercase = flag;
	if (mrl_gguf_get_bool(m->gguf, "tokenizer.ggml.normalizer.strip_accents", &flag) == 1)
		wc.strip_accents = flag;
	tok = mrl_tokenizer_from_vocab((const char *const *) tokens, (int) n,
								   types_kv ? types : NULL, &wc, err, errlen);
done:
	for (i = 0; tokens && i < n; i++)
		free(tokens[i]);
	free(tokens);
	free(types);
	free(strs);
	return tok;
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

/*
 * Static models take the word pieces only: drop the [CLS]/[SEP] the
 * tokenizer adds (when the model says so) and, for model2vec, [UNK] ids.
 */
static void
filter_static_ids(const mrl_model *m, const mrl_tokenizer *tok, mrl_encoding *enc)
{
	int32_t		unk = mrl_tokenizer_unk_id(tok);
	int			first = 0,
				end = enc->n,
				i,
				n = 0;

	if (!m->add_special_tokens && mrl_tokenizer_num_special(tok) == 2 && enc->n >= 2)
	{
		first = 1;
		end = enc->n - 1;
	}
	for (i = first; i < end; i++)
		if (!(m->drop_unk && enc->ids[i] == unk))
			enc->ids[n++] = enc->ids[i];
	enc->n = n;
}

/* Token ids of one input line (prefix + text, or literal ids); 0 or -1. */
static int
encode_line(const cli_options *o, const mrl_model *m, const mrl_tokenizer *tok,
			int max_len, const char *line, size_t len, long lineno,
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
	n = mrl_tokenizer_encode(tok, text, plen + len, max_len, enc, err, sizeof(err));
	free(text);
	if (n < 0)
	{
		fprintf(stderr, "mrl_embed: line %ld: %s\n", lineno, err);
		return -1;
	}
	if (m->config.arch == MRL_ARCH_STATIC)
		filter_static_ids(m, tok, enc);
	return 0;
}

/* Embeds the lines collected in b and prints their vectors; 0 or -1. */
static int
flush_batch(mrl_bert_ctx *ctx, const cli_options *o, batch *b, float *out,
			int dim, long lineno)
{
	char		err[512];
	int			i;

	for (i = 0; i < b->n; i++)
	{
		b->ids[i] = b->enc[i].ids;
		b->lens[i] = b->enc[i].n;
	}
	if (mrl_bert_embed(ctx, (const int32_t *const *) b->ids, b->lens, b->n,
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
	mrl_load_options lo = {0};
	mrl_model  *model;
	mrl_tokenizer *tok = NULL;
	mrl_bert_ctx *ctx;
	batch		b;
	char		err[512] = "";
	char	   *line = NULL;
	size_t		linecap = 0;
	ssize_t		len;
	long		lineno = 0;
	float	   *out;
	int			dim,
				max_len,
				rc = 0,
				i;

	parse_args(argc, argv, &o);
	lo.cache_dir = o.cache_dir;
	if (!(model = mrl_model_load(o.model_path, &lo, err, sizeof(err))))
	{
		fprintf(stderr, "mrl_embed: %s\n", err);
		return 1;
	}
	if (!(ctx = mrl_bert_ctx_create(&model->config, &model->weights, err, sizeof(err))) ||
		(!o.ids_input && !(tok = load_tokenizer(model, err, sizeof(err)))))
	{
		fprintf(stderr, "mrl_embed: %s\n", err);
		return 1;
	}
	if ((dim = mrl_bert_out_dim(ctx, &o.embed)) < 0)
	{
		fprintf(stderr, "mrl_embed: --dims must be at most %d\n", model->config.n_embd);
		return 2;
	}
	max_len = model->config.n_ctx;	/* 0 (no limit) for static models */
	if (o.max_len && (max_len == 0 || o.max_len < max_len))
		max_len = o.max_len;
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
		rc = encode_line(&o, model, tok, max_len, line, len, lineno, &b.enc[b.n]);
		if (rc == 0 && ++b.n == o.batch)
			rc = flush_batch(ctx, &o, &b, out, dim, lineno);
	}
	if (rc == 0 && b.n > 0)
		rc = flush_batch(ctx, &o, &b, out, dim, lineno);

	for (i = 0; i < o.batch; i++)
		mrl_encoding_free(&b.enc[i]);
	free(b.enc);
	free(b.ids);
	free(b.lens);
	free(out);
	free(line);
	mrl_bert_ctx_free(ctx);
	mrl_tokenizer_free(tok);
	mrl_model_free(model);
	return rc ? 1 : 0;
}
