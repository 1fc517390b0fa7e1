#!/usr/bin/env bash
# 13_pgvector_casts.sh: the mrl_pgvector casts, against pgvector itself.
# vector <-> mvector and halfvec <-> mhalfvec keep every bit; across
# precisions mrl's conversions give what pgvector's own vector <-> halfvec
# casts give; dims, typmods and NULLs survive, in arrays, INSERT and COPY;
# pgvector's operators still resolve to pgvector; and the README's in-place
# migration recipe, run as written, keeps the query results.  Skipped where
# pgvector is not installed.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/vector.control" ]; then
	skip "pgvector not installed"
	exit 0
fi
mrl_cluster_ensure || exit 1
mrl_scratch pgvector_casts
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
# state SQL: the SQLSTATE of the statement's error, or "ok"
state()
{
	local err
	err=$(psql -X -q -At -d "$db" -c "\\set VERBOSITY sqlstate" -c "$1" 2>&1 >/dev/null | sed 's/ERROR: *//')
	echo "${err:-ok}"
}
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { notok "create a database"; exit 1; }

out=$(sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl_pgvector CASCADE" \
	-c "SELECT string_agg(extname, ' ' ORDER BY extname) FROM pg_extension" 2>&1)
check "CREATE EXTENSION mrl_pgvector CASCADE creates mrl and vector" "$out" "mrl mrl_pgvector plpgsql vector"
check "same-precision casts are binary (no function), the others call mrl's conversions" \
	"$(sql -c "SELECT string_agg(format('%s->%s:%s:%s', castsource::regtype, casttarget::regtype, castmethod, castcontext), ' '
		ORDER BY castsource::regtype::text, casttarget::regtype::text)
		FROM pg_cast c JOIN pg_depend d ON d.classid = 'pg_cast'::regclass AND d.objid = c.oid
		WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'mrl_pgvector')")" \
	"halfvec->mhalfvec:b:i halfvec->mvector:f:a mhalfvec->halfvec:b:a mhalfvec->vector:f:a mvector->halfvec:f:a mvector->vector:b:a vector->mhalfvec:f:a vector->mvector:b:i"

# random vectors: 300 rows of 1 to 777 dims, magnitudes from 1e-6 to 6e4
# (within half range), signed zeros, every 10th row NULL
sql >/dev/null <<'SQL'
SELECT setseed(0.3);
CREATE TABLE src AS
	SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE v END AS emb
	FROM (SELECT i, array_agg(CASE WHEN random() < 0.02 THEN -0.0
			ELSE ((random() - 0.5) * 10 ^ (random() * 10 - 5))::real END ORDER BY j)::vector AS v
		  FROM generate_series(1, 300) i, generate_series(1, 1 + (i * 37) % 777) j GROUP BY i) s;
ALTER TABLE src ADD COLUMN half halfvec;
UPDATE src SET half = emb::halfvec;
SQL
check "vector -> mvector -> vector keeps every bit, the dims and the NULLs" \
	"$(sql -c "SELECT count(*) FILTER (WHERE emb IS NULL AND emb::mvector IS NULL OR vector_send(emb::mvector::vector) = vector_send(emb)
		AND mvector_send(emb::mvector) = vector_send(emb) AND mrl_dims(emb::mvector) = vector_dims(emb)) || '/' || count(*) FROM src")" "300/300"
check "the text of vector and of mvector agree" \
	"$(sql -c "SELECT count(*) FROM src WHERE emb::mvector::text IS DISTINCT FROM emb::text")" 0
check "halfvec -> mhalfvec -> halfvec keeps every bit" \
	"$(sql -c "SELECT count(*) FILTER (WHERE half IS NULL AND half::mhalfvec IS NULL OR halfvec_send(half::mhalfvec::halfvec) = halfvec_send(half)
		AND mhalfvec_send(half::mhalfvec) = halfvec_send(half)) || '/' || count(*) FROM src")" "300/300"
check "halfvec -> mvector widens as pgvector's halfvec -> vector" \
	"$(sql -c "SELECT count(*) FROM src WHERE mvector_send(half::mvector) IS DISTINCT FROM vector_send(half::vector)
		OR vector_send(half::mhalfvec::vector) IS DISTINCT FROM vector_send(half::vector)")" 0
check "mvector -> halfvec and vector -> mhalfvec round as pgvector's vector -> halfvec" \
	"$(sql -c "SELECT count(*) FROM src WHERE halfvec_send(emb::mvector::halfvec) IS DISTINCT FROM halfvec_send(emb::halfvec)
		OR mhalfvec_send(emb::mhalfvec) IS DISTINCT FROM halfvec_send(emb::halfvec)")" 0
check "past the largest half: 22003, as pgvector" \
	"$(state "SELECT '[70000]'::mvector::halfvec") $(state "SELECT '[70000]'::vector::halfvec") $(state "SELECT '[70000]'::vector::mhalfvec")" \
	"22003 22003 22003"
check "typmods are checked by the target type (22000), as pgvector's" \
	"$(state "SELECT '[1,2]'::vector::mvector(3)") $(state "SELECT '[1,2]'::mvector::vector(3)") $(state "SELECT '[1,2]'::halfvec::mvector(3)") $(state "SELECT '[1,2]'::mvector::halfvec(3)") $(state "SELECT '[1,2]'::mhalfvec::halfvec(2)")" \
	"22000 22000 22000 22000 ok"
check "arrays cast element by element" \
	"$(sql -c "SELECT ARRAY['[1,2]'::vector, NULL, '[3,4]']::mvector[]::text, ARRAY['[1,2]'::mvector]::vector[]::text, ARRAY['[0.1]'::halfvec]::mvector[]::text")" \
	'{"[1,2]",NULL,"[3,4]"}|{"[1,2]"}|{[0.099975586]}'

# INSERT and COPY move whole columns, arrays of vectors too
sql <<'SQL'
CREATE TABLE dst (i int, emb mvector, embs mvector[], half mhalfvec);
INSERT INTO dst SELECT i, emb, ARRAY[emb, NULL, emb], half FROM src;
CREATE TABLE back (i int, emb vector, embs vector[], half halfvec);
INSERT INTO back SELECT i, emb, embs, half FROM dst;
SQL
check "INSERT vector / vector[] / halfvec into mvector / mvector[] / mhalfvec columns and back keeps every bit" \
	"$(sql -c "SELECT count(*) FROM src JOIN back USING (i) WHERE vector_send(src.emb) IS DISTINCT FROM vector_send(back.emb)
		OR halfvec_send(src.half) IS DISTINCT FROM halfvec_send(back.half)
		OR back.embs::text IS DISTINCT FROM ARRAY[src.emb, NULL, src.emb]::text")" 0
sql -c "\\copy (SELECT i, emb, ARRAY[emb, emb], half FROM src) TO '$work/src.bin' (FORMAT binary)" \
	-c "\\copy (SELECT i, emb, ARRAY[emb, emb], half FROM src) TO '$work/src.txt'" \
	-c "CREATE TABLE copied_bin (LIKE dst)" -c "\\copy copied_bin FROM '$work/src.bin' (FORMAT binary)" \
	-c "CREATE TABLE copied_txt (LIKE dst)" -c "\\copy copied_txt FROM '$work/src.txt'"
check "COPY of vector, vector[], halfvec columns loads into mvector, mvector[], mhalfvec (binary and text) bit for bit" \
	"$(sql -c "SELECT count(*) FROM src, copied_bin b, copied_txt t WHERE src.i = b.i AND src.i = t.i AND NOT (
		mvector_send(b.emb) IS NOT DISTINCT FROM vector_send(src.emb) AND mvector_send(t.emb) IS NOT DISTINCT FROM vector_send(src.emb)
		AND mhalfvec_send(b.half) IS NOT DISTINCT FROM halfvec_send(src.half) AND mhalfvec_send(t.half) IS NOT DISTINCT FROM halfvec_send(src.half)
		AND b.embs::text IS NOT DISTINCT FROM ARRAY[src.emb, src.emb]::text AND t.embs::text IS NOT DISTINCT FROM b.embs::text)")" 0

# pgvector's own operators and functions still resolve to pgvector; a
# vector parameter against an mvector column resolves to mrl's operator
check "vector <-> vector, l2_distance(vector, vector), vector_dims(vector) stay pgvector's" \
	"$(sql -c "SELECT string_agg(DISTINCT p.probin, ' ') FROM pg_operator o JOIN pg_proc p ON p.oid = o.oprcode
		WHERE o.oprname = '<->' AND o.oprleft = 'vector'::regtype AND o.oprright = 'vector'::regtype")
$(sql -c "EXPLAIN (VERBOSE, COSTS OFF) SELECT l2_distance(emb, emb), vector_dims(emb), emb <=> '[1]' FROM back" | grep Output)" \
	"\$libdir/vector
  Output: l2_distance(emb, emb), vector_dims(emb), (emb <=> '[1]'::vector)"
check "mvector column <=> vector parameter uses mrl's operator (vector relabelled)" \
	"$(sql -c "PREPARE q(vector) AS SELECT i FROM dst ORDER BY emb <=> \$1 LIMIT 1" -c "EXPLAIN (VERBOSE, COSTS OFF) EXECUTE q('[1,2]')" | grep -m1 'Sort Key' | sed 's/^ *//')" \
	"Sort Key: ((dst.emb <=> '[1,2]'::mvector))"

# the README's recipe ("Moving a pgvector column in place"), as written, on
# a pgvector table with an HNSW index: results equal before and after, the
# table is not rewritten, and the funnel index answers the query
recipe=$(awk '/^### Moving a pgvector column in place/ {on = 1} on && /^```sql$/ {body = 1; next} body && /^```$/ {exit} body {print}' README.md)
sql >/dev/null <<'SQL'
SELECT setseed(0.6);
CREATE TABLE docs (id int PRIMARY KEY, emb vector(96));
INSERT INTO docs SELECT i, array_agg(((random() - 0.5) / j)::real ORDER BY j)::vector
	FROM generate_series(1, 3000) i, generate_series(1, 96) j GROUP BY i;
CREATE INDEX docs_emb_idx ON docs USING hnsw (emb vector_cosine_ops);
SQL
query=$(sql -c "SELECT emb FROM docs WHERE id = 77")
knn() { sql -c "SET enable_indexscan = $1" -c "PREPARE q(vector) AS SELECT string_agg(id::text, ' ') FROM (SELECT id FROM docs ORDER BY emb <=> \$1 LIMIT 10) s" \
	-c "EXECUTE q('$query')"; }
before=$(knn off)
filenode=$(sql -c "SELECT pg_relation_filenode('docs')")
if [ -z "$recipe" ]; then
	notok "README has the recipe (a sql block under '### Moving a pgvector column in place')"
elif out=$(echo "$recipe" | sql 2>&1); then
	ok "the README's migration recipe runs as written"
else
	echo "$out" | sed 's/^/# /'
	notok "the README's migration recipe runs as written"
fi
check "after it: the column is mvector, the table was not rewritten, a funnel index is on it" \
	"$(sql -c "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'docs'::regclass AND attname = 'emb'") $(sql -c "SELECT pg_relation_filenode('docs') = $filenode") $(sql -c "SELECT string_agg(amname, ' ') FROM pg_index JOIN pg_class c ON c.oid = indexrelid JOIN pg_am a ON a.oid = c.relam WHERE indrelid = 'docs'::regclass AND amname <> 'btree' AND indisvalid")" \
	"mvector t funnel"
check "the same query (a vector parameter) returns the same rows after the move, by sequential scan" "$(knn off)" "$before"
check "... and through the funnel index in exact mode" \
	"$(PGOPTIONS="-c mrl.funnel_exact=on -c enable_seqscan=off" knn on)" "$before"
