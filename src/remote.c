/*
 * remote.c: remote encoders: mrl_embed through an OpenAI-compatible or an
 * Ollama embedding API, with the face local models have.
 *
 * An endpoint is a foreign server of the extension's validator-only wrapper
 * mrl_http: its options (URL, limits) are readable by every role, so they
 * never hold a secret; the API key is an option of a user mapping, which
 * PostgreSQL shows only to the mapped role, the server's owner and
 * superusers (pg_user_mappings) and dumps the same way.  Creating a server
 * takes USAGE on mrl_http, which only superusers have until they grant it:
 * a server that connects where its creator says is a request-forgery tool.
 * Registering a model on a server takes USAGE on that server; using the
 * model takes the model's grants, and sends the key of its owner's user
 * mapping (or of the server's PUBLIC mapping), which the user never sees.
 *
 * Requests run through remote_http.c (libcurl) in short steps with
 * CHECK_FOR_INTERRUPTS() between them; the engine is freed in PG_FINALLY,
 * so a cancel, a timeout or any error stops every transfer.  JSON is read
 * and written by remote_api.c.
 */
#include "postgres.h"

#include <limits.h>

#include "access/reloptions.h"
#include "catalog/pg_foreign_server.h"
#include "catalog/pg_user_mapping.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "mvector.h"
#include "pgcompat.h"
#include "registry.h"
#include "remote.h"
#include "remote_api.h"
#include "remote_http.h"

#define MRL_HTTP_WRAPPER "mrl_http"
#define POLL_SLICE_MS 100		/* the longest wait between interrupt checks */
#define PROBE_TEXT "hello"		/* what registration embeds to learn a model's width */
#define PROBE_DIMS 256			/* the prefix it asks for to see if dims go server-side */

/* Defaults of the server options (README, Remote encoders). */
#define DEFAULT_CONCURRENCY 4
#define DEFAULT_TIMEOUT_MS 60000
#define DEFAULT_MAX_RETRIES 4

struct MrlRemoteModel
{
	const char *name;			/* the registered name, for messages */
	const char *server;			/* the foreign server's name */
	mrl_api		api;
	const char *model;			/* the API's name of the model */
	const char *url;			/* the request URL: the server's url + the API's path */
	const char *api_key;		/* from the owner's user mapping, or NULL */
	bool		azure;			/* Azure OpenAI: deployment URLs, an api-key header */
	const char *proxy;
	int			dims;			/* the model's own width (0 while registering) */
	bool		sends_dimensions;	/* dims => goes to the API as "dimensions" */
	int			batch_size;
	long		max_batch_tokens;
	int			concurrency;
	int			timeout_ms;
	int			max_retries;
	bool		base64;
};

/* ---------- the options of mrl_http servers and user mappings ---------- */

/*
 * An option: the catalog it belongs to, and either the range of an integer
 * (unit GUC_UNIT_MS for a duration) or a check of its value.
 */
typedef struct HttpOption
{
	const char *name;
	Oid			catalog;
	int			min;
	int			max;
	int			unit;
	void		(*check) (DefElem *def);
} HttpOption;

static void CheckServerUrl(DefElem *def);
static void CheckProxy(DefElem *def);
static void CheckEncodingFormat(DefElem *def);
static void CheckApiKey(DefElem *def);
static void CheckApi(DefElem *def);
static void CheckApiVersion(DefElem *def);

static const HttpOption http_options[] = {
	{"url", ForeignServerRelationId, 0, 0, 0, CheckServerUrl},
	{"batch_size", ForeignServerRelationId, 1, 100000, 0, NULL},
	{"max_batch_tokens", ForeignServerRelationId, 0, INT_MAX, 0, NULL},
	{"concurrency", ForeignServerRelationId, 1, 64, 0, NULL},
	{"timeout", ForeignServerRelationId, 1, 24 * 3600 * 1000, GUC_UNIT_MS, NULL},
	{"max_retries", ForeignServerRelationId, 0, 20, 0, NULL},
	{"encoding_format", ForeignServerRelationId, 0, 0, 0, CheckEncodingFormat},
	{"proxy", ForeignServerRelationId, 0, 0, 0, CheckProxy},
	{"api", ForeignServerRelationId, 0, 0, 0, CheckApi},
	{"api_version", ForeignServerRelationId, 0, 0, 0, CheckApiVersion},
	{"api_key", UserMappingRelationId, 0, 0, 0, CheckApiKey},
};

/* The option of this name in this catalog, or NULL. */
static const HttpOption *
FindOption(const char *name, Oid catalog)
{
	for (int i = 0; i < (int) lengthof(http_options); i++)
		if (http_options[i].catalog == catalog && strcmp(name, http_options[i].name) == 0)
			return &http_options[i];
	return NULL;
}

/* An integer option's value, or an error if outside its range. */
static int
IntOption(DefElem *def)
{
	const HttpOption *o = FindOption(def->defname, ForeignServerRelationId);
	int			value;
	const char *hint = NULL;

	if (!parse_int(defGetString(def), &value, o->unit, &hint) || value < o->min || value > o->max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be %s between %d and %d, not \"%s\"", def->defname,
						o->unit ? "a duration in milliseconds" : "an integer", o->min, o->max,
						defGetString(def)),
				 hint ? errhint("%s", hint) : 0));
	return value;
}

/*
 * Error unless value is an http(s) URL with no user name or password (server
 * options are readable by every role), no query or fragment (the API's path
 * is appended to it) and no white space or control characters.
 */
static void
CheckUrl(DefElem *def, bool allow_empty)
{
	const char *url = defGetString(def);
	const char *host;
	size_t		authority;

	if (allow_empty && url[0] == '\0')
		return;
	host = pg_strncasecmp(url, "http://", 7) == 0 ? url + 7 :
		pg_strncasecmp(url, "https://", 8) == 0 ? url + 8 : NULL;
	if (host == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be an http:// or https:// URL, not \"%s\"", def->defname, url)));
	authority = strcspn(host, "/");
	for (const char *c = url; *c; c++)
		if ((unsigned char) *c <= ' ' || *c == 0x7f || *c == '?' || *c == '#')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must not hold white space, control characters, a query or a fragment",
							def->defname)));
	if (authority == 0 || memchr(host, '@', authority) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must name a host, with no user name or password", def->defname),
				 errhint("Every role can read a server's options: put an API key in a user mapping.")));
}

static void
CheckServerUrl(DefElem *def)
{
	CheckUrl(def, false);
}

static void
CheckProxy(DefElem *def)
{
	CheckUrl(def, true);
}

static void
CheckEncodingFormat(DefElem *def)
{
	const char *v = defGetString(def);

	if (strcmp(v, "float") != 0 && strcmp(v, "base64") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("encoding_format must be \"float\" or \"base64\", not \"%s\"", v)));
}

/* "azure": Azure OpenAI's deployment URLs and api-key header. */
static void
CheckApi(DefElem *def)
{
	const char *v = defGetString(def);

	if (strcmp(v, "azure") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("api must be \"azure\", not \"%s\"", v),
				 errhint("Without the option, a model's own prefix (openai: or ollama:) sets the API.")));
}

/*
 * Error unless value can stand as one segment of a URL as it is: letters,
 * digits, '-', '_' and '.', and not "." or "..".  Azure names deployments
 * and API versions so.
 */
static void
CheckUrlSegment(const char *what, const char *value)
{
	if (value[0] == '\0' || strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
									"0123456789-_.") != strlen(value) ||
		strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be letters, digits, '-', '_' and '.', not \"%s\"", what, value)));
}

static void
CheckApiVersion(DefElem *def)
{
	CheckUrlSegment("api_version", defGetString(def));
}

/* An API key goes into an HTTP header: printable ASCII, no spaces. */
static void
CheckApiKey(DefElem *def)
{
	const char *v = defGetString(def);

	if (v[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("api_key must not be empty")));
	for (const char *c = v; *c; c++)
		if (*c <= ' ' || *c >= 0x7f)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("api_key must be printable ASCII without spaces")));
}

/* Error for an option that does not belong where it was given. */
static void
RejectOption(DefElem *def, Oid catalog)
{
	StringInfoData valid;

	if (strcmp(def->defname, "api_key") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("api_key belongs in a user mapping"),
				 errdetail("Every role can read a server's options; PostgreSQL shows a user mapping's only to its role, the server's owner and superusers."),
				 errhint("CREATE USER MAPPING FOR role SERVER server OPTIONS (api_key '...')")));
	initStringInfo(&valid);
	for (int i = 0; i < (int) lengthof(http_options); i++)
		if (http_options[i].catalog == catalog)
			appendStringInfo(&valid, "%s%s", valid.len ? ", " : "", http_options[i].name);
	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
			 errmsg("invalid option \"%s\"", def->defname),
			 valid.len ? errhint("Valid options here are: %s.", valid.data)
			 : errhint("There are no valid options here.")));
}

/*
 * mrl_http_validator(options, catalog): the options of the wrapper mrl_http
 * (none), of its servers and of their user mappings.
 */
PG_FUNCTION_INFO_V1(mrl_http_validator);
Datum
mrl_http_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));
	Oid			catalog = PG_GETARG_OID(1);
	ListCell   *lc;
	bool		has_url = false;
	bool		has_api = false;
	bool		has_api_version = false;

	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);
		const HttpOption *o = FindOption(def->defname, catalog);

		if (o == NULL)
			RejectOption(def, catalog);
		else if (o->check != NULL)
			o->check(def);
		else
			(void) IntOption(def);
		has_url |= strcmp(def->defname, "url") == 0;
		has_api |= strcmp(def->defname, "api") == 0;
		has_api_version |= strcmp(def->defname, "api_version") == 0;
	}
	if (has_api != has_api_version)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("the options api 'azure' and api_version go together"),
				 errhint("Azure OpenAI: OPTIONS (url 'https://{resource}.openai.azure.com', api 'azure', api_version '2024-10-21').")));
	if (catalog == ForeignServerRelationId && !has_url)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_OPTION_NAME_NOT_FOUND),
				 errmsg("an mrl_http server needs the option url"),
				 errhint("For example OPTIONS (url 'https://api.openai.com/v1') or (url 'http://localhost:11434').")));
	PG_RETURN_VOID();
}

/* ---------- endpoints ---------- */

/* The mrl_http server of this name, or an error. */
static ForeignServer *
HttpServer(const char *name, const char *model)
{
	ForeignServer *srv = GetForeignServerByName(name, true);

	if (srv == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 model ? errmsg("server \"%s\" of model \"%s\" does not exist", name, model)
				 : errmsg("server \"%s\" does not exist", name)));
	if (srv->fdwid != GetForeignDataWrapperByName(MRL_HTTP_WRAPPER, false)->fdwid)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("server \"%s\" is not an %s server", name, MRL_HTTP_WRAPPER),
				 errhint("CREATE SERVER name FOREIGN DATA WRAPPER %s OPTIONS (url '...')", MRL_HTTP_WRAPPER)));
	return srv;
}

/* The api_key of userid's user mapping for the server, or of its PUBLIC one; NULL if none. */
static char *
ApiKeyOf(Oid userid, Oid serverid)
{
	HeapTuple	tp;
	Datum		datum;
	bool		isnull;
	ListCell   *lc;
	char	   *key = NULL;

	tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(userid), ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		tp = SearchSysCache2(USERMAPPINGUSERSERVER, ObjectIdGetDatum(InvalidOid),
							 ObjectIdGetDatum(serverid));
	if (!HeapTupleIsValid(tp))
		return NULL;
	datum = SysCacheGetAttr(USERMAPPINGUSERSERVER, tp, Anum_pg_user_mapping_umoptions, &isnull);
	if (!isnull)
		foreach(lc, untransformRelOptions(datum))
		{
			DefElem    *def = (DefElem *) lfirst(lc);

			if (strcmp(def->defname, "api_key") == 0)
				key = pstrdup(defGetString(def));
		}
	ReleaseSysCache(tp);
	return key;
}

/* Read a server's options into m, over the API's defaults. */
static void
ApplyServerOptions(MrlRemoteModel *m, List *options)
{
	ListCell   *lc;
	char	   *url = NULL;
	const char *api_version = NULL;

	m->batch_size = mrl_api_default_batch_size(m->api);
	m->max_batch_tokens = mrl_api_default_max_batch_tokens(m->api);
	m->concurrency = DEFAULT_CONCURRENCY;
	m->timeout_ms = DEFAULT_TIMEOUT_MS;
	m->max_retries = DEFAULT_MAX_RETRIES;
	m->base64 = true;
	m->proxy = "";
	m->azure = false;
	foreach(lc, options)
	{
		DefElem    *def = (DefElem *) lfirst(lc);

		if (strcmp(def->defname, "url") == 0)
			url = pstrdup(defGetString(def));
		else if (strcmp(def->defname, "batch_size") == 0)
			m->batch_size = IntOption(def);
		else if (strcmp(def->defname, "max_batch_tokens") == 0)
			m->max_batch_tokens = IntOption(def);
		else if (strcmp(def->defname, "concurrency") == 0)
			m->concurrency = IntOption(def);
		else if (strcmp(def->defname, "timeout") == 0)
			m->timeout_ms = IntOption(def);
		else if (strcmp(def->defname, "max_retries") == 0)
			m->max_retries = IntOption(def);
		else if (strcmp(def->defname, "encoding_format") == 0)
			m->base64 = strcmp(defGetString(def), "base64") == 0;
		else if (strcmp(def->defname, "proxy") == 0)
			m->proxy = pstrdup(defGetString(def));
		else if (strcmp(def->defname, "api") == 0)
			m->azure = true;
		else if (strcmp(def->defname, "api_version") == 0)
			api_version = defGetString(def);
	}
	if (url == NULL)
		elog(ERROR, "server \"%s\" has no url", m->server);
	/* the vendors' base URLs, with or without a final slash */
	while (strlen(url) > 0 && url[strlen(url) - 1] == '/')
		url[strlen(url) - 1] = '\0';
	if (!m->azure)
	{
		m->url = psprintf("%s%s", url, mrl_api_path(m->api));
		return;
	}
	/* Azure OpenAI: the model is a deployment, named in the URL */
	if (m->api != MRL_API_OPENAI)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("server \"%s\" speaks Azure OpenAI: its models are \"openai:<deployment>\"", m->server)));
	CheckUrlSegment("an Azure deployment name", m->model);
	m->url = psprintf("%s/openai/deployments/%s%s?api-version=%s", url, m->model,
					  mrl_api_path(m->api), api_version);
}

/*
 * Everything a request to a model's endpoint needs.  entry->owner's user
 * mapping gives the key; the owner must still exist (the registry keeps it
 * by name: InvalidOid would stand for PUBLIC's mapping) and have USAGE on
 * the server.
 */
MrlRemoteModel *
MrlRemoteModelOpen(const char *name, const MrlModelRef *entry)
{
	MrlRemoteModel *m = palloc0(sizeof(MrlRemoteModel));
	ForeignServer *srv = HttpServer(entry->server, name);

	if (!OidIsValid(entry->owner))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("the owner role of model \"%s\" does not exist", name),
				 errhint("A superuser can unregister the model for its owner to register it again.")));
	if (MrlForeignServerAclCheck(srv->serverid, entry->owner, ACL_USAGE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("the owner of model \"%s\" may not use server \"%s\"", name, entry->server),
				 errhint("GRANT USAGE ON FOREIGN SERVER %s TO the model's owner.",
						 quote_identifier(entry->server))));
	m->name = pstrdup(name);
	m->server = pstrdup(entry->server);
	if (mrl_api_parse_spec(entry->path, &m->api, &m->model) != 0)
		elog(ERROR, "model \"%s\" has an unknown API in \"%s\"", name, entry->path);
	m->model = pstrdup(m->model);
	ApplyServerOptions(m, srv->options);
	m->api_key = ApiKeyOf(entry->owner, srv->serverid);
	m->dims = entry->dims;
	m->sends_dimensions = entry->sends_dimensions;
	return m;
}

/* ---------- requests ---------- */

/* What one run of requests asks for, and where its vectors go. */
typedef struct Run
{
	const MrlRemoteModel *m;
	const char **texts;			/* UTF-8 */
	size_t	   *lens;
	int			n;
	int			request_dims;	/* "dimensions" sent, or 0 */
	int			expect_len;		/* each vector's length, or 0: any (one text) */
	int			out_dims;		/* floats kept per vector (the most, with expect_len 0) */
	float	   *out;
	int			got_len;		/* the length of the last vector read */
	bool	   *refused;		/* if not NULL, a 4xx answer sets it instead of erroring */
} Run;

/* Submit the batch that starts at text start: the next batch's start. */
static int
SubmitBatch(Run *run, mrl_http_engine *e, int start)
{
	const MrlRemoteModel *m = run->m;
	int			end = mrl_api_batch_end(run->lens, start, run->n, m->batch_size, m->max_batch_tokens);
	size_t		len;
	char	   *body = mrl_api_request(m->api, m->model, run->texts + start, run->lens + start,
									   end - start, run->request_dims, m->base64, &len);

	if (body == NULL ||
		mrl_http_submit(e, start, body, len,
						mrl_api_max_response(end - start, run->expect_len ? run->expect_len : run->out_dims)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory for a request to server \"%s\"", m->server)));
	return end;
}

/* Error for a request that got no HTTP answer. */
static void
TransportError(const MrlRemoteModel *m, const mrl_http_result *res)
{
	switch (res->outcome)
	{
		case MRL_HTTP_NO_CONNECTION:
			ereport(ERROR,
					(errcode(ERRCODE_SQLCLIENT_UNABLE_TO_ESTABLISH_SQLCONNECTION),
					 errmsg("could not connect to server \"%s\" for model \"%s\": %s",
							m->server, m->name, res->reason),
					 errdetail("Attempts: %d.", res->attempts)));
			break;
		case MRL_HTTP_LOST:
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("connection to server \"%s\" lost during a request for model \"%s\": %s",
							m->server, m->name, res->reason),
					 errdetail("Attempts: %d.", res->attempts)));
			break;
		case MRL_HTTP_TIMED_OUT:
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("request to server \"%s\" for model \"%s\" timed out after %d ms",
							m->server, m->name, m->timeout_ms),
					 errhint("The server option timeout sets the limit of one request.")));
			break;
		case MRL_HTTP_TOO_LARGE:
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("the response of server \"%s\" for model \"%s\" is larger than its vectors can be",
							m->server, m->name)));
			break;
		case MRL_HTTP_ANSWERED:
			break;
	}
}

/*
 * Error for an HTTP status other than 2xx, with the API's own message
 * (never the key): 28000 for 401 and 403, 38000 otherwise.
 */
static void
StatusError(const MrlRemoteModel *m, const mrl_http_result *res)
{
	char		text[512];

	mrl_api_error_text(res->body, res->body_len, m->api_key, text, sizeof(text));
	ereport(ERROR,
			(errcode(res->status == 401 || res->status == 403 ?
					 ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION : ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("server \"%s\" answered HTTP %ld for model \"%s\": %s",
					m->server, res->status, m->name, text),
			 res->status >= 300 && res->status < 400 ?
			 errdetail("Redirects are not followed: set the server's url to the final address.") :
			 res->retry_after_ms > MRL_HTTP_MAX_RETRY_AFTER_MS ?
			 errdetail("It asked to retry after %ld s, more than the %d s waited at most.",
					   res->retry_after_ms / 1000, MRL_HTTP_MAX_RETRY_AFTER_MS / 1000) :
			 res->attempts > 1 ? errdetail("Attempts: %d.", res->attempts) : 0));
}

/* Read a finished request into run->out, or raise its error. */
static void
ReadBatch(Run *run, const mrl_http_result *res)
{
	const MrlRemoteModel *m = run->m;
	int			start = res->id;
	int			count = mrl_api_batch_end(run->lens, start, run->n, m->batch_size, m->max_batch_tokens) - start;
	char		err[512];
	int			rc;

	TransportError(m, res);
	if (run->refused != NULL && res->status >= 400 && res->status < 500 &&
		res->status != 401 && res->status != 403 && res->status != 429)
	{
		*run->refused = true;
		return;
	}
	if (res->status < 200 || res->status >= 300)
		StatusError(m, res);
	rc = mrl_api_parse(m->api, res->body, res->body_len, count, run->expect_len, run->out_dims,
					   run->out + (size_t) start * run->out_dims, &run->got_len, err, sizeof(err));
	if (rc == MRL_API_ENOMEM)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory reading the response of server \"%s\"", m->server)));
	if (rc == MRL_API_ENONFINITE)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("model \"%s\" (server \"%s\") returned a non-finite embedding", m->name, m->server),
				 errdetail("%s.", err)));
	if (rc != MRL_API_OK)
		ereport(ERROR,
				(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
				 errmsg("invalid response from server \"%s\" for model \"%s\"", m->server, m->name),
				 errdetail("%s.", err)));
}

/*
 * Send every batch of the run, up to concurrency at a time, and read each
 * answer as it comes.  Interrupts are served every POLL_SLICE_MS at most
 * (sooner: a signal ends libcurl's poll).
 */
static void
RunBatches(Run *run, mrl_http_engine *e)
{
	char		err[256];
	int			next = 0;

	while ((next < run->n || mrl_http_unfinished(e) > 0) &&
		   (run->refused == NULL || !*run->refused))
	{
		mrl_http_result res;
		int			rc;

		while (next < run->n && mrl_http_unfinished(e) < run->m->concurrency)
			next = SubmitBatch(run, e, next);
		CHECK_FOR_INTERRUPTS();
		rc = mrl_http_poll(e, POLL_SLICE_MS, &res, err, sizeof(err));
		if (rc < 0)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("request to server \"%s\" failed: %s", run->m->server, err)));
		if (rc > 0)
			ReadBatch(run, &res);
	}
}

/* Run the requests of run; whatever ends them, the engine and its transfers are freed. */
static void
RunRequests(Run *run)
{
	const MrlRemoteModel *m = run->m;
	mrl_http_options opts = {m->url, m->api_key, m->azure ? "api-key: " : NULL, m->proxy,
							 m->timeout_ms, m->max_retries};
	char		err[256];
	mrl_http_engine *e;

	if (run->n == 0)
		return;
	if ((e = mrl_http_engine_new(&opts, err, sizeof(err))) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_SYSTEM_ERROR),
				 errmsg("could not send a request to server \"%s\": %s", m->server, err)));
	PG_TRY();
	{
		RunBatches(run, e);
	}
	PG_FINALLY();
	{
		mrl_http_engine_free(e);
	}
	PG_END_TRY();
}

/* Texts in the database's encoding as UTF-8, the APIs' encoding (in place if already). */
static void
TextsToUtf8(const char **texts, size_t *lens, int n)
{
	for (int i = 0; i < n; i++)
	{
		char	   *u = pg_server_to_any(texts[i], (int) lens[i], PG_UTF8);

		if (u != texts[i])
		{
			texts[i] = u;
			lens[i] = strlen(u);
		}
	}
}

/* Error for a dims outside 1..the model's width. */
static void
DimsOutOfRange(const MrlRemoteModel *m, int dims)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("dims must be between 1 and %d for model \"%s\", not %d", m->dims, m->name, dims)));
}

int
MrlRemoteCheckDims(const MrlRemoteModel *m, int dims)
{
	if (dims == 0)
		return m->dims;
	if (dims < 1 || dims > m->dims)
		DimsOutOfRange(m, dims);
	return dims;
}

int
MrlRemoteOutputDim(const MrlRemoteModel *m, FunctionCallInfo fcinfo, int dims_arg, int layers_arg)
{
	if (!PG_ARGISNULL(layers_arg))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("layers applies to local models only"),
				 errdetail("Model \"%s\" is served by server \"%s\".", m->name, m->server)));
	if (PG_ARGISNULL(dims_arg))
		return m->dims;
	if (PG_GETARG_INT32(dims_arg) == 0)
		DimsOutOfRange(m, 0);
	return MrlRemoteCheckDims(m, PG_GETARG_INT32(dims_arg));
}

/*
 * Four rounds of requests: the requests in flight drop below concurrency
 * only at the end of a call, while its last batches finish.
 */
int
MrlRemoteBatchTexts(const MrlRemoteModel *m)
{
	return (int) Min((int64) m->batch_size * m->concurrency * 4, INT_MAX);
}

/*
 * A prefix of dims is asked of the API as "dimensions" where registration
 * found the model takes it; otherwise the full vector is cut and
 * re-normalised here (remote_api.c).
 */
void
MrlRemoteEmbed(const MrlRemoteModel *m, const char **texts, const size_t *lens, int n,
			   int dims, float *out)
{
	Run			run = {m};
	bool		server_side = m->sends_dimensions && dims < m->dims;

	run.texts = palloc(sizeof(char *) * Max(n, 1));
	run.lens = palloc(sizeof(size_t) * Max(n, 1));
	memcpy(run.texts, texts, sizeof(char *) * n);
	memcpy(run.lens, lens, sizeof(size_t) * n);
	TextsToUtf8(run.texts, run.lens, n);
	run.n = n;
	run.request_dims = server_side ? dims : 0;
	run.expect_len = server_side ? dims : m->dims;
	run.out_dims = dims;
	run.out = out;
	RunRequests(&run);
}

/* ---------- registration ---------- */

/*
 * Embed the probe text, asking for request_dims if not 0: the vector's
 * length, or 0 when the API refused the request with a 4xx (only if
 * tolerate_refusal).
 */
static int
Probe(const MrlRemoteModel *m, int request_dims, bool tolerate_refusal)
{
	const char *texts[1] = {PROBE_TEXT};
	size_t		lens[1] = {strlen(PROBE_TEXT)};
	bool		refused = false;
	Run			run = {m, texts, lens, 1, request_dims, 0, MVECTOR_MAX_DIM};

	run.out = palloc(sizeof(float) * MVECTOR_MAX_DIM);
	run.refused = tolerate_refusal ? &refused : NULL;
	RunRequests(&run);
	return refused ? 0 : run.got_len;
}

/*
 * mrl_register_model(name, model, server): register "openai:<model>" or
 * "ollama:<model>" served by an mrl_http server; takes USAGE on the server.
 * Two requests with the caller's key learn the model's width and whether it
 * returns a shorter vector when asked for "dimensions".
 */
PG_FUNCTION_INFO_V1(mrl_register_remote_model);
Datum
mrl_register_remote_model(PG_FUNCTION_ARGS)
{
	char	   *name;
	char	   *spec;
	char	   *server;
	MrlModelRef entry = {0};
	MrlRemoteModel *m;
	mrl_api		api;
	const char *model;
	int			dims,
				half;

	/* not STRICT: a NULL server must not pass for a no-op */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("name, model and server must not be NULL")));
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	spec = text_to_cstring(PG_GETARG_TEXT_PP(1));
	server = text_to_cstring(PG_GETARG_TEXT_PP(2));
	MrlCheckModelName(name);
	if (mrl_api_parse_spec(spec, &api, &model) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a remote model is \"openai:<model>\" or \"ollama:<model>\", not \"%s\"", spec)));
	if (MrlForeignServerAclCheck(HttpServer(server, NULL)->serverid, GetUserId(), ACL_USAGE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FOREIGN_SERVER, server);
	MrlCheckModelNameFree(name);

	entry.path = spec;
	entry.server = server;
	entry.owner = GetUserId();
	m = MrlRemoteModelOpen(name, &entry);
	dims = Probe(m, 0, false);
	half = dims > PROBE_DIMS ? PROBE_DIMS : dims / 2;
	MrlRegisterRemoteModel(name, spec, mrl_api_name(api), dims, server,
						   half >= 1 && Probe(m, half, true) == half);
	PG_RETURN_VOID();
}
