#!/usr/bin/env bash
# Fuzz the tokenizer.json reader and the tokenizer for ~20 s with libFuzzer
# (ASan + UBSan), starting from test/fuzz/corpus_tokenizer.  New inputs go
# to a temporary directory; a crashing input is printed in hex.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${MRL_FUZZ_SECONDS:-20}
tmp=$(mktemp -d /tmp/mrl-fuzz.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if ! clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$root/src/encoder" -I/usr/include/json-c \
	"$root/test/fuzz/fuzz_tokenizer.c" "$root"/src/encoder/tokenizer.c "$root"/src/encoder/tokenizer_load.c \
	"$root"/src/encoder/tokenizer_unicode.c "$root"/src/encoder/mapfile.c "$root"/src/encoder/errors.c -lutf8proc -ljson-c -o "$tmp/fuzz_tokenizer" 2>"$tmp/build.log"; then
	cat "$tmp/build.log"
	echo "not ok 1 - build the tokenizer fuzzer"
	exit 1
fi
echo "ok 1 - build the tokenizer fuzzer"
mkdir "$tmp/new"
cd "$tmp"
if MRL_TOKENIZER_JSON="$root/model/tokenizer.json" ./fuzz_tokenizer -max_total_time="$secs" \
	-max_len=4096 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
	"$tmp/new" "$root/test/fuzz/corpus_tokenizer" >"$tmp/fuzz.log" 2>&1; then
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log")
	echo "ok 2 - tokenizer fuzzing for ${secs} s: ${runs:-?} inputs, no crash, leak, hang or UB"
else
	grep -E 'ERROR|SUMMARY|runtime error|#[0-9]+ 0x' "$tmp/fuzz.log" | head -30
	for f in "$tmp"/crash-* "$tmp"/leak-* "$tmp"/timeout-* "$tmp"/oom-*; do
		[ -e "$f" ] && { echo "# input $(basename "$f"):"; od -An -tx1 "$f" | head -20 | sed 's/^/#/'; }
	done
	echo "not ok 2 - tokenizer fuzzing found a failure"
	exit 1
fi
