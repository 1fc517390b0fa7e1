#!/usr/bin/env bash
# trainer_bench.sh: static-model trainer throughput (pairs/s, synthetic
# texts of 4-40 tokens, batch 1024, dims 16..256) and static-model encoding
# throughput (sentences/s: C tokenizer + mean pooling + normalisation) of the
# built-in model on short English sentences (WordNet definitions).  One
# thread; times are CPU seconds of the process.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$(mktemp /tmp/trainer_bench.XXXXXX)
SENT=$(mktemp /tmp/trainer_bench_sent.XXXXXX)
trap 'rm -f "$BIN" "$SENT"' EXIT
make -s -C "$ROOT/src/encoder" libmrlenc.a >/dev/null
cc -O2 -g -std=gnu11 -I"$ROOT/src/encoder" -I"$ROOT/tools" -I/usr/include/json-c \
	-I/usr/include/x86_64-linux-gnu/openblas-pthread -o "$BIN" \
	"$ROOT/test/bench/trainer_bench.c" "$ROOT/tools/tool_io.c" \
	"$ROOT/src/encoder/libmrlenc.a" -lopenblas -llapacke -lutf8proc -ljson-c -lm
# short sentences: the first 20,000 noun definitions of WordNet
if [ -r /usr/share/wordnet/data.noun ]; then
	grep -v '^  ' /usr/share/wordnet/data.noun | sed 's/^[^|]*| //; s/;.*//' |
		head -20000 >"$SENT"
else
	grep -v '^$' "$ROOT/test/encoder/tokenizer_corpus.txt" >"$SENT"
fi
OPENBLAS_NUM_THREADS=1 "$BIN" "$ROOT/model/0_StaticEmbedding/model.safetensors" \
	"$ROOT/model/tokenizer.json" "$SENT"
