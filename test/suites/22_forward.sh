#!/usr/bin/env bash
# 22_forward.sh: the encoder forward pass (src/encoder/bert.c) against the
# committed PyTorch reference vectors (test/encoder/expected_forward.json),
# on tiny random BERT and nomic-bert models generated here by
# test/encoder/make_tiny_models.py: Hugging Face directories and GGUF copies
# in F32, F16, Q8_0, Q4_0 and Q5_1, and a static model2vec model; then the
# mrl_embed command-line tool.
set -u
shopt -s nullglob
. "$(dirname "$0")/../lib.sh"
TMP=$(mktemp -d /tmp/mrl-forward.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if ! make -s -C "$MRL_ROOT/src/encoder" tests tools >"$TMP/build.log" 2>&1; then
	cat "$TMP/build.log"
	notok "build the encoder library, its tests and tools"
	exit 1
fi
if ! /usr/bin/python3 "$MRL_ROOT/test/encoder/make_tiny_models.py" "$TMP" >"$TMP/gen.log" 2>&1; then
	cat "$TMP/gen.log"
	notok "generate the tiny models"
	exit 1
fi
rc=0
tap_relay "" "$MRL_ROOT/test/encoder/test_forward" "$MRL_ROOT/test/encoder/expected_forward.json" \
	"$TMP/tiny-bert" "$TMP/tiny-nomic" "$TMP/tiny-static" "$TMP"/*.gguf || rc=1
tap_relay "" /usr/bin/python3 "$MRL_ROOT/test/encoder/check_embed_cli.py" "$MRL_ROOT/tools/mrl_embed" \
	"$MRL_ROOT/test/encoder/expected_forward.json" "$TMP" 1 || rc=1
exit $rc
