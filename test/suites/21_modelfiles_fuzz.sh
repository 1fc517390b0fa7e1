#!/usr/bin/env bash
# 21_modelfiles_fuzz.sh: libFuzzer (with ASan and UBSan) on the GGUF and
# safetensors readers and on the model loader fed GGUF files, starting from
# the seed corpora in test/fuzz/, for FUZZ_SECONDS (default 20) each.  A crash, leak, sanitizer report or a
# refusal without a message fails; the input is printed in base64.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/mrl-fuzz.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
SECONDS_EACH=${FUZZ_SECONDS:-20}
S=$ROOT/src/encoder
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I$S -I/usr/include/json-c"
n=0
status=0

fuzz()
{
	local name=$1 corpus=$2
	shift 2
	n=$((n + 1))
	if ! clang $CFLAGS -o "$TMP/$name" "$ROOT/test/fuzz/$name.c" "$@" >"$TMP/build.log" 2>&1; then
		cat "$TMP/build.log"
		echo "not ok $n - build $name"
		status=1
		return
	fi
	mkdir -p "$TMP/new_$name"
	# new inputs go to the temporary directory, not the committed seeds
	if (cd "$TMP" && "./$name" -max_total_time="$SECONDS_EACH" -max_len=32768 -rss_limit_mb=2048 \
		-timeout=10 -artifact_prefix="$TMP/crash-$name-" -print_final_stats=1 \
		"$TMP/new_$name" "$ROOT/test/fuzz/$corpus") >"$TMP/$name.log" 2>&1; then
		runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$TMP/$name.log" | grep -oE '[0-9]+$')
		echo "ok $n - $name: ${runs:-?} inputs in ${SECONDS_EACH}s, no crash"
	else
		grep -E 'ERROR|runtime error|SUMMARY|deadly' "$TMP/$name.log" | head -20 | sed 's/^/# /'
		for f in "$TMP"/crash-"$name"-*; do
			[ -e "$f" ] && echo "# crashing input $(basename "$f"): $(base64 -w0 "$f" | head -c 2000)"
		done
		echo "not ok $n - $name found a failure"
		status=1
	fi
}

if ! command -v clang >/dev/null; then
	echo "not ok 1 - clang is not installed (test/deps.d/fuzz.txt)"
	exit 1
fi
fuzz fuzz_gguf corpus_gguf "$S/gguf.c" "$S/quant.c" "$S/mapfile.c" "$S/errors.c"
fuzz fuzz_safetensors corpus_safetensors "$S/safetensors.c" "$S/quant.c" "$S/mapfile.c" "$S/errors.c" -ljson-c
fuzz fuzz_model corpus_model "$S/model.c" "$S/model_cache.c" "$S/gguf.c" "$S/safetensors.c" "$S/quant.c" \
	"$S/mapfile.c" "$S/errors.c" -ljson-c
exit $status
