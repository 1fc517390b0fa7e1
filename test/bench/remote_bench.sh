#!/usr/bin/env bash
# test/bench/remote_bench.sh [TEXTS] [BATCH] [LATENCY_MS] [DIMS]: remote
# encoder throughput against the loopback fake API
# (test/remote/fake_embed_server.py) answering every request after
# LATENCY_MS (default 50).
#
# Embeds TEXTS texts (default 10,000) through mrl_embed's text[] form in
# batches of BATCH (default 100) with concurrency 1, 2, 4, 8 and 16, best of
# 3 runs each, and prints the elapsed time against one request at a time
# (requests x latency) and against the ideal with N in flight (that / N).
# Also the one-text form, one request per row, over 200 rows.
set -eu
TEXTS=${1:-10000}
BATCH=${2:-100}
LATENCY_MS=${3:-50}
DIMS=${4:-256}
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
mrl_ensure_deps
mrl_build_install
mrl_cluster_start
work=$(mktemp -d /tmp/mrl-remote-bench.XXXXXX)
/usr/bin/python3 test/remote/fake_embed_server.py serve "$work/port" >"$work/fake.log" 2>&1 &
fake_pid=$!
trap 'kill $fake_pid; rm -rf "$work"; mrl_cluster_stop' EXIT
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$work/port")
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -c "CREATE EXTENSION mrl" \
	-c "CREATE SERVER fake FOREIGN DATA WRAPPER mrl_http OPTIONS (url '$url/v1', batch_size '$BATCH')" \
	-c "SELECT mrl_register_model('bench', 'openai:mrl-$DIMS', server => 'fake')" \
	-c "CREATE TABLE texts AS SELECT 'benchmark text number ' || g AS body FROM generate_series(1, $TEXTS) g" >/dev/null
/usr/bin/python3 test/remote/fake_embed_server.py control "$url" "{\"latency\": $(printf "%d.%03d" $((LATENCY_MS / 1000)) $((LATENCY_MS % 1000)))}" >/dev/null

[ "$LATENCY_MS" -gt 0 ] || { echo "LATENCY_MS must be above 0" >&2; exit 1; }
requests=$(((TEXTS + BATCH - 1) / BATCH))
serial_ms=$((requests * LATENCY_MS))
# run_ms SQL: the best of 3 runs, in ms
run_ms()
{
	local best= t0 ms
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		sql -c "$1" >/dev/null
		ms=$((($(date +%s%N) - t0) / 1000000))
		[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
	done
	echo "$best"
}

echo "$TEXTS texts of ~26 bytes, $DIMS dims, batches of $BATCH ($requests requests), $LATENCY_MS ms per answer"
echo "one request at a time would take $requests x $LATENCY_MS ms = $serial_ms ms"
printf '%-12s %10s %16s %14s %18s\n' "in flight" "elapsed" "vs one at a time" "ideal (/N)" "vs ideal"
for n in 1 2 4 8 16; do
	sql -c "ALTER SERVER fake OPTIONS (ADD concurrency '$n')" >/dev/null
	ms=$(run_ms "SELECT count(*) FROM unnest(mrl_embed(array(SELECT body FROM texts), 'bench'))")
	ideal=$((serial_ms / n))
	printf '%-12s %7d ms %15.2fx %11d ms %17.2fx\n' "$n" "$ms" \
		"$(echo "$serial_ms / $ms" | bc -l)" "$ideal" "$(echo "$ms / $ideal" | bc -l)"
	sql -c "ALTER SERVER fake OPTIONS (DROP concurrency)" >/dev/null
done
rows=200
ms=$(run_ms "SELECT count(mrl_embed(body, 'bench')) FROM (SELECT body FROM texts LIMIT $rows) t")
printf 'one text per call, %d rows: %d ms (%.1f ms a row over one kept-alive connection; the latency is %d ms)\n' \
	"$rows" "$ms" "$(echo "$ms / $rows" | bc -l)" "$LATENCY_MS"
