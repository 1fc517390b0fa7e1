#!/usr/bin/env bash
# 44_interrupts.sh: long embeddings, trainings and evaluations stop for a
# cancel and only for a cancel:
#  - PostgreSQL 15's idle-stats timer fires during a statement that runs
#    more than 10 s after two quick ones: the embedding completes;
#  - another session asks for memory-context dumps
#    (pg_log_backend_memory_contexts) all through an embedding, a training
#    and the evaluations (retrieval, classification, clustering): they
#    complete;
#  - statement_timeout and pg_cancel_backend still stop an embedding (57014).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
mrl_scratch interrupts
models=$work
sql -c "CREATE DATABASE $db" >/dev/null || { notok "create a database"; exit 1; }
export PGDATABASE=$db
/usr/bin/python3 test/encoder/make_tiny_models.py "$models" >/dev/null
chmod -R a+rX "$models"
sql >/dev/null <<SQL || { notok "set up models and data"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION mrl;
SELECT mrl_register_model('tb', '$models/tiny-bert');
-- embed_for(SECONDS): embed batches of 500 texts with tiny-bert until SECONDS
-- have passed; the number of batches
CREATE FUNCTION embed_for(seconds float8) RETURNS int LANGUAGE plpgsql AS \$\$
DECLARE
	t0 timestamptz := clock_timestamp();
	n int := 0;
BEGIN
	WHILE clock_timestamp() - t0 < make_interval(secs => seconds) LOOP
		PERFORM mrl_embed(array(SELECT 'text number ' || g || ' of batch ' || n FROM generate_series(1, 500) g), 'tb');
		n := n + 1;
	END LOOP;
	RETURN n;
END \$\$;
CREATE TABLE pairs AS SELECT 'question ' || i AS q, 'answer number ' || i AS a FROM generate_series(1, 2000) i;
CREATE TABLE docs AS SELECT i AS id, 'document about topic ' || (i % 97) || ' number ' || i AS body FROM generate_series(1, 3000) i;
CREATE TABLE queries AS SELECT i AS id, 'topic ' || i AS body FROM generate_series(1, 40) i;
CREATE TABLE qrels AS SELECT q.id AS query_id, d.id AS doc_id, 1 AS relevance FROM queries q JOIN docs d ON d.id % 97 = q.id;
CREATE TABLE labelled AS SELECT id, body, id % 7 AS label FROM docs;
SQL

# 1. the idle-stats timer: two quick statements (the second one's statistics
# are held back for 10 s), then embeddings for 12 s in one statement
out=$(PGAPPNAME=stats_timer psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate \
	-c "SELECT count(*) FROM pg_class" -c "SELECT count(*) FROM pg_class" \
	-c "SELECT embed_for(12) > 0" 2>&1 | tail -1)
if [ "$out" = t ]; then
	ok "an embedding statement running 12 s after two quick ones completes (idle-stats timer)"
else
	notok "embedding past the idle-stats timer: $out"
fi

# interrupted APPNAME: from another session, ask the backend of application
# APPNAME for memory-context dumps every 50 ms until it disconnects (at most
# 60 s); prints the number of requests
interrupted()
{
	psql -X -q -At -v ON_ERROR_STOP=1 <<SQL
DO \$\$
DECLARE
	p int;
	n int := 0;
	t0 timestamptz := clock_timestamp();
BEGIN
	WHILE p IS NULL AND clock_timestamp() - t0 < interval '60 s' LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT pid INTO p FROM pg_stat_activity WHERE application_name = '$1';
		PERFORM pg_sleep(0.01);
	END LOOP;
	WHILE p IS NOT NULL AND pg_log_backend_memory_contexts(p) AND clock_timestamp() - t0 < interval '60 s' LOOP
		n := n + 1;
		PERFORM pg_sleep(0.05);
	END LOOP;
	RAISE NOTICE 'requests: %', n;
END \$\$;
SQL
}
# under_dumps WHAT SQL: run SQL as application "dumped" while another session
# requests memory-context dumps; ok if it prints t and was interrupted
under_dumps()
{
	local out requests
	interrupted dumped >"$MRL_TMP_DUMPS" 2>&1 &
	out=$(PGAPPNAME=dumped psql -X -q -At -v ON_ERROR_STOP=1 -v VERBOSITY=sqlstate -c "SET client_min_messages = warning" -c "$2" 2>&1 | tail -1)
	wait
	requests=$(grep -o 'requests: [0-9]*' "$MRL_TMP_DUMPS" | grep -o '[0-9]*$')
	if [ "$out" = t ] && [ "${requests:-0}" -ge 5 ]; then
		ok "$1 completes under $requests memory-context dump requests"
	else
		notok "$1 under memory-context dump requests: '$out' (${requests:-no} requests: $(cat "$MRL_TMP_DUMPS"))"
	fi
}
MRL_TMP_DUMPS=$models/dumps.out

# 2-6. harmless interrupts all through an embedding, a training, the evaluations
under_dumps "mrl_embed for 3 s" "SELECT embed_for(3) > 0"
under_dumps "mrl_train" "SELECT steps > 0 FROM mrl_train('dumped_train', 'SELECT q, a FROM pairs', epochs => 25, batch_size => 64)"
under_dumps "mrl_evaluate" "SELECT count(*) > 0 FROM mrl_evaluate('queries', 'qrels', 'docs', 'tb', dims => '{8,16}', baselines => '{pca}')"
under_dumps "mrl_evaluate_classification" "SELECT count(*) > 0 FROM mrl_evaluate_classification('labelled', 'tb', dims => '{8,16,32}', baselines => '{pca}')"
under_dumps "mrl_evaluate_clustering" "SELECT count(*) > 0 FROM mrl_evaluate_clustering('labelled', 'tb', dims => '{8,16}', baselines => '{pca}', restarts => 2)"

# 7. statement_timeout still cancels a long embedding with 57014
start=$(date +%s%N)
out=$(psql -X -q -At -v VERBOSITY=sqlstate -c "SET statement_timeout = '1s'" -c "SELECT embed_for(30)" 2>&1 | tail -1)
ms=$((($(date +%s%N) - start) / 1000000))
if [ "$out" = "ERROR:  57014" ] && [ "$ms" -lt 10000 ]; then
	ok "statement_timeout cancels a long embedding with 57014 (after $ms ms)"
else
	notok "statement_timeout on an embedding: '$out' after $ms ms"
fi

# 8. pg_cancel_backend from another session cancels it with 57014
start=$(date +%s%N)
PGAPPNAME=cancelled psql -X -q -At -v VERBOSITY=sqlstate -c "SELECT embed_for(30)" >"$MRL_TMP_DUMPS" 2>&1 &
cancel_after cancelled 1
wait
ms=$((($(date +%s%N) - start) / 1000000))
out=$(tail -1 "$MRL_TMP_DUMPS")
if [ "$out" = "ERROR:  57014" ] && [ "$ms" -lt 10000 ]; then
	ok "pg_cancel_backend cancels a long embedding with 57014 (after $ms ms)"
else
	notok "pg_cancel_backend on an embedding: '$out' after $ms ms"
fi
