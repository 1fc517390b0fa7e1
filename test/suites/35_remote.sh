#!/usr/bin/env bash
# 35_remote.sh: remote encoders, against a loopback fake of the OpenAI and
# Ollama embedding APIs (test/remote/fake_embed_server.py); nothing leaves
# 127.0.0.1.
#  - endpoints: only roles with USAGE on the wrapper mrl_http create servers;
#    the validator keeps keys out of server options; registering takes USAGE
#    on the server, using the model's grants, and sends the owner's key;
#  - vectors: exactly the API's (base64 and float), in input order, batched
#    by inputs and tokens, several requests in flight; dims server-side or
#    cut and re-normalised locally; Ollama's API; Azure OpenAI's deployment
#    URLs and api-key header;
#  - mrl_evaluate on a remote model against numpy; mrl_train refused;
#  - mrl_embed_table: batches, order, all or nothing, privileges, row-level
#    security, odd names, progress;
#  - faults: 429/5xx retried honouring Retry-After, 4xx reported with the
#    API's message, invalid responses refused, timeouts, cancel,
#    statement_timeout, redirects not followed, no half UPDATE;
#  - the key in no view, error, pg_stat_activity row, non-owner's pg_dump or
#    server log line at log_min_messages = debug5.
# Runs its own cluster (it reads the server log).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

if [ -z "${PGHOST:-}" ]; then
	mrl_build_install || { notok "build and install the extension"; exit 1; }
fi
MRL_PORT=$((40000 + RANDOM % 20000)) mrl_cluster_start || { notok "start a cluster"; exit 1; }
su=$PGUSER
work=$(mktemp -d /tmp/mrl-remote.XXXXXX)
fake_pids=()
trap 'kill "${fake_pids[@]}" 2>/dev/null; rm -rf "$work"; mrl_cluster_stop' EXIT
fake_py=test/remote/fake_embed_server.py

# start_fake NAME: a fake API on a free loopback port, in $NAME_url
start_fake()
{
	/usr/bin/python3 "$fake_py" serve "$work/$1.port" >"$work/$1.log" 2>&1 &
	fake_pids+=($!)
	for _ in $(seq 100); do [ -s "$work/$1.port" ] && break; sleep 0.1; done
	printf -v "$1_url" 'http://127.0.0.1:%s' "$(cat "$work/$1.port")"
}
start_fake api
start_fake elsewhere
# fake JSON: a control request to the API; arm FAULT...: forget the log, queue faults
fake() { /usr/bin/python3 "$fake_py" control "$api_url" "$1"; }
arm() { local IFS=,; fake "{\"reset\": true, \"faults\": [$*]}" >/dev/null; }
# fake_log EXPR: a Python expression over the request log (log, mc = most in flight)
fake_log()
{
	fake '{}' | /usr/bin/python3 -c "import json, sys
d = json.load(sys.stdin); log = d['log']; mc = d['max_concurrent']
print($1)"
}
# ref MODEL TEXT [DIMS [--local]]: the API's vector of TEXT1 as an mvector literal
ref() { /usr/bin/python3 "$fake_py" expected "$1" "$2" 1 ${3:-} ${4:-} | cut -f2; }
# q ROLE SQL...: run as ROLE, stopping at an error; prints results, or the error's SQLSTATE
q()
{
	local role=$1
	shift
	PGUSER=$role psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate "${@/#/-c}" 2>&1 |
		sed 's/^ERROR: *//'
}
# msg ROLE SQL: the error message (and detail) of SQL run as ROLE, on one line
msg() { PGUSER=$1 psql -X -q -At -c "$2" 2>&1 | tr '\n' ' '; }
# elapsed_ms COMMAND...: run it, set $ms to its duration and $out to its output
elapsed_ms()
{
	local t0
	t0=$(date +%s%N)
	out=$("$@")
	ms=$((($(date +%s%N) - t0) / 1000000))
}

key_alice=sk-alice-$RANDOM$RANDOM-secret
key_public=sk-public-$RANDOM$RANDOM-secret
q "$su" "SET client_min_messages = warning" "CREATE EXTENSION mrl" \
	"CREATE ROLE alice LOGIN" "CREATE ROLE bob LOGIN" "CREATE ROLE carol LOGIN" \
	"CREATE SERVER oai FOREIGN DATA WRAPPER mrl_http OPTIONS (url '$api_url/v1/')" \
	"CREATE SERVER ollama FOREIGN DATA WRAPPER mrl_http OPTIONS (url '$api_url')" \
	"CREATE USER MAPPING FOR alice SERVER oai OPTIONS (api_key '$key_alice')" \
	"CREATE USER MAPPING FOR PUBLIC SERVER oai OPTIONS (api_key '$key_public')" \
	"ALTER SYSTEM SET log_min_messages = debug5" "ALTER SYSTEM SET log_statement = 'all'" \
	"SELECT pg_reload_conf()" >"$work/setup.out" || true
[ "$(tail -1 "$work/setup.out")" = t ] || { notok "set up roles, servers and keys: $(cat "$work/setup.out")"; exit 1; }

# ---------- endpoints and who may create, register and use them ----------

check "a role without USAGE on the wrapper mrl_http cannot create a server" \
	"$(q alice "CREATE SERVER a1 FOREIGN DATA WRAPPER mrl_http OPTIONS (url 'http://127.0.0.1:9')")" 42501
q "$su" "GRANT USAGE ON FOREIGN DATA WRAPPER mrl_http TO alice" >/dev/null
check "after GRANT USAGE ON FOREIGN DATA WRAPPER mrl_http it can" \
	"$(q alice "CREATE SERVER a1 FOREIGN DATA WRAPPER mrl_http OPTIONS (url 'http://127.0.0.1:9')" "DROP SERVER a1")" ""
q "$su" "REVOKE USAGE ON FOREIGN DATA WRAPPER mrl_http FROM alice" >/dev/null

codes=$(for opts in "url '$api_url', api_key 'k'" "url 'ftp://127.0.0.1/'" "url 'http://user:pw@127.0.0.1/'" \
	"url 'http://127.0.0.1/?a=1'" "url '$api_url', colour 'red'" "batch_size '10'" "url '$api_url', batch_size '0'" \
	"url '$api_url', encoding_format 'hex'" "url '$api_url', timeout 'soon'" "url '$api_url', concurrency '65'"; do
	q "$su" "CREATE SERVER v FOREIGN DATA WRAPPER mrl_http OPTIONS ($opts)"
done | tr '\n' ' ')
check "the validator refuses a key in server options, bad URLs, unknown options, a missing url, bad values" \
	"$codes" "HV00D 22023 22023 22023 HV00D HV00J 22023 22023 22023 22023 "
check "a user mapping takes only api_key, printable and without spaces" \
	"$(q "$su" "CREATE USER MAPPING FOR bob SERVER oai OPTIONS (url 'x')"; \
		q "$su" "CREATE USER MAPPING FOR bob SERVER oai OPTIONS (api_key E'k\\r\\nX-Evil: 1')")" "HV00D
22023"
check "the validator takes durations with units and a URL with a final slash" \
	"$(q "$su" "CREATE SERVER v FOREIGN DATA WRAPPER mrl_http OPTIONS (url '$api_url/', timeout '2 s', encoding_format 'float')" "DROP SERVER v")" ""

check "registering on a server takes USAGE on it (42501)" \
	"$(q alice "SELECT mrl_register_model('oai', 'openai:mrl-64', server => 'oai')")" 42501
check "a spec other than openai:<model> or ollama:<model> is refused (22023)" \
	"$(q "$su" "SELECT mrl_register_model('x', 'cohere:embed', server => 'oai')")" 22023
check "a NULL argument is an error, not a silent no-op (22004)" \
	"$(q "$su" "SELECT mrl_register_model('x', 'openai:mrl-64', server => NULL)")" 22004
check "a server of another wrapper is refused (42809)" \
	"$(q "$su" "CREATE FOREIGN DATA WRAPPER other_fdw" "CREATE SERVER other FOREIGN DATA WRAPPER other_fdw" \
		"SELECT mrl_register_model('x', 'openai:mrl-64', server => 'other')")" 42809
q "$su" "GRANT USAGE ON FOREIGN SERVER oai TO alice" "GRANT USAGE ON FOREIGN SERVER ollama TO alice" >/dev/null
arm
out=$(q alice "SELECT mrl_register_model('oai', 'openai:mrl-64', server => 'oai')" \
	"SELECT mrl_register_model('oai_fixed', 'openai:fixed-64', server => 'oai')" \
	"SELECT mrl_register_model('oai_ignore', 'openai:ignore-64', server => 'oai')" \
	"SELECT string_agg(concat_ws(',', name, arch, dims, server, sends_dimensions, path, vocab), ' ' ORDER BY name) FROM mrl_model_info WHERE server IS NOT NULL")
check "registration records the API, the width and whether dims go server-side" "$(echo $out)" \
	"oai,openai,64,oai,t,openai:mrl-64 oai_fixed,openai,64,oai,f,openai:fixed-64 oai_ignore,openai,64,oai,f,openai:ignore-64"
check "registration asked each model for its width, then for 32 dims, with the registering role's key" \
	"$(fake_log "[(e['model'], e['dimensions'], e['auth'] == 'Bearer $key_alice') for e in log]")" \
	"[('mrl-64', None, True), ('mrl-64', 32, True), ('fixed-64', None, True), ('fixed-64', 32, True), ('ignore-64', None, True), ('ignore-64', 32, True)]"
check "an unknown model is refused at registration with the API's message" \
	"$(msg alice "SELECT mrl_register_model('nope', 'openai:nope', server => 'oai')")" \
	'ERROR:  server "oai" answered HTTP 404 for model "nope": The model `nope` does not exist '

check "a role without a grant cannot use the model (42501)" "$(q bob "SELECT mrl_embed('hello 1', 'oai')")" 42501
q alice "SELECT mrl_grant_model('oai', 'bob')" "SELECT mrl_grant_model('oai_fixed', 'bob')" >/dev/null
arm
check "after mrl_grant_model it can: the vector is exactly the API's" \
	"$(q bob "SELECT mrl_embed('hello 1', 'oai') = '$(ref mrl-64 'hello ')'")" t
check "the request carried the owner's key, which bob cannot read" \
	"$(fake_log "[e['auth'] == 'Bearer $key_alice' for e in log]")|$(q bob "SELECT count(*) FROM pg_user_mappings WHERE umoptions IS NOT NULL")" "[True]|0"
q "$su" "REVOKE USAGE ON FOREIGN SERVER oai FROM alice" >/dev/null
check "once the owner loses USAGE on the server, the model stops (42501)" "$(q bob "SELECT mrl_embed('hello 1', 'oai')")" 42501
q "$su" "GRANT USAGE ON FOREIGN SERVER oai TO alice" >/dev/null
# The registry keeps the owner by name: once that role is dropped, the model
# must not fall back to the server's PUBLIC mapping (role InvalidOid).
q "$su" "CREATE ROLE dave LOGIN" "GRANT USAGE ON FOREIGN SERVER oai TO dave" \
	"CREATE USER MAPPING FOR dave SERVER oai OPTIONS (api_key 'sk-dave')" >/dev/null
q dave "SELECT mrl_register_model('oai_dave', 'openai:mrl-64', server => 'oai')" \
	"SELECT mrl_grant_model('oai_dave', 'bob')" >/dev/null
q "$su" "GRANT USAGE ON FOREIGN SERVER oai TO PUBLIC" "DROP USER MAPPING FOR dave SERVER oai" \
	"REVOKE USAGE ON FOREIGN SERVER oai FROM dave" "DROP ROLE dave" >/dev/null
arm
check "a model whose owner role was dropped stops (42704), sending nothing with the PUBLIC mapping's key" \
	"$(q bob "SELECT mrl_embed('hello 1', 'oai_dave')")|$(fake_log "len(log)")" "42704|0"
q "$su" "REVOKE USAGE ON FOREIGN SERVER oai FROM PUBLIC" "SELECT mrl_unregister_model('oai_dave')" >/dev/null

# ---------- vectors ----------

q "$su" "ALTER SERVER oai OPTIONS (ADD encoding_format 'float')" >/dev/null
arm
check "encoding_format float gives the same exact vector" \
	"$(q alice "SELECT mrl_embed('hello 1', 'oai') = '$(ref mrl-64 'hello ')'")|$(fake_log "log[0]['encoding_format']")" "t|float"
q "$su" "ALTER SERVER oai OPTIONS (DROP encoding_format)" >/dev/null
arm
q alice "SELECT mrl_embed('hello 1', 'oai')" >/dev/null
check "base64 is asked for by default" "$(fake_log "log[0]['encoding_format']")" base64

/usr/bin/python3 "$fake_py" expected mrl-64 'text ' 1000 >"$work/exp64.tsv"
/usr/bin/python3 "$fake_py" expected mrl-64 'text ' 1000 16 >"$work/exp16.tsv"
/usr/bin/python3 "$fake_py" expected mrl-64 'text ' 1000 16 --local >"$work/exp16local.tsv"
q "$su" "CREATE TABLE exp64 (i int, v mvector)" "CREATE TABLE exp16 (i int, v mvector)" \
	"CREATE TABLE exp16local (i int, v mvector)" "\\copy exp64 FROM '$work/exp64.tsv'" \
	"\\copy exp16 FROM '$work/exp16.tsv'" "\\copy exp16local FROM '$work/exp16local.tsv'" \
	"GRANT SELECT ON exp64, exp16, exp16local TO alice" >/dev/null
# batch MODEL N [DIMS]: the texts 'text 1'..'text N' embedded in one text[] call,
# numbered, as a query
batch() { echo "SELECT i, e FROM unnest(mrl_embed(array(SELECT 'text ' || g FROM generate_series(1, $2) g), '$1'${3:+, dims => $3})) WITH ORDINALITY u(e, i)"; }

q "$su" "ALTER SERVER oai OPTIONS (ADD batch_size '64', ADD concurrency '4')" >/dev/null
arm
check "1,000 texts through the text[] form: every vector the API's, in input order" \
	"$(q alice "SELECT count(*) FILTER (WHERE b.e = x.v) FROM ($(batch oai 1000)) b JOIN exp64 x USING (i)")" 1000
check "in 16 requests of at most 64 texts, 2 to 4 in flight at once" \
	"$(fake_log "(len(log), max(e['n'] for e in log), 2 <= mc <= 4)")" "(16, 64, True)"
q "$su" "ALTER SERVER oai OPTIONS (SET concurrency '1')" >/dev/null
arm
q alice "SELECT count(*) FROM ($(batch oai 300)) b" >/dev/null
check "concurrency 1 keeps one request in flight" "$(fake_log mc)" 1
q "$su" "ALTER SERVER oai OPTIONS (SET batch_size '1000', SET concurrency '4', ADD max_batch_tokens '40')" >/dev/null
arm
check "max_batch_tokens bounds each request's UTF-8 bytes (texts of 6 to 8 bytes: at most 6 a request)" \
	"$(q alice "SELECT count(*) FILTER (WHERE b.e = x.v) FROM ($(batch oai 100)) b JOIN exp64 x USING (i)")|$(fake_log "(max(e['n'] for e in log), len(log) >= 100 // 6)")" \
	"100|(6, True)"
q "$su" "ALTER SERVER oai OPTIONS (SET batch_size '50', DROP max_batch_tokens)" >/dev/null
check "NULL elements give NULLs, an empty array an empty one" \
	"$(q alice "SELECT array_length(a, 1), a[2] IS NULL, a[1] = (SELECT v FROM exp64 WHERE i = 1), a[3] = (SELECT v FROM exp64 WHERE i = 3) FROM mrl_embed(array['text 1', NULL, 'text 3'], 'oai') a" \
		"SELECT cardinality(mrl_embed('{}'::text[], 'oai'))")" "3|t|t|t
0"

arm
check "dims => 16 on a model that takes dimensions: the API's 16-dim vectors, asked server-side" \
	"$(q alice "SELECT count(*) FILTER (WHERE b.e = x.v) FROM ($(batch oai 200 16)) b JOIN exp16 x USING (i)")|$(fake_log "set(e['dimensions'] for e in log)")" \
	"200|{16}"
arm
check "dims => 16 on one that refuses them: full vectors cut and re-normalised here (numpy-free reference)" \
	"$(q alice "SELECT count(*) FILTER (WHERE mrl_l2_distance(b.e, x.v) < 1e-6 AND mrl_dims(b.e) = 16) FROM ($(batch oai_fixed 200 16)) b JOIN exp16local x USING (i)")|$(fake_log "set(e['dimensions'] for e in log)")" \
	"200|{None}"
arm
check "dims => 48, 32, 16: base64 of 192, 128 and 64 bytes (no padding, =, ==) read exactly" \
	"$(q alice "SELECT mrl_embed('hello 1', 'oai', dims => 48) = '$(ref mrl-64 'hello ' 48)', mrl_embed('hello 1', 'oai', dims => 32) = '$(ref mrl-64 'hello ' 32)', mrl_embed('hello 1', 'oai', dims => 16) = '$(ref mrl-64 'hello ' 16)'")" "t|t|t"
check "dims out of range and layers are refused (22023)" \
	"$(q alice "SELECT mrl_embed('a', 'oai', dims => 65)"; q alice "SELECT mrl_embed('a', 'oai', dims => 0)"; q alice "SELECT mrl_embed('a', 'oai', layers => 1)")" \
	"22023
22023
22023"
check "mrl_train refuses a remote model: 0A000, with a hint" \
	"$(msg "$su" "SELECT * FROM mrl_train('t', 'SELECT 1', base => 'oai')")|$(q "$su" "SELECT * FROM mrl_train('t', 'SELECT 1', base => 'oai')")" \
	'ERROR:  model "oai" is served by a remote API DETAIL:  mrl_train runs local models only. HINT:  An API returns vectors, not the weights mrl_train starts from: give a local base model, or NULL to start from the built-in tokenizer. |0A000'
check "mrl_evaluate_classification and mrl_evaluate_clustering refuse one too (0A000)" \
	"$(q "$su" "CREATE TABLE lab (id int, body text, label text)" "SELECT * FROM mrl_evaluate_classification('lab', 'oai')"; q "$su" "SELECT * FROM mrl_evaluate_clustering('lab', 'oai')")" \
	"0A000
0A000"

# mrl_evaluate with a remote model: 60 docs and 12 queries of the fake's
# vectors, graded judgements by a rule; the metrics at 4, 16 and 64 dims
# from the same vectors ranked and scored by numpy (test/evaluate/reference.py)
q "$su" "CREATE TABLE rdocs AS SELECT g AS id, 'doc ' || g AS body FROM generate_series(1, 60) g" \
	"CREATE TABLE rqueries AS SELECT g AS id, 'query ' || g AS body FROM generate_series(1, 12) g" \
	"CREATE TABLE rqrels AS SELECT q AS query_id, d AS doc_id, 1 + d % 2 AS relevance FROM generate_series(1, 12) q, generate_series(1, 60) d WHERE (d * 7 + q * 3) % 11 = 0" >/dev/null
arm
q "$su" "SELECT dims, ndcg_at_10, recall_at_10, recall_at_100, mrr_at_10 FROM mrl_evaluate('rqueries', 'rqrels', 'rdocs', model => 'oai', dims => '{4,16,64}') WHERE method = 'prefix' ORDER BY dims" >"$work/reval.txt"
check "mrl_evaluate with a remote model: the metrics at 4, 16 and 64 dims are numpy's on the API's vectors" \
	"$(/usr/bin/python3 - "$work/reval.txt" <<'PY'
import sys
sys.path[:0] = ["test/remote", "test/evaluate"]
import numpy as np
from fake_embed_server import vector
from reference import evaluate
docs = list(range(1, 61))
qrels = [{d: 1 + d % 2 for d in docs if (d * 7 + q * 3) % 11 == 0} for q in range(1, 13)]
D = np.array([vector("doc %d" % d, 64) for d in docs])
Q = np.array([vector("query %d" % q, 64) for q in range(1, 13)])
got = [[float(x) for x in line.split("|")] for line in open(sys.argv[1])]
want = [[dims] + list(evaluate(Q, D, docs, qrels, dims)) for dims in (4, 16, 64)]
print("same" if len(got) == 3 and np.allclose(got, want, rtol=0, atol=1e-9) else "got %s, numpy %s" % (got, want))
PY
)" same
check "in one request per batch of 50 (docs 50 + 10, queries 12), full vectors, prefixes cut here" \
	"$(fake_log "(sorted(e['n'] for e in log), {e['dimensions'] for e in log})")" "([10, 12, 50], {None})"

arm
out=$(q alice "SELECT mrl_register_model('oll', 'ollama:mrl-32', server => 'ollama')" \
	"SELECT mrl_embed('hello 1', 'oll') = '$(ref mrl-32 'hello ')'" \
	"SELECT mrl_embed('hello 1', 'oll', dims => 8) = '$(ref mrl-32 'hello ' 8)'" \
	"SELECT count(*) FILTER (WHERE mrl_dims(e) = 32), bool_and(e = '$(ref mrl-32 'text ')') FILTER (WHERE i = 1) FROM unnest(mrl_embed(array(SELECT 'text ' || g FROM generate_series(1, 100) g), 'oll')) WITH ORDINALITY u(e, i)")
check "Ollama's /api/embed: registration, one text, dims server-side, 100 texts in batches of 64, no key" \
	"$(echo $out)|$(fake_log "(set(e['path'] for e in log), sorted(e['n'] for e in log[-2:]), log[3]['dimensions'], set(e['auth'] for e in log))")" \
	"t t 100|t|({'/api/embed'}, [36, 64], 8, {None})"

# ---------- Azure OpenAI: deployment URLs, an api-key header ----------

key_azure=sk-azure-$RANDOM$RANDOM-secret
check "api 'azure' and api_version go together; bad values are refused" \
	"$(for opts in "api 'azure'" "api_version '2024-10-21'" "api 'azure', api_version '2024/10'" "api 'openai', api_version 'v'"; do
		q "$su" "CREATE SERVER v FOREIGN DATA WRAPPER mrl_http OPTIONS (url '$api_url', $opts)"; done | tr '\n' ' ')" \
	"HV00J HV00J 22023 22023 "
# (log_statement = all would log the key of CREATE USER MAPPING: off in that session)
q "$su" "CREATE SERVER az FOREIGN DATA WRAPPER mrl_http OPTIONS (url '$api_url/', api 'azure', api_version '2024-10-21')" \
	"GRANT USAGE ON FOREIGN SERVER az TO alice" "SET log_statement = 'none'" \
	"CREATE USER MAPPING FOR alice SERVER az OPTIONS (api_key '$key_azure')" >/dev/null
arm
out=$(q alice "SELECT mrl_register_model('az', 'openai:mrl-64', server => 'az')" \
	"SELECT sends_dimensions FROM mrl_model_info WHERE name = 'az'" \
	"SELECT mrl_embed('hello 1', 'az') = '$(ref mrl-64 'hello ')'" \
	"SELECT mrl_embed('hello 1', 'az', dims => 16) = '$(ref mrl-64 'hello ' 16)'" \
	"SELECT count(*) FILTER (WHERE b.e = x.v) FROM ($(batch az 100)) b JOIN exp64 x USING (i)")
check "Azure: registration, one text, dims server-side and 100 texts, each the API's vector" "$(echo $out)" "t t t 100"
check "every request went to /openai/deployments/{deployment}/embeddings?api-version=..., the key in api-key only" \
	"$(fake_log "(len(log) >= 5, {(e['path'], e['api_version'], e['api_key'] == '$key_azure', e['auth']) for e in log})")" \
	"(True, {('/openai/deployments/mrl-64/embeddings', '2024-10-21', True, None)})"
check "an Azure server takes openai:<deployment> models only, named as one URL segment" \
	"$(q alice "SELECT mrl_register_model('x', 'ollama:mrl-64', server => 'az')"; q alice "SELECT mrl_register_model('x', 'openai:../mrl-64', server => 'az')")" \
	"22023
22023"
arm '{"kind": "echo_key"}'
out=$(msg alice "SELECT mrl_embed('hello 1', 'az')")
check "an Azure error echoing the api-key header shows [api_key] instead" \
	"$(grep -c -- "$key_azure" <<<"$out")|$(grep -c '\[api_key\]' <<<"$out")" "0|1"
# azure_status HEADER: the fake's status for an Azure request with HEADER
azure_status()
{
	/usr/bin/python3 -c "import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1], data=b'{\"input\": [\"a\"]}', headers=dict([sys.argv[2].split(': ')]))
try:
    print(urllib.request.urlopen(req).status)
except urllib.error.HTTPError as e:
    print(e.code)" "$api_url/openai/deployments/mrl-64/embeddings$1" "$2"
}
check "the fake answers Azure requests only with api-version and an api-key header (as Azure: 404, 401)" \
	"$(azure_status '?api-version=1' 'api-key: k') $(azure_status '' 'api-key: k') $(azure_status '?api-version=1' 'Authorization: Bearer k')" \
	"200 404 401"

q "$su" "CREATE DATABASE latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" >/dev/null
arm
check "a LATIN1 database's text reaches the API as UTF-8" \
	"$(PGCLIENTENCODING=UTF8 PGDATABASE=latin1 q "$su" "SET client_min_messages = warning" "CREATE EXTENSION mrl" \
		"CREATE SERVER oai FOREIGN DATA WRAPPER mrl_http OPTIONS (url '$api_url/v1')" \
		"SELECT mrl_register_model('oai', 'openai:mrl-64', server => 'oai')" \
		"SELECT mrl_embed('café 1', 'oai') = '$(ref mrl-64 'café ')'" | tail -1)|$(fake_log "log[-1]['first']")" "t|café 1"

# ---------- the footprint: libcurl is opened by the first remote request only ----------

out=$(q "$su" "SELECT mrl_dims(mrl_embed('local model'))" \
	"SELECT pg_read_file('/proc/self/maps') ~ 'libcurl'" \
	"SELECT mrl_dims(mrl_embed('hello 1', 'oai'))" \
	"SELECT pg_read_file('/proc/self/maps') ~ 'libcurl'")
check "a backend embedding with a local model does not map libcurl; a remote request opens it" "$(echo $out)" "256 f 64 t"

# ---------- one statement: all or nothing ----------

q "$su" "CREATE TABLE docs (id int PRIMARY KEY, body text, emb mvector)" \
	"INSERT INTO docs SELECT g, 'text ' || g FROM generate_series(1, 100) g" \
	"GRANT SELECT, UPDATE ON docs TO alice" >/dev/null
arm '{"kind": "status", "status": 400, "message": "bad input", "after": 20}'
check "a per-row UPDATE whose 21st request fails is rolled back whole" \
	"$(q alice "UPDATE docs SET emb = mrl_embed(body, 'oai') WHERE id <= 40")|$(q alice "SELECT count(emb) FROM docs")" "38000|0"
arm
check "run again, every row gets the API's vector, over one kept-alive connection" \
	"$(q alice "UPDATE docs SET emb = mrl_embed(body, 'oai') WHERE id <= 40" \
		"SELECT count(*) FROM docs JOIN exp64 x ON x.i = docs.id WHERE emb = x.v")|$(fake_log "(len(log), len(set(e['peer'] for e in log)))")" \
	"40|(40, 1)"
# mrl_embed_table: the rows read in fetches of 4 x batch_size x concurrency,
# each fetch's texts sent in batches of 10, up to concurrency in flight, then
# written back by one UPDATE; all in the caller's statement
embed_docs="SELECT mrl_embed_table('docs', 'body', 'emb', 'oai')"
q "$su" "ALTER SERVER oai OPTIONS (SET batch_size '10', SET concurrency '1', ADD max_retries '1')" \
	"UPDATE docs SET emb = NULL" >/dev/null
arm '{"kind": "status", "status": 400, "message": "bad input", "after": 5}'
check "mrl_embed_table whose 6th request fails (the first fetch's 40 rows already updated) changes no row" \
	"$(q alice "$embed_docs")|$(q alice "SELECT count(emb) FROM docs")|$(fake_log "len(log) >= 6")" "38000|0|True"
q "$su" "ALTER SERVER oai OPTIONS (SET concurrency '4')" >/dev/null
arm '{"kind": "status", "status": 503, "after": 3, "times": 100}'
check "nor one whose batches fail from the 4th on, after retries" \
	"$(q alice "$embed_docs")|$(q alice "SELECT count(emb) FROM docs")|$(fake_log "[e['fault'] for e in log].count('status') >= 2")" "38000|0|True"
q "$su" "CLUSTER docs USING docs_pkey" >/dev/null	# the rows in id order on disk
fake '{"reset": true, "latency": 0.05}' >/dev/null	# (answers that overlap)
check "run again: 100 rows updated, each with the API's vector of its own text" \
	"$(q alice "$embed_docs" "SELECT count(*) FROM docs JOIN exp64 x ON x.i = docs.id WHERE emb = x.v")" "100
100"
check "in 10 requests of 10 texts, each of 10 rows in table order, 2 to 4 in flight" \
	"$(fake_log "(sorted(e['n'] for e in log), sorted(int(e['first'].split()[1]) for e in log), 2 <= mc <= 4)")" \
	"([10, 10, 10, 10, 10, 10, 10, 10, 10, 10], [1, 11, 21, 31, 41, 51, 61, 71, 81, 91], True)"
fake '{"latency": 0}' >/dev/null
arm
check "only_missing (the default) embeds the rows without a vector only; only_missing => false all" \
	"$(q alice "UPDATE docs SET emb = NULL WHERE id % 20 = 0" "$embed_docs" \
		"SELECT mrl_embed_table('docs', 'body', 'emb', 'oai', only_missing => false)")|$(fake_log "[e['n'] for e in log][0]")" "5
100|5"
arm
check "dims => 16: asked of the API, the vectors its 16-dim ones" \
	"$(q alice "SELECT mrl_embed_table('docs', 'body', 'emb', 'oai', dims => 16, only_missing => false)" \
		"SELECT count(*) FROM docs JOIN exp16 x ON x.i = docs.id WHERE emb = x.v")|$(fake_log "{e['dimensions'] for e in log}")" "100
100|{16}"
q "$su" "GRANT SELECT ON docs TO bob" >/dev/null
arm
check "a role without UPDATE on the table is refused (42501) before any request" \
	"$(q bob "SELECT mrl_embed_table('docs', 'body', 'emb', 'oai_fixed')")|$(fake_log "len(log)")" "42501|0"
q "$su" "CREATE TABLE \"my \"\"docs\"\" table\" (id int, \"the body\" text, \"e\"\"mb\" mvector(64))" \
	"INSERT INTO \"my \"\"docs\"\" table\" SELECT g, 'text ' || g FROM generate_series(1, 30) g" \
	"ALTER TABLE \"my \"\"docs\"\" table\" ENABLE ROW LEVEL SECURITY" \
	"CREATE POLICY odd ON \"my \"\"docs\"\" table\" USING (id <= 20)" \
	"GRANT SELECT, UPDATE ON \"my \"\"docs\"\" table\" TO alice" >/dev/null
arm
check "quotes and spaces in the table's and columns' names; row-level security applies (20 of 30 rows)" \
	"$(q alice "SELECT mrl_embed_table('\"my \"\"docs\"\" table\"', 'the body', 'e\"mb', 'oai')" \
		"SELECT count(*) FROM \"my \"\"docs\"\" table\" t JOIN exp64 x ON x.i = t.id WHERE t.\"e\"\"mb\" = x.v")|$(q "$su" "SELECT count(\"e\"\"mb\") FROM \"my \"\"docs\"\" table\"")" \
	"20
20|20"
check "a view, a text column that is not text, an unknown column, dims against the column's width" \
	"$(q "$su" "CREATE VIEW docs_view AS SELECT * FROM docs" "SELECT mrl_embed_table('docs_view', 'body', 'emb', 'oai')"
		q "$su" "SELECT mrl_embed_table('docs', 'id', 'emb', 'oai')"; q "$su" "SELECT mrl_embed_table('docs', 'body', 'nope', 'oai')"
		q "$su" "SELECT mrl_embed_table('\"my \"\"docs\"\" table\"', 'the body', 'e\"mb', 'oai', dims => 16)")" \
	"42809
42804
42703
22023"
# progress: one request of 10 texts at a time, each answered after 0.3 s
q "$su" "ALTER SERVER oai OPTIONS (SET concurrency '1')" >/dev/null
fake '{"reset": true, "latency": 0.3}' >/dev/null
PGUSER=alice psql -X -q -At -c "SELECT mrl_embed_table('docs', 'body', 'emb', 'oai', only_missing => false)" >"$work/progress.out" 2>&1 &
check "mrl_progress shows mrl_embed_table's rows as they are updated" \
	"$(msg "$su" "DO \$\$
DECLARE d bigint;
BEGIN
	FOR i IN 1..200 LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT done INTO d FROM mrl_progress WHERE command = 'mrl_embed_table' AND phase = 'embedding rows';
		EXIT WHEN d > 0;
		PERFORM pg_sleep(0.05);
	END LOOP;
	RAISE NOTICE 'done %', d;
END \$\$" | grep -o 'done [0-9]*' | awk '$2 > 0 && $2 < 100 && $2 % 10 == 0 { print "some" }')" some
wait $!
fake '{"latency": 0}' >/dev/null
q "$su" "ALTER SERVER oai OPTIONS (SET concurrency '4', DROP max_retries)" >/dev/null

# ---------- faults ----------

one="SELECT mrl_embed('hello 1', 'oai') = '$(ref mrl-64 'hello ')'"
arm '{"kind": "status", "status": 429, "retry_after": 1, "times": 2, "message": "Rate limit reached"}'
elapsed_ms q alice "$one"
check "429 with Retry-After: 1, twice: retried after the waits asked for, then the vector" \
	"$out|$([ "$ms" -ge 2000 ] && echo waited)|$(fake_log "len(log)")" "t|waited|3"
arm '{"kind": "status", "status": 500, "times": 2}'
elapsed_ms q alice "$one"
check "500 twice, no Retry-After: retried with backoff (0.5 s, 1 s, with jitter)" \
	"$out|$([ "$ms" -ge 1000 ] && echo waited)|$(fake_log "len(log)")" "t|waited|3"
# (the retry must not come before the date: a check of the time it took
# from the call would fail when a loaded machine delays the call itself)
when=$(($(date +%s) + 3))
arm "{\"kind\": \"status\", \"status\": 503, \"retry_after\": \"$(date -u -d "@$when" '+%a, %d %b %Y %H:%M:%S GMT')\"}"
out=$(q alice "$one")
check "Retry-After as an HTTP date three seconds ahead: waited for" \
	"$out|$([ "$(date +%s)" -ge "$when" ] && echo waited)|$(fake_log "len(log)")" "t|waited|2"
arm '{"kind": "status", "status": 429, "retry_after_ms": 300, "retry_after": 30}'
elapsed_ms q alice "$one"
check "Retry-After-Ms is preferred to Retry-After" "$out|$([ "$ms" -lt 5000 ] && echo quick)" "t|quick"
q "$su" "ALTER SERVER oai OPTIONS (ADD max_retries '2')" >/dev/null
arm '{"kind": "status", "status": 429, "retry_after": 0, "times": 10, "message": "Rate limit reached for requests"}'
check "429 past max_retries: 38000 with the API's message, after 3 attempts" \
	"$(msg alice "$one")|$(fake_log "len(log)")" \
	'ERROR:  server "oai" answered HTTP 429 for model "oai": Rate limit reached for requests DETAIL:  Attempts: 3. |3'
q "$su" "ALTER SERVER oai OPTIONS (DROP max_retries)" >/dev/null
arm '{"kind": "status", "status": 429, "retry_after": 3600}'
elapsed_ms msg alice "$one"
check "a Retry-After of an hour is not waited for" "$out|$([ "$ms" -lt 5000 ] && echo quick)" \
	'ERROR:  server "oai" answered HTTP 429 for model "oai": injected fault DETAIL:  It asked to retry after 3600 s, more than the 60 s waited at most. |quick'
arm '{"kind": "status", "status": 400, "message": "Invalid input: $.input is invalid"}'
check "400: 38000 with the API's message, not retried" \
	"$(msg alice "$one")|$(fake_log "len(log)")" \
	'ERROR:  server "oai" answered HTTP 400 for model "oai": Invalid input: $.input is invalid |1'
arm '{"kind": "status", "status": 401, "message": "Incorrect API key provided"}'
check "401: 28000" "$(q alice "$one")" 28000
arm '{"kind": "status", "status": 404, "message": "model gone"}'
check "Ollama's error shape is read too" "$(msg alice "SELECT mrl_embed('a', 'oll')")" \
	'ERROR:  server "ollama" answered HTTP 404 for model "oll": model gone '

# invalid MODEL FAULT: the error of one 2-text call
invalid() { arm "{\"kind\": \"$2\"}"; msg alice "SELECT mrl_embed(array['text 1', 'text 2'], '$1')"; }
check "malformed JSON: 38000, said so" "$(invalid oai malformed)" \
	'ERROR:  invalid response from server "oai" for model "oai" DETAIL:  the response is not valid JSON: the JSON ends too early. '
check "a vector of the wrong width" "$(invalid oai wrong_dims)" \
	'ERROR:  invalid response from server "oai" for model "oai" DETAIL:  the vector at index 0 has 65 dimensions, expected 64. '
check "too few vectors" "$(invalid oai too_few)" \
	'ERROR:  invalid response from server "oai" for model "oai" DETAIL:  the response holds 1 vectors for 2 texts. '
check "an index given twice" "$(invalid oai dup_index)" \
	'ERROR:  invalid response from server "oai" for model "oai" DETAIL:  index 0 appears twice in "data". '
check "a non-finite element: 22000 (base64, float JSON, Ollama)" \
	"$(invalid oai nonfinite)|$(q "$su" "ALTER SERVER oai OPTIONS (ADD encoding_format 'float')"; arm '{"kind": "nonfinite"}'; q alice "SELECT mrl_embed('a', 'oai')")|$(arm '{"kind": "nonfinite"}'; q alice "SELECT mrl_embed('a', 'oll')")" \
	'ERROR:  model "oai" (server "oai") returned a non-finite embedding DETAIL:  element 0 of the vector at index 0 is not a finite float4. |22000|22000'
q "$su" "ALTER SERVER oai OPTIONS (DROP encoding_format)" >/dev/null
arm '{"kind": "shuffle"}'
check "data in reverse order with true index fields: put back in input order" \
	"$(q alice "SELECT count(*) FILTER (WHERE b.e = x.v) FROM ($(batch oai 10)) b JOIN exp64 x USING (i)")" 10
arm '{"kind": "huge"}'
elapsed_ms q alice "$one"
check "an endless response is cut at the size its vectors can take (54000)" \
	"$out|$([ "$ms" -lt 10000 ] && echo quick)" "54000|quick"
arm '{"kind": "close"}'
check "a connection closed without an answer is retried" "$(q alice "$one")|$(fake_log "len(log)")" "t|2"
q "$su" "ALTER SERVER oai OPTIONS (ADD timeout '1s')" >/dev/null
arm '{"kind": "slow", "seconds": 4}'
elapsed_ms msg alice "$one"
check "an answer slower than the server's timeout: 08006 after it" "$out|$([ "$ms" -lt 3500 ] && echo quick)" \
	'ERROR:  request to server "oai" for model "oai" timed out after 1000 ms HINT:  The server option timeout sets the limit of one request. |quick'
q "$su" "ALTER SERVER oai OPTIONS (DROP timeout)" >/dev/null
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
q "$su" "CREATE SERVER closed FOREIGN DATA WRAPPER mrl_http OPTIONS (url 'http://127.0.0.1:$port', max_retries '0')" \
	"GRANT USAGE ON FOREIGN SERVER closed TO alice" >/dev/null
check "a port nobody listens on: 08001" \
	"$(q alice "SELECT mrl_register_model('closed', 'ollama:mrl-8', server => 'closed')")" 08001
arm "{\"kind\": \"redirect\", \"location\": \"$elsewhere_url/v1/embeddings\"}"
check "a redirect is not followed: an error, and the other host saw no request (no key)" \
	"$(q alice "$one")|$(/usr/bin/python3 "$fake_py" control "$elsewhere_url" '{}' | /usr/bin/python3 -c 'import json, sys; print(len(json.load(sys.stdin)["log"]))')" \
	"38000|0"

arm '{"kind": "slow", "seconds": 30}'
elapsed_ms q alice "SET statement_timeout = '1s'" "$one"
check "statement_timeout stops a request in flight (57014)" "$out|$([ "$ms" -lt 5000 ] && echo quick)" "57014|quick"
arm '{"kind": "slow", "seconds": 30}'
t0=$(date +%s%N)
PGUSER=alice PGAPPNAME=cancel_me psql -X -q -At -v VERBOSITY=sqlstate -c "$one" -c "$one" >"$work/cancel.out" 2>&1 &
q "$su" "DO \$\$
DECLARE p int;
BEGIN
	WHILE p IS NULL LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT pid INTO p FROM pg_stat_activity WHERE application_name = 'cancel_me' AND state = 'active';
		PERFORM pg_sleep(0.05);
	END LOOP;
	PERFORM pg_sleep(0.5);
	PERFORM pg_cancel_backend(p);
END \$\$" >/dev/null
wait $!
ms=$((($(date +%s%N) - t0) / 1000000))
check "pg_cancel_backend stops a request in flight (57014); the session's next request works" \
	"$(tr '\n' ' ' <"$work/cancel.out")|$([ "$ms" -lt 5000 ] && echo quick)" "ERROR:  57014 t |quick"

# ---------- the key stays secret ----------

arm '{"kind": "echo_key"}'
out=$(msg bob "$one")
check "an error echoing the Authorization header shows [api_key] instead" \
	"$(grep -c -- "$key_alice" <<<"$out")|$(grep -c '\[api_key\]' <<<"$out")" "0|1"
arm '{"kind": "slow", "seconds": 3}'
PGUSER=bob PGAPPNAME=slow_one psql -X -q -At -c "$one" >/dev/null 2>&1 &
sleep 1
# (the key is never written in a statement here: log_statement = all would log it)
q "$su" "SELECT application_name, query FROM pg_stat_activity" >"$work/activity.out"
check "pg_stat_activity during a request: the statement, no key" \
	"$(grep -c '^slow_one|SELECT mrl_embed' "$work/activity.out")|$(grep -c -- "$key_alice" "$work/activity.out")" "1|0"
wait $!
check "no key in mrl_model_info or mrl_models, for any role" \
	"$(for r in alice bob carol; do q "$r" "SELECT count(*) FROM mrl_model_info m WHERE m::text LIKE '%sk-%'" "SELECT count(*) FROM mrl_models m WHERE m::text LIKE '%sk-%'"; done | tr '\n' ' ')" \
	"0 0 0 0 0 0 "
"$PG_BINDIR/pg_dump" -U bob -d postgres -T docs -T 'exp*' -T lab -T 'r*' -T docs_view -T 'my*' >"$work/bob.sql" 2>"$work/bob.err"
"$PG_BINDIR/pg_dump" -d postgres >"$work/su.sql" 2>&1
check "pg_dump by a role without the mapping holds no key; a superuser's holds it once, in the mapping" \
	"$(grep -c CREATE.USER.MAPPING "$work/bob.sql")|$(grep -c -- "sk-" "$work/bob.sql")|$(grep -c -- "$key_alice" "$work/su.sql")|$(grep -B1 -- "$key_alice" "$work/su.sql" | grep -c '^CREATE USER MAPPING FOR alice SERVER oai OPTIONS')" \
	"3|0|1|1"
log=$MRL_TMP/server.log
check "the server log at log_min_messages = debug5 and log_statement = all has no key" \
	"$(grep -c -- "sk-alice\|sk-public\|sk-azure" "$log")|$([ "$(grep -c 'DEBUG:' "$log")" -gt 1000 ] && echo debug)|$(grep -c 'mrl_embed' "$log" | awk '$1 > 50 { print "statements" }')" \
	"0|debug|statements"
