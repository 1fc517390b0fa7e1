#!/usr/bin/python3
"""make_fixtures.py OUTDIR: the model files the model-file tests read.

OUTDIR/
  golden/                  dequantisation golden files (gguf_tools.write_golden)
  roundtrip.gguf           every metadata type + one tensor per supported type
  roundtrip.expect         numpy dequantisation of those tensors, in file order
  roundtrip.safetensors    F32/F16/BF16/I64 tensors (+ .expect, F32/F16/BF16 only)
  gguf_bad/*.gguf          files the GGUF reader must refuse (.expect: message part)
  st_bad/*.safetensors     files the safetensors reader must refuse
  models/NAME              loadable models; models/NAME.flat holds the expected
                           float32 weights in canonical order (see flat_weights)
  model_bad/NAME           models the loader must refuse (+ NAME.expect)
  share.gguf               a larger F16 model for the page-sharing measurement
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_tools as gt  # noqa: E402

F32 = np.float32


def expect(path, text):
    with open(path + '.expect', 'w') as f:
        f.write(text)


# ------------------------------------------------------------- GGUF files

def roundtrip_gguf(out):
    """All 13 value types (scalars, strings, nested arrays) and one tensor per
    supported tensor type; the C test checks the values listed here."""
    rng = np.random.default_rng(7)
    w = gt.GGUFWriter('bert', alignment=64, version=3)
    w.add('t.u8', 200, gt.UINT8)
    w.add('t.i8', -100, gt.INT8)
    w.add('t.u16', 60000, gt.UINT16)
    w.add('t.i16', -30000, gt.INT16)
    w.add('t.u32', 4000000000, gt.UINT32)
    w.add('t.i32', -2000000000, gt.INT32)
    w.add('t.f32', 0.25, gt.FLOAT32)
    w.add('t.bool', True, gt.BOOL)
    w.add('t.str', 'h\u00e9llo')
    w.add('t.u64', 2 ** 62 + 1, gt.UINT64)
    w.add('t.i64', -2 ** 62 - 1, gt.INT64)
    w.add('t.f64', -1.5e300, gt.FLOAT64)
    w.add('t.arr_i32', [1, -2, 3], gt.ARRAY, gt.INT32)
    w.add('t.arr_str', ['a', '', 'xyz'], gt.ARRAY, gt.STRING)
    w.add('t.arr_f32', [0.5, -8.0], gt.ARRAY, gt.FLOAT32)
    w.add('t.nested', [[1, 2], [3]], gt.ARRAY, gt.ARRAY)
    w.add('t.empty', [], gt.ARRAY, gt.UINT8)
    expected = []
    for qtype, (tid, be, bb) in gt.TYPES.items():
        shape = (3, 2 * max(be, 32))
        a = rng.standard_normal(shape).astype(F32)
        w.add_tensor('tensor.' + qtype, a, qtype)
        expected.append(gt.dequantize(qtype, gt.quantize(qtype, a)))
    a4 = rng.standard_normal((2, 3, 1, 32)).astype(F32)
    w.add_tensor('tensor.4d', a4, 'F16')
    expected.append(gt.dequantize('F16', gt.quantize('F16', a4)))
    w.write(os.path.join(out, 'roundtrip.gguf'))
    np.concatenate(expected).astype('<f4').tofile(os.path.join(out, 'roundtrip.expect'))
    # the same content as GGUF v2
    w.version = 2
    w.write(os.path.join(out, 'roundtrip_v2.gguf'))


def small_gguf():
    w = gt.GGUFWriter('bert')
    w.add('general.name', 'x')
    w.add_tensor('a.weight', np.ones((2, 32), F32), 'F32')
    w.add_tensor('b.weight', np.ones((1, 32), F32), 'Q8_0')
    return w


def bad_ggufs(out):
    d = os.path.join(out, 'gguf_bad')
    os.makedirs(d, exist_ok=True)

    def write(name, w_or_bytes, msg):
        p = os.path.join(d, name + '.gguf')
        data = w_or_bytes if isinstance(w_or_bytes, bytes) else w_or_bytes.to_bytes()
        with open(p, 'wb') as f:
            f.write(data)
        expect(p, msg)

    w = small_gguf()
    w.add('general.name', 'again')
    write('dup_key', w, 'duplicate metadata key')
    w = small_gguf()
    w.add_tensor('a.weight', np.ones((1, 32), F32))
    write('dup_tensor', w, 'duplicate tensor name')
    w = small_gguf()
    w.add('general.alignment', 24, gt.UINT32)
    write('align_not_pow2', w, 'power of two')
    w = small_gguf()
    w.add('general.alignment', 32, gt.UINT64)
    write('align_wrong_type', w, 'must be UINT32')
    w = small_gguf()
    w.kv.append(('t.bool', gt.BOOL, b'\x02'))
    write('bool_2', w, 'invalid BOOL')
    w = small_gguf()
    w.kv.append(('t.bad', 13, b'\0' * 8))
    write('value_type_13', w, 'unknown GGUF value type 13')
    w = small_gguf()
    deep = struct.pack('<IQ', gt.UINT8, 0)
    for _ in range(5):
        deep = struct.pack('<IQ', gt.ARRAY, 1) + deep
    w.kv.append(('t.deep', gt.ARRAY, deep))
    write('nested_too_deep', w, 'nested deeper')
    w = small_gguf()
    w.kv.append(('t.arr', gt.ARRAY, struct.pack('<IQ', gt.UINT32, 2 ** 62)))
    write('array_count_huge', w, 'truncated')
    w = small_gguf()
    w.kv.append(('t.str', gt.STRING, struct.pack('<Q', 2 ** 63) + b'x'))
    write('string_len_huge', w, 'truncated')
    w = small_gguf()
    w.kv.append(('', gt.UINT8, b'\x01'))
    write('empty_key', w, 'bad GGUF key length')
    w = small_gguf()
    w.add_raw_tensor('c.weight', [32, 2 ** 40, 2 ** 40], 0, b'')
    write('dims_overflow', w, 'overflows')
    w = small_gguf()
    w.add_raw_tensor('c.weight', [32, 1, 1, 1, 1], 0, b'\0' * 128)
    write('five_dims', w, '5 dimensions')
    w = small_gguf()
    w.add_raw_tensor('c.weight', [2 ** 62], 0, b'')
    write('bytes_overflow', w, 'overflows')
    w = small_gguf()
    w.add_raw_tensor('c.weight', [256, 2], 16, b'\0' * 132)
    write('type_iq2_xxs', w, 'tensor type IQ2_XXS is not supported')
    w = small_gguf()
    w.add_raw_tensor('c.weight', [256, 2], 10, b'\0' * 168)
    write('type_q2_k', w, 'tensor type Q2_K is not supported')
    w = small_gguf()
    w.add_raw_tensor('c.weight', [32], 77, b'\0' * 128)
    write('type_unknown', w, 'unknown tensor type 77')
    w = small_gguf()
    w.add_raw_tensor('c.weight', [33], 8, b'\0' * 64)
    write('partial_block', w, 'not a multiple of the Q8_0 block size')
    # tensor data past the end: the last tensor claims more rows than written
    w = small_gguf()
    w.tensors[-1] = ('b.weight', [32, 1000], 8, w.tensors[-1][3])
    write('data_past_end', w, 'outside the file')
    # misaligned tensor offset
    b = bytearray(small_gguf().to_bytes())
    i = b.index(b'b.weight') + 8 + 4 + 16 + 4
    struct.pack_into('<Q', b, i, struct.unpack_from('<Q', b, i)[0] + 4)
    write('offset_misaligned', bytes(b), 'not a multiple of the alignment')
    struct.pack_into('<Q', b, i, 2 ** 63)
    write('offset_huge', bytes(b), 'outside the file')
    good = small_gguf().to_bytes()
    write('bad_magic', b'GGUG' + good[4:], 'bad magic')
    write('version_1', good[:4] + struct.pack('<I', 1) + good[8:], 'version 1')
    write('version_4', good[:4] + struct.pack('<I', 4) + good[8:], 'version 4')
    write('big_endian', good[:4] + struct.pack('>I', 3) + good[8:], 'big-endian')
    write('count_huge', good[:8] + struct.pack('<Q', 2 ** 60) + good[16:], 'implausible')
    write('kv_count_huge', good[:16] + struct.pack('<Q', 2 ** 40) + good[24:], 'implausible')
    write('tiny', b'GGUF\x03\0\0\0', 'too small')


# ------------------------------------------------------- safetensors files

def roundtrip_st(out):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 5)).astype(F32)
    h = rng.standard_normal((4,)).astype(F32)
    b = rng.standard_normal((2, 2, 2)).astype(F32)
    ids = np.arange(6, dtype=np.int64)
    gt.write_safetensors(os.path.join(out, 'roundtrip.safetensors'),
                         {'a': a, 'h': ('F16', h), 'b': ('BF16', b), 'position_ids': ids,
                          'scalar': np.array(2.5, F32), 'empty': np.zeros((0, 4), F32)},
                         {'format': 'pt'})
    np.concatenate([a.ravel(), gt.dequantize('F16', gt.quantize('F16', h)),
                    gt.dequantize('BF16', gt.quantize('BF16', b.ravel()))]).astype(
        '<f4').tofile(os.path.join(out, 'roundtrip.safetensors.expect_f32'))


def bad_sts(out):
    d = os.path.join(out, 'st_bad')
    os.makedirs(d, exist_ok=True)

    def header_file(name, header, data, msg, hlen=None):
        h = json.dumps(header).encode() if not isinstance(header, bytes) else header
        raw = struct.pack('<Q', len(h) if hlen is None else hlen) + h + data
        p = os.path.join(d, name + '.safetensors')
        with open(p, 'wb') as f:
            f.write(raw)
        expect(p, msg)

    e = lambda dt, shape, a, b: {'dtype': dt, 'shape': shape, 'data_offsets': [a, b]}  # noqa
    z = b'\0' * 64
    header_file('overlap', {'x': e('F32', [4], 0, 16), 'y': e('F32', [4], 8, 24)}, z[:24], 'overlap')
    header_file('hole', {'x': e('F32', [2], 0, 8), 'y': e('F32', [2], 16, 24)}, z[:24], 'hole')
    header_file('past_end', {'x': e('F32', [16], 0, 64)}, z[:32], 'covers')
    header_file('trailing_bytes', {'x': e('F32', [2], 0, 8)}, z[:16], 'covers')
    header_file('shape_mismatch', {'x': e('F32', [3], 0, 16)}, z[:16], 'need')
    header_file('bad_dtype', {'x': e('F33', [4], 0, 16)}, z[:16], 'unknown dtype')
    header_file('neg_shape', {'x': e('F32', [-4], 0, 16)}, z[:16], 'bad or overflowing shape')
    header_file('shape_overflow', {'x': e('F32', [2 ** 40, 2 ** 40], 0, 16)}, z[:16], 'overflowing')
    header_file('offsets_reversed', {'x': e('F32', [0], 8, 0)}, z[:8], 'bad data_offsets')
    header_file('no_dtype', {'x': {'shape': [1], 'data_offsets': [0, 4]}}, z[:4], 'needs dtype')
    header_file('not_object', [1, 2], b'', 'not a safetensors file')
    header_file('bad_json', b'{"x": ', b'', 'not a valid JSON')
    header_file('trailing_garbage', b'{}  x', b'', 'not a valid JSON')
    header_file('header_too_long', {}, b'', 'header length', hlen=2 ** 40)
    header_file('nine_dims', {'x': e('F32', [1] * 9, 0, 4)}, z[:4], 'more than 8')
    header_file('f4_odd', {'x': e('F4', [3], 0, 2)}, z[:2], 'need')
    p = os.path.join(d, 'short.safetensors')
    with open(p, 'wb') as f:
        f.write(b'\x02\0\0')
    expect(p, 'too small')


# ------------------------------------------------------------------ models

LAYER_ORDER = ['wq', 'bq', 'wk', 'bk', 'wv', 'bv', 'wqkv', 'bqkv', 'wo', 'bo', 'attn_norm_w',
               'attn_norm_b', 'ffn_up_w', 'ffn_up_b', 'ffn_gate_w', 'ffn_down_w', 'ffn_down_b',
               'ffn_norm_w', 'ffn_norm_b']
BERT_LAYER = {'wq': 'attention.self.query.weight', 'bq': 'attention.self.query.bias',
              'wk': 'attention.self.key.weight', 'bk': 'attention.self.key.bias',
              'wv': 'attention.self.value.weight', 'bv': 'attention.self.value.bias',
              'wo': 'attention.output.dense.weight', 'bo': 'attention.output.dense.bias',
              'attn_norm_w': 'attention.output.LayerNorm.weight',
              'attn_norm_b': 'attention.output.LayerNorm.bias',
              'ffn_up_w': 'intermediate.dense.weight', 'ffn_up_b': 'intermediate.dense.bias',
              'ffn_down_w': 'output.dense.weight', 'ffn_down_b': 'output.dense.bias',
              'ffn_norm_w': 'output.LayerNorm.weight', 'ffn_norm_b': 'output.LayerNorm.bias'}
NOMIC_LAYER = {'wqkv': 'attn.Wqkv.weight', 'wo': 'attn.out_proj.weight',
               'attn_norm_w': 'norm1.weight', 'attn_norm_b': 'norm1.bias',
               'ffn_up_w': 'mlp.fc11.weight', 'ffn_gate_w': 'mlp.fc12.weight',
               'ffn_down_w': 'mlp.fc2.weight', 'ffn_norm_w': 'norm2.weight',
               'ffn_norm_b': 'norm2.bias'}


def flat_weights(arch, cfg, w, convert):
    """The expected mrl_bert_weights arrays concatenated in the order the C
    test walks them: tok_embd, pos_embd, type_embd, embd_norm_w/b, then per
    layer LAYER_ORDER (absent pointers skipped).  convert(hf_name, array)
    gives the float32 values the loader must produce for that tensor."""
    emb = ['embeddings.word_embeddings.weight', 'embeddings.position_embeddings.weight',
           'embeddings.token_type_embeddings.weight']
    emb += (['embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias'] if arch == 'bert'
            else ['emb_ln.weight', 'emb_ln.bias'])
    parts = [convert(n, w[n]) for n in emb if n in w]
    n_layer = cfg.get('num_hidden_layers', cfg.get('n_layer'))
    table = BERT_LAYER if arch == 'bert' else NOMIC_LAYER
    stem = 'encoder.layer.%d.' if arch == 'bert' else 'encoder.layers.%d.'
    for i in range(n_layer):
        for k in LAYER_ORDER:
            if k in table:
                n = (stem % i) + table[k]
                parts.append(convert(n, w[n]))
    return np.concatenate([p.reshape(-1) for p in parts]).astype('<f4')


def gguf_convert(qtype, small='F32'):
    """Values after write_gguf_model's type choice and the reference codec."""
    def conv(name, a):
        t = qtype if a.ndim == 2 and 'token_type' not in name else small
        if a.shape[-1] % gt.TYPES[t][1] != 0:
            t = 'F16'
        return gt.dequantize(t, gt.quantize(t, a))
    return conv


def old_layout(directory, cfg, w):
    """An older sentence-transformers snapshot: the Hugging Face model (and
    its sentence_bert_config.json) in 0_Transformer/, pooling beside it."""
    sub = os.path.join(directory, '0_Transformer')
    gt.write_hf_dir(sub, cfg, w, max_seq_length=10, pooling='cls', normalize=True)
    os.rename(os.path.join(sub, '1_Pooling'), os.path.join(directory, '1_Pooling'))
    os.rename(os.path.join(sub, '2_Normalize'), os.path.join(directory, '2_Normalize'))
    with open(os.path.join(sub, 'modules.json')) as f:
        mods = json.load(f)
    os.unlink(os.path.join(sub, 'modules.json'))
    mods[0]['path'] = '0_Transformer'
    with open(os.path.join(directory, 'modules.json'), 'w') as f:
        json.dump(mods, f)


def models(out):
    d = os.path.join(out, 'models')
    os.makedirs(d, exist_ok=True)
    ident = lambda n, a: a  # noqa: E731

    def flat(name, arch, cfg, w, conv):
        flat_weights(arch, cfg, w, conv).tofile(os.path.join(d, name + '.flat'))

    cfg, w = gt.random_bert('bert', seed=1)
    gt.write_hf_dir(os.path.join(d, 'bert_hf'), cfg, w, max_seq_length=12)
    flat('bert_hf', 'bert', cfg, w, ident)
    gt.write_hf_dir(os.path.join(d, 'bert_hf_sharded'), cfg, w, sharded=True, pooling='cls',
                    normalize=False)
    flat('bert_hf_sharded', 'bert', cfg, w, ident)
    gt.write_hf_dir(os.path.join(d, 'bert_hf_prefixed_f16'), cfg, w, dtype='F16', prefix='bert.')
    flat('bert_hf_prefixed_f16', 'bert', cfg, w, lambda n, a: gt.dequantize('F16', gt.quantize('F16', a)))
    gt.write_hf_dir(os.path.join(d, 'bert_hf_bf16'), cfg, w, dtype='BF16')
    flat('bert_hf_bf16', 'bert', cfg, w, lambda n, a: gt.dequantize('BF16', gt.quantize('BF16', a)))
    old_layout(os.path.join(d, 'bert_st_subdir'), cfg, w)
    # old checkpoints: LayerNorm.gamma / LayerNorm.beta
    w_old = {n.replace('LayerNorm.weight', 'LayerNorm.gamma').replace('LayerNorm.bias', 'LayerNorm.beta'): a
             for n, a in w.items()}
    gt.write_hf_dir(os.path.join(d, 'bert_hf_gamma'), cfg, w_old, prefix='bert.', normalize=False)
    flat('bert_hf_gamma', 'bert', cfg, w, ident)
    flat('bert_st_subdir', 'bert', cfg, w, ident)
    for qt in ('F32', 'F16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1'):
        name = 'bert_%s.gguf' % qt.lower()
        gt.write_gguf_model(os.path.join(d, name), 'bert', cfg, w, qt,
                            pooling=2 if qt == 'Q8_0' else 1)
        flat(name, 'bert', cfg, w, gguf_convert(qt))
    gt.write_gguf_model(os.path.join(d, 'bert_fused_qkv.gguf'), 'bert', cfg, w, 'F16',
                        fuse_qkv=True)
    flat('bert_fused_qkv.gguf', 'bert', cfg, w, gguf_convert('F16'))
    gt.write_gguf_model(os.path.join(d, 'bert_bf16_v2.gguf'), 'bert', cfg, w, 'BF16', 'BF16',
                        version=2)
    flat('bert_bf16_v2.gguf', 'bert', cfg, w, gguf_convert('BF16', 'BF16'))

    cfg, w = gt.random_bert('nomic-bert', seed=2)
    gt.write_hf_dir(os.path.join(d, 'nomic_hf'), cfg, w)
    flat('nomic_hf', 'nomic-bert', cfg, w, ident)
    gt.write_gguf_model(os.path.join(d, 'nomic_f16.gguf'), 'nomic-bert', cfg, w, 'F16')
    flat('nomic_f16.gguf', 'nomic-bert', cfg, w, gguf_convert('F16'))
    # K-quants need rows of 256: a wider nomic model
    cfg, w = gt.random_bert('nomic-bert', n_embd=256, n_head=4, n_ff=512, n_layer=1,
                            n_vocab=40, seed=3)
    for qt in ('Q4_K', 'Q5_K', 'Q6_K'):
        name = 'nomic_%s.gguf' % qt.lower()
        gt.write_gguf_model(os.path.join(d, name), 'nomic-bert', cfg, w, qt, small_qtype='F16')
        flat(name, 'nomic-bert', cfg, w, gguf_convert(qt, 'F16'))

    for name, kw in (('m2v', dict(layout='model2vec', normalize=True)),
                     ('m2v_modules', dict(layout='model2vec', normalize=True, st_modules=True)),
                     ('m2v_f16_mapped', dict(layout='model2vec', dtype='F16', weights=True,
                                             mapping=True, normalize=False)),
                     ('st_static', dict(layout='st', normalize=False)),
                     ('st_static_bf16', dict(layout='st', dtype='BF16', normalize=True))):
        table = gt.write_static_dir(os.path.join(d, name), seed=5, **kw)
        table.astype('<f4').tofile(os.path.join(d, name + '.flat'))

    cfg, w = gt.random_bert('bert', n_vocab=800, n_embd=256, n_head=4, n_layer=4, n_ff=1024,
                            n_ctx=128, seed=9)
    gt.write_gguf_model(os.path.join(out, 'share.gguf'), 'bert', cfg, w, 'F16')


def bad_models(out):
    d = os.path.join(out, 'model_bad')
    os.makedirs(d, exist_ok=True)
    cfg, w = gt.random_bert('bert', seed=1)

    def gguf(name, msg, arch='bert', weights=w, **kw):
        p = os.path.join(d, name + '.gguf')
        gt.write_gguf_model(p, arch, cfg, weights, **kw)
        expect(p, msg)

    def hf(name, msg, config=cfg, weights=w, **kw):
        p = os.path.join(d, name)
        gt.write_hf_dir(p, config, weights, **kw)
        expect(p, msg)
        return p

    gguf('arch_llama', 'model architecture "llama" is not supported', arch='llama')
    gguf('pooling_last', 'pooling type LAST is not supported', pooling=3)
    gguf('missing_tensor', 'no tensor "blk.1.ffn_down.bias"',
         weights={k: v for k, v in w.items() if k != 'encoder.layer.1.output.dense.bias'})
    w2 = dict(w)
    w2['encoder.layer.0.intermediate.dense.weight'] = w2['encoder.layer.0.intermediate.dense.weight'][:32]
    gguf('wrong_shape', 'has shape [32, 32], the configuration needs [64, 32]', weights=w2)
    gguf('tokenizer_gpt2', 'tokenizer model "gpt2" is not supported',
         extra_kv=[('tokenizer.ggml.model', 'gpt2')])
    gguf('gqa', 'grouped-query', extra_kv=[('bert.attention.head_count_kv', 2)])
    gguf('causal', 'causal', extra_kv=[('bert.attention.causal', True)])
    p = os.path.join(d, 'missing_key.gguf')
    g = gt.GGUFWriter('bert')
    g.add('bert.embedding_length', 32)
    g.write(p)
    expect(p, '"bert.block_count" is missing')
    p = os.path.join(d, 'unsupported_type.gguf')
    g = gt.GGUFWriter('bert')
    g.add_raw_tensor('token_embd.weight', [256, 4], 11, b'\0' * 440)
    g.write(p)
    expect(p, 'tensor type Q3_K is not supported')
    c2 = dict(cfg, hidden_size=48)
    hf('hf_hidden_mismatch', 'has shape [64, 32], the configuration needs [n, 48]', config=c2)
    hf('hf_model_type', 'model_type "roberta" is not supported', config=dict(cfg, model_type='roberta'))
    hf('hf_gelu_tanh', 'hidden_act "gelu_new" is not supported', config=dict(cfg, hidden_act='gelu_new'))
    hf('hf_relative_pos', 'position_embedding_type', config=dict(cfg, position_embedding_type='relative_key'))
    hf('hf_max_pooling', 'only CLS or mean pooling', pooling='max')
    p = hf('hf_dense_module', 'module "sentence_transformers.models.Dense" is not supported')
    with open(os.path.join(p, 'modules.json')) as f:
        mods = json.load(f)
    mods.append({'idx': 3, 'name': '3', 'path': '3_Dense', 'type': 'sentence_transformers.models.Dense'})
    with open(os.path.join(p, 'modules.json'), 'w') as f:
        json.dump(mods, f)
    p = hf('hf_no_tokenizer', 'has no tokenizer.json')
    os.unlink(os.path.join(p, 'tokenizer.json'))
    p = hf('hf_pickle', 'pytorch_model.bin')
    os.unlink(os.path.join(p, 'model.safetensors'))
    open(os.path.join(p, 'pytorch_model.bin'), 'wb').close()
    w3 = dict(w)
    w3['embeddings.LayerNorm.weight'] = w3['embeddings.LayerNorm.weight'].astype(np.int64)
    hf('hf_int_weight', 'dtype I64', weights=w3)
    for name, shard, msg in (('hf_shard_missing', 'model-00002-of-00002.safetensors',
                              'not in model-00002-of-00002.safetensors'),
                             ('hf_shard_escape', '../x.safetensors', 'bad file name')):
        p = hf(name, msg, sharded=True)
        with open(os.path.join(p, 'model.safetensors.index.json')) as f:
            idx = json.load(f)
        idx['weight_map']['extra.weight'] = shard
        with open(os.path.join(p, 'model.safetensors.index.json'), 'w') as f:
            json.dump(idx, f)
    p = os.path.join(d, 'm2v_bad_mapping')
    gt.write_static_dir(p, 'model2vec', mapping=True)
    t = {'embeddings': np.zeros((4, 8), F32), 'mapping': np.array([0, 9], np.int64)}
    gt.write_safetensors(os.path.join(p, 'model.safetensors'), t)
    expect(p, 'outside the table')
    p = os.path.join(d, 'empty_dir')
    os.makedirs(p, exist_ok=True)
    expect(p, 'not a model directory')
    p = os.path.join(d, 'not_a_model.txt')
    with open(p, 'w') as f:
        f.write('hello world, this is not a model file\n')
    expect(p, 'bad magic')


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    gt.write_golden(os.path.join(out, 'golden'))
    roundtrip_gguf(out)
    bad_ggufs(out)
    roundtrip_st(out)
    bad_sts(out)
    models(out)
    bad_models(out)


if __name__ == '__main__':
    main()
