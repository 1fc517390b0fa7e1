#!/usr/bin/env bash
# funnel under WHERE filters: for a LIMIT 10 under filters keeping 10% and
# 1% of the rows, the median latency of each plan (funnel index, sequential
# scan, bitmap scan on a btree, each forced with enable_* settings) and the
# plan the cost model chooses, without and then with a btree on the filter
# column.  One client, one server; approximate mode (the default).
#
#   bash test/bench/funnel_filter_bench.sh          # 20k x 256 Matryoshka-structured rows
#   N=50000 DIM=768 Q=100 bash test/bench/funnel_filter_bench.sh
#   TEXTS=lines.txt ...   # real data: the built-in model's vectors of each line
set -u
. "$(dirname "$0")/../lib.sh"
N=${N:-20000}
DIM=${DIM:-256}
Q=${Q:-60}
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "maintenance_work_mem = 512MB" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" -f "$MRL_ROOT/test/funnel/funnel_check.sql"
sql -c "CREATE TABLE docs (id int PRIMARY KEY, bucket int, emb mvector)"
if [ -n "${TEXTS:-}" ]; then
	sql -c "CREATE TABLE texts (body text)" -c "COPY texts FROM STDIN" < <(sed 's/\\/\\\\/g' "$TEXTS")
	sql -c "INSERT INTO docs SELECT n, n % 100, mrl_embed(body)
		FROM (SELECT row_number() OVER (ORDER BY md5(body))::int AS n, body FROM (SELECT DISTINCT body FROM texts) d) s"
else
	sql -c "INSERT INTO docs SELECT id, id % 100, mrl_normalize(emb) FROM funnel_test_vectors($N, $DIM, $((N / 500 + 1)), 1, 2, 1)"
fi
sql -c "VACUUM ANALYZE docs" -c "CREATE INDEX docs_f ON docs USING funnel (emb mvector_cosine_ops)"
echo "# $(sql -c "SELECT count(*) FROM docs") rows, $Q queries (rows of the table), bucket = id % 100"

sql <<'SQL'
-- Median latency (ms) of LIMIT 10 under filter filt, queries: rows 37, 74, ...
CREATE FUNCTION filter_latency(filt text, q int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; ms float8[] := '{}'; v mvector; r int[];
BEGIN
  FOR i IN 1..q LOOP
    SELECT emb INTO v FROM docs WHERE id = i * 37;
    t0 := clock_timestamp();
    EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM docs WHERE %s ORDER BY emb <=> $1 LIMIT 10) s', filt)
      INTO r USING v;
    ms := ms || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x);
END $$;
-- The scan node of the plan for filter filt.
CREATE FUNCTION filter_plan(filt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
  FOR l IN EXECUTE format('EXPLAIN SELECT id FROM docs WHERE %s ORDER BY emb <=> %L::mvector LIMIT 10',
                          filt, (SELECT emb FROM docs WHERE id = 37)) LOOP
    IF l ~ '(Index Scan|Seq Scan|Bitmap Heap Scan)' THEN
      RETURN substring(l from '(Index Scan using \w+|Seq Scan|Bitmap Heap Scan)');
    END IF;
  END LOOP;
END $$;
-- Every plan at 10% and 1%: forced ones, then the cost model's choice.
CREATE FUNCTION filter_round(q int, modes text[]) RETURNS TABLE (keeps text, plan text, p50_ms numeric) LANGUAGE plpgsql AS $$
DECLARE f text; m text;
BEGIN
  FOREACH f IN ARRAY ARRAY['bucket < 10', 'bucket = 0'] LOOP
    FOREACH m IN ARRAY modes LOOP
      PERFORM set_config('enable_indexscan', (m IN ('index', 'chosen'))::text, true);
      PERFORM set_config('enable_seqscan', (m IN ('seq', 'chosen'))::text, true);
      PERFORM set_config('enable_bitmapscan', (m IN ('bitmap', 'chosen'))::text, true);
      keeps := CASE f WHEN 'bucket = 0' THEN '1%' ELSE '10%' END;
      plan := m || ': ' || filter_plan(f);
      p50_ms := round(filter_latency(f, q)::numeric, 2);
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
SQL
sql -c "SELECT filter_round($Q, '{index,seq}')" >/dev/null	# warm-up
echo "## no index on the filter column"
sql -P format=aligned -P tuples_only=off -P footer=off -c "SELECT * FROM filter_round($Q, '{index,seq,chosen}')"
sql -c "CREATE INDEX ON docs (bucket)" -c "ANALYZE docs"
echo "## a btree on the filter column (index: whichever index scan the planner prefers)"
sql -P format=aligned -P tuples_only=off -P footer=off -c "SELECT * FROM filter_round($Q, '{index,seq,bitmap,chosen}')"
