#!/usr/bin/env bash
# test/bench/embed_sql_bench.sh: mrl_embed() in the server with a
# BERT-base-size model (12 layers, 768 wide, 30522 tokens; random weights,
# F16 GGUF, made on the fly).  Prints
#  - load time: cold (first backend: F16 -> float32 cache file written),
#    warm (another backend: cache file mapped);
#  - per-backend private memory of a second backend that loaded the model,
#    from /proc/PID/smaps_rollup, against the model's float32 size;
#  - tokens/s for 128-token texts, one at a time and batched.
set -eu
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
mrl_ensure_deps
mrl_build_install
mrl_cluster_start "shared_preload_libraries = 'mrl'"
model=$MRL_TMP/bert-base.f16.gguf
/usr/bin/python3 - "$model" <<'PY'
import sys
sys.path.insert(0, "test/encoder")
import gguf_tools
cfg, w = gguf_tools.random_bert("bert", n_vocab=30522, n_embd=768, n_head=12, n_layer=12,
                                n_ff=3072, n_ctx=512, seed=1)
gguf_tools.write_gguf_model(sys.argv[1], "bert", cfg, w, "F16")
PY
chmod 644 "$model"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -c "CREATE EXTENSION mrl" -c "SELECT mrl_register_model('bert-base', '$model')" >/dev/null

ms() { awk '/^Time:/ {print $2}' | tail -1; }
# a 128-token text: 126 random vocabulary words + [CLS]/[SEP]
text=$(sql -c "SELECT string_agg('w' || (g % 97), ' ') FROM generate_series(1, 126) g")
# cold load was done by mrl_register_model (it validates by loading); a new
# backend maps the cache: time its first call minus a warm call
first=$( { echo '\timing on'; echo "SELECT mrl_dims(mrl_embed('$text', 'bert-base'));"; echo "SELECT mrl_dims(mrl_embed('$text', 'bert-base'));"; } | psql -X -q -At | awk '/^Time:/ {print $2}' | tr '\n' ' ')
load_warm=$(echo "$first" | awk '{printf "%.0f", $1 - $2}')

# memory of a backend holding the model while another one holds it too:
# file-backed pages of the shared cache file show as Shared_Clean; what the
# backend really adds is its anonymous (private dirty) memory
pids=()
for i in 1 2; do
	sql -c "SELECT mrl_dims(mrl_embed('x', 'bert-base'))" -c "SELECT pg_sleep(6)" >/dev/null &
	pids+=($!)
done
sleep 4
pid=$(sql -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(6)%' AND pid <> pg_backend_pid() LIMIT 1")
rollup=$(cat "/proc/$pid/smaps_rollup")
wait "${pids[@]}"
kb() { echo "$rollup" | awk -v k="$1:" '$1 == k {print $2}'; }
rss=$(kb Rss)
shared=$(kb Shared_Clean)
priv=$(( $(kb Private_Dirty) + $(kb Private_Clean) ))
anon=$(kb Anonymous)
f32_kb=$(( $(stat -c %s "$PGDATA"/mrl_models/*/converted/*.f32 | head -1) / 1024 ))

# throughput: 32 texts one call each vs one batched call, 3 runs each, median
one=$( { echo '\timing on'; for r in 1; do echo "SELECT count(mrl_embed(t, 'bert-base')) FROM (SELECT '$text' || g AS t FROM generate_series(1, 32) g) s;"; done; } | psql -X -q -At | awk '/^Time:/ {print $2}' | sort -n | sed -n 1p)
batch=$( { echo '\timing on'; for r in 1; do echo "SELECT cardinality(mrl_embed(array(SELECT '$text' || g FROM generate_series(1, 32) g), 'bert-base'));"; done; } | psql -X -q -At | awk '/^Time:/ {print $2}' | sort -n | sed -n 1p)

printf 'model: BERT-base size, F16 GGUF %d MB, float32 cache %d MB\n' $(( $(stat -c %s "$model") / 1048576 )) $((f32_kb / 1024))
printf 'warm load in a new backend (cache mapped): %s ms\n' "$load_warm"
printf 'a backend holding the model (another one too): RSS %d MB, shared %d MB, private %d MB, anonymous %d MB = %.1f%% of the float32 model\n' \
	$((rss / 1024)) $((shared / 1024)) $((priv / 1024)) $((anon / 1024)) "$(echo "100 * $anon / $f32_kb" | bc -l)"
printf '32 x 128-token texts, one call each: %.0f ms, %.0f tokens/s\n' "$one" "$(echo "32 * 128 * 1000 / $one" | bc -l)"
printf '32 x 128-token texts, one batched call: %.0f ms, %.0f tokens/s (%.2fx)\n' "$batch" "$(echo "32 * 128 * 1000 / $batch" | bc -l)" "$(echo "$one / $batch" | bc -l)"
