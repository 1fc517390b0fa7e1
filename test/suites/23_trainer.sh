#!/bin/bash
# The run-time BLAS binding, the static Matryoshka trainer, the retrieval
# evaluator, the downstream classifiers and k-means, and the shipped built-in
# model (src/encoder, model/): builds and runs their C unit tests, which print
# TAP.
set -u
. "$(dirname "$0")/../lib.sh"
status=0
for t in test_blas test_train test_evaluate test_downstream test_builtin_model; do
	if ! make -s -C "$MRL_ROOT/src/encoder" "../../test/encoder/$t" >/dev/null; then
		notok "build $t"
		status=1
		continue
	fi
	args=()
	[ $t = test_builtin_model ] && args=("$MRL_ROOT/model")
	OPENBLAS_NUM_THREADS=1 tap_relay "${t#test_}" "$MRL_ROOT/test/encoder/$t" "${args[@]}" || status=1
done
# the shipped model must stay small enough to ship
size=$(du -cb "$MRL_ROOT"/model/modules.json "$MRL_ROOT"/model/config_sentence_transformers.json \
	"$MRL_ROOT"/model/0_StaticEmbedding/* 2>/dev/null | tail -n 1 | cut -f1)
if [ "${size:-0}" -gt 0 ] && [ "$size" -le $((30 * 1024 * 1024)) ]; then
	ok "built-in model files total $size bytes (<= 30 MB)"
else
	notok "built-in model files total ${size:-?} bytes (limit 30 MB)"
	status=1
fi
exit $status
