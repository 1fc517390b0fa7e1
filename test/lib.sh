# test/lib.sh: shared steps of `make test`, `make demo` and the benchmarks.
# Source it from bash; it defines functions and sets MRL_ROOT.

MRL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# PG_CONFIG picks the PostgreSQL installation; its bindir holds the server.
export PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
PG_BINDIR=$("$PG_CONFIG" --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
# Its client programs (psql, pg_dump, pgbench) come first on PATH, so that
# they are of the server's major, not the newest the system has.
export PATH="$PG_BINDIR:$PATH"

# Install the Debian packages listed in test/deps.d/*.txt that are missing.
mrl_ensure_deps()
{
	mrl_ensure_packages "$MRL_ROOT"/test/deps.d/*.txt
}

# Install the Debian packages listed in the given files (one per line, #
# comments) that are missing.
mrl_ensure_packages()
{
	local missing=() pkg
	for pkg in $(grep -hv '^#' "$@" | sort -u); do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
		return 1
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null
}

# Build and install the extension into the PostgreSQL found by PG_CONFIG.
mrl_build_install()
{
	make -C "$MRL_ROOT" -s -j2 PG_CONFIG="$PG_CONFIG" >/dev/null &&
		make -C "$MRL_ROOT" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
}

# Run a command as the unprivileged cluster owner (PostgreSQL refuses root).
mrl_as_owner()
{
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u "$MRL_OWNER" -- "$@"
	else
		"$@"
	fi
}

# Start a throwaway cluster in a temp directory; exports PGHOST/PGPORT/PGUSER.
# Extra postgresql.conf lines may be passed as arguments.
mrl_cluster_start()
{
	MRL_OWNER=$(id -un)
	if [ "$(id -u)" -eq 0 ]; then
		MRL_OWNER=postgres
		id "$MRL_OWNER" >/dev/null 2>&1 || useradd -r -m "$MRL_OWNER"
	fi
	MRL_TMP=$(mktemp -d /tmp/mrl-cluster.XXXXXX)
	chmod 755 "$MRL_TMP"
	[ "$(id -u)" -eq 0 ] && chown "$MRL_OWNER" "$MRL_TMP"
	export PGDATA=$MRL_TMP/data PGHOST=$MRL_TMP PGUSER=$MRL_OWNER PGDATABASE=postgres
	export PGPORT=${MRL_PORT:-$((20000 + RANDOM % 20000))}
	# pg_regress's tiny models (Makefile target regress-models), per run,
	# where the server can read them whatever the checkout's permissions
	export MRL_REGRESS_MODELS=$MRL_TMP/regress_models
	mrl_as_owner "$PG_BINDIR/initdb" -A trust -U "$MRL_OWNER" -D "$PGDATA" >"$MRL_TMP/initdb.log" 2>&1 ||
		{ cat "$MRL_TMP/initdb.log" >&2; return 1; }
	{
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$MRL_TMP'"
		echo "port = $PGPORT"
		echo "fsync = off"
		echo "shared_buffers = 512MB"
		local line
		for line in "$@"; do echo "$line"; done
	} >>"$PGDATA/postgresql.conf"
	mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA" -l "$MRL_TMP/server.log" -w start >/dev/null ||
		{ cat "$MRL_TMP/server.log" >&2; return 1; }
	trap mrl_cluster_stop EXIT
}

# A suite's cluster: the one `make test` runs (PGHOST set), or else a
# throwaway one with the extension built and installed, so that the suite
# also runs on its own.  Prints "not ok" when it cannot.
mrl_cluster_ensure()
{
	[ -n "${PGHOST:-}" ] && return 0
	mrl_build_install || { notok "build and install the extension"; return 1; }
	mrl_cluster_start "$@" || { notok "start a cluster"; return 1; }
}

# A suite's scratch directory ($work) and database name ($db, created by the
# suite), both removed on exit, with the cluster if the suite started one.
mrl_scratch()
{
	work=$(mktemp -d "/tmp/mrl-${1//_/-}.XXXXXX")
	chmod 755 "$work"
	db=mrl_$1_$$
	trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1; rm -rf "$work"; mrl_cluster_stop' EXIT
}

# Stop the throwaway cluster and remove its directory.
mrl_cluster_stop()
{
	[ -n "${MRL_TMP:-}" ] || return 0
	mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1
	rm -rf "$MRL_TMP"
	MRL_TMP=
}

# TAP lines for suite scripts, numbered in order: ok "what" / notok "what";
# skip "why": a test that cannot run here (make test counts it as skipped,
# not passed); check "what" ACTUAL EXPECTED passes when the two strings are
# equal.
tap_n=0
ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
notok() { tap_n=$((tap_n + 1)); echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP skipped: $*"; }
check()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		notok "$1: got '$2', expected '$3'"
	fi
}

# check_relay FILE: the "PASS what" / "FAIL what" lines of a reference
# script's comparison as TAP; its other lines become comments.
check_relay()
{
	local line
	while IFS= read -r line; do
		case "$line" in
			"PASS "*) ok "${line#PASS }" ;;
			"FAIL "*) notok "${line#FAIL }" ;;
			*) echo "# $line" ;;
		esac
	done <"$1"
}

# cancel_after APPNAME SECONDS: wait until the session of application
# APPNAME runs a statement, let it run SECONDS more, then cancel it.
cancel_after()
{
	psql -X -q -At -v ON_ERROR_STOP=1 >/dev/null <<SQL
DO \$\$
DECLARE
	p int;
BEGIN
	WHILE p IS NULL LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT pid INTO p FROM pg_stat_activity WHERE application_name = '$1' AND state = 'active';
		PERFORM pg_sleep(0.01);
	END LOOP;
	PERFORM pg_sleep($2);
	PERFORM pg_cancel_backend(p);
END \$\$;
SQL
}

# tap_relay NAME COMMAND...: run a program that prints TAP (a C unit test)
# and renumber its results into this script's sequence, as "NAME: what";
# its other output becomes comments, and a non-zero exit one more failure.
tap_relay()
{
	local name=${1:+$1: } line out rc
	shift
	out=$(mktemp)
	"$@" >"$out" 2>&1
	rc=$?
	while IFS= read -r line; do
		case "$line" in
			"ok "*) ok "$name${line#* - }" ;;
			"not ok "*) notok "$name${line#* - }" ;;
			1..*) ;;
			"#"*) echo "$line" ;;
			*) echo "# $line" ;;
		esac
	done <"$out"
	rm -f "$out"
	[ $rc -eq 0 ] || notok "${name}exited with status $rc"
	return $rc
}
