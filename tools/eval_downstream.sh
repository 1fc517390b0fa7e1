#!/usr/bin/env bash
# eval_downstream.sh [SEED...]: classification and clustering at every
# prefix size, inside PostgreSQL (mrl_evaluate_classification,
# mrl_evaluate_clustering), on two labelled sets built from Debian
# (tools/data/labelled_sets.py: package descriptions by archive Section,
# WordNet glosses by lexicographer file), for the Matryoshka model and its
# non-MRL twin (same data, seed and schedule, loss at 256 dims only), each
# with the pca baseline.  Seeds default to 42 43 44: seed S trains twin-S
# and, except for 42 (the shipped mrl-default), mrl-S, and is also the
# evaluations' seed (folds, k-means).  Each seed's rows are kept in
# $B/downstream/rows-S.tsv and reused; the report (mean +- sd over the
# seeds found) goes to doc/downstream.tsv and doc/downstream.png, and its
# tables to stdout, followed by tools/downstream_pca_domain.py's table (where
# the PCA is fitted).
# Needs the work files of `tools/build_model.sh` (made here if missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/test/lib.sh"
B=${MRL_BUILD:-$ROOT/build/model}
SETS=$B/downstream
OUT=${OUT:-$ROOT/doc}
EPOCHS=${MRL_EPOCHS:-8}
DIMS='{16,32,64,128,256}'
SEEDS=("${@:-42}")
[ $# -gt 0 ] || SEEDS=(42 43 44)
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null ||
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 python3-matplotlib >/dev/null
t0=$(date +%s)

# the labelled sets, and the training data for the models
[ -d "$B/aptlists" ] || "$ROOT/tools/build_model.sh" data
[ -f "$B/train.tok" ] || "$ROOT/tools/build_model.sh" tokens
"$ROOT/tools/build_model.sh" tools
/usr/bin/python3 "$ROOT/tools/data/labelled_sets.py" "$SETS" --apt-lists "$B/aptlists"

# train NAME DIMS SEED: one 256-dim model, as tools/eval_mrl_vs_pca.sh does
VOCAB=$(node -e 'console.log(require(process.argv[1]).Tokenizer.fromFile(process.argv[2]).getVocabSize(true))' \
	"$ROOT/tools/node_modules/tokenizers" "$ROOT/model/0_StaticEmbedding/tokenizer.json")
train()
{
	[ "$B/$1-$3.safetensors" -nt "$B/train.tok" ] && return 0
	OPENBLAS_NUM_THREADS=1 "$ROOT/tools/mrl_train" --pairs "$B/train.tok" --vocab "$VOCAB" \
		--dim 256 --dims "$2" --epochs "$EPOCHS" --seed "$3" \
		--out "$B/$1-$3.safetensors" 2>"$B/$1-$3.log"
}
for seed in "${SEEDS[@]}"; do
	[ -f "$SETS/rows-$seed.tsv" ] && continue
	train twin 256 "$seed" &
	[ "$seed" = 42 ] || train mrl 16,32,64,128,256 "$seed"
	wait
done

mrl_build_install
mrl_cluster_start "max_parallel_workers_per_gather = 0" "work_mem = 256MB"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -c "SET client_min_messages = warning" -c "CREATE EXTENSION mrl"
for set in packages wordnet; do
	sql -c "CREATE TABLE $set (id int PRIMARY KEY, body text, label text)" \
		-c "\\copy $set FROM '$SETS/$set.tsv' WITH (FORMAT csv, DELIMITER E'\\t', QUOTE E'\\x01')"
done

# register NAME WEIGHTS: a StaticEmbedding directory, model/'s layout
register()
{
	mkdir -p "$MRL_TMP/$1"
	cp -R "$ROOT/model/." "$MRL_TMP/$1/"
	cp "$2" "$MRL_TMP/$1/0_StaticEmbedding/model.safetensors"
	chmod -R a+rX "$MRL_TMP/$1"
	sql -c "SELECT mrl_register_model('$1', '$MRL_TMP/$1')" >/dev/null
}

# rows: task, set, seed, model, dims, method, metric, value
for seed in "${SEEDS[@]}"; do
	rows=$SETS/rows-$seed.tsv
	[ -f "$rows" ] && continue
	register "twin-$seed" "$B/twin-$seed.safetensors"
	mrl=mrl-default
	[ "$seed" = 42 ] || { mrl=mrl-$seed; register "$mrl" "$B/mrl-$seed.safetensors"; }
	for model in "mrl:$mrl" "twin:twin-$seed"; do
		for set in packages wordnet; do
			t=$(date +%s)
			sql -F $'\t' -c "SELECT 'classification', '$set', $seed, '${model%%:*}', dims, method, m.*
				FROM mrl_evaluate_classification('$set', '${model#*:}', dims => '$DIMS',
					baselines => '{pca}', seed => $seed),
				LATERAL (VALUES ('knn_accuracy', knn_accuracy), ('knn_macro_f1', knn_macro_f1),
					('linear_accuracy', linear_accuracy), ('linear_macro_f1', linear_macro_f1)) m" >>"$rows.part"
			sql -F $'\t' -c "SELECT 'clustering', '$set', $seed, '${model%%:*}', dims, method, m.*
				FROM mrl_evaluate_clustering('$set', '${model#*:}', dims => '$DIMS',
					baselines => '{pca}', seed => $seed),
				LATERAL (VALUES ('nmi', nmi), ('ari', ari)) m" >>"$rows.part"
			echo "# seed $seed, ${model#*:}, $set: $(($(date +%s) - t)) s" >&2
		done
	done
	mv "$rows.part" "$rows"
done

mkdir -p "$OUT"
/usr/bin/python3 "$ROOT/tools/downstream_report.py" "$OUT" "$SETS"/rows-*.tsv

# where the pca baseline's PCA is fitted: the set itself, or the other set
for set in packages wordnet; do
	sql -c "\\copy (SELECT id, label, mrl_embed(body) FROM $set ORDER BY id) TO '$MRL_TMP/$set.emb' (DELIMITER '|')"
done
echo
echo "kNN accuracy of mrl-default's embeddings by where PCA is fitted (tools/downstream_pca_domain.py)"
echo
OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 "$ROOT/tools/downstream_pca_domain.py" \
	packages="$MRL_TMP/packages.emb" wordnet="$MRL_TMP/wordnet.emb"
echo "# $(($(date +%s) - t0)) s in all" >&2
