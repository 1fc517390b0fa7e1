#!/usr/bin/env bash
# 45_evaluate.sh: mrl_evaluate and mrl_pca_fit / mrl_pca_apply against an
# independent numpy implementation (test/evaluate/reference.py):
#  - PCA of 300 anisotropic 12-d points: mean, directions with their signs,
#    projections, falling variance;
#  - PCA of 200 points in 3,072 and 4,096 dims (the common large embedding
#    sizes), a few strong directions: mean and directions;
#  - mrl_evaluate with the built-in model on a synthetic judged collection
#    (600 docs, 40 queries, graded qrels): the prefix method at 5 sizes and
#    the pca baseline, from the same embeddings ranked and scored in numpy;
#  - a statement timeout cancels a long evaluation.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
mrl_scratch evaluate
/usr/bin/python3 test/evaluate/reference.py gen "$work" || { notok "generate the test data"; exit 1; }
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { notok "create a database"; exit 1; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

if sql -c "CREATE EXTENSION mrl" \
	-c "CREATE TABLE pts (i serial, v mvector)" \
	-c "\\copy pts (v) FROM '$work/pca_points.txt'" \
	-c "CREATE TABLE fit AS SELECT mrl_pca_fit(v, 5) AS p FROM pts" \
	-c "\\copy (SELECT unnest(p) FROM fit) TO '$work/pca_fit.txt'" \
	-c "\\copy (SELECT mrl_pca_apply(p, v) FROM pts, fit ORDER BY i) TO '$work/pca_proj.txt'" \
	-c "CREATE TABLE wide_3072 (v mvector)" -c "\\copy wide_3072 FROM '$work/pca_wide_3072.txt'" \
	-c "\\copy (SELECT unnest(mrl_pca_fit(v, 4)) FROM wide_3072) TO '$work/pca_wide_3072_fit.txt'" \
	-c "CREATE TABLE wide_4096 (v mvector)" -c "\\copy wide_4096 FROM '$work/pca_wide_4096.txt'" \
	-c "\\copy (SELECT unnest(mrl_pca_fit(v, 4)) FROM wide_4096) TO '$work/pca_wide_4096_fit.txt'" \
	-c "CREATE TABLE docs (id int, body text)" \
	-c "CREATE TABLE queries (id text, body text)" \
	-c "CREATE TABLE qrels (query_id text, doc_id int, relevance int)" \
	-c "\\copy docs FROM '$work/docs.tsv'" \
	-c "\\copy queries FROM '$work/queries.tsv'" \
	-c "\\copy qrels FROM '$work/qrels.tsv'" \
	-c "\\copy (SELECT id, mrl_embed(body) FROM docs ORDER BY id) TO '$work/doc_emb.txt' (DELIMITER '|')" \
	-c "\\copy (SELECT id, mrl_embed(body) FROM queries ORDER BY id) TO '$work/query_emb.txt' (DELIMITER '|')" \
	-c "\\copy (SELECT * FROM mrl_evaluate('queries', 'qrels', 'docs', dims => '{2,8,32,128,256}', baselines => '{pca}')) TO '$work/eval.txt' (DELIMITER '|')"
then
	ok "mrl_pca_fit, mrl_pca_apply and mrl_evaluate run on the test data"
else
	notok "mrl_pca_fit, mrl_pca_apply and mrl_evaluate run on the test data"
	exit 1
fi

/usr/bin/python3 test/evaluate/reference.py check "$work" >"$work/check.out" 2>&1 ||
	{ notok "numpy comparison ran"; cat "$work/check.out"; exit 1; }
check_relay "$work/check.out"
# cancellation: a statement timeout stops a long evaluation promptly
sql -c "CREATE TABLE big AS SELECT CASE WHEN g = 1 THEN id ELSE id * 100 + g END AS id, body FROM docs, generate_series(1, 40) g" >/dev/null
start=$(date +%s%N)
out=$(sql -c "SET statement_timeout = '300ms'" \
	-c "SELECT count(*) FROM mrl_evaluate('queries', 'qrels', 'big', dims => '{256}', baselines => '{pca,fulltext}')" 2>&1)
ms=$((($(date +%s%N) - start) / 1000000))
if echo "$out" | grep -q "canceling statement due to statement timeout" && [ "$ms" -lt 3000 ]; then
	ok "statement_timeout cancels mrl_evaluate on 24000 docs (returned after $ms ms)"
else
	notok "statement_timeout did not cancel mrl_evaluate promptly ($ms ms): $out"
fi
[ "$tap_n" -ge 19 ] || notok "expected at least 19 checks, ran $tap_n"
