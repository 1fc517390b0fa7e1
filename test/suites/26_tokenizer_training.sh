#!/usr/bin/env bash
# 26_tokenizer_training.sh: the built-in vocabulary's recipe is reproducible.
# tools/train_tokenizer.sh (Hugging Face tokenizers from npm, pinned in
# tools/package.json) trains a WordPiece vocabulary twice, in two processes,
# on the same text: the two tokenizer.json files must be identical bytes, and
# the result must load in the encoder's own tokenizer and encode text.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/mrl-toktrain.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
. "$ROOT/test/lib.sh"

if [ ! -d "$ROOT/tools/node_modules/tokenizers" ]; then
	(cd "$ROOT/tools" && npm install --no-save --no-audit --no-fund \
		tokenizers@0.13.3 tokenizers-linux-x64-gnu@0.13.4-rc2 >"$TMP/npm.log" 2>&1) ||
		{ cat "$TMP/npm.log"; notok "install the npm tokenizers package"; exit 1; }
fi

# some English text from the repository's own documentation
mkdir -p "$TMP/text"
cat "$ROOT"/README.md "$ROOT"/model/README.md "$ROOT"/doc/*.md >"$TMP/text/docs.txt"
for run in 1 2; do
	if ! bash "$ROOT/tools/train_tokenizer.sh" "$TMP/text" "$TMP/tok$run.json" 600 >"$TMP/train$run.log" 2>&1; then
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
cat >"$TMP/check.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "tokenizer.h"
int main(int argc, char **argv)
{
	char err[256];
	mrl_tokenizer *tok = mrl_tokenizer_load_file(argv[1], err, sizeof(err));
	mrl_encoding enc = {0};
	if (!tok) { printf("%s\n", err); return 1; }
	if (mrl_tokenizer_encode(tok, argv[2], strlen(argv[2]), 0, &enc, err, sizeof(err)) < 0)
	{ printf("%s\n", err); return 1; }
	printf("%d", mrl_tokenizer_vocab_size(tok));
	for (int i = 0; i < enc.n; i++) printf(" %d", enc.ids[i]);
	printf("\n");
	return 0;
}
C
make -s -C "$ROOT/src/encoder" libmrlenc.a >/dev/null &&
	cc -I"$ROOT/src/encoder" -o "$TMP/check" "$TMP/check.c" "$ROOT/src/encoder/libmrlenc.a" \
		-lopenblas -llapacke -lutf8proc -ljson-c -lm -lpthread 2>"$TMP/cc.log" ||
	{ cat "$TMP/cc.log"; notok "build the tokenizer check"; exit 1; }
text="The funnel index shortlists candidates on a Matryoshka prefix."
ours=$("$TMP/check" "$TMP/tok1.json" "$text")
theirs=$(NODE_PATH="$ROOT/tools/node_modules" node -e '
	const tk = require("tokenizers");
	const t = tk.Tokenizer.fromFile(process.argv[1]);
	t.encode(process.argv[2]).then((r) => console.log(t.getVocabSize(true) + " " + r.getIds().join(" ")));
' "$TMP/tok1.json" "$text")
if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then
	ok "the trained vocabulary loads in the encoder's tokenizer, same ids as Hugging Face (${ours%% *} tokens)"
else
	notok "ours: $ours / Hugging Face: $theirs"
fi
