#!/usr/bin/env bash
# 28_modelfiles_fuzz.sh: libFuzzer (with ASan and UBSan) on the GGUF and
# safetensors readers and on the model loader fed GGUF files, starting from
# the seed corpora in test/fuzz/, for MRL_FUZZ_SECONDS (default 20) each.  A
# crash, leak, sanitizer report or a refusal without a message fails; the
# input is printed in base64.
set -u
. "$(dirname "$0")/../lib.sh"
TMP=$(mktemp -d /tmp/mrl-fuzz.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
SECONDS_EACH=${MRL_FUZZ_SECONDS:-20}
status=0

fuzz()
{
	local name=$1 corpus=$2
	if ! make -s -C "$MRL_ROOT/src/encoder" "../../test/fuzz/build/$name" >"$TMP/build.log" 2>&1; then
		cat "$TMP/build.log"
		notok "build $name"
		status=1
		return
	fi
	mkdir -p "$TMP/new_$name"
	# new inputs go to the temporary directory, not the committed seeds
	if (cd "$TMP" && "$MRL_ROOT/test/fuzz/build/$name" -max_total_time="$SECONDS_EACH" -max_len=32768 -rss_limit_mb=2048 \
		-timeout=10 -artifact_prefix="$TMP/crash-$name-" -print_final_stats=1 \
		"$TMP/new_$name" "$MRL_ROOT/test/fuzz/$corpus") >"$TMP/$name.log" 2>&1; then
		runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$TMP/$name.log" | grep -oE '[0-9]+$')
		ok "$name: ${runs:-?} inputs in ${SECONDS_EACH}s, no crash"
	else
		grep -E 'ERROR|runtime error|SUMMARY|deadly' "$TMP/$name.log" | head -20 | sed 's/^/# /'
		for f in "$TMP"/crash-"$name"-*; do
			[ -e "$f" ] && echo "# crashing input $(basename "$f"): $(base64 -w0 "$f" | head -c 2000)"
		done
		notok "$name found a failure"
		status=1
	fi
}

if ! command -v clang >/dev/null; then
	notok "clang is not installed (test/deps.d/fuzz.txt)"
	exit 1
fi
fuzz fuzz_gguf corpus_gguf
fuzz fuzz_safetensors corpus_safetensors
fuzz fuzz_model corpus_model
exit $status
