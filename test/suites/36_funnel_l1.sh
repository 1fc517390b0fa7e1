#!/usr/bin/env bash
# 36_funnel_l1.sh: the funnel's L1 opclasses (mvector_l1_ops,
# mhalfvec_l1_ops) on real embeddings: the built-in model's vectors of
# 20,000 English sentences from Debian's text (test/funnel/debian_sentences.py),
# 200 held-out queries.  The exact top-10 by L1 comes from numpy
# (test/funnel/l1_reference.py), on the float32 values and on their float16
# rounding for the half-precision column: approximate mode at the default
# settings must reach recall@10 0.9 (0.96 when written), exact mode must
# return the reference (50 queries: on these vectors it reads most rows).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
mrl_scratch funnel_l1
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { notok "create a database"; exit 1; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

python3 test/funnel/debian_sentences.py 20000 200 "$work" || { notok "extract sentences"; exit 1; }
chmod 644 "$work"/*.txt
sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" \
	-c "CREATE TABLE docs (id int PRIMARY KEY, body text, emb mvector(256), half mhalfvec(256))" \
	-c "CREATE TABLE queries (id int PRIMARY KEY, body text, emb mvector(256))" >/dev/null ||
	{ notok "set up the database"; exit 1; }
sed 's/\\/\\\\/g' "$work/docs.txt" | awk '{ print NR "\t" $0 }' | sql -c "COPY docs (id, body) FROM STDIN"
sed 's/\\/\\\\/g' "$work/queries.txt" | awk '{ print NR "\t" $0 }' | sql -c "COPY queries (id, body) FROM STDIN"
sql -c "UPDATE docs SET emb = mrl_embed(body)" -c "UPDATE docs SET half = emb" \
	-c "UPDATE queries SET emb = mrl_embed(body)" -c "VACUUM ANALYZE docs"
sql -c "COPY docs (id, emb) TO STDOUT" >"$work/docs.vec"
sql -c "COPY queries (id, emb) TO STDOUT" >"$work/queries.vec"
/usr/bin/python3 test/funnel/l1_reference.py "$work/docs.vec" "$work/queries.vec" 10 "$work/truth.txt" &&
	/usr/bin/python3 test/funnel/l1_reference.py "$work/docs.vec" "$work/queries.vec" 10 "$work/truth_half.txt" --half ||
	{ notok "numpy reference (test/funnel/l1_reference.py)"; exit 1; }
chmod 644 "$work"/truth*.txt
sql -c "CREATE TABLE truth (qid int, ids int[])" -c "COPY truth FROM '$work/truth.txt'" \
	-c "CREATE TABLE truth_half (qid int, ids int[])" -c "COPY truth_half FROM '$work/truth_half.txt'"
echo "# $(sql -c "SELECT count(*) FROM docs") sentences, $(sql -c "SELECT count(*) FROM truth") queries"

# recall@10 of COLUMN's index against TRUTH over the first N queries, in
# approximate (off) or exact (on) mode, and how many got exactly the
# reference's ids
measure() {
	sql -F ' ' -c "SET enable_seqscan = off" -c "SET mrl.funnel_exact = $3" -c "
		SELECT round(avg((SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (t.ids)) / 10.0), 3),
		       count(*) FILTER (WHERE a.ids = t.ids)
		FROM $2 t JOIN queries q ON q.id = t.qid AND t.qid <= $4,
		     LATERAL (SELECT array_agg(id ORDER BY d, id) AS ids FROM
		              (SELECT id, $1 <+> q.emb AS d FROM docs ORDER BY $1 <+> q.emb LIMIT 10) s) a"
}
for column in emb half; do
	truth=$([ $column = emb ] && echo truth || echo truth_half)
	type=$([ $column = emb ] && echo mvector || echo mhalfvec)
	sql -c "CREATE INDEX docs_l1 ON docs USING funnel ($column ${type}_l1_ops)" 2>&1 | sed 's/^/# /'
	check "$type: the planner uses the L1 index for ORDER BY <+> LIMIT" \
		"$(sql -c "EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY $column <+> (SELECT emb FROM queries WHERE id = 1) LIMIT 10" |
			grep -o -m1 'Index Scan using docs_l1')" "Index Scan using docs_l1"
	read -r recall same <<<"$(measure $column $truth off 200)"
	echo "# ${type}_l1_ops, approximate mode: recall@10 $recall, $same/200 answers equal to numpy's"
	check "$type: approximate recall@10 >= 0.9 against numpy's L1 top-10 (got $recall)" \
		"$(sql -c "SELECT ${recall:-0} >= 0.9")" t
	read -r recall same <<<"$(measure $column $truth on 50)"
	check "$type: exact mode returns numpy's L1 top-10 for 50 queries (recall $recall)" "$same" 50
	sql -c "DROP INDEX docs_l1"
done
