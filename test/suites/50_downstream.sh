#!/usr/bin/env bash
# 50_downstream.sh: mrl_evaluate_classification and mrl_evaluate_clustering
# against scikit-learn (test/evaluate/reference_downstream.py) on the
# built-in model's embeddings of small labelled sets:
#  - classification with a fixed split (a fold column, NULL rows only
#    trained on), prefix and pca, and leave-one-out (folds = rows) with
#    integer labels: kNN and linear-probe accuracy and macro-F1;
#  - clustering of 4 topics with noisy labels: NMI and ARI, prefix and pca;
#  - the seed: the same seed gives the same rows, folds = rows ignores it;
#  - the table is read once (a view counting its reads);
#  - bad inputs: clear errors with their SQLSTATEs;
#  - statement_timeout and pg_cancel_backend stop both functions (57014).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
mrl_scratch downstream
/usr/bin/python3 test/evaluate/reference_downstream.py gen "$work" || { notok "generate the test data"; exit 1; }
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { notok "create a database"; exit 1; }
export PGDATABASE=$db
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# export TABLE QUERY: the query's rows to $work/TABLE.txt, '|'-separated
export_rows() { echo "\\copy ($2) TO '$work/$1.txt' (DELIMITER '|')"; }
if sql <<SQL
SET client_min_messages = warning;
CREATE EXTENSION mrl;
CREATE TABLE topics (id int, body text, label text, fold int);
\copy topics FROM '$work/topics.tsv'
CREATE TABLE small (id bigint, body varchar, label int);
\copy small FROM '$work/small.tsv'
CREATE TABLE noisy (id text, body text, label text);
\copy noisy FROM '$work/noisy.tsv'
$(for t in topics small noisy; do export_rows ${t}_emb "SELECT id, mrl_embed(body) FROM $t ORDER BY id"; done)
$(export_rows topics_prefix "SELECT * FROM mrl_evaluate_classification('topics', dims => '{4,32,256}')")
$(export_rows topics_pca "SELECT * FROM mrl_evaluate_classification('topics', dims => '{4,16,48}', baselines => '{pca}') WHERE method = 'pca'")
$(export_rows small_loo "SELECT * FROM mrl_evaluate_classification('small', dims => '{8,64}', folds => 48)")
$(export_rows noisy_clusters "SELECT * FROM mrl_evaluate_clustering('noisy', dims => '{4,16,64}', baselines => '{pca}')")
SQL
then
	ok "mrl_evaluate_classification and mrl_evaluate_clustering run on the test sets"
else
	notok "mrl_evaluate_classification and mrl_evaluate_clustering run on the test sets"
	exit 1
fi
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 test/evaluate/reference_downstream.py check "$work" >"$work/check.out" 2>&1 ||
	{ notok "scikit-learn comparison ran"; cat "$work/check.out"; exit 1; }
check_relay "$work/check.out"

# the seed: the same seed, the same rows; another seed, other folds; with
# one fold per row (leave-one-out) the seed changes nothing
rows() { sql -c "SELECT string_agg(concat_ws(',', dims, method, knn_accuracy, linear_accuracy), ' ' ORDER BY dims)
	FROM mrl_evaluate_classification('small', dims => '{8}', $1)"; }
a=$(rows "seed => 7") b=$(rows "seed => 7") c=$(rows "seed => 8") loo7=$(rows "folds => 48, seed => 7") loo8=$(rows "folds => 48, seed => 8")
if [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$c" ] && [ "$loo7" = "$loo8" ]; then
	ok "the seed decides the folds: seed 7 twice gives the same rows, seed 8 others; leave-one-out ignores it"
else
	notok "seeds: '$a' / '$b' / '$c'; leave-one-out '$loo7' / '$loo8'"
fi
a=$(sql -c "SELECT string_agg(concat_ws(',', nmi, ari), ' ') FROM mrl_evaluate_clustering('noisy', dims => '{2}', seed => 3)")
b=$(sql -c "SELECT string_agg(concat_ws(',', nmi, ari), ' ') FROM mrl_evaluate_clustering('noisy', dims => '{2}', seed => 3)")
[ -n "$a" ] && [ "$a" = "$b" ] && ok "k-means with one seed gives the same scores twice ($a)" ||
	notok "k-means repeated: '$a' / '$b'"

# read once: a view that counts the rows it returns
out=$(sql <<'SQL'
CREATE SEQUENCE reads;
CREATE VIEW counted AS SELECT id, body, label FROM small WHERE nextval('reads') > 0;
SELECT count(*) FROM mrl_evaluate_classification('counted', dims => '{8,16}', baselines => '{pca}');
SELECT count(*) FROM mrl_evaluate_clustering('counted', dims => '{8,16}', baselines => '{pca}');
SELECT last_value FROM reads;
SQL
)
[ "$(echo $out)" = "4 4 96" ] && ok "each function reads its table once (48 rows, 96 reads for two calls)" ||
	notok "reads of a view: $(echo $out)"

# errors: CASE = "SQLSTATE|SQL"
sql >/dev/null <<'SQL'
CREATE TABLE no_label (id int, body text);
CREATE TABLE float_label (id int, body text, label float8);
CREATE TABLE null_label (id int, body text, label text);
INSERT INTO null_label VALUES (1, 'a', 'x'), (2, 'b', NULL);
CREATE TABLE one_label (id int, body text, label text);
INSERT INTO one_label VALUES (1, 'a', 'x'), (2, 'b', 'x');
CREATE TABLE dup_id (id int, body text, label text);
INSERT INTO dup_id VALUES (1, 'a', 'x'), (1, 'b', 'y');
CREATE TABLE empty (id int, body text, label text);
CREATE TABLE one_fold (id int, body text, label text, fold int);
INSERT INTO one_fold VALUES (1, 'a', 'x', 1), (2, 'b', 'y', 1);
CREATE TABLE text_fold (id int, body text, label text, fold text);
CREATE TABLE many_labels AS SELECT g AS id, 'text ' || g AS body, g AS label FROM generate_series(1, 1001) g;
SQL
cases=(
	"42703|SELECT * FROM mrl_evaluate_classification('no_label')"
	"42804|SELECT * FROM mrl_evaluate_clustering('float_label')"
	"42804|SELECT * FROM mrl_evaluate_classification('text_fold')"
	"42P01|SELECT * FROM mrl_evaluate_classification('no_such_table')"
	"22004|SELECT * FROM mrl_evaluate_classification('null_label')"
	"22004|SELECT * FROM mrl_evaluate_classification(NULL)"
	"22004|SELECT * FROM mrl_evaluate_clustering('small', dims => NULL)"
	"22004|SELECT * FROM mrl_evaluate_classification('small', neighbors => NULL)"
	"22023|SELECT * FROM mrl_evaluate_clustering('one_label')"
	"22023|SELECT * FROM mrl_evaluate_classification('dup_id')"
	"22023|SELECT * FROM mrl_evaluate_clustering('empty')"
	"22023|SELECT * FROM mrl_evaluate_classification('one_fold')"
	"22023|SELECT * FROM mrl_evaluate_classification('topics', folds => 5)"
	"22023|SELECT * FROM mrl_evaluate_classification('small', folds => 1)"
	"22023|SELECT * FROM mrl_evaluate_classification('small', folds => 49)"
	"22023|SELECT * FROM mrl_evaluate_classification('small', neighbors => 0)"
	"22023|SELECT * FROM mrl_evaluate_clustering('small', restarts => 0)"
	"22023|SELECT * FROM mrl_evaluate_clustering('small', baselines => '{fulltext}')"
	"22023|SELECT * FROM mrl_evaluate_classification('small', dims => '{0}')"
	"22023|SELECT * FROM mrl_evaluate_classification('small', dims => '{257}')"
	"42704|SELECT * FROM mrl_evaluate_classification('small', model => 'no_such_model')"
	"54000|SELECT * FROM mrl_evaluate_clustering('many_labels', dims => '{4}')"
)
for c in "${cases[@]}"; do
	state=${c%%|*} query=${c#*|}
	out=$(psql -X -q -At -v VERBOSITY=sqlstate -c "$query" 2>&1)
	[ "$out" = "ERROR:  $state" ] && ok "$state: $query" || notok "$query: expected $state, got '$out'"
done
msg=$(psql -X -q -At -c "SELECT * FROM mrl_evaluate_classification('null_label')" 2>&1)
echo "$msg" | grep -q 'column "label" of relation null_label must not be null' &&
	ok "a NULL label is named in the error" || notok "NULL label message: $msg"

# cancellation: both functions on 12,000 rows stop promptly
sql -c "CREATE TABLE big AS SELECT t.id * 100 + g AS id, body || ' ' || g AS body, label FROM topics t, generate_series(1, 50) g" >/dev/null
for f in "mrl_evaluate_classification('big', baselines => '{pca}')" "mrl_evaluate_clustering('big', baselines => '{pca}')"; do
	start=$(date +%s%N)
	out=$(psql -X -q -At -v VERBOSITY=sqlstate -c "SET statement_timeout = '1500ms'" -c "SELECT count(*) FROM $f" 2>&1 | tail -1)
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$out" = "ERROR:  57014" ] && [ "$ms" -lt 5000 ] &&
		ok "statement_timeout cancels ${f%%(*} on 12000 rows (57014 after $ms ms)" ||
		notok "statement_timeout on ${f%%(*}: '$out' after $ms ms"
done
start=$(date +%s%N)
PGAPPNAME=downstream_cancelled psql -X -q -At -v VERBOSITY=sqlstate \
	-c "SELECT count(*) FROM mrl_evaluate_classification('big', baselines => '{pca}')" >"$work/cancelled.out" 2>&1 &
cancel_after downstream_cancelled 2
wait
ms=$((($(date +%s%N) - start) / 1000000))
out=$(tail -1 "$work/cancelled.out")
[ "$out" = "ERROR:  57014" ] && [ "$ms" -lt 6000 ] &&
	ok "pg_cancel_backend cancels mrl_evaluate_classification (57014 after $ms ms)" ||
	notok "pg_cancel_backend on mrl_evaluate_classification: '$out' after $ms ms"
