#!/usr/bin/env bash
# test/regress.sh [NAME...]: build, install and run pg_regress tests (all of
# them, or the named sql/NAME.sql) in a throwaway cluster; for quick checks
# while working on one part.  `make test` runs everything.
set -u
. "$(dirname "$0")/lib.sh"
cd "$MRL_ROOT"
mrl_build_install || exit 1
mrl_cluster_start || exit 1
args=()
[ $# -gt 0 ] && args=(REGRESS="$*")
make -s installcheck PG_CONFIG="$PG_CONFIG" "${args[@]}"
rc=$?
[ $rc -ne 0 ] && [ -f regression.diffs ] && head -100 regression.diffs
exit $rc
