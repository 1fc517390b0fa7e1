#!/usr/bin/env bash
# Tokenizer throughput on the conformance corpus (one thread, CPU time);
# with tools/node_modules present, Hugging Face tokenizers' for comparison.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
make -s -C "$root/src/encoder" ../../test/bench/tokenizer_bench >/dev/null
"$root/test/bench/tokenizer_bench" "$root/model/0_StaticEmbedding/tokenizer.json" "$root/test/encoder/tokenizer_corpus.txt" "${1:-3}"
if [ -d "$root/tools/node_modules/tokenizers" ]; then
	NODE_PATH="$root/tools/node_modules" RAYON_NUM_THREADS=1 node -e '
const tk = require("tokenizers"), fs = require("fs");
const t = tk.Tokenizer.fromFile(process.argv[1]);
const texts = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
(async () => {
  let tokens = 0, rounds = 0; const t0 = process.cpuUsage();
  let el;
  do {
    for (const s of texts) tokens += (await t.encode(s)).getIds().length;
    rounds++;
    const u = process.cpuUsage(t0); el = (u.user + u.system) / 1e6;
  } while (el < Number(process.argv[3]));
  console.log(`HF tokenizers (node, one call per string): ${texts.length} strings x ${rounds} rounds in ${el.toFixed(2)} s CPU: ${(tokens / el).toFixed(0)} tokens/s`);
})();' "$root/model/0_StaticEmbedding/tokenizer.json" "$root/test/encoder/tokenizer_corpus.txt" "${1:-3}"
fi
