#!/usr/bin/env bash
# 22_forward.sh: the encoder forward pass (src/encoder/bert.c) against the
# committed PyTorch reference vectors, on tiny random BERT and nomic-bert
# models generated here (test/encoder/make_tiny_models.py, pure Python).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/mrl-forward.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if ! make -s -C "$ROOT/src/encoder" tests >"$TMP/build.log" 2>&1; then
	cat "$TMP/build.log"
	echo "not ok 1 - build the encoder library and its tests"
	exit 1
fi
if ! /usr/bin/python3 "$ROOT/test/encoder/make_tiny_models.py" "$TMP" >"$TMP/gen.log" 2>&1; then
	cat "$TMP/gen.log"
	echo "not ok 1 - generate the tiny models"
	exit 1
fi
"$ROOT/test/encoder/test_forward" "$ROOT/test/encoder/expected_forward.json" \
	"$TMP/tiny-bert" "$TMP/tiny-nomic"
