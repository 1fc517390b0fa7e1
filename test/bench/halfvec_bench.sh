#!/usr/bin/env bash
# test/bench/halfvec_bench.sh [N] [D]: half precision and int8 against full,
# on the same rows: N x D Matryoshka-structured unit vectors (default 100k x
# 768) in an mvector, an mhalfvec, a mint8vec and (when pgvector is
# installed) a pgvector halfvec table.  Prints for each: heap size (with
# TOAST), sequential-scan top-10 latency over all dims and over the first 64,
# and count(emb); then for the funnel index (cosine, defaults) on mvector,
# mhalfvec and mint8vec: build time,
# approximate top-10 latency at shortlists 400 (the default) and 4000 (the
# rerank then dominates: 4000 heap rows fetched and compared per query), and
# recall@10 against the exact full-precision answer.  Medians over Q queries,
# serial scans, the methods interleaved query by query (test/bench/timing.sh).
set -eu
N=${1:-100000}
D=${2:-768}
Q=${Q:-9}
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/timing.sh"
cd "$MRL_ROOT"
mrl_build_install
mrl_cluster_start "shared_buffers = ${SHARED_BUFFERS:-2GB}" "max_parallel_workers_per_gather = 0" "jit = off" \
	"maintenance_work_mem = 1GB"
sql() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

data=$MRL_TMP/vectors.bin
queries=$MRL_TMP/queries.bin
/usr/bin/python3 test/bench/gen_vectors.py "$N" "$D" "$data" --matryoshka
/usr/bin/python3 test/bench/gen_vectors.py "$Q" "$D" "$queries" --matryoshka --seed 2
chmod 644 "$data" "$queries"
have_pgvector=0
[ -f "$("$PG_CONFIG" --sharedir)/extension/vector.control" ] && have_pgvector=1

sql -c "CREATE EXTENSION mrl" -c "CREATE TABLE q_mvector (id int, emb mvector($D))" \
	-c "COPY q_mvector FROM '$queries' (FORMAT binary)" \
	-c "CREATE TABLE q_mhalfvec AS SELECT id, emb::mhalfvec($D) AS emb FROM q_mvector" \
	-c "CREATE TABLE t_mvector (id int, emb mvector($D))" -c "COPY t_mvector FROM '$data' (FORMAT binary)" \
	-c "CREATE TABLE t_mhalfvec AS SELECT id, emb::mhalfvec($D) AS emb FROM t_mvector" \
	-c "CREATE TABLE q_mint8vec AS SELECT id, emb::mint8vec($D) AS emb FROM q_mvector" \
	-c "CREATE TABLE t_mint8vec AS SELECT id, emb::mint8vec($D) AS emb FROM t_mvector"
tables="mvector mhalfvec mint8vec"
if [ $have_pgvector = 1 ]; then
	sql -c "CREATE EXTENSION vector" -c "CREATE EXTENSION mrl_pgvector" \
		-c "CREATE TABLE q_halfvec AS SELECT id, emb::halfvec($D) AS emb FROM q_mvector" \
		-c "CREATE TABLE t_halfvec (id int, emb halfvec($D))" \
		-c "INSERT INTO t_halfvec SELECT id, emb FROM t_mvector"
	tables="$tables halfvec"
fi
for t in $tables; do sql -c "VACUUM ANALYZE t_$t"; done

# query TYPE ORDER_EXPR: the top-10 statement on table t_TYPE, query ROUND
query()
{
	echo "SELECT id FROM t_$1 ORDER BY ${2//QUERY/(SELECT emb FROM q_$1 WHERE id = ROUND)} LIMIT 10;"
}
# median NAME: NAME's median from the interleaved run in $medians
median() { awk -v n="$1" '$1 == n {print $2}' <<<"$medians"; }

echo "# $N x $D; pgvector: $([ $have_pgvector = 1 ] && sql -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'" || echo no)"
statements=()
for t in $tables; do
	prefix="mrl_cosine_distance(emb, QUERY, 64)"
	[ $t = halfvec ] && prefix="subvector(emb, 1, 64) <=> subvector(QUERY, 1, 64)"
	statements+=("full_$t=$(query "$t" "emb <=> QUERY")" "prefix_$t=$(query "$t" "$prefix")"
		"count_$t=SELECT count(emb) FROM t_$t;")
done
medians=$(interleaved_medians "$Q" "${statements[@]}")
printf '%-10s %12s %12s %12s %12s %12s\n' type "heap+toast" "toast" "full ms" "prefix64 ms" "count ms"
for t in $tables; do
	printf '%-10s %12s %12s %12.1f %12.1f %12.1f\n' "$t" \
		"$(sql -c "SELECT pg_size_pretty(pg_table_size('t_$t'))")" \
		"$(sql -c "SELECT pg_size_pretty(pg_relation_size(reltoastrelid)) FROM pg_class WHERE relname = 't_$t'")" \
		"$(median "full_$t")" "$(median "prefix_$t")" "$(median "count_$t")"
done

# the exact full-precision top-10 of each query, for recall
sql -c "CREATE TABLE truth AS SELECT q.id, (SELECT array_agg(id) FROM (SELECT t.id FROM t_mvector t
	ORDER BY t.emb <=> q.emb LIMIT 10) s) AS ids FROM q_mvector q"
# recall TYPE SHORTLIST: mean recall@10 of the approximate index scan
recall()
{
	sql -c "SET mrl.funnel_shortlist = $2" -c "SET enable_seqscan = off" -c "SELECT round(avg((SELECT count(*)
		FROM unnest(ids) x WHERE x = ANY ((SELECT array_agg(id) FROM (SELECT t.id FROM t_$1 t
		ORDER BY t.emb <=> q.emb LIMIT 10) s)::int[])) / 10.0), 3) FROM q_$1 q JOIN truth USING (id)"
}
declare -A build
statements=()
for t in mvector mhalfvec mint8vec; do
	t0=$(date +%s.%N)
	sql -c "CREATE INDEX ON t_$t USING funnel (emb ${t}_cosine_ops)"
	build[$t]=$(echo "$(date +%s.%N) - $t0" | bc)
	for s in 400 4000; do
		statements+=("s${s}_$t=SET enable_seqscan = off; SET mrl.funnel_shortlist = $s; $(query "$t" "emb <=> QUERY")")
	done
done
medians=$(interleaved_medians "$Q" "${statements[@]}")
printf '\n%-10s %10s %14s %14s %12s %12s\n' type "build s" "shortlist 400" "shortlist 4000" "recall 400" "recall 4000"
for t in mvector mhalfvec mint8vec; do
	printf '%-10s %10.1f %14.2f %14.2f %12s %12s\n' "$t" "${build[$t]}" "$(median "s400_$t")" "$(median "s4000_$t")" \
		"$(recall "$t" 400)" "$(recall "$t" 4000)"
done
