#!/usr/bin/env bash
# 14_mint8vec.sh: mint8vec against numpy (test/mint8vec/reference.py): the
# codes and scale of 800 random vectors of 1 to 800 dims (elements from
# 1e-30 to 1e30), the four distances of the decoded values, and their error
# against the float32 originals within what quantisation allows; binary COPY
# round trip and binary input errors.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
mrl_cluster_ensure || exit 1
mrl_scratch mint8vec
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null && sql -c "CREATE EXTENSION mrl" ||
	{ notok "create a database with mrl"; exit 1; }

/usr/bin/python3 test/mint8vec/reference.py pairs "$work/pairs.txt" || { notok "numpy pairs"; exit 1; }
chmod 644 "$work/pairs.txt"
sql -c "CREATE TABLE pairs (id int, a mvector, b mvector)" -c "COPY pairs FROM '$work/pairs.txt'"
sql -F $'\t' -c "SELECT id, encode(mint8vec_send(a::mint8vec), 'hex'), encode(mint8vec_send(b::mint8vec), 'hex'),
		a::mint8vec <-> b::mint8vec, a::mint8vec <+> b::mint8vec, a::mint8vec <#> b::mint8vec,
		a::mint8vec <=> b::mint8vec FROM pairs ORDER BY id" >"$work/got.txt"
/usr/bin/python3 test/mint8vec/reference.py check "$work/pairs.txt" "$work/got.txt" >"$work/check.txt" ||
	{ notok "numpy check"; exit 1; }
sed 's/^/# /' "$work/check.txt"
check "400 pairs compared" "$(sed -n 's/^pairs //p' "$work/check.txt")" 400
check "codes and scales equal numpy's float32 quantisation" "$(sed -n 's/^codes //p' "$work/check.txt")" ok
check "distances equal numpy's on the decoded values (to 1e-5)" "$(sed -n 's/^exact //p' "$work/check.txt")" ok
check "error against the float32 distances within the quantisation bound" "$(sed -n 's/^bound //p' "$work/check.txt")" ok

# binary COPY: out and back in, the same bytes
sql -c "CREATE TABLE q8 AS SELECT id, a::mint8vec AS v FROM pairs" \
	-c "\\copy q8 TO '$work/q8.bin' WITH (FORMAT binary)" -c "CREATE TABLE q8b (LIKE q8)" \
	-c "\\copy q8b FROM '$work/q8.bin' WITH (FORMAT binary)"
check "binary COPY round trip keeps every value" \
	"$(sql -c "SELECT count(*) FROM q8 JOIN q8b USING (id) WHERE mint8vec_send(q8.v) = mint8vec_send(q8b.v)")" 400

# binary input errors (22P03): one row "id int, v mint8vec" with V's bytes
binary_error() {
	/usr/bin/python3 -c "
import struct, sys
v = bytes.fromhex(sys.argv[1])
sys.stdout.buffer.write(b'PGCOPY\n\xff\r\n\0' + struct.pack('>ii', 0, 0) + struct.pack('>h', 2)
    + struct.pack('>ii', 4, 1) + struct.pack('>i', len(v)) + v + struct.pack('>h', -1))" "$1" >"$work/bad.bin"
	psql -X -q -At -d "$db" -c "\set VERBOSITY sqlstate" -c "\copy q8b FROM '$work/bad.bin' WITH (FORMAT binary)" 2>&1
}
# dim 2, format 1, scale 1.0, codes 1 2: accepted
check "a valid binary value loads" "$(binary_error 000200013f8000000102)" ""
check "binary: format other than 1" "$(binary_error 000200003f8000000102)" "ERROR:  22P03"
check "binary: too few codes" "$(binary_error 000200013f80000001)" "ERROR:  22P03"
check "binary: negative scale" "$(binary_error 00020001bf8000000102)" "ERROR:  22P03"
check "binary: NaN scale" "$(binary_error 000200017fc000000102)" "ERROR:  22P03"
check "binary: code -128" "$(binary_error 000200013f8000008002)" "ERROR:  22P03"
check "binary: zero dimensions" "$(binary_error 000000013f800000)" "ERROR:  22000"
