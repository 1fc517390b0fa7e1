#!/usr/bin/env bash
# test/demo.sh: `make demo`, the product's main job end to end in a throwaway cluster.
set -eu
. "$(dirname "$0")/lib.sh"
cd "$MRL_ROOT"
mrl_ensure_deps
mrl_build_install
mrl_cluster_start
psql -X -q -v ON_ERROR_STOP=1 -f test/demo.sql
