#!/usr/bin/env bash
# 05_build_warnings.sh: the extension and the encoder core compile without a
# single warning under -Wall -Wextra (the flags the Makefiles set), with gcc
# and with clang (clang also builds the JIT bitcode).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# no_warnings WHAT: passes when the build log has no warning, else shows them
no_warnings()
{
	check "$1" "$(grep -ciE 'warning:' "$log")" 0
	grep -iE -A3 'warning:' "$log" | head -40 | sed 's/^/# /'
}
objs=$(ls src/*.c | sed 's/\.c$/.o/')
make -B -j2 PG_CONFIG="$PG_CONFIG" $objs >"$log" 2>&1
no_warnings "src/*.c (PostgreSQL side) build without warnings (-Wall -Wextra)"
# Bitcode is built only for a server configured --with-llvm (Debian's is; a
# source build may not be): check that every file became bitcode, not just
# that nothing warned.
bcs=$(echo "$objs" | sed 's/\.o$/.bc/')
if grep -qE '^with_llvm\s*=\s*yes' "$(dirname "$("$PG_CONFIG" --pgxs)")/../Makefile.global"; then
	rm -f $bcs
	make -B -j2 PG_CONFIG="$PG_CONFIG" $bcs >"$log" 2>&1
	no_warnings "src/*.c bitcode (clang) builds without warnings"
	check "every src/*.c has its bitcode" "$(ls $bcs 2>/dev/null | wc -l)" "$(echo $bcs | wc -w)"
else
	skip "src/*.c bitcode (clang): PostgreSQL built without LLVM"
	skip "every src/*.c has its bitcode: PostgreSQL built without LLVM"
fi
make -B -j2 -C src/encoder libmrlenc.a >"$log" 2>&1
no_warnings "src/encoder (plain C core) builds without warnings (-Wall -Wextra)"
# leave a consistent build behind
make -s PG_CONFIG="$PG_CONFIG" >/dev/null 2>&1
