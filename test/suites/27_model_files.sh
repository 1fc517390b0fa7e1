#!/usr/bin/env bash
# 27_model_files.sh: the files of trained models follow the transactions that
# create and unregister them:
#  - PREPARE TRANSACTION is refused while a model's files are pending, and
#    allowed for registry changes that touch no file;
#  - a copied database's rows do not own the original's files.
# Runs its own cluster (max_prepared_transactions).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

if [ -z "${PGHOST:-}" ]; then
	mrl_build_install || { notok "build and install the extension"; exit 1; }
fi
MRL_PORT=$((40000 + RANDOM % 20000)) mrl_cluster_start "max_prepared_transactions = 4" ||
	{ notok "start a cluster"; exit 1; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# try: run statements from stdin past errors; prints the non-empty result
# lines and the errors' SQLSTATEs on one line
try() { psql -X -q -At -v VERBOSITY=sqlstate "$@" 2>&1 | sed -e '/^$/d' -e 's/^ERROR: *//' | tr '\n' ' '; }

sql >/dev/null <<'SQL' || { notok "create the extension and the training pairs"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION mrl;
CREATE TABLE pairs AS
	SELECT 'zq' || chr(97 + i % 26) || chr(97 + (i / 26) % 26) || ' part' AS code,
		'spare part number ' || i AS descr
	FROM generate_series(1, 60) i;
SQL
# train NAME: a small model from scratch (8 dims), quick to write
train() { echo "SET client_min_messages = warning; SELECT path FROM mrl_train('$1', \$\$SELECT code, descr FROM pairs\$\$, dims => '{8}', base => NULL, batch_size => 16)"; }
# on_disk PATH: t if the directory exists
on_disk() { sql -c "SELECT (pg_stat_file('$1', true)).modification IS NOT NULL"; }

# 1. PREPARE TRANSACTION after mrl_unregister_model of a trained model is
# refused (the files would be left to whichever session commits next)
path=$(sql -c "$(train m1)" | tail -1)
out=$(try <<'SQL'
BEGIN;
SELECT mrl_unregister_model('m1');
PREPARE TRANSACTION 'p1';
SELECT count(*) FROM mrl_models WHERE name = 'm1';
SELECT count(*) FROM pg_prepared_xacts;
SQL
)
if [ "$out" = "0A000 1 0 " ] && [ "$(on_disk "$path")" = t ]; then
	ok "PREPARE TRANSACTION after unregistering a trained model fails with 0A000; model and files kept"
else
	notok "PREPARE after unregister: $out; on disk: $(on_disk "$path")"
fi
try <<<"ROLLBACK PREPARED 'p1'" >/dev/null

# 2. registry changes without file work may be prepared
out=$(try <<'SQL'
BEGIN;
SELECT mrl_grant_model('m1', 'public');
PREPARE TRANSACTION 'p2';
COMMIT PREPARED 'p2';
SELECT public FROM mrl_models WHERE name = 'm1';
SQL
)
if [ "$out" = "t " ]; then
	ok "a grant (no file work) can be prepared and committed"
else
	notok "prepared grant: $out"
fi

# 3. a copy of the database (CREATE DATABASE ... TEMPLATE) has the trained
# model's row but does not own its files: unregistering it there keeps them
path=$(sql -c "$(train m3)" | tail -1)
sql -d template1 -c "CREATE DATABASE copy_db TEMPLATE postgres" >/dev/null
out=$(try -d copy_db <<<"SELECT owns_files FROM mrl_models WHERE name = 'm3'; SELECT mrl_unregister_model('m3')")
dims=$(try <<<"SELECT mrl_dims(mrl_embed('x', 'm3'))")
if [ "$out" = "t " ] && [ "$(on_disk "$path")" = t ] && [ "$dims" = "8 " ]; then
	ok "unregistering a trained model in a copied database keeps the original's files"
else
	notok "unregister in a copied database: $out; on disk $(on_disk "$path"); original embeds: $dims"
fi
sql -c "DROP DATABASE copy_db"
