#!/usr/bin/env bash
# The WordPiece tokenizer against Hugging Face tokenizers' committed ids
# (test/encoder/tokenizer_expected.txt); needs neither node nor network.
set -u
. "$(dirname "$0")/../lib.sh"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! make -s -C "$MRL_ROOT/src/encoder" tests >"$log" 2>&1; then
	cat "$log"
	notok "build the encoder library and tests"
	exit 1
fi
tap_relay "" "$MRL_ROOT/test/encoder/test_tokenizer" "$MRL_ROOT"
