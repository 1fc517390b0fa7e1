/*
 * remote_http.h: POST requests to an embedding API, several in flight,
 * retried with backoff (remote_http.c; plain C, no PostgreSQL headers).
 */
#ifndef MRL_REMOTE_HTTP_H
#define MRL_REMOTE_HTTP_H

#include <stddef.h>

/* A Retry-After longer than this is not waited for: the request fails. */
#define MRL_HTTP_MAX_RETRY_AFTER_MS 60000

/* Where and how requests go; the strings are copied. */
typedef struct mrl_http_options
{
	const char *url;			/* the request URL, http or https */
	const char *api_key;		/* NULL: none */
	const char *key_header;		/* the header line's start before the key:
								 * NULL for "Authorization: Bearer ", or
								 * "api-key: " (Azure OpenAI) */
	const char *proxy;			/* NULL or "": none (environment proxies are ignored) */
	long		timeout_ms;		/* one attempt, connection included */
	int			max_retries;	/* after 429, 5xx or a lost connection */
} mrl_http_options;

/* How a request ended, once no retry is left to make. */
typedef enum mrl_http_outcome
{
	MRL_HTTP_ANSWERED,			/* an HTTP status, any: see status */
	MRL_HTTP_NO_CONNECTION,		/* could not resolve, connect, or set up TLS */
	MRL_HTTP_LOST,				/* the connection failed during the exchange */
	MRL_HTTP_TIMED_OUT,			/* timeout_ms passed */
	MRL_HTTP_TOO_LARGE			/* the response outgrew its limit */
} mrl_http_outcome;

typedef struct mrl_http_result
{
	int			id;				/* as given to mrl_http_submit */
	mrl_http_outcome outcome;
	long		status;			/* HTTP status when answered */
	int			attempts;
	long		retry_after_ms; /* the last Retry-After asked for, or -1 */
	const char *body;			/* the response, NUL-terminated; owned by the engine */
	size_t		body_len;
	const char *reason;			/* libcurl's words when not answered */
} mrl_http_result;

typedef struct mrl_http_engine mrl_http_engine;

/* An engine for one batch of requests; NULL with the reason in err. */
extern mrl_http_engine *mrl_http_engine_new(const mrl_http_options *opts, char *err, size_t errlen);

/*
 * Queue a request; the engine takes body (malloc'd) in every case.  A
 * response longer than max_response bytes ends it as MRL_HTTP_TOO_LARGE.
 * 0, or -1 when out of memory.
 */
extern int	mrl_http_submit(mrl_http_engine *e, int id, char *body, size_t body_len,
							size_t max_response);

/* Requests submitted and not yet returned by mrl_http_poll. */
extern int	mrl_http_unfinished(const mrl_http_engine *e);

/*
 * Drive the transfers for at most about timeout_ms.  1: a request has
 * finished, described in *res until the next call; 0: none yet; -1: the
 * engine failed (reason in err).
 */
extern int	mrl_http_poll(mrl_http_engine *e, int timeout_ms, mrl_http_result *res,
						  char *err, size_t errlen);

/* Stop every transfer and free the engine (NULL is allowed). */
extern void mrl_http_engine_free(mrl_http_engine *e);

#endif							/* MRL_REMOTE_HTTP_H */
