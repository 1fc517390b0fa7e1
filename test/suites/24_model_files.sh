#!/usr/bin/env bash
# 24_model_files.sh: the files under $PGDATA/mrl_models/<database oid>/ are a
# cache of the models stored in the database, in step with the transactions
# (savepoints and PL/pgSQL exception blocks are in sql/train.sql):
#  - PREPARE TRANSACTION is refused while file work is pending, and allowed
#    for registry changes that touch no file;
#  - a copied database builds its own copy and never removes the original's;
#  - another session's sweep keeps an uncommitted training's build;
#  - crashes (pg_ctl stop -m immediate) before mrl_train or
#    mrl_unregister_model commits, and a removal missed after the commit:
#    the next sweep leaves every stored model usable and no directory that
#    nothing needs;
#  - a copy removed by hand is written again from the table, also by eight
#    sessions at once, and a damaged table is refused by its hash.
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
# train NAME [SEED]: a small model from scratch (8 dims), quick to write;
# prints the name of its directory (the first 16 hex digits of its hash)
train() { echo "SET client_min_messages = warning; SELECT left(sha256, 16) FROM mrl_train('$1', \$\$SELECT code, descr FROM pairs\$\$, dims => '{8}', base => NULL, batch_size => 16, seed => ${2:-42});"; }
dbdir=$PGDATA/mrl_models/$(sql -c "SELECT oid FROM pg_database WHERE datname = current_database()")
# entries: what the database's directory holds, one line
entries() { ls -A "$dbdir" | sort | tr '\n' ' '; }

# 1. PREPARE TRANSACTION after mrl_unregister_model of a stored model is
# refused (the removal would be left to whichever session commits next)
sha=$(sql -c "$(train m1 1)" | tail -1)
out=$(try <<'SQL'
BEGIN;
SELECT mrl_unregister_model('m1');
PREPARE TRANSACTION 'p1';
SELECT count(*) FROM mrl_models WHERE name = 'm1';
SELECT count(*) FROM pg_prepared_xacts;
SQL
)
if [ "$out" = "0A000 1 0 " ] && [ -d "$dbdir/$sha" ]; then
	ok "PREPARE TRANSACTION after unregistering a stored model fails with 0A000; model and files kept"
else
	notok "PREPARE after unregister: $out; on disk: $(entries)"
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
check "a grant (no file work) can be prepared and committed" "$out" "t "

# 3. a copy of the database (CREATE DATABASE ... TEMPLATE) writes its own
# copy of the model's files when it first uses it, and unregistering the
# model there removes that copy only
sha=$(sql -c "$(train m3 3)" | tail -1)
sql -d template1 -c "CREATE DATABASE copy_db TEMPLATE postgres" >/dev/null
copydir=$PGDATA/mrl_models/$(sql -c "SELECT oid FROM pg_database WHERE datname = 'copy_db'")
out=$(try -d copy_db <<<"SELECT mrl_dims(mrl_embed('x', 'm3'))")
built=$([ -d "$copydir/$sha/model" ] && echo built)
out=$out$(try -d copy_db <<<"SELECT mrl_unregister_model('m3')")
dims=$(try <<<"SELECT mrl_dims(mrl_embed('x', 'm3'))")
if [ "$out" = "8 " ] && [ "$built" = built ] && [ ! -e "$copydir/$sha" ] && [ -d "$dbdir/$sha" ] &&
	[ "$dims" = "8 " ]; then
	ok "a copied database writes its own copy of a stored model; unregistering it there keeps the original's"
else
	notok "copied database: $out; copy ${built:-not built}, then $(ls -A "$copydir" | tr '\n' ' '); original: $(entries) embeds: $dims"
fi
sql -c "DROP DATABASE copy_db"

# 4. PREPARE TRANSACTION after mrl_train is refused, and its build goes
before=$(entries)
out=$(try <<SQL
BEGIN;
$(train m4 4)
PREPARE TRANSACTION 'p4';
SELECT count(*) FROM mrl_models WHERE name = 'm4';
SQL
)
if [ "$(echo "$out" | cut -d' ' -f2-)" = "0A000 0 " ] && [ "$(entries)" = "$before" ]; then
	ok "PREPARE TRANSACTION after mrl_train fails with 0A000 and leaves no directory"
else
	notok "PREPARE after mrl_train: $out; directories before: $before; after: $(entries)"
fi
try <<<"ROLLBACK PREPARED 'p4'" >/dev/null

# 5. another session's sweep never removes the build of a training that has
# not committed yet: session A trains and, before committing, runs session
# B's mrl_train (which sweeps); A's model is in place after its commit
train m5b 52 >"$MRL_TMP/m5b.sql"
out=$(try <<SQL
BEGIN;
$(train m5a 51)
\! psql -X -q -At -f $MRL_TMP/m5b.sql >/dev/null
COMMIT;
SELECT count(*) FROM mrl_models WHERE name IN ('m5a', 'm5b');
SQL
)
sha=$(echo "$out" | cut -d' ' -f1)
if [ "$(echo "$out" | cut -d' ' -f2-)" = "2 " ] && [ -d "$dbdir/$sha/model" ]; then
	ok "a sweep by another session keeps the build of an uncommitted training"
else
	notok "concurrent sweep: $out; $(entries)"
fi

# 6. a crash between writing a trained model and committing: its build is
# left, nothing refers to it, and the next mrl_train of the database removes
# it (its writer's lock is gone); whether or not WAL recorded the
# transaction before the crash (a CHECKPOINT in the transaction flushes it)
crash="$MRL_TMP/crash.sh"
if [ "$(id -u)" -eq 0 ]; then
	echo "runuser -u $MRL_OWNER -- $PG_BINDIR/pg_ctl -D $PGDATA -m immediate -w stop" >"$crash"
else
	echo "$PG_BINDIR/pg_ctl -D $PGDATA -m immediate -w stop" >"$crash"
fi
restart() { mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA" -l "$MRL_TMP/server.log" -w start >/dev/null; }
for flush in "" "CHECKPOINT;"; do
	psql -X -q -At >/dev/null 2>&1 <<SQL
BEGIN;
$(train m6 6)
$flush
\! bash $crash >/dev/null
SQL
	restart
	left=$(ls -A "$dbdir" | grep -c '^\.build-')
	registered=$(sql -c "SELECT count(*) FROM mrl_models WHERE name = 'm6'")
	sql -c "$(train m6b 61)" -c "SELECT mrl_unregister_model('m6b')" >/dev/null
	if [ "$left" = 1 ] && [ "$registered" = 0 ] && ! ls -A "$dbdir" | grep -q '^\.'; then
		ok "the build of a training that crashed is removed by the next mrl_train (${flush:-no flush})"
	else
		notok "crash during mrl_train (${flush:-no flush}): $left builds left, registered $registered, after next train: $(entries)"
	fi
done

# 7. a crash after mrl_unregister_model, before its commit: the model and
# its files stay, and it still works after the next sweep
for flush in "" "CHECKPOINT;"; do
	sha=$(sql -c "$(train m7 7)" | tail -1)
	psql -X -q -At >/dev/null 2>&1 <<SQL
BEGIN;
SELECT mrl_unregister_model('m7');
$flush
\! bash $crash >/dev/null
SQL
	restart
	sql -c "$(train m7b 71)" >/dev/null
	dims=$(try <<<"SELECT mrl_dims(mrl_embed('x', 'm7'))")
	if [ "$dims" = "8 " ] && [ -d "$dbdir/$sha/model" ]; then
		ok "a crash before an unregistration commits keeps the model and its files (${flush:-no flush})"
	else
		notok "crash during mrl_unregister_model (${flush:-no flush}): embeds '$dims', now $(entries)"
	fi
	sql -c "SELECT mrl_unregister_model('m7')" -c "SELECT mrl_unregister_model('m7b')" >/dev/null
done

# 8. the removal after a committed unregistration did not happen (here the
# database's directory could not be written; a crash at that point leaves
# the same state): the next sweep removes the files nothing refers to
sha=$(sql -c "$(train m8 8)" | tail -1)
chmod a-w "$dbdir"
try <<<"SELECT mrl_unregister_model('m8')" >/dev/null
chmod u+w "$dbdir"
left=$([ -d "$dbdir/$sha" ] && echo left)
sql -c "$(train m8b 81)" >/dev/null
if [ "$left" = left ] && [ ! -e "$dbdir/$sha" ] &&
	[ "$(sql -c "SELECT count(*) FROM mrl_models WHERE name = 'm8'")" = 0 ]; then
	ok "files left after their unregistration committed are removed by the next sweep"
else
	notok "leftover of a committed unregistration: ${left:-not left}; now $(entries)"
fi

# 9. the files are only a copy: removed by hand, they are written again from
# the table, the same bytes (the hash is checked); a damaged table is
# refused (XX001) and leaves nothing behind
sha=$(sql -c "SELECT left(sha256, 16) FROM mrl_models WHERE name = 'm8b'")
before=$(sql -c "SELECT mrl_embed('zqab part', 'm8b')")
rm -rf "${dbdir:?}/$sha"
after=$(sql -c "SELECT mrl_embed('zqab part', 'm8b')")
check "a stored model's files removed by hand are written again from the table, same vector" \
	"$([ -d "$dbdir/$sha/model" ] && echo "$after")" "$before"
rm -rf "${dbdir:?}/$sha"
sql -c "UPDATE mrl_model_data SET data = set_byte(data, 100, get_byte(data, 100) # 1)
	WHERE model = 'm8b' AND file = 'modules.json'" >/dev/null
out=$(try <<<"SELECT mrl_embed('zqab part', 'm8b')")
check "a stored model whose rows were changed is refused by its hash, and leaves no files" \
	"$out$([ -e "$dbdir/$sha" ] && echo ' left')$(ls -A "$dbdir" | grep '^\.')" "XX001 "

# 10. backends writing the same copy at once: a copy of the built-in model
# (21 MB) stored, its files removed, then eight sessions, started a few
# milliseconds apart, embed with it together, three times; each writes its
# own build, the first rename wins, the others drop theirs, and a session's
# sweep never takes another's build or removal for a leftover (a build swept
# between its mkdir and its lock failed 2 of 150 sessions under load)
sql -c "SELECT mrl_register_model('builtin_copy', (SELECT path FROM mrl_model_info WHERE name = 'mrl-default'), store => true)" >/dev/null
sha=$(sql -c "SELECT left(sha256, 16) FROM mrl_models WHERE name = 'builtin_copy'")
expected=$(sql -c "SELECT mrl_embed('zqab part')")
same=0
for round in 1 2 3; do
	rm -rf "${dbdir:?}/$sha"
	pids=()
	for i in 1 2 3 4 5 6 7 8; do
		(sleep "0.0$((RANDOM % 10))"
			sql -c "SELECT mrl_embed('zqab part', 'builtin_copy')" >"$MRL_TMP/together$i.out" 2>&1) &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in 1 2 3 4 5 6 7 8; do
		if [ "$(cat "$MRL_TMP/together$i.out")" = "$expected" ]; then
			same=$((same + 1))
		else
			sed "s/^/# round $round, session $i: /" "$MRL_TMP/together$i.out" | cut -c1-300
		fi
	done
done
check "eight sessions writing one stored model's copy at once (three times) all embed as the original, leaving one copy" \
	"$same|$([ -d "$dbdir/$sha/model" ] && echo copy)|$(ls -A "$dbdir" | grep '^\.')" "24|copy|"
sql -c "SELECT mrl_unregister_model('builtin_copy')" >/dev/null

# every stored model's files are in place or buildable, and nothing is left
# that no model needs
sql -c "SELECT mrl_unregister_model('m8b')" -c "SELECT mrl_dims(mrl_embed('x', name)) FROM mrl_models" >/dev/null
expected=$( (echo converted; sql -c "SELECT DISTINCT left(sha256, 16) FROM mrl_models") | sort | tr '\n' ' ')
check "after all this: the directory holds one copy per stored model and nothing else" "$(entries)" "$expected"
