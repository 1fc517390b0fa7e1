#!/usr/bin/env bash
# funnel_directory_bench.sh: what a funnel scan's pass over its directory
# costs by the number of lists.  On N x 256 Matryoshka-structured rows
# (test/bench/gen_vectors.py), one index at a time with each LISTS value:
# the backend's CPU time per query (user + system from /proc/self/stat, over
# REPS rounds of 200 held-out queries) and recall@10, at probes 1 and
# shortlist 10 (little besides the directory) and at the calibrated defaults.
#
#   bash test/bench/funnel_directory_bench.sh
#   N=100000 LISTS="500 4000" REPS=10 bash test/bench/funnel_directory_bench.sh
set -u
. "$(dirname "$0")/../lib.sh"
N=${N:-250000}
LISTS=${LISTS:-500 1000 2000 4000}
REPS=${REPS:-5}
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = 1GB" \
	"maintenance_work_mem = 1GB" "jit = off" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$MRL_ROOT/test/bench/gen_vectors.py" "$N" 256 "$MRL_TMP/rows.bin" \
	--matryoshka --queries 200 "$MRL_TMP/q.bin" --truth "$MRL_TMP/truth.tsv" || exit 1
sql -c "CREATE EXTENSION mrl" -c "CREATE EXTENSION pg_prewarm" -c "CREATE TABLE t (id int, emb mvector(256))" \
	-c "CREATE TABLE q (id int, emb mvector(256))" -c "CREATE TABLE truth (qid int, ids int[])"
sql -c "COPY t FROM STDIN (FORMAT binary)" <"$MRL_TMP/rows.bin" &&
	sql -c "COPY q FROM STDIN (FORMAT binary)" <"$MRL_TMP/q.bin" &&
	sql -c "COPY truth FROM STDIN" <"$MRL_TMP/truth.tsv" || exit 1
rm -f "$MRL_TMP/rows.bin"
sql -c "VACUUM ANALYZE t" -c "SELECT pg_prewarm('t')" >/dev/null
sql <<'SQL'
CREATE FUNCTION cpu_ms() RETURNS float8 LANGUAGE sql AS $$
  SELECT (split_part(s, ' ', 12)::bigint + split_part(s, ' ', 13)::bigint) * 10.0
  FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS s) p $$;
-- CPU ms per query and recall@10 over reps rounds of every query
CREATE FUNCTION per_query(probes int, shortlist int, reps int, OUT cpu float8, OUT recall float8)
LANGUAGE plpgsql AS $$
DECLARE t0 float8; r record; ids int[]; hits int := 0; n int := 0;
BEGIN
  PERFORM set_config('mrl.funnel_probes', probes::text, true);
  PERFORM set_config('mrl.funnel_shortlist', shortlist::text, true);
  PERFORM set_config('enable_seqscan', 'off', true);
  t0 := cpu_ms();
  FOR i IN 1..reps LOOP
    FOR r IN SELECT q.id, q.emb, tr.ids FROM q JOIN truth tr ON tr.qid = q.id LOOP
      SELECT array_agg(id) INTO ids FROM (SELECT id FROM t ORDER BY emb <=> r.emb LIMIT 10) s;
      hits := hits + (SELECT count(*) FROM unnest(ids) x WHERE x = ANY (r.ids));
      n := n + 1;
    END LOOP;
  END LOOP;
  cpu := round(((cpu_ms() - t0) / n)::numeric, 2);
  recall := round(hits / (10.0 * n), 4);
END $$;
SQL
echo "$N rows x 256, 200 queries x $REPS: lists, probes, shortlist, CPU ms per query, recall@10, load"
for L in $LISTS; do
	sql -c "CREATE INDEX ti ON t USING funnel (emb mvector_cosine_ops) WITH (lists = $L)" \
		-c "SELECT pg_prewarm('ti')" >/dev/null || exit 1
	for setting in "1 10" "0 0"; do
		set -- $setting
		sql -c "SELECT per_query($1, $2, 1)" >/dev/null
		echo "$L $1 $2 $(sql -F ' ' -c "SELECT * FROM per_query($1, $2, $REPS)") $(cut -d' ' -f1 /proc/loadavg)"
	done
	sql -c "DROP INDEX ti"
done
