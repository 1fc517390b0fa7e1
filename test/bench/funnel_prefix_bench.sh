#!/usr/bin/env bash
# funnel_prefix_bench.sh: searching at a chosen prefix size d, the two ways
# a funnel index can serve ORDER BY <the first d dims> <=> $1 LIMIT 10:
#   - a stored generated column emb_d mvector(d) GENERATED ALWAYS AS
#     (emb # d) STORED with a funnel index on it (approximate mode);
#   - an expression index on (emb # d) (approximate mode too: its reranks
#     evaluate the expression on each row), forced and as the planner
#     chooses;
# against a sequential scan of (emb # d) <=> q.  Build time, index size,
# heap size, p50 and recall@10 against the exact top-10 at d dims.
#
#   bash test/bench/funnel_prefix_bench.sh        # 1M real sentences (256 dims), d = 128
#   N=250000 PREFIX=64 Q=50 ...
#   DIM=768 N=100000 PREFIX=256 ...               # synthetic Matryoshka-structured rows
#   CORPUS=/var/tmp/mrl-corpus ...
set -u
. "$(dirname "$0")/../lib.sh"
N=${N:-1000000}
Q=${Q:-100}
PREFIX=${PREFIX:-128}
CORPUS=${CORPUS:-/var/tmp/mrl-corpus}
. "$MRL_ROOT/test/bench/corpus_load.sh"
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = 1GB" \
	"maintenance_work_mem = 1GB" "work_mem = 64MB" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

t0=$(date +%s)
sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl"
if [ -z "${DIM:-}" ]; then
	DIM=256
	corpus_load "$N" "$Q" "$CORPUS" >/dev/null || exit 1
	sql -c "ALTER TABLE docs DROP COLUMN body, DROP COLUMN bucket"
	data="$N real sentences (built-in model, 256 dims)"
else
	sql -c "SET client_min_messages = warning" -f "$MRL_ROOT/test/funnel/funnel_check.sql" \
		-c "CREATE TABLE docs (id int PRIMARY KEY, emb mvector($DIM))" \
		-c "CREATE TABLE queries AS SELECT id, mrl_normalize(emb) AS emb FROM funnel_test_vectors($Q, $DIM, $((N / 500 + 1)), 1, 99, 1)"
	half=$((N / 2))
	sql -c "INSERT INTO docs SELECT id, mrl_normalize(emb) FROM funnel_test_vectors($half, $DIM, $((N / 500 + 1)), 1, 2, 1)" &
	sql -c "INSERT INTO docs SELECT id, mrl_normalize(emb) FROM funnel_test_vectors($((N - half)), $DIM, $((N / 500 + 1)), 1, 2, $((half + 1)))"
	wait
	data="$N x $DIM Matryoshka-structured synthetic rows"
fi
sql -c "ALTER TABLE queries ADD COLUMN emb_d mvector($PREFIX)" -c "UPDATE queries SET emb_d = emb # $PREFIX" \
	-c "CREATE TABLE docs_gen AS SELECT * FROM docs" -c "VACUUM ANALYZE docs, docs_gen, queries"
echo "# $data loaded in $(($(date +%s) - t0)) s"

timed() { local t0; t0=$(date +%s.%N); sql -c "$1" >/dev/null; echo "$(date +%s.%N) - $t0" | bc; }
heap() { sql -c "SELECT pg_size_pretty(pg_table_size('$1'))"; }
echo "# heap of docs (for the expression index): $(heap docs)"
printf '# generated column emb_d = emb # %d, stored: added in %.1f s, heap now %s\n' "$PREFIX" \
	"$(timed "ALTER TABLE docs_gen ADD COLUMN emb_d mvector($PREFIX) GENERATED ALWAYS AS (emb # $PREFIX) STORED")" \
	"$(heap docs_gen)"
sql -c "VACUUM ANALYZE docs_gen"
printf '# funnel on the generated column: build %.1f s, ' \
	"$(timed "CREATE INDEX docs_gen_funnel ON docs_gen USING funnel (emb_d mvector_cosine_ops)")"
echo "size $(sql -c "SELECT pg_size_pretty(pg_relation_size('docs_gen_funnel'))")"
printf '# funnel on the expression (emb # %d): build %.1f s, ' "$PREFIX" \
	"$(timed "CREATE INDEX docs_expr_funnel ON docs USING funnel ((emb # $PREFIX) mvector_cosine_ops)")"
echo "size $(sql -c "SELECT pg_size_pretty(pg_relation_size('docs_expr_funnel'))")"

sql <<SQL
-- exact top-10 at $PREFIX dims, by a sequential scan
SET enable_indexscan = off;
CREATE TABLE truth AS SELECT q.id AS qid, (SELECT array_agg(id) FROM (SELECT id FROM docs
  ORDER BY (emb # $PREFIX) <=> q.emb_d LIMIT 10) s) AS ids FROM queries q;
RESET enable_indexscan;
CREATE TABLE results (method text, qid int, ms float8, ids int[]);
-- One query: index use forced on (true), off (false) or the planner's choice (NULL).
CREATE FUNCTION one(query text, q mvector, use_index bool, OUT ms float8, OUT ids int[]) LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
  PERFORM set_config('enable_indexscan', coalesce(use_index, true)::text, true);
  PERFORM set_config('enable_seqscan', coalesce(NOT use_index, true)::text, true);
  t0 := clock_timestamp();
  EXECUTE query INTO ids USING q;
  ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
CREATE TABLE methods (ord serial, method text, query text, use_index bool);
INSERT INTO methods (method, query, use_index) VALUES
  ('sequential scan of (emb # $PREFIX) <=> q',
   'SELECT array_agg(id) FROM (SELECT id FROM docs ORDER BY (emb # $PREFIX) <=> \$1 LIMIT 10) s', false),
  ('generated column emb_d, funnel (approximate, defaults)',
   'SELECT array_agg(id) FROM (SELECT id FROM docs_gen ORDER BY emb_d <=> \$1 LIMIT 10) s', true),
  ('generated column emb_d, planner''s choice',
   'SELECT array_agg(id) FROM (SELECT id FROM docs_gen ORDER BY emb_d <=> \$1 LIMIT 10) s', NULL),
  ('expression index on (emb # $PREFIX), forced (approximate, defaults)',
   'SELECT array_agg(id) FROM (SELECT id FROM docs ORDER BY (emb # $PREFIX) <=> \$1 LIMIT 10) s', true),
  ('expression index on (emb # $PREFIX), planner''s choice',
   'SELECT array_agg(id) FROM (SELECT id FROM docs ORDER BY (emb # $PREFIX) <=> \$1 LIMIT 10) s', NULL);
-- every query by every method, interleaved; a warm-up round, then the recorded one
CREATE FUNCTION bench_round() RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE q record; m record; r record;
BEGIN
  FOR rec IN 0..1 LOOP
    FOR q IN SELECT * FROM queries ORDER BY id LOOP
      FOR m IN SELECT * FROM methods ORDER BY ord LOOP
        r := one(m.query, q.emb_d, m.use_index);
        IF rec = 1 THEN INSERT INTO results VALUES (m.method, q.id, r.ms, r.ids); END IF;
      END LOOP;
    END LOOP;
  END LOOP;
END \$\$;
SQL
sql -c "SELECT bench_round()" >/dev/null
for target in "docs_gen:emb_d" "docs:(emb # $PREFIX)"; do
	echo "# planner's choice for ORDER BY ${target#*:} <=> q LIMIT 10: $(sql -c "EXPLAIN (COSTS OFF) SELECT id FROM ${target%%:*}
		ORDER BY ${target#*:} <=> (SELECT emb_d FROM queries WHERE id = 1) LIMIT 10" |
		grep -oE 'Index Scan using [a-z_]+|Seq Scan on [a-z_]+' | tail -1)"
done
echo
echo "$data; search at the first $PREFIX dims; $Q held-out queries; top-10 cosine; 1 client"
sql -P format=aligned -P tuples_only=off -P footer=off <<'SQL'
SELECT method, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p50_ms,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p90_ms,
       round(avg((SELECT count(*) FROM unnest(r.ids) x WHERE x = ANY (t.ids)) / 10.0), 4) AS recall_at_10
FROM results r JOIN truth t USING (qid) JOIN methods USING (method)
GROUP BY method ORDER BY min(ord);
SQL
