#!/usr/bin/env bash
# funnel_growth_bench.sh: a table that grows after its funnel index was
# built.  The index is built on the first BASE rows of the real-text corpus
# (test/bench/corpus.sh, cached by corpus_load.sh), then the next GROW rows
# are inserted; recall@10 and latency at the default settings are compared
# with an index built on all BASE + GROW rows, query by query (held-out
# queries, top-10 cosine, one client).
#
#   bash test/bench/funnel_growth_bench.sh                 # 500k + 500k, 100 queries
#   BASE=100000 GROW=100000 Q=50 ...
#   STEPS=2 ...      # insert GROW in STEPS parts
#   ORDER=drift ...  # the index is built on the BASE rows lowest in their first
#                    # dimension and the rest come later (the data drifts), instead
#                    # of rows in random order (the corpus is ordered by MD5)
#   REBALANCE=1 ...  # also after SELECT mrl_funnel_rebalance() (when it exists)
#
# Prints, per index, its lists' sizes (largest over mean entries), p50 and
# recall@10 against the exact answer of a sequential scan.
set -u
. "$(dirname "$0")/../lib.sh"
BASE=${BASE:-500000}
GROW=${GROW:-500000}
Q=${Q:-100}
STEPS=${STEPS:-1}
CORPUS=${CORPUS:-/var/tmp/mrl-corpus}
. "$MRL_ROOT/test/bench/corpus_load.sh"
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = 1GB" \
	"maintenance_work_mem = 1GB" "work_mem = 64MB" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
N=$((BASE + GROW))

sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" -c "CREATE EXTENSION pageinspect"
corpus_load "$N" "$Q" "$CORPUS" >/dev/null || exit 1
key=id
[ "${ORDER:-random}" = drift ] && key="(emb::real[])[1]"
sql -c "CREATE TABLE ordered AS SELECT id, emb, row_number() OVER (ORDER BY $key, id) AS ord FROM docs" \
	-c "CREATE TABLE grown AS SELECT id, emb FROM ordered WHERE ord <= $BASE" \
	-c "CREATE TABLE rebuilt AS SELECT id, emb FROM docs" \
	-c "CREATE TABLE rows_to_add AS SELECT ord, id, emb FROM ordered WHERE ord > $BASE" \
	-c "DROP TABLE ordered" \
	-c "DROP TABLE docs" -c "VACUUM ANALYZE grown, rebuilt, rows_to_add"

timed() { local t0; t0=$(date +%s.%N); sql -c "$1"; echo "$(date +%s.%N) - $t0" | bc; }
printf '# built on %d rows in %.1f s\n' "$BASE" \
	"$(timed "CREATE INDEX grown_idx ON grown USING funnel (emb mvector_cosine_ops)")"
printf '# built on %d rows in %.1f s\n' "$N" \
	"$(timed "CREATE INDEX rebuilt_idx ON rebuilt USING funnel (emb mvector_cosine_ops)")"

sql <<'SQL'
-- exact top-10 of every query over all rows, by a sequential scan
CREATE TABLE truth (qid int, ids int[]);
CREATE TABLE results (stage text, method text, qid int, ms float8, ids int[]);
-- One query on one table with the index and default settings: ms and ids.
CREATE FUNCTION one(tbl text, q mvector, OUT ms float8, OUT ids int[]) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz;
BEGIN
  PERFORM set_config('enable_seqscan', 'off', true);
  t0 := clock_timestamp();
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I ORDER BY emb <=> $1 LIMIT 10) s', tbl)
    INTO ids USING q;
  ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
-- Every query on both tables, interleaved (a warm-up round, then the recorded one).
CREATE FUNCTION bench_round(stage text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE q record; r record; t text;
BEGIN
  FOR rec IN 0..1 LOOP
    FOR q IN SELECT * FROM queries ORDER BY id LOOP
      FOREACH t IN ARRAY ARRAY['grown', 'rebuilt'] LOOP
        r := one(t, q.emb);
        IF rec = 1 THEN INSERT INTO results VALUES (stage, t, q.id, r.ms, r.ids); END IF;
      END LOOP;
    END LOOP;
  END LOOP;
END $$;
-- Entries per list, from the data pages' special space (pageinspect): the
-- largest list and the mean, e.g. '1830 / 707'.
CREATE FUNCTION list_spread(idx regclass) RETURNS text LANGUAGE sql AS $$
  WITH pages AS (
    SELECT get_byte(p, 8184) + 256 * get_byte(p, 8185) AS list,
           get_byte(p, 8186) + 256 * get_byte(p, 8187) AS entries
    FROM generate_series(1, pg_relation_size(idx) / 8192 - 1) b,
         LATERAL get_raw_page(idx::text, b::int) p
    WHERE get_byte(p, 8188) & 4 = 4),      -- FUNNEL_DATA
  lists AS (SELECT list, sum(entries) AS n FROM pages GROUP BY list)
  SELECT max(n) || ' / ' || round(avg(n)) || ' in ' || count(*) || ' lists' FROM lists
$$;
SQL
echo "# grown_idx as built: entries per list (largest / mean) $(sql -c "SELECT list_spread('grown_idx')")"
sql -c "SET enable_indexscan = off" -c "INSERT INTO truth SELECT q.id, (SELECT array_agg(id) FROM (SELECT id FROM rebuilt ORDER BY emb <=> q.emb LIMIT 10) s) FROM queries q"

per_step=$((GROW / STEPS))
for step in $(seq 1 "$STEPS"); do
	lo=$((BASE + (step - 1) * per_step + 1))
	hi=$((step == STEPS ? N : BASE + step * per_step))
	secs=$(timed "INSERT INTO grown SELECT id, emb FROM rows_to_add WHERE ord BETWEEN $lo AND $hi")
	printf '# inserted rows %d..%d in %.1f s (%.0f rows/s, one statement)\n' "$lo" "$hi" "$secs" \
		"$(echo "($hi - $lo + 1) / $secs" | bc -l)"
done
sql -c "VACUUM ANALYZE grown"
sql -c "SELECT bench_round('after growth')" >/dev/null
if [ "${REBALANCE:-0}" = 1 ]; then
	printf '# mrl_funnel_rebalance in %.1f s\n' "$(timed "SELECT mrl_funnel_rebalance('grown_idx')")"
	sql -c "SELECT bench_round('after rebalance')" >/dev/null
fi

echo
echo "$BASE rows indexed, $GROW inserted ($STEPS statements, ${ORDER:-random} order); index rebuilt on all $N for comparison;"
echo "$Q held-out queries, top-10 cosine, defaults, 1 client"
for idx in grown_idx rebuilt_idx; do
	echo "# $idx: $(sql -c "SELECT pg_size_pretty(pg_relation_size('$idx'))"), entries per list (largest / mean) $(sql -c "SELECT list_spread('$idx')")"
done
sql -P format=aligned -P tuples_only=off -P footer=off <<'SQL'
SELECT stage, method AS index_on,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p50_ms,
       round(percentile_cont(0.9) WITHIN GROUP (ORDER BY ms)::numeric, 2) AS p90_ms,
       round(avg((SELECT count(*) FROM unnest(r.ids) x WHERE x = ANY (t.ids)) / 10.0), 4) AS recall_at_10
FROM results r JOIN truth t USING (qid)
GROUP BY stage, method ORDER BY min(r.ctid);
SQL
