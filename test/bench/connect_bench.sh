#!/usr/bin/env bash
# test/bench/connect_bench.sh [N]: what mrl adds to a new connection.
#
# Opens N connections (default 40) for each statement below and prints the
# median wall time per connection (psql start to exit) and the server CPU
# per connection (the postmaster's reaped children: backends that exited):
#   SELECT 1                          no mrl code
#   an mvector distance               loads mrl.so only
#   mrl_embed(...) of one sentence    loads OpenBLAS and the built-in model
set -eu
N=${1:-40}
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
mrl_ensure_deps
mrl_build_install
mrl_cluster_start
psql -X -q -c "CREATE EXTENSION mrl"
postmaster=$(head -1 "$PGDATA/postmaster.pid")
reaped_ticks() { awk '{print $16 + $17}' "/proc/$postmaster/stat"; }

# per_connection LABEL SQL: N connections; median ms and CPU ms per connection
per_connection()
{
	local t0 t1 c0 c1 i times=()
	c0=$(reaped_ticks)
	for i in $(seq 1 "$N"); do
		t0=$(date +%s%N)
		psql -X -q -At -c "$2" >/dev/null
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	sleep 0.5	# let the last backend exit and be reaped
	c1=$(reaped_ticks)
	printf '%-34s %8.1f ms %8.1f ms\n' "$1" \
		"$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)] / 1000}')" \
		"$(echo "($c1 - $c0) * 1000 / $(getconf CLK_TCK) / $N" | bc -l)"
}

printf '%-34s %11s %11s\n' "statement (one per connection)" "median" "server CPU"
per_connection "SELECT 1" "SELECT 1"
per_connection "mvector distance" "SELECT '[1,2,3]'::mvector <=> '[3,2,1]'"
per_connection "mrl_embed (built-in model)" "SELECT mrl_dims(mrl_embed('how do I list open ports?'))"
