#!/usr/bin/env bash
# 21_modelfiles.sh: the model-file readers of the encoder core (GGUF,
# safetensors, dequantisation, the model loader and its shared cache)
# against fixtures written here by the independent numpy implementation
# test/encoder/gguf_tools.py (via make_fixtures.py).  Prints TAP.
set -u
. "$(dirname "$0")/../lib.sh"
TMP=$(mktemp -d /tmp/mrl-modelfiles.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
TESTS="test_quant test_gguf test_safetensors test_model test_model_share"

targets=""
for t in $TESTS; do targets="$targets ../../test/encoder/$t"; done
if ! make -s -C "$MRL_ROOT/src/encoder" $targets >"$TMP/build.log" 2>&1; then
	cat "$TMP/build.log"
	notok "build the model-file tests"
	exit 1
fi
if ! /usr/bin/python3 "$MRL_ROOT/test/encoder/make_fixtures.py" "$TMP/fx" >"$TMP/gen.log" 2>&1; then
	cat "$TMP/gen.log"
	notok "generate the fixtures with gguf_tools.py"
	exit 1
fi

status=0
E="$MRL_ROOT/test/encoder"
tap_relay quant "$E/test_quant" "$TMP/fx/golden" || status=1
tap_relay gguf "$E/test_gguf" "$TMP/fx" || status=1
tap_relay safetensors "$E/test_safetensors" "$TMP/fx" || status=1
tap_relay model "$E/test_model" "$TMP/fx" || status=1
tap_relay share "$E/test_model_share" "$TMP/fx/share.gguf" "$TMP/cache" || status=1
exit $status
