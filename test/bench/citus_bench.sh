#!/usr/bin/env bash
# Citus benchmark: the real-text corpus (test/bench/corpus_load.sh) on a
# coordinator and 2 workers on this machine, against the same rows on one
# node (a local table of the coordinator), one client, top-10 cosine:
#   - a single node: exact by sequential scan (the ground truth) and the
#     funnel index at its default settings;
#   - distributed (SHARDS shards): the funnel index at its default settings
#     and in exact mode (SET LOCAL, propagated), merged on the coordinator.
# Prints load and build times, then p50/p99 latency and recall@10 per method.
#
#   CORPUS=/var/tmp/mrl-corpus N=1000000 Q=100 bash test/bench/citus_bench.sh
#   SHARDS=32 WORKER_BUFFERS=1GB ...
set -u
. "$(dirname "$0")/../lib.sh"
. "$MRL_ROOT/test/citus_lib.sh"
. "$MRL_ROOT/test/bench/corpus_load.sh"
cd "$MRL_ROOT"
N=${N:-1000000}
Q=${Q:-100}
K=10
SHARDS=${SHARDS:-32}
CORPUS=${CORPUS:-/var/tmp/mrl-corpus}
export CITUS_WORKER_BUFFERS=${WORKER_BUFFERS:-1GB}
citus_installed || { echo "Citus is not installed in $("$PG_CONFIG" --pkglibdir)" >&2; exit 1; }
mrl_build_install || exit 1
citus_start 2 "maintenance_work_mem = 1GB" "max_parallel_maintenance_workers = 0" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# seconds SQL...: run statements, print the seconds they took
seconds()
{
	local t0
	t0=$(date +%s.%N)
	sql "$@" >/dev/null || return 1
	printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)"
}

corpus_load "$N" "$Q" "$CORPUS" || exit 1
sql -c "CREATE TABLE ddocs (LIKE docs INCLUDING ALL)" -c "SELECT create_distributed_table('ddocs', 'id', shard_count => $SHARDS)" >/dev/null
echo "# distributed $N rows into $SHARDS shards in $(seconds -c "INSERT INTO ddocs SELECT * FROM docs") s"
echo "# funnel index, one node: $(seconds -c "CREATE INDEX ON docs USING funnel (emb mvector_cosine_ops)") s;" \
	"distributed: $(seconds -c "CREATE INDEX ON ddocs USING funnel (emb mvector_cosine_ops)") s"
sql -c "VACUUM ANALYZE docs" -c "VACUUM ANALYZE ddocs"

# run METHOD TABLE SETTINGS...: each query's top 10 and milliseconds into
# table results (SET LOCAL in one transaction: Citus propagates it)
sql -c "CREATE TABLE results (method text, query int, ids int[], ms float8)"
run()
{
	local method=$1 table=$2 s out
	shift 2
	out=$({
		echo "SET citus.propagate_set_commands = 'local';"
		echo "BEGIN;"
		for s in "$@"; do echo "SET LOCAL $s;"; done
		echo "\\timing on"
		sql -c "SELECT id FROM queries ORDER BY id" | while read -r q; do
			echo "SELECT $q, array_agg(id) FROM (SELECT id FROM $table ORDER BY emb <=> (SELECT emb FROM queries WHERE id = $q) LIMIT $K) t;"
		done
		echo "COMMIT;"
	} | sql)
	echo "$out" | awk -v m="$method" -F'|' '/^[0-9]+\|/ { q = $1; ids = $2; next }
		/^Time: / { if (q != "") { print m "\t" q "\t" ids "\t" $0; q = "" } }' |
		sed 's/Time: \([0-9.]*\) ms.*/\1/' | sql -c "COPY results FROM STDIN"
}
run "one node, seq scan (exact)" docs "enable_indexscan = off"
run "one node, funnel" docs "enable_seqscan = off"
run "distributed, funnel" ddocs "enable_seqscan = off"
run "distributed, funnel exact mode" ddocs "enable_seqscan = off" "mrl.funnel_exact = on"

echo
echo "$N rows x 256 dims, $SHARDS shards on 2 workers (+ coordinator), $Q queries, top-$K cosine, 1 client; ms"
psql -X -q <<'SQL'
WITH truth AS (SELECT query, ids FROM results WHERE method LIKE '%seq scan%')
SELECT r.method, count(*) AS queries,
	round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms)::numeric, 1) AS p50_ms,
	round(percentile_cont(0.99) WITHIN GROUP (ORDER BY r.ms)::numeric, 1) AS p99_ms,
	round(avg((SELECT count(*) FROM unnest(r.ids) x WHERE x = ANY (t.ids))::numeric / cardinality(t.ids)), 4) AS recall_at_10,
	count(*) FILTER (WHERE r.ids = t.ids) AS identical
FROM results r JOIN truth t USING (query) GROUP BY r.method ORDER BY min(r.ctid);
SQL
