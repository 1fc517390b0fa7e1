#!/usr/bin/env bash
# funnel_insert_bench.sh: single-row INSERTs per second into a table with a
# funnel index, with 1 and 2 clients (pgbench), against the same table with
# pgvector's HNSW index and with no vector index, on real vectors of the
# corpus (test/bench/corpus.sh, loaded from its cache by corpus_load.sh).
#
#   bash test/bench/funnel_insert_bench.sh        # indexes built on 100k rows, 30 s a run
#   BASE=250000 SECS=60 CLIENTS="1 2 4" ...
#   PGVECTOR=0 ...                                # skip HNSW
#   CORPUS=/var/tmp/mrl-corpus ...               # the corpus cache
#
# Each method gets its own table of the first BASE corpus rows and its index,
# built once; each run then inserts the following rows one per transaction
# (a sequence hands out the ids, so no two clients insert the same row) for
# SECS seconds, and the runs of one method follow one another on the growing
# table.  Afterwards the funnel index must hold exactly the table's rows: an
# exact-mode scan of the whole table returns each row once.
set -u
. "$(dirname "$0")/../lib.sh"
BASE=${BASE:-100000}
SECS=${SECS:-30}
CLIENTS=${CLIENTS:-1 2}
CORPUS=${CORPUS:-/var/tmp/mrl-corpus}
. "$MRL_ROOT/test/bench/corpus_load.sh"
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = 1GB" \
	"maintenance_work_mem = 1GB" "max_connections = 20" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# rows to insert: enough for the fastest method at 2 clients
EXTRA=${EXTRA:-600000}
sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl"
corpus_load $((BASE + EXTRA)) 1 "$CORPUS" >/dev/null || exit 1
sql -c "ALTER TABLE docs DROP COLUMN body, DROP COLUMN bucket" -c "VACUUM ANALYZE docs"

methods="none funnel"
if [ "${PGVECTOR:-1}" = 1 ] && [ -f "$($PG_CONFIG --sharedir)/extension/vector.control" ]; then
	methods="$methods hnsw"
	sql -c "CREATE EXTENSION vector" \
		-c "CREATE TABLE docs_v AS SELECT id, emb::real[]::vector(256) AS emb FROM docs" \
		-c "ALTER TABLE docs_v ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE docs_v"
fi

# ins_M: the table of method M, built on the first BASE rows
for m in $methods; do
	src=docs
	[ "$m" = hnsw ] && src=docs_v
	sql -c "CREATE TABLE ins_$m AS SELECT * FROM $src WHERE id <= $BASE" \
		-c "CREATE SEQUENCE ins_${m}_seq START $((BASE + 1))"
	t0=$(date +%s.%N)
	case $m in
		funnel) sql -c "CREATE INDEX ins_funnel_idx ON ins_funnel USING funnel (emb mvector_cosine_ops)" ;;
		hnsw) sql -c "CREATE INDEX ins_hnsw_idx ON ins_hnsw USING hnsw (emb vector_cosine_ops) WITH (m = 16, ef_construction = 64)" ;;
	esac
	printf '# %s: built on %d rows in %.1f s\n' "$m" "$BASE" "$(echo "$(date +%s.%N) - $t0" | bc)"
	sql -c "VACUUM ANALYZE ins_$m"
	cat >"$MRL_TMP/ins_$m.sql" <<SQL
INSERT INTO ins_$m SELECT id, emb FROM $src WHERE id = (SELECT nextval('ins_${m}_seq'));
SQL
	chmod 644 "$MRL_TMP/ins_$m.sql"
done

# CPU time of one backend per row inserted, which the machine's load barely
# changes (wall-clock rates on a shared machine do): CPU_ROWS single-row
# INSERT statements (a twentieth for HNSW, which is slow) in one transaction
# (no commit), the backend's user + system time from /proc before and after.
CPU_ROWS=${CPU_ROWS:-20000}
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
echo
echo "CPU of one backend per row inserted ($CPU_ROWS single-row INSERTs in one transaction)"
for m in $methods; do
	src=docs
	rows=$CPU_ROWS
	[ "$m" = hnsw ] && src=docs_v && rows=$((CPU_ROWS / 20))
	coproc PSQL { psql -X -q -At -v ON_ERROR_STOP=1; }
	echo "SELECT pg_backend_pid();" >&"${PSQL[1]}"
	read -r pid <&"${PSQL[0]}"
	echo "SELECT setval('ins_${m}_seq', (SELECT max(id) FROM ins_$m));" >&"${PSQL[1]}"
	read -r _ <&"${PSQL[0]}"
	c0=$(cpu_of "$pid")
	echo "DO \$\$ BEGIN FOR i IN 1..$rows LOOP
		INSERT INTO ins_$m SELECT id, emb FROM $src WHERE id = (SELECT nextval('ins_${m}_seq'));
	END LOOP; END \$\$; SELECT 1;" >&"${PSQL[1]}"
	read -r _ <&"${PSQL[0]}"
	c1=$(cpu_of "$pid")
	echo '\q' >&"${PSQL[1]}"
	wait "$PSQL_PID" 2>/dev/null
	printf '%-8s %8.1f us a row (%d rows)\n' "$m" "$(echo "($c1 - $c0) * 1000000 / $(getconf CLK_TCK) / $rows" | bc -l)" "$rows"
done

# While pgbench runs, sample what its backends are doing every 10 ms: a
# wait for a page's lock (LWLock BufferContent) is inserts serialising,
# whatever the CPU load of the machine.
sql <<'SQL'
CREATE TABLE waits (state text);
CREATE FUNCTION sample_waits(secs float8) RETURNS void LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
  WHILE clock_timestamp() - t0 < secs * interval '1 s' LOOP
    PERFORM pg_stat_clear_snapshot();
    INSERT INTO waits SELECT coalesce(wait_event_type || ':' || wait_event, 'running')
      FROM pg_stat_activity WHERE application_name = 'pgbench' AND state = 'active';
    PERFORM pg_sleep(0.01);
  END LOOP;
END $$;
SQL

echo
echo "inserts/s, one row per transaction, indexes built on $BASE rows, $SECS s a run;"
echo "page-lock waits: share of samples of the clients' backends waiting for a buffer's lock"
printf '%-8s %8s %12s %10s %16s\n' method clients inserts/s rows_after page-lock_waits
for m in $methods; do
	for c in $CLIENTS; do
		before=$(sql -c "SELECT count(*) FROM ins_$m")
		sql -c "TRUNCATE waits"
		sql -c "SELECT sample_waits($SECS - 1)" >/dev/null &
		sampler=$!
		t0=$(date +%s.%N)
		"$PG_BINDIR/pgbench" -n -M prepared -T "$SECS" -c "$c" -j "$c" -f "$MRL_TMP/ins_$m.sql" >"$MRL_TMP/pgbench.out" 2>&1 ||
			{ cat "$MRL_TMP/pgbench.out"; exit 1; }
		secs=$(echo "$(date +%s.%N) - $t0" | bc)
		wait $sampler
		after=$(sql -c "SELECT count(*) FROM ins_$m")
		[ "$after" -ge $((BASE + EXTRA)) ] && echo "# $m ran out of rows: raise EXTRA"
		printf '%-8s %8d %12.0f %10d %15s%%\n' "$m" "$c" "$(echo "($after - $before) / $secs" | bc -l)" "$after" \
			"$(sql -c "SELECT round(100.0 * count(*) FILTER (WHERE state = 'LWLock:BufferContent') / greatest(count(*), 1), 1) FROM waits")"
	done
done

# No lost or doubled entries: the whole exact scan returns every row once.
read -r rows scanned distinct <<<"$(sql -F ' ' -c "SET enable_seqscan = off" -c "SET mrl.funnel_exact = on" \
	-c "SELECT (SELECT count(*) FROM ins_funnel), count(*), count(DISTINCT id)
	    FROM (SELECT id FROM ins_funnel ORDER BY emb <=> (SELECT emb FROM docs WHERE id = 1)) s")"
echo "# funnel after the runs: $rows rows, an exact index scan returned $scanned ($distinct distinct)"
[ "$rows" = "$scanned" ] && [ "$rows" = "$distinct" ]
