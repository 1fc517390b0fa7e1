#!/usr/bin/env bash
# make_expected_forward.sh: regenerates expected_forward.json, the PyTorch
# reference vectors that 22_forward.sh checks the C forward pass against.
# Needs python3-torch and python3-numpy (not needed to run the suite).
set -eu
D=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 "$D/make_tiny_models.py" "$T"
args=("$T/tiny-bert" "$T/tiny-nomic" "$T/tiny-static")
for m in bert nomic; do
	for f in "$T"/tiny-$m.*.gguf; do
		args+=("$T/tiny-$m:$f")
	done
done
/usr/bin/python3 "$D/reference_forward.py" "${args[@]}" >"$D/expected_forward.json"
