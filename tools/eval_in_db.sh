#!/usr/bin/env bash
# eval_in_db.sh [HELDOUT_TSV] [TWIN_SAFETENSORS]: measure the built-in
# Matryoshka model inside PostgreSQL with mrl_evaluate, on the held-out
# split of `make model`, against its non-MRL twin (same data and seed,
# trained for 256 dims only) and against PostgreSQL full-text search.
# Writes quality.tsv (every row) and quality.png (nDCG@10 vs dims) into
# $OUT, default build/eval, and prints two markdown tables (nDCG@10,
# Recall@100).  OUT=doc replaces the committed figures of doc/quality.md.
#
#   STRIDE=4 tools/eval_in_db.sh    # score every 4th distinct query only
#
# Defaults: build/model/pairs/heldout.tsv (`make model`) and
# build/model/twin-42.safetensors (tools/eval_mrl_vs_pca.sh 42).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
B=${MRL_BUILD:-$ROOT/build/model}
HELDOUT=${1:-$B/pairs/heldout.tsv}
TWIN=${2:-$B/twin-42.safetensors}
STRIDE=${STRIDE:-1}
DIMS='{16,32,64,128,256}'
OUT=${OUT:-$ROOT/build/eval}
for f in "$HELDOUT" "$TWIN"; do [ -r "$f" ] || { echo "eval_in_db.sh: cannot read $f" >&2; exit 1; }; done
command -v gnuplot >/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 gnuplot-nox >/dev/null
t0=$(date +%s)

mrl_build_install
installed=$("$PG_CONFIG" --sharedir)/extension/mrl_model/0_StaticEmbedding/model.safetensors
cmp -s "$installed" "$ROOT/model/0_StaticEmbedding/model.safetensors" ||
	echo "warning: the installed mrl-default differs from model/ (a concurrent make install?)" >&2
mrl_cluster_start "max_parallel_workers_per_gather = 0" "work_mem = 256MB"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

# The twin as a StaticEmbedding directory: model/'s layout, the twin's weights.
mkdir -p "$MRL_TMP/twin"
cp -R "$ROOT/model/." "$MRL_TMP/twin/"
cp "$TWIN" "$MRL_TMP/twin/0_StaticEmbedding/model.safetensors"
chmod -R a+rX "$MRL_TMP/twin"

# Pairs: query, positive, source, group_key.  Loaded as CSV with a quote
# character that never occurs, so quotes and backslashes stay literal.
sql <<SQL
SET client_min_messages = warning;
CREATE EXTENSION mrl;
SELECT mrl_register_model('twin', '$MRL_TMP/twin') IS NOT NULL AS registered \\gset
CREATE TABLE pairs (query text, positive text, source text, group_key text);
\copy pairs FROM '$HELDOUT' WITH (FORMAT csv, DELIMITER E'\t', QUOTE E'\x01')
-- ids follow the byte order of the texts, so runs are reproducible
CREATE TABLE all_queries AS
  SELECT row_number() OVER (ORDER BY q COLLATE "C") AS id, q AS body
  FROM (SELECT DISTINCT query AS q FROM pairs) s;
CREATE TABLE queries AS SELECT * FROM all_queries WHERE id % $STRIDE = 0;
CREATE TABLE docs AS
  SELECT row_number() OVER (ORDER BY p COLLATE "C") AS id, p AS body
  FROM (SELECT DISTINCT positive AS p FROM pairs) s;
CREATE TABLE qrels AS
  SELECT DISTINCT q.id AS query_id, d.id AS doc_id, 1 AS relevance
  FROM pairs p JOIN queries q ON q.body = p.query JOIN docs d ON d.body = p.positive;
ANALYZE;
SQL
counts=$(sql -F ' ' -c "SELECT (SELECT count(*) FROM pairs), (SELECT count(*) FROM all_queries),
	(SELECT count(*) FROM queries), (SELECT count(*) FROM docs), (SELECT count(*) FROM qrels)")
read -r n_pairs n_allq n_q n_docs n_qrels <<<"$counts"
echo "# $HELDOUT: $n_pairs pairs, $n_allq distinct queries ($n_q scored$([ "$STRIDE" = 1 ] || echo ", every ${STRIDE}th")), $n_docs docs, $n_qrels judgements"
echo "# twin: $TWIN"

run_eval()
{
	local model=$1 label=$2 baselines=$3 t=$(date +%s)
	sql -F $'\t' -c "SELECT '$label', coalesce(dims::text, ''), method, ndcg_at_10, recall_at_10,
		recall_at_100, mrr_at_10 FROM mrl_evaluate('queries', 'qrels', 'docs', '$model',
		dims => '$DIMS', baselines => '$baselines')" >>"$MRL_TMP/rows.tsv"
	echo "# $label: $(($(date +%s) - t)) s" >&2
}
printf 'model\tdims\tmethod\tndcg_at_10\trecall_at_10\trecall_at_100\tmrr_at_10\n' >"$MRL_TMP/rows.tsv"
run_eval mrl-default mrl '{pca,fulltext}'
run_eval twin twin '{pca}'
mkdir -p "$OUT"
cp "$MRL_TMP/rows.tsv" "$OUT/quality.tsv"

# A markdown table of one metric (column of quality.tsv): rows dims.
table()
{
	awk -F '\t' -v col="$1" '
	NR == 1 { next }
	{ v[$1 "/" $2 "/" $3] = $col }
	$1 == "mrl" && $3 == "prefix" { d[++n] = $2 }
	$3 == "fulltext" { ft = $col }
	END {
		printf "| dims | MRL prefix | MRL+PCA | twin prefix (truncated) | twin+PCA | full text |\n"
		printf "|---:|---:|---:|---:|---:|---:|\n"
		for (i = 1; i <= n; i++) {
			k = d[i]
			printf "| %d | %.4f | %.4f | %.4f | %.4f | %.4f |\n", k, v["mrl/" k "/prefix"],
				v["mrl/" k "/pca"], v["twin/" k "/prefix"], v["twin/" k "/pca"], ft
		}
	}' "$OUT/quality.tsv"
}
echo
echo "nDCG@10"
echo
table 4
echo
echo "Recall@100"
echo
table 6

# nDCG@10 vs dims; the full-text score is a horizontal line.
ft=$(awk -F '\t' '$3 == "fulltext" { print $4 }' "$OUT/quality.tsv")
series() { awk -F '\t' -v m="$1" -v k="$2" '$1 == m && $3 == k { print $2, $4 }' "$OUT/quality.tsv"; }
gnuplot <<GP
set terminal pngcairo noenhanced size 800,520 font "sans,11"
set output "$OUT/quality.png"
set title "Held-out retrieval quality inside PostgreSQL (mrl_evaluate, $n_q queries, $n_docs docs)"
set xlabel "embedding dimensions (log scale)"
set ylabel "nDCG@10"
set logscale x 2
set xrange [14:290]
set yrange [0:*]
set xtics ("16" 16, "32" 32, "64" 64, "128" 128, "256" 256)
set grid
set key bottom right box opaque
\$mrl << EOD
$(series mrl prefix)
EOD
\$mrlpca << EOD
$(series mrl pca)
EOD
\$twin << EOD
$(series twin prefix)
EOD
\$twinpca << EOD
$(series twin pca)
EOD
plot \$mrl with linespoints lw 2 pt 7 title "MRL prefix (built-in model)", \
     \$twin with linespoints lw 2 pt 5 title "non-MRL twin, truncated", \
     \$twinpca with linespoints lw 2 pt 9 title "non-MRL twin + PCA", \
     \$mrlpca with linespoints lw 2 dt 2 pt 6 title "MRL + PCA", \
     $ft with lines lw 2 dt 3 lc rgb "black" title "PostgreSQL full-text search"
GP
echo
echo "# wrote $OUT/quality.tsv, $OUT/quality.png; $(($(date +%s) - t0)) s in all"
