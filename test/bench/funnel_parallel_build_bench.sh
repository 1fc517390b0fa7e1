#!/usr/bin/env bash
# funnel_parallel_build_bench.sh: funnel index build time with 0, 1 and 2
# parallel workers (max_parallel_maintenance_workers; the table's
# parallel_workers is set to the largest), median of REPS builds each, on
# N synthetic Matryoshka-structured vectors (test/bench/gen_vectors.py) of
# each size in DIMS, with the ratios to the serial build.  The first build
# of each setting also prints how long each build phase took, from
# pg_stat_progress_create_index polled every 0.2 s.  The settings run in
# rounds, one build of each in turn; the load average is printed beside
# the figures: the machine's other work slows every build.
#
#   bash test/bench/funnel_parallel_build_bench.sh          # 1M rows, 256 and 768 dims
#   N=200000 DIMS=256 REPS=1 WORKERS="0 2" ...
set -u
. "$(dirname "$0")/../lib.sh"
N=${N:-1000000}
DIMS=${DIMS:-256 768}
REPS=${REPS:-3}
WORKERS=${WORKERS:-0 1 2}
DATA=${DATA:-/var/tmp/mrl-parallel-build}
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = 1GB" \
	"maintenance_work_mem = 1GB" "max_worker_processes = 16" "max_parallel_workers = 8" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
mkdir -p "$DATA"
maxw=$(printf '%s\n' $WORKERS | sort -n | tail -1)

# Phase changes of the running build, as "phase seconds" lines on stdout,
# until the file $1 exists.
watch_phases()
{
	local stop=$1 t0 now phase last=""
	t0=$(date +%s.%N)
	while [ ! -e "$stop" ]; do
		phase=$(sql -c "SELECT phase FROM pg_stat_progress_create_index LIMIT 1" 2>/dev/null)
		now=$(date +%s.%N)
		if [ -n "$phase" ] && [ "$phase" != "$last" ]; then
			[ -n "$last" ] && printf '%s %.1f\n' "$last" "$(echo "$now - $t0" | bc)"
			last=$phase
			t0=$now
		fi
		sleep 0.2
	done
	[ -n "$last" ] && printf '%s %.1f\n' "$last" "$(echo "$(date +%s.%N) - $t0" | bc)"
}

# One build with $1 workers: prints its seconds; phase lines go to $2.
build()
{
	local w=$1 phases=$2 stop t0 t1
	stop=$(mktemp -u)
	watch_phases "$stop" >"$phases" &
	local watcher=$!
	t0=$(date +%s.%N)
	sql -c "SET max_parallel_maintenance_workers = $w" \
		-c "CREATE INDEX t_idx ON t USING funnel (emb mvector_cosine_ops)" || return 1
	t1=$(date +%s.%N)
	touch "$stop"
	wait "$watcher"
	rm -f "$stop"
	sql -c "DROP INDEX t_idx"
	echo "$t1 - $t0" | bc
}

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl"
for d in $DIMS; do
	f=$DATA/matryoshka_${N}x$d.bin
	[ -s "$f" ] || /usr/bin/python3 "$MRL_ROOT/test/bench/gen_vectors.py" --matryoshka "$N" "$d" "$f" || exit 1
	sql -c "DROP TABLE IF EXISTS t" -c "CREATE TABLE t (id int4, emb mvector)" \
		-c "\\copy t FROM '$f' WITH (FORMAT binary)" \
		-c "ALTER TABLE t SET (parallel_workers = $maxw)" -c "VACUUM ANALYZE t"
	echo "# $N x $d, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	# rounds of every setting in turn, so that the machine's changing load
	# hits all of them alike
	declare -A times=()
	for r in $(seq 1 "$REPS"); do
		for w in $WORKERS; do
			t=$(build "$w" "$DATA/phases.$w.$r") || exit 1
			times[$w]="${times[$w]:-} $t"
			if [ "$r" = 1 ]; then
				echo "#   workers $w, phases of the first build (s): $(tr '\n' ';' <"$DATA/phases.$w.$r" | sed 's/;/; /g')"
			fi
		done
	done
	serial=""
	for w in $WORKERS; do
		med=$(printf '%s\n' ${times[$w]} | median)
		[ -z "$serial" ] && serial=$med
		printf '%d x %d  workers %d  median %.1f s  (runs:%s)  vs serial %.2fx  load %s\n' \
			"$N" "$d" "$w" "$med" "${times[$w]}" "$(echo "$serial / $med" | bc -l)" \
			"$(cut -d' ' -f1-3 /proc/loadavg)"
	done
done
