#!/usr/bin/env bash
# build_model.sh [STEP]: rebuild the built-in static MRL model in model/
# from Debian packages, offline except for apt and npm (`make model`).
#
# Steps (all by default; or name one of: tools data tokens train):
#   tools   build tools/mrl_train and tools/eval_model (C, OpenBLAS)
#   data    install the Debian packages, fetch the English package
#           descriptions into a private apt list directory, and extract
#           (query, positive, source, group) pairs with a held-out split
#   tokens  tokenize the pairs with the built-in vocabulary,
#           model/0_StaticEmbedding/tokenizer.json (npm tokenizers)
#   train   train the 256-dim model, Matryoshka dims 16..256, fixed seed,
#           and write the sentence-transformers StaticEmbedding layout
# Work files go to $MRL_BUILD (default build/model); only model/ is kept.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${MRL_BUILD:-$ROOT/build/model}
DIM=256
DIMS=16,32,64,128,256
EPOCHS=${MRL_EPOCHS:-8}
SEED=${MRL_SEED:-42}
PACKAGES="wordnet-base manpages manpages-dev dict-foldoc jargon-text python3 gcc make pkgconf
	libopenblas-dev liblapacke-dev libjson-c-dev libutf8proc-dev"
mkdir -p "$B"

build_tools()
{
	make -s -C "$ROOT/src/encoder" ../../tools/mrl_train ../../tools/eval_model
}

# Debian packages for the data and the tools; node and npm must be on PATH.
install_packages()
{
	local missing=()
	for p in $PACKAGES; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			-o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
	fi
	command -v node >/dev/null && command -v npm >/dev/null ||
		{ echo "build_model.sh: node and npm are needed for tokenization" >&2; exit 1; }
}

extract_data()
{
	# Long descriptions live in Translation-en, which this system's apt
	# (Acquire::Languages "none") does not fetch; get them into a private
	# list directory so the system's apt state is left alone.
	mkdir -p "$B/aptlists/partial"
	apt-get update -qq -o Dir::State::Lists="$B/aptlists" \
		-o Acquire::Languages=en -o Debug::NoLocking=1 >/dev/null
	/usr/bin/python3 "$ROOT/tools/data/extract_pairs.py" "$B/pairs" \
		--apt-lists "$B/aptlists"
}

tokenize()
{
	# not npm ci: tokenizers 0.13.3 names optional packages for other
	# platforms that were never published, which npm ci counts as missing
	# from the lock file; npm install takes the locked versions all the same
	[ -d "$ROOT/tools/node_modules/tokenizers" ] ||
		npm install --prefix "$ROOT/tools" --no-audit --no-fund --no-save >/dev/null
	for s in train heldout; do
		node "$ROOT/tools/data/tokenize_pairs.js" "$ROOT/model/0_StaticEmbedding/tokenizer.json" \
			"$B/pairs/$s.tsv" "$B/$s.tok"
	done
}

# The vocabulary size of a tokenizer.json (model vocab plus added tokens).
vocab_size()
{
	node -e 'const t = require(process.argv[1]).Tokenizer.fromFile(process.argv[2]);
		console.log(t.getVocabSize(true));' \
		"$ROOT/tools/node_modules/tokenizers" "$ROOT/model/0_StaticEmbedding/tokenizer.json"
}

train()
{
	local st="$ROOT/model/0_StaticEmbedding"
	mkdir -p "$st"
	OPENBLAS_NUM_THREADS=1 "$ROOT/tools/mrl_train" --pairs "$B/train.tok" \
		--vocab "$(vocab_size)" --dim $DIM --dims $DIMS --epochs "$EPOCHS" \
		--seed "$SEED" --out "$st/model.safetensors"
	cat >"$ROOT/model/modules.json" <<-'EOF'
	[
	  {
	    "idx": 0,
	    "name": "0",
	    "path": "0_StaticEmbedding",
	    "type": "sentence_transformers.models.StaticEmbedding"
	  },
	  {
	    "idx": 1,
	    "name": "1",
	    "path": "1_Normalize",
	    "type": "sentence_transformers.models.Normalize"
	  }
	]
	EOF
	cat >"$ROOT/model/config_sentence_transformers.json" <<-'EOF'
	{
	  "__version__": {
	    "sentence_transformers": "3.3.1"
	  },
	  "prompts": {},
	  "default_prompt_name": null,
	  "similarity_fn_name": "cosine"
	}
	EOF
	du -sh "$ROOT/model"
}

case "${1:-all}" in
tools) build_tools ;;
data) install_packages && extract_data ;;
tokens) tokenize ;;
train) build_tools && train ;;
all) install_packages && build_tools && extract_data && tokenize && train ;;
*) echo "usage: build_model.sh [tools|data|tokens|train]" >&2; exit 2 ;;
esac
