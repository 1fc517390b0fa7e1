/*
 * remote_api.c: the JSON of the embedding APIs mrl_embed can call: the
 * OpenAI-compatible POST /v1/embeddings (OpenAI, vLLM, llama.cpp's server,
 * Hugging Face TEI, Ollama's /v1, most hosted providers) and Ollama's own
 * POST /api/embed.
 *
 * Plain C on json-c (the library the tokenizer reader uses), no PostgreSQL
 * headers: remote.c turns the results into errors and vectors.  Every
 * response is checked before a value of it is used: one vector per text,
 * each index once, the expected length, finite elements.
 */
#include <json-c/json.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_api.h"

/* OpenAI's limits per request (its API reference, /v1/embeddings). */
#define OPENAI_MAX_INPUTS 2048
#define OPENAI_MAX_TOKENS 300000L
/* Ollama has no documented limit; its server embeds a batch in one pass. */
#define OLLAMA_BATCH 64

/* Response bytes allowed per float (JSON numbers take up to ~25) and per vector. */
#define RESPONSE_BYTES_PER_FLOAT 32
#define RESPONSE_BYTES_PER_VECTOR 256
#define RESPONSE_BYTES_FIXED 65536
#define RESPONSE_BYTES_MAX ((size_t) 1 << 30)

/* ---------- models and limits ---------- */

int
mrl_api_parse_spec(const char *spec, mrl_api *api, const char **model)
{
	if (strncmp(spec, "openai:", 7) == 0)
		*api = MRL_API_OPENAI;
	else if (strncmp(spec, "ollama:", 7) == 0)
		*api = MRL_API_OLLAMA;
	else
		return -1;
	*model = spec + 7;
	return **model ? 0 : -1;
}

const char *
mrl_api_name(mrl_api api)
{
	return api == MRL_API_OPENAI ? "openai" : "ollama";
}

const char *
mrl_api_path(mrl_api api)
{
	return api == MRL_API_OPENAI ? "/embeddings" : "/api/embed";
}

int
mrl_api_default_batch_size(mrl_api api)
{
	return api == MRL_API_OPENAI ? OPENAI_MAX_INPUTS : OLLAMA_BATCH;
}

long
mrl_api_default_max_batch_tokens(mrl_api api)
{
	return api == MRL_API_OPENAI ? OPENAI_MAX_TOKENS : 0;
}

/*
 * A byte-level BPE token (OpenAI's tokenizers, most others) covers at least
 * one byte, so a text's UTF-8 length bounds its token count.
 */
int
mrl_api_batch_end(const size_t *lens, int start, int n, int max_inputs, long max_tokens)
{
	int			end = start + 1;	/* a batch holds one text at least */
	double		tokens = (double) lens[start];

	while (end < n && end - start < max_inputs &&
		   (max_tokens == 0 || tokens + lens[end] <= (double) max_tokens))
		tokens += lens[end++];
	return end;
}

size_t
mrl_api_max_response(int n, int dims)
{
	double		bytes = RESPONSE_BYTES_FIXED +
		(double) n * (RESPONSE_BYTES_PER_VECTOR + (double) dims * RESPONSE_BYTES_PER_FLOAT);

	return bytes > RESPONSE_BYTES_MAX ? RESPONSE_BYTES_MAX : (size_t) bytes;
}

/* ---------- requests ---------- */

char *
mrl_api_request(mrl_api api, const char *model, const char *const *texts, const size_t *lens,
				int n, int dimensions, bool base64, size_t *len)
{
	json_object *req = json_object_new_object();
	json_object *input = json_object_new_array_ext(n);
	const char *json;
	char	   *body = NULL;

	if (req == NULL || input == NULL)
		goto done;
	json_object_object_add(req, "model", json_object_new_string(model));
	for (int i = 0; i < n; i++)
		if (json_object_array_add(input, json_object_new_string_len(texts[i], (int) lens[i])) != 0)
			goto done;
	json_object_object_add(req, "input", input);
	input = NULL;
	if (api == MRL_API_OPENAI)
		json_object_object_add(req, "encoding_format",
							   json_object_new_string(base64 ? "base64" : "float"));
	if (dimensions > 0)
		json_object_object_add(req, "dimensions", json_object_new_int(dimensions));
	json = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
	if (json != NULL && (body = malloc(*len + 1)) != NULL)
		memcpy(body, json, *len + 1);
done:
	json_object_put(input);
	json_object_put(req);
	return body;
}

/* ---------- responses ---------- */

/* The value of a base64 digit, or -1. */
static int
Base64Digit(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decode padded base64 into dst (room for len / 4 * 3 bytes): the number of
 * bytes, or -1 if s is not base64.
 */
static long
Base64Decode(const char *s, size_t len, unsigned char *dst)
{
	long		out = 0;

	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4)
	{
		int			d[4];
		int			pad = 0;

		for (int k = 0; k < 4; k++)
		{
			if (s[i + k] == '=' && i + 4 == len && k >= 2)
			{
				d[k] = 0;
				pad++;
				continue;
			}
			if (pad > 0 || (d[k] = Base64Digit(s[i + k])) < 0)
				return -1;
		}
		dst[out++] = (unsigned char) (d[0] << 2 | d[1] >> 4);
		if (pad < 2)
			dst[out++] = (unsigned char) ((d[1] & 15) << 4 | d[2] >> 2);
		if (pad < 1)
			dst[out++] = (unsigned char) ((d[2] & 3) << 6 | d[3]);
	}
	return out;
}

/*
 * A vector's elements as floats, in a malloc'd array: from a JSON array of
 * numbers, or from base64 of little-endian float32s (OpenAI's
 * encoding_format "base64").  The count in *count; NULL with err.
 */
static float *
VectorValues(json_object *v, int which, int *count, char *err, size_t errlen)
{
	float	   *x = NULL;

	if (json_object_is_type(v, json_type_string))
	{
		size_t		slen = (size_t) json_object_get_string_len(v);
		unsigned char *bytes = malloc(slen / 4 * 3 + 1);
		long		nbytes;

		if (bytes == NULL)
			return NULL;
		nbytes = Base64Decode(json_object_get_string(v), slen, bytes);
		if (nbytes < 0 || nbytes % 4 != 0)
			snprintf(err, errlen, "the vector at index %d is a string but not base64 of float32 values", which);
		else if ((x = malloc(nbytes + 1)) != NULL)
		{
			for (long i = 0; i < nbytes / 4; i++)
			{
				uint32_t	u = (uint32_t) bytes[4 * i] | (uint32_t) bytes[4 * i + 1] << 8 |
					(uint32_t) bytes[4 * i + 2] << 16 | (uint32_t) bytes[4 * i + 3] << 24;

				memcpy(&x[i], &u, sizeof(float));
			}
			*count = (int) (nbytes / 4);
		}
		free(bytes);
		return x;
	}
	if (!json_object_is_type(v, json_type_array))
	{
		snprintf(err, errlen, "the vector at index %d is neither an array of numbers nor a base64 string", which);
		return NULL;
	}
	*count = (int) json_object_array_length(v);
	if ((x = malloc(sizeof(float) * (*count + 1))) == NULL)
		return NULL;
	for (int i = 0; i < *count; i++)
	{
		json_object *e = json_object_array_get_idx(v, i);

		if (!json_object_is_type(e, json_type_double) && !json_object_is_type(e, json_type_int))
		{
			snprintf(err, errlen, "element %d of the vector at index %d is not a number", i, which);
			free(x);
			return NULL;
		}
		x[i] = (float) json_object_get_double(e);
	}
	return x;
}

/*
 * Check one vector of the response and write its first out_dims elements
 * to dst (re-normalised if cut): an MRL_API_ code.
 */
static int
StoreVector(json_object *v, int which, int expect_len, int out_dims, float *dst, int *got_len,
			char *err, size_t errlen)
{
	int			count = 0;
	float	   *x = VectorValues(v, which, &count, err, errlen);
	int			keep;

	if (x == NULL)
		return err[0] ? MRL_API_EINVALID : MRL_API_ENOMEM;
	if ((expect_len > 0 && count != expect_len) || count < 1 || (expect_len == 0 && count > out_dims))
	{
		snprintf(err, errlen, "the vector at index %d has %d dimensions, expected %d", which, count,
				 expect_len > 0 ? expect_len : out_dims);
		free(x);
		return MRL_API_EINVALID;
	}
	for (int i = 0; i < count; i++)
		if (!isfinite(x[i]))
		{
			snprintf(err, errlen, "element %d of the vector at index %d is not a finite float4", i, which);
			free(x);
			return MRL_API_ENONFINITE;
		}
	keep = expect_len > 0 ? out_dims : count;
	memcpy(dst, x, sizeof(float) * keep);
	if (keep < count)
	{
		/* a Matryoshka prefix taken here: unit length again, zero stays zero */
		double		norm = 0;

		for (int i = 0; i < keep; i++)
			norm += (double) dst[i] * dst[i];
		if (norm > 0)
			for (int i = 0; i < keep; i++)
				dst[i] = (float) (dst[i] / sqrt(norm));
	}
	*got_len = count;
	free(x);
	return MRL_API_OK;
}

/* The array of results, each item's position (from "index" if present) and vector. */
static int
ResponseItem(mrl_api api, json_object *items, int k, int n, int *pos, json_object **vec,
			 char *err, size_t errlen)
{
	json_object *item = json_object_array_get_idx(items, k);
	json_object *index;

	*pos = k;
	*vec = item;
	if (api == MRL_API_OLLAMA)
		return MRL_API_OK;
	if (!json_object_is_type(item, json_type_object) ||
		!json_object_object_get_ex(item, "embedding", vec))
	{
		snprintf(err, errlen, "item %d of \"data\" has no \"embedding\"", k);
		return MRL_API_EINVALID;
	}
	if (json_object_object_get_ex(item, "index", &index))
	{
		int64_t		i = json_object_get_int64(index);

		if (!json_object_is_type(index, json_type_int) || i < 0 || i >= n)
		{
			snprintf(err, errlen, "item %d of \"data\" has index %s, not one of 0 to %d", k,
					 json_object_to_json_string(index), n - 1);
			return MRL_API_EINVALID;
		}
		*pos = (int) i;
	}
	return MRL_API_OK;
}

/* The parsed JSON document, or NULL with err. */
static json_object *
ParseJson(const char *body, size_t len, char *err, size_t errlen)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *root;
	enum json_tokener_error e;

	if (tok == NULL)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, body, (int) len);
	e = json_tokener_get_error(tok);
	if (root == NULL)
		snprintf(err, errlen, "%s", e == json_tokener_continue ? "the JSON ends too early"
				 : json_tokener_error_desc(e));
	json_tokener_free(tok);
	return root;
}

int
mrl_api_parse(mrl_api api, const char *body, size_t len, int n, int expect_len, int out_dims,
			  float *out, int *got_len, char *err, size_t errlen)
{
	const char *field = api == MRL_API_OPENAI ? "data" : "embeddings";
	json_object *root;
	json_object *items;
	char	   *seen = NULL;
	int			rc = MRL_API_EINVALID;
	char		why[256] = "";

	err[0] = '\0';
	if ((root = ParseJson(body, len, why, sizeof(why))) == NULL)
	{
		snprintf(err, errlen, "the response is not valid JSON: %s", why);
		return why[0] ? MRL_API_EINVALID : MRL_API_ENOMEM;
	}
	if (!json_object_is_type(root, json_type_object) ||
		!json_object_object_get_ex(root, field, &items) ||
		!json_object_is_type(items, json_type_array))
		snprintf(err, errlen, "the response has no \"%s\" array", field);
	else if ((int) json_object_array_length(items) != n)
		snprintf(err, errlen, "the response holds %d vectors for %d texts",
				 (int) json_object_array_length(items), n);
	else if ((seen = calloc(n, 1)) == NULL)
		rc = MRL_API_ENOMEM;
	else
	{
		rc = MRL_API_OK;
		for (int k = 0; k < n && rc == MRL_API_OK; k++)
		{
			int			pos;
			json_object *vec;

			if ((rc = ResponseItem(api, items, k, n, &pos, &vec, err, errlen)) != MRL_API_OK)
				break;
			if (seen[pos]++)
			{
				snprintf(err, errlen, "index %d appears twice in \"data\"", pos);
				rc = MRL_API_EINVALID;
				break;
			}
			rc = StoreVector(vec, pos, expect_len, out_dims, out + (size_t) pos * out_dims,
							 got_len, err, errlen);
		}
	}
	free(seen);
	json_object_put(root);
	return rc;
}

/* ---------- error messages ---------- */

/*
 * The message of an error response: OpenAI's {"error": {"message": ...}},
 * Ollama's and TEI's {"error": "..."}, vLLM's {"message": ...}, FastAPI's
 * {"detail": "..."}; NULL if none of these.
 */
static const char *
ErrorField(json_object *root)
{
	json_object *e;
	json_object *m;

	if (root == NULL || !json_object_is_type(root, json_type_object))
		return NULL;
	if (json_object_object_get_ex(root, "error", &e))
	{
		if (json_object_is_type(e, json_type_string))
			return json_object_get_string(e);
		if (json_object_object_get_ex(e, "message", &m) && json_object_is_type(m, json_type_string))
			return json_object_get_string(m);
	}
	if ((json_object_object_get_ex(root, "message", &m) || json_object_object_get_ex(root, "detail", &m)) &&
		json_object_is_type(m, json_type_string))
		return json_object_get_string(m);
	return NULL;
}

void
mrl_api_error_text(const char *body, size_t len, const char *secret, char *buf, size_t buflen)
{
	char		why[64];
	json_object *root = ParseJson(body, len, why, sizeof(why));
	const char *msg = ErrorField(root);
	size_t		mlen = msg ? strlen(msg) : len;
	size_t		slen = secret ? strlen(secret) : 0;
	size_t		o = 0;

	if (msg == NULL)
		msg = body;
	/* copy on one line, the key (wherever it is) replaced before any cut */
	for (size_t i = 0; i < mlen && o + 1 < buflen;)
	{
		if (slen > 0 && i + slen <= mlen && memcmp(msg + i, secret, slen) == 0)
		{
			for (const char *r = "[api_key]"; *r && o + 1 < buflen; r++)
				buf[o++] = *r;
			i += slen;
			continue;
		}
		buf[o++] = (unsigned char) msg[i] < 0x20 || msg[i] == 0x7f ? ' ' : msg[i];
		i++;
	}
	buf[o] = '\0';
	json_object_put(root);
}
