#!/usr/bin/env bash
# test/bench/seqscan_bench.sh [N] [D]: sequential-scan top-10 latency.
#
# Loads N x D random unit vectors (default 100k x 768) into mvector tables
# with each storage strategy and, when pgvector is installed, into a vector
# table, then prints the median latency of
#   ORDER BY emb <=> q LIMIT 10                      (full dimension)
#   ORDER BY mrl_cosine_distance(emb, q, 64) LIMIT 10 (64-dim prefix)
# over Q query vectors, serial (no parallel workers), and rows/second.
# It also times SELECT count(emb), which visits every row and reads the
# vector's header but does no arithmetic: the floor under any sequential
# scan of the table, whatever prefix it reads.
set -eu
N=${1:-100000}
D=${2:-768}
Q=${Q:-9}
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/timing.sh"
cd "$MRL_ROOT"
mrl_ensure_deps
mrl_build_install
mrl_cluster_start "shared_buffers = 2GB" "max_parallel_workers_per_gather = 0" "jit = off"

data=$MRL_TMP/vectors.bin
/usr/bin/python3 test/bench/gen_vectors.py "$N" "$D" "$data"
chmod 644 "$data"

have_pgvector=0
[ -f "$(pg_config --sharedir 2>/dev/null || echo /usr/share/postgresql/15)/extension/vector.control" ] ||
	[ -f /usr/share/postgresql/15/extension/vector.control ] && have_pgvector=1

sql() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
sql -c "CREATE EXTENSION mrl"
# query vectors live in a small table, so fetching one costs nothing
sql -c "CREATE TABLE tmp_all (id int, emb mvector($D))" -c "COPY tmp_all FROM '$data' (FORMAT binary)" \
	-c "CREATE TABLE queries_mvector AS SELECT id / 7 AS id, emb FROM tmp_all WHERE id % 7 = 0 AND id <= 7 * ($Q + 1)" \
	-c "DROP TABLE tmp_all"
for storage in main external extended; do
	sql -c "CREATE TABLE mrl_$storage (id int, emb mvector($D))" \
		-c "ALTER TABLE mrl_$storage ALTER COLUMN emb SET STORAGE $storage" \
		-c "COPY mrl_$storage FROM '$data' (FORMAT binary)" \
		-c "VACUUM ANALYZE mrl_$storage"
done
if [ $have_pgvector = 1 ]; then
	sql -c "CREATE EXTENSION vector" \
		-c "CREATE TABLE pgvector_default (id int, emb vector($D))" \
		-c "COPY pgvector_default FROM '$data' (FORMAT binary)" \
		-c "VACUUM ANALYZE pgvector_default" \
		-c "CREATE TABLE queries_vector AS SELECT id, emb::text::vector($D) AS emb FROM queries_mvector"
	pgv=$(sql -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'")
fi

# median_ms TABLE ORDER_EXPR TYPE: median over Q queries (plus one warm-up)
median_ms()
{
	local table=$1 expr=$2 type=$3 i stmts=()
	for i in $(seq 1 $((Q + 1))); do
		stmts+=("SELECT id FROM $table ORDER BY ${expr//QUERY/(SELECT emb FROM queries_$type WHERE id = $i)} LIMIT 10;")
	done
	median_of "${stmts[@]}"
}

# median_count TABLE: median time of SELECT count(emb) (plus one warm-up)
median_count()
{
	local i stmts=()
	for i in $(seq 0 "$Q"); do stmts+=("SELECT count(emb) FROM $1;"); done
	median_of "${stmts[@]}"
}

printf '%-18s %-9s %12s %12s %12s %12s\n' table storage "full ms" "prefix64 ms" "count ms" "full rows/s"
declare -A full prefix visit
for storage in main external extended; do
	size=$(sql -c "SELECT pg_size_pretty(pg_total_relation_size('mrl_$storage'))")
	f=$(median_ms "mrl_$storage" "emb <=> QUERY" "mvector")
	p=$(median_ms "mrl_$storage" "mrl_cosine_distance(emb, QUERY, 64)" "mvector")
	c=$(median_count "mrl_$storage")
	full[$storage]=$f prefix[$storage]=$p visit[$storage]=$c
	printf '%-18s %-9s %12.1f %12.1f %12.1f %12.0f   (%s)\n' "mrl_$storage" "$storage" "$f" "$p" "$c" "$(echo "$N / $f * 1000" | bc -l)" "$size"
done
printf 'storage main: full / prefix64 %.2fx; count(emb) alone is %.0f%% of the prefix64 scan\n' \
	"$(echo "${full[main]} / ${prefix[main]}" | bc -l)" "$(echo "100 * ${visit[main]} / ${prefix[main]}" | bc -l)"
if [ $have_pgvector = 1 ]; then
	size=$(sql -c "SELECT pg_size_pretty(pg_total_relation_size('pgvector_default'))")
	f=$(median_ms pgvector_default "emb <=> QUERY" "vector")
	p=$(median_ms pgvector_default "subvector(emb, 1, 64) <=> subvector(QUERY, 1, 64)" "vector")
	full[pgvector]=$f
	c=$(median_count pgvector_default)
	printf '%-18s %-9s %12.1f %12.1f %12.1f %12.0f   (%s, pgvector %s)\n' pgvector_default external "$f" "$p" "$c" "$(echo "$N / $f * 1000" | bc -l)" "$size" "$pgv"
	printf 'ratio pgvector / mrl (storage main), full-dimension scan: %.2fx\n' "$(echo "${full[pgvector]} / ${full[main]}" | bc -l)"
fi
