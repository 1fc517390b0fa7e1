#!/usr/bin/env bash
# 43_models_travel.sh: stored models are data of the database, so they go
# wherever its data goes, and the extension's files follow:
#  - a stored model holds the files the loader reads (not the rest of its
#    directory), under the SHA-256 of their sha256sum manifest (computed
#    here with Python's hashlib);
#  - a streaming standby made before a model was trained embeds with it,
#    writing its own copy of the files;
#  - a dump restored into a second cluster (its own data directory and
#    port) embeds identically, with the owner role and a granted role
#    missing there (WARNINGs, registration kept, owned by the restoring
#    user); a model registered by path does not travel;
#  - the same dump restored into a second database of one server: each
#    database has its own copy, and unregistering in one never touches the
#    other's files or rows;
#  - DROP EXTENSION, from a session that never loaded mrl.so, leaves no
#    file (the data directory listed before and after), also when the
#    extension goes with its schema; a dropped database's files go at the
#    next sweep;
#  - ALTER EXTENSION UPDATE from 0.1.0 keeps registrations, roles by name;
#  - a logical replica of mrl_models and mrl_model_data embeds with the
#    models the publisher trains.
# Runs its own clusters: a primary, a standby and a second cluster.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

if [ -z "${PGHOST:-}" ]; then
	mrl_build_install || { notok "build and install the extension"; exit 1; }
fi
MRL_PORT=$((40000 + RANDOM % 20000)) mrl_cluster_start "wal_level = logical" || { notok "start a cluster"; exit 1; }
primary_port=$PGPORT
standby_port=$((primary_port + 1))
second_port=$((primary_port + 2))

# conf DIR PORT: make the cluster in DIR listen on PORT in $MRL_TMP only
conf()
{
	printf "port = %s\nunix_socket_directories = '%s'\nlisten_addresses = ''\nshared_buffers = 32MB\nfsync = off\n" \
		"$2" "$MRL_TMP" >>"$1/postgresql.conf"
}
start() { mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$MRL_TMP/$1" -l "$MRL_TMP/$1.log" -w start >/dev/null; }
stop() { mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$MRL_TMP/$1" -m fast -w stop >/dev/null 2>&1; }
trap 'stop standby; stop second; mrl_cluster_stop' EXIT
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
# try: statements from stdin past errors: non-empty result lines and the
# errors' SQLSTATEs, on one line
try() { psql -X -q -At -v VERBOSITY=sqlstate "$@" 2>&1 | sed -e '/^$/d' -e 's/^ERROR: *//' | tr '\n' ' '; }
# vectors PORT DB MODEL: the model's vectors of a few texts, as text
vectors()
{
	sql -p "$1" -d "$2" -c "SELECT string_agg(mrl_embed(t, '$3')::text, ' ' ORDER BY t)
		FROM unnest(ARRAY['zqab part', 'spare part number 7', 'the quick brown fox']) t"
}
dboid() { sql -p "$1" -c "SELECT oid FROM pg_database WHERE datname = '$2'"; }

# the operator's model files: tiny-bert, with files the loader does not read
ops=$MRL_TMP/operator
mkdir -p "$ops" && /usr/bin/python3 test/encoder/make_tiny_models.py "$ops" >/dev/null &&
	head -c 2000000 /dev/urandom >"$ops/tiny-bert/pytorch_model.bin" &&
	mkdir -p "$ops/tiny-bert/onnx" && head -c 1000000 /dev/urandom >"$ops/tiny-bert/onnx/model.onnx" &&
	chmod -R a+rX "$ops" || { notok "make the tiny models"; exit 1; }

sql >/dev/null <<SQL || { notok "set up the primary"; exit 1; }
SET client_min_messages = warning;
CREATE DATABASE travel;
CREATE ROLE trainer;
GRANT pg_write_server_files TO trainer;
CREATE ROLE reader_role;
CREATE ROLE ghost_reader;
\c travel
CREATE EXTENSION mrl;
CREATE TABLE pairs AS
	SELECT 'zq' || chr(97 + i % 26) || chr(97 + (i / 26) % 26) || ' part' AS code,
		'spare part number ' || i AS descr
	FROM generate_series(1, 60) i;
GRANT SELECT ON pairs TO trainer;
SQL

# 1. a stored model holds what the loader reads, under the hash of its manifest
sql -d travel -c "SET client_min_messages = warning" \
	-c "SELECT mrl_register_model('tb_stored', '$ops/tiny-bert', store => true)" \
	-c "SELECT mrl_register_model('tb_path', '$ops/tiny-bert')" >/dev/null
reference=$(cd "$ops/tiny-bert" && /usr/bin/python3 -c '
import hashlib, sys
names = sorted(sys.argv[1:], key=lambda n: n.encode())
manifest = "".join(hashlib.sha256(open(n, "rb").read()).hexdigest() + "  " + n + "\n" for n in names)
print(" ".join(names), hashlib.sha256(manifest.encode()).hexdigest())
' 1_Pooling/config.json config.json model.safetensors modules.json tokenizer.json)
stored=$(sql -d travel -c "SELECT string_agg(file, ' ' ORDER BY file COLLATE \"C\") || ' ' ||
	(SELECT sha256 FROM mrl_models WHERE name = 'tb_stored')
	FROM (SELECT DISTINCT file FROM mrl_model_data WHERE model = 'tb_stored') f")
check "a stored directory holds the files the loader reads (not pytorch_model.bin, onnx/, vocab.txt), hashed as sha256sum's manifest" \
	"$stored" "$reference"
check "the stored model and the same files by path give the same vectors" \
	"$(vectors "$primary_port" travel tb_stored)" "$(vectors "$primary_port" travel tb_path)"

# 2. a standby made now, before the model below is trained
mrl_as_owner "$PG_BINDIR/pg_basebackup" -h "$PGHOST" -p "$primary_port" -U "$PGUSER" -D "$MRL_TMP/standby" \
	-R -X stream -c fast >"$MRL_TMP/basebackup.log" 2>&1 && conf "$MRL_TMP/standby" "$standby_port" &&
	start standby || { notok "make a streaming standby"; cat "$MRL_TMP/basebackup.log"; exit 1; }

# a model trained on the primary by a role that the second cluster lacks,
# granted to a role that exists there and to one that does not
sha=$(sql -d travel <<'SQL' | tail -1
SET client_min_messages = warning;
SET ROLE trainer;
SELECT sha256 FROM mrl_train('t1', $$SELECT code, descr FROM pairs$$, dims => '{8,16}', base => NULL, batch_size => 16);
SELECT mrl_grant_model('t1', 'reader_role');
SELECT mrl_grant_model('t1', 'ghost_reader');
RESET ROLE;
REVOKE SELECT ON pairs FROM trainer;
SELECT sha256 FROM mrl_models WHERE name = 't1';
SQL
)
t1=$(vectors "$primary_port" travel t1)
tb=$(vectors "$primary_port" travel tb_stored)
lsn=$(sql -c "SELECT pg_current_wal_lsn()")
for i in $(seq 1 100); do
	[ "$(sql -p "$standby_port" -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ] && break
	sleep 0.2
done
standby_dir=$MRL_TMP/standby/mrl_models/$(dboid "$standby_port" travel)
short=${sha:0:16}
check "a standby made before the training embeds with the trained model as the primary does" \
	"$(vectors "$standby_port" travel t1)" "$t1"
check "... and with a model stored there before, from its own copy of the files" \
	"$(vectors "$standby_port" travel tb_stored)|$([ -d "$standby_dir/$short/model" ] && echo built)" "$tb|built"

# 3. a dump restored into a second cluster, where the operator's files, the
# owner role and one granted role are missing
"$PG_BINDIR/pg_dump" -Fc -d travel -f "$MRL_TMP/travel.dump" || { notok "pg_dump"; exit 1; }
mv "$ops" "$ops.gone"
mrl_as_owner "$PG_BINDIR/initdb" -A trust -U "$MRL_OWNER" -D "$MRL_TMP/second" >"$MRL_TMP/second.initdb.log" 2>&1 &&
	conf "$MRL_TMP/second" "$second_port" && start second || { notok "start a second cluster"; exit 1; }
sql -p "$second_port" -c "CREATE ROLE reader_role" -c "CREATE DATABASE travel" >/dev/null
listing_before=$(ls -A "$MRL_TMP/second")
"$PG_BINDIR/pg_restore" -v -p "$second_port" -d travel "$MRL_TMP/travel.dump" >"$MRL_TMP/restore.log" 2>&1
rc=$?
# pg_restore shows the server's warnings with -v only; the server logs them
warnings=$(cat "$MRL_TMP/restore.log" "$MRL_TMP/second.log" |
	grep -c -e 'WARNING:  owner role "trainer" of model "t1" does not exist' \
	-e 'WARNING:  roles allowed to use model "t1" do not exist: "ghost_reader"')
check "pg_restore into a second cluster succeeds, warning (client and server log) about the missing owner and grantee" \
	"$rc $warnings $(sql -p "$second_port" -d travel -c "SELECT count(*) FROM mrl_models")" "0 4 3"
check "the registration is kept, owned by the restoring user, granted to the role that exists" \
	"$(sql -p "$second_port" -d travel -c "SELECT owner, usable_by FROM mrl_models WHERE name = 't1'")" \
	"$MRL_OWNER|{reader_role}"
check "the second cluster embeds identically with the trained and the stored model" \
	"$(vectors "$second_port" travel t1)|$(vectors "$second_port" travel tb_stored)" "$t1|$tb"
check "a model registered by path does not travel: its files are the operator's" \
	"$(try -p "$second_port" -d travel <<<"SELECT mrl_embed('x', 'tb_path')")" "58P01 "

# 4. the same dump restored into a second database of the primary: each
# database writes its own copy, and unregistering in one leaves the other's
sql -c "CREATE DATABASE travel2" && "$PG_BINDIR/pg_restore" -d travel2 "$MRL_TMP/travel.dump" 2>/dev/null
vectors "$primary_port" travel2 t1 >/dev/null
dir1=$PGDATA/mrl_models/$(dboid "$primary_port" travel)
dir2=$PGDATA/mrl_models/$(dboid "$primary_port" travel2)
both=$([ -d "$dir1/$short/model" ] && [ -d "$dir2/$short/model" ] && echo both)
rows() { sql -d "$1" -c "SELECT count(*) FROM mrl_model_data WHERE model = 't1'"; }
rows1=$(rows travel)
sql -d travel2 -c "SELECT mrl_unregister_model('t1')" >/dev/null
check "two databases, one model each: unregistering it in one removes that database's copy and rows only" \
	"$both|$([ -e "$dir2/$short" ] && echo left)|$(rows travel2)|$(rows travel)|$(vectors "$primary_port" travel t1)" \
	"both||0|$rows1|$t1"
# a dropped database's directory goes at the next sweep (any database's
# mrl_train or mrl_unregister_model): the session that dropped it never
# loaded mrl.so
sql -c "DROP DATABASE travel2"
left=$([ -d "$dir2" ] && echo left)
sql -d travel -c "SELECT mrl_unregister_model('tb_path')" >/dev/null
check "a dropped database's files are removed by the next sweep" "$left $([ -e "$dir2" ] && echo still)" "left "

# 5. DROP EXTENSION from a fresh session (mrl.so never loaded in it) leaves
# nothing of the extension in the data directory
sql -p "$second_port" -d travel -c "DROP EXTENSION mrl CASCADE" >/dev/null 2>&1
check "DROP EXTENSION in a fresh session leaves the data directory's entries as before the restore" \
	"$(ls -A "$MRL_TMP/second")|$(find "$MRL_TMP/second" -name 'mrl*')" "$listing_before|"
sql -p "$second_port" -d travel -c "SET client_min_messages = warning" -c "CREATE SCHEMA s" \
	-c "CREATE EXTENSION mrl SCHEMA s" -c "SELECT s.mrl_dims(s.mrl_embed('x'))" >/dev/null
made=$([ -d "$MRL_TMP/second/mrl_models" ] && echo made)
sql -p "$second_port" -d travel -c "SET client_min_messages = warning" -c "DROP SCHEMA s CASCADE" >/dev/null
check "DROP SCHEMA ... CASCADE of the extension's schema removes its files too" \
	"$made|$(find "$MRL_TMP/second" -name 'mrl*')" "made|"

# 6. ALTER EXTENSION UPDATE from 0.1.0 keeps registrations: roles by name
out=$(sql -p "$second_port" 2>&1 <<SQL
SET client_min_messages = warning;
CREATE DATABASE upgraded;
\c upgraded
CREATE EXTENSION mrl VERSION '0.1.0';
-- a registration made by 0.1.0 (whose functions need 0.1.0's mrl.so)
INSERT INTO mrl_models (name, path, arch, dims, vocab, layers, max_tokens, size_bytes, owner, usable_by)
	VALUES ('ts', '$ops.gone/tiny-static', 'static', 64, 200, 0, 0, 1, '$MRL_OWNER', '{reader_role}');
ALTER EXTENSION mrl UPDATE;
SELECT owner, usable_by, path IS NOT NULL, sha256 IS NULL, mrl_dims(mrl_embed('x', name)) FROM mrl_models;
SQL
)
check "ALTER EXTENSION mrl UPDATE from 0.1.0 keeps a registration, owner and grants as role names" \
	"$(echo "$out" | tail -1)" "$MRL_OWNER|{reader_role}|t|t|64"

# 7. logical replication of the two tables: the subscriber embeds with a
# model trained on the publisher after the subscription started
sql -d travel -c "CREATE PUBLICATION models FOR TABLE mrl_models, mrl_model_data" >/dev/null
sql -p "$second_port" -c "CREATE DATABASE sub" >/dev/null
sql -p "$second_port" -d sub -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" \
	-c "CREATE SUBSCRIPTION models CONNECTION 'host=$MRL_TMP port=$primary_port dbname=travel user=$PGUSER' PUBLICATION models" \
	>/dev/null 2>&1 || notok "subscribe"
sql -d travel -c "SET client_min_messages = warning" \
	-c "SELECT mrl_train('t2', \$\$SELECT code, descr FROM pairs\$\$, dims => '{8}', base => NULL, batch_size => 16, seed => 2)" >/dev/null
t2=$(vectors "$primary_port" travel t2)
# (a transaction is applied whole: its registration comes with its rows)
for i in $(seq 1 150); do
	[ "$(sql -p "$second_port" -d sub -c "SELECT count(*) FROM mrl_models WHERE name = 't2'")" = 1 ] && break
	sleep 0.2
done
check "a logical replica of mrl_models and mrl_model_data embeds with a model trained after it subscribed" \
	"$(vectors "$second_port" sub t2)|$(vectors "$second_port" sub tb_stored)" "$t2|$tb"
sql -p "$second_port" -d sub -c "DROP SUBSCRIPTION models" >/dev/null 2>&1
