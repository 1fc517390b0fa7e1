#!/usr/bin/env bash
# 34_funnel_recall.sh: the funnel index's recall@10 at its default settings
# on real embeddings: the built-in model's vectors of 20,000 English
# sentences from the Debian text every system has (package descriptions,
# copyright files, changelogs: test/funnel/debian_sentences.py), queried with
# 500 held-out sentences, against a sequential scan's answers; without a
# filter and with a WHERE clause keeping 10% of the rows.  With one keeping
# 1%, the planner scans the table instead, and the index, forced, still
# reaches that recall with sorted, full answers (100 queries).  The plan
# flips from the funnel to a scan of the table (or a bitmap scan, with a
# btree on the filter column) as the filter keeps fewer rows.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
mrl_scratch funnel_recall
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { notok "create a database"; exit 1; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

python3 test/funnel/debian_sentences.py 20000 500 "$work" || { notok "extract sentences"; exit 1; }
chmod 644 "$work"/*.txt
sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" \
	-c "CREATE TABLE docs (id int PRIMARY KEY, body text, emb mvector(256), bucket int)" \
	-c "CREATE TABLE queries (id int PRIMARY KEY, body text, emb mvector(256))" >/dev/null ||
	{ notok "set up the database"; exit 1; }
# bucket: a hash of the id in 0..99, so bucket < 10 keeps 10% of the rows
sed 's/\\/\\\\/g' "$work/docs.txt" | awk '{ print NR "\t" $0 }' | sql -c "COPY docs (id, body) FROM STDIN"
sed 's/\\/\\\\/g' "$work/queries.txt" | awk '{ print NR "\t" $0 }' | sql -c "COPY queries (id, body) FROM STDIN"
sql -c "UPDATE docs SET emb = mrl_embed(body), bucket = (hashint4(id) & 2147483647) % 100" \
	-c "UPDATE queries SET emb = mrl_embed(body)" -c "VACUUM ANALYZE docs"
echo "# $(sql -c "SELECT count(*) FROM docs") sentences, $(sql -c "SELECT count(*) FROM queries") queries"

# the exact top-10 of every query, without a filter (kept 100) and with one
# (the first 100 queries with the 1% filter)
sql -c "SET enable_indexscan = off" -c "CREATE TABLE truth AS
        SELECT q.id AS qid, k.kept, (SELECT array_agg(id ORDER BY d, id) FROM
          (SELECT id, emb <=> q.emb AS d FROM docs WHERE bucket < k.kept ORDER BY d, id LIMIT 10) s) AS ids
        FROM queries q, (VALUES (100), (10), (1)) k(kept) WHERE k.kept > 1 OR q.id <= 100"
sql -c "CREATE INDEX docs_funnel ON docs USING funnel (emb mvector_cosine_ops)" 2>&1 | sed 's/^/# /'

# recall@10 of the index at the default settings over the queries with a
# filter keeping `kept`% of the rows, how many answers came out sorted by
# distance, and how many filled the LIMIT
measure() {
	sql -F ' ' -c "SET enable_seqscan = off" -c "SET enable_bitmapscan = off" -c "
		SELECT round(avg((SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (t.ids)) / 10.0), 3),
		       sum((a.dists = (SELECT array_agg(d ORDER BY d) FROM unnest(a.dists) d))::int),
		       sum((cardinality(a.ids) = 10)::int)
		FROM truth t JOIN queries q ON q.id = t.qid,
		     LATERAL (SELECT array_agg(id) AS ids, array_agg(d) AS dists FROM
		              (SELECT id, emb <=> q.emb AS d FROM docs WHERE bucket < $1 ORDER BY emb <=> q.emb LIMIT 10) s) a
		WHERE t.kept = $1"
}
for kept in 100 10 1; do
	read -r recall sorted full <<<"$(measure $kept)"
	n=$([ $kept = 1 ] && echo 100 || echo 500)
	echo "# rows kept ${kept}%: recall@10 $recall, sorted $sorted/$n, LIMIT filled $full/$n"
	check "recall@10 >= 0.95 at the default settings, ${kept}% of the rows kept (got $recall)" \
		"$(sql -c "SELECT ${recall:-0} >= 0.95")" t
	check "every answer sorted and filling its LIMIT, ${kept}% kept" "$sorted:$full" "$n:$n"
done

# the planner: the index without a filter, a sequential scan under one
# keeping 1% (reading 1,000 index rows per row kept costs more)
plan() {
	sql -c "EXPLAIN (COSTS OFF) SELECT id FROM docs $1 ORDER BY emb <=> (SELECT emb FROM queries WHERE id = 1) LIMIT 10" |
		grep -o -m1 'Index Scan using docs_funnel\|Seq Scan on docs'
}
check "the planner uses the index without a filter" "$(plan "")" "Index Scan using docs_funnel"
check "the planner uses the index when the filter keeps 50%" "$(plan "WHERE bucket < 50")" "Index Scan using docs_funnel"
check "the planner scans the table when the filter keeps 1%" "$(plan "WHERE bucket < 1")" "Seq Scan on docs"
# with a btree on the filter column, the kept rows are read through it
# (bitmap) and sorted where the filter keeps few, the funnel where it keeps many
sql -c "CREATE INDEX docs_bucket ON docs (bucket)" -c "ANALYZE docs"
plan() {
	sql -c "EXPLAIN (COSTS OFF) SELECT id FROM docs $1 ORDER BY emb <=> (SELECT emb FROM queries WHERE id = 1) LIMIT 10" |
		grep -o -m1 'Index Scan using docs_funnel\|Seq Scan on docs\|Bitmap Heap Scan on docs\|Index Scan using docs_bucket'
}
check "with a btree on the filter column: the funnel when the filter keeps 50%" \
	"$(plan "WHERE bucket < 50")" "Index Scan using docs_funnel"
check "with a btree on the filter column: a bitmap scan when it keeps 1%" \
	"$(plan "WHERE bucket < 1")" "Bitmap Heap Scan on docs"
