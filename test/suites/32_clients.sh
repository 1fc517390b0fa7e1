#!/usr/bin/env bash
# 32_clients.sh: the README's client examples run as written and are right.
# Each of test/clients/example.py (psycopg 2), example_psycopg3.py (psycopg
# 3) and example.mjs (npm pg) loads 200 vectors into its own table with
# parameters and COPY BINARY, reads them back in every form it supports and
# runs a KNN query.  Here: every form read back all rows exactly; the stored
# values equal the vectors recomputed in SQL (so a byte-order mistake made
# both ways is caught); the KNN ids equal the order of cosine distances
# computed in float8 over unnest().  The README's Clients section quotes them
# verbatim (test/clients/readme_excerpts.py).
set -u
. "$(dirname "$0")/../lib.sh"
mrl_cluster_ensure || exit 1
cd "$MRL_ROOT/test/clients"
TMP=$(mktemp -d /tmp/mrl-clients.XXXXXX)
trap 'rm -rf "$TMP"; mrl_cluster_stop' EXIT
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS mrl"

if [ ! -d node_modules/pg-copy-streams ]; then
	npm ci --no-audit --no-fund >"$TMP/npm.log" 2>&1 ||
		{ cat "$TMP/npm.log"; notok "install the npm packages of test/clients/package-lock.json"; }
fi

# the values every example stores: row id, element j (0-based)
expected_vector="(SELECT array_agg((((id * 37 + j * 101) % 199 - 99)::float8 / 7)::real ORDER BY j)
                  FROM generate_series(0, 15) j)::mvector"
# ids of the 5 rows nearest to row 7 by cosine distance, in float8
knn_reference()
{
	sql <<SQL
WITH q AS (SELECT emb FROM $1 WHERE id = 7),
d AS (SELECT t.id, 1 - sum(a * b) / sqrt(sum(a * a) * sum(b * b)) AS dist
      FROM $1 t, q, unnest(t.emb::real[]::float8[], q.emb::real[]::float8[]) AS u(a, b)
      GROUP BY t.id)
SELECT string_agg(id::text, ' ' ORDER BY dist, id) FROM (SELECT * FROM d ORDER BY dist, id LIMIT 5) s;
SQL
}

# run_example NAME TABLE FORMS COMMAND...
run_example()
{
	local name=$1 table=$2 forms=$3 form out
	shift 3
	if ! out=$("$@" 2>&1); then
		echo "$out" | sed 's/^/# /'
		notok "$name runs"
		return
	fi
	ok "$name runs"
	for form in $forms; do
		check "$name: round trip ($form) exact" \
			"$(echo "$out" | grep -F "round trip ($form):")" "round trip ($form): 200 of 200 rows exact"
	done
	check "$name: stored values equal the SQL-computed vectors" \
		"$(sql -c "SELECT count(*) FILTER (WHERE emb = $expected_vector) || '/' || count(*) FROM $table")" "200/200"
	check "$name: KNN order equals the float8 cosine order" \
		"$(echo "$out" | grep '^knn:')" "knn: $(knn_reference "$table")"
	sql -c "DROP TABLE $table"
}

run_example "psycopg 2 (example.py)" items_psycopg2 "text COPY-binary" /usr/bin/python3 example.py
run_example "psycopg 3 (example_psycopg3.py)" items_psycopg3 "text binary COPY-binary" /usr/bin/python3 example_psycopg3.py
run_example "node pg (example.mjs)" items_node "text binary COPY-binary" node example.mjs

# the README's Clients section quotes the examples verbatim
if out=$(/usr/bin/python3 readme_excerpts.py "$MRL_ROOT/README.md" . 2>&1); then
	ok "README Clients section: every code block is an excerpt of an example ($out)"
else
	echo "$out" | sed 's/^/# /'
	notok "README Clients section quotes the examples verbatim"
fi
