#!/usr/bin/python3
"""reference_forward.py: an independent PyTorch reference for the encoder.

Written from the architecture description (Hugging Face BertModel and
NomicBertModel, and nomic's Matryoshka recipe from its model card), not
from our C code, and computed in float64.  It runs a *padded* batch with an
additive attention mask (the C code packs sequences instead), so agreement
also checks that padding never leaks into a sequence.

Usage:
  reference_forward.py MODEL...  > expected_forward.json
Each MODEL is a Hugging Face directory made by make_tiny_models.py, or
DIR:FILE.gguf for a GGUF copy of that model (config from DIR, weights read
from the GGUF file and dequantised, so quantised files are checked against
the reference run on exactly the weights they hold).  The output lists the
test sequences and, per model (keyed by directory or file base name) and
per case (layers, pooling, normalisation, Matryoshka dims), the expected
vectors.  Needs Debian's python3-torch (run with /usr/bin/python3); GGUF
input also needs numpy and gguf_tools.py (block dequantisers).
"""
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

# The fixed test sequences: [CLS] ... [SEP] with lengths from 1 to the
# model maximum (64), ids spread over the vocabulary.
LENGTHS = [1, 3, 8, 17, 33, 64, 5]


def test_sequences(vocab=200):
    seqs = []
    for s, n in enumerate(LENGTHS):
        ids = [(7 + 37 * p + 11 * s * s) % vocab for p in range(n)]
        if n >= 2:
            ids[0], ids[-1] = 101, 102
        seqs.append(ids)
    return seqs


# Cases: (name, layers (0 = all), pooling (None = model's), normalize,
# dims (0 = full), dims mode)
CASES = [
    ("full", 0, None, 1, 0, "truncate"),
    ("raw", 0, None, 0, 0, "truncate"),
    ("layers1", 1, None, 1, 0, "truncate"),
    ("cls", 0, "cls", 1, 0, "truncate"),
    ("dims16", 0, None, 1, 16, "truncate"),
    ("nomic_dims16", 0, None, 1, 16, "layernorm"),
    ("nomic_dims64", 0, None, 1, 0, "layernorm"),
]

# GGUF copies of a model (same code paths, other weights) get fewer cases.
GGUF_CASES = ("full", "layers1", "cls")

DTYPES = {"F32": ("f", 4), "F64": ("d", 8)}


def load_safetensors(path):
    """Reads a safetensors file into float64 torch tensors."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        fmt, size = DTYPES[info["dtype"]]
        b, e = info["data_offsets"]
        vals = struct.unpack("<%d%s" % ((e - b) // size, fmt), data[base + b:base + e])
        out[name] = torch.tensor(vals, dtype=torch.float64).reshape(info["shape"])
    return out


def load_gguf(path, hf_names):
    """Reads a GGUF v2/v3 file (format: docs/gguf.md in
    github.com/ggml-org/ggml) and returns its tensors dequantised to float64,
    under the Hugging Face names hf_names."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import numpy as np
    import gguf_tools
    with open(path, "rb") as f:
        data = f.read()
    pos = [0]

    def take(fmt):
        v = struct.unpack_from("<" + fmt, data, pos[0])
        pos[0] += struct.calcsize("<" + fmt)
        return v[0]

    def string():
        n = take("Q")
        pos[0] += n
        return data[pos[0] - n:pos[0]].decode()

    sizes = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "B",
             10: "Q", 11: "q", 12: "d"}

    def value(vtype):
        if vtype == 8:
            return string()
        if vtype == 9:
            et, n = take("I"), take("Q")
            return [value(et) for _ in range(n)]
        return take(sizes[vtype])

    assert data[:4] == b"GGUF"
    pos[0] = 4
    take("I")
    n_tensors, n_kv = take("Q"), take("Q")
    kv = {}
    for _ in range(n_kv):
        key = string()
        kv[key] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        ne = [take("Q") for _ in range(take("I"))]
        infos.append((name, ne, take("I"), take("Q")))
    align = kv.get("general.alignment", 32)
    start = -(-pos[0] // align) * align
    type_names = {v[0]: (k, v[1], v[2]) for k, v in gguf_tools.TYPES.items()}
    by_name = {}
    for name, ne, tid, off in infos:
        tname, blck, bsize = type_names[tid]
        n = int(np.prod(ne))
        raw = data[start + off:start + off + n // blck * bsize]
        vals = gguf_tools.dequantize(tname, raw).astype(np.float64)
        by_name[name] = torch.from_numpy(vals.copy()).reshape(list(reversed(ne)))
    return {hf: by_name[gguf_tools.gguf_name(hf)] for hf in hf_names
            if not hf.startswith("pooler.")}


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)   # biased, as nn.LayerNorm
    return (x - mean) / torch.sqrt(var + eps) * w + b


def lin(x, t, name):
    y = x @ t[name + ".weight"].T
    if name + ".bias" in t:
        y = y + t[name + ".bias"]
    return y


def attention(q, k, v, mask, heads):
    """Scaled dot-product attention with an additive padding mask."""
    B, L, D = q.shape
    hd = D // heads
    q, k, v = (z.reshape(B, L, heads, hd).transpose(1, 2) for z in (q, k, v))
    scores = q @ k.transpose(-1, -2) / math.sqrt(hd)
    scores = scores + (1.0 - mask[:, None, None, :]) * -1e30
    probs = torch.softmax(scores, dim=-1)
    return (probs @ v).transpose(1, 2).reshape(B, L, D)


def rotary(x, heads, base):
    """GPT-NeoX style rotary embedding (rotate_half), positions 0..L-1."""
    B, L, D = x.shape
    hd = D // heads
    inv_freq = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    freqs = torch.outer(torch.arange(L, dtype=torch.float64), inv_freq)
    cos = torch.cat([freqs.cos(), freqs.cos()], -1)[None, :, None, :]
    sin = torch.cat([freqs.sin(), freqs.sin()], -1)[None, :, None, :]
    x = x.reshape(B, L, heads, hd)
    x1, x2 = x[..., :hd // 2], x[..., hd // 2:]
    rot = torch.cat([-x2, x1], -1)
    return (x * cos + rot * sin).reshape(B, L, D)


def bert_hidden(cfg, t, ids, mask, layers):
    """HF BertModel: absolute positions, post-LN, exact GELU."""
    eps = cfg["layer_norm_eps"]
    heads = cfg["num_attention_heads"]
    B, L = ids.shape
    x = (t["embeddings.word_embeddings.weight"][ids]
         + t["embeddings.position_embeddings.weight"][:L][None]
         + t["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], eps)
    for i in range(layers):
        p = "encoder.layer.%d." % i
        q = lin(x, t, p + "attention.self.query")
        k = lin(x, t, p + "attention.self.key")
        v = lin(x, t, p + "attention.self.value")
        a = lin(attention(q, k, v, mask, heads), t, p + "attention.output.dense")
        h = layer_norm(a + x, t[p + "attention.output.LayerNorm.weight"],
                       t[p + "attention.output.LayerNorm.bias"], eps)
        f = lin(F.gelu(lin(h, t, p + "intermediate.dense")), t, p + "output.dense")
        x = layer_norm(f + h, t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"], eps)
    return x


def nomic_hidden(cfg, t, ids, mask, layers):
    """HF NomicBertModel: rotary Q/K, fused QKV, SwiGLU, post-LN, no biases."""
    eps = cfg["layer_norm_epsilon"]
    heads = cfg["n_head"]
    D = cfg["n_embd"]
    x = (t["embeddings.word_embeddings.weight"][ids]
         + t["embeddings.token_type_embeddings.weight"][0])
    x = layer_norm(x, t["emb_ln.weight"], t["emb_ln.bias"], eps)
    for i in range(layers):
        p = "encoder.layers.%d." % i
        qkv = lin(x, t, p + "attn.Wqkv")
        q, k, v = qkv[..., :D], qkv[..., D:2 * D], qkv[..., 2 * D:]
        q = rotary(q, heads, cfg["rotary_emb_base"])
        k = rotary(k, heads, cfg["rotary_emb_base"])
        a = lin(attention(q, k, v, mask, heads), t, p + "attn.out_proj")
        h = layer_norm(a + x, t[p + "norm1.weight"], t[p + "norm1.bias"], eps)
        y = lin(h, t, p + "mlp.fc11") * F.silu(lin(h, t, p + "mlp.fc12"))
        f = lin(y, t, p + "mlp.fc2")
        x = layer_norm(f + h, t[p + "norm2.weight"], t[p + "norm2.bias"], eps)
    return x


def embed(cfg, t, seqs, layers, pooling, normalize, dims, dims_mode):
    """Pooled (and post-processed) vectors for a padded batch of sequences."""
    B, L = len(seqs), max(len(s) for s in seqs)
    ids = torch.zeros(B, L, dtype=torch.long)
    mask = torch.zeros(B, L, dtype=torch.float64)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1.0
    if cfg["model_type"] == "model2vec":
        x = t["embeddings"][ids]             # a static model: no layers
    elif cfg["model_type"] == "bert":
        n_layers = layers or cfg["num_hidden_layers"]
        x = bert_hidden(cfg, t, ids, mask, n_layers)
    else:
        n_layers = layers or cfg["n_layer"]
        x = nomic_hidden(cfg, t, ids, mask, n_layers)
    if pooling == "cls":
        v = x[:, 0]
    else:
        v = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
    if dims_mode == "layernorm":
        v = F.layer_norm(v, (v.shape[-1],), eps=1e-5)
        v = F.normalize(v[:, :dims or v.shape[-1]], dim=-1)
    else:
        v = v[:, :dims or v.shape[-1]]
        if normalize:
            v = F.normalize(v, dim=-1)
    return v


def write_json(obj, out, indent=""):
    """JSON with one number list per line (readable diffs, small file)."""
    if isinstance(obj, dict):
        out.write("{\n")
        for i, (k, v) in enumerate(obj.items()):
            out.write(indent + " " + json.dumps(k) + ": ")
            write_json(v, out, indent + " ")
            out.write(",\n" if i + 1 < len(obj) else "\n")
        out.write(indent + "}")
    elif isinstance(obj, list) and obj and isinstance(obj[0], (list, dict)):
        out.write("[\n")
        for i, v in enumerate(obj):
            out.write(indent + " ")
            write_json(v, out, indent + " ")
            out.write(",\n" if i + 1 < len(obj) else "\n")
        out.write(indent + "]")
    else:
        out.write(json.dumps(obj))
    if not indent:
        out.write("\n")


def main():
    seqs = test_sequences()
    result = {"sequences": seqs, "models": {}}
    for spec in sys.argv[1:]:
        d, _, gguf = spec.partition(":")
        with open(os.path.join(d, "config.json")) as f:
            cfg = json.load(f)
        t = load_safetensors(os.path.join(d, "model.safetensors"))
        model = os.path.basename(os.path.normpath(d))
        if gguf:
            t = load_gguf(gguf, list(t))
            model = os.path.basename(gguf)
        cases = []
        for name, layers, pooling, normalize, dims, mode in CASES:
            if gguf and name not in GGUF_CASES:
                continue
            if cfg["model_type"] == "model2vec" and (layers or pooling):
                continue
            v = embed(cfg, t, seqs, layers, pooling, normalize, dims, mode)
            cases.append({"name": name, "layers": layers, "pooling": pooling or "model",
                          "normalize": normalize, "dims": dims, "dims_mode": mode,
                          "vectors": [[float("%.9g" % x) for x in row] for row in v.tolist()]})
        result["models"][model] = {"cases": cases}
    write_json(result, sys.stdout)


if __name__ == "__main__":
    main()
