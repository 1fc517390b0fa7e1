# test/citus_lib.sh: a Citus cluster on loopback (a coordinator and workers,
# each its own data directory and port) for test/suites/51_citus.sh and
# test/bench/citus_bench.sh.  Source it after test/lib.sh.

# citus_installed: whether Citus's library is in this PostgreSQL.
citus_installed()
{
	[ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]
}

# citus_start WORKERS [CONF_LINE...]: start a coordinator (exported as
# PGHOST/PGPORT, the cluster of mrl_cluster_start) and WORKERS workers on the
# following ports, each in $MRL_TMP/worker<i>, add them to the coordinator and
# create the extensions (citus, then mrl) in database postgres.  Sets
# citus_ports to the workers' ports.  Extra postgresql.conf lines apply to
# every node.
citus_start()
{
	local n=$1 i dir port
	shift
	local conf=("listen_addresses = '127.0.0.1'" "shared_preload_libraries = 'citus'"
		"citus.node_conninfo = 'sslmode=prefer'" "max_connections = 100" "$@")
	MRL_PORT=$((30000 + RANDOM % 20000)) mrl_cluster_start "${conf[@]}" || return 1
	trap citus_stop EXIT
	citus_ports=()
	for i in $(seq 1 "$n"); do
		dir=$MRL_TMP/worker$i
		port=$((PGPORT + i))
		mrl_as_owner "$PG_BINDIR/initdb" -A trust -U "$MRL_OWNER" -D "$dir" >"$MRL_TMP/worker$i.initdb.log" 2>&1 ||
			return 1
		{
			sed -n -e '/^listen_addresses/d' -e '/^unix_socket_directories/p' -e '/^fsync/p' "$PGDATA/postgresql.conf"
			echo "port = $port"
			echo "shared_buffers = ${CITUS_WORKER_BUFFERS:-128MB}"
			for line in "${conf[@]}"; do echo "$line"; done
		} >>"$dir/postgresql.conf"
		mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$dir" -l "$MRL_TMP/worker$i.log" -w start >/dev/null || return 1
		citus_ports+=("$port")
	done
	psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" \
		-c "SELECT citus_set_coordinator_host('127.0.0.1', $PGPORT)" >/dev/null || return 1
	for port in "${citus_ports[@]}"; do
		psql -X -q -v ON_ERROR_STOP=1 -p "$port" -c "SET client_min_messages = warning" \
			-c "CREATE EXTENSION citus" >/dev/null || return 1
		psql -X -q -v ON_ERROR_STOP=1 -c "SELECT citus_add_node('127.0.0.1', $port)" >/dev/null || return 1
	done
	psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" >/dev/null
}

# citus_stop: stop the workers and the coordinator, remove their directories.
citus_stop()
{
	local dir
	for dir in "${MRL_TMP:-/nonexistent}"/worker*; do
		[ -d "$dir" ] && mrl_as_owner "$PG_BINDIR/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1
	done
	mrl_cluster_stop
}
