#!/usr/bin/env node
// tokenize_pairs.js: turn extract_pairs.py's TSV (query, positive, source,
// group) into the token-id file tools/mrl_train.c and tools/eval_model.c
// read.  Texts are tokenized without [CLS]/[SEP] (as a static model pools
// them), identical token sequences are merged into one text (so the
// trainer's no-duplicates batching sees them as the same text), and empty
// texts are dropped with their pairs.  Output format, all decimal:
//   mrl-pairs 1 <n_texts> <n_pairs>
//   <n_texts lines: the token ids of one text, space-separated>
//   <n_pairs lines: anchor-text positive-text source-name>
// usage: node tokenize_pairs.js tokenizer.json in.tsv out.tok
'use strict';
const fs = require('fs');
const readline = require('readline');
const { Tokenizer } = require('tokenizers');

const MAX_TOKENS = 256;

async function main() {
  const [tokPath, inPath, outPath] = process.argv.slice(2);
  if (!outPath) {
    console.error('usage: tokenize_pairs.js tokenizer.json in.tsv out.tok');
    process.exit(2);
  }
  const tok = Tokenizer.fromFile(tokPath);
  const rows = [];
  const rl = readline.createInterface({ input: fs.createReadStream(inPath) });
  for await (const line of rl) {
    const f = line.split('\t');
    if (f.length >= 3) rows.push(f);
  }
  const index = new Map();   // token sequence -> text number
  const texts = [];
  const pairs = [];
  const textOf = (ids) => {
    const key = ids.slice(0, MAX_TOKENS).join(' ');
    if (!index.has(key)) { index.set(key, texts.length); texts.push(key); }
    return index.get(key);
  };
  const BATCH = 4096;
  for (let i = 0; i < rows.length; i += BATCH) {
    const chunk = rows.slice(i, i + BATCH);
    const q = await tok.encodeBatch(chunk.map((r) => r[0]), { addSpecialTokens: false });
    const p = await tok.encodeBatch(chunk.map((r) => r[1]), { addSpecialTokens: false });
    for (let j = 0; j < chunk.length; j++) {
      const qi = q[j].getIds(), pi = p[j].getIds();
      if (qi.length === 0 || pi.length === 0) continue;
      const a = textOf(qi), b = textOf(pi);
      if (a !== b) pairs.push(`${a} ${b} ${chunk[j][2]}`);
    }
  }
  const out = fs.createWriteStream(outPath);
  out.write(`mrl-pairs 1 ${texts.length} ${pairs.length}\n`);
  for (const t of texts) out.write(t + '\n');
  for (const p of pairs) out.write(p + '\n');
  out.end();
  out.on('finish', () => console.error(`${inPath}: ${texts.length} texts, ${pairs.length} pairs`));
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
