#!/usr/bin/env bash
# 25_embed_server.sh: mrl_embed inside a server that preloads mrl
# (shared_preload_libraries, so OpenBLAS is loaded before the fork):
#  - the SQL layer gives the vectors of the command-line tool, which
#    22_forward.sh checks against PyTorch;
#  - concurrent backends with several OpenBLAS threads each never hang;
#  - converted (F16) weights go to one cache file that backends share.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

make -s -C src/encoder ../../tools/mrl_embed >/dev/null || { notok "build tools/mrl_embed"; exit 1; }
mrl_cluster_start "shared_preload_libraries = 'mrl'" "max_connections = 20" || { notok "start a cluster preloading mrl"; exit 1; }
models=$MRL_TMP/models
mkdir -p "$models"
/usr/bin/python3 test/encoder/make_tiny_models.py "$models" >/dev/null
chmod -R a+rX "$models"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -c "CREATE EXTENSION mrl" \
	-c "SELECT mrl_register_model('tb', '$models/tiny-bert')" \
	-c "SELECT mrl_register_model('tn16', '$models/tiny-nomic.F16.gguf')" >/dev/null

# 1. SQL vectors equal the CLI's, text by text
texts=("the quick brown fox" "Ünïcödé àccents and CJK 漢字" "" "a b c d e f g h")
worst=$(for t in "${texts[@]}"; do
	cli=$(printf '%s\n' "$t" | tools/mrl_embed --dims 32 "$models/tiny-bert" | tr ' ' ',')
	sql -c "SELECT mrl_cosine_distance(mrl_embed(\$\$$t\$\$, 'tb', 32), '[$cli]')"
done | sort -g | tail -1)
if awk -v w="$worst" 'BEGIN { exit !(w < 1e-6) }'; then
	ok "mrl_embed equals tools/mrl_embed on ${#texts[@]} texts (worst cosine distance $worst)"
else
	notok "mrl_embed differs from tools/mrl_embed (worst cosine distance $worst)"
fi

# 1b. nomic-bert models take Matryoshka dims with nomic's recipe (LayerNorm,
# truncate, L2), as the CLI's --nomic-dims, which 22_forward.sh checks
cli=$(printf '%s\n' "the quick brown fox" | tools/mrl_embed --dims 16 --nomic-dims "$models/tiny-nomic.F16.gguf" | tr ' ' ',')
d=$(sql -c "SELECT mrl_cosine_distance(mrl_embed('the quick brown fox', 'tn16', dims => 16), '[$cli]')")
if awk -v w="$d" 'BEGIN { exit !(w < 1e-6) }'; then
	ok "mrl_embed(dims => 16) on a nomic-bert model follows nomic's LayerNorm-then-truncate recipe (distance $d)"
else
	notok "nomic dims differ from tools/mrl_embed --nomic-dims (distance $d)"
fi

# 2. concurrent backends, 4 OpenBLAS threads each, after the postmaster loaded OpenBLAS
pids=()
for i in 1 2 3 4; do
	timeout 120 psql -X -q -At -v ON_ERROR_STOP=1 \
		-c "SET mrl.encoder_threads = 4" \
		-c "SELECT count(*) FROM unnest(mrl_embed(array(SELECT 'text number ' || g || ' of backend $i' FROM generate_series(1, 300) g), 'tb')) e WHERE mrl_dims(e) = 64" \
		>"$MRL_TMP/conc$i.out" 2>&1 &
	pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
good=$(cat "$MRL_TMP"/conc*.out | grep -c '^300$')
if [ "$fails" -eq 0 ] && [ "$good" -eq 4 ]; then
	ok "4 concurrent backends x 4 OpenBLAS threads embed 300 texts each, no hang"
else
	notok "concurrent embedding: $fails failed, $good of 4 complete"
	cat "$MRL_TMP"/conc*.out
fi

# 3. F16 weights are converted once into a cache file that backends map
sql -c "SELECT mrl_dims(mrl_embed('x', 'tn16'))" >/dev/null
converted=mrl_models/$(sql -c "SELECT oid FROM pg_database WHERE datname = current_database()")/converted
cache=$(ls "$PGDATA/$converted" 2>/dev/null | grep -v '\.tmp' | head -1)
if [ -n "$cache" ]; then
	ok "an F16 model leaves a float32 cache file in \$PGDATA/$converted ($cache)"
else
	notok "no cache file in $PGDATA/$converted"
fi
pids=()
for i in 1 2; do
	sql -c "SELECT mrl_dims(mrl_embed('x', 'tn16'))" -c "SELECT pg_sleep(4)" >/dev/null &
	pids+=($!)
done
sleep 2
mapped=0
for pid in $(sql -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(4)%' AND pid <> pg_backend_pid()"); do
	grep -q "$converted/$cache" "/proc/$pid/maps" 2>/dev/null && mapped=$((mapped + 1))
done
wait "${pids[@]}"
if [ "$mapped" -ge 2 ]; then
	ok "two backends map the same cache file (shared page-cache pages)"
else
	notok "expected 2 backends mapping the cache file, found $mapped"
fi
# 4. a model directory replaced (by rename) under a registered name is
# reloaded, also within one transaction, and the old copy is freed safely
cp -r "$models/tiny-bert" "$MRL_TMP/swap"
chmod -R a+rX "$MRL_TMP/swap"
sql -c "SELECT mrl_register_model('swap', '$MRL_TMP/swap')" >/dev/null
out=$(psql -X -q -At -v ON_ERROR_STOP=1 2>&1 <<SQL
BEGIN;
CREATE TEMP TABLE v AS SELECT 1 AS k, mrl_embed('replace me', 'swap') AS e;
\! rm -rf $MRL_TMP/swap.new && cp -r $models/tiny-static $MRL_TMP/swap.new && chmod -R a+rX $MRL_TMP/swap.new && rm -rf $MRL_TMP/swap && mv $MRL_TMP/swap.new $MRL_TMP/swap
INSERT INTO v SELECT 2, mrl_embed('replace me', 'swap');
SELECT (SELECT e FROM v WHERE k = 1) = mrl_embed('replace me', 'tb'),
	(SELECT e FROM v WHERE k = 2) <> (SELECT e FROM v WHERE k = 1);
COMMIT;
SELECT mrl_dims(mrl_embed('again', 'swap'));
SQL
)
if [ "$(echo "$out" | tr '\n' ' ')" = "t|t 64 " ]; then
	ok "a model replaced by rename is reloaded within the transaction and after it"
else
	notok "model replacement: $out"
fi

sql -c "SELECT mrl_unregister_model('swap')" -c "SELECT mrl_unregister_model('tb')" -c "SELECT mrl_unregister_model('tn16')" >/dev/null
