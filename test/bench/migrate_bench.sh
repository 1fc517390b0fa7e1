#!/usr/bin/env bash
# test/bench/migrate_bench.sh [N] [D]: the README's in-place move of a
# pgvector column with an HNSW index to mvector with a funnel index
# ("Coming from pgvector"), timed step by step on N x D Matryoshka-structured
# random unit vectors (gen_vectors.py --matryoshka; default 1,000,000 x 768).
# Needs pgvector.
#
#   1. the pgvector table: COPY into docs (id int PRIMARY KEY, emb
#      vector(D)), HNSW index (vector_cosine_ops, m 16, ef_construction 64);
#      HNSW=0 skips the index (a drop only unlinks its files; building it
#      takes hours at 1M rows on a small machine);
#   2. the recipe: DROP INDEX, ALTER COLUMN ... TYPE mvector USING
#      emb::mvector (a relabel: the table is not rewritten, checked by its
#      relfilenode), CREATE INDEX ... USING funnel;
#   3. VACUUM FULL, which moves the values pgvector stored out of line
#      (STORAGE external) into the heap (mvector's STORAGE main);
#   4. ALTER COLUMN ... TYPE mvector(D), the typmod: a rewrite, as is a
#      first ALTER with mvector(D).
#   DETOURS=1 also times the casts through real[] and text on the first
#   100,000 rows (what it took without mrl_pgvector).
# After steps 1, 2 and 3: median latency of Q top-10 cosine queries sent
# as pgvector clients send them (a parameter typed vector), and of a
# sequential scan.
set -eu
N=${1:-1000000}
D=${2:-768}
Q=${Q:-20}
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/timing.sh"
cd "$MRL_ROOT"
mrl_build_install
[ -f "$("$PG_CONFIG" --sharedir)/extension/vector.control" ] || { echo "pgvector is not installed" >&2; exit 1; }
mrl_cluster_start "shared_buffers = ${SHARED_BUFFERS:-2GB}" "maintenance_work_mem = ${MAINTENANCE_WORK_MEM:-4GB}" \
	"max_parallel_workers_per_gather = 0" "max_parallel_maintenance_workers = 1" "jit = off" \
	"max_wal_size = 20GB" "checkpoint_timeout = 1h"
sql() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

data=$MRL_TMP/vectors.bin
queries=$MRL_TMP/queries.bin
/usr/bin/python3 test/bench/gen_vectors.py "$N" "$D" "$data" --matryoshka
/usr/bin/python3 test/bench/gen_vectors.py "$Q" "$D" "$queries" --matryoshka --seed 2
chmod 644 "$data" "$queries"

# timed LABEL SQL...: run the statements in one psql, print and keep the seconds
declare -A secs
timed()
{
	local label=$1 t0 t1
	shift
	t0=$(date +%s.%N)
	sql "$@" >/dev/null
	t1=$(date +%s.%N)
	secs[$label]=$(echo "$t1 - $t0" | bc)
	printf '%-58s %9.1f s\n' "$label" "${secs[$label]}"
}

# median_ms SQL_WITH_Q: median time of the query with each query vector
# (typed vector, as a pgvector client sends it), after one warm-up
median_ms()
{
	local i stmts=()
	for i in $(seq 0 "$Q"); do
		stmts+=("SELECT id FROM docs ORDER BY ${1//QUERY/(SELECT emb FROM queries WHERE id = $((i % Q + 1)))} LIMIT 10;")
	done
	median_of "${stmts[@]}"
}

# latency LABEL: index and sequential-scan medians now
latency()
{
	local idx seq
	idx=$(median_ms "emb <=> QUERY")
	seq=$(PGOPTIONS="-c enable_indexscan=off" median_ms "emb <=> QUERY")
	printf '%-58s %9s ms index, %s ms seq scan (%s)\n' "  top-10 latency $1" "$idx" "$seq" \
		"$(sql -c "SELECT pg_size_pretty(pg_table_size('docs'))")"
}

sql -c "CREATE EXTENSION vector" -c "CREATE EXTENSION mrl" -c "CREATE EXTENSION mrl_pgvector" \
	-c "CREATE TABLE queries (id int, emb vector($D))" -c "COPY queries FROM '$queries' (FORMAT binary)"
echo "# $N x $D Matryoshka-structured unit vectors, pgvector $(sql -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'")"
timed "1. load the pgvector table (COPY)" -c "CREATE TABLE docs (id int, emb vector($D))" \
	-c "COPY docs FROM '$data' (FORMAT binary)" -c "ALTER TABLE docs ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE docs"
if [ "${HNSW:-1}" = 1 ]; then
	timed "1. pgvector HNSW index (m 16, ef_construction 64)" \
		-c "CREATE INDEX docs_emb_idx ON docs USING hnsw (emb vector_cosine_ops)"
else
	sql -c "CREATE INDEX docs_emb_idx ON docs (id)"	# something to drop
fi
latency "(pgvector$([ "${HNSW:-1}" = 1 ] && echo ": HNSW, ef_search 40"))"

before=$(sql -c "SELECT pg_relation_filenode('docs')")
timed "2. DROP INDEX docs_emb_idx" -c "DROP INDEX docs_emb_idx"
timed "2. ALTER COLUMN emb TYPE mvector USING emb::mvector" \
	-c "ALTER TABLE docs ALTER COLUMN emb TYPE mvector USING emb::mvector"
after=$(sql -c "SELECT pg_relation_filenode('docs')")
[ "$before" = "$after" ] && echo "   (not rewritten: same relfilenode)" || echo "   (rewritten: relfilenode $before -> $after)"
timed "2. CREATE INDEX ... USING funnel (emb mvector_cosine_ops)" \
	-c "CREATE INDEX docs_emb_funnel ON docs USING funnel (emb mvector_cosine_ops)" -c "ANALYZE docs"
latency "(mvector, values where pgvector stored them)"

timed "3. VACUUM FULL docs (values inline; rebuilds the indexes)" -c "VACUUM FULL docs"
latency "(mvector, values inline)"

timed "4. ALTER COLUMN emb TYPE mvector($D) (rewrite, reindex)" \
	-c "ALTER TABLE docs ALTER COLUMN emb TYPE mvector($D)"

if [ "${DETOURS:-0}" = 1 ]; then
	sql -c "CREATE TABLE detour AS SELECT id, emb::vector AS emb FROM docs WHERE id <= 100000"
	timed "detour, 100k rows: TYPE mvector USING emb::real[]::mvector" \
		-c "ALTER TABLE detour ALTER COLUMN emb TYPE mvector USING emb::real[]::mvector"
	sql -c "ALTER TABLE detour ALTER COLUMN emb TYPE vector USING emb::vector"
	timed "detour, 100k rows: TYPE mvector USING emb::text::mvector" \
		-c "ALTER TABLE detour ALTER COLUMN emb TYPE mvector USING emb::text::mvector"
	sql -c "ALTER TABLE detour ALTER COLUMN emb TYPE vector USING emb::vector"
	timed "detour, 100k rows: TYPE mvector($D) USING emb::mvector($D)" \
		-c "ALTER TABLE detour ALTER COLUMN emb TYPE mvector($D) USING emb::mvector($D)"
fi
