#!/usr/bin/env bash
# 12_backend_footprint.sh: a backend that only uses mvector values and the
# funnel index does not load OpenBLAS or LAPACKE (src/encoder/blas.h); the
# first embedding loads them, and the same backend then embeds normally.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
mrl_cluster_ensure || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -c "CREATE DATABASE footprint" >/dev/null || { notok "create a database"; exit 1; }
trap 'sql -c "DROP DATABASE IF EXISTS footprint" >/dev/null; mrl_cluster_stop' EXIT

# mapped(PATTERN): an SQL expression, true when this backend maps a matching file
mapped() { echo "pg_read_file('/proc/self/maps') ~ '$1'"; }

out=$(sql -d footprint \
	-c "CREATE EXTENSION mrl" \
	-c "CREATE TABLE t AS SELECT i AS id, ('[' || i || ',1,2,3]')::mvector AS emb FROM generate_series(1, 500) i" \
	-c "CREATE INDEX ON t USING funnel (emb) WITH (coarse_dims = 2)" \
	-c "SET enable_seqscan = off" \
	-c "SELECT string_agg(id::text, ',') FROM (SELECT id FROM t ORDER BY emb <-> '[7.2,1,2,3]' LIMIT 3) s" \
	-c "SELECT $(mapped 'mrl\.so'), $(mapped libopenblas), $(mapped liblapacke), $(mapped libgfortran)" \
	-c "SELECT mrl_dims(mrl_embed('how do I list open ports?'))" \
	-c "SELECT $(mapped libopenblas), $(mapped liblapacke)" 2>&1)
lines=($out)
if [ "${lines[0]:-}" = "7,8,6" ] && [ "${lines[1]:-}" = "t|f|f|f" ]; then
	ok "mvector operators and a funnel index scan leave OpenBLAS, LAPACKE and gfortran unloaded"
else
	notok "a backend using only mvector loaded BLAS libraries or answered wrongly: $out"
fi
if [ "${lines[2]:-}" = 256 ] && [ "${lines[3]:-}" = "t|t" ]; then
	ok "the first mrl_embed in that backend loads them and embeds (256 dims)"
else
	notok "embedding after the mvector-only work failed: $out"
fi
