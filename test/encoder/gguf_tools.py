#!/usr/bin/python3
"""gguf_tools.py: test-side model-file writers and an independent reference.

Written from the public format descriptions (the GGUF specification,
docs/gguf.md in https://github.com/ggml-org/ggml; ggml's block_* structs in its
src/ggml-common.h; the safetensors format,
https://github.com/huggingface/safetensors#format), not from the C code, with numpy only (Debian python3-numpy), so the C readers
can be checked against it:

  * GGUFWriter: GGUF v2/v3 files with typed metadata and tensors in
    F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K.
  * quantize(type, x) / dequantize(type, raw): per-type block codecs.
    dequantize() is the golden reference; it is vectorised and indexes
    elements directly (element -> byte/bit position) rather than following
    the loop structure of ggml's C code.
  * write_safetensors(): safetensors files (optionally sharded with an index).
  * tiny random BERT / nomic-bert / static models in Hugging Face,
    sentence-transformers, model2vec and GGUF layouts (for loader tests and
    for the forward-pass tests).

Command line:
  gguf_tools.py golden DIR [SEED]   random blocks per type: DIR/TYPE.bin (raw
                                    blocks) and DIR/TYPE.f32 (expected floats)
"""
import json
import os
import struct
import sys

import numpy as np

F32 = np.float32

# ggml type ids, elements per block, bytes per block
TYPES = {
    'F32': (0, 1, 4), 'F16': (1, 1, 2), 'Q4_0': (2, 32, 18), 'Q4_1': (3, 32, 20),
    'Q5_0': (6, 32, 22), 'Q5_1': (7, 32, 24), 'Q8_0': (8, 32, 34),
    'Q4_K': (12, 256, 144), 'Q5_K': (13, 256, 176), 'Q6_K': (14, 256, 210),
    'BF16': (30, 1, 2),
}

# GGUF metadata value types
UINT8, INT8, UINT16, INT16, UINT32, INT32, FLOAT32, BOOL, STRING, ARRAY, \
    UINT64, INT64, FLOAT64 = range(13)
SCALAR_FMT = {UINT8: '<B', INT8: '<b', UINT16: '<H', INT16: '<h', UINT32: '<I',
              INT32: '<i', FLOAT32: '<f', BOOL: '<?', UINT64: '<Q', INT64: '<q',
              FLOAT64: '<d'}


# ---------------------------------------------------------------- half floats

def f16_bits(x):
    """float values -> IEEE binary16 bit patterns (round to nearest even)."""
    return np.asarray(x, dtype=F32).astype('<f2').view('<u2')


def f16_value(bits):
    return np.asarray(bits, dtype='<u2').view('<f2').astype(F32)


def bf16_bits(x):
    """float32 -> bfloat16 by round-to-nearest-even on the upper 16 bits."""
    u = np.asarray(x, dtype=F32).view('<u4').astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype('<u2')


# ---------------------------------------------------------- block dequantisers

def _blocks(raw, qtype):
    _, be, bb = TYPES[qtype]
    raw = np.frombuffer(bytes(raw), dtype=np.uint8)
    assert raw.size % bb == 0, 'partial block'
    return raw.reshape(-1, bb)


def _f16_at(b, off):
    """The f16 field at byte offset off of every block, as float32."""
    return b[:, off:off + 2].copy().view('<f2').astype(F32)[:, 0]


def _k4_scale_min(scales):
    """Unpack the 12-byte 6-bit scale/min table of Q4_K/Q5_K: (n, 8) each."""
    s = scales.astype(np.int32)
    sc = np.empty((s.shape[0], 8), np.int32)
    mn = np.empty((s.shape[0], 8), np.int32)
    sc[:, :4] = s[:, 0:4] & 63
    mn[:, :4] = s[:, 4:8] & 63
    sc[:, 4:] = (s[:, 8:12] & 0xF) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc, mn


def _legacy_q(b, qs_off, qh_off):
    """Unsigned 4/5-bit values of the 32-element types: element e < 16 is the
    low nibble of qs[e], e >= 16 the high nibble of qs[e-16]; bit e of the
    32-bit qh word (if any) is bit 4 of element e."""
    e = np.arange(32)
    qs = b[:, qs_off + (e % 16)].astype(np.int32)
    q = np.where(e < 16, qs & 0xF, qs >> 4)
    if qh_off is not None:
        qh = b[:, qh_off:qh_off + 4].copy().view('<u4').astype(np.int64)
        q = q | (((qh >> e) & 1) << 4).astype(np.int32)
    return q


def _kquant_q(b, qs_off, qh_off):
    """Q4_K/Q5_K element e: chunk c = e // 64 uses qs[32c:32c+32]; element
    32c*2 + 32h + l is nibble h of qs[32c + l]; bit (2c + h) of qh[l] is its
    fifth bit.  Returns (values, sub-block index per element)."""
    e = np.arange(256)
    c, h, l = e // 64, (e % 64) // 32, e % 32
    byte = b[:, qs_off + 32 * c + l].astype(np.int32)
    q = np.where(h == 0, byte & 0xF, byte >> 4)
    if qh_off is not None:
        q = q | (((b[:, qh_off + l].astype(np.int32) >> (2 * c + h)) & 1) << 4)
    return q, 2 * c + h


def dequantize(qtype, raw):
    """Reference dequantisation of raw blocks to a float32 vector."""
    if qtype == 'F32':
        return np.frombuffer(bytes(raw), '<f4').astype(F32)
    if qtype == 'F16':
        return f16_value(np.frombuffer(bytes(raw), '<u2'))
    if qtype == 'BF16':
        return (np.frombuffer(bytes(raw), '<u2').astype(np.uint32) << 16).view(F32)
    b = _blocks(raw, qtype)
    if qtype == 'Q8_0':
        y = b[:, 2:34].view(np.int8).astype(F32) * _f16_at(b, 0)[:, None]
    elif qtype == 'Q4_0':
        y = (_legacy_q(b, 2, None) - 8).astype(F32) * _f16_at(b, 0)[:, None]
    elif qtype == 'Q4_1':
        y = _legacy_q(b, 4, None).astype(F32) * _f16_at(b, 0)[:, None] + _f16_at(b, 2)[:, None]
    elif qtype == 'Q5_0':
        y = (_legacy_q(b, 6, 2) - 16).astype(F32) * _f16_at(b, 0)[:, None]
    elif qtype == 'Q5_1':
        y = _legacy_q(b, 8, 4).astype(F32) * _f16_at(b, 0)[:, None] + _f16_at(b, 2)[:, None]
    elif qtype in ('Q4_K', 'Q5_K'):
        d, dmin = _f16_at(b, 0)[:, None], _f16_at(b, 2)[:, None]
        sc, mn = _k4_scale_min(b[:, 4:16])
        q, sub = _kquant_q(b, 16 if qtype == 'Q4_K' else 48,
                           None if qtype == 'Q4_K' else 16)
        d1 = d * sc[:, sub].astype(F32)        # float32 products, as in ggml
        m1 = dmin * mn[:, sub].astype(F32)
        y = d1 * q.astype(F32) - m1
    elif qtype == 'Q6_K':
        # element 128h + 32k + l: low bits from ql[64h + l + 32(k&1)] (low
        # nibble for k < 2), high 2 bits = bits 2k.. of qh[32h + l], scale
        # index 8h + 2k + l//16
        e = np.arange(256)
        h, k, l = e // 128, (e % 128) // 32, e % 32
        ql = b[:, 64 * h + l + 32 * (k & 1)].astype(np.int32)
        lo = np.where(k < 2, ql & 0xF, ql >> 4)
        hi = (b[:, 128 + 32 * h + l].astype(np.int32) >> (2 * k)) & 3
        q = (lo | (hi << 4)) - 32
        sc = b[:, 192:208].view(np.int8).astype(F32)[:, 8 * h + 2 * k + l // 16]
        d = _f16_at(b, 208)[:, None]
        y = (d * sc) * q.astype(F32)
    else:
        raise ValueError('unsupported type ' + qtype)
    return np.ascontiguousarray(y, dtype=F32).reshape(-1)


# ------------------------------------------------------------- quantisers

def _absmax_signed(x):
    """Per row, the element of largest magnitude (with its sign)."""
    i = np.argmax(np.abs(x), axis=1)
    return x[np.arange(x.shape[0]), i]


def _safe_div(a, d):
    return np.where(d != 0, a / np.where(d != 0, d, 1), 0)


def _pack_legacy(q, qh_needed):
    """Inverse of _legacy_q: (n, 32) values -> (qh bytes, qs bytes)."""
    qs = ((q[:, :16] & 0xF) | ((q[:, 16:] & 0xF) << 4)).astype(np.uint8)
    qh = None
    if qh_needed:
        bits = ((q >> 4) & 1).astype(np.uint64) << np.arange(32, dtype=np.uint64)
        qh = bits.sum(axis=1).astype('<u4').view(np.uint8).reshape(-1, 4)
    return qh, qs


def _pack_k4_scales(sc, mn):
    """Inverse of _k4_scale_min: 8 six-bit scales and mins -> 12 bytes."""
    s = np.zeros((sc.shape[0], 12), np.int32)
    s[:, 0:4] = (sc[:, :4] & 63) | ((sc[:, 4:] >> 4) << 6)
    s[:, 4:8] = (mn[:, :4] & 63) | ((mn[:, 4:] >> 4) << 6)
    s[:, 8:12] = (sc[:, 4:] & 0xF) | ((mn[:, 4:] & 0xF) << 4)
    return s.astype(np.uint8)


def _quant_kquant(x, bits):
    """Q4_K / Q5_K: y = d*sc*q - dmin*m per 32-element sub-block."""
    n = x.shape[0]
    qmax = (1 << bits) - 1
    sub = x.reshape(n, 8, 32)
    lo = np.minimum(sub.min(axis=2), 0)
    hi = sub.max(axis=2)
    scale = (hi - lo) / qmax
    d = f16_value(f16_bits(scale.max(axis=1) / 63))
    dmin = f16_value(f16_bits(-lo.min(axis=1) / 63))
    sc = np.clip(np.round(_safe_div(scale, d[:, None])), 0, 63).astype(np.int32)
    mn = np.clip(np.round(_safe_div(-lo, dmin[:, None])), 0, 63).astype(np.int32)
    step = d[:, None] * sc
    q = np.clip(np.round(_safe_div(sub + (dmin[:, None] * mn)[:, :, None], step[:, :, None])),
                0, qmax).astype(np.int32)
    # element order: chunk c = sub-blocks 2c (low nibbles) and 2c+1 (high)
    q = q.reshape(n, 4, 2, 32)
    qs = ((q[:, :, 0, :] & 0xF) | ((q[:, :, 1, :] & 0xF) << 4)).reshape(n, 128)
    out = [f16_bits(d).view(np.uint8).reshape(n, 2), f16_bits(dmin).view(np.uint8).reshape(n, 2),
           _pack_k4_scales(sc, mn)]
    if bits == 5:
        c = np.arange(4)[None, :, None, None]
        h = np.arange(2)[None, None, :, None]
        qh = (((q >> 4) & 1) << (2 * c + h)).sum(axis=(1, 2))
        out.append(qh.astype(np.uint8))
    out.append(qs.astype(np.uint8))
    return np.concatenate(out, axis=1)


def _quant_q6_k(x):
    n = x.shape[0]
    grp = x.reshape(n, 16, 16)
    gscale = _absmax_signed(grp.reshape(-1, 16)).reshape(n, 16) / -32
    d = f16_value(f16_bits(np.abs(gscale).max(axis=1) / 127))
    sc = np.clip(np.round(_safe_div(gscale, d[:, None])), -128, 127).astype(np.int32)
    step = (d[:, None] * sc)[:, :, None]
    q = (np.clip(np.round(_safe_div(grp, step)), -32, 31) + 32).astype(np.int32).reshape(n, 256)
    ql = np.zeros((n, 128), np.int32)
    qh = np.zeros((n, 64), np.int32)
    for e in range(256):
        h, k, l = e // 128, (e % 128) // 32, e % 32
        ql[:, 64 * h + l + 32 * (k & 1)] |= (q[:, e] & 0xF) << (0 if k < 2 else 4)
        qh[:, 32 * h + l] |= (q[:, e] >> 4) << (2 * k)
    return np.concatenate([ql.astype(np.uint8), qh.astype(np.uint8),
                           sc.astype(np.int8).view(np.uint8),
                           f16_bits(d).view(np.uint8).reshape(n, 2)], axis=1)


def quantize(qtype, x):
    """float array (size a multiple of the block) -> raw bytes of qtype."""
    x = np.ascontiguousarray(x, dtype=F32).reshape(-1)
    if qtype == 'F32':
        return x.astype('<f4').tobytes()
    if qtype == 'F16':
        return f16_bits(x).tobytes()
    if qtype == 'BF16':
        return bf16_bits(x).tobytes()
    _, be, bb = TYPES[qtype]
    assert x.size % be == 0, 'size not a multiple of the block size'
    b = x.reshape(-1, be)
    n = b.shape[0]
    if qtype == 'Q8_0':
        d = f16_value(f16_bits(np.abs(b).max(axis=1) / 127))
        q = np.clip(np.round(_safe_div(b, d[:, None])), -127, 127).astype(np.int8)
        out = np.concatenate([f16_bits(d).view(np.uint8).reshape(n, 2), q.view(np.uint8)], axis=1)
    elif qtype in ('Q4_0', 'Q5_0'):
        half = 8 if qtype == 'Q4_0' else 16
        d = f16_value(f16_bits(_absmax_signed(b) / -half))
        q = np.clip(np.round(_safe_div(b, d[:, None])) + half, 0, 2 * half - 1).astype(np.int32)
        qh, qs = _pack_legacy(q, qtype == 'Q5_0')
        parts = [f16_bits(d).view(np.uint8).reshape(n, 2)] + ([qh] if qh is not None else []) + [qs]
        out = np.concatenate(parts, axis=1)
    elif qtype in ('Q4_1', 'Q5_1'):
        qmax = 15 if qtype == 'Q4_1' else 31
        lo, hi = b.min(axis=1), b.max(axis=1)
        d = f16_value(f16_bits((hi - lo) / qmax))
        m = f16_value(f16_bits(lo))
        q = np.clip(np.round(_safe_div(b - m[:, None], d[:, None])), 0, qmax).astype(np.int32)
        qh, qs = _pack_legacy(q, qtype == 'Q5_1')
        parts = [f16_bits(d).view(np.uint8).reshape(n, 2), f16_bits(m).view(np.uint8).reshape(n, 2)]
        out = np.concatenate(parts + ([qh] if qh is not None else []) + [qs], axis=1)
    elif qtype == 'Q4_K':
        out = _quant_kquant(b, 4)
    elif qtype == 'Q5_K':
        out = _quant_kquant(b, 5)
    elif qtype == 'Q6_K':
        out = _quant_q6_k(b)
    else:
        raise ValueError('unsupported type ' + qtype)
    assert out.shape == (n, bb)
    return out.astype(np.uint8).tobytes()


def random_blocks(qtype, nblocks, rng):
    """Random raw blocks whose f16 fields are finite (all other bits random)."""
    _, be, bb = TYPES[qtype]
    raw = rng.integers(0, 256, size=(nblocks, bb), dtype=np.uint8)
    f16_fields = {'F16': [], 'Q8_0': [0], 'Q4_0': [0], 'Q4_1': [0, 2], 'Q5_0': [0],
                  'Q5_1': [0, 2], 'Q4_K': [0, 2], 'Q5_K': [0, 2], 'Q6_K': [208]}
    for off in f16_fields.get(qtype, []):
        vals = rng.uniform(-2.0, 2.0, nblocks) * 10.0 ** rng.integers(-6, 3, nblocks)
        raw[:, off:off + 2] = f16_bits(vals).view(np.uint8).reshape(nblocks, 2)
    if qtype == 'F16':
        vals = rng.standard_normal(nblocks) * 10.0 ** rng.integers(-8, 4, nblocks)
        raw = f16_bits(vals).view(np.uint8).reshape(nblocks, 2)
        raw[:8] = f16_bits([0.0, -0.0, 6e-8, -6e-8, 65504, np.inf, -np.inf, 1e-5]).view(
            np.uint8).reshape(8, 2)     # zeros, subnormals, max, infinities
    if qtype in ('F32', 'BF16'):
        vals = (rng.standard_normal(nblocks) * 10.0 ** rng.integers(-30, 30, nblocks)).astype(F32)
        bits = vals.view('<u4')
        raw = bits if qtype == 'F32' else (bits >> 16).astype('<u2')
    return raw.tobytes()


# ------------------------------------------------------------------- GGUF

def _gguf_str(s):
    b = s.encode('utf-8') if isinstance(s, str) else bytes(s)
    return struct.pack('<Q', len(b)) + b


def _infer_vtype(v):
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int):
        return UINT32 if 0 <= v < 2 ** 32 else INT64
    if isinstance(v, float):
        return FLOAT32
    if isinstance(v, (str, bytes)):
        return STRING
    if isinstance(v, (list, tuple)):
        return ARRAY
    raise TypeError(repr(v))


def encode_value(vtype, v, elem_type=None):
    """Bytes of one GGUF value (without the key or type tag)."""
    if vtype == STRING:
        return _gguf_str(v)
    if vtype == ARRAY:
        if elem_type is None:
            elem_type = _infer_vtype(v[0]) if len(v) else UINT32
        out = struct.pack('<IQ', elem_type, len(v))
        if elem_type in SCALAR_FMT:
            return out + b''.join(struct.pack(SCALAR_FMT[elem_type], e) for e in v)
        return out + b''.join(encode_value(elem_type, e) for e in v)
    return struct.pack(SCALAR_FMT[vtype], v)


class GGUFWriter:
    """Collects metadata and tensors, then writes a GGUF file.

    add(key, value[, vtype[, elem_type]]): the type is inferred when omitted
    (int -> UINT32, float -> FLOAT32, str, bool, list -> ARRAY).
    add_tensor(name, array, qtype): array in PyTorch order ([out, in]); the
    file gets ne = reversed(shape), and quantisation blocks run along the
    last (contiguous) axis.
    """

    def __init__(self, arch=None, alignment=32, version=3):
        self.kv = []
        self.tensors = []
        self.alignment = alignment
        self.version = version
        if arch:
            self.add('general.architecture', arch)
        if alignment != 32:
            self.add('general.alignment', alignment, UINT32)

    def add(self, key, value, vtype=None, elem_type=None):
        vtype = _infer_vtype(value) if vtype is None else vtype
        self.kv.append((key, vtype, encode_value(vtype, value, elem_type)))

    def add_tensor(self, name, array, qtype='F32'):
        a = np.asarray(array, dtype=F32)
        self.add_raw_tensor(name, list(reversed(a.shape)), TYPES[qtype][0], quantize(qtype, a))

    def add_raw_tensor(self, name, ne, type_id, data):
        self.tensors.append((name, list(ne), type_id, bytes(data)))

    def to_bytes(self):
        out = bytearray(b'GGUF' + struct.pack('<IQQ', self.version, len(self.tensors), len(self.kv)))
        for key, vtype, val in self.kv:
            out += _gguf_str(key) + struct.pack('<I', vtype) + val
        offset = 0
        offsets = []
        for name, ne, tid, data in self.tensors:
            offsets.append(offset)
            out += _gguf_str(name) + struct.pack('<I', len(ne))
            out += b''.join(struct.pack('<Q', d) for d in ne)
            out += struct.pack('<IQ', tid, offset)
            offset += -(-len(data) // self.alignment) * self.alignment
        out += b'\0' * (-len(out) % self.alignment)
        for (name, ne, tid, data), off in zip(self.tensors, offsets):
            out += data + b'\0' * (-len(data) % self.alignment)
        return bytes(out)

    def write(self, path):
        with open(path, 'wb') as f:
            f.write(self.to_bytes())


# ------------------------------------------------------------ safetensors

ST_DTYPES = {np.dtype('<f4'): 'F32', np.dtype('<f2'): 'F16', np.dtype('<i8'): 'I64',
             np.dtype('<i4'): 'I32', np.dtype('u1'): 'U8'}


def safetensors_bytes(tensors, metadata=None):
    """tensors: name -> numpy array, or name -> ('BF16', float array)."""
    header = {}
    blobs = []
    offset = 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, a in tensors.items():
        if isinstance(a, tuple):
            dtype, arr = a
            arr = np.asarray(arr, F32)
            raw = bf16_bits(arr).tobytes() if dtype == 'BF16' else arr.astype(
                {'F16': '<f2', 'F32': '<f4'}[dtype]).tobytes()
            shape = list(arr.shape)
        else:
            a = np.asarray(a, order='C')  # (ascontiguousarray would make 0-D 1-D)
            dtype, raw, shape = ST_DTYPES[a.dtype], a.tobytes(), list(a.shape)
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b' ' * (-len(h) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)


def write_safetensors(path, tensors, metadata=None):
    with open(path, 'wb') as f:
        f.write(safetensors_bytes(tensors, metadata))


def write_sharded_safetensors(directory, tensors, n_shards=2):
    """model-0000i-of-0000n.safetensors + model.safetensors.index.json."""
    names = list(tensors)
    weight_map = {}
    for s in range(n_shards):
        fname = 'model-%05d-of-%05d.safetensors' % (s + 1, n_shards)
        part = {n: tensors[n] for n in names[s::n_shards]}
        write_safetensors(os.path.join(directory, fname), part, {'format': 'pt'})
        weight_map.update({n: fname for n in part})
    with open(os.path.join(directory, 'model.safetensors.index.json'), 'w') as f:
        json.dump({'metadata': {'total_size': 0}, 'weight_map': weight_map}, f)


# ----------------------------------------------------------- tiny models

def random_bert(arch='bert', n_vocab=64, n_embd=32, n_head=4, n_layer=2, n_ff=64,
                n_ctx=16, n_types=2, seed=0):
    """Random weights under Hugging Face names (bert: BertModel, nomic-bert:
    NomicBertModel).  Returns (hf_config dict, {name: float32 array})."""
    rng = np.random.default_rng(seed)
    w = {}

    def lin(name, n_out, n_in, bias=True):
        w[name + '.weight'] = (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(F32)
        if bias:
            w[name + '.bias'] = (0.1 * rng.standard_normal(n_out)).astype(F32)

    def norm(name):
        w[name + '.weight'] = (1 + 0.1 * rng.standard_normal(n_embd)).astype(F32)
        w[name + '.bias'] = (0.1 * rng.standard_normal(n_embd)).astype(F32)

    w['embeddings.word_embeddings.weight'] = rng.standard_normal((n_vocab, n_embd)).astype(F32)
    if n_types:
        w['embeddings.token_type_embeddings.weight'] = (
            0.1 * rng.standard_normal((n_types, n_embd))).astype(F32)
    if arch == 'bert':
        w['embeddings.position_embeddings.weight'] = (
            0.1 * rng.standard_normal((n_ctx, n_embd))).astype(F32)
        norm('embeddings.LayerNorm')
        for i in range(n_layer):
            p = 'encoder.layer.%d.' % i
            for qkv in ('query', 'key', 'value'):
                lin(p + 'attention.self.' + qkv, n_embd, n_embd)
            lin(p + 'attention.output.dense', n_embd, n_embd)
            norm(p + 'attention.output.LayerNorm')
            lin(p + 'intermediate.dense', n_ff, n_embd)
            lin(p + 'output.dense', n_embd, n_ff)
            norm(p + 'output.LayerNorm')
        cfg = {'architectures': ['BertModel'], 'model_type': 'bert', 'vocab_size': n_vocab,
               'hidden_size': n_embd, 'num_hidden_layers': n_layer,
               'num_attention_heads': n_head, 'intermediate_size': n_ff, 'hidden_act': 'gelu',
               'max_position_embeddings': n_ctx, 'type_vocab_size': n_types,
               'layer_norm_eps': 1e-12, 'position_embedding_type': 'absolute'}
    else:
        norm('emb_ln')
        for i in range(n_layer):
            p = 'encoder.layers.%d.' % i
            lin(p + 'attn.Wqkv', 3 * n_embd, n_embd, bias=False)
            lin(p + 'attn.out_proj', n_embd, n_embd, bias=False)
            norm(p + 'norm1')
            lin(p + 'mlp.fc11', n_ff, n_embd, bias=False)
            lin(p + 'mlp.fc12', n_ff, n_embd, bias=False)
            lin(p + 'mlp.fc2', n_embd, n_ff, bias=False)
            norm(p + 'norm2')
        cfg = {'architectures': ['NomicBertModel'], 'model_type': 'nomic_bert',
               'vocab_size': n_vocab, 'n_embd': n_embd, 'n_head': n_head, 'n_layer': n_layer,
               'n_inner': n_ff, 'n_positions': n_ctx, 'type_vocab_size': n_types,
               'layer_norm_epsilon': 1e-12, 'activation_function': 'swiglu',
               'rotary_emb_base': 1000, 'rotary_emb_fraction': 1.0,
               'rotary_emb_interleaved': False, 'qkv_proj_bias': False,
               'mlp_fc1_bias': False, 'mlp_fc2_bias': False, 'prenorm': False}
    return cfg, w


# HF name fragments -> GGUF names, as llama.cpp's converter maps them
# (gguf-py/gguf/tensor_mapping.py in https://github.com/ggml-org/llama.cpp)
_HF_TO_GGUF_LAYER = [
    ('attention.self.query', 'attn_q'), ('attention.self.key', 'attn_k'),
    ('attention.self.value', 'attn_v'), ('attention.self.qkv', 'attn_qkv'),
    ('attention.output.dense', 'attn_output'),
    ('attention.output.LayerNorm', 'attn_output_norm'), ('intermediate.dense', 'ffn_up'),
    ('output.dense', 'ffn_down'), ('output.LayerNorm', 'layer_output_norm'),
    ('attn.Wqkv', 'attn_qkv'), ('attn.out_proj', 'attn_output'), ('norm1', 'attn_output_norm'),
    ('mlp.fc11', 'ffn_up'), ('mlp.fc12', 'ffn_gate'), ('mlp.fc2', 'ffn_down'),
    ('norm2', 'layer_output_norm')]
_HF_TO_GGUF_TOP = {'embeddings.word_embeddings': 'token_embd',
                   'embeddings.position_embeddings': 'position_embd',
                   'embeddings.token_type_embeddings': 'token_types',
                   'embeddings.LayerNorm': 'token_embd_norm', 'emb_ln': 'token_embd_norm'}


def gguf_name(hf_name):
    base, suffix = hf_name.rsplit('.', 1)
    if base in _HF_TO_GGUF_TOP:
        return _HF_TO_GGUF_TOP[base] + '.' + suffix
    parts = base.split('.')
    layer, rest = int(parts[2]), '.'.join(parts[3:])
    return 'blk.%d.%s.%s' % (layer, dict(_HF_TO_GGUF_LAYER)[rest], suffix)


def tiny_vocab(n_vocab):
    """A WordPiece-like vocabulary of n_vocab tokens (GGUF phantom-space form)
    with [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4."""
    toks = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    words = ['the', 'a', 'cat', 'dog', 'sat', 'on', 'mat', 'ing', 's', 'ed']
    i = 0
    while len(toks) < n_vocab:
        w = words[i % len(words)] + ('' if i < len(words) else str(i))
        toks.append(('\u2581' + w) if i % 3 else w)
        i += 1
    types = [3] * 5 + [1] * (n_vocab - 5)
    return toks, types


def write_gguf_model(path, arch, cfg, weights, qtype='F32', small_qtype=None,
                     pooling=1, version=3, alignment=32, extra_kv=(), fuse_qkv=False):
    """A llama.cpp-style embedding GGUF from random_bert() output.  2-D
    tensors use qtype (falling back to F16 when rows do not fit the block),
    1-D tensors and token types use small_qtype (default F32).  fuse_qkv
    (bert) writes blk.N.attn_qkv (rows Q, then K, then V) instead of
    attn_q/attn_k/attn_v."""
    g = GGUFWriter(arch, alignment=alignment, version=version)
    n_embd = weights['embeddings.word_embeddings.weight'].shape[1]
    n_vocab = weights['embeddings.word_embeddings.weight'].shape[0]
    n_layer = cfg.get('num_hidden_layers', cfg.get('n_layer'))
    g.add('general.name', 'tiny-' + arch)
    g.add(arch + '.block_count', n_layer)
    g.add(arch + '.context_length', cfg.get('max_position_embeddings', cfg.get('n_positions')))
    g.add(arch + '.embedding_length', n_embd)
    g.add(arch + '.feed_forward_length', cfg.get('intermediate_size', cfg.get('n_inner')))
    g.add(arch + '.attention.head_count', cfg.get('num_attention_heads', cfg.get('n_head')))
    g.add(arch + '.attention.layer_norm_epsilon', 1e-12)
    g.add(arch + '.attention.causal', False)
    g.add(arch + '.pooling_type', pooling)
    if arch == 'nomic-bert':
        g.add(arch + '.rope.freq_base', float(cfg['rotary_emb_base']))
    toks, types = tiny_vocab(n_vocab)
    g.add('tokenizer.ggml.model', 'bert')
    g.add('tokenizer.ggml.tokens', toks)
    g.add('tokenizer.ggml.token_type', types, ARRAY, INT32)
    g.add('tokenizer.ggml.token_type_count', cfg.get('type_vocab_size', 2))
    for key, tid in (('bos', 2), ('eos', 3), ('unknown', 1), ('seperator', 3), ('padding', 0),
                     ('cls', 2), ('mask', 4)):
        g.add('tokenizer.ggml.%s_token_id' % key, tid)
    for kv in extra_kv:         # overrides of the keys above, or new keys
        g.kv = [e for e in g.kv if e[0] != kv[0]]
        g.add(*kv)
    weights = _fuse_qkv(weights) if fuse_qkv else weights
    for name, a in weights.items():
        t = qtype if a.ndim == 2 and 'token_type' not in name else (small_qtype or 'F32')
        if a.shape[-1] % TYPES[t][1] != 0:
            t = 'F16'
        g.add_tensor(gguf_name(name), a, t)
    g.write(path)


def _fuse_qkv(weights):
    """BERT weights with each layer's query/key/value concatenated into a
    pseudo HF name 'attention.self.qkv' (GGUF blk.N.attn_qkv)."""
    out = {}
    for name, a in weights.items():
        if '.attention.self.query.' in name:
            kind = name.rsplit('.', 1)[1]
            stem = name.split('.attention.self.')[0]
            parts = [weights['%s.attention.self.%s.%s' % (stem, p, kind)]
                     for p in ('query', 'key', 'value')]
            out['%s.attention.self.qkv.%s' % (stem, kind)] = np.concatenate(parts, axis=0)
        elif '.attention.self.' not in name:
            out[name] = a
    return out


def write_hf_dir(directory, cfg, weights, dtype='F32', sharded=False, pooling='mean',
                 normalize=True, max_seq_length=None, prefix=''):
    """A sentence-transformers snapshot: config.json, safetensors (one file or
    sharded + index), modules.json, 1_Pooling/config.json, optional
    2_Normalize, sentence_bert_config.json and a small tokenizer.json."""
    os.makedirs(os.path.join(directory, '1_Pooling'), exist_ok=True)
    with open(os.path.join(directory, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=1)
    t = {prefix + n: (a if dtype == 'F32' else (dtype, a)) for n, a in weights.items()}
    if sharded:
        write_sharded_safetensors(directory, t)
    else:
        write_safetensors(os.path.join(directory, 'model.safetensors'), t, {'format': 'pt'})
    modules = [{'idx': 0, 'name': '0', 'path': '', 'type': 'sentence_transformers.models.Transformer'},
               {'idx': 1, 'name': '1', 'path': '1_Pooling',
                'type': 'sentence_transformers.models.Pooling'}]
    if normalize:
        modules.append({'idx': 2, 'name': '2', 'path': '2_Normalize',
                        'type': 'sentence_transformers.models.Normalize'})
        os.makedirs(os.path.join(directory, '2_Normalize'), exist_ok=True)
    with open(os.path.join(directory, 'modules.json'), 'w') as f:
        json.dump(modules, f)
    n_embd = weights['embeddings.word_embeddings.weight'].shape[1]
    with open(os.path.join(directory, '1_Pooling', 'config.json'), 'w') as f:
        json.dump({'word_embedding_dimension': n_embd,
                   'pooling_mode_cls_token': pooling == 'cls',
                   'pooling_mode_mean_tokens': pooling == 'mean',
                   'pooling_mode_max_tokens': pooling == 'max',
                   'pooling_mode_mean_sqrt_len_tokens': False}, f)
    if max_seq_length is not None:
        with open(os.path.join(directory, 'sentence_bert_config.json'), 'w') as f:
            json.dump({'max_seq_length': max_seq_length, 'do_lower_case': False}, f)
    write_tokenizer_json(os.path.join(directory, 'tokenizer.json'),
                         weights['embeddings.word_embeddings.weight'].shape[0])


def write_tokenizer_json(path, n_vocab):
    """A minimal BERT tokenizer.json over tiny_vocab() (HF '##' spelling)."""
    toks, types = tiny_vocab(n_vocab)
    hf = [t if ty == 3 else (t[1:] if t.startswith('\u2581') else '##' + t)
          for t, ty in zip(toks, types)]
    special = [{'id': i, 'content': hf[i], 'single_word': False, 'lstrip': False,
                'rstrip': False, 'normalized': False, 'special': True} for i in range(5)]
    doc = {'version': '1.0', 'truncation': None, 'padding': None, 'added_tokens': special,
           'normalizer': {'type': 'BertNormalizer', 'clean_text': True,
                          'handle_chinese_chars': True, 'strip_accents': None,
                          'lowercase': True},
           'pre_tokenizer': {'type': 'BertPreTokenizer'},
           'post_processor': {'type': 'BertProcessing', 'sep': ['[SEP]', 3], 'cls': ['[CLS]', 2]},
           'decoder': {'type': 'WordPiece', 'prefix': '##', 'cleanup': True},
           'model': {'type': 'WordPiece', 'unk_token': '[UNK]',
                     'continuing_subword_prefix': '##', 'max_input_chars_per_word': 100,
                     'vocab': {t: i for i, t in enumerate(hf)}}}
    with open(path, 'w') as f:
        json.dump(doc, f)


def _static_modules(directory, path, normalize):
    """modules.json of a StaticEmbedding model at path, optionally normalised."""
    modules = [{'idx': 0, 'name': '0', 'path': path,
                'type': 'sentence_transformers.models.StaticEmbedding'}]
    if normalize:
        modules.append({'idx': 1, 'name': '1', 'path': '1_Normalize',
                        'type': 'sentence_transformers.models.Normalize'})
    with open(os.path.join(directory, 'modules.json'), 'w') as f:
        json.dump(modules, f)


def write_static_dir(directory, layout, n_vocab=64, dim=24, seed=0, normalize=True,
                     dtype='F32', weights=False, mapping=False, st_modules=False):
    """Static embedding models.  layout 'model2vec': config.json +
    model.safetensors ('embeddings', optional 'weights'/'mapping') +
    tokenizer.json (st_modules: plus the modules.json model2vec writes, with
    path "." and a Normalize module instead of config.json's flag); layout 'st': modules.json + 0_StaticEmbedding/
    model.safetensors ('embedding.weight') + 0_StaticEmbedding/tokenizer.json.
    Returns the effective [n_vocab, dim] table the loader must produce."""
    rng = np.random.default_rng(seed)
    os.makedirs(directory, exist_ok=True)
    if layout == 'model2vec':
        n_rows = n_vocab // 2 if mapping else n_vocab
        emb = rng.standard_normal((n_rows, dim)).astype(F32)
        t = {'embeddings': emb if dtype == 'F32' else (dtype, emb)}
        table = dequantize(dtype, quantize(dtype, emb)).reshape(n_rows, dim)
        if mapping:
            m = rng.integers(0, n_rows, n_vocab).astype(np.int64)
            t['mapping'] = m
            table = table[m]
        if weights:
            wt = rng.uniform(0.1, 2.0, n_vocab).astype(F32)
            t['weights'] = wt
            table = table * wt[:, None]
        write_safetensors(os.path.join(directory, 'model.safetensors'), t)
        with open(os.path.join(directory, 'config.json'), 'w') as f:
            json.dump({'model_type': 'model2vec', 'architectures': ['StaticModel'],
                       'hidden_dim': dim, 'normalize': normalize and not st_modules,
                       'seq_length': 1000000}, f)
        if st_modules:
            _static_modules(directory, '.', normalize)
        write_tokenizer_json(os.path.join(directory, 'tokenizer.json'), n_vocab)
        return table.astype(F32)
    sub = os.path.join(directory, '0_StaticEmbedding')
    os.makedirs(sub, exist_ok=True)
    emb = rng.standard_normal((n_vocab, dim)).astype(F32)
    write_safetensors(os.path.join(sub, 'model.safetensors'),
                      {'embedding.weight': emb if dtype == 'F32' else (dtype, emb)})
    write_tokenizer_json(os.path.join(sub, 'tokenizer.json'), n_vocab)
    _static_modules(directory, '0_StaticEmbedding', normalize)
    with open(os.path.join(directory, 'config_sentence_transformers.json'), 'w') as f:
        json.dump({'__version__': {'sentence_transformers': '3.3.1'}}, f)
    return dequantize(dtype, quantize(dtype, emb)).reshape(n_vocab, dim)


# ------------------------------------------------------------------- main

def write_golden(directory, seed=1):
    """Random blocks of every type and their reference dequantisation."""
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    for qtype, (_, be, bb) in TYPES.items():
        nblocks = 4096 // be + 3 if be > 1 else 4099
        raw = random_blocks(qtype, nblocks, rng)
        # plus blocks made by the quantiser from smooth data
        raw += quantize(qtype, rng.standard_normal(be * 8).astype(F32))
        with open(os.path.join(directory, qtype + '.bin'), 'wb') as f:
            f.write(raw)
        dequantize(qtype, raw).astype('<f4').tofile(os.path.join(directory, qtype + '.f32'))


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'golden':
        write_golden(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    else:
        sys.exit(__doc__)
