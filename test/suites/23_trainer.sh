#!/bin/bash
# The static Matryoshka trainer and the retrieval evaluator (src/encoder):
# builds and runs their C unit tests, which print TAP.
set -u
ROOT=${MRL_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
status=0
for t in test_train test_evaluate; do
	[ -f "$ROOT/test/encoder/$t.c" ] || continue
	if ! make -s -C "$ROOT/src/encoder" "../../test/encoder/$t" >/dev/null; then
		echo "not ok - build $t"
		status=1
		continue
	fi
	OPENBLAS_NUM_THREADS=1 "$ROOT/test/encoder/$t" || status=1
done
exit $status
