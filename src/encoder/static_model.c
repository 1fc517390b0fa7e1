/*
 * static_model.c: static models' forward pass and the writer of their
 * StaticEmbedding directory (static_model.h).
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

void
mrl_static_pool(const float *E, int dim, const int32_t *ids, int64_t n,
				float *out)
{
	memset(out, 0, sizeof(float) * dim);
	for (int64_t i = 0; i < n; i++)
	{
		const float *row = E + (size_t) ids[i] * dim;

		for (int k = 0; k < dim; k++)
			out[k] += row[k];
	}
	if (n > 0)
		for (int k = 0; k < dim; k++)
			out[k] /= (float) n;
}

int
mrl_static_embed(const float *E, int vocab, int dim, int normalize,
				 const int32_t *const *ids, const int *lens, int n_seq,
				 const mrl_embed_options *opts, float *out,
				 char *err, size_t errlen)
{
	mrl_embed_options o;
	float	   *pooled;
	int			out_dim,
				batch,
				rc;

	if (!E || n_seq < 0 || (n_seq > 0 && (!ids || !lens || !out)))
		return MRL_FAIL(MRL_FWD_EINVAL, "static model: bad arguments");
	if (opts)
		o = *opts;
	else
		mrl_embed_options_init(&o);
	if (o.layers != 0 || o.pooling == MRL_POOL_CLS)
		return MRL_FAIL(MRL_FWD_EINVAL,
						"a static model has no layers and only mean pooling");
	if ((rc = mrl_forward_check_options(&o, dim, err, errlen)) != MRL_FWD_OK ||
		(rc = mrl_forward_check_ids(ids, lens, n_seq, 0, INT_MAX, vocab,
									err, errlen)) != MRL_FWD_OK)
		return rc;
	out_dim = mrl_forward_out_dim(&o, dim);
	batch = o.batch_size ? o.batch_size : MRL_FWD_DEFAULT_BATCH;
	if (!(pooled = malloc(sizeof(float) * dim)))
		return MRL_FAIL(MRL_FWD_ENOMEM, "static model: out of memory");
	for (int s = 0; s < n_seq; s++)
	{
		if (s % batch == 0 && o.interrupt && o.interrupt(o.interrupt_arg))
		{
			free(pooled);
			return MRL_FAIL(MRL_FWD_EINTERRUPTED, "interrupted");
		}
		mrl_static_pool(E, dim, ids[s], lens[s], pooled);
		mrl_forward_finish(&o, normalize, pooled, dim, out_dim,
						   out + (size_t) s * out_dim);
	}
	free(pooled);
	return MRL_FWD_OK;
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

/* embedding.weight as a one-tensor safetensors file, data 8-byte aligned. */
static int
write_safetensors(const char *path, const float *E, int vocab, int dim,
				  char *err, size_t errlen)
{
	char		header[256];
	size_t		nbytes = (size_t) vocab * dim * sizeof(float);
	int			hlen;
	uint64_t	len64;
	const void *parts[3];
	size_t		lens[3];

	hlen = snprintf(header, sizeof(header),
					"{\"__metadata__\":{\"format\":\"pt\"},\"embedding.weight\":"
					"{\"dtype\":\"F32\",\"shape\":[%d,%d],\"data_offsets\":[0,%zu]}}",
					vocab, dim, nbytes);
	while (hlen % 8 != 0)
		header[hlen++] = ' ';
	len64 = (uint64_t) hlen;	/* the format is little-endian, as x86-64 */
	parts[0] = &len64;
	lens[0] = 8;
	parts[1] = header;
	lens[1] = hlen;
	parts[2] = E;
	lens[2] = nbytes;
	return write_file(path, parts, lens, 3, err, errlen);
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
				   "    \"type\": \"sentence_transformers.models.StaticEmbedding\"\n  }\n]\n",
				   err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/config_sentence_transformers.json", dir);
	if (write_text(path,
				   "{\n  \"prompts\": {},\n  \"default_prompt_name\": null,\n"
				   "  \"similarity_fn_name\": \"cosine\"\n}\n", err, errlen) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/0_StaticEmbedding/model.safetensors", dir);
	if (write_safetensors(path, E, vocab, dim, err, errlen) != 0)
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
