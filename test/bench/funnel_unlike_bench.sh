#!/usr/bin/env bash
# test/bench/funnel_unlike_bench.sh: the funnel's default settings on
# queries unlike the rows.  N x D Matryoshka-structured unit vectors
# (test/bench/gen_vectors.py: 100 centres, seed 1), Q held-out queries like
# them, Q queries around 100 other centres (seed 2); one index (cosine,
# defaults).  For each query set: recall@10 against a sequential scan,
# p50 latency (methods interleaved query by query, test/bench/timing.sh) and
# how many scans widened (DEBUG1), at the defaults and with
# mrl.funnel_probes set to the calibrated number, which turns the widening
# off: the scan as it was before on-disk version 6.
#
#   bash test/bench/funnel_unlike_bench.sh                 # 100k x 768, 100 queries
#   N=20000 D=256 Q=200 bash test/bench/funnel_unlike_bench.sh
set -eu
N=${N:-100000}
D=${D:-768}
Q=${Q:-100}
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/timing.sh"
cd "$MRL_ROOT"
mrl_build_install
mrl_cluster_start "shared_buffers = ${SHARED_BUFFERS:-1GB}" "max_parallel_workers_per_gather = 0" \
	"jit = off" "maintenance_work_mem = 1GB"
sql() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }

/usr/bin/python3 test/bench/gen_vectors.py "$N" "$D" "$MRL_TMP/rows.bin" --matryoshka \
	--queries "$Q" "$MRL_TMP/like.bin"
/usr/bin/python3 test/bench/gen_vectors.py "$Q" "$D" "$MRL_TMP/unlike.bin" --matryoshka --seed 2
chmod 644 "$MRL_TMP"/*.bin
sql -c "CREATE EXTENSION mrl" -c "CREATE TABLE t (id int, emb mvector($D))" \
	-c "COPY t FROM '$MRL_TMP/rows.bin' (FORMAT binary)" -c "VACUUM ANALYZE t"
for qset in like unlike; do
	sql -c "CREATE TABLE q_$qset (id int, emb mvector($D))" -c "COPY q_$qset FROM '$MRL_TMP/$qset.bin' (FORMAT binary)" \
		-c "SET enable_indexscan = off" -c "CREATE TABLE truth_$qset AS SELECT q.id, (SELECT array_agg(id) FROM
			(SELECT t.id FROM t ORDER BY t.emb <=> q.emb LIMIT 10) s) AS ids FROM q_$qset q"
done
t0=$(date +%s.%N)
calibration=$(sql -c "SET client_min_messages = debug1" -c "CREATE INDEX ON t USING funnel (emb mvector_cosine_ops)" 2>&1 |
	grep 'approximate scans need')
echo "# $N x $D, $Q queries of each set; build $(echo "$(date +%s.%N) - $t0" | bc) s"
echo "# ${calibration#*: }"
probes=$(sed -n 's/.*need \([0-9]*\) of .*/\1/p' <<<"$calibration")

# measure QSET PROBES: recall@10 and widened scans of the index at mrl.funnel_probes = PROBES
measure()
{
	sql -F ' ' -c "SET enable_seqscan = off" -c "SET mrl.funnel_probes = $2" -c "SET client_min_messages = debug1" \
		-c "SELECT round(avg((SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (tr.ids)) / 10.0), 3)
			FROM q_$1 q JOIN truth_$1 tr USING (id),
			LATERAL (SELECT array_agg(id) AS ids FROM (SELECT t.id FROM t ORDER BY t.emb <=> q.emb LIMIT 10) s) a" \
		2>"$MRL_TMP/debug.txt"
	grep -c 'widened to' "$MRL_TMP/debug.txt" || true
}
statements=()
# the two settings never run one query back to back: the second would find
# the first's pages in the CPU's caches (0.45 against 0.72 ms on 100k x 768)
for qset in like unlike; do
	for p in 0 "$probes"; do
		q=$([ "$p" = 0 ] && echo ROUND || echo "ROUND % $Q + 1")
		statements+=("${qset}_$p=SET enable_seqscan = off; SET mrl.funnel_probes = $p; SELECT id FROM t ORDER BY emb <=> (SELECT emb FROM q_$qset WHERE id = $q) LIMIT 10;")
	done
done
medians=$(interleaved_medians "$Q" "${statements[@]}")
printf '%-8s %-34s %8s %10s %9s\n' queries setting "p50 ms" "recall@10" widened
for qset in like unlike; do
	for p in 0 "$probes"; do
		{ read -r recall; read -r widened; } <<<"$(measure "$qset" "$p")"
		printf '%-8s %-34s %8.2f %10s %5s/%s\n' "$qset" \
			"$([ "$p" = 0 ] && echo "defaults" || echo "mrl.funnel_probes = $p (no widening)")" \
			"$(awk -v n="${qset}_$p" '$1 == n {print $2}' <<<"$medians")" "$recall" "$widened" "$Q"
	done
done
