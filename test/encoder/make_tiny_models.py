#!/usr/bin/env python3
"""make_tiny_models.py: tiny random encoder models for the forward-pass tests.

Writes Hugging Face style model directories (config.json, model.safetensors,
sentence-transformers pooling files) for the two architectures the encoder
runs: `bert` (HF BertModel names) and `nomic-bert` (HF NomicBertModel names).
Weights come from a fixed-seed xorshift generator in pure Python, so the
files are byte-identical on every machine and need no numpy or torch.

Also a model2vec-style static model (mean of token-embedding rows).

Usage: make_tiny_models.py OUTDIR
  (creates OUTDIR/tiny-bert, OUTDIR/tiny-nomic, OUTDIR/tiny-static)

With numpy and gguf_tools.py (the GGUF writer next to this file) available
it also writes llama.cpp-style GGUF copies OUTDIR/tiny-{bert,nomic}.TYPE.gguf
for TYPE in GGUF_TYPES (2-D tensors in TYPE, 1-D tensors in F32).
"""
import json
import math
import os
import struct
import sys

# Shapes shared by both tiny models (the nomic FFN is narrower on purpose so
# a mix-up of n_ff with n_embd shows).  Multiples of 32 so Q8_0/Q4_0 work.
VOCAB = 200
HIDDEN = 64
HEADS = 4
LAYERS = 2
MAX_POS = 64
TYPES = 2
GGUF_TYPES = ["F32", "F16", "Q8_0", "Q4_0", "Q5_1"]


class Rng:
    """xorshift64* stream; uniform(-a, a) values, reproducible everywhere."""

    def __init__(self, seed):
        self.s = (seed * 0x9E3779B97F4A7C15 + 1) & 0xFFFFFFFFFFFFFFFF

    def next(self):
        s = self.s
        s ^= s >> 12
        s ^= (s << 25) & 0xFFFFFFFFFFFFFFFF
        s ^= s >> 27
        self.s = s
        return (s * 0x2545F4914F6CDD1D) & 0xFFFFFFFFFFFFFFFF

    def tensor(self, shape, std, mean=0.0):
        """Row-major list of floats with the given std (uniform distribution)."""
        a = std * math.sqrt(3.0)
        n = 1
        for d in shape:
            n *= d
        return [mean + a * (2.0 * (self.next() >> 11) / float(1 << 53) - 1.0)
                for _ in range(n)]


def write_safetensors(path, tensors):
    """tensors: list of (name, shape, values) written as F32 safetensors."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name, shape, values in tensors:
        blob = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": list(shape),
                        "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)   # keep the data 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def norm_pair(rng, prefix):
    """LayerNorm weight near 1 and bias near 0 (random so mix-ups show)."""
    return [(prefix + ".weight", [HIDDEN], rng.tensor([HIDDEN], 0.1, 1.0)),
            (prefix + ".bias", [HIDDEN], rng.tensor([HIDDEN], 0.1))]


def linear(rng, name, n_out, n_in, bias=True, std=0.15):
    out = [(name + ".weight", [n_out, n_in], rng.tensor([n_out, n_in], std))]
    if bias:
        out.append((name + ".bias", [n_out], rng.tensor([n_out], 0.05)))
    return out


def bert_model(seed=1234, ff=128):
    """HF BertModel tensors + config (post-LN, GELU, absolute positions)."""
    rng = Rng(seed)
    t = [("embeddings.word_embeddings.weight", [VOCAB, HIDDEN], rng.tensor([VOCAB, HIDDEN], 0.5)),
         ("embeddings.position_embeddings.weight", [MAX_POS, HIDDEN], rng.tensor([MAX_POS, HIDDEN], 0.3)),
         ("embeddings.token_type_embeddings.weight", [TYPES, HIDDEN], rng.tensor([TYPES, HIDDEN], 0.3))]
    t += norm_pair(rng, "embeddings.LayerNorm")
    for i in range(LAYERS):
        p = "encoder.layer.%d." % i
        for m in ("query", "key", "value"):
            t += linear(rng, p + "attention.self." + m, HIDDEN, HIDDEN)
        t += linear(rng, p + "attention.output.dense", HIDDEN, HIDDEN)
        t += norm_pair(rng, p + "attention.output.LayerNorm")
        t += linear(rng, p + "intermediate.dense", ff, HIDDEN)
        t += linear(rng, p + "output.dense", HIDDEN, ff, std=0.1)
        t += norm_pair(rng, p + "output.LayerNorm")
    t += linear(rng, "pooler.dense", HIDDEN, HIDDEN)   # unused by embeddings
    config = {"architectures": ["BertModel"], "model_type": "bert",
              "vocab_size": VOCAB, "hidden_size": HIDDEN,
              "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
              "intermediate_size": ff, "hidden_act": "gelu",
              "max_position_embeddings": MAX_POS, "type_vocab_size": TYPES,
              "layer_norm_eps": 1e-12, "pad_token_id": 0,
              "position_embedding_type": "absolute", "torch_dtype": "float32"}
    return config, t


def nomic_model(seed=5678, ff=96):
    """HF NomicBertModel tensors + config (fused QKV, RoPE, SwiGLU, no biases)."""
    rng = Rng(seed)
    t = [("embeddings.word_embeddings.weight", [VOCAB, HIDDEN], rng.tensor([VOCAB, HIDDEN], 0.5)),
         ("embeddings.token_type_embeddings.weight", [TYPES, HIDDEN], rng.tensor([TYPES, HIDDEN], 0.3))]
    t += norm_pair(rng, "emb_ln")
    for i in range(LAYERS):
        p = "encoder.layers.%d." % i
        t += linear(rng, p + "attn.Wqkv", 3 * HIDDEN, HIDDEN, bias=False)
        t += linear(rng, p + "attn.out_proj", HIDDEN, HIDDEN, bias=False)
        t += norm_pair(rng, p + "norm1")
        t += linear(rng, p + "mlp.fc11", ff, HIDDEN, bias=False)
        t += linear(rng, p + "mlp.fc12", ff, HIDDEN, bias=False)
        t += linear(rng, p + "mlp.fc2", HIDDEN, ff, bias=False, std=0.1)
        t += norm_pair(rng, p + "norm2")
    config = {"architectures": ["NomicBertModel"], "model_type": "nomic_bert",
              "vocab_size": VOCAB, "n_embd": HIDDEN, "n_head": HEADS,
              "n_layer": LAYERS, "n_inner": ff, "n_positions": MAX_POS,
              "max_trained_positions": MAX_POS, "type_vocab_size": TYPES,
              "layer_norm_epsilon": 1e-12, "activation_function": "swiglu",
              "rotary_emb_base": 1000, "rotary_emb_fraction": 1.0,
              "rotary_emb_interleaved": False, "rotary_emb_scale_base": None,
              "qkv_proj_bias": False, "mlp_fc1_bias": False,
              "mlp_fc2_bias": False, "prenorm": False, "torch_dtype": "float32"}
    return config, t


# A tiny lower-case WordPiece vocabulary with the bert-base special ids.
WORDS = ("the of and to in is it that was for on are with as be at by this "
         "had not cat dog sat mat hello world search query document "
         "classification clustering red green blue one two three").split()
SPECIAL = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]"}


def tiny_vocab():
    pieces = list("abcdefghijklmnopqrstuvwxyz") + ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"]
    pieces += list(".,:!?'-_") + WORDS + ["##s", "##ing", "##ed", "##er"]
    vocab, k = [], 0
    for i in range(VOCAB):
        if i in SPECIAL:
            vocab.append(SPECIAL[i])
        elif k < len(pieces):
            vocab.append(pieces[k])
            k += 1
        else:
            vocab.append("[unused%d]" % i)
    return vocab


def tokenizer_json(vocab):
    """A Hugging Face tokenizer.json for a lower-casing BERT WordPiece."""
    special = [{"id": i, "content": t, "single_word": False, "lstrip": False,
                "rstrip": False, "normalized": False, "special": True}
               for i, t in sorted(SPECIAL.items())]
    return {"version": "1.0", "truncation": None, "padding": None,
            "added_tokens": special,
            "normalizer": {"type": "BertNormalizer", "clean_text": True,
                           "handle_chinese_chars": True, "strip_accents": None,
                           "lowercase": True},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {
                "type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                           {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                         {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                         {"Sequence": {"id": "B", "type_id": 1}},
                         {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {
                    "[CLS]": {"id": "[CLS]", "ids": [101], "tokens": ["[CLS]"]},
                    "[SEP]": {"id": "[SEP]", "ids": [102], "tokens": ["[SEP]"]}}},
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
            "model": {"type": "WordPiece", "unk_token": "[UNK]",
                      "continuing_subword_prefix": "##",
                      "max_input_chars_per_word": 100,
                      "vocab": {t: i for i, t in enumerate(vocab)}}}


def static_model(seed=9012):
    """A model2vec static model: one [vocab, dim] table, mean of rows."""
    rng = Rng(seed)
    config = {"model_type": "model2vec", "architectures": ["StaticModel"],
              "hidden_dim": HIDDEN, "normalize": True}
    return config, [("embeddings", [VOCAB, HIDDEN], rng.tensor([VOCAB, HIDDEN], 0.5))]


def write_static_dir(path, config, tensors):
    """config.json, model.safetensors and tokenizer.json (model2vec layout)."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_safetensors(os.path.join(path, "model.safetensors"), tensors)
    with open(os.path.join(path, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(tiny_vocab()), f, indent=1)


def write_model_dir(path, config, tensors, pooling="mean"):
    """config.json, model.safetensors, tokenizer files, sentence-transformers
    module files."""
    os.makedirs(os.path.join(path, "1_Pooling"), exist_ok=True)
    os.makedirs(os.path.join(path, "2_Normalize"), exist_ok=True)
    vocab = tiny_vocab()
    with open(os.path.join(path, "vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")
    with open(os.path.join(path, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(vocab), f, indent=1)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_safetensors(os.path.join(path, "model.safetensors"), tensors)
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
    with open(os.path.join(path, "modules.json"), "w") as f:
        json.dump(modules, f, indent=2)
    with open(os.path.join(path, "1_Pooling", "config.json"), "w") as f:
        json.dump({"word_embedding_dimension": HIDDEN,
                   "pooling_mode_cls_token": pooling == "cls",
                   "pooling_mode_mean_tokens": pooling == "mean"}, f, indent=2)


def write_ggufs(out, name, arch, config, tensors):
    """GGUF copies of one model at every GGUF_TYPES type (via gguf_tools)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import numpy as np
    import gguf_tools
    weights = {n: np.array(v, dtype=np.float32).reshape(shape)
               for n, shape, v in tensors if not n.startswith("pooler.")}
    for qtype in GGUF_TYPES:
        gguf_tools.write_gguf_model(os.path.join(out, "%s.%s.gguf" % (name, qtype)),
                                    arch, config, weights, qtype)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_tiny_models.py OUTDIR")
    out = sys.argv[1]
    models = [("tiny-bert", "bert", bert_model()), ("tiny-nomic", "nomic-bert", nomic_model())]
    for name, arch, (config, tensors) in models:
        write_model_dir(os.path.join(out, name), config, tensors)
    write_static_dir(os.path.join(out, "tiny-static"), *static_model())
    if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gguf_tools.py")):
        for name, arch, (config, tensors) in models:
            write_ggufs(out, name, arch, config, tensors)


if __name__ == "__main__":
    main()
