#!/usr/bin/env bash
# funnel_exact_bench.sh: exact mode (mrl.funnel_exact = on) against a
# sequential scan, on data whose prefix bounds cannot prune (the built-in
# model's vectors of real sentences, where exact mode sweeps the heap) and
# on Matryoshka-structured synthetic vectors (where it follows the bounds):
# the median latency of a top-10 cosine query each way, forced, methods
# interleaved query by query, the ratio, whether every answer equals the
# sequential scan's, what the build measured and what the planner picks.
#
#   bash test/bench/funnel_exact_bench.sh             # 250k real sentences, 100k x 768 synthetic
#   N=1000000 SYN_N=1000000 Q=20 ...
#   CORPUS=/var/tmp/mrl-corpus ...                   # test/bench/corpus.sh's directory
#   N=0 ... (synthetic only)    SYN_N=0 ... (real only)
set -u
. "$(dirname "$0")/../lib.sh"
N=${N:-250000}
SYN_N=${SYN_N:-100000}
DIM=${DIM:-768}
Q=${Q:-30}
CORPUS=${CORPUS:-/var/tmp/mrl-corpus}
. "$MRL_ROOT/test/bench/corpus_load.sh"
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = 1GB" "jit = off" \
	"maintenance_work_mem = 1GB" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" \
	-f "$MRL_ROOT/test/funnel/funnel_check.sql" >/dev/null || exit 1

# run_one LABEL: tables docs (id, emb) and queries (id, emb) exist
run_one()
{
	local label=$1
	sql -c "VACUUM ANALYZE docs"
	echo "# $label: $(sql -c "SELECT count(*) FROM docs") rows, heap $(sql -c "SELECT pg_size_pretty(pg_table_size('docs'))")"
	sql -c "SET client_min_messages = debug1" \
		-c "CREATE INDEX docs_funnel ON docs USING funnel (emb mvector_cosine_ops)" 2>&1 |
		grep -o 'an exact top-10 scan fetches .*' | sed 's/^/# build: /'
	sql <<'SQL'
CREATE TEMP TABLE results (method text, qid int, ms float8, dists float8[]);
-- One query, the index forced with exact mode (true) or forbidden (false).
CREATE FUNCTION pg_temp.one(q mvector, use_index bool, OUT ms float8, OUT dists float8[]) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz;
BEGIN
  PERFORM set_config('mrl.funnel_exact', use_index::text, true);
  PERFORM set_config('enable_indexscan', use_index::text, true);
  PERFORM set_config('enable_seqscan', (NOT use_index)::text, true);
  t0 := clock_timestamp();
  -- (EXECUTE: planned with these settings each time, never a cached plan)
  EXECUTE 'SELECT array_agg(d) FROM (SELECT emb <=> $1 AS d FROM docs ORDER BY emb <=> $1 LIMIT 10) s'
    INTO dists USING q;
  ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
DO $$
DECLARE q record; r record; u bool;
BEGIN
  FOR rec IN 0..1 LOOP              -- a warm-up round, then the recorded one
    FOR q IN SELECT * FROM queries ORDER BY id LOOP
      FOREACH u IN ARRAY ARRAY[false, true] LOOP
        r := pg_temp.one(q.emb, u);
        IF rec = 1 THEN
          INSERT INTO results VALUES (CASE WHEN u THEN 'exact' ELSE 'seq' END, q.id, r.ms, r.dists);
        END IF;
      END LOOP;
    END LOOP;
  END LOOP;
END $$;
SELECT format('%s: sequential scan p50 %s ms, funnel exact mode p50 %s ms, exact / seq %s; identical distances %s/%s',
              current_setting('bench.label', true),
              round(s.p50::numeric, 2), round(e.p50::numeric, 2), round((e.p50 / s.p50)::numeric, 3),
              (SELECT count(*) FROM results a JOIN results b USING (qid)
               WHERE a.method = 'exact' AND b.method = 'seq' AND a.dists = b.dists),
              (SELECT count(*) FROM results WHERE method = 'seq'))
FROM (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50 FROM results WHERE method = 'seq') s,
     (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50 FROM results WHERE method = 'exact') e;
SQL
	echo "# planner's choice in exact mode: $(sql -c "SET mrl.funnel_exact = on" -c "EXPLAIN (COSTS OFF)
		SELECT id FROM docs ORDER BY emb <=> (SELECT emb FROM queries WHERE id = 1) LIMIT 10" |
		grep -oE 'Index Scan using [a-z_]+|Seq Scan on [a-z_]+' | tail -1)"
}

if [ "$N" -gt 0 ]; then
	corpus_load "$N" "$Q" "$CORPUS" >/dev/null || exit 1
	sql -c "ALTER TABLE docs DROP COLUMN body, DROP COLUMN bucket"
	PGOPTIONS="-c bench.label=real" run_one "$N real sentences (built-in model, 256 dims)"
	sql -c "DROP TABLE docs, queries"
fi
if [ "$SYN_N" -gt 0 ]; then
	k=$((SYN_N / 500 + 1))
	sql -c "CREATE TABLE docs (id int PRIMARY KEY, emb mvector($DIM))" \
		-c "INSERT INTO docs SELECT id, mrl_normalize(emb) FROM funnel_test_vectors($SYN_N, $DIM, $k, 1, 2, 1)" \
		-c "CREATE TABLE queries AS SELECT id, mrl_normalize(emb) AS emb FROM funnel_test_vectors($Q, $DIM, $k, 1, 99, 1)"
	PGOPTIONS="-c bench.label=synthetic" run_one "$SYN_N x $DIM Matryoshka-structured synthetic vectors"
fi
