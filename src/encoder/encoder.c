/*
 * encoder.c: text in, embeddings out (see encoder.h): the glue between the
 * model loader, the tokenizer and the forward pass of the model's
 * architecture (the transformer, bert.c, or a static model's mean,
 * static_model.c), chosen here and nowhere else.
 */
#include "encoder.h"
#include "blas.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "static_model.h"

struct mrl_encoder
{
	mrl_model  *model;
	mrl_tokenizer *tok;
	mrl_bert_ctx *bert;			/* the transformer; NULL for static models */
};

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
	if (!tokens_kv || tokens_kv->arr_count == 0 || tokens_kv->arr_count > INT_MAX)
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

mrl_encoder *
mrl_encoder_open(const char *path, const char *cache_dir, char *err, size_t errlen)
{
	mrl_load_options lo = {cache_dir, NULL, 0};

	return mrl_encoder_open_with(path, &lo, err, errlen);
}

mrl_encoder *
mrl_encoder_open_with(const char *path, const mrl_load_options *lo, char *err, size_t errlen)
{
	const char *blas_error = mrl_blas_load();
	mrl_encoder *enc;

	if (blas_error)
	{
		snprintf(err, errlen, "%s", blas_error);
		return NULL;
	}
	if ((enc = calloc(1, sizeof(mrl_encoder))) == NULL)
	{
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!(enc->model = mrl_model_load(path, lo, err, errlen)) ||
		!(enc->tok = load_tokenizer(enc->model, err, errlen)) ||
		(enc->model->config.arch != MRL_ARCH_STATIC &&
		 !(enc->bert = mrl_bert_ctx_create(&enc->model->config, &enc->model->weights,
										   err, errlen))))
	{
		mrl_encoder_free(enc);
		return NULL;
	}
	if (mrl_tokenizer_vocab_size(enc->tok) > enc->model->config.n_vocab)
	{
		snprintf(err, errlen, "the tokenizer has %d tokens but the model has only %d embedding rows",
				 mrl_tokenizer_vocab_size(enc->tok), enc->model->config.n_vocab);
		mrl_encoder_free(enc);
		return NULL;
	}
	return enc;
}

void
mrl_encoder_free(mrl_encoder *enc)
{
	if (enc == NULL)
		return;
	mrl_bert_ctx_free(enc->bert);
	mrl_tokenizer_free(enc->tok);
	mrl_model_free(enc->model);
	free(enc);
}

void
mrl_encoder_get_info(const mrl_encoder *enc, mrl_encoder_info *info)
{
	const mrl_bert_config *c = &enc->model->config;

	info->arch = mrl_arch_name(c->arch);
	info->dims = c->n_embd;
	info->vocab = mrl_tokenizer_vocab_size(enc->tok);
	info->layers = c->n_layer;	/* 0 for static models */
	info->max_tokens = c->n_ctx;
}

const float *
mrl_encoder_static_matrix(const mrl_encoder *enc, int *vocab, int *dim)
{
	if (enc->model->config.arch != MRL_ARCH_STATIC)
		return NULL;
	*vocab = enc->model->config.n_vocab;
	*dim = enc->model->config.n_embd;
	return enc->model->weights.tok_embd;
}

const char *
mrl_encoder_tokenizer_path(const mrl_encoder *enc)
{
	return enc->model->tok_source == MRL_TOK_JSON ? enc->model->tokenizer_path : NULL;
}

int
mrl_encoder_out_dim(const mrl_encoder *enc, const mrl_embed_options *opts,
					char *err, size_t errlen)
{
	const mrl_bert_config *c = &enc->model->config;
	int			dim;

	if (opts->layers > 0 && c->arch == MRL_ARCH_STATIC)
	{
		snprintf(err, errlen, "a static model has no layers to choose from");
		return -1;
	}
	if (opts->layers < 0 || opts->layers > c->n_layer)
	{
		snprintf(err, errlen, "layers must be between 1 and the model's %d, not %d",
				 c->n_layer, opts->layers);
		return -1;
	}
	dim = mrl_forward_out_dim(opts, c->n_embd);
	if (dim < 0)
		snprintf(err, errlen, "dims must be between 1 and the model's %d, not %d",
				 c->n_embd, opts->dims);
	return dim;
}

/*
 * Static models take the word pieces only: of ids[first..end), keep all
 * but, for model2vec, [UNK] ids, moved to the front; returns their count.
 */
static int
keep_static_ids(const mrl_encoder *enc, int32_t *ids, int first, int end)
{
	int32_t		unk = mrl_tokenizer_unk_id(enc->tok);
	int			n = 0;

	for (int i = first; i < end; i++)
		if (!(enc->model->drop_unk && ids[i] == unk))
			ids[n++] = ids[i];
	return n;
}

/* A static model's ids of an encoded text: the special tokens dropped. */
static void
filter_static_ids(const mrl_encoder *enc, mrl_encoding *e)
{
	int			before,
				after;

	mrl_tokenizer_specials(enc->tok, &before, &after);
	e->n = keep_static_ids(enc, e->ids, before, e->n - after);
}

int
mrl_encoder_tokenize(const mrl_encoder *enc, const char *text, size_t len,
					 int max_len, mrl_encoding *out, char *err, size_t errlen)
{
	int			window = enc->model->config.n_ctx;	/* 0: no limit (static) */

	if (max_len <= 0 || (window > 0 && max_len > window))
		max_len = window;
	if (mrl_tokenizer_encode(enc->tok, text, len, max_len, out, err, errlen) < 0)
		return -1;
	if (enc->model->config.arch == MRL_ARCH_STATIC)
		filter_static_ids(enc, out);
	return out->n;
}

int
mrl_encoder_embed_ids(mrl_encoder *enc, const int32_t *const *ids, const int *lens,
					  int n, const mrl_embed_options *opts, float *out,
					  char *err, size_t errlen)
{
	const mrl_bert_config *c = &enc->model->config;

	if (enc->bert)
		return mrl_bert_embed(enc->bert, ids, lens, n, opts, out, err, errlen);
	return mrl_static_embed(enc->model->weights.tok_embd, c->n_vocab, c->n_embd,
							c->normalize, ids, lens, n, opts, out, err, errlen);
}

/* A static model's texts, read a chunk at a time (an mrl_pieces_fn source). */
typedef struct static_texts
{
	const mrl_encoder *enc;
	const char *const *texts;
	const size_t *lens;
	int			seq;			/* the text being read */
	size_t		pos;			/* the byte it has been read to */
	mrl_encoding pieces;		/* the last pieces given */
} static_texts;

/*
 * The next pieces of text seq: its next chunk's, or, when the tokenizer
 * truncates (its tokens are few), all of them at once.
 */
static int
next_static_pieces(void *arg, int seq, const int32_t **ids, int *n,
				   char *err, size_t errlen)
{
	static_texts *st = arg;
	const char *text = st->texts[seq];
	size_t		len = st->lens[seq];
	int			more = 0;

	if (seq != st->seq)
	{
		st->seq = seq;
		st->pos = 0;
	}
	if (mrl_tokenizer_max_length(st->enc->tok) > 0)
	{
		if (mrl_encoder_tokenize(st->enc, text, len, 0, &st->pieces, err, errlen) < 0)
			return -1;
	}
	else
	{
		if (mrl_tokenizer_encode_chunk(st->enc->tok, text, len, &st->pos, &st->pieces,
									   err, errlen) < 0)
			return -1;
		st->pieces.n = keep_static_ids(st->enc, st->pieces.ids, 0, st->pieces.n);
		more = st->pos < len;
	}
	*ids = st->pieces.ids;
	*n = st->pieces.n;
	return more;
}

/* Static models: each text streamed through the tokenizer into its mean. */
static int
embed_static_texts(mrl_encoder *enc, const char *const *texts, const size_t *lens,
				   int n, const mrl_embed_options *opts, float *out,
				   char *err, size_t errlen)
{
	const mrl_bert_config *c = &enc->model->config;
	static_texts st = {enc, texts, lens, -1, 0, {0}};
	int			rc;

	rc = mrl_static_embed_pieces(enc->model->weights.tok_embd, c->n_vocab, c->n_embd,
								 c->normalize, n, next_static_pieces, &st, opts, out,
								 err, errlen);
	mrl_encoding_free(&st.pieces);
	return rc;
}

int
mrl_encoder_embed(mrl_encoder *enc, const char *const *texts, const size_t *lens,
				  int n, const mrl_embed_options *opts, float *out,
				  char *err, size_t errlen)
{
	mrl_encoding *encs;
	const int32_t **ids;
	int		   *tlens;
	int			rc = MRL_FWD_OK;

	if (!enc->bert)
		return embed_static_texts(enc, texts, lens, n, opts, out, err, errlen);
	encs = calloc(n > 0 ? n : 1, sizeof(mrl_encoding));
	ids = calloc(n > 0 ? n : 1, sizeof(int32_t *));
	tlens = calloc(n > 0 ? n : 1, sizeof(int));
	if (!encs || !ids || !tlens)
	{
		snprintf(err, errlen, "out of memory");
		rc = MRL_FWD_ENOMEM;
	}
	for (int i = 0; rc == MRL_FWD_OK && i < n; i++)
	{
		if (mrl_encoder_tokenize(enc, texts[i], lens[i], 0, &encs[i], err, errlen) < 0)
			rc = MRL_FWD_EINVAL;
		ids[i] = encs[i].ids;
		tlens[i] = encs[i].n;
	}
	if (rc == MRL_FWD_OK && n > 0)
		rc = mrl_bert_embed(enc->bert, ids, tlens, n, opts, out, err, errlen);

	for (int i = 0; encs && i < n; i++)
		mrl_encoding_free(&encs[i]);
	free(encs);
	free(ids);
	free(tlens);
	return rc;
}
