#!/usr/bin/env bash
# 51_citus.sh: mrl on Citus, a coordinator and 2 workers on loopback (each
# its own data directory and port), compared with the same data in local
# tables of the coordinator (a single node):
#  - a distributed table with an mvector column and a funnel index on every
#    shard; ORDER BY emb <=> q LIMIT k runs on the shards' indexes and is
#    merged on the coordinator; in exact mode it equals a sequential scan;
#  - the search settings reach the workers through SET LOCAL with
#    citus.propagate_set_commands = 'local' and ALTER DATABASE ... SET (a
#    plain SET does not);
#  - models on every node: mrl_distribute_models copies registrations and
#    stored models, and unregisters what the coordinator no longer has;
#  - UPDATE ... SET emb = mrl_embed_pinned(body, model, sha256) runs on the
#    workers with the built-in model and a trained one (mrl_embed is
#    refused there), with the coordinator's vectors;
#  - mrl_embed in (SELECT ...) of an ORDER BY is computed once, not per
#    shard (workers' log_statement);
#  - EXPLAIN EXECUTE of PREPARE p(mvector) gets no plan from the shards, as
#    with any parameter of a type that is not built in (Citus sends them
#    untyped); PREPARE p(text) with $1::mvector works, vector computed once;
#  - avg/sum, mrl_evaluate (tables not co-located, reference qrels) equal the
#    single node's; mrl_train gives the same model whatever the row order;
#  - DROP EXTENSION mrl (prepared on each worker by Citus) succeeds.
# Runs only where citus.so is installed; prints a TAP skip otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
. "$MRL_ROOT/test/citus_lib.sh"
cd "$MRL_ROOT"

if ! citus_installed; then
	skip "Citus not installed"
	exit 0
fi
if [ -z "${PGHOST:-}" ]; then
	mrl_build_install || { notok "build and install the extension"; exit 1; }
fi
citus_start 2 "log_statement = 'all'" || { notok "start a coordinator and 2 workers"; exit 1; }
w1=${citus_ports[0]}
w2=${citus_ports[1]}
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# try: statements from stdin past errors: results and SQLSTATEs on one line
try() { psql -X -q -At -v VERBOSITY=sqlstate "$@" 2>&1 | sed -e '/^$/d' -e 's/^ERROR: *//' | tr '\n' ' '; }
# count_on_workers TEXT: statements the workers logged with TEXT (they get
# mrl_embed('...'::text) for mrl_embed('...'))
count_on_workers() { cat "$MRL_TMP"/worker*.log | grep -c "$1"; }

# 3000 documents in a table of 8 shards (not co-located with the others
# below) and the same rows in local tables of the coordinator
sql >/dev/null <<'SQL' || { notok "make the tables"; exit 1; }
SET client_min_messages = warning;
CREATE TABLE docs_local AS
	SELECT i AS id, format('%s %s %s for %s number %s',
		(ARRAY['red', 'green', 'blue', 'black', 'white', 'small'])[1 + i % 6],
		(ARRAY['valve', 'pump', 'filter', 'hose', 'gasket', 'nozzle', 'port', 'cable'])[1 + (i / 6) % 8],
		(ARRAY['kit', 'set', 'spare', 'adapter', 'part'])[1 + (i / 48) % 5],
		(ARRAY['boilers', 'engines', 'pools', 'gardens', 'servers', 'cats'])[1 + (i / 240) % 6], i) AS body
	FROM generate_series(1, 3000) i;
ALTER TABLE docs_local ADD COLUMN emb mvector(256);
UPDATE docs_local SET emb = mrl_embed(body);
CREATE TABLE docs (id int PRIMARY KEY, body text, emb mvector(256));
SELECT create_distributed_table('docs', 'id', shard_count => 8);
INSERT INTO docs SELECT * FROM docs_local;
CREATE INDEX docs_emb ON docs USING funnel (emb mvector_cosine_ops);
SQL

# 1. a funnel index on every shard; the top k of each shard's index merged
shard_indexes=$(for p in "$w1" "$w2"; do
	sql -p "$p" -c "SET citus.override_table_visibility = off" -c "SELECT count(*) FROM pg_class c
		JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'funnel' AND c.relname ~ '^docs_emb_[0-9]+$'"
done | paste -sd+ | bc)
check "a funnel index on each of the 8 shards" "$shard_indexes" 8
plan=$(sql <<'SQL'
SET citus.propagate_set_commands = 'local';
BEGIN;
SET LOCAL enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY emb <=> (SELECT mrl_embed('blue pump')) LIMIT 10;
COMMIT;
SQL
)
shape=$(echo "$plan" | grep -o -e '^Limit' -e 'Sort Key: remote_scan' -e 'Task Count: 8' -e 'Limit$' \
	-e 'Index Scan using docs_emb_[0-9]* on docs_[0-9]* docs' -e 'Order By: (emb <=> \$0)' | sed 's/[0-9]\+/N/g' | paste -sd'|')
check "ORDER BY emb <=> q LIMIT 10: 8 tasks, each a Limit over its shard's funnel index, merged by a Sort and Limit on the coordinator" \
	"$shape" "Limit|Sort Key: remote_scan|Task Count: N|Limit|Index Scan using docs_emb_N on docs_N docs|Order By: (emb <=> \$N)"

# (a column reference in the SELECT list keeps Citus from computing
# current_setting on the coordinator)
# 2. the settings reach the workers: not by a plain SET; by SET LOCAL with
# citus.propagate_set_commands = 'local', and by ALTER DATABASE ... SET
# (the default, 0, where the worker's backend has loaded mrl.so)
plain=$(sql -c "SET mrl.funnel_probes = 7" -c "SELECT string_agg(DISTINCT v, ',') FROM (SELECT
	coalesce(current_setting('mrl.funnel_probes', true), '0') || left(id::text, 0) AS v FROM docs) s")
local=$(sql -c "SET citus.propagate_set_commands = 'local'" -c "BEGIN" -c "SET LOCAL mrl.funnel_probes = 7" \
	-c "SET LOCAL mrl.funnel_exact = on" \
	-c "SELECT string_agg(DISTINCT v, ',') FROM (SELECT current_setting('mrl.funnel_probes', true) || ' ' ||
		current_setting('mrl.funnel_exact', true) || left(id::text, 0) AS v FROM docs) s" -c "COMMIT")
sql -c "ALTER DATABASE postgres SET mrl.funnel_shortlist = 123"
db=$(sql -c "SELECT string_agg(DISTINCT v, ',') FROM (SELECT current_setting('mrl.funnel_shortlist', true) || left(id::text, 0) AS v FROM docs) s")
sql -c "ALTER DATABASE postgres RESET mrl.funnel_shortlist"
check "a plain SET stays on the coordinator; SET LOCAL with citus.propagate_set_commands = 'local' and ALTER DATABASE SET reach every shard" \
	"$plain|$local|$db" "0|7 on|123"

# exact mode through the shards' indexes equals a sequential scan of one node
topk()
{
	sql -c "SET citus.propagate_set_commands = 'local'" -c "BEGIN" -c "SET LOCAL mrl.funnel_exact = on" \
		-c "SET LOCAL enable_seqscan = off" -c "SELECT string_agg(id || ':' || round(d::numeric, 6), ' ') FROM
		(SELECT id, emb <=> (SELECT mrl_embed('$2')) AS d FROM $1 ORDER BY emb <=> (SELECT mrl_embed('$2')) LIMIT 10) t" -c "COMMIT"
}
same=0
for q in 'blue pump' 'a cable for servers' 'number 1234'; do
	[ "$(topk docs "$q")" = "$(topk docs_local "$q")" ] && [ -n "$(topk docs "$q")" ] && same=$((same + 1))
done
check "in exact mode (SET LOCAL, propagated) the distributed top 10 equals a single node's sequential scan, 3 queries" "$same" 3

# 3. models on every node
sql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE pairs_local AS
	SELECT 'zq' || chr(97 + i % 26) || chr(97 + (i / 26) % 26) || ' part' AS code,
		'spare part number ' || i AS descr
	FROM generate_series(1, 120) i;
CREATE TABLE pairs (code text, descr text);
SELECT create_distributed_table('pairs', 'descr', shard_count => 5);
INSERT INTO pairs SELECT * FROM pairs_local;
SQL
sha=$(sql -c "SET client_min_messages = warning" \
	-c "SELECT sha256 FROM mrl_train('t1', \$\$SELECT code, descr FROM pairs_local\$\$, dims => '{8,16}', base => NULL, batch_size => 16)")
before=$(try -p "$w1" <<<"SELECT mrl_embed('x', 't1')")
first=$(sql -c "SELECT string_agg(node || ' ' || model || ' ' || action, ', ') FROM mrl_distribute_models()")
again=$(sql -c "SELECT string_agg(action, ' ') FROM mrl_distribute_models()")
check "mrl_distribute_models copies a model trained on the coordinator to the workers, then finds them up to date" \
	"$before|$first|$again" \
	"42704 |127.0.0.1:$w1 t1 copied, 127.0.0.1:$w2 t1 copied|unchanged unchanged"
check "... and a worker embeds with it as the coordinator does" \
	"$(sql -p "$w2" -c "SELECT mrl_embed('zqab part', 't1')")" "$(sql -c "SELECT mrl_embed('zqab part', 't1')")"

# mrl.default_model on the shards: a plain SET is not seen there (their
# vectors have the built-in model's 256 dims), a propagated SET LOCAL is
dims_on_shards() { sql -c "SET citus.propagate_set_commands = 'local'" -c "BEGIN" -c "$1" \
	-c "SELECT string_agg(DISTINCT mrl_dims(mrl_embed(body))::text, ',') FROM docs" -c "COMMIT"; }
check "mrl.default_model reaches the shards by SET LOCAL (propagated), not by a plain SET" \
	"$(dims_on_shards "SET mrl.default_model = 't1'")|$(dims_on_shards "SET LOCAL mrl.default_model = 't1'")" "256|16"

# 4. UPDATE ... SET emb = mrl_embed(body) is refused by Citus (a STABLE
# function with a column); the pinned form runs on the shards
refused=$(try <<<"UPDATE docs SET emb = mrl_embed(body)")
builtin=$(sql -c "SELECT mrl_model_sha256('mrl-default')")
sql -c "SET client_min_messages = warning" -c "SELECT mrl_register_model('builtin_copy', (SELECT path FROM mrl_model_info WHERE name = 'mrl-default'), store => true)" >/dev/null
check "Citus refuses mrl_embed in a distributed UPDATE; the built-in model's pin is the hash it has when stored" \
	"$refused|$builtin" "0A000 |$(sql -c "SELECT sha256 FROM mrl_models WHERE name = 'builtin_copy'")"
sql -c "UPDATE docs SET emb = NULL" -c "ALTER TABLE docs ADD COLUMN e16 mvector" -c "ALTER TABLE docs_local ADD COLUMN e16 mvector" \
	-c "UPDATE docs SET emb = mrl_embed_pinned(body, 'mrl-default', mrl_model_sha256('mrl-default')),
		e16 = mrl_embed_pinned(body, 't1', mrl_model_sha256('t1'))" \
	-c "UPDATE docs_local SET e16 = mrl_embed(body, 't1')" >/dev/null
check "UPDATE docs SET emb = mrl_embed_pinned(...) on every shard: the coordinator's vectors, built-in and trained model, 3000 rows; mrl_model_sha256() computed on the coordinator" \
	"$(sql -c "SELECT count(*) FILTER (WHERE d.emb::text = l.emb::text), count(*) FILTER (WHERE d.e16::text = l.e16::text)
		FROM docs_local l JOIN (SELECT * FROM docs) d USING (id)") $(count_on_workers "mrl_embed_pinned") $(count_on_workers "mrl_model_sha256")" "3000|3000 8 0"
check "mrl_embed_pinned refuses another hash (22023) and a model registered by path (55000)" \
	"$(try <<<"SELECT mrl_embed_pinned('x', 't1', '$builtin')")$(sql -c "SET client_min_messages = warning" \
		-c "SELECT mrl_register_model('by_path', (SELECT path FROM mrl_model_info WHERE name = 'mrl-default'))" >/dev/null
		try <<<"SELECT mrl_embed_pinned('x', 'by_path', '$builtin')")" "22023 55000 "
sql -c "SELECT mrl_unregister_model('builtin_copy')" >/dev/null
gone=$(sql -c "SELECT string_agg(model || ' ' || action, ', ' ORDER BY model) FROM mrl_distribute_models()
	WHERE node = '127.0.0.1:$w1' AND action <> 'unchanged'")
check "mrl_distribute_models unregisters on the workers what the coordinator unregistered" \
	"$gone|$(sql -p "$w1" -c "SELECT string_agg(name, ' ' ORDER BY name) FROM mrl_models")" \
	"by_path copied|by_path t1"

# 5. mrl_embed('query') in ORDER BY: per shard as is, once as (SELECT ...)
sql -c "SELECT id FROM docs ORDER BY emb <=> mrl_embed('inline query form') LIMIT 3" \
	-c "SELECT id FROM docs ORDER BY emb <=> (SELECT mrl_embed('subquery query form')) LIMIT 3" >/dev/null
check "mrl_embed('q') in ORDER BY is sent to all 8 shards; (SELECT mrl_embed('q')) to none (computed once)" \
	"$(count_on_workers "mrl_embed('inline query form'") $(count_on_workers "mrl_embed('subquery query form'")" "8 0"

# 5b. a query vector as a prepared statement's parameter: EXPLAIN EXECUTE
# of PREPARE p(mvector) gets no plan from the shards, as with a parameter of
# any type that is not built in (an enum here): Citus sends those untyped,
# and the shard's query no longer names the parameter, so the shard cannot
# type it.  A text parameter cast to mvector is typed and works.
explain_execute() { sql <<SQL | grep -o -e 'Task Count: [0-9]*' -e 'Could not get remote plan' | paste -sd,
SET client_min_messages = warning;
$1
EXPLAIN (COSTS OFF) EXECUTE p($2);
SQL
}
sql -c "CREATE TYPE colour AS ENUM ('red', 'blue')"
by_vector=$(explain_execute 'PREPARE p(mvector) AS SELECT id FROM docs ORDER BY emb <=> $1 LIMIT 10;' "mrl_embed('blue pump')")
by_colour=$(explain_execute "PREPARE p(colour) AS SELECT id FROM docs WHERE \$1 = 'red' LIMIT 10;" "'red'")
check "EXPLAIN EXECUTE of PREPARE p(mvector) fares as with a parameter of an enum type (Citus 13.2: a task without a remote plan)" \
	"$by_vector" "$(echo "$by_colour" | grep '^Task Count: 8')"
by_text=$(sql <<'SQL'
SET citus.propagate_set_commands = 'local';
PREPARE p(text) AS SELECT id FROM docs ORDER BY emb <=> $1::mvector LIMIT 10;
BEGIN;
SET LOCAL enable_seqscan = off;
EXPLAIN (COSTS OFF) EXECUTE p(mrl_embed('prepared query form'));
EXECUTE p(mrl_embed('prepared query form'));
SELECT 'then';
SELECT id FROM docs ORDER BY emb <=> (SELECT mrl_embed('prepared query form')) LIMIT 10;
COMMIT;
SQL
)
shape=$(echo "$by_text" | grep -o -e 'Could not get remote plan' -e 'Index Scan using docs_emb_[0-9]* on docs_[0-9]* docs' |
	sed 's/[0-9]\+/N/g')
check "the workaround, PREPARE p(text) AS ... emb <=> \$1::mvector and EXECUTE p(mrl_embed('q')): each shard's index scan in EXPLAIN, the rows of (SELECT mrl_embed('q')), the vector computed once" \
	"$shape|$(echo "$by_text" | grep -E '^([0-9]+|then)$' | paste -sd' ' | sed 's/^\(.*\) then \1$/same/')|$(count_on_workers "prepared query form")" \
	"Index Scan using docs_emb_N on docs_N docs|same|0"

# 6. aggregates, evaluation and training over distributed tables
check "avg and sum of a distributed mvector column equal a single node's, bit for bit" \
	"$(sql -c "SELECT avg(emb), sum(emb) FROM docs")" "$(sql -c "SELECT avg(emb), sum(emb) FROM docs_local WHERE emb IS NOT NULL")"
sql >/dev/null <<'SQL'
SET client_min_messages = warning;
CREATE TABLE q_local AS SELECT i AS id, (ARRAY['blue pump', 'cable for servers', 'gasket kit', 'hose for pools'])[1 + i % 4] || ' ' || i AS body
	FROM generate_series(1, 40) i;
CREATE TABLE qrels_local AS SELECT q.id AS query_id, d.id AS doc_id, 1 AS relevance
	FROM q_local q JOIN docs_local d ON d.id % 40 = q.id % 40 AND d.id <= 400;
INSERT INTO qrels_local VALUES (999, 1, 1);
CREATE TABLE q (LIKE q_local);
CREATE TABLE qrels (LIKE qrels_local);
CREATE TABLE qrels_ref (LIKE qrels_local);
SELECT create_distributed_table('q', 'id', shard_count => 3);
SELECT create_distributed_table('qrels', 'doc_id', shard_count => 5);
SELECT create_reference_table('qrels_ref');
INSERT INTO q SELECT * FROM q_local;
INSERT INTO qrels SELECT * FROM qrels_local;
INSERT INTO qrels_ref SELECT * FROM qrels_local;
SQL
evaluate() { sql -c "SET client_min_messages = warning" -c "SELECT string_agg(format('%s %s %s %s %s %s', dims, method, ndcg_at_10, recall_at_10, recall_at_100, mrr_at_10), ' ')
	FROM mrl_evaluate('$1', '$2', '$3', dims => '{16,256}', baselines => '{fulltext}')"; }
reference=$(evaluate q_local qrels_local docs_local)
check "mrl_evaluate on distributed tables that are not co-located, and with reference qrels, equals a single node's" \
	"$(evaluate q qrels docs)|$(evaluate q qrels_ref docs)|$([ -n "$reference" ] && echo some)" "$reference|$reference|some"
train() { sql -c "SET client_min_messages = warning" -c "SELECT sha256 FROM mrl_train('$1', \$\$$2\$\$, dims => '{8,16}', base => NULL, batch_size => 16)"; }
check "mrl_train over a distributed table makes the model it makes over a local table, whatever the row order" \
	"$(train t2 "SELECT code, descr FROM pairs") $(train t3 "SELECT code, descr FROM pairs_local ORDER BY descr DESC;")" "$sha $sha"

# 7. DROP EXTENSION is prepared on every worker (two-phase commit)
check "DROP EXTENSION mrl CASCADE on the coordinator drops it on every node" \
	"$(try <<<"SET client_min_messages = warning; DROP EXTENSION mrl CASCADE")$(for p in "$w1" "$w2"; do
		sql -p "$p" -c "SELECT count(*) FROM pg_extension WHERE extname = 'mrl'"; done | paste -sd' ')" "0 0"
