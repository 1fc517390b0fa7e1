#!/usr/bin/env bash
# 26_tokenizer_training.sh: the built-in vocabulary's recipe is reproducible.
# tools/train_tokenizer.sh (Hugging Face tokenizers from npm, pinned in
# tools/package.json) trains a WordPiece vocabulary twice, in two processes,
# on the same text: the two tokenizer.json files must be identical bytes, and
# the result must load in the encoder's own tokenizer and encode text.
set -u
. "$(dirname "$0")/../lib.sh"
TMP=$(mktemp -d /tmp/mrl-toktrain.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

if [ ! -d "$MRL_ROOT/tools/node_modules/tokenizers" ]; then
	(cd "$MRL_ROOT/tools" && npm install --no-save --no-audit --no-fund \
		tokenizers@0.13.3 tokenizers-linux-x64-gnu@0.13.4-rc2 >"$TMP/npm.log" 2>&1) ||
		{ cat "$TMP/npm.log"; notok "install the npm tokenizers package"; exit 1; }
fi

# some English text from the repository's own documentation
mkdir -p "$TMP/text"
cat "$MRL_ROOT"/README.md "$MRL_ROOT"/model/README.md "$MRL_ROOT"/doc/*.md >"$TMP/text/docs.txt"
for run in 1 2; do
	if ! bash "$MRL_ROOT/tools/train_tokenizer.sh" "$TMP/text" "$TMP/tok$run.json" 600 >"$TMP/train$run.log" 2>&1; then
		cat "$TMP/train$run.log"
		notok "train_tokenizer.sh run $run"
		exit 1
	fi
done
if cmp -s "$TMP/tok1.json" "$TMP/tok2.json"; then
	ok "two training runs give byte-identical tokenizer.json ($(md5sum <"$TMP/tok1.json" | cut -c1-12))"
else
	notok "two training runs differ"
fi

# the trained file loads in our tokenizer and encodes like Hugging Face's
make -s -C "$MRL_ROOT/src/encoder" ../../tools/mrl_tokenize >"$TMP/cc.log" 2>&1 ||
	{ cat "$TMP/cc.log"; notok "build tools/mrl_tokenize"; exit 1; }
text="The funnel index shortlists candidates on a Matryoshka prefix."
ours=$("$MRL_ROOT/tools/mrl_tokenize" "$TMP/tok1.json" "$text" 2>&1)
theirs=$(NODE_PATH="$MRL_ROOT/tools/node_modules" node -e '
	const tk = require("tokenizers");
	const t = tk.Tokenizer.fromFile(process.argv[1]);
	t.encode(process.argv[2]).then((r) => console.log(t.getVocabSize(true) + " " + r.getIds().join(" ")));
' "$TMP/tok1.json" "$text")
if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then
	ok "the trained vocabulary loads in the encoder's tokenizer, same ids as Hugging Face (${ours%% *} tokens)"
else
	notok "ours: $ours / Hugging Face: $theirs"
fi
