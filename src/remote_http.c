/*
 * remote_http.c: POST requests to an embedding API through libcurl's multi
 * interface: several in flight, retried with backoff, bounded in time and
 * size.
 *
 * Plain C with no PostgreSQL headers, as the encoder core is.  remote.c
 * drives an engine in short steps (mrl_http_poll) and checks for interrupts
 * between them, so that a cancel or statement_timeout stops a request at
 * once; it frees the engine, and with it every transfer, on the way out of
 * an error.
 *
 * libcurl is opened at run time, by the first remote request, as OpenBLAS
 * is (src/encoder/blas.h): mrl.so is loaded by every backend that touches
 * an mvector, and linking libcurl would map it, with the HTTP/2, SSH, RTMP
 * and GnuTLS libraries behind it, into all of them.
 *
 * What a request may do is fixed here: HTTP or HTTPS only, to the one URL,
 * never following a redirect (a key must not travel to another host), never
 * through a proxy from the server's environment, no .netrc, no cookies.
 */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "remote_http.h"

#define CURL_LIBRARY "libcurl.so.4"
#define CONNECT_TIMEOUT_MS 30000	/* at most; never more than the request's */
#define BACKOFF_FIRST_MS 500	/* then doubling, with jitter */
#define BACKOFF_MAX_MS 20000
#define USER_AGENT "mrl (PostgreSQL extension)"

/* ---------- libcurl, bound at run time ---------- */

/* The libcurl entry points used here. */
typedef struct CurlFns
{
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_multi_init) *multi_init;
	__typeof__(curl_multi_add_handle) *multi_add_handle;
	__typeof__(curl_multi_remove_handle) *multi_remove_handle;
	__typeof__(curl_multi_perform) *multi_perform;
	__typeof__(curl_multi_poll) *multi_poll;
	__typeof__(curl_multi_info_read) *multi_info_read;
	__typeof__(curl_multi_strerror) *multi_strerror;
	__typeof__(curl_multi_cleanup) *multi_cleanup;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_getdate) *getdate;
} CurlFns;

static CurlFns curl;
static bool curl_tried = false;
static char curl_error[256];	/* why libcurl could not be loaded */

/*
 * A multi handle kept between engines, for its open connections and DNS
 * cache: a statement's next request reuses the connection of the last one.
 */
static CURLM *idle_multi = NULL;

/* dlsym, or NULL with the reason in curl_error (unless it has one). */
static void *
CurlSymbol(void *lib, const char *name)
{
	void	   *p = dlsym(lib, name);

	if (p == NULL && curl_error[0] == '\0')
		snprintf(curl_error, sizeof(curl_error), "%s has no symbol %s", CURL_LIBRARY, name);
	return p;
}

/* Open libcurl once per process: NULL, or why it cannot be used. */
static const char *
LoadCurl(void)
{
	void	   *lib;

	if (curl_tried)
		return curl_error[0] ? curl_error : NULL;
	curl_tried = true;
	if ((lib = dlopen(CURL_LIBRARY, RTLD_NOW | RTLD_LOCAL)) == NULL)
	{
		snprintf(curl_error, sizeof(curl_error), "%s", dlerror());
		return curl_error;
	}
	curl.global_init = CurlSymbol(lib, "curl_global_init");
	curl.easy_init = CurlSymbol(lib, "curl_easy_init");
	curl.easy_setopt = CurlSymbol(lib, "curl_easy_setopt");
	curl.easy_getinfo = CurlSymbol(lib, "curl_easy_getinfo");
	curl.easy_cleanup = CurlSymbol(lib, "curl_easy_cleanup");
	curl.easy_strerror = CurlSymbol(lib, "curl_easy_strerror");
	curl.multi_init = CurlSymbol(lib, "curl_multi_init");
	curl.multi_add_handle = CurlSymbol(lib, "curl_multi_add_handle");
	curl.multi_remove_handle = CurlSymbol(lib, "curl_multi_remove_handle");
	curl.multi_perform = CurlSymbol(lib, "curl_multi_perform");
	curl.multi_poll = CurlSymbol(lib, "curl_multi_poll");
	curl.multi_info_read = CurlSymbol(lib, "curl_multi_info_read");
	curl.multi_strerror = CurlSymbol(lib, "curl_multi_strerror");
	curl.multi_cleanup = CurlSymbol(lib, "curl_multi_cleanup");
	curl.slist_append = CurlSymbol(lib, "curl_slist_append");
	curl.slist_free_all = CurlSymbol(lib, "curl_slist_free_all");
	curl.getdate = CurlSymbol(lib, "curl_getdate");
	if (curl_error[0] == '\0' && curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		snprintf(curl_error, sizeof(curl_error), "curl_global_init failed");
	if (curl_error[0] != '\0')
	{
		dlclose(lib);
		return curl_error;
	}
	return NULL;
}

/* ---------- requests ---------- */

typedef enum RequestState
{
	REQ_QUEUED,					/* waiting for its turn or its retry time */
	REQ_RUNNING,
	REQ_DONE
} RequestState;

/* One request and its latest attempt. */
typedef struct Request
{
	int			id;
	RequestState state;
	char	   *body;
	size_t		body_len;
	size_t		max_response;
	CURL	   *easy;			/* while running */
	double		ready_at;		/* monotonic ms: a queued request's start */
	int			attempts;
	char	   *resp;			/* the response body, NUL-terminated */
	size_t		resp_len;
	size_t		resp_cap;
	bool		too_large;
	bool		out_of_memory;
	long		retry_after_ms; /* from Retry-After-Ms, or -1 */
	long		retry_after_s_ms;	/* from Retry-After, or -1 */
	mrl_http_outcome outcome;
	long		status;
	char		errbuf[CURL_ERROR_SIZE];
} Request;

struct mrl_http_engine
{
	CURLM	   *multi;
	struct curl_slist *headers;
	char	   *url;
	char	   *proxy;
	long		timeout_ms;
	int			max_retries;
	Request   **reqs;			/* submitted, not yet returned */
	int			nreqs;
	int			capacity;
	Request    *returned;		/* the last result, freed by the next poll */
};

/* Monotonic milliseconds. */
static double
NowMs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
FreeRequest(Request *r)
{
	if (r == NULL)
		return;
	free(r->body);
	free(r->resp);
	free(r);
}

/* Response bytes as they arrive, up to the request's limit. */
static size_t
ReceiveBody(char *data, size_t size, size_t nmemb, void *arg)
{
	Request    *r = arg;
	size_t		len = size * nmemb;

	if (len > r->max_response - r->resp_len)
	{
		r->too_large = true;
		return 0;				/* ends the transfer */
	}
	if (r->resp_len + len + 1 > r->resp_cap)
	{
		size_t		cap = r->resp_cap ? r->resp_cap : 16384;
		char	   *grown;

		while (cap < r->resp_len + len + 1)
			cap *= 2;
		if (cap > r->max_response + 1)
			cap = r->max_response + 1;
		if ((grown = realloc(r->resp, cap)) == NULL)
		{
			r->out_of_memory = true;
			return 0;
		}
		r->resp = grown;
		r->resp_cap = cap;
	}
	memcpy(r->resp + r->resp_len, data, len);
	r->resp_len += len;
	r->resp[r->resp_len] = '\0';
	return len;
}

/* A header line's value if its name is `name`, else NULL (value not terminated). */
static const char *
HeaderValue(const char *line, size_t len, const char *name, size_t *vlen)
{
	size_t		n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	line += n + 1;
	len -= n + 1;
	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	*vlen = len;
	return line;
}

/*
 * Retry-After in milliseconds: delay-seconds or an HTTP date (RFC 9110),
 * or with ms a plain number of milliseconds (Retry-After-Ms, as OpenAI's
 * servers send); -1 when unreadable.
 */
static long
RetryAfterMs(const char *value, size_t len, bool ms)
{
	char		buf[64];
	char	   *end;
	double		v;

	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, value, len);
	buf[len] = '\0';
	v = strtod(buf, &end);
	if (end != buf && *end == '\0')
	{
		if (v < 0)
			return -1;
		v = ms ? v : v * 1000;
		return v > 1e9 ? 1000000000L : (long) v;
	}
	if (!ms)
	{
		time_t		when = curl.getdate(buf, NULL);

		if (when != -1)
			return when <= time(NULL) ? 0 : (long) (when - time(NULL)) * 1000;
	}
	return -1;
}

/* Header lines as they arrive: the status line and Retry-After. */
static size_t
ReceiveHeader(char *data, size_t size, size_t nmemb, void *arg)
{
	Request    *r = arg;
	size_t		len = size * nmemb;
	size_t		vlen;
	const char *v;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0)
		r->retry_after_ms = r->retry_after_s_ms = -1;	/* a new response */
	else if ((v = HeaderValue(data, len, "retry-after-ms", &vlen)) != NULL)
		r->retry_after_ms = RetryAfterMs(v, vlen, true);
	else if ((v = HeaderValue(data, len, "retry-after", &vlen)) != NULL)
		r->retry_after_s_ms = RetryAfterMs(v, vlen, false);
	return len;
}

/* Start a request's next attempt: 0, or -1 (out of memory in libcurl). */
static int
StartAttempt(mrl_http_engine *e, Request *r)
{
	CURL	   *h = curl.easy_init();

	if (h == NULL)
		return -1;
	r->resp_len = 0;
	r->too_large = false;
	r->retry_after_ms = r->retry_after_s_ms = -1;
	r->errbuf[0] = '\0';
	curl.easy_setopt(h, CURLOPT_URL, e->url);
	curl.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl.easy_setopt(h, CURLOPT_PROXY, e->proxy);
	curl.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);	/* PostgreSQL owns SIGALRM */
	curl.easy_setopt(h, CURLOPT_HTTPHEADER, e->headers);
	curl.easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	curl.easy_setopt(h, CURLOPT_POSTFIELDS, r->body);
	curl.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) r->body_len);
	curl.easy_setopt(h, CURLOPT_TIMEOUT_MS, e->timeout_ms);
	curl.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
					 e->timeout_ms < CONNECT_TIMEOUT_MS ? e->timeout_ms : (long) CONNECT_TIMEOUT_MS);
	curl.easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");	/* gzip, br, zstd */
	curl.easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) r->max_response);
	curl.easy_setopt(h, CURLOPT_WRITEFUNCTION, ReceiveBody);
	curl.easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl.easy_setopt(h, CURLOPT_HEADERFUNCTION, ReceiveHeader);
	curl.easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl.easy_setopt(h, CURLOPT_ERRORBUFFER, r->errbuf);
	curl.easy_setopt(h, CURLOPT_PRIVATE, r);
	if (curl.multi_add_handle(e->multi, h) != CURLM_OK)
	{
		curl.easy_cleanup(h);
		return -1;
	}
	r->easy = h;
	r->state = REQ_RUNNING;
	r->attempts++;
	return 0;
}

/* Milliseconds to wait before retry n (1, 2, ...): doubling, with jitter. */
static long
BackoffMs(int n)
{
	double		ms = BACKOFF_FIRST_MS;

	while (--n > 0 && ms < BACKOFF_MAX_MS)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	return (long) (ms * (0.75 + 0.5 * (random() / (double) RAND_MAX)));
}

/*
 * How an attempt ended, and whether it may be tried again: 429 and 5xx,
 * refused connections and connections lost mid-way (a server restarting,
 * a keep-alive connection closed) are transient; a timeout is not retried,
 * as its time is the user's budget.
 */
static mrl_http_outcome
Classify(Request *r, CURLcode rc, bool *retryable)
{
	*retryable = false;
	if (rc == CURLE_OK)
	{
		*retryable = r->status == 429 || r->status >= 500;
		return MRL_HTTP_ANSWERED;
	}
	if (r->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		return MRL_HTTP_TOO_LARGE;
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return MRL_HTTP_TIMED_OUT;
	switch (rc)
	{
		case CURLE_COULDNT_CONNECT:
			*retryable = true;
			return MRL_HTTP_NO_CONNECTION;
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_GOT_NOTHING:
		case CURLE_PARTIAL_FILE:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			*retryable = true;
			return MRL_HTTP_LOST;
		default:
			return MRL_HTTP_NO_CONNECTION;	/* DNS, TLS, a bad URL: not transient */
	}
}

/* An attempt has ended: retry it later, or mark the request done. */
static void
FinishAttempt(mrl_http_engine *e, Request *r, CURLcode rc)
{
	bool		retryable;
	long		wait;

	r->status = 0;
	curl.easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
	curl.multi_remove_handle(e->multi, r->easy);
	curl.easy_cleanup(r->easy);
	r->easy = NULL;
	if (rc != CURLE_OK && r->errbuf[0] == '\0')
		snprintf(r->errbuf, sizeof(r->errbuf), "%s", curl.easy_strerror(rc));
	r->outcome = Classify(r, rc, &retryable);
	if (r->retry_after_ms < 0)
		r->retry_after_ms = r->retry_after_s_ms;
	wait = r->retry_after_ms >= 0 ? r->retry_after_ms : BackoffMs(r->attempts);
	if (retryable && r->attempts <= e->max_retries && wait <= MRL_HTTP_MAX_RETRY_AFTER_MS)
	{
		r->state = REQ_QUEUED;
		r->ready_at = NowMs() + wait;
		return;
	}
	r->state = REQ_DONE;
}

/* ---------- the engine ---------- */

mrl_http_engine *
mrl_http_engine_new(const mrl_http_options *opts, char *err, size_t errlen)
{
	const char *why = LoadCurl();
	mrl_http_engine *e;
	struct curl_slist *h;
	char	   *auth = NULL;
	const char *headers[4];

	if (why != NULL)
	{
		snprintf(err, errlen, "could not load libcurl: %s", why);
		return NULL;
	}
	if ((e = calloc(1, sizeof(*e))) == NULL)
		goto oom;
	e->timeout_ms = opts->timeout_ms;
	e->max_retries = opts->max_retries;
	e->url = strdup(opts->url);
	e->proxy = strdup(opts->proxy ? opts->proxy : "");	/* "": no proxy at all */
	if (e->url == NULL || e->proxy == NULL)
		goto oom;
	if (opts->api_key != NULL)
	{
		const char *start = opts->key_header ? opts->key_header : "Authorization: Bearer ";
		size_t		len = strlen(start) + strlen(opts->api_key) + 1;

		if ((auth = malloc(len)) == NULL)
			goto oom;
		snprintf(auth, len, "%s%s", start, opts->api_key);
	}
	/* "Expect:" keeps libcurl from waiting for a 100-continue on large bodies */
	headers[0] = "Content-Type: application/json";
	headers[1] = "Accept: application/json";
	headers[2] = "Expect:";
	headers[3] = auth;
	for (int i = 0; i < 4; i++)
	{
		if (headers[i] == NULL)
			continue;
		if ((h = curl.slist_append(e->headers, headers[i])) == NULL)
			goto oom;
		e->headers = h;
	}
	free(auth);
	auth = NULL;
	e->multi = idle_multi ? idle_multi : curl.multi_init();
	idle_multi = NULL;
	if (e->multi == NULL)
		goto oom;
	return e;

oom:
	free(auth);
	mrl_http_engine_free(e);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

int
mrl_http_submit(mrl_http_engine *e, int id, char *body, size_t body_len, size_t max_response)
{
	Request    *r;

	if (e->nreqs == e->capacity)
	{
		int			cap = e->capacity ? 2 * e->capacity : 16;
		Request   **grown = realloc(e->reqs, sizeof(Request *) * cap);

		if (grown == NULL)
		{
			free(body);
			return -1;
		}
		e->reqs = grown;
		e->capacity = cap;
	}
	if ((r = calloc(1, sizeof(Request))) == NULL)
	{
		free(body);
		return -1;
	}
	r->id = id;
	r->state = REQ_QUEUED;
	r->body = body;
	r->body_len = body_len;
	r->max_response = max_response;
	e->reqs[e->nreqs++] = r;
	return 0;
}

int
mrl_http_unfinished(const mrl_http_engine *e)
{
	return e->nreqs;
}

/* Start the queued requests whose time has come: 0, or -1 with err. */
static int
StartReady(mrl_http_engine *e, char *err, size_t errlen)
{
	double		now = NowMs();

	for (int i = 0; i < e->nreqs; i++)
		if (e->reqs[i]->state == REQ_QUEUED && e->reqs[i]->ready_at <= now &&
			StartAttempt(e, e->reqs[i]) != 0)
		{
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	return 0;
}

/*
 * Let libcurl move every transfer along, then collect the attempts that
 * ended.  All signals are blocked meanwhile, so that a thread libcurl
 * starts (its name resolver) inherits a full mask and PostgreSQL's signal
 * handlers only ever run in the backend's own thread.
 */
static int
Perform(mrl_http_engine *e, char *err, size_t errlen)
{
	sigset_t	all,
				old;
	int			running,
				left;
	CURLMcode	mc;
	CURLMsg    *msg;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	mc = curl.multi_perform(e->multi, &running);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (mc != CURLM_OK)
	{
		snprintf(err, errlen, "%s", curl.multi_strerror(mc));
		return -1;
	}
	while ((msg = curl.multi_info_read(e->multi, &left)) != NULL)
	{
		Request    *r;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl.easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &r);
		FinishAttempt(e, r, msg->data.result);
		if (r->out_of_memory)
		{
			snprintf(err, errlen, "out of memory for a response");
			return -1;
		}
	}
	return 0;
}

/* Move a finished request to e->returned and describe it in res: 1, or 0 if none. */
static int
ReturnDone(mrl_http_engine *e, mrl_http_result *res)
{
	for (int i = 0; i < e->nreqs; i++)
	{
		Request    *r = e->reqs[i];

		if (r->state != REQ_DONE)
			continue;
		e->reqs[i] = e->reqs[--e->nreqs];
		e->returned = r;
		res->id = r->id;
		res->outcome = r->outcome;
		res->status = r->status;
		res->attempts = r->attempts;
		res->retry_after_ms = r->retry_after_ms;
		res->body = r->resp ? r->resp : "";
		res->body_len = r->resp_len;
		res->reason = r->errbuf;
		return 1;
	}
	return 0;
}

/* Milliseconds until the next queued request may start (limit if none sooner). */
static long
NextStartMs(mrl_http_engine *e, long limit)
{
	double		now = NowMs();

	for (int i = 0; i < e->nreqs; i++)
		if (e->reqs[i]->state == REQ_QUEUED && e->reqs[i]->ready_at - now < limit)
			limit = e->reqs[i]->ready_at <= now ? 0 : (long) (e->reqs[i]->ready_at - now) + 1;
	return limit;
}

int
mrl_http_poll(mrl_http_engine *e, int timeout_ms, mrl_http_result *res, char *err, size_t errlen)
{
	long		wait;

	FreeRequest(e->returned);
	e->returned = NULL;
	if (StartReady(e, err, errlen) != 0 || Perform(e, err, errlen) != 0)
		return -1;
	if (ReturnDone(e, res))
		return 1;
	/* sleep until a socket is ready, a retry is due or the time is up */
	wait = NextStartMs(e, timeout_ms);
	if (wait > 0)
		(void) curl.multi_poll(e->multi, NULL, 0, (int) wait, NULL);
	if (StartReady(e, err, errlen) != 0 || Perform(e, err, errlen) != 0)
		return -1;
	return ReturnDone(e, res);
}

void
mrl_http_engine_free(mrl_http_engine *e)
{
	bool		interrupted = false;

	if (e == NULL)
		return;
	FreeRequest(e->returned);
	for (int i = 0; i < e->nreqs; i++)
	{
		Request    *r = e->reqs[i];

		if (r->easy != NULL)
		{
			curl.multi_remove_handle(e->multi, r->easy);
			curl.easy_cleanup(r->easy);
			interrupted = true;
		}
		FreeRequest(r);
	}
	free(e->reqs);

	/*
	 * Keep the connections for the next engine, unless a transfer was cut
	 * short: then start afresh rather than trust what it left.
	 */
	if (e->multi != NULL)
	{
		if (!interrupted && idle_multi == NULL)
			idle_multi = e->multi;
		else
			curl.multi_cleanup(e->multi);
	}
	if (e->headers != NULL)
		curl.slist_free_all(e->headers);
	free(e->url);
	free(e->proxy);
	free(e);
}
