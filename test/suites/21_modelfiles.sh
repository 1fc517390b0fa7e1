#!/usr/bin/env bash
# 21_modelfiles.sh: the model-file readers of the encoder core (GGUF,
# safetensors, dequantisation, the model loader and its shared cache)
# against fixtures written here by the independent numpy implementation
# test/encoder/gguf_tools.py (via make_fixtures.py).  Prints TAP.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/mrl-modelfiles.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
TESTS="test_quant test_gguf test_safetensors test_model test_model_share"

targets=""
for t in $TESTS; do targets="$targets ../../test/encoder/$t"; done
if ! make -s -C "$ROOT/src/encoder" $targets >"$TMP/build.log" 2>&1; then
	cat "$TMP/build.log"
	echo "not ok 1 - build the model-file tests"
	exit 1
fi
if ! /usr/bin/python3 "$ROOT/test/encoder/make_fixtures.py" "$TMP/fx" >"$TMP/gen.log" 2>&1; then
	cat "$TMP/gen.log"
	echo "not ok 1 - generate the fixtures with gguf_tools.py"
	exit 1
fi

# Run each binary, renumbering its TAP lines into one sequence.
n=0
status=0
run()
{
	local name=$1 line
	shift
	"$@" >"$TMP/out" 2>&1
	local rc=$?
	while IFS= read -r line; do
		case "$line" in
			"ok "*) n=$((n + 1)); echo "ok $n - $name: ${line#* - }" ;;
			"not ok "*) n=$((n + 1)); echo "not ok $n - $name: ${line#* - }" ;;
			1..*) ;;
			"#"*) echo "$line" ;;
			*) echo "# $line" ;;
		esac
	done <"$TMP/out"
	if [ $rc -ne 0 ]; then
		n=$((n + 1))
		echo "not ok $n - $name exited with status $rc"
		status=1
	fi
}
E="$ROOT/test/encoder"
run quant "$E/test_quant" "$TMP/fx/golden"
run gguf "$E/test_gguf" "$TMP/fx"
run safetensors "$E/test_safetensors" "$TMP/fx"
run model "$E/test_model" "$TMP/fx"
run share "$E/test_model_share" "$TMP/fx/share.gguf" "$TMP/cache"
exit $status
