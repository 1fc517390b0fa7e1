/*
 * remote_api.h: the two embedding APIs' JSON: batches, request bodies,
 * responses, error messages (remote_api.c; plain C, no PostgreSQL headers).
 */
#ifndef MRL_REMOTE_API_H
#define MRL_REMOTE_API_H

#include <stdbool.h>
#include <stddef.h>

typedef enum mrl_api
{
	MRL_API_OPENAI,				/* POST {url}/embeddings, OpenAI and compatible servers */
	MRL_API_OLLAMA				/* POST {url}/api/embed */
} mrl_api;

/* mrl_api_parse's results */
#define MRL_API_OK 0
#define MRL_API_EINVALID (-1)	/* not the response asked for; err says how */
#define MRL_API_ENONFINITE (-2) /* a NaN or an infinity */
#define MRL_API_ENOMEM (-3)

/* "openai:<model>" or "ollama:<model>": 0 with the API and the model name, or -1. */
extern int	mrl_api_parse_spec(const char *spec, mrl_api *api, const char **model);
extern const char *mrl_api_name(mrl_api api);
extern const char *mrl_api_path(mrl_api api);

/* The API's own limits per request: inputs, and tokens (0: none). */
extern int	mrl_api_default_batch_size(mrl_api api);
extern long mrl_api_default_max_batch_tokens(mrl_api api);

/*
 * The end of the batch that starts at text `start` of n: at most max_inputs
 * texts and, unless max_tokens is 0, at most max_tokens tokens, counted as
 * UTF-8 bytes (never fewer than the API's tokens); a text over the limit
 * goes alone.
 */
extern int	mrl_api_batch_end(const size_t *lens, int start, int n, int max_inputs, long max_tokens);

/*
 * The JSON body of a request for n texts (UTF-8), malloc'd, its length in
 * *len; dimensions > 0 asks the server for that many; base64 asks an
 * OpenAI-compatible server for base64 floats.  NULL when out of memory.
 */
extern char *mrl_api_request(mrl_api api, const char *model, const char *const *texts,
							 const size_t *lens, int n, int dimensions, bool base64, size_t *len);

/* The most bytes a valid response for n vectors of dims floats can take. */
extern size_t mrl_api_max_response(int n, int dims);

/*
 * Read a response to a request of n texts into out, in input order (by the
 * "index" fields where the API has them).  Each vector must have expect_len
 * elements, all finite; out receives its first out_dims, re-normalised to
 * unit length when out_dims < expect_len.  With expect_len 0 (one text
 * only), any length up to out_dims is taken as it is and reported in
 * *got_len.  MRL_API_OK, or an error code with the reason in err.
 */
extern int	mrl_api_parse(mrl_api api, const char *body, size_t len, int n, int expect_len,
						  int out_dims, float *out, int *got_len, char *err, size_t errlen);

/*
 * The API's own message in an error response (or the start of the body),
 * on one line of at most buflen - 1 bytes, with every occurrence of secret
 * (if not NULL) replaced by "[api_key]".
 */
extern void mrl_api_error_text(const char *body, size_t len, const char *secret,
							   char *buf, size_t buflen);

#endif							/* MRL_REMOTE_API_H */
