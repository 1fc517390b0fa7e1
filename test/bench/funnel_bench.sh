#!/usr/bin/env bash
# funnel index benchmark: N x DIM Matryoshka-structured unit vectors, one
# client, one server.  Compares the exact top-10 by sequential scan with the
# funnel index in exact mode (results must be identical) and in approximate
# mode (recall@10 against the exact answer), and prints one table.
#
#   bash test/bench/funnel_bench.sh            # 100k x 768, 200 queries
#   N=20000 DIM=256 Q=50 bash test/bench/funnel_bench.sh
#   CONFIGS="64:int8:0 32:int8:0 64:float4:100" ...  # coarse_dims:precision:lists
#   PRIVATE_PG=/tmp/pgpriv ...  # run on a private copy of PostgreSQL, so that
#                               # other `make install`s cannot swap mrl.so mid-run
#   PGVECTOR=0 ...              # skip pgvector's HNSW (used when pgvector is installed)
#   EXACT=0 ...                 # skip the funnel's exact mode (forced, and
#                               # as the planner chooses: index or seq scan)
#   ORDERS="strict relaxed" ...  # mrl.funnel_order values of approximate mode
#   TEXTS="train.tsv heldout.tsv" ...  # real data: the built-in model's 256-dim
#                               # vectors of the texts (e.g. `make model`'s pairs)
#   CORPUS=/var/tmp/mrl-corpus N=1000000 ...  # real text at scale: the first N
#                               # sentences of test/bench/corpus.sh's corpus, embedded
#                               # once and cached there (corpus_load.sh), Q held-out queries
#   APPROX="0:0 1000:64" ...    # approximate settings, shortlist:probes (0: the
#                               # index's calibrated value; default: each of
#                               # SHORTLISTS with probes 0; with FILTERS, the
#                               # defaults also as the planner chooses)
#   SHUFFLE=1 ...               # permute the dims of every vector (one fixed
#                               # permutation): vectors that are not Matryoshka
#   FILTERS="10 1" ...          # also with WHERE bucket < P, keeping P% of the rows
#                               # (ground truth by a filtered sequential scan)
#   EF_SEARCH="40 100 200" ...  # pgvector HNSW ef_search values (filtered rounds use
#                               # hnsw.iterative_scan = relaxed_order)
#   SHARED_BUFFERS=1GB MAINTENANCE_WORK_MEM=512MB ...  # server memory
#
# Methods are interleaved query by query (seq scan, exact, approximate at
# each setting and order, HNSW), so load from other processes hits them alike.
# "sorted" counts the queries whose top-k came out in distance order.
set -u
. "$(dirname "$0")/../lib.sh"
if [ -n "${PRIVATE_PG:-}" ]; then
	mkdir -p "$PRIVATE_PG/lib/postgresql" "$PRIVATE_PG/share/postgresql"
	[ -d "$PRIVATE_PG/lib/postgresql/15" ] || cp -a /usr/lib/postgresql/15 "$PRIVATE_PG/lib/postgresql/"
	[ -d "$PRIVATE_PG/share/postgresql/15" ] || cp -a /usr/share/postgresql/15 "$PRIVATE_PG/share/postgresql/"
	chmod -R a+rX "$PRIVATE_PG"
	PG_BINDIR=$PRIVATE_PG/lib/postgresql/15/bin
	export PG_CONFIG=$PG_BINDIR/pg_config
fi
N=${N:-100000}
DIM=${DIM:-768}
Q=${Q:-200}
K=${K:-10}
CONFIGS=${CONFIGS:-64:int8:0}
SHORTLISTS=${SHORTLISTS:-0}
ORDERS=${ORDERS:-strict relaxed}
APPROX=${APPROX:-$(for s in $SHORTLISTS; do printf '%s:0 ' "$s"; done)}
FILTERS=${FILTERS:-}
EF_SEARCH=${EF_SEARCH:-40}
. "$MRL_ROOT/test/bench/corpus_load.sh"
make -C "$MRL_ROOT" -s -j2 PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config >/dev/null || exit 1
if [ -n "${PRIVATE_PG:-}" ]; then
	cp "$MRL_ROOT/mrl.so" "$PRIVATE_PG/lib/postgresql/15/lib/" &&
		cp "$MRL_ROOT"/sql/mrl--*.sql "$MRL_ROOT/mrl.control" "$PRIVATE_PG/share/postgresql/15/extension/" || exit 1
else
	mrl_build_install || exit 1
fi
mrl_cluster_start "max_parallel_workers_per_gather = 0" "shared_buffers = ${SHARED_BUFFERS:-1GB}" \
	"maintenance_work_mem = ${MAINTENANCE_WORK_MEM:-512MB}" "work_mem = 64MB" || exit 1
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

if [ -n "${CORPUS:-}" ]; then
	DIM=256
	t0=$(date +%s)
	sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl"
	corpus_load "$N" "$Q" "$CORPUS" || exit 1
elif [ -n "${TEXTS:-}" ]; then
	# real embeddings: the built-in model's vectors of every distinct text in
	# the second column of the TSV files, queried with Q texts from the first
	# column of the last file (held-out queries)
	DIM=256
	echo "# embedding the texts of $TEXTS with mrl-default ($(nproc) cores)"
	t0=$(date +%s)
	sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl" \
		-c "CREATE TABLE pairs (query text, doc text)"
	for f in $TEXTS; do
		cut -f1,2 "$f" | sed 's/\\/\\\\/g' | sql -c "COPY pairs FROM STDIN"
	done
	last=$(echo "$TEXTS" | awk '{print $NF}')
	cut -f1 "$last" | sed 's/\\/\\\\/g' | sort -u >"$MRL_TMP/queries.txt"
	sql -c "CREATE TABLE query_texts (body text)" -c "COPY query_texts FROM STDIN" <"$MRL_TMP/queries.txt"
	sql -c "CREATE TABLE docs (id int PRIMARY KEY, emb mvector($DIM))" \
		-c "INSERT INTO docs SELECT row_number() OVER (ORDER BY doc), mrl_embed(doc) FROM (SELECT DISTINCT doc FROM pairs) d" \
		-c "CREATE TABLE queries AS SELECT row_number() OVER ()::int AS id, mrl_embed(body) AS emb
			FROM (SELECT body FROM query_texts ORDER BY md5(body) LIMIT $Q) s"
	N=$(sql -c "SELECT count(*) FROM docs")
	echo "# $N documents, $Q queries, embedded in $(($(date +%s) - t0)) s"
else
	echo "# generating $N x $DIM rows and $Q queries ($(nproc) cores)"
	t0=$(date +%s)
	sql <<SQL
SET client_min_messages = warning;
CREATE EXTENSION mrl;
\i $MRL_ROOT/test/funnel/funnel_check.sql
CREATE TABLE docs (id int PRIMARY KEY, emb mvector($DIM));
CREATE TABLE queries AS
  SELECT id, mrl_normalize(emb) AS emb FROM funnel_test_vectors($Q, $DIM, $((N / 500 + 1)), 1, 99, 1);
SQL
	# two loaders, one per core
	half=$((N / 2))
	sql -c "INSERT INTO docs SELECT id, mrl_normalize(emb) FROM funnel_test_vectors($half, $DIM, $((N / 500 + 1)), 1, 2, 1)" &
	sql -c "INSERT INTO docs SELECT id, mrl_normalize(emb) FROM funnel_test_vectors($((N - half)), $DIM, $((N / 500 + 1)), 1, 2, $((half + 1)))"
	wait
fi
if [ "${SHUFFLE:-0}" = 1 ]; then
	# dim i goes to the rank of md5(i) among the dims, for rows and queries alike
	sql -c "CREATE FUNCTION shuffle_dims(v mvector) RETURNS mvector LANGUAGE sql IMMUTABLE AS
	          \$\$ SELECT array_agg(x ORDER BY md5(i::text))::mvector FROM unnest(v::real[]) WITH ORDINALITY u(x, i) \$\$" \
		-c "UPDATE docs SET emb = shuffle_dims(emb)" -c "UPDATE queries SET emb = shuffle_dims(emb)"
	echo "# dims shuffled"
fi
if [ -n "$FILTERS" ] && [ -z "$(sql -c "SELECT 1 FROM pg_attribute WHERE attrelid = 'docs'::regclass AND attname = 'bucket'")" ]; then
	sql -c "ALTER TABLE docs ADD COLUMN bucket int" -c "UPDATE docs SET bucket = $MRL_BUCKET_SQL"
fi
sql -c "VACUUM ANALYZE docs"
echo "# generated in $(($(date +%s) - t0)) s; heap $(sql -c "SELECT pg_size_pretty(pg_table_size('docs'))")"

sql <<'SQL'
-- One query by one method: latency (ms) and the top-k ids and distances.
-- kept: percent of rows the filter keeps (bucket < kept; 100 = no filter).
CREATE FUNCTION bench_where(kept int) RETURNS text LANGUAGE sql AS
  $$ SELECT CASE WHEN kept < 100 THEN format('WHERE bucket < %s', kept) ELSE '' END $$;
CREATE FUNCTION bench_one(q mvector, use_index bool, exact bool, shortlist int, probes int,
                          ord text, k int, kept int,
                          OUT ms float8, OUT ids int[], OUT dists float8[]) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz;
BEGIN
  -- use_index NULL: the planner chooses
  PERFORM set_config('enable_indexscan', coalesce(use_index, true)::text, true);
  PERFORM set_config('enable_seqscan', coalesce(NOT use_index, true)::text, true);
  PERFORM set_config('mrl.funnel_exact', exact::text, true);
  PERFORM set_config('mrl.funnel_shortlist', shortlist::text, true);
  PERFORM set_config('mrl.funnel_probes', probes::text, true);
  PERFORM set_config('mrl.funnel_order', ord, true);
  t0 := clock_timestamp();
  EXECUTE format('SELECT array_agg(id), array_agg(d) FROM
                    (SELECT id, emb <=> $1 AS d FROM docs %s ORDER BY emb <=> $1 LIMIT %s) s',
                 bench_where(kept), k)
    INTO ids, dists USING q;
  ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
CREATE TABLE methods (ord serial, method text, use_index bool, exact bool, shortlist int,
                      probes int, funnel_order text, ef_search int);
CREATE TABLE results (kept int, method text, qid int, ms float8, ids int[], dists float8[]);
-- Every query by every method of the current round, interleaved.
CREATE FUNCTION bench_round(k int, kept int, record_it bool) RETURNS void LANGUAGE plpgsql AS $$
DECLARE q record; m record; r record;
BEGIN
  FOR q IN SELECT * FROM queries ORDER BY id LOOP
    FOR m IN SELECT * FROM methods ORDER BY ord LOOP
      IF m.method LIKE 'pgvector%' THEN   -- bench_one_hnsw exists only with pgvector
        r := bench_one_hnsw(q.emb_v, k, m.ef_search, kept);
      ELSE
        r := bench_one(q.emb, m.use_index, m.exact, m.shortlist, m.probes, m.funnel_order, k, kept);
      END IF;
      IF record_it THEN
        INSERT INTO results VALUES (kept, m.method, q.id, r.ms, r.ids, r.dists);
      END IF;
    END LOOP;
  END LOOP;
END $$;
SQL

# pgvector HNSW on the same rows, when pgvector is installed (m = 16,
# ef_construction = 64: pgvector's defaults; ef_search from EF_SEARCH)
hnsw=0
if [ "${PGVECTOR:-1}" = 1 ] && [ -f "$($PG_CONFIG --sharedir)/extension/vector.control" ]; then
	hnsw=1
	sql -c "CREATE EXTENSION vector" \
		-c "CREATE TABLE docs_v AS SELECT id, emb::real[]::vector($DIM) AS emb$([ -n "$FILTERS" ] && echo ", bucket") FROM docs" \
		-c "ALTER TABLE queries ADD COLUMN emb_v vector($DIM)" \
		-c "UPDATE queries SET emb_v = emb::text::vector($DIM)" \
		-c "VACUUM ANALYZE docs_v"
	t0=$(date +%s.%N)
	sql -c "CREATE INDEX docs_v_hnsw ON docs_v USING hnsw (emb vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
	build=$(echo "$(date +%s.%N) - $t0" | bc)
	echo "# pgvector $(sql -c "SELECT extversion FROM pg_extension WHERE extname = 'vector'") hnsw m=16 ef_construction=64: build $(printf '%.1f' "$build") s, size $(sql -c "SELECT pg_size_pretty(pg_relation_size('docs_v_hnsw'))")"
	sql <<'SQL'
CREATE FUNCTION bench_one_hnsw(q vector, k int, ef_search int, kept int,
                               OUT ms float8, OUT ids int[], OUT dists float8[])
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz;
BEGIN
  PERFORM set_config('enable_indexscan', 'on', true);
  PERFORM set_config('enable_seqscan', 'off', true);
  PERFORM set_config('hnsw.ef_search', ef_search::text, true);
  -- with a filter, scan on until LIMIT is filled, as pgvector advises
  PERFORM set_config('hnsw.iterative_scan', CASE WHEN kept < 100 THEN 'relaxed_order' ELSE 'off' END, true);
  t0 := clock_timestamp();
  EXECUTE format('SELECT array_agg(id), array_agg(d) FROM
                    (SELECT id, emb <=> $1 AS d FROM docs_v %s ORDER BY emb <=> $1 LIMIT %s) s',
                 bench_where(kept), k)
    INTO ids, dists USING q;
  ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
SQL
fi

# The sequential scan and HNSW do not depend on the funnel's options: they
# run in the first configuration's rounds only, so that each query counts
# once in their rows (and once as the exact reference).
first=1
for cfg in $CONFIGS; do
	IFS=: read -r cd_ prec lists <<<"$cfg"
	sql -c "DROP INDEX IF EXISTS docs_funnel"
	t0=$(date +%s.%N)
	sql -c "SET client_min_messages = debug1" \
		-c "CREATE INDEX docs_funnel ON docs USING funnel (emb mvector_cosine_ops) WITH (coarse_dims = $cd_, precision = $prec, lists = ${lists:-0})" 2>&1 |
		grep -E 'approximate scans need|WARNING' | sed 's/^/# /'
	build=$(echo "$(date +%s.%N) - $t0" | bc)
	size=$(sql -c "SELECT pg_size_pretty(pg_relation_size('docs_funnel'))")
	echo "# funnel coarse_dims=$cd_ precision=$prec lists=${lists:-0}: build $(printf '%.1f' "$build") s, size $size"
	name="funnel $cd_/$prec/${lists:-0}"
	sql -c "TRUNCATE methods" -c "INSERT INTO methods (method, use_index, exact, shortlist, probes, funnel_order, ef_search)
		SELECT * FROM (VALUES ('seq scan (exact)', false, true, 100, 0, 'strict', 0)
		$([ "${EXACT:-1}" = 1 ] && printf ", ('%s exact', true, true, 100, 0, 'strict', 0), ('%s exact, planner''s choice', NULL, true, 100, 0, 'strict', 0)" "$name" "$name")
		$(for a in $APPROX; do for o in $ORDERS; do
			IFS=: read -r s p <<<"$a"
			printf ", ('%s approx %s %s', true, false, %s, %s, '%s', 0)" "$name" \
				"$([ "$s:${p:-0}" = 0:0 ] && echo defaults || echo "shortlist=$s probes=${p:-0}")" "$o" "$s" "${p:-0}" "$o"
		done; done)
		$([ -n "$FILTERS" ] && printf ", ('%s approx defaults, planner''s choice', NULL, false, 0, 0, 'strict', 0)" "$name")
		$([ $hnsw = 1 ] && for e in $EF_SEARCH; do printf ", ('pgvector hnsw ef_search=%s', true, false, 0, 0, 'strict', %s)" "$e" "$e"; done)) m
		WHERE $first = 1 OR m.column1 NOT IN ('seq scan (exact)') AND m.column1 NOT LIKE 'pgvector%'"
	first=0
	for kept in 100 $FILTERS; do
		sql -c "SELECT bench_round($K, $kept, false)" >/dev/null	# warm-up
		sql -c "SELECT bench_round($K, $kept, true)" >/dev/null
	done
done

# the plan the planner picks at the defaults under each filter (the first query)
for kept in $FILTERS; do
	echo "# planner's plan at the defaults, $kept% kept: $(echo "SELECT format('EXPLAIN SELECT id FROM docs %s ORDER BY emb <=> %L::mvector LIMIT $K',
		bench_where($kept), emb) FROM queries ORDER BY id LIMIT 1 \gexec" | sql |
		grep -oE '(Index Scan using [a-z_]+|Bitmap Heap Scan|Seq Scan|Sort)[^(]*\(cost=[0-9.]+' | sed 's/  */ /g' | paste -sd'>' | sed 's/>/ > /g')"
done

echo
echo "$N rows x $DIM dims, $Q queries, top-$K cosine, 1 client; latency in ms; kept = % of rows the WHERE keeps"
sql -P format=aligned -P tuples_only=off -P footer=off <<'SQL'
WITH exact AS (SELECT DISTINCT ON (kept, qid) kept, qid, ids, dists FROM results
               WHERE method = 'seq scan (exact)' ORDER BY kept, qid),
seq AS (SELECT kept, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50 FROM results
        WHERE method = 'seq scan (exact)' GROUP BY kept)
SELECT r.kept, r.method,
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms)::numeric, 2) AS p50_ms,
       round(percentile_cont(0.99) WITHIN GROUP (ORDER BY r.ms)::numeric, 2) AS p99_ms,
       round((min(seq.p50) / percentile_cont(0.5) WITHIN GROUP (ORDER BY r.ms))::numeric, 1) AS speedup_p50,
       round(avg((SELECT count(*) FROM unnest(r.ids) x WHERE x = ANY (e.ids))::numeric / cardinality(e.ids)), 4) AS recall_at_k,
       sum((r.dists = e.dists)::int) || '/' || count(*) AS identical,
       sum((r.dists = (SELECT array_agg(d ORDER BY d) FROM unnest(r.dists) d))::int) || '/' || count(*) AS sorted
FROM results r JOIN exact e USING (kept, qid) JOIN seq USING (kept)
GROUP BY r.kept, r.method ORDER BY r.kept DESC, r.method <> 'seq scan (exact)', min(r.ctid);
SQL
