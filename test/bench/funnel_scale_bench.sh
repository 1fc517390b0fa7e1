#!/usr/bin/env bash
# funnel_scale_bench.sh: the funnel index beside pgvector's HNSW at scale, on
# N x DIM Matryoshka-structured unit vectors (test/bench/gen_vectors.py) and
# Q held-out queries of the same distribution, whose exact top-10 numpy
# computes (float64).  One client, one server, top-10 cosine; each method
# runs all the queries in turn, after a warm-up round in the same backend
# (see the rounds below: page faults).  (Interleaving the
# methods query by query, INTERLEAVE=1, lets load from elsewhere hit them
# alike, but every method after the first then finds that query's index
# pages in the CPU's caches: at 4M rows a query took 2.6 ms so, 6 ms cold.)
#
#   bash test/bench/funnel_scale_bench.sh        # issue 11 goal 1: 1M x 768, HNSW on vector
#   SIZES="250000 1000000 4000000" DIM=256 HNSW=none ...   # goal 4: growth
#   SIZES=250000 DIM=3072 TYPES="mvector mhalfvec" HNSW=halfvec ...  # goal 5
#   PROBES="8 16 32" SHORTLISTS="100 400" ...    # the funnel settings swept (a grid,
#                                                # besides the calibrated defaults)
#   EF_SEARCH="40 100 200 400" ...               # HNSW's
#   SHARED_BUFFERS=2GB MAINTENANCE_WORK_MEM=6GB ...
#   BUILD_WORKERS=0 ...  # max_parallel_maintenance_workers (default 2) of both builds
#   LISTS="0 /1000" ...  # the funnel's lists option, one index after another
#                    # (0: the default rule, N: N lists, /D: rows / D lists);
#                    # each value's settings count as a system of their own
#   INTERLEAVE=1 ... # methods interleaved query by query (see above)
#   ROUNDS=2 ...     # recorded rounds; a query's latency is its best over them
#                    # (on a loaded machine, one preemption adds tens of ms)
#   CPU=0 ...        # skip the CPU time per query (each method's Q queries run
#                    # in a row; the backend's user + system time from /proc)
#
# Prints each index's build time, size and the load average (1, 5, 15 min)
# of the machine beside it; the recall-vs-latency curve of every method (p50,
# p99, QPS = 1000 / mean ms, CPU ms per query, recall@10); for recall 0.95
# and 0.99 the fastest setting of each system that reaches it, and the
# ratios; then the same by CPU time, which a loaded machine does not
# inflate.  With several SIZES, each size's funnel p50 at recall 0.95 and its
# ratio to the previous.
# HNSW is pgvector's with m = 16, ef_construction = 64.  Both indexes build
# with max_parallel_maintenance_workers = BUILD_WORKERS (default 2, the
# server's default).
# PostgreSQL sizes the workers by the table's main fork, so the funnel may
# launch fewer when the vectors are in TOAST: the script prints how many.
set -u
. "$(dirname "$0")/../lib.sh"
SIZES=${SIZES:-1000000}
DIM=${DIM:-768}
Q=${Q:-100}
TYPES=${TYPES:-mvector}
HNSW=${HNSW:-vector}
PROBES=${PROBES:-8 16 32 64 128}
SHORTLISTS=${SHORTLISTS:-100 200 400 800}
EF_SEARCH=${EF_SEARCH:-20 40 80 120 200 300 400 600}
LISTS=${LISTS:-0}
ROUNDS=${ROUNDS:-1}
CPU=${CPU:-1}
TARGETS="0.95 0.99"
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = ${SHARED_BUFFERS:-2GB}" \
	"maintenance_work_mem = ${MAINTENANCE_WORK_MEM:-6GB}" "work_mem = 64MB" "jit = off" \
	"max_parallel_maintenance_workers = ${BUILD_WORKERS:-2}" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
loadavg() { printf 'load %s' "$(cut -d' ' -f1-3 /proc/loadavg)"; }
LOADAVG_SQL="'load ' || array_to_string((string_to_array(pg_read_file('/proc/loadavg'), ' '))[1:3], ' ')"
# timed SQL...: runs the statements, prints their seconds
timed() { local t0; t0=$(date +%s.%N); sql "$@" >/dev/null || return 1; printf '%.1f' "$(echo "$(date +%s.%N) - $t0" | bc)"; }
size() { sql -c "SELECT pg_size_pretty(pg_relation_size('$1'))"; }

sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" -c "CREATE EXTENSION pg_prewarm"
[ "$HNSW" != none ] && sql -c "CREATE EXTENSION vector"
sql <<'SQL'
CREATE TABLE methods (ord serial, method text, tbl text, shortlist int, probes int, ef_search int);
CREATE TABLE results (n int, method text, qid int, ms float8, ids int[]);
CREATE TABLE truth (n int DEFAULT 0, qid int, ids int[]);
CREATE TABLE loads (n int, round int, at text);
CREATE TABLE cpu (n int, method text, ms float8);
-- One query by one method: its latency (ms) and top-10 ids.  The query vector
-- comes from q_<type>, by id (an InitPlan, alike for every method).
CREATE FUNCTION bench_one(m methods, qid int, OUT ms float8, OUT ids int[]) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; typ text := substr(m.tbl, 3);
BEGIN
  PERFORM set_config('enable_seqscan', 'off', true);
  PERFORM set_config('mrl.funnel_shortlist', m.shortlist::text, true);
  PERFORM set_config('mrl.funnel_probes', m.probes::text, true);
  IF m.ef_search > 0 THEN
    PERFORM set_config('hnsw.ef_search', m.ef_search::text, true);
  END IF;
  t0 := clock_timestamp();
  EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM %I
                    ORDER BY emb <=> (SELECT emb FROM %I WHERE id = $1) LIMIT 10) s', m.tbl, 'q_' || typ)
    INTO ids USING qid;
  ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
-- Every query by every method, recorded unless a warm-up: each method's
-- queries in a row, or (interleave) the methods query by query.
CREATE FUNCTION bench_round(size int, record_it bool, interleave bool) RETURNS void LANGUAGE plpgsql AS $$
DECLARE q record; m methods; r record;
BEGIN
  FOR q IN SELECT m_.ord, q_.qid FROM methods m_, truth q_ WHERE q_.n = size
           ORDER BY CASE WHEN interleave THEN q_.qid ELSE m_.ord END,
                    CASE WHEN interleave THEN m_.ord ELSE q_.qid END LOOP
    SELECT * INTO m FROM methods WHERE ord = q.ord;
    r := bench_one(m, q.qid);
    IF record_it THEN INSERT INTO results VALUES (size, m.method, q.qid, r.ms, r.ids); END IF;
  END LOOP;
END $$;
-- The backend's CPU time (user + system) in ms, from /proc at 100 ticks/s.
CREATE FUNCTION backend_cpu_ms() RETURNS float8 LANGUAGE sql AS $$
  -- utime and stime, fields 14 and 15 of the line, 12 and 13 after "pid (comm) "
  SELECT (split_part(s, ' ', 12)::bigint + split_part(s, ' ', 13)::bigint) * 10.0
  FROM (SELECT split_part(pg_read_file('/proc/self/stat'), ') ', 2) AS s) p
$$;
-- Every method's queries in a row, recording its CPU time per query.
CREATE FUNCTION cpu_round(size int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE q record; m methods; r record; t0 float8; nq int;
BEGIN
  FOR m IN SELECT * FROM methods ORDER BY ord LOOP
    t0 := backend_cpu_ms(); nq := 0;
    FOR q IN SELECT qid FROM truth WHERE n = size ORDER BY qid LOOP
      r := bench_one(m, q.qid); nq := nq + 1;
    END LOOP;
    INSERT INTO cpu VALUES (size, m.method, (backend_cpu_ms() - t0) / nq);
  END LOOP;
END $$;
-- Per method of size n: p50, p99, QPS and recall@10 against the truth,
-- each query's latency the best of its recorded rounds.
CREATE VIEW curve AS
SELECT r.n, r.method, split_part(r.method, ' ', 1) || ' ' || split_part(r.method, ' ', 2) AS system,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms)::numeric, 2) AS p50_ms,
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY r.ms)::numeric, 2) AS p99_ms,
       round(1000 / avg(r.ms)) AS qps,
       (SELECT round(c.ms::numeric, 2) FROM cpu c WHERE c.n = r.n AND c.method = r.method) AS cpu_ms,
       round(avg((SELECT count(*) FROM unnest(r.ids) x WHERE x = ANY (t.ids)) / 10.0), 4) AS recall
FROM (SELECT n, method, qid, min(ms) AS ms, min(ids) AS ids FROM results GROUP BY n, method, qid) r
JOIN truth t USING (n, qid) GROUP BY r.n, r.method;
-- The fastest (by p50) method of each system reaching the recall.
CREATE FUNCTION best(size int, target numeric) RETURNS SETOF curve LANGUAGE sql AS $$
  SELECT DISTINCT ON (system) * FROM curve WHERE n = size AND recall >= target ORDER BY system, p50_ms
$$;
-- The same by CPU time per query.
CREATE FUNCTION best_cpu(size int, target numeric) RETURNS SETOF curve LANGUAGE sql AS $$
  SELECT DISTINCT ON (system) * FROM curve WHERE n = size AND recall >= target ORDER BY system, cpu_ms
$$;
SQL

summary=$MRL_TMP/summary.txt
for N in $SIZES; do
	echo "# $N x $DIM: generating ($(loadavg))"
	data=$MRL_TMP/rows.bin
	t0=$(date +%s)
	OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$MRL_ROOT/test/bench/gen_vectors.py" "$N" "$DIM" "$data" --matryoshka \
		--queries "$Q" "$MRL_TMP/queries.bin" --truth "$MRL_TMP/truth.tsv" || exit 1
	sql -c "SET client_min_messages = warning" -c "DROP TABLE IF EXISTS t_mvector, q_mvector, t_mhalfvec, q_mhalfvec, t_vector, q_vector, t_halfvec, q_halfvec" \
		-c "TRUNCATE methods" -c "CREATE TABLE t_mvector (id int, emb mvector($DIM))" \
		-c "CREATE TABLE q_mvector (id int, emb mvector($DIM))"
	sql -c "COPY t_mvector FROM STDIN (FORMAT binary)" <"$data" &&
		sql -c "COPY q_mvector FROM STDIN (FORMAT binary)" <"$MRL_TMP/queries.bin" &&
		sql -c "COPY truth (qid, ids) FROM STDIN" -c "UPDATE truth SET n = $N WHERE n = 0" <"$MRL_TMP/truth.tsv" || exit 1
	if [[ " $TYPES " == *" mhalfvec "* ]]; then
		sql -c "CREATE TABLE t_mhalfvec AS SELECT id, emb::mhalfvec($DIM) AS emb FROM t_mvector" \
			-c "CREATE TABLE q_mhalfvec AS SELECT id, emb::mhalfvec($DIM) AS emb FROM q_mvector"
	fi
	if [ "$HNSW" != none ]; then
		# pgvector reads the same binary COPY file; halfvec by pgvector's cast
		sql -c "CREATE TABLE t_vector (id int, emb vector($DIM))" -c "CREATE TABLE q_vector (id int, emb vector($DIM))"
		sql -c "COPY t_vector FROM STDIN (FORMAT binary)" <"$data" &&
			sql -c "COPY q_vector FROM STDIN (FORMAT binary)" <"$MRL_TMP/queries.bin" || exit 1
		if [ "$HNSW" = halfvec ]; then
			sql -c "CREATE TABLE t_halfvec AS SELECT id, emb::halfvec($DIM) AS emb FROM t_vector" \
				-c "CREATE TABLE q_halfvec AS SELECT id, emb::halfvec($DIM) AS emb FROM q_vector" \
				-c "DROP TABLE t_vector, q_vector"
		fi
	fi
	rm -f "$data"
	for t in $(sql -c "SELECT relname FROM pg_class WHERE relname ~ '^[tq]_' AND relkind = 'r'"); do
		sql -c "VACUUM ANALYZE $t"
	done
	echo "# generated and loaded in $(($(date +%s) - t0)) s; heap of t_mvector $(sql -c "SELECT pg_size_pretty(pg_table_size('t_mvector'))")"
	# the numpy truth against a sequential scan, on the first queries
	agree=$(sql -c "SET enable_indexscan = off" -c "SELECT count(*) FROM truth t WHERE n = $N AND qid <= 2 AND t.ids = (SELECT array_agg(id) FROM
		(SELECT d.id FROM t_mvector d ORDER BY d.emb <=> (SELECT emb FROM q_mvector WHERE id = t.qid) LIMIT 10) s)")
	echo "# numpy's exact top-10 equals a sequential scan's for $agree of 2 queries"

	# one funnel index per table at a time: each LISTS value is built, queried, dropped
	first=1
	for L in $LISTS; do
	for t in $TYPES; do
		case $L in 0) with="" tag=$t ;; /*) with="WITH (lists = $((N ${L})))" tag="$t,lists=rows$L" ;;
			*) with="WITH (lists = $L)" tag="$t,lists=$L" ;; esac
		echo "# funnel on $t $with: building ($(loadavg))"
		secs=$(timed -c "SET client_min_messages = debug1" \
			-c "CREATE INDEX t_${t}_funnel ON t_$t USING funnel (emb ${t}_cosine_ops) $with" 2> >(grep -E 'approximate scans need|parallel workers launched|WARNING' | sed 's/^/# /' >&2)) || exit 1
		echo "funnel $tag build $secs s, size $(size "t_${t}_funnel") ($(loadavg))" | tee -a "$summary.$N"
		sql -c "INSERT INTO methods (method, tbl, shortlist, probes, ef_search) VALUES ('funnel $tag defaults', 't_$t', 0, 0, 0)"
		for p in $PROBES; do for s in $SHORTLISTS; do
			sql -c "INSERT INTO methods (method, tbl, shortlist, probes, ef_search) VALUES ('funnel $tag probes=$p shortlist=$s', 't_$t', $s, $p, 0)"
		done; done
	done
	if [ "$HNSW" != none ] && [ $first = 1 ]; then
		echo "# pgvector hnsw on $HNSW: building ($(loadavg))"
		secs=$(timed -c "CREATE INDEX t_${HNSW}_hnsw ON t_$HNSW USING hnsw (emb ${HNSW}_cosine_ops) WITH (m = 16, ef_construction = 64)") || exit 1
		echo "hnsw $HNSW build $secs s, size $(size "t_${HNSW}_hnsw") ($(loadavg))" | tee -a "$summary.$N"
		for e in $EF_SEARCH; do
			sql -c "INSERT INTO methods (method, tbl, shortlist, probes, ef_search) VALUES ('hnsw $HNSW ef_search=$e', 't_$HNSW', 0, 0, $e)"
		done
	fi
	first=0
	sql -c "SELECT sum(pg_prewarm(c.oid)) FROM pg_class c WHERE relname ~ '^t_' AND relkind IN ('r', 'i', 't')
		OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE relname ~ '^t_')" >/dev/null
	# the warm-up, recorded and CPU rounds in one backend: a backend maps each
	# page of shared_buffers into its memory when it first touches it (a page
	# fault): at 4M rows 100 queries took 7.1 ms each in a new backend, 4.5 ms
	# when repeated, and in a round of its own the method that ran first paid
	# for all the methods after it
	echo "# querying: a warm-up round, $ROUNDS recorded round(s)$([ "$CPU" = 1 ] && echo ", the CPU round") ($(loadavg))"
	rounds=(-c "SELECT bench_round($N, false, ${INTERLEAVE:-0} = 1)" -c "INSERT INTO loads SELECT $N, 1, $LOADAVG_SQL")
	for r in $(seq "$ROUNDS"); do rounds+=(-c "SELECT bench_round($N, true, ${INTERLEAVE:-0} = 1)"); done
	rounds+=(-c "INSERT INTO loads SELECT $N, 2, $LOADAVG_SQL")
	[ "$CPU" = 1 ] && rounds+=(-c "SELECT cpu_round($N)")
	sql "${rounds[@]}" >/dev/null || exit 1
	sql -c "TRUNCATE methods"
	for t in $TYPES; do sql -c "DROP INDEX t_${t}_funnel"; done
	done

	echo
	echo "$N rows x $DIM dims, $Q held-out queries, top-10 cosine, 1 client, best of $ROUNDS round(s); loads at the recorded rounds' start and end:" \
		"$(sql -c "SELECT string_agg(at, ', ' ORDER BY round) FROM loads WHERE n = $N")"
	sql -P format=aligned -P tuples_only=off -P footer=off \
		-c "SELECT method, p50_ms, p99_ms, qps, cpu_ms, recall FROM curve WHERE n = $N ORDER BY system, recall, p50_ms"
	for target in $TARGETS; do
		echo "recall >= $target, the fastest setting of each system:"
		sql -P format=aligned -P tuples_only=off -P footer=off \
			-c "SELECT method, p50_ms, qps, cpu_ms, recall FROM best($N, $target) ORDER BY p50_ms"
		if [ "$HNSW" != none ]; then
			sql -c "SELECT format('  %s: %sx the QPS of HNSW, p50 %sx', f.method, round((f.qps / h.qps)::numeric, 2), round(f.p50_ms / h.p50_ms, 2))
				FROM best($N, $target) f, best($N, $target) h WHERE f.system LIKE 'funnel%' AND h.system LIKE 'hnsw%'"
		fi
		if [ "$CPU" = 1 ]; then
			echo "recall >= $target, the least CPU time per query of each system:"
			sql -P format=aligned -P tuples_only=off -P footer=off \
				-c "SELECT method, p50_ms, cpu_ms, recall FROM best_cpu($N, $target) ORDER BY cpu_ms"
			[ "$HNSW" != none ] && sql -c "SELECT format('  %s: HNSW''s CPU time per query over the funnel''s: %sx', f.method, round(h.cpu_ms / nullif(f.cpu_ms, 0), 2))
				FROM best_cpu($N, $target) f, best_cpu($N, $target) h WHERE f.system LIKE 'funnel%' AND h.system LIKE 'hnsw%'"
		fi
		sql -c "SELECT format('%s funnel %s p50 %s ms at recall >= $target (%s)', $N, substr(system, 8), p50_ms, method)
			FROM best($N, $target) WHERE system LIKE 'funnel%'" >>"$summary.$N"
	done
	echo "defaults: $(sql -c "SELECT string_agg(format('%s p50 %s ms recall %s', method, p50_ms, recall), '; ') FROM curve WHERE n = $N AND method LIKE '%defaults'")"
	cat "$summary.$N"
	echo
done

if [ "$(wc -w <<<"$SIZES")" -gt 1 ]; then
	echo "growth: funnel p50 at recall >= 0.95 by rows, and the ratio to the previous size"
	sql -P format=aligned -P tuples_only=off -P footer=off -c "
		SELECT s.n AS rows, system, method, p50_ms, recall,
		       round(p50_ms / lag(p50_ms) OVER (PARTITION BY system ORDER BY s.n), 2) AS ratio_to_previous
		FROM (SELECT n FROM (VALUES $(for n in $SIZES; do printf '(%s),' "$n"; done | sed 's/,$//')) v(n)) s,
		     LATERAL best(s.n, 0.95) b WHERE system LIKE 'funnel%' ORDER BY system, s.n"
fi
