#!/usr/bin/env bash
# funnel index under real operations: four clients inserting at once (rows,
# NULL rows, rolled-back batches) while a fifth deletes the oldest rows and
# VACUUMs; afterwards, and after a crash and WAL replay, the index holds
# exactly the table's rows (mrl_funnel_check, whole exact scans, exact top-k
# against a sequential scan).  Build progress: pg_stat_progress_create_index
# read from another connection while a build runs shows its phases.
# Parallel build: with 2 workers it gives the serial build's index (page
# contents compared list by list), survives a crash's replay, reports its
# progress, and a cancelled one leaves nothing behind; with lists grouped by
# hierarchical k-means, most rows land in their exact nearest list (numpy);
# its calibration is the serial build's also on rows with tied distances
# and on tables where the calibration estimates a sample of the pages.
# Runs its own throwaway cluster (it crashes it on purpose), replaying every
# generic WAL record under wal_consistency_checking.
set -u
. "$(dirname "$0")/../lib.sh"
MRL_PORT=$((40000 + RANDOM % 20000)) mrl_cluster_start \
	"wal_consistency_checking = 'generic'" "max_parallel_workers_per_gather = 0" || exit 1

sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# src: the rows clients insert, in batches of 4 ids handed out by a
# sequence, so no two clients insert the same row and every id is known.
# Two indexes: three lists (clients meet on the same lists and chain their
# head pages at once) and 150 lists, whose directory records (156 bytes at
# 32 dims) fill three directory pages.
DIM=32
sql <<SQL >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION mrl;
\i $MRL_ROOT/test/funnel/funnel_check.sql
CREATE TABLE src AS SELECT * FROM funnel_test_vectors(120000, $DIM, 25, 1, 2);
CREATE UNIQUE INDEX ON src (id);
CREATE TABLE t AS SELECT * FROM src WHERE id <= 4000;
CREATE INDEX t_hot ON t USING funnel (emb) WITH (coarse_dims = 8, lists = 3);
CREATE INDEX t_many ON t USING funnel (emb mvector_cosine_ops) WITH (coarse_dims = 32, lists = 150);
CREATE SEQUENCE batch START 1001;
CREATE TABLE queries AS SELECT * FROM funnel_test_vectors(100, $DIM, 25, 1, 3, 200001);
SQL
check "mrl_funnel_check counts the entries of a fresh build" \
	"$(sql -c "SELECT mrl_funnel_check('t_hot') || ',' || mrl_funnel_check('t_many')")" "4000,4000"

# insert.sql: 4 rows a transaction, every 50th id a NULL vector, one
# transaction in 10 rolled back (its entries stay until VACUUM).
cat >"$MRL_TMP/insert.sql" <<'SQL'
\set r random(1, 10)
BEGIN;
INSERT INTO t SELECT s.id, CASE WHEN s.id % 50 = 0 THEN NULL ELSE s.emb END
FROM src s, (SELECT nextval('batch') * 4 AS lo) b WHERE s.id >= b.lo AND s.id < b.lo + 4;
\if :r = 1
ROLLBACK;
\else
COMMIT;
\endif
SQL
# vacuum.sql: the oldest rows go (the old ends of the chains empty out, so
# VACUUM frees pages that inserts may be filling), then VACUUM.
cat >"$MRL_TMP/vacuum.sql" <<'SQL'
DELETE FROM t WHERE id IN (SELECT id FROM t ORDER BY id LIMIT 300);
VACUUM t;
SQL
chmod 644 "$MRL_TMP"/*.sql
sql -c "CHECKPOINT"
"$PG_BINDIR/pgbench" -n -T 10 -c 4 -j 4 -f "$MRL_TMP/insert.sql" >"$MRL_TMP/insert.out" 2>&1 &
inserter=$!
"$PG_BINDIR/pgbench" -n -T 10 -c 1 -f "$MRL_TMP/vacuum.sql" >"$MRL_TMP/vacuum.out" 2>&1
rc_vacuum=$?
wait $inserter
rc_insert=$?
for f in insert vacuum; do
	grep -E 'number of transactions actually processed' "$MRL_TMP/$f.out" | sed "s/^/# $f: /"
done
check "4 inserting clients and a deleting, vacuuming one: no errors" \
	"$rc_insert:$rc_vacuum:$(cat "$MRL_TMP/insert.out" "$MRL_TMP/vacuum.out" | grep -ci error)" "0:0:0"
# (the rows left depend on how fast the deletes ran against the inserts:
# count the batches the inserters took instead)
batches=$(sql -c "SELECT last_value - 1000 FROM batch")
check "the clients inserted rows ($batches batches of 4) and the deletes reached them" \
	"$(sql -c "SELECT $batches > 250 AND count(*) > 0 AND min(id) > 4000 FROM t")" t

# the index's whole exact scan, by id: each row once, NULL rows included
scan_ids() {
	sql -c "SET enable_seqscan = off" -c "SET mrl.funnel_exact = on" \
		-c "SELECT count(*), count(DISTINCT id), md5(string_agg(id::text, ',' ORDER BY id))
		    FROM (SELECT id FROM t ORDER BY emb $1 (SELECT emb FROM queries LIMIT 1)) s"
}
# every check of the index against the table, after $1 and a VACUUM that
# cleans the indexes (a plain one may leave a few dead rows' entries)
check_index() {
	local when=$1 expected
	expected=$(sql -c "SELECT count(*), count(*), md5(string_agg(id::text, ',' ORDER BY id)) FROM t")
	for spec in 't_hot:<->' 't_many:<=>'; do
		check "$when: mrl_funnel_check finds ${spec%%:*} sound, one entry per row" \
			"$(sql -c "SELECT mrl_funnel_check('${spec%%:*}') = count(*) FROM t")" t
		check "$when: a whole exact scan of ${spec%%:*} returns every row once" "$(scan_ids "${spec##*:}")" "$expected"
		check "$when: exact mode of ${spec%%:*} equals a sequential scan (100 queries, k=10)" \
			"$(sql -c "SELECT funnel_exact_mismatches('t', '${spec##*:}', 'queries', 10)")" 0
	done
}
sql -c "VACUUM (INDEX_CLEANUP on) t"
check_index "after concurrent inserts and VACUUM"

# Crash: WAL replay of the concurrent inserts (checked page by page).
mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null
mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA" -l "$MRL_TMP/server.log" -w start >/dev/null
check "after a crash, no WAL consistency failures in replay" \
	"$(sql -c "SELECT 1"):$(grep -c 'inconsistent page' "$MRL_TMP/server.log")" "1:0"
sql -c "VACUUM (INDEX_CLEANUP on) t"
check_index "after crash recovery"

# Inserts keep the metapage and centroids in the relcache: a rebuild in the
# same session (other options and lists, then TRUNCATE, in and out of a
# transaction block) must not leave them stale.
sql <<SQL >/dev/null
CREATE TABLE rb AS SELECT * FROM src WHERE id <= 2000;
CREATE INDEX rb_idx ON rb USING funnel (emb) WITH (coarse_dims = 8, lists = 4);
INSERT INTO rb SELECT * FROM src WHERE id BETWEEN 2001 AND 2500;
ALTER INDEX rb_idx SET (coarse_dims = 24, precision = float4, lists = 40);
REINDEX INDEX rb_idx;
INSERT INTO rb SELECT * FROM src WHERE id BETWEEN 2501 AND 3000;
BEGIN;
ALTER INDEX rb_idx SET (coarse_dims = 16, lists = 7);
REINDEX INDEX rb_idx;
INSERT INTO rb SELECT * FROM src WHERE id BETWEEN 3001 AND 3500;
COMMIT;
SQL
check "after REINDEXes with other options between inserts in one session the index holds every row" \
	"$(sql -c "SELECT mrl_funnel_check('rb_idx'), count(*) FROM rb")" "3500|3500"
check "after REINDEXes between inserts in one session exact mode equals a sequential scan" \
	"$(sql -c "SELECT funnel_exact_mismatches('rb', '<->', 'queries', 10)")" 0
sql -c "TRUNCATE rb" -c "INSERT INTO rb SELECT * FROM src WHERE id BETWEEN 3501 AND 5000"
check "after TRUNCATE and inserts in one session the index holds every row" \
	"$(sql -c "SELECT mrl_funnel_check('rb_idx'), count(*) FROM rb")" "1500|1500"
check "after TRUNCATE and inserts in one session exact mode equals a sequential scan" \
	"$(sql -c "SELECT funnel_exact_mismatches('rb', '<->', 'queries', 10)")" 0

# mrl_funnel_check refuses what is not a funnel index with a funnel's pages.
check_error() { sql -c "\\set VERBOSITY sqlstate" -c "SELECT mrl_funnel_check('$1')" 2>&1 | tr -d '\n'; }
sql -c "CREATE TABLE pt (id int, emb mvector(8)) PARTITION BY RANGE (id)" \
	-c "CREATE TABLE pt1 PARTITION OF pt FOR VALUES FROM (0) TO (100)" \
	-c "CREATE INDEX pt_funnel ON pt USING funnel (emb) WITH (coarse_dims = 4)" \
	-c "CREATE INDEX pt_btree ON pt1 (id)"
check "mrl_funnel_check refuses a table, a btree and a partitioned funnel index (42809), checks a partition's" \
	"$(check_error pt) $(check_error pt_btree) $(check_error pt_funnel) $(sql -c "SELECT mrl_funnel_check('pt1_emb_idx')")" \
	"ERROR:  42809 ERROR:  42809 ERROR:  42809 0"

# Build progress, read from another connection while a build runs: a
# function samples pg_stat_progress_create_index (a fresh snapshot each
# time) until the build it saw has ended.  The build reads a table of its
# own, 20,000 rows: what t keeps depends on how fast the deletes above ran
# against the inserts (12 rows on a loaded machine, a build too short for
# its phases to be seen).
sql <<'SQL' >/dev/null
CREATE TABLE tp AS SELECT * FROM src WHERE id <= 20000;
CREATE TABLE progress (phase text, total bigint, done bigint);
CREATE FUNCTION watch_build(tbl regclass DEFAULT 'tp') RETURNS void LANGUAGE plpgsql AS $$
DECLARE seen bool := false; found bool; started timestamptz := clock_timestamp();
BEGIN
  LOOP
    PERFORM pg_stat_clear_snapshot();
    INSERT INTO progress SELECT phase, tuples_total, tuples_done
      FROM pg_stat_progress_create_index WHERE relid = tbl;
    GET DIAGNOSTICS found = ROW_COUNT;
    EXIT WHEN (seen AND NOT found) OR clock_timestamp() - started > interval '120 s';
    seen := seen OR found;
    PERFORM pg_sleep(0.005);
  END LOOP;
END $$;
SQL
sql -c "SELECT watch_build()" &
watcher=$!
sleep 0.5
sql -c "CREATE INDEX tp_progress ON tp USING funnel (emb) WITH (coarse_dims = $DIM, lists = 600)"
wait $watcher
sql -c "SELECT phase, count(*), max(total), max(done) FROM progress GROUP BY phase ORDER BY min(ctid)" | sed 's/^/# progress: /'
check "build progress shows at least two of the funnel's phases" \
	"$(sql -c "SELECT count(DISTINCT phase) >= 2 FROM progress
	           WHERE phase IN ('building index: sampling rows', 'building index: performing k-means',
	                           'building index: assigning rows to lists', 'building index: measuring pruning')")" t
check "build progress counts rows: tuples_done <= tuples_total, and the table's rows are reached" \
	"$(sql -c "SELECT bool_and(done <= total) AND coalesce(max(total) FILTER (WHERE phase LIKE '%assigning%'), n) = n
	           FROM progress, (SELECT count(*) AS n FROM tp) t GROUP BY n")" t

# Parallel build (max_parallel_maintenance_workers): the same metapage
# (calibration, pruning measures), directory statistics and entries per
# list as a serial build, read from the pages with pageinspect (the
# directory's page pointers left out: the pages are written in another
# order); exact mode equal to a sequential scan and approximate mode equal
# to the serial build's, query by query.  1,100 lists: k-means and the
# assignment go through groups of lists (src/funnelkmeans.c).
sql <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION pageinspect;
CREATE TABLE pb AS SELECT id, CASE WHEN id % 97 = 0 THEN NULL ELSE emb END AS emb FROM src WHERE id <= 30000;
ALTER TABLE pb SET (parallel_workers = 2);
CREATE FUNCTION u16(p bytea, o int) RETURNS int LANGUAGE sql IMMUTABLE
  AS $$ SELECT get_byte(p, o) + 256 * get_byte(p, o + 1) $$;
CREATE FUNCTION u32(p bytea, o int) RETURNS bigint LANGUAGE sql IMMUTABLE
  AS $$ SELECT u16(p, o) + 65536::bigint * u16(p, o + 2) $$;
-- the metapage's contents, the directory's records without their page
-- pointers (head, insertHint), and every entry as 'entry <list>'
CREATE FUNCTION funnel_contents(idx regclass) RETURNS TABLE (part text, content bytea)
LANGUAGE sql AS $$
  WITH m AS (SELECT substr(p, 25) AS meta, u16(p, 36) AS esize, u32(p, 40) AS nlists,
                    u16(p, 44) AS lsize, u16(p, 46) AS lpp, u32(p, 48) AS dirstart,
                    u32(p, 52) AS dirpages
             FROM get_raw_page(idx::text, 0) p),
  pages AS (SELECT b, get_raw_page(idx::text, b::int) AS p
            FROM generate_series(1, pg_relation_size(idx) / 8192 - 1) b)
  SELECT 'meta', meta FROM m
  UNION ALL
  SELECT 'list', substr(p, 25 + i * lsize + 8, lsize - 8)
  FROM m, pages, generate_series(0, lpp - 1) i
  WHERE b >= dirstart AND b < dirstart + dirpages AND (b - dirstart) * lpp + i <= nlists
  UNION ALL
  SELECT 'entry ' || u16(p, 8184), substr(p, 25 + i * size, size)
  FROM m, pages, LATERAL (SELECT CASE WHEN u16(p, 8184) = nlists THEN 6 ELSE esize END AS size) s,
       generate_series(0, u16(p, 8186) - 1) i
  WHERE u16(p, 8188) & 4 <> 0
$$;
-- the directory's records in list order (the NULL list's last)
CREATE FUNCTION funnel_directory(idx regclass) RETURNS TABLE (list bigint, content bytea)
LANGUAGE sql AS $$
  SELECT (b - u32(m, 48)) * u16(m, 46) + i, substr(p, 25 + i * u16(m, 44) + 8, u16(m, 44) - 8)
  FROM get_raw_page(idx::text, 0) m,
       LATERAL generate_series(u32(m, 48), u32(m, 48) + u32(m, 52) - 1) b,
       LATERAL get_raw_page(idx::text, b::int) p, generate_series(0, u16(m, 46) - 1) i
  WHERE (b - u32(m, 48)) * u16(m, 46) + i <= u32(m, 40)
  ORDER BY 1
$$;
CREATE TABLE built (build text, part text, content bytea);
CREATE TABLE answers (build text, qid int, ids int[]);
CREATE FUNCTION record_build(build text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE q record;
BEGIN
  INSERT INTO built SELECT build, * FROM funnel_contents('pb_idx');
  PERFORM set_config('mrl.funnel_exact', 'off', true);
  FOR q IN SELECT id, emb FROM queries ORDER BY id LOOP
    INSERT INTO answers SELECT build, q.id, (funnel_topk('pb', '<=>', q.emb, 10, true)).ids;
  END LOOP;
END $$;
SQL
build_pb() {
	sql -c "SET maintenance_work_mem = '256MB'" -c "SET max_parallel_maintenance_workers = $1" \
		-c "SET client_min_messages = debug1" \
		-c "CREATE INDEX pb_idx ON pb USING funnel (emb mvector_cosine_ops) WITH (coarse_dims = 16, lists = 1100)" 2>&1 |
		grep -o 'parallel workers launched\|1100 lists by k-means on [0-9]* sampled prefixes, in 33 groups' | sort -u
}
check "a build with max_parallel_maintenance_workers = 0 launches no workers; k-means in 33 groups" \
	"$(build_pb 0)" "1100 lists by k-means on 29691 sampled prefixes, in 33 groups"
sql -c "SELECT record_build('serial')" -c "DROP INDEX pb_idx" >/dev/null
sql -c "TRUNCATE progress"
sql -c "SELECT watch_build('pb')" &
watcher=$!
sleep 0.5
workers=$(sql -c "SET maintenance_work_mem = '256MB'" -c "SET max_parallel_maintenance_workers = 2" \
	-c "SET client_min_messages = debug1" \
	-c "CREATE INDEX pb_idx ON pb USING funnel (emb mvector_cosine_ops) WITH (coarse_dims = 16, lists = 1100)" 2>&1 |
	grep -o '[0-9]* parallel workers launched')
wait $watcher
check "a build with max_parallel_maintenance_workers = 2 launches 2 workers" "$workers" "2 parallel workers launched"
sql -c "SELECT record_build('parallel')" >/dev/null
sql -c "SELECT phase, count(*), max(total), max(done) FROM progress GROUP BY phase ORDER BY min(ctid)" | sed 's/^/# parallel progress: /'
check "parallel build progress: the phases, tuples_done <= tuples_total, the table's rows reached" \
	"$(sql -c "SELECT count(DISTINCT phase) >= 2 AND bool_and(done <= total)
	             AND max(total) FILTER (WHERE phase LIKE '%assigning%') = (SELECT count(*) FROM pb)
	           FROM progress")" t
check "parallel build: the serial build's metapage, directory statistics and entries per list" \
	"$(sql -c "SELECT (SELECT count(*) FROM built WHERE build = 'serial' AND part LIKE 'entry%'),
	                  (SELECT count(*) FROM (SELECT part, content FROM built WHERE build = 'serial'
	                                         EXCEPT ALL SELECT part, content FROM built WHERE build = 'parallel') d),
	                  (SELECT count(*) FROM (SELECT part, content FROM built WHERE build = 'parallel'
	                                         EXCEPT ALL SELECT part, content FROM built WHERE build = 'serial') d)")" \
	"30000|0|0"
check "parallel build: mrl_funnel_check counts every row" "$(sql -c "SELECT mrl_funnel_check('pb_idx')")" 30000
check "parallel build: exact mode equals a sequential scan (100 queries, k=10)" \
	"$(sql -c "SELECT funnel_exact_mismatches('pb', '<=>', 'queries', 10)")" 0
check "parallel build: approximate mode at defaults gives the serial build's answers" \
	"$(sql -c "SELECT count(*) FILTER (WHERE s.ids IS DISTINCT FROM p.ids), count(*)
	           FROM answers s JOIN answers p USING (qid) WHERE s.build = 'serial' AND p.build = 'parallel'")" "0|100"
# The assignment through groups against numpy's nearest centroid of every
# row (ties count as nearest): the share in their nearest list, and the
# mean ratio of the chosen list's squared distance to the nearest's.
assigned=$(sql -c "SELECT 'list|' || encode(content, 'hex') FROM funnel_directory('pb_idx') ORDER BY list" \
	-c "SELECT part || '|' || encode(content, 'hex') FROM built WHERE build = 'parallel' AND part LIKE 'entry%'" \
	-c "SELECT 'row|' || (ctid::text::point)[0] || '|' || (ctid::text::point)[1] || '|' || emb FROM pb WHERE emb IS NOT NULL" |
	/usr/bin/python3 "$MRL_ROOT/test/funnel/assignment_reference.py" 16)
echo "# rows in their nearest list, mean distance ratio: $assigned"
check "grouped lists: at least 97% of rows in their exact nearest list, within 1% of its distance on average" \
	"$(awk '{ print ($1 >= 0.97 && $2 <= 1.01) ? "ok" : $0 }' <<<"$assigned")" ok
mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null
mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA" -l "$MRL_TMP/server.log" -w start >/dev/null
check "after a crash, the parallel build replays without WAL consistency failures and checks sound" \
	"$(sql -c "SELECT mrl_funnel_check('pb_idx')"):$(grep -c 'inconsistent page' "$MRL_TMP/server.log")" "30000:0"

# A parallel build cancelled while its workers assign rows leaves no index,
# no file and no temporary file behind.
sql -c "ALTER TABLE src SET (parallel_workers = 2)" -c "CHECKPOINT"
files_before=$(sql -c "SELECT count(*) FROM pg_ls_dir('base/' || (SELECT oid FROM pg_database WHERE datname = current_database()))")
sql <<'SQL' 2>"$MRL_TMP/cancel.out" &
DO $$
DECLARE p int; w int := 0; started timestamptz := clock_timestamp();
BEGIN
  WHILE w < 2 AND clock_timestamp() - started < interval '120 s' LOOP
    PERFORM pg_stat_clear_snapshot();
    SELECT pid INTO p FROM pg_stat_progress_create_index
      WHERE relid = 'src'::regclass AND phase LIKE '%assigning%';
    SELECT count(*) INTO w FROM pg_stat_activity WHERE leader_pid = p;
    PERFORM pg_sleep(0.002);
  END LOOP;
  PERFORM pg_cancel_backend(p);
  RAISE NOTICE 'cancelled with % workers', w;
END $$;
SQL
canceller=$!
built=$(sql -c "SET maintenance_work_mem = '256MB'" -c "SET max_parallel_maintenance_workers = 2" \
	-c "CREATE INDEX src_cancelled ON src USING funnel (emb) WITH (coarse_dims = 16)" 2>&1)
wait $canceller
sql -c "CHECKPOINT"
check "a parallel build cancelled while its 2 workers assign rows fails" \
	"$(echo "$built" | grep -o 'canceling statement due to user request')|$(grep -o 'cancelled with [0-9]* workers' "$MRL_TMP/cancel.out")" \
	"canceling statement due to user request|cancelled with 2 workers"
check "a cancelled parallel build leaves no index, no file, no temporary file" \
	"$(sql -c "SELECT (SELECT count(*) FROM pg_class WHERE relname = 'src_cancelled'),
	                  (SELECT count(*) FROM pg_ls_dir('base/' || (SELECT oid FROM pg_database WHERE datname = current_database()))),
	                  (SELECT count(*) FROM pg_ls_dir('base/pgsql_tmp', true, false))")" "0|$files_before|0"

# The calibration (probes, shortlists, recall, far distance in the
# metapage) of a parallel build equals a serial build's where it could
# depend on the order rows arrive in or on the blocks pages land in:
# - grid: rows rounded to a grid of 0.5, where many rows lie at the same
#   distance from a sampled query as its 100th nearest; which of them the
#   build keeps must not depend on which blocks each participant scanned;
# - sampled: 60,000 rows, whose entries x 500 sampled queries exceed the 20
#   million estimates the calibration makes, so it estimates a sample of
#   the pages: the same pages in both builds, though in other blocks.
sql <<'SQL' >/dev/null
CREATE TABLE grid AS SELECT id, (SELECT array_agg(round(x * 2) / 2 ORDER BY o)
                                 FROM unnest(emb::real[]) WITH ORDINALITY u(x, o))::real[]::mvector AS emb
  FROM src WHERE id <= 30000;
CREATE TABLE sampled AS SELECT * FROM src WHERE id <= 60000;
ALTER TABLE grid SET (parallel_workers = 2);
ALTER TABLE sampled SET (parallel_workers = 2);
SQL
# twins TABLE: a serial build (TABLE_w0) and a 2-worker one (TABLE_w2) of
# the same index, summed up from their debug messages: the workers
# launched, which pages the serial build's calibration estimated, and
# whether the parallel one's estimated as many.
twins() {
	for w in 0 2; do
		sql -c "SET maintenance_work_mem = '256MB'" -c "SET max_parallel_maintenance_workers = $w" \
			-c "SET client_min_messages = debug1" \
			-c "CREATE INDEX ${1}_w$w ON $1 USING funnel (emb) WITH (coarse_dims = 16, lists = 100)" 2>&1 |
			grep -o '[0-9]* parallel workers launched\|estimated the entries of [0-9]* of [0-9]* data pages'
	done | awk '/workers launched/ { w = $1 } /data pages/ { n++; c[n] = $5; t[n] = $7 }
		END { print w " workers, " (c[1] < t[1] ? "a sample of" : "all") " the pages, " \
		            (c[1] == c[2] && t[1] == t[2] ? "as many" : "other counts") " in both" }'
}
# calibration INDEX: its calibrated probes, shortlists (top 10, top 100),
# and a digest of its whole metapage (recall, far distance and the rest)
calibration() {
	sql -c "SELECT 'probes ' || u32(p, 64) || ', shortlist ' || u32(p, 68) || ', deep ' || u32(p, 76)
	               || '/' || u32(p, 80) || ', metapage ' || md5(substr(p, 25))
	        FROM get_raw_page('$1', 0) p"
}
check "grid: twin builds with 0 and 2 workers, estimating all the pages" \
	"$(twins grid)" "2 workers, all the pages, as many in both"
check "grid (tied distances): a parallel build's calibration equals a serial one's" \
	"$(calibration grid_w2)" "$(calibration grid_w0)"
check "sampled: twin builds with 0 and 2 workers, estimating a sample of the pages" \
	"$(twins sampled)" "2 workers, a sample of the pages, as many in both"
check "sampled (a sample of the pages): a parallel build's calibration equals a serial one's" \
	"$(calibration sampled_w2)" "$(calibration sampled_w0)"
