#!/usr/bin/env bash
# encoder_bench.sh: throughput of the encoder forward pass on a BERT-base-
# sized model with random weights (built in memory, nothing downloaded),
# one thread, 128- and 16-token inputs at batch sizes 1, 8 and 32, compared
# with the machine's single-thread OpenBLAS sgemm rate on the same shapes.
# Times are CPU seconds of the process, so other jobs on the machine do not
# distort them.
#
# usage: test/bench/encoder_bench.sh [sequences per run (default 32)] [bert|nomic]
# OPENBLAS_CORETYPE=SkylakeX (etc.) in the environment selects OpenBLAS's
# kernels when it does not recognise the CPU.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
make -s -C "$ROOT/src/encoder" ../../test/bench/encoder_bench >/dev/null
"$ROOT/test/bench/encoder_bench" "${1:-32}" "${2:-bert}"
