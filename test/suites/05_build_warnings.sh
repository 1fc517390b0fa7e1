#!/usr/bin/env bash
# 05_build_warnings.sh: the extension and the encoder core compile without a
# single warning under -Wall -Wextra (the flags the Makefiles set), with gcc
# and with clang (clang also builds the JIT bitcode).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
n=0
check()
{
	local what=$1 log=$2
	n=$((n + 1))
	if grep -qiE 'warning:' "$log"; then
		echo "not ok $n - $what"
		grep -iE -A3 'warning:' "$log" | head -40 | sed 's/^/# /'
	else
		echo "ok $n - $what"
	fi
}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
objs=$(cd "$ROOT" && ls src/*.c | sed 's/\.c$/.o/')
(cd "$ROOT" && make -B -j2 PG_CONFIG="$PG_CONFIG" $objs) >"$log" 2>&1
check "src/*.c (PostgreSQL side) build without warnings (-Wall -Wextra)" "$log"
(cd "$ROOT" && make -B -j2 PG_CONFIG="$PG_CONFIG" $(echo "$objs" | sed 's/\.o$/.bc/')) >"$log" 2>&1
check "src/*.c bitcode (clang) builds without warnings" "$log"
make -B -j2 -C "$ROOT/src/encoder" libmrlenc.a >"$log" 2>&1
check "src/encoder (plain C core) builds without warnings (-Wall -Wextra)" "$log"
# leave a consistent build behind
make -s -C "$ROOT" PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
