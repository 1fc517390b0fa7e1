#!/usr/bin/env bash
# Binary input (COPY FORMAT binary, as drivers send it) is validated:
# hand-made PGCOPY files with bad headers or elements must be refused with
# the right SQLSTATE, and good ones must load exactly.
set -u
. "$(dirname "$0")/../lib.sh"
mrl_cluster_ensure || exit 1
dir=$(mktemp -d)
chmod 755 "$dir"
trap 'rm -rf "$dir"; mrl_cluster_stop' EXIT

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

# copy_in FILE: the vector COPY reads from FILE, or the error's SQLSTATE
copy_in()
{
	psql -X -q -At -v ON_ERROR_STOP=1 2>&1 <<SQL | tail -n 1
\set VERBOSITY sqlstate
CREATE TEMP TABLE t (v mvector);
COPY t FROM '$1' (FORMAT binary);
SELECT v FROM t;
SQL
}

psql -X -q -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mrl" >/dev/null
chmod 755 "$dir"
write_copy "$dir/good" 3 0 1 -2.5 0.1;   chmod 644 "$dir/good";   check "valid binary vector loads exactly" "$(copy_in "$dir/good")" "[1,-2.5,0.1]"
# denormals load as they are (binary input cannot underflow; text input of
# 1e-46 reads as 0, as pgvector's does)
write_copy "$dir/denorm" 2 0 1e-45 -1e-40; chmod 644 "$dir/denorm"; check "denormal elements load exactly" "$(copy_in "$dir/denorm")" "[1e-45,-1e-40]"
write_copy "$dir/nan" 2 0 1 nan;         chmod 644 "$dir/nan";    check "NaN element refused" "$(copy_in "$dir/nan")" "ERROR:  22000"
write_copy "$dir/inf" 2 0 inf 1;         chmod 644 "$dir/inf";    check "infinite element refused" "$(copy_in "$dir/inf")" "ERROR:  22000"
write_copy "$dir/unused" 1 7 1;          chmod 644 "$dir/unused"; check "non-zero unused field refused" "$(copy_in "$dir/unused")" "ERROR:  22P03"
write_copy "$dir/zero" 0 0;              chmod 644 "$dir/zero";   check "zero dimensions refused" "$(copy_in "$dir/zero")" "ERROR:  22000"
write_copy "$dir/neg" -3 0;              chmod 644 "$dir/neg";    check "negative dimensions refused" "$(copy_in "$dir/neg")" "ERROR:  22000"
write_copy "$dir/huge" 16001 0;          chmod 644 "$dir/huge";   check "too many dimensions refused" "$(copy_in "$dir/huge")" "ERROR:  54000"
write_copy "$dir/short" 4 0 1 2;         chmod 644 "$dir/short";  check "fewer elements than dim refused" "$(copy_in "$dir/short")" "ERROR:  22P03"
write_copy "$dir/long" 1 0 1 2;          chmod 644 "$dir/long";   check "more elements than dim refused" "$(copy_in "$dir/long")" "ERROR:  22P03"
