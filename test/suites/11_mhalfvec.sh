#!/usr/bin/env bash
# 11_mhalfvec.sh: mhalfvec's conversions against numpy float16, at every
# rounding boundary of half precision, with the portable conversions and
# with F16C; and its binary input, validated like mvector's.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
mrl_cluster_ensure || exit 1
mrl_scratch mhalfvec
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null && sql -c "CREATE EXTENSION mrl" ||
	{ notok "create a database with mrl"; exit 1; }

# floats at every boundary (each half, the midpoints, one float-ulp either
# side of them, both signs), and numpy's half of each
/usr/bin/python3 test/mhalfvec/reference.py boundaries "$work/floats.txt" "$work/expected.txt" &&
	/usr/bin/python3 test/mhalfvec/reference.py halves "$work/halves.txt" ||
	{ notok "numpy reference (test/mhalfvec/reference.py)"; exit 1; }
chmod 644 "$work"/*.txt
sql -c "CREATE TABLE floats (n serial, v text)" -c "COPY floats (v) FROM '$work/floats.txt'" \
	-c "CREATE TABLE halves (n serial, v text)" -c "COPY halves (v) FROM '$work/halves.txt'"
count=$(wc -l <"$work/expected.txt")
check "boundary vectors loaded" "$(sql -c "SELECT count(*) FROM floats")" "$count"

# bits SIMD PATH: the half bits of every boundary float, in hex per vector
bits()
{
	sql -c "SET mrl.simd = $1" -c "SELECT encode(substr(mhalfvec_send($2), 5), 'hex') FROM floats ORDER BY n"
}
for simd in scalar auto; do
	bits "$simd" "v::mhalfvec" >"$work/text-$simd.txt"
	check "text input rounds like numpy float16 at every boundary (mrl.simd = $simd)" \
		"$(cmp -s "$work/text-$simd.txt" "$work/expected.txt" && echo same || diff "$work/text-$simd.txt" "$work/expected.txt" | head -c 300)" same
	bits "$simd" "v::mvector::mhalfvec" >"$work/cast-$simd.txt"
	check "mvector -> mhalfvec rounds like numpy float16 at every boundary (mrl.simd = $simd)" \
		"$(cmp -s "$work/cast-$simd.txt" "$work/expected.txt" && echo same || echo differs)" same
	# widening: every finite half comes back as the same float4 and the same bits
	check "every finite half widens to its exact float4 (mrl.simd = $simd)" \
		"$(sql -c "SET mrl.simd = $simd" -c "SELECT count(*) FROM halves
			WHERE mvector_send(v::mhalfvec::mvector) <> mvector_send(v::mvector)
			   OR mvector_send(v::mhalfvec::real[]::mvector) <> mvector_send(v::mvector)")" 0
done
check "the halves' bits are 0000..7bff and 8000..fbff in order" \
	"$(sql -c "SELECT md5(string_agg(encode(substr(mhalfvec_send(v::mhalfvec), 5), 'hex'), '' ORDER BY n)) FROM halves")" \
	"$(/usr/bin/python3 -c 'import hashlib; print(hashlib.md5("".join("%04x" % b for b in list(range(0, 0x7c00)) + list(range(0x8000, 0xfc00))).encode()).hexdigest())')"
check "past the largest half: 65520 is refused, the float below it is 65504" \
	"$(sql -c "SELECT '[65519.996]'::mhalfvec" 2>&1; sql -c "\\set VERBOSITY sqlstate" -c "SELECT '[65520]'::mvector::mhalfvec" 2>&1)" \
	"$(printf '[65504]\nERROR:  22003')"

# binary input, as 10_mvector_binary.sh: hand-made PGCOPY files
# write_copy FILE DIM UNUSED HALFBITS...: one row, one mhalfvec column
write_copy()
{
	/usr/bin/python3 - "$@" <<'PY'
import struct, sys
path, dim, unused, *halves = sys.argv[1:]
body = struct.pack('>hh', int(dim), int(unused)) + b''.join(struct.pack('>H', int(h, 16)) for h in halves)
with open(path, 'wb') as f:
    f.write(b'PGCOPY\n\xff\r\n\x00' + struct.pack('>ii', 0, 0))
    f.write(struct.pack('>h', 1) + struct.pack('>i', len(body)) + body)
    f.write(struct.pack('>h', -1))
PY
	chmod 644 "$1"
}
copy_in()
{
	sql 2>&1 <<SQL | tail -n 1
\set VERBOSITY sqlstate
CREATE TEMP TABLE t (v mhalfvec);
COPY t FROM '$1' (FORMAT binary);
SELECT v FROM t;
SQL
}
write_copy "$work/good" 4 0 3c00 c100 0001 8000; check "valid binary mhalfvec loads exactly" "$(copy_in "$work/good")" "[1,-2.5,5.9604645e-08,-0]"
write_copy "$work/nan" 2 0 3c00 7e00;           check "NaN half refused" "$(copy_in "$work/nan")" "ERROR:  22000"
write_copy "$work/inf" 1 0 fc00;                check "infinite half refused" "$(copy_in "$work/inf")" "ERROR:  22000"
write_copy "$work/unused" 1 1 3c00;             check "non-zero unused field refused" "$(copy_in "$work/unused")" "ERROR:  22P03"
write_copy "$work/zero" 0 0;                    check "zero dimensions refused" "$(copy_in "$work/zero")" "ERROR:  22000"
write_copy "$work/huge" 16001 0;                check "too many dimensions refused" "$(copy_in "$work/huge")" "ERROR:  54000"
write_copy "$work/short" 3 0 3c00 3c00;         check "fewer elements than dim refused" "$(copy_in "$work/short")" "ERROR:  22P03"
# COPY BINARY out and in again keeps every half
sql -c "CREATE TABLE round (n int, v mhalfvec)" -c "INSERT INTO round SELECT n, v::mhalfvec FROM halves" \
	-c "\\copy round TO '$work/round.bin' (FORMAT binary)" -c "CREATE TABLE back (n int, v mhalfvec)" \
	-c "\\copy back FROM '$work/round.bin' (FORMAT binary)"
check "COPY BINARY round trip keeps every half's bits" \
	"$(sql -c "SELECT count(*) FROM round JOIN back USING (n) WHERE mhalfvec_send(round.v) <> mhalfvec_send(back.v)")" 0
