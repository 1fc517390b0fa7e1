#!/usr/bin/env bash
# 09_getting_started.sh: what a newcomer runs first works as written.  The
# README's SQL examples of the Quick start, of measuring recall (Choosing
# settings) and of mrl_evaluate run verbatim, taken from the README itself,
# so they cannot go stale; `make demo`'s script runs end to end and its
# step 6 prints the values of the re-normalised 64-dim copy it describes
# (checked against float8 arithmetic over the stored vector's elements).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
mrl_scratch getting_started
psql -X -q -d postgres -c "CREATE DATABASE $db" || { notok "create a database"; exit 1; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# readme_sql HEADING: the first ```sql block after the README line HEADING
readme_sql()
{
	awk -v h="$1" '$0 == h { s = 1; next } s == 1 && /^```sql$/ { s = 2; next }
		s == 2 && /^```$/ { exit } s == 2 { print }' README.md
}

# ---- Quick start: the first query finds the connections setting
readme_sql "## Quick start" >"$work/quick.sql"
if out=$(sql -f "$work/quick.sql" 2>&1); then
	check "README Quick start runs as written; its first query ranks the connections text first" \
		"$(echo "$out" | head -n 1)" "1|Sets the maximum number of concurrent connections."
else
	notok "README Quick start: $out"
fi

# ---- recall on a sample (Choosing settings), on the Quick start's table
readme_sql "### Choosing settings" >"$work/recall.sql"
recall=$(sql -f "$work/recall.sql" 2>&1)
check "README recall example runs as written and gives a recall in [0, 1]" \
	"$(sql -c "SELECT '$recall'::numeric BETWEEN 0 AND 1" 2>&1)" t

# ---- mrl_evaluate: layout, tables and calls as the README shows them
readme_sql "## Evaluation: retrieval quality at every prefix size, in one call" >"$work/evaluate.sql"
out=$(sql -f "$work/evaluate.sql" 2>&1)
check "README evaluation example runs as written: 5 + 7 result rows" "$(echo "$out" | grep -c "|")" 12

# ---- make demo's script, in a clean schema
sql -c "SET client_min_messages = warning" -c "DROP SCHEMA public CASCADE" -c "CREATE SCHEMA public" ||
	{ notok "clean the schema"; exit 1; }
if psql -X -q -v ON_ERROR_STOP=1 -d "$db" -f test/demo.sql >"$work/demo.out" 2>&1; then
	check "make demo's script runs its 6 steps" "$(grep -c '^== [1-6]\. ' "$work/demo.out")" 6
else
	notok "make demo's script failed"
	tail -n 20 "$work/demo.out" | sed 's/^/# /'
fi
# step 6's rows: name | dims | norm | first values of the copy
rows=$(awk '/^== 6\./ { s = 1; next } s && /\|/ && !/first_3_values/' "$work/demo.out")
checked=0
wrong=0
while IFS='|' read -r name dims norm values; do
	name=$(echo $name)
	values=$(echo $values | tr '[]' '{}')
	# the copy: the first 64 elements over their Euclidean length, in float8
	good=$(sql -c "WITH e AS (SELECT i, x::float8 AS x FROM docs, unnest(emb::real[]) WITH ORDINALITY u(x, i)
			WHERE name = '$name' AND i <= 64),
		want AS (SELECT i, x / (SELECT sqrt(sum(x * x)) FROM e) AS x FROM e WHERE i <= 3)
		SELECT bool_and(abs(w.x - p.x) <= 1e-6 * abs(w.x) + 1e-9) AND count(*) = 3
		FROM want w JOIN unnest('$values'::float8[]) WITH ORDINALITY p(x, i) USING (i)")
	checked=$((checked + 1))
	[ "$good $(echo $dims) $(echo $norm)" = "t 64 1.0000" ] || wrong=$((wrong + 1))
done <<<"$rows"
check "demo step 6 prints 64 dims, norm 1 and the first values of the re-normalised copy" \
	"$checked rows, $wrong wrong" "3 rows, 0 wrong"
