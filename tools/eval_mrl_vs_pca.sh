#!/usr/bin/env bash
# eval_mrl_vs_pca.sh [SEED...]: the MRL measurement.  For each seed, trains
# with identical data, seed and schedule
#   mrl      the Matryoshka model (256 dims, losses at 16..256),
#   twin     its non-MRL twin (256 dims, loss at 256 only),
#   ff-D     one ordinary model per size D = 16, 32, 64, 128 (D dims, loss
#            at D only): the MRL paper's "fixed feature" baseline, i.e. what
#            each size can reach when it gets a model of its own,
# then evaluates on the held-out split at prefix sizes 16..256: MRL
# prefixes, naive prefixes of the twin, the twin rotated by PCA (fitted on
# training texts), and each ff-D model at its own size.
# Models already trained (newer than the token file) are reused.
# Needs the work files of `tools/build_model.sh` (data, tokens, tools).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${MRL_BUILD:-$ROOT/build/model}
EPOCHS=${MRL_EPOCHS:-8}
VOCAB=$(node -e 'console.log(require(process.argv[1]).Tokenizer.fromFile(process.argv[2]).getVocabSize(true))' \
	"$ROOT/tools/node_modules/tokenizers" "$ROOT/model/0_StaticEmbedding/tokenizer.json")
"$ROOT/tools/build_model.sh" tools

# train NAME DIM DIMS SEED: one model, one BLAS thread, unless up to date
train()
{
	[ "$B/$1-$4.safetensors" -nt "$B/train.tok" ] && return 0
	OPENBLAS_NUM_THREADS=1 "$ROOT/tools/mrl_train" --pairs "$B/train.tok" --vocab "$VOCAB" \
		--dim "$2" --dims "$3" --epochs "$EPOCHS" --seed "$4" \
		--out "$B/$1-$4.safetensors" 2>"$B/$1-$4.log"
}

for seed in "${@:-42}"; do
	# two streams side by side, about the same length each
	{ train mrl 256 16,32,64,128,256 "$seed"; train ff-16 16 16 "$seed"; train ff-32 32 32 "$seed"; } &
	{ train twin 256 256 "$seed"; train ff-64 64 64 "$seed"; train ff-128 128 128 "$seed"; } &
	wait
	tail -qn 1 "$B"/mrl-$seed.log "$B"/twin-$seed.log
	"$ROOT/tools/eval_model" --heldout "$B/heldout.tok" --fit "$B/train.tok" \
		--model "mrl(seed $seed)=$B/mrl-$seed.safetensors" \
		--model "twin(seed $seed)=$B/twin-$seed.safetensors" \
		--pca "twin+pca(seed $seed)=$B/twin-$seed.safetensors" \
		--pca "mrl+pca(seed $seed)=$B/mrl-$seed.safetensors"
	for d in 16 32 64 128; do
		"$ROOT/tools/eval_model" --heldout "$B/heldout.tok" --dims $d \
			--model "ff-$d(seed $seed)=$B/ff-$d-$seed.safetensors" | tail -n 1
	done
done
