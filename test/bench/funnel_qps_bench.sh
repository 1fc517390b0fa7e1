#!/usr/bin/env bash
# funnel_qps_bench.sh: queries per second with concurrent clients (pgbench,
# a custom script running ORDER BY emb <=> :q LIMIT 10 with queries drawn at
# random from the query table), funnel at its defaults against pgvector's
# HNSW at several ef_search values, on the same rows in one server; recall@10
# of each setting computed separately, against a sequential scan.
#
#   bash test/bench/funnel_qps_bench.sh              # 250k real sentences (corpus), 2 clients
#   N=100000 DIM=3072 ...                            # synthetic Matryoshka-structured rows
#                                                    # (funnel_test_vectors, as funnel_bench.sh)
#   VTYPE=halfvec ...          # pgvector's column type (default: vector up to 2,000 dims,
#                              # halfvec above, the only type its HNSW indexes at 3072)
#   CLIENTS="1 2" SECS=30 Q=200 EF_SEARCH="40 100 200 400" FUNNEL="default 100:0 1000:64" ...
#   CORPUS=/var/tmp/mrl-corpus ...                   # the corpus cache (when DIM is unset)
#
# FUNNEL lists funnel settings: "default" (no setting changed) or
# shortlist:probes, the values of mrl.funnel_shortlist and mrl.funnel_probes.
# Prints build time and size of each index, then per method its recall@10
# and its QPS at each client count.
set -u
. "$(dirname "$0")/../lib.sh"
N=${N:-250000}
Q=${Q:-200}
SECS=${SECS:-30}
CLIENTS=${CLIENTS:-1 2}
EF_SEARCH=${EF_SEARCH:-40 100 200 400}
FUNNEL=${FUNNEL:-default}
CORPUS=${CORPUS:-/var/tmp/mrl-corpus}
. "$MRL_ROOT/test/bench/corpus_load.sh"
mrl_build_install || exit 1
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = ${SHARED_BUFFERS:-2GB}" \
	"maintenance_work_mem = ${MAINTENANCE_WORK_MEM:-2GB}" "max_parallel_maintenance_workers = 2" \
	"max_connections = 20" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

t0=$(date +%s)
sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl"
if [ -z "${DIM:-}" ]; then
	DIM=256
	corpus_load "$N" "$Q" "$CORPUS" >/dev/null || exit 1
	sql -c "ALTER TABLE docs DROP COLUMN body, DROP COLUMN bucket"
	data="$N real sentences (built-in model, 256 dims)"
else
	# two loaders, one per core, as funnel_bench.sh
	sql -c "SET client_min_messages = warning" -f "$MRL_ROOT/test/funnel/funnel_check.sql" \
		-c "CREATE TABLE docs (id int PRIMARY KEY, emb mvector($DIM))" \
		-c "CREATE TABLE queries AS SELECT id, mrl_normalize(emb) AS emb FROM funnel_test_vectors($Q, $DIM, $((N / 500 + 1)), 1, 99, 1)"
	half=$((N / 2))
	sql -c "INSERT INTO docs SELECT id, mrl_normalize(emb) FROM funnel_test_vectors($half, $DIM, $((N / 500 + 1)), 1, 2, 1)" &
	sql -c "INSERT INTO docs SELECT id, mrl_normalize(emb) FROM funnel_test_vectors($((N - half)), $DIM, $((N / 500 + 1)), 1, 2, $((half + 1)))"
	wait
	data="$N x $DIM Matryoshka-structured synthetic rows"
fi
VTYPE=${VTYPE:-$([ "$DIM" -gt 2000 ] && echo halfvec || echo vector)}
# (a primary key, so that enable_seqscan = off, which forces the vector
# indexes, leaves the query's lookup cheap: a disabled plan's cost would
# turn JIT on, 0.6 s a query)
sql -c "ALTER TABLE queries ADD PRIMARY KEY (id)" -c "VACUUM ANALYZE docs, queries"
echo "# $data loaded in $(($(date +%s) - t0)) s; heap $(sql -c "SELECT pg_size_pretty(pg_table_size('docs'))")"

timed() { local t0; t0=$(date +%s.%N); sql -c "$1" >/dev/null; echo "$(date +%s.%N) - $t0" | bc; }
printf '# funnel (defaults): build %.1f s, ' "$(timed "CREATE INDEX docs_funnel ON docs USING funnel (emb mvector_cosine_ops)")"
echo "size $(sql -c "SELECT pg_size_pretty(pg_relation_size('docs_funnel'))")"
hnsw=0
if [ "${PGVECTOR:-1}" = 1 ] && [ -f "$($PG_CONFIG --sharedir)/extension/vector.control" ]; then
	hnsw=1
	sql -c "CREATE EXTENSION vector" \
		-c "CREATE TABLE docs_v AS SELECT id, emb::real[]::$VTYPE($DIM) AS emb FROM docs" \
		-c "ALTER TABLE queries ADD COLUMN emb_v $VTYPE($DIM)" \
		-c "UPDATE queries SET emb_v = emb::real[]::$VTYPE($DIM)" -c "VACUUM ANALYZE docs_v"
	printf '# pgvector %s hnsw on %s(%d), m 16, ef_construction 64, 2 workers: build %.1f s, ' \
		"$(sql -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'")" "$VTYPE" "$DIM" \
		"$(timed "CREATE INDEX docs_v_hnsw ON docs_v USING hnsw (emb ${VTYPE}_cosine_ops) WITH (m = 16, ef_construction = 64)")"
	echo "size $(sql -c "SELECT pg_size_pretty(pg_relation_size('docs_v_hnsw'))")"
fi

# methods: name | table | query column | settings (PGOPTIONS)
methods=$MRL_TMP/methods
: >"$methods"
for f in $FUNNEL; do
	if [ "$f" = default ]; then
		echo "funnel defaults|docs|emb|-c enable_seqscan=off" >>"$methods"
	else
		IFS=: read -r s p <<<"$f"
		echo "funnel shortlist $s probes $p|docs|emb|-c enable_seqscan=off -c mrl.funnel_shortlist=$s -c mrl.funnel_probes=$p" >>"$methods"
	fi
done
if [ $hnsw = 1 ]; then
	for e in $EF_SEARCH; do
		echo "hnsw ef_search $e|docs_v|emb_v|-c enable_seqscan=off -c hnsw.ef_search=$e" >>"$methods"
	done
fi

# recall@10 of each method, one client, against a sequential scan
sql -c "SET enable_indexscan = off" -c "CREATE TABLE truth AS SELECT q.id AS qid, (SELECT array_agg(id) FROM (SELECT id FROM docs
	ORDER BY emb <=> q.emb LIMIT 10) s) AS ids FROM queries q"
declare -A recall
while IFS='|' read -r name tbl col opts; do
	recall[$name]=$(PGOPTIONS="$opts" sql -c "SELECT round(avg((SELECT count(*) FROM unnest(
		(SELECT array_agg(id) FROM (SELECT id FROM $tbl ORDER BY emb <=> q.$col LIMIT 10) s)) x
		WHERE x = ANY (t.ids)) / 10.0), 4) FROM queries q JOIN truth t ON t.qid = q.id")
done <"$methods"

echo
echo "$data; $Q held-out queries drawn at random; top-10 cosine; $SECS s a run; QPS from pgbench"
printf '%-34s %10s' method recall@10
for c in $CLIENTS; do printf ' %12s' "QPS ${c}c"; done
echo
while IFS='|' read -r name tbl col opts; do
	cat >"$MRL_TMP/q.sql" <<SQL
\\set qid random(1, $Q)
SELECT id FROM $tbl ORDER BY emb <=> (SELECT $col FROM queries WHERE id = :qid) LIMIT 10;
SQL
	chmod 644 "$MRL_TMP/q.sql"
	printf '%-34s %10s' "$name" "${recall[$name]}"
	for c in $CLIENTS; do
		tps=$(PGOPTIONS="$opts" "$PG_BINDIR/pgbench" -n -M prepared -T "$SECS" -c "$c" -j "$c" -f "$MRL_TMP/q.sql" 2>&1 |
			sed -n 's/^tps = \([0-9.]*\).*/\1/p')
		printf ' %12.1f' "${tps:-0}"
	done
	echo
done <"$methods"
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
