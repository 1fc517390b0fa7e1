#!/usr/bin/env bash
# test/bench/remote_bench.sh [TEXTS] [BATCH] [LATENCY_MS] [DIMS]: remote
# encoder throughput against the loopback fake API
# (test/remote/fake_embed_server.py) answering every request after
# LATENCY_MS (default 50).
#
# Embeds TEXTS texts (default 10,000) through mrl_embed's text[] form in
# batches of BATCH (default 100) with concurrency 1, 2, 4, 8 and 16, best of
# 3 runs each, and prints the elapsed time against one request at a time
# (requests x latency) and against the ideal with N in flight (that / N),
# with the CPU time the backend and the fake server spent (the fake caches
# its vectors: the first run of 1 in flight computes them).  Also the one-text form,
# one request per row, over 200 rows; and a whole table of TEXTS rows embedded
# by mrl_embed_table (batches of BATCH, 4 in flight, best of 3) against the
# per-row UPDATE t SET emb = mrl_embed(body, ...) over UPDATE_ROWS rows (default
# TEXTS; one run: it takes TEXTS x LATENCY_MS and more).
set -eu
TEXTS=${1:-10000}
BATCH=${2:-100}
LATENCY_MS=${3:-50}
DIMS=${4:-256}
UPDATE_ROWS=${UPDATE_ROWS:-$TEXTS}
[ "$LATENCY_MS" -gt 0 ] || { echo "LATENCY_MS must be above 0" >&2; exit 1; }
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
mrl_ensure_deps
mrl_build_install
mrl_cluster_start
work=$(mktemp -d /tmp/mrl-remote-bench.XXXXXX)
/usr/bin/python3 test/remote/fake_embed_server.py serve "$work/port" \
	"$(printf "%d.%03d" $((LATENCY_MS / 1000)) $((LATENCY_MS % 1000)))" >"$work/fake.log" 2>&1 &
fake_pid=$!
trap 'kill $fake_pid; rm -rf "$work"; mrl_cluster_stop' EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$work/port")
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -c "CREATE EXTENSION mrl" \
	-c "CREATE SERVER fake FOREIGN DATA WRAPPER mrl_http OPTIONS (url '$url/v1', batch_size '$BATCH')" \
	-c "SELECT mrl_register_model('bench', 'openai:mrl-$DIMS', server => 'fake')" \
	-c "CREATE TABLE texts AS SELECT g AS id, 'benchmark text number ' || g AS body, NULL::mvector AS emb FROM generate_series(1, $TEXTS) g" >/dev/null

requests=$(((TEXTS + BATCH - 1) / BATCH))
serial_ms=$((requests * LATENCY_MS))
tck=$(getconf CLK_TCK)
# CPU ms of the backend running the statement, and of the fake server
backend_cpu="SELECT (s[14]::bigint + s[15]::bigint) * 1000 / $tck FROM string_to_array(pg_read_file('/proc/self/stat'), ' ') s"
fake_cpu() { awk -v t="$tck" '{ print ($14 + $15) * 1000 / t }' "/proc/$fake_pid/stat"; }
# run SQL [RUNS]: the best of RUNS (3) runs: "elapsed_ms backend_cpu_ms fake_cpu_ms"
run()
{
	local best= t0 ms f0 out
	for _ in $(seq "${2:-3}"); do
		f0=$(fake_cpu)
		t0=$(date +%s%N)
		out=($(sql -c "$backend_cpu" -c "$1" -c "$backend_cpu"))
		ms=$((($(date +%s%N) - t0) / 1000000))
		if [ -z "$best" ] || [ "$ms" -lt "${best%% *}" ]; then
			best="$ms $((${out[2]} - ${out[0]})) $(($(fake_cpu) - f0))"
		fi
	done
	echo "$best"
}

echo "$TEXTS texts of ~26 bytes, $DIMS dims, batches of $BATCH ($requests requests), $LATENCY_MS ms per answer, best of 3"
echo "one request at a time would take $requests x $LATENCY_MS ms = $serial_ms ms"
printf '%-9s %10s %12s %10s %10s %12s %10s\n' "in flight" "elapsed" "vs serial" "ideal" "vs ideal" "backend CPU" "fake CPU"
for n in 1 2 4 8 16; do
	sql -c "ALTER SERVER fake OPTIONS (ADD concurrency '$n')" >/dev/null
	r=($(run "SELECT count(*) FROM unnest(mrl_embed(array(SELECT body FROM texts), 'bench'))"))
	ideal=$((serial_ms / n))
	printf '%-9s %7d ms %11.2fx %7d ms %9.2fx %9d ms %7d ms\n' "$n" "${r[0]}" \
		"$(echo "$serial_ms / ${r[0]}" | bc -l)" "$ideal" "$(echo "${r[0]} / $ideal" | bc -l)" "${r[1]}" "${r[2]}"
	sql -c "ALTER SERVER fake OPTIONS (DROP concurrency)" >/dev/null
done
rows=200
r=($(run "SELECT count(mrl_embed(body, 'bench')) FROM (SELECT body FROM texts LIMIT $rows) t"))
printf 'one text per call, %d rows: %d ms, %.1f ms a row over one kept-alive connection (latency %d ms)\n' \
	"$rows" "${r[0]}" "$(echo "${r[0]} / $rows" | bc -l)" "$LATENCY_MS"

echo "a table of $TEXTS rows, batches of $BATCH, 4 in flight:"
sql -c "ALTER SERVER fake OPTIONS (ADD concurrency '4')" >/dev/null
t=($(run "SELECT mrl_embed_table('texts', 'body', 'emb', 'bench', only_missing => false)"))
[ "$(sql -c "SELECT count(emb) FROM texts")" -eq "$TEXTS" ] || { echo "mrl_embed_table left rows without a vector" >&2; exit 1; }
u=($(run "WITH u AS (UPDATE texts SET emb = mrl_embed(body, 'bench') WHERE id <= $UPDATE_ROWS RETURNING 1) SELECT count(*) FROM u" 1))
per_row=$(echo "${u[0]} / $UPDATE_ROWS" | bc -l)
printf '%-44s %9d ms  backend CPU %6d ms  fake CPU %6d ms\n' "mrl_embed_table, best of 3:" "${t[0]}" "${t[1]}" "${t[2]}"
printf '%-44s %9d ms  backend CPU %6d ms  fake CPU %6d ms  (%.1f ms a row)\n' \
	"per-row UPDATE of $UPDATE_ROWS rows, one run:" "${u[0]}" "${u[1]}" "${u[2]}" "$per_row"
printf 'ideal with 4 in flight: %d ms; mrl_embed_table is %.1fx faster than the per-row UPDATE (per row: %.2f ms against %.1f ms)\n' \
	"$((serial_ms / 4))" "$(echo "$per_row * $TEXTS / ${t[0]}" | bc -l)" "$(echo "${t[0]} / $TEXTS" | bc -l)" "$per_row"
uptime
