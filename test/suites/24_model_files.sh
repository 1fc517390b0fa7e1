#!/usr/bin/env bash
# 24_model_files.sh: the files of trained models follow the transactions that
# create and unregister them (savepoints and PL/pgSQL exception blocks are
# in sql/train.sql):
#  - PREPARE TRANSACTION is refused while a model's files are pending, and
#    allowed for registry changes that touch no file;
#  - a copied database's rows do not own the original's files;
#  - another session's sweep keeps an uncommitted training's directory;
#  - crashes (pg_ctl stop -m immediate) before mrl_train or
#    mrl_unregister_model commits, and a removal missed after the commit:
#    the next sweep leaves every row with its files and no directory
#    without an owner;
#  - sweeps never remove a directory only because no row refers to it.
# Runs its own cluster (max_prepared_transactions, crashes).
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
train() { echo "SET client_min_messages = warning; SELECT path FROM mrl_train('$1', \$\$SELECT code, descr FROM pairs\$\$, dims => '{8}', base => NULL, batch_size => 16);"; }
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

# 4. PREPARE TRANSACTION after mrl_train is refused, and the new directory goes
dbdir=$PGDATA/mrl_models/$(sql -c "SELECT oid FROM pg_database WHERE datname = current_database()")
dirs() { ls "$dbdir" | sort; }
before=$(dirs)
out=$(try <<SQL
BEGIN;
$(train m4)
PREPARE TRANSACTION 'p4';
SELECT count(*) FROM mrl_models WHERE name = 'm4';
SQL
)
if [ "$(echo "$out" | cut -d' ' -f2-)" = "0A000 0 " ] && [ "$(dirs)" = "$before" ]; then
	ok "PREPARE TRANSACTION after mrl_train fails with 0A000 and leaves no directory"
else
	notok "PREPARE after mrl_train: $out; directories before: $before; after: $(dirs)"
fi
try <<<"ROLLBACK PREPARED 'p4'" >/dev/null

# 5. another session's sweep never removes the directory of a training that
# has not committed yet: session A trains and, before committing, runs
# session B's mrl_train (which sweeps)
train m5b >"$MRL_TMP/m5b.sql"
out=$(try <<SQL
BEGIN;
$(train m5a)
\! psql -X -q -At -f $MRL_TMP/m5b.sql >/dev/null
COMMIT;
SELECT count(*) FROM mrl_models WHERE name IN ('m5a', 'm5b');
SELECT count(*) FROM mrl_models WHERE (pg_stat_file(path, true)).modification IS NULL;
SQL
)
path=$(echo "$out" | cut -d' ' -f1)
if [ "$(echo "$out" | cut -d' ' -f2-)" = "2 0 " ] && [ -d "$path" ]; then
	ok "a sweep by another session keeps the directory of an uncommitted training"
else
	notok "concurrent sweep: $out"
fi

# 6. a crash between writing a trained model and committing: the directory is
# left, nothing refers to it, and the next mrl_train of the database removes
# it; whether or not WAL recorded the transaction's id before the crash (a
# CHECKPOINT in the transaction flushes it)
crash="$MRL_TMP/crash.sh"
if [ "$(id -u)" -eq 0 ]; then
	echo "runuser -u $MRL_OWNER -- $PG_BINDIR/pg_ctl -D $PGDATA -m immediate -w stop" >"$crash"
else
	echo "$PG_BINDIR/pg_ctl -D $PGDATA -m immediate -w stop" >"$crash"
fi
restart() { mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA" -l "$MRL_TMP/server.log" -w start >/dev/null; }
for flush in "" "CHECKPOINT;"; do
	out=$(psql -X -q -At 2>/dev/null <<SQL
BEGIN;
$(train m6)
$flush
\! bash $crash >/dev/null
SQL
)
	restart
	path=$(echo "$out" | grep /mrl_models/ | tail -1)
	left=$([ -n "$path" ] && [ -d "$path" ] && echo left)
	registered=$(sql -c "SELECT count(*) FROM mrl_models WHERE name = 'm6'")
	sql -c "$(train m6b)" -c "SELECT mrl_unregister_model('m6b')" >/dev/null
	if [ "$left" = left ] && [ "$registered" = 0 ] && [ ! -e "$path" ]; then
		ok "a directory written by a transaction that crashed is removed by the next mrl_train (${flush:-no flush})"
	else
		notok "crash during mrl_train (${flush:-no flush}): path '$path' (${left:-not left}), registered $registered, after next train: $(ls -d "$path" 2>&1)"
	fi
done

# 7. a crash after mrl_unregister_model, before its commit: row and files stay,
# the model still works after the next sweep, and its marker is gone
for flush in "" "CHECKPOINT;"; do
	path=$(sql -c "$(train m6b)" | tail -1)
	psql -X -q -At >/dev/null 2>&1 <<SQL
BEGIN;
SELECT mrl_unregister_model('m6b');
$flush
\! bash $crash >/dev/null
SQL
	restart
	marker=$(ls "$path".unregistered-* 2>/dev/null)
	sql -c "$(train m7)" >/dev/null
	dims=$(try <<<"SELECT mrl_dims(mrl_embed('x', 'm6b'))")
	if [ -n "$marker" ] && [ "$dims" = "8 " ] && [ -d "$path" ] && [ ! -e "$marker" ]; then
		ok "a crash before an unregistration commits keeps the model and its files (${flush:-no flush})"
	else
		notok "crash during mrl_unregister_model (${flush:-no flush}): marker '$marker', embeds '$dims', now $(ls -d "$path"* 2>&1)"
	fi
	[ -z "$flush" ] && sql -c "SELECT mrl_unregister_model('m6b')" -c "SELECT mrl_unregister_model('m7')" >/dev/null
done

# 8. the removal after a committed unregistration did not happen (here the
# model's directory could not be written; a crash at that point leaves the
# same state): its marker stays, and the next sweep removes both
path=$(sql -c "SELECT path FROM mrl_models WHERE name = 'm7'")
chmod a-w "$path"
try <<<"SELECT mrl_unregister_model('m7')" >/dev/null
chmod u+w "$path"
left=$([ -d "$path" ] && ls "$path".unregistered-* >/dev/null 2>&1 && echo left)
sql -c "$(train m8)" >/dev/null
if [ "$left" = left ] && [ ! -e "$path" ] && [ -z "$(ls "$path".* 2>/dev/null)" ] &&
	[ "$(sql -c "SELECT count(*) FROM mrl_models WHERE name = 'm7'")" = 0 ]; then
	ok "a directory left after its unregistration committed is removed by the next sweep, with its marker"
else
	notok "leftover of a committed unregistration: ${left:-not left}; now $(ls -d "$path"* 2>&1)"
fi

# no registered trained model points at missing files, and no directory is
# left that no row owns
missing=$(sql -c "SELECT count(*) FROM mrl_models WHERE owns_files AND (pg_stat_file(path, true)).modification IS NULL")
owned=$(sql -c "SELECT count(*) FROM mrl_models WHERE owns_files")
if [ "$missing" = 0 ] && [ "$(ls "$dbdir" | wc -l)" = "$owned" ]; then
	ok "after all this: every owned row has its files, every directory an owner ($owned)"
else
	notok "end state: $missing rows without files, $(ls "$dbdir" | wc -l) directories for $owned owned rows"
fi

# 9. a sweep never removes a directory only because no row refers to it (a
# row deleted by hand, DROP EXTENSION before a restore): a dump restored
# into the same database finds its files
path=$(sql -c "SELECT path FROM mrl_models WHERE name = 'm8'")
sql -c "CREATE TABLE saved AS SELECT * FROM mrl_models" -c "DELETE FROM mrl_models WHERE name = 'm8'" \
	-c "DROP EXTENSION mrl" -c "CREATE EXTENSION mrl" -c "$(train m9)" \
	-c "SELECT mrl_unregister_model('m9')" >/dev/null
kept=$([ -d "$path" ] && echo kept)
sql -c "INSERT INTO mrl_models SELECT * FROM saved WHERE name = 'm8'" >/dev/null
dims=$(try <<<"SELECT mrl_dims(mrl_embed('x', 'm8'))")
if [ "$kept" = kept ] && [ "$dims" = "8 " ]; then
	ok "directories without a row are kept by sweeps (row deleted by hand, DROP EXTENSION), usable when the row is restored"
else
	notok "directory without a row: ${kept:-removed}; restored model embeds: $dims"
fi
