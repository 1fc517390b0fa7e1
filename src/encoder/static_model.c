/*
 * static_model.c: write a StaticEmbedding model directory (static_model.h).
 */
#include "static_model.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "errors.h"
#include "mapfile.h"

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
