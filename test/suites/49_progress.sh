#!/usr/bin/env bash
# 49_progress.sh: mrl_train and mrl_evaluate report progress that another
# connection reads in the mrl_progress view (src/progress.c).  A watcher in
# a second connection records every change it sees while the call runs;
# the phases must come in order, the counters stay within their totals, the
# totals match what the call returns, and the row must be gone when the call
# ends, also when it is cancelled.  Roles that may not see another role's
# progress get NULLs, as in pg_stat_progress_*; inside a COPY, whose
# progress PostgreSQL reports, mrl reports nothing rather than overwrite it.
set -u
. "$(dirname "$0")/../lib.sh"

mrl_cluster_ensure || exit 1
mrl_scratch progress
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -X -q -d postgres -c "CREATE DATABASE $db" || { notok "create a database"; exit 1; }

# pairs: made-up codes and descriptions; docs/queries/qrels: each query
# judges one document relevant
sql >/dev/null <<'EOF' || { notok "set up tables"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION mrl;
CREATE TABLE pairs AS
	SELECT 'code ' || i AS code, 'part number ' || i || ' for ' || (ARRAY['pumps', 'valves', 'hoses'])[1 + i % 3] AS descr
	FROM generate_series(1, 20000) i;
CREATE TABLE docs AS SELECT i AS id, 'document ' || i || ' about ' || md5(i::text) AS body FROM generate_series(1, 40000) i;
CREATE TABLE queries AS SELECT i AS id, 'about ' || md5(i::text) AS body FROM generate_series(1, 200) i;
CREATE TABLE qrels AS SELECT i AS query_id, i AS doc_id, 1 AS relevance FROM generate_series(1, 200) i;
CREATE ROLE mrl_progress_outsider;
-- watch(command): wait for a backend running command in this database, then
-- record each distinct (phase, done, total) of its row until the row goes
CREATE TABLE trace (seq serial, phase text, done bigint, total bigint, loss float8);
CREATE FUNCTION watch(cmd text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz := clock_timestamp();
	seen boolean := false;
	last text := '';
	r record;
BEGIN
	LOOP
		PERFORM pg_stat_clear_snapshot();	-- read fresh values, not the transaction's snapshot
		SELECT * INTO r FROM mrl_progress p WHERE p.command = cmd AND p.datname = current_database();
		IF FOUND THEN
			seen := true;
			IF row(r.phase, r.done, r.total)::text <> last THEN
				INSERT INTO trace (phase, done, total, loss) VALUES (r.phase, r.done, r.total, r.loss);
				last := row(r.phase, r.done, r.total)::text;
			END IF;
		ELSIF seen THEN
			RETURN 'ended';
		END IF;
		IF clock_timestamp() - t0 > interval '60 s' THEN
			RETURN CASE WHEN seen THEN 'still running' ELSE 'never seen' END;
		END IF;
		PERFORM pg_sleep(0.002);
	END LOOP;
END $$;
EOF

# watch_while CMD SQL: run SQL (its output to $work/out) while a second
# connection watches CMD; prints the watcher's verdict
watch_while()
{
	sql -c "TRUNCATE trace" || return 1
	sql -c "SELECT watch('$1')" >"$work/watch" &
	local watcher=$!
	sleep 0.3
	sql -c "SET client_min_messages = error" -c "$2" >"$work/out" 2>&1
	wait $watcher
	cat "$work/watch"
}
# phases_check 'P1, P2, ...' 'REQUIRED, ...': whether the trace went through
# (some of) the phases P in that order, each once, and saw the required ones
# (a short phase may pass between two reads of the watcher)
phases_check()
{
	sql -c "WITH e AS (SELECT * FROM unnest(string_to_array('$1', ', ')) WITH ORDINALITY e(phase, pos)),
		s AS (SELECT phase, min(seq) AS first FROM trace GROUP BY phase)
	SELECT (SELECT string_agg(phase, ', ' ORDER BY first) FROM s)
			= (SELECT string_agg(phase, ', ' ORDER BY pos) FROM e JOIN s USING (phase)),
		NOT EXISTS (SELECT FROM trace a JOIN trace b ON b.seq > a.seq AND b.phase <> a.phase
			JOIN trace c ON c.seq > b.seq AND c.phase = a.phase),
		NOT EXISTS (SELECT FROM unnest(string_to_array('$2', ', ')) r(phase) WHERE phase NOT IN (SELECT phase FROM s))"
}

# ---- mrl_train: reading pairs, training, writing model
verdict=$(watch_while mrl_train "SELECT steps, pairs_used FROM mrl_train('progress_v1', 'SELECT code, descr FROM pairs', dims => '{16,32}', base => NULL, epochs => 2, batch_size => 32)")
IFS='|' read -r steps pairs_used <"$work/out"
check "the watcher saw mrl_train from another connection until it ended" "$verdict" "ended"
check "mrl_train's phases, in order: reading pairs, training, writing model" \
	"$(phases_check 'reading pairs, training, writing model' 'reading pairs, training')" "t|t|t"
check "training: before the first step nothing done and no total, no loss" \
	"$(sql -c "SELECT bool_and(total IS NULL AND loss IS NULL) FROM trace WHERE phase = 'training' AND done = 0")" "t"
check "training: then done counts steps up to the total mrl_train returns ($steps), total fixed, loss set" \
	"$(sql -c "SELECT count(*) > 1, bool_and(done BETWEEN 1 AND total), min(total) = max(total) AND max(total) = ${steps:-0},
		bool_and(loss > 0 AND loss < 100), bool_and(done >= coalesce(lag_done, 0))
	FROM (SELECT *, lag(done) OVER (ORDER BY seq) AS lag_done FROM trace WHERE phase = 'training' AND done > 0) t")" "t|t|t|t|t"
check "reading pairs: done counts usable pairs up to $pairs_used, total unknown" \
	"$(sql -c "SELECT bool_and(done BETWEEN 0 AND ${pairs_used:-0}), bool_and(total IS NULL), bool_and(loss IS NULL) FROM trace WHERE phase = 'reading pairs'")" "t|t|t"
check "no progress row once mrl_train has returned" "$(sql -c "SELECT count(*) FROM mrl_progress")" 0

# ---- mrl_evaluate: the tables in the order it reads them, then scoring
verdict=$(watch_while mrl_evaluate "SELECT count(*) FROM mrl_evaluate('queries', 'qrels', 'docs', dims => '{16,64}')")
rows=$(cat "$work/out")
check "the watcher saw mrl_evaluate from another connection until it ended" "$verdict" "ended"
check "mrl_evaluate's phases, in order: embedding documents, reading judgements, embedding queries, scoring" \
	"$(phases_check 'embedding documents, reading judgements, embedding queries, scoring' 'embedding documents, embedding queries')" "t|t|t"
check "embedding documents: done grows to at most the 40000 documents, total unknown" \
	"$(sql -c "SELECT max(done) > 0, bool_and(done <= 40000), bool_and(total IS NULL) FROM trace WHERE phase = 'embedding documents'")" "t|t|t"
check "scoring (if seen): done within the $rows result rows, the total" \
	"$(sql -c "SELECT coalesce(bool_and(done BETWEEN 0 AND total AND total = ${rows:-0}), true) FROM trace WHERE phase = 'scoring'")" "t"

# ---- a cancelled training leaves no row; others' progress is hidden from outsiders
sql -c "SET client_min_messages = error" \
	-c "SELECT * FROM mrl_train('progress_cancelled', 'SELECT code, descr FROM pairs', dims => '{16,32}', base => NULL, epochs => 200, batch_size => 32)" \
	>"$work/cancelled" 2>&1 &
trainer=$!
phase=
for _ in $(seq 1 300); do
	phase=$(sql -c "SELECT phase FROM mrl_progress WHERE command = 'mrl_train'")
	[ "$phase" = training ] && break
	sleep 0.1
done
check "a long training is in its training phase" "$phase" training
check "another role sees the command but not the phase or counters" \
	"$(sql -c "SET ROLE mrl_progress_outsider" -c "SELECT command, phase IS NULL, done IS NULL, total IS NULL FROM mrl_progress")" \
	"mrl_train|t|t|t"
check "pg_read_all_stats members see them" \
	"$(sql -c "GRANT pg_read_all_stats TO mrl_progress_outsider" -c "SET ROLE mrl_progress_outsider" \
		-c "SELECT phase FROM mrl_progress" -c "RESET ROLE" -c "REVOKE pg_read_all_stats FROM mrl_progress_outsider")" training
sql -c "SELECT pg_cancel_backend(pid) FROM mrl_progress WHERE command = 'mrl_train'" >/dev/null
wait $trainer
check "the training was cancelled" "$(grep -c 'canceling' "$work/cancelled")" 1
check "no progress row after the cancel" "$(sql -c "SELECT count(*) FROM mrl_progress")" 0

# ---- an error caught in a PL/pgSQL block (a subtransaction) clears the row too
check "an mrl_train error caught by an EXCEPTION block leaves no progress row in its transaction" \
	"$(sql -c "SET client_min_messages = warning" -c "DO \$\$ BEGIN
		BEGIN
			PERFORM * FROM mrl_train('progress_error', 'SELECT code, (1 / (length(code) - 10))::text FROM pairs', dims => '{8}', base => NULL);
		EXCEPTION WHEN division_by_zero THEN NULL;
		END;
		PERFORM pg_stat_clear_snapshot();
		RAISE WARNING 'rows: %', (SELECT count(*) FROM mrl_progress WHERE pid = pg_backend_pid());
	END \$\$" 2>&1 | sed -n 's/.*WARNING: *//p')" "rows: 0"

# ---- inside COPY, PostgreSQL's COPY progress stays and mrl reports nothing
sql -c "COPY (SELECT * FROM mrl_evaluate('queries', 'qrels', 'docs', dims => '{16,64}')) TO STDOUT" >/dev/null &
copier=$!
copy_rows=0
mrl_rows=0
while kill -0 $copier 2>/dev/null; do
	IFS='|' read -r c m < <(sql -c "SELECT (SELECT count(*) FROM pg_stat_progress_copy WHERE datname = current_database()),
		(SELECT count(*) FROM mrl_progress)")
	copy_rows=$((copy_rows + c))
	mrl_rows=$((mrl_rows + m))
	sleep 0.05
done
wait $copier
check "during COPY (SELECT * FROM mrl_evaluate(...)): COPY's progress seen, no mrl_progress row" \
	"$([ $copy_rows -gt 0 ] && echo seen) $mrl_rows" "seen 0"
sql -c "DROP ROLE mrl_progress_outsider"
