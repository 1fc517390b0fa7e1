#!/usr/bin/env node
// gen_tokenizer_corpus.js [WORDNET_TEXT] > tokenizer_corpus.txt: the tokenizer
// conformance corpus, one JSON string per line: hand-written tricky cases,
// then strings generated from a fixed-seed PRNG, then (if the file from
// tools/extract_text.sh is given) every 600th WordNet gloss line.
'use strict';
const fs = require('fs');

const tricky = [
  '', ' ', '   ', '\t', '\n', '\r\n', ' \t \n ', '\u00a0', '\u3000', '\u2028\u2029',
  'Hello, world!', 'Hey friend!     How are you?!?', 'unaffable', 'UNAFFABLE',
  'café', 'cafe\u0301', 'CAFÉ', 'naïve résumé', 'Hokkaidō', 'Éire', 'Zürich', 'São Paulo', 'Ångström',
  'crème brûlée', 'piñata', 'Dvořák', 'Łódź', 'Ærøskøbing', 'façade', 'coöperate',
  'e\u0301\u0302\u0303', 'a\u0328\u0301', 'q\u0307\u0323', 'x\u0323\u0307', 'ǅ ǈ ǋ ǲ',
  'İstanbul', 'ISTANBUL ıi İI', 'i\u0307', 'Straße', 'STRASSE ẞ', 'ΟΔΥΣΣΕΥΣ', 'Σίσυφος', 'ὈΔΥΣΣΕΎΣ',
  'ﬁ ﬂ ﬀ', 'Ⅻ ⅻ', 'Ⓐⓑ', '𝐀𝐁𝐂 𝓐', 'ＦＵＬＬｗｉｄｔｈ　ｆｏｒｍｓ！？', '１２３４５', '｡｢｣､',
  '中文分词测试', '我爱北京天安门。', '東京都', '日本語のテキスト、カタカナ、ひらがな。', '한국어 텍스트입니다', '한',
  '\u1100\u1161\u11a8', '𠀀𠀁 𪜀 𫝀 𫠠 𬺰 丽', '豈 更', '⺀ ⼀', '〇', 'a中b文c',
  '😀', '👍🏽', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🇫🇷🇩🇪', 'I ❤️ NY', '#️⃣', '🥰🫠', 'emoji😀inside',
  'a\u0000b', 'a\u0001b', 'a\u007fb', 'a\u0085b', 'a\u200bb', 'a\u200db', 'a\ufeffb', 'a\ufffdb', 'a\ue000b',
  'tab\there', 'new\nline', 'cr\rreturn', 'vt\u000bff\u000c', 'a\u00adb', 'a\u2060b', 'a\u202eb',
  '...', '!!!???', '--==--', '"quoted"', "it's", "don't can't won't", '(parens) [brackets] {braces}',
  '$100 + 5% = <x> ^ | ~ `', 'a.b.c', 'e-mail@example.com', 'https://example.com/path?q=1&r=2',
  '¿Qué? ¡Sí!', '«guillemets»', '„Anführung“', '“smart” ‘quotes’', '—dash–', '…', '·•', '§¶†‡',
  '₹ € £ ¥ ₿', '½ ¼ ²', '٣٤٥', 'مرحبا بالعالم', 'שלום עולם', 'Привет, мир!', 'Ελληνικά', 'हिन्दी',
  'ภาษาไทย', 'ქართული', 'Հայերեն', 'ᚠᚢᚦ', '𓀀', 'ꦗꦮ', 'mixed Русский English 中文 한국어 العربية',
  '[CLS]', '[SEP]', 'hello [SEP] world', 'x[MASK]y', '[UNK]', '[PAD][PAD]', '[cls]', '[ SEP ]', '[SEP',
  'a'.repeat(100), 'a'.repeat(101), 'b'.repeat(250), 'é'.repeat(60), 'é'.repeat(101),
  'x'.repeat(99) + '\u0301', 'İ'.repeat(60), 'antidisestablishmentarianism', 'pneumonoultramicroscopicsilicovolcanoconiosis',
  'Lopadotemachoselachogaleokranioleipsanodrimhypotrimmatosilphiokarabomelitokatakechymenokichlepikossyphophattoperisteralektryonoptekephalliokigklopeleiolagoiosiraiobaphetraganopterygon',
  '1234567890', '3.14159', '1,000,000', '2026-11-27T09:30:00Z', 'v1.2.3-rc4', '0x7fffffff',
  'C++ and C# and F#', 'node.js', 'snake_case_name', 'camelCaseName', 'SCREAMING_CASE',
  ' leading space', 'trailing space ', '  both  ', 'multiple   internal     spaces',
  '\u0610\u0611', '\u0e33', '\u0f77', '\u1734', '\u166d', '\u2e43\u2e52', 'a\u0890b', 'x\u11938y',
  'data base database xdatax base-base based DATA Base', 'x[MASK]y [MASK]z [MASK] a [MASK]', 'a  [SEP]  b',
  'datadata basebase', 'azzqb ZZQ zzq  x', 'aQQXb QQX qqx QQX.', 'ww aww ww-ww wwb  ww wwv wwwv', 'Database BASE_base base2', '\u0300', '\u0301\u0301\u0301', 'ﬃ', 'Å Å Å', 'Ω Ω', 'K K', '\u0344', '\u0f73', '\u1e9b\u0323',
];

// mulberry32: a small fixed-seed PRNG, so the corpus is reproducible
function prng(seed) {
  return function () {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
// MRL_CORPUS_SEED / MRL_CORPUS_SIZE give larger differential runs (not committed)
const rnd = prng(Number(process.env.MRL_CORPUS_SEED || 20261127));
const pick = (a) => a[Math.floor(rnd() * a.length)];
const words = ('the of and to in is was for that with as on by at from this be are or an it not which but ' +
  'database index vector embedding query model token search retrieval learning neural network postgres ' +
  'running ran runs unbelievable happiness photosynthesis quickly organization international ' +
  'tokenizer wordpiece matryoshka truncation encoder transformer attention layer').split(' ');
const accented = 'café résumé naïve über Mädchen Øresund élève señor ça déjà vu Ñandú über-cool mañana Kraków'.split(' ');
const foreign = ['中国', '日本', '한국', 'Москва', 'Αθήνα', 'القاهرة', 'תל אביב', 'मुंबई', 'กรุงเทพ'];
const puncts = Array.from('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~¡¿«»–—‘’“”…‹›•·¶§†‡‰′″、。「」『』【】〈〉！？，．：；（）');
const spaces = [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u2009', '\u2028', '\u0085'];
const emoji = ['😀', '🎉', '👍', '👍🏿', '❤️', '👩‍💻', '🧑‍🤝‍🧑', '🇯🇵', '✨', '🥰', '🫠', '©', '™'];
const marks = ['\u0300', '\u0301', '\u0302', '\u0308', '\u0323', '\u0327', '\u0328', '\u0331', '\u034f', '\u0345', '\u05b0', '\u093c', '\u0e48', '\u1ab0', '\u20d7', '\u302a', '\u1dc0'];
// code point blocks to sample from, including ones where tokenizers' old tables differ
const blocks = [[0x20, 0x7e], [0xa0, 0x24f], [0x250, 0x36f], [0x370, 0x52f], [0x590, 0x6ff], [0x800, 0x8ff],
  [0x900, 0xdff], [0xe00, 0xfff], [0x1000, 0x1cff], [0x1d00, 0x1fff], [0x2000, 0x2bff], [0x2c00, 0x2e7f],
  [0x2e80, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff], [0xa000, 0xabff], [0xac00, 0xd7a3], [0xf900, 0xffef],
  [0x10000, 0x1342f], [0x13430, 0x1345f], [0x16800, 0x1bcff], [0x1d000, 0x1faff], [0x20000, 0x2fa1f],
  [0xe0000, 0xe01ef], [0xf0000, 0xf00ff]];

function randomChar() {
  const [lo, hi] = pick(blocks);
  return String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)));
}
function randomWord() {
  const r = rnd();
  if (r < 0.45) { const w = pick(words); return rnd() < 0.2 ? w.toUpperCase() : rnd() < 0.2 ? w[0].toUpperCase() + w.slice(1) : w; }
  if (r < 0.55) return pick(accented);
  if (r < 0.62) return pick(foreign);
  if (r < 0.70) return pick(puncts).repeat(1 + Math.floor(rnd() * 3));
  if (r < 0.75) return pick(emoji);
  if (r < 0.83) return pick(words) + pick(marks) + (rnd() < 0.5 ? pick(marks) : '');
  if (r < 0.95) { let s = ''; const n = 1 + Math.floor(rnd() * 6); for (let i = 0; i < n; i++) s += randomChar(); return s; }
  if (r < 0.97) return pick(['[SEP]', '[CLS]', '[MASK]', '[UNK]', '[PAD]']);
  if (r < 0.985) return String.fromCodePoint(pick([0, 1, 7, 0x1b, 0x7f, 0x9f, 0xad, 0x200b, 0x200d, 0xfeff, 0xfffd, 0xe123, 0x10fffd]));
  let s = ''; while (s.length < 95 + Math.floor(rnd() * 15)) s += pick(words); return s;
}
function randomString() {
  const n = Math.floor(rnd() * 25);
  let s = rnd() < 0.1 ? pick(spaces) : '';
  for (let i = 0; i < n; i++) s += (i ? (rnd() < 0.8 ? ' ' : pick(spaces)) : '') + randomWord();
  return s;
}

const out = tricky.slice();
while (out.length < Number(process.env.MRL_CORPUS_SIZE || 1100)) out.push(randomString());
if (process.argv[2]) {
  const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n');
  for (let i = 0; i < lines.length; i += 600) if (lines[i]) out.push(lines[i]);
}
process.stdout.write(out.map((s) => JSON.stringify(s)).join('\n') + '\n');
