#!/usr/bin/env bash
# The WordPiece tokenizer against Hugging Face tokenizers' committed ids
# (test/encoder/tokenizer_expected.txt); needs neither node nor network.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
if ! make -s -C "$root/src/encoder" tests >/tmp/mrl_tokenizer_build.$$ 2>&1; then
	cat /tmp/mrl_tokenizer_build.$$
	echo "not ok 1 - build the encoder library and tests"
	rm -f /tmp/mrl_tokenizer_build.$$
	exit 1
fi
rm -f /tmp/mrl_tokenizer_build.$$
"$root/test/encoder/test_tokenizer" "$root"
