#!/usr/bin/env node
// train_tokenizer.js TEXTDIR OUT.json [VOCAB_SIZE]: train the built-in model's
// BERT-style WordPiece vocabulary (lowercase, strip accents) with Hugging Face
// tokenizers on the text from tools/extract_text.sh, and save a standard
// tokenizer.json.  Versions are pinned in tools/package-lock.json.
//
// The npm binding exposes only the model's default trainer (30,000 tokens,
// no special tokens).  A WordPiece trainer is BPE underneath, whose merges do
// not depend on the target size, so the first VOCAB_SIZE - 5 trained tokens
// are exactly what a VOCAB_SIZE trainer would keep; the five special tokens
// are placed in front.  The trainer numbers tokens in hash-map order, so
// equal-count merges may come out in a different order from run to run:
// run this through tools/train_tokenizer.sh, which fixes the hash keys.  The
// kept tokens are renumbered in byte order, so the file depends only on
// which tokens were kept.
'use strict';
const fs = require('fs');
const path = require('path');
const tk = require('tokenizers');

const [textDir, outPath, sizeArg] = process.argv.slice(2);
if (!textDir || !outPath) {
  console.error('usage: train_tokenizer.js TEXTDIR OUT.json [VOCAB_SIZE]');
  process.exit(2);
}
const vocabSize = Number(sizeArg || 20000);
const specials = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
const files = fs.readdirSync(textDir).filter((f) => f.endsWith('.txt')).sort()
  .map((f) => path.join(textDir, f));

// the BERT pipeline the vocabulary is trained through and used with
function bertPipeline(tokenizer) {
  tokenizer.setNormalizer(tk.bertNormalizer({cleanText: true, handleChineseChars: true,
    stripAccents: true, lowercase: true}));
  tokenizer.setPreTokenizer(tk.bertPreTokenizer());
}

const trainer = new tk.Tokenizer(tk.WordPiece.empty());
bertPipeline(trainer);
trainer.train(files);
const trained = Object.entries(trainer.getVocab(false)).sort((a, b) => a[1] - b[1]);
if (trained.length < vocabSize - specials.length)
  throw new Error(`only ${trained.length} tokens trained, wanted ${vocabSize}`);

const kept = trained.map((e) => e[0]).filter((t) => !specials.includes(t))
  .slice(0, vocabSize - specials.length)
  .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
const vocab = {};
specials.concat(kept).forEach((t, i) => { vocab[t] = i; });

const tokenizer = new tk.Tokenizer(tk.WordPiece.init(vocab, {unkToken: '[UNK]',
  continuingSubwordPrefix: '##', maxInputCharsPerWord: 100}));
bertPipeline(tokenizer);
tokenizer.setPostProcessor(tk.templateProcessing('[CLS] $A [SEP]', '[CLS] $A [SEP] $B:1 [SEP]:1',
  [['[CLS]', vocab['[CLS]']], ['[SEP]', vocab['[SEP]']]]));
tokenizer.setDecoder(tk.wordPieceDecoder('##', true));
tokenizer.addAddedTokens(specials.map((t) => new tk.AddedToken(t, true, {normalized: false})));
tokenizer.save(outPath, true);
console.error(`${outPath}: ${Object.keys(vocab).length} tokens (from ${trained.length} trained)`);
