#!/usr/bin/python3
"""numpy references for mint8vec (test/suites/14_mint8vec.sh).

reference.py pairs OUT       write random vector pairs "id<TAB>[a]<TAB>[b]" (float32
                             values in shortest text), Matryoshka-like scales,
                             1 to 800 dims, some with tiny or huge elements
reference.py check PAIRS GOT compare what the database returned for each pair
                             ("id<TAB>hex a<TAB>hex b<TAB>l2<TAB>l1<TAB>neg_ip<TAB>cos",
                             the hex of mint8vec_send) with numpy: the codes and
                             scales exactly, the distances of the decoded values to
                             float32 rounding (1e-5), and the distances' error against the float32
                             originals within what the quantisation allows; prints
                             one line per check, "ok" or the worst case, then the
                             median relative errors against float32
"""
import struct
import sys

import numpy as np


def make_pairs(out):
    rng = np.random.default_rng(14)
    with open(out, "w") as f:
        for i in range(1, 401):
            d = int(rng.choice([1, 2, 3, 7, 64, 100, 256, 768, 800]))
            scale = (1.0 / np.sqrt(1.0 + np.arange(d) / 8.0))
            mag = [1.0, 1e-30, 1e30, 1e-3][i % 4]
            a = (rng.standard_normal(d) * scale * mag).astype(np.float32)
            b = (rng.standard_normal(d) * scale * mag).astype(np.float32)
            if i % 10 == 0:
                b = a.copy()
            f.write("%d\t[%s]\t[%s]\n" % (i, ",".join(repr(float(x)) for x in a),
                                          ",".join(repr(float(x)) for x in b)))


def parse(text):
    return np.array([float(x) for x in text.strip("[]").split(",")], dtype=np.float32)


def quantise(x):
    """scale = max|x| / 127 and codes rint(x / scale), all in float32."""
    scale = np.float32(np.max(np.abs(x))) / np.float32(127)
    if scale == 0:
        return np.float32(0), np.zeros(len(x), dtype=np.int8)
    codes = np.clip(np.rint(x / scale), -127, 127).astype(np.int8)
    return np.float32(scale), codes


def decode_send(hexstr):
    raw = bytes.fromhex(hexstr)
    dim, fmt = struct.unpack(">hh", raw[:4])
    scale = struct.unpack(">f", raw[4:8])[0]
    return dim, fmt, np.float32(scale), np.frombuffer(raw[8:], dtype=np.int8)


def distances(a, b):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = 1 - a.dot(b) / (na * nb) if na > 0 and nb > 0 else float("nan")
    return np.array([np.linalg.norm(a - b), np.abs(a - b).sum(), -a.dot(b), min(max(cos, 0), 2)])


def check(pairs_path, got_path):
    pairs = {}
    with open(pairs_path) as f:
        for line in f:
            i, a, b = line.rstrip("\n").split("\t")
            pairs[int(i)] = (parse(a), parse(b))
    bad_codes, bad_exact, bad_bound, n = [], [], [], 0
    rel = {k: [] for k in ("l2", "l1", "ip", "cos")}
    with open(got_path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            i = int(fields[0])
            a, b = pairs[i]
            got = np.array([float(x) for x in fields[3:7]])
            decoded = []
            for x, h in ((a, fields[1]), (b, fields[2])):
                dim, fmt, scale, codes = decode_send(h)
                s, c = quantise(x)
                if dim != len(x) or fmt != 1 or scale != s or not np.array_equal(codes, c):
                    bad_codes.append(i)
                # the values: each code times the scale, a float32 product
                decoded.append(((codes.astype(np.float32) * scale).astype(np.float64), float(scale)))
            (qa, sa), (qb, sb) = decoded
            ref = distances(qa, qb)
            # float32 kernels: relative to the sum for L2 and L1, to |a||b| for
            # the inner product, absolute for the cosine
            nanb = np.linalg.norm(qa) * np.linalg.norm(qb)
            tol = np.array([1e-5 * ref[0], 1e-5 * ref[1], 1e-5 * nanb, 1e-5])
            close = (np.abs(got - ref) <= tol) | (np.isnan(got) & np.isnan(ref))
            if not close.all():
                bad_exact.append((i, list(got), list(ref)))
            # each element is off by at most half its scale (and float rounding)
            full = distances(a, b)
            d = len(a)
            e = (sa + sb) / 2 * (1 + 1e-6)
            allowed = [np.sqrt(d) * e, d * e,
                       np.abs(a).astype(np.float64).sum() * sb / 2 + np.abs(b).astype(np.float64).sum() * sa / 2 + d * sa * sb / 4]
            for k, (g, r, lim) in enumerate(zip(ref, full, allowed)):
                if abs(g - r) > lim * (1 + 1e-6) + 1e-300:
                    bad_bound.append((i, k, g, r, lim))
            n += 1
            if full[0] > 0 and np.linalg.norm(a) * np.linalg.norm(b) > 0:
                rel["l2"].append(abs(ref[0] - full[0]) / full[0])
                rel["l1"].append(abs(ref[1] - full[1]) / full[1])
                rel["ip"].append(abs(ref[2] - full[2]) / (np.linalg.norm(a) * np.linalg.norm(b)))
                rel["cos"].append(abs(ref[3] - full[3]))
    print("pairs %d" % n)
    print("codes " + ("ok" if not bad_codes else "differ for pairs %s" % bad_codes[:5]))
    print("exact " + ("ok" if not bad_exact else "differ: %s" % bad_exact[:2]))
    print("bound " + ("ok" if not bad_bound else "exceeded: %s" % bad_bound[:2]))
    print("median relative error against float32: L2 %.2g, L1 %.2g, inner product %.2g (of |a||b|), cosine %.2g (absolute)"
          % tuple(float(np.median(rel[k])) for k in ("l2", "l1", "ip", "cos")))


if __name__ == "__main__":
    if sys.argv[1] == "pairs":
        make_pairs(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
