#!/usr/bin/env bash
# test/bench/funnel_cpu_bench.sh: where a default approximate funnel query's time goes, on real sentences.
#
# N sentences of test/bench/corpus.sh's corpus (corpus_load.sh), Q held-out
# queries, top-10 cosine; the funnel at its defaults against pgvector's HNSW
# (m 16, ef_construction 64) on the same rows and server.  For each method:
# wall p50, recall@10, and the backend's CPU time per query (perf stat
# task-clock over the Q queries, after a warm-up round), which a loaded
# machine disturbs far less than wall time.  With PERF=1 also a perf profile
# of the funnel's queries, by function.
#
#   CORPUS=/var/tmp/mrl-corpus N=250000 Q=200 bash test/bench/funnel_cpu_bench.sh
#   LIBS="/tmp/before/mrl.so /tmp/after/mrl.so" ...  # builds of mrl.so that take turns
#                          # on the same server and data (before / after a change)
#   SIMD=avx2 ...          # mrl.simd of the funnel's queries
#   EF_SEARCH="100 200" ... ROUNDS=2 ...
set -u
. "$(dirname "$0")/../lib.sh"
N=${N:-250000}
Q=${Q:-200}
CORPUS=${CORPUS:-/var/tmp/mrl-corpus}
EF_SEARCH=${EF_SEARCH:-100 200}
ROUNDS=${ROUNDS:-2}
LIBS=${LIBS:-}
. "$MRL_ROOT/test/bench/corpus_load.sh"
command -v perf >/dev/null || { echo "perf is needed (linux-perf)" >&2; exit 1; }
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = 1GB" "jit = off" \
	"maintenance_work_mem = 2GB" "work_mem = 64MB" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
LIBDIR=$("$PG_CONFIG" --pkglibdir)
trap 'cp "$MRL_ROOT/mrl.so" "$LIBDIR/mrl.so.tmp" && mv "$LIBDIR/mrl.so.tmp" "$LIBDIR/mrl.so"; mrl_cluster_stop' EXIT

sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" -c "CREATE EXTENSION vector" || exit 1
corpus_load "$N" "$Q" "$CORPUS" || exit 1
t0=$(date +%s.%N)
sql -c "CREATE INDEX docs_funnel ON docs USING funnel (emb mvector_cosine_ops)" || exit 1
echo "# funnel build $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s, size $(sql -c "SELECT pg_size_pretty(pg_relation_size('docs_funnel'))")"
sql -c "CREATE TABLE docs_v AS SELECT id, emb::real[]::vector(256) AS emb FROM docs" \
	-c "ALTER TABLE queries ADD COLUMN emb_v vector(256)" \
	-c "UPDATE queries SET emb_v = emb::text::vector(256)" -c "VACUUM ANALYZE docs, docs_v" || exit 1
t0=$(date +%s.%N)
sql -c "CREATE INDEX docs_v_hnsw ON docs_v USING hnsw (emb vector_cosine_ops) WITH (m = 16, ef_construction = 64)" || exit 1
echo "# hnsw build $(printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)") s, size $(sql -c "SELECT pg_size_pretty(pg_relation_size('docs_v_hnsw'))")"
sql <<'SQL' || exit 1
CREATE TABLE gt AS SELECT q.id AS qid, array(SELECT id FROM docs ORDER BY emb <=> q.emb LIMIT 10) AS ids
FROM queries q;
-- every query on table tab (docs or docs_v) at defaults: wall p50 (ms) and recall@10
CREATE FUNCTION run_queries(tab text, OUT p50 float8, OUT recall float8) LANGUAGE plpgsql AS $$
DECLARE q record; t0 timestamptz; ms float8[] := '{}'; ids int[]; hits int := 0;
BEGIN
  PERFORM set_config('enable_seqscan', 'off', true);
  FOR q IN SELECT * FROM queries ORDER BY id LOOP
    t0 := clock_timestamp();
    IF tab = 'docs' THEN
      ids := array(SELECT id FROM docs ORDER BY emb <=> q.emb LIMIT 10);
    ELSE
      ids := array(SELECT id FROM docs_v ORDER BY emb <=> q.emb_v LIMIT 10);
    END IF;
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
    hits := hits + (SELECT count(*) FROM unnest(ids) i, gt WHERE gt.qid = q.id AND i = ANY (gt.ids));
  END LOOP;
  SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) INTO p50 FROM unnest(ms) x;
  recall := hits::float8 / (10 * (SELECT count(*) FROM queries));
END $$;
SQL

# measure LABEL SETTINGS TABLE: one session, a warm-up round, then a round
# under perf stat (and perf record with PERF=1)
measure()
{
	local label=$1 settings=$2 tab=$3 pid out cpu
	coproc SESSION { psql -X -q -At 2>&1; }
	echo "SELECT pg_backend_pid();" >&"${SESSION[1]}"
	read -r -u "${SESSION[0]}" pid
	echo "$settings SELECT 1 FROM run_queries('$tab');" >&"${SESSION[1]}"
	read -r -u "${SESSION[0]}" out
	perf stat -x, -e task-clock -o "$MRL_TMP/stat" -p "$pid" &
	local stat=$! rec=
	if [ "${PERF:-0}" = 1 ] && [ "$tab" = docs ]; then
		perf record -q -o "$MRL_TMP/perf.data" -p "$pid" 2>/dev/null &
		rec=$!
	fi
	sleep 0.5
	echo "SELECT round(p50::numeric, 2) || ' ms | ' || round(recall::numeric, 4) FROM run_queries('$tab');" >&"${SESSION[1]}"
	read -r -u "${SESSION[0]}" out
	kill -INT $stat $rec
	wait $stat $rec
	cpu=$(awk -F, -v q="$Q" '/task-clock/ { printf "%.2f", $1 / q }' "$MRL_TMP/stat")
	printf '| %s | %s | %s ms | %s |\n' "$label" "$out" "$cpu" "$(cut -d' ' -f1 /proc/loadavg)"
	echo '\q' >&"${SESSION[1]}"
	wait "$SESSION_PID" 2>/dev/null
	if [ "${PERF:-0}" = 1 ] && [ "$tab" = docs ]; then
		perf report -i "$MRL_TMP/perf.data" --stdio --no-children --sort dso,symbol 2>&1 |
			grep -E '%|rror' | head -12 | sed 's/^/#   /'
	fi
}

echo "| method | wall p50 \| recall@10 | CPU per query | load |"
echo "|---|---|---|---|"
for round in $(seq "$ROUNDS"); do
	for lib in ${LIBS:-$LIBDIR/mrl.so}; do
		[ "$lib" = "$LIBDIR/mrl.so" ] || { cp "$lib" "$LIBDIR/mrl.so.tmp" && mv "$LIBDIR/mrl.so.tmp" "$LIBDIR/mrl.so"; }
		measure "funnel defaults ($lib)" "${SIMD:+SET mrl.simd = $SIMD;}" docs
	done
	for ef in $EF_SEARCH; do
		measure "hnsw ef_search $ef" "SET hnsw.ef_search = $ef;" docs_v
	done
done
