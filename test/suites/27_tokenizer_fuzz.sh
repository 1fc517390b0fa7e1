#!/usr/bin/env bash
# 27_tokenizer_fuzz.sh: fuzz the tokenizer.json reader and the tokenizer for
# MRL_FUZZ_SECONDS (default 20) with libFuzzer (ASan + UBSan), starting from
# test/fuzz/corpus_tokenizer.  New inputs go to a temporary directory; a
# crashing input is printed in hex.
set -u
. "$(dirname "$0")/../lib.sh"
secs=${MRL_FUZZ_SECONDS:-20}
tmp=$(mktemp -d /tmp/mrl-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if ! make -s -C "$MRL_ROOT/src/encoder" ../../test/fuzz/build/fuzz_tokenizer >"$tmp/build.log" 2>&1; then
	cat "$tmp/build.log"
	notok "build the tokenizer fuzzer"
	exit 1
fi
ok "build the tokenizer fuzzer"
mkdir "$tmp/new"
cd "$tmp"
if MRL_TOKENIZER_JSON="$MRL_ROOT/model/0_StaticEmbedding/tokenizer.json" "$MRL_ROOT/test/fuzz/build/fuzz_tokenizer" -max_total_time="$secs" \
	-max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	"$tmp/new" "$MRL_ROOT/test/fuzz/corpus_tokenizer" >"$tmp/fuzz.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log")
	ok "tokenizer fuzzing for ${secs} s: ${runs:-?} inputs, no crash, leak, hang or UB"
else
	grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$tmp/fuzz.log" | head -30
	for f in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-*; do
		[ -e "$f" ] && { echo "# input $(basename "$f"):"; od -An -tx1 "$f" | head -20 | sed 's/^/#/'; }
	done
	notok "tokenizer fuzzing found a failure"
	exit 1
fi
