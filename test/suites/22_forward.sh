#!/usr/bin/env bash
# 22_forward.sh: the encoder forward pass (src/encoder/bert.c) against the
# committed PyTorch reference vectors (test/encoder/expected_forward.json),
# on tiny random BERT and nomic-bert models generated here by
# test/encoder/make_tiny_models.py: Hugging Face directories and GGUF copies
# in F32, F16, Q8_0, Q4_0 and Q5_1, and a static model2vec model; then the
# mrl_embed command-line tool.
set -u
shopt -s nullglob
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/mrl-forward.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if ! make -s -C "$ROOT/src/encoder" tests tools >"$TMP/build.log" 2>&1; then
	cat "$TMP/build.log"
	echo "not ok 1 - build the encoder library, its tests and tools"
	exit 1
fi
if ! /usr/bin/python3 "$ROOT/test/encoder/make_tiny_models.py" "$TMP" >"$TMP/gen.log" 2>&1; then
	cat "$TMP/gen.log"
	echo "not ok 1 - generate the tiny models"
	exit 1
fi
"$ROOT/test/encoder/test_forward" "$ROOT/test/encoder/expected_forward.json" \
	"$TMP/tiny-bert" "$TMP/tiny-nomic" "$TMP/tiny-static" "$TMP"/*.gguf | tee "$TMP/tap.log"
rc=${PIPESTATUS[0]}
next=$(($(grep -cE '^(not )?ok ' "$TMP/tap.log") + 1))
/usr/bin/python3 "$ROOT/test/encoder/check_embed_cli.py" "$ROOT/tools/mrl_embed" \
	"$ROOT/test/encoder/expected_forward.json" "$TMP" "$next" || rc=1
exit $rc
