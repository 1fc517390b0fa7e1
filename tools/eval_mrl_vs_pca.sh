#!/usr/bin/env bash
# eval_mrl_vs_pca.sh [SEED...]: the first MRL measurement.  For each seed,
# trains the Matryoshka model (dims 16..256) and its non-MRL twin (dims
# {256} only) with identical data, seed and schedule, then evaluates on the
# held-out split at prefix sizes 16..256: MRL prefixes, naive prefixes of
# the twin, and the twin rotated by PCA (fitted on training texts).
# Models already trained (newer than the token file) are reused.
# Needs the work files of `tools/build_model.sh` (data, tokens, tools).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${MRL_BUILD:-$ROOT/build/model}
EPOCHS=${MRL_EPOCHS:-8}
VOCAB=$(node -e 'console.log(require(process.argv[1]).Tokenizer.fromFile(process.argv[2]).getVocabSize(true))' \
	"$ROOT/tools/node_modules/tokenizers" "$ROOT/model/tokenizer.json")
[ -x "$B/eval_model" ] || "$ROOT/tools/build_model.sh" tools
for seed in "${@:-42}"; do
	# the two trainings run side by side, one BLAS thread each
	for kind in mrl twin; do
		dims=16,32,64,128,256
		[ $kind = twin ] && dims=256
		[ "$B/$kind-$seed.safetensors" -nt "$B/train.tok" ] && continue
		OPENBLAS_NUM_THREADS=1 "$B/mrl_train" --pairs "$B/train.tok" --vocab "$VOCAB" \
			--dim 256 --dims $dims --epochs "$EPOCHS" --seed "$seed" \
			--out "$B/$kind-$seed.safetensors" 2>"$B/$kind-$seed.log" &
	done
	wait
	tail -qn 1 "$B"/mrl-$seed.log "$B"/twin-$seed.log
	"$B/eval_model" --heldout "$B/heldout.tok" --fit "$B/train.tok" \
		--model "mrl(seed $seed)=$B/mrl-$seed.safetensors" \
		--model "twin(seed $seed)=$B/twin-$seed.safetensors" \
		--pca "twin+pca(seed $seed)=$B/twin-$seed.safetensors" \
		--pca "mrl+pca(seed $seed)=$B/mrl-$seed.safetensors"
done
