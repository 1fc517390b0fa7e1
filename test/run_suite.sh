#!/usr/bin/env bash
# test/run_suite.sh: the whole test suite (`make test`).
#
# Installs missing Debian packages, builds and installs the extension, starts
# a throwaway cluster, runs pg_regress and then every test/suites/*.sh, and
# prints "N passed, M failed" last, after the skipped tests if any.  Each
# suite script prints TAP lines ("ok N - what" / "not ok N - what"; "ok N #
# SKIP why" for a test that cannot run here, counted apart) and sees
# PGHOST/PGPORT/PGUSER of the running cluster, MRL_ROOT and PG_CONFIG.
# Exits non-zero on any failure.
set -u
. "$(dirname "$0")/lib.sh"
cd "$MRL_ROOT"

mrl_ensure_deps || exit 1
mrl_build_install || { echo "0 passed, 1 failed"; exit 1; }
mrl_cluster_start || { echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0
skipped=()
log=$(mktemp)

# pg_regress: one line per test, "test name ... ok" / "... FAILED" in 15,
# TAP ("ok 1 - name" / "not ok 1 - name") from 16 on.
# A run that stops before its tests (the extension does not load) is a
# failure too.
make -s installcheck PG_CONFIG="$PG_CONFIG" >"$log" 2>&1
rc=$?
cat "$log"
p=$(grep -cE '\.\.\. ok|^ok [0-9]+ +- ' "$log")
f=$(grep -cE '\.\.\. (FAILED|failed)|^not ok [0-9]+ +- ' "$log")
if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
	echo "not ok - pg_regress exited with status $rc"
	f=1
fi
[ -f regression.diffs ] && [ "$f" -gt 0 ] && head -200 regression.diffs
passed=$((passed + p))
failed=$((failed + f))

# Suites printing TAP.  A script that fails without a "not ok" line counts
# as one failure, so a crash is never silent.
for suite in test/suites/*.sh; do
	[ -e "$suite" ] || continue
	echo "# suite $suite"
	bash "$suite" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -E '^ok [0-9]+' "$log" | grep -cvE '^ok [0-9]+[^#]*# *SKIP')
	f=$(grep -cE '^not ok [0-9]+' "$log")
	while IFS= read -r why; do
		skipped+=("$(basename "$suite"): $why")
	done < <(sed -nE 's/^ok [0-9]+[^#]*# *SKIP *(skipped: *)?//p' "$log")
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - $suite exited with status $rc"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
done
rm -f "$log"

if [ ${#skipped[@]} -gt 0 ]; then
	echo "${#skipped[@]} skipped:"
	printf '  %s\n' "${skipped[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
