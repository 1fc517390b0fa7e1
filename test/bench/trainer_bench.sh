#!/usr/bin/env bash
# trainer_bench.sh: static-model trainer throughput (pairs/s, synthetic
# texts of 4-40 tokens, batch 1024, dims 16..256) and static-model encoding
# throughput (sentences/s: C tokenizer + mean pooling + normalisation) of the
# built-in model on short English sentences (WordNet definitions).  One
# thread; times are CPU seconds of the process.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SENT=$(mktemp /tmp/trainer_bench_sent.XXXXXX)
trap 'rm -f "$SENT"' EXIT
make -s -C "$ROOT/src/encoder" ../../test/bench/trainer_bench >/dev/null
# short sentences: the first 20,000 noun definitions of WordNet
if [ -r /usr/share/wordnet/data.noun ]; then
	grep -v '^  ' /usr/share/wordnet/data.noun | sed 's/^[^|]*| //; s/;.*//' |
		head -20000 >"$SENT"
else
	grep -v '^$' "$ROOT/test/encoder/tokenizer_corpus.txt" >"$SENT"
fi
OPENBLAS_NUM_THREADS=1 "$ROOT/test/bench/trainer_bench" "$ROOT/model/0_StaticEmbedding/model.safetensors" \
	"$ROOT/model/0_StaticEmbedding/tokenizer.json" "$SENT"
