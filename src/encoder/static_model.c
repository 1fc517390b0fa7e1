/*
 * static_model.c: static models' forward pass, their matrix file and the
 * writer of their StaticEmbedding directory (static_model.h).
 */
#include "static_model.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "mapfile.h"
#include "safetensors.h"

#define MATRIX_NAME "embedding.weight"	/* StaticEmbedding's tensor */
#define M2V_MATRIX_NAME "embeddings"	/* model2vec's */
#define MAX_VOCAB (1 << 26)		/* limits of a matrix file read back */
#define MAX_DIM 65536

/* Adds the token rows of ids[0..n) to sum[dim]. */
static void
pool_add(const float *E, int dim, const int32_t *ids, int64_t n, float *sum)
{
	for (int64_t i = 0; i < n; i++)
	{
		const float *row = E + (size_t) ids[i] * dim;

		for (int k = 0; k < dim; k++)
			sum[k] += row[k];
	}
}

/* The mean of n rows from their sum, in place (zeros stay zeros). */
static void
pool_mean(float *sum, int dim, int64_t n)
{
	if (n > 0)
		for (int k = 0; k < dim; k++)
			sum[k] /= (float) n;
}

void
mrl_static_pool(const float *E, int dim, const int32_t *ids, int64_t n,
				float *out)
{
	memset(out, 0, sizeof(float) * dim);
	pool_add(E, dim, ids, n, out);
	pool_mean(out, dim, n);
}

int
mrl_static_embed_pieces(const float *E, int vocab, int dim, int normalize,
						int n_seq, mrl_pieces_fn next, void *arg,
						const mrl_embed_options *opts, float *out,
						char *err, size_t errlen)
{
	mrl_embed_options o;
	float	   *sum;
	int			out_dim,
				batch,
				rc;

	if (!E || !next || n_seq < 0 || (n_seq > 0 && !out))
		return MRL_FAIL(MRL_FWD_EINVAL, "static model: bad arguments");
	if ((rc = mrl_forward_options(opts, dim, &o, err, errlen)) != MRL_FWD_OK)
		return rc;
	if (o.layers != 0 || o.pooling == MRL_POOL_CLS)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"a static model has no layers and only mean pooling");
	out_dim = mrl_forward_out_dim(&o, dim);
	batch = o.batch_size ? o.batch_size : MRL_FWD_DEFAULT_BATCH;
	if (!(sum = malloc(sizeof(float) * dim)))
		return MRL_FAIL(MRL_FWD_ENOMEM, "static model: out of memory");
	for (int s = 0; rc == MRL_FWD_OK && s < n_seq; s++)
	{
		int64_t		count = 0;
		int			more = 1;

		memset(sum, 0, sizeof(float) * dim);
		for (int first = 1; rc == MRL_FWD_OK && more; first = 0)
		{
			const int32_t *ids = NULL;
			int			n = 0;

			/* the hook runs before every batch and between pieces */
			if ((!first || s % batch == 0) && o.interrupt && o.interrupt(o.interrupt_arg))
				rc = MRL_FAIL(MRL_FWD_EINTERRUPTED, "interrupted");
			else if ((more = next(arg, s, &ids, &n, err, errlen)) < 0)
				rc = MRL_FWD_EINVAL;
			else if ((rc = mrl_forward_check_ids(&ids, &n, 1, 0, INT_MAX, vocab,
												 err, errlen)) == MRL_FWD_OK)
			{
				pool_add(E, dim, ids, n, sum);
				count += n;
			}
		}
		pool_mean(sum, dim, count);
		if (rc == MRL_FWD_OK)
			mrl_forward_finish(&o, normalize, sum, dim, out_dim,
							   out + (size_t) s * out_dim);
	}
	free(sum);
	return rc;
}

/* The token sequences of mrl_static_embed, each in one piece. */
typedef struct id_sequences
{
	const int32_t *const *ids;
	const int  *lens;
} id_sequences;

/* mrl_pieces_fn over id_sequences. */
static int
whole_sequence(void *arg, int seq, const int32_t **ids, int *n,
			   char *err, size_t errlen)
{
	const id_sequences *s = arg;

	*ids = s->ids[seq];
	*n = s->lens[seq];
	return 0;
}

int
mrl_static_embed(const float *E, int vocab, int dim, int normalize,
				 const int32_t *const *ids, const int *lens, int n_seq,
				 const mrl_embed_options *opts, float *out,
				 char *err, size_t errlen)
{
	id_sequences seqs = {ids, lens};
	int			rc;

	if (n_seq > 0 && (!ids || !lens))
		return MRL_FAIL(MRL_FWD_EINVAL, "static model: bad arguments");
	/* every sequence is checked before any work is done */
	if ((rc = mrl_forward_check_ids(ids, lens, n_seq, 0, INT_MAX, vocab,
									err, errlen)) != MRL_FWD_OK)
		return rc;
	return mrl_static_embed_pieces(E, vocab, dim, normalize, n_seq, whole_sequence,
								   &seqs, opts, out, err, errlen);
}

/* Write len bytes to path, creating it; 0 or -1 with a message. */
static int
write_file(const char *path, const void *const *parts, const size_t *lens, int n,
		   char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "wb");

	if (f == NULL)
	{
		mrl_errf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (lens[i] > 0 && fwrite(parts[i], 1, lens[i], f) != lens[i])
		{
			fclose(f);
			mrl_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
			return -1;
		}
	if (fclose(f) != 0)
	{
		mrl_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Write one text file. */
static int
write_text(const char *path, const char *text, char *err, size_t errlen)
{
	const void *parts[1] = {text};
	size_t		lens[1] = {strlen(text)};

	return write_file(path, parts, lens, 1, err, errlen);
}

int
mrl_static_matrix_write(const char *path, const float *E, int vocab, int dim,
						char *err, size_t errlen)
{
	uint8_t		header[256];
	const void *parts[2] = {header, E};
	size_t		lens[2];

	lens[0] = mrl_st_header_f32(MATRIX_NAME, vocab, dim, header, sizeof(header));
	lens[1] = (size_t) vocab * dim * sizeof(float);
	if (lens[0] == 0 || vocab < 1 || dim < 1)
		return MRL_FAIL(-1, "cannot write a [%d][%d] matrix", vocab, dim);
	return write_file(path, parts, lens, 2, err, errlen);
}

float *
mrl_static_matrix_read(const char *path, int *vocab, int *dim,
					   char *err, size_t errlen)
{
	mrl_safetensors *st = mrl_st_open(path, err, errlen);
	const mrl_st_tensor *t;
	float	   *E = NULL;

	if (st == NULL)
		return NULL;
	if (!(t = mrl_st_find(st, MATRIX_NAME)))
		t = mrl_st_find(st, M2V_MATRIX_NAME);
	if (!t || strcmp(t->dtype, "F32") != 0 || t->n_dims != 2 ||
		t->shape[0] < 1 || t->shape[0] > MAX_VOCAB ||
		t->shape[1] < 1 || t->shape[1] > MAX_DIM)
		mrl_errf(err, errlen, "%s: not a safetensors file with an F32 [vocab][dim] "
				 "%s tensor", path, MATRIX_NAME);
	else if (!(E = malloc(t->nbytes)))
		mrl_errf(err, errlen, "out of memory reading %s", path);
	else
	{
		memcpy(E, t->data, t->nbytes);
		*vocab = (int) t->shape[0];
		*dim = (int) t->shape[1];
	}
	mrl_st_close(st);
	return E;
}

int
mrl_static_model_write(const char *dir, const float *E, int vocab, int dim,
					   const char *tokenizer_json_path, char *err, size_t errlen)
{
	char		path[4096];
	mrl_mapping tok;
	const void *parts[1];
	size_t		lens[1];
	int			rc;

	if (mkdir(dir, 0700) != 0)
	{
		mrl_errf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/0_StaticEmbedding", dir);
	if (mkdir(path, 0700) != 0)
	{
		mrl_errf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/modules.json", dir);
	if (write_text(path,
				   "[\n  {\n    \"idx\": 0,\n    \"name\": \"0\",\n"
				   "    \"path\": \"0_StaticEmbedding\",\n"
				   "    \"type\": \"sentence_transformers.models.StaticEmbedding\"\n  },\n"
				   "  {\n    \"idx\": 1,\n    \"name\": \"1\",\n"
				   "    \"path\": \"1_Normalize\",\n"
				   "    \"type\": \"sentence_transformers.models.Normalize\"\n  }\n]\n",
				   err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/config_sentence_transformers.json", dir);
	if (write_text(path,
				   "{\n  \"prompts\": {},\n  \"default_prompt_name\": null,\n"
				   "  \"similarity_fn_name\": \"cosine\"\n}\n", err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/0_StaticEmbedding/model.safetensors", dir);
	if (mrl_static_matrix_write(path, E, vocab, dim, err, errlen) != 0)
		return -1;

	if (mrl_map_file(tokenizer_json_path, &tok, err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/0_StaticEmbedding/tokenizer.json", dir);
	parts[0] = tok.base;
	lens[0] = tok.size;
	rc = write_file(path, parts, lens, 1, err, errlen);
	mrl_unmap(&tok);
	return rc;
}
