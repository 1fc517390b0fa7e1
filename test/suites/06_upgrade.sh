#!/usr/bin/env bash
# 06_upgrade.sh: every release changes the SQL only through upgrade scripts.
# For each released version (a committed sql/mrl--X.sql), a fresh database
# installs it and updates to mrl.control's default_version (ALTER EXTENSION
# mrl UPDATE, through the sql/mrl--A--B.sql scripts on the way); another
# installs that version directly.  They must hold the same objects, compared
# entry by entry in pg_dump's binary-upgrade dumps, which name every member
# of the extension with its definition (test/upgrade/compare_dumps.py).
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
drop_databases()
{
	sql -d postgres -c "DROP DATABASE IF EXISTS mrl_updated" -c "DROP DATABASE IF EXISTS mrl_fresh" >/dev/null 2>&1
}
work=$(mktemp -d /tmp/mrl-upgrade.XXXXXX)
trap 'drop_databases; rm -rf "$work"; mrl_cluster_stop' EXIT
dump() { "$PG_BINDIR/pg_dump" --schema-only --binary-upgrade -d "$1" >"$2"; }
# compare: set $differences to the number of objects the two dumps disagree
# on, and show them
compare()
{
	/usr/bin/python3 test/upgrade/compare_dumps.py "$work/updated.sql" "$work/fresh.sql" >"$work/diff.txt"
	differences=$?
	sed 's/^/# /' "$work/diff.txt"
}

current=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" mrl.control)
released=$(ls sql/mrl--*.sql | sed -n 's|^sql/mrl--\([0-9.]*\)\.sql$|\1|p' | grep -vxF "$current" | sort -V)
drop_databases
sql -d postgres -c "CREATE DATABASE mrl_fresh TEMPLATE template0" &&
	sql -d mrl_fresh -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" &&
	dump mrl_fresh "$work/fresh.sql" || { notok "install $current in a fresh database and dump it"; exit 1; }
members=$(grep -c '^ALTER EXTENSION mrl ADD ' "$work/fresh.sql")
for old in $released; do
	sql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS mrl_updated" \
		-c "CREATE DATABASE mrl_updated TEMPLATE template0" || { notok "create a database"; exit 1; }
	version=$(sql -d mrl_updated -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl VERSION '$old'" \
		-c "ALTER EXTENSION mrl UPDATE" -c "SELECT extversion FROM pg_extension WHERE extname = 'mrl'" 2>&1)
	check "CREATE EXTENSION mrl VERSION '$old'; ALTER EXTENSION mrl UPDATE reaches $current" "$version" "$current"
	dump mrl_updated "$work/updated.sql" || { notok "pg_dump the updated database"; continue; }
	compare
	check "$old updated to $current has the objects of a fresh $current install ($members members)" "$differences" 0
done
[ -n "$released" ] || notok "no released version's install script (sql/mrl--X.sql) to update from"

# 0.2.0 renamed mrl_truncate's third parameter in the catalog (the upgrade
# script says why): a view calling the function at 0.1.0 survives the
# update and still works, and the new name works unquoted.
first=$(echo "$released" | head -n 1)
out=$(sql -d mrl_updated -c "SET client_min_messages = warning" -c "DROP EXTENSION mrl CASCADE" \
	-c "CREATE EXTENSION mrl VERSION '$first'" \
	-c "CREATE VIEW unit_prefix AS SELECT mrl_truncate('[3,4,12]', 2, true) AS v" \
	-c "ALTER EXTENSION mrl UPDATE" -c "SELECT v FROM unit_prefix" \
	-c "SELECT mrl_truncate('[3,4,12]', 2, renormalize => true)" 2>&1 | tr '\n' ' ')
check "a view calling mrl_truncate at $first survives the update; renormalize => works" "$out" "[0.6,0.8] [0.6,0.8] "

# The comparison sees a member that one side lacks.
sql -d mrl_updated -c "CREATE FUNCTION mrl_upgrade_probe() RETURNS int LANGUAGE sql AS 'SELECT 1'" \
	-c "ALTER EXTENSION mrl ADD FUNCTION mrl_upgrade_probe()" >/dev/null
dump mrl_updated "$work/updated.sql"
compare >/dev/null
check "a member only in one database is reported" \
	"$(grep -c '^only after the update: FUNCTION mrl_upgrade_probe() in schema public$' "$work/diff.txt")" 1
