#!/usr/bin/env bash
# Binary input (COPY FORMAT binary, as drivers send it) is validated:
# hand-made PGCOPY files with bad headers or elements must be refused with
# the right SQLSTATE, and good ones must load exactly.
set -u
dir=$(mktemp -d)
chmod 755 "$dir"
trap 'rm -rf "$dir"' EXIT

# write_copy FILE DIM UNUSED FLOATS... : one row, one mvector column
write_copy()
{
	python3 - "$@" <<'PY'
import struct, sys
path, dim, unused, *vals = sys.argv[1:]
body = struct.pack('>hh', int(dim), int(unused))
body += b''.join(struct.pack('>f', float(v)) for v in vals)
with open(path, 'wb') as f:
    f.write(b'PGCOPY\n\xff\r\n\x00' + struct.pack('>ii', 0, 0))
    f.write(struct.pack('>h', 1) + struct.pack('>i', len(body)) + body)
    f.write(struct.pack('>h', -1))
PY
}

n=0
# check DESCRIPTION EXPECTED_SQLSTATE_OR_VALUE FILE
check()
{
	local what=$1 expect=$2 file=$3 out
	n=$((n + 1))
	out=$(psql -X -q -At -v ON_ERROR_STOP=1 2>&1 <<SQL
\set VERBOSITY sqlstate
CREATE TEMP TABLE t (v mvector);
COPY t FROM '$file' (FORMAT binary);
SELECT v FROM t;
SQL
)
	out=$(echo "$out" | tail -n 1)
	if [ "$out" = "$expect" ]; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what: expected $expect, got $out"
	fi
}

psql -X -q -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mrl" >/dev/null
chmod 755 "$dir"
write_copy "$dir/good" 3 0 1 -2.5 0.1;   chmod 644 "$dir/good";   check "valid binary vector loads exactly" "[1,-2.5,0.1]" "$dir/good"
write_copy "$dir/nan" 2 0 1 nan;         chmod 644 "$dir/nan";    check "NaN element refused" "ERROR:  22000" "$dir/nan"
write_copy "$dir/inf" 2 0 inf 1;         chmod 644 "$dir/inf";    check "infinite element refused" "ERROR:  22000" "$dir/inf"
write_copy "$dir/unused" 1 7 1;          chmod 644 "$dir/unused"; check "non-zero unused field refused" "ERROR:  22P03" "$dir/unused"
write_copy "$dir/zero" 0 0;              chmod 644 "$dir/zero";   check "zero dimensions refused" "ERROR:  22000" "$dir/zero"
write_copy "$dir/neg" -3 0;              chmod 644 "$dir/neg";    check "negative dimensions refused" "ERROR:  22000" "$dir/neg"
write_copy "$dir/huge" 16001 0;          chmod 644 "$dir/huge";   check "too many dimensions refused" "ERROR:  54000" "$dir/huge"
write_copy "$dir/short" 4 0 1 2;         chmod 644 "$dir/short";  check "fewer elements than dim refused" "ERROR:  22P03" "$dir/short"
write_copy "$dir/long" 1 0 1 2;          chmod 644 "$dir/long";   check "more elements than dim refused" "ERROR:  22P03" "$dir/long"
