#!/usr/bin/env bash
# funnel under WHERE filters: for a LIMIT 10 under filters keeping KEEPS
# per mille of the rows (default 50%, 10%, 1%, 0.1%), the median latency of
# each plan (funnel index, sequential scan, bitmap scan on a btree, each
# forced with enable_* settings) and the plan the cost model chooses,
# without and then with a btree on the filter column.  One client, one
# server; approximate mode (the default).
#
#   bash test/bench/funnel_filter_bench.sh          # 20k x 256 Matryoshka-structured rows
#   N=50000 DIM=768 Q=100 bash test/bench/funnel_filter_bench.sh
#   TEXTS=lines.txt ...   # real data: the built-in model's vectors of each line
#   CORPUS=/var/tmp/mrl-corpus N=250000 ...   # real sentences (test/bench/corpus.sh)
#   KEEPS="100 10" ...    # per mille kept
set -u
. "$(dirname "$0")/../lib.sh"
N=${N:-20000}
DIM=${DIM:-256}
Q=${Q:-60}
KEEPS=${KEEPS:-500 100 10 1}
. "$MRL_ROOT/test/bench/corpus_load.sh"
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "maintenance_work_mem = 1GB" "jit = off" \
	"shared_buffers = 1GB" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" -f "$MRL_ROOT/test/funnel/funnel_check.sql"
if [ -n "${CORPUS:-}" ]; then
	corpus_load "$N" 1 "$CORPUS" >/dev/null || exit 1
	sql -c "ALTER TABLE docs DROP COLUMN body"
else
	sql -c "CREATE TABLE docs (id int PRIMARY KEY, bucket int, emb mvector)"
fi
if [ -n "${CORPUS:-}" ]; then
	:
elif [ -n "${TEXTS:-}" ]; then
	sql -c "CREATE TABLE texts (body text)" -c "COPY texts FROM STDIN" < <(sed 's/\\/\\\\/g' "$TEXTS")
	sql -c "INSERT INTO docs SELECT n, n % 100, mrl_embed(body)
		FROM (SELECT row_number() OVER (ORDER BY md5(body))::int AS n, body FROM (SELECT DISTINCT body FROM texts) d) s"
else
	sql -c "INSERT INTO docs SELECT id, id % 100, mrl_normalize(emb) FROM funnel_test_vectors($N, $DIM, $((N / 500 + 1)), 1, 2, 1)"
fi
# bucket: a hash of the id in 0..999, so bucket < k keeps k per mille
sql -c "UPDATE docs SET bucket = (hashint4(id) & 2147483647) % 1000" \
	-c "VACUUM FULL docs" -c "ANALYZE docs" -c "CREATE INDEX docs_f ON docs USING funnel (emb mvector_cosine_ops)"
echo "# $(sql -c "SELECT count(*) FROM docs") rows, $Q queries (rows of the table), bucket = hash(id) % 1000"

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
-- Every plan at each share kept (per mille): forced ones, then the cost model's choice.
CREATE FUNCTION filter_round(q int, keeps_pm int[], modes text[]) RETURNS TABLE (keeps text, plan text, p50_ms numeric) LANGUAGE plpgsql AS $$
DECLARE k int; f text; m text;
BEGIN
  FOREACH k IN ARRAY keeps_pm LOOP
    f := format('bucket < %s', k);
    FOREACH m IN ARRAY modes LOOP
      PERFORM set_config('enable_indexscan', (m IN ('index', 'chosen'))::text, true);
      PERFORM set_config('enable_seqscan', (m IN ('seq', 'chosen'))::text, true);
      PERFORM set_config('enable_bitmapscan', (m IN ('bitmap', 'chosen'))::text, true);
      keeps := round(k / 10.0, 1)::text || '%';
      plan := m || ': ' || filter_plan(f);
      p50_ms := round(filter_latency(f, q)::numeric, 2);
      RETURN NEXT;
    END LOOP;
  END LOOP;
END $$;
SQL
sql -c "SELECT filter_round($Q, '{${KEEPS// /,}}', '{index,seq}')" >/dev/null	# warm-up
echo "## no index on the filter column"
sql -P format=aligned -P tuples_only=off -P footer=off -c "SELECT * FROM filter_round($Q, '{${KEEPS// /,}}', '{index,seq,chosen}')"
sql -c "CREATE INDEX ON docs (bucket)" -c "ANALYZE docs"
echo "## a btree on the filter column (index: whichever index scan the planner prefers)"
sql -P format=aligned -P tuples_only=off -P footer=off -c "SELECT * FROM filter_round($Q, '{${KEEPS// /,}}', '{index,seq,bitmap,chosen}')"
