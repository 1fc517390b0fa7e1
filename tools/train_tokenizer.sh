#!/usr/bin/env bash
# train_tokenizer.sh TEXTDIR OUT.json [VOCAB_SIZE]: run train_tokenizer.js
# reproducibly: one rayon thread and fixed hash-map keys (tools/fixed_random.c
# preloaded, seed 2), so the trainer's tie-breaking is the same on every run.
# With the text of tools/extract_text.sh this rebuilds the built-in
# vocabulary, model/0_StaticEmbedding/tokenizer.json, byte for byte.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
make -s -C "$here/../src/encoder" ../../tools/fixed_random.so
MRL_HASH_SEED=${MRL_HASH_SEED:-2} RAYON_RS_NUM_CPUS=1 LD_PRELOAD="$here/fixed_random.so" \
	NODE_PATH="$here/node_modules" node "$here/train_tokenizer.js" "$@"
