#!/usr/bin/env python3
"""funnel_estimator_study.py: how well codes of a few bytes rank real vectors.

Reads the first N + Q vectors of the corpus cache (test/bench/corpus_load.sh's
binary COPY file: id, text, mvector, ...), normalises them, and for Q held-out
queries (the Q rows after the first N) asks, for each code: how many rows of
the N, ranked by the code's estimate of the cosine similarity, must a scan
rerank so that 96.5% of the true top 10 are among them (the funnel's
calibration target)?  The codes: the funnel's (int8 prefix + sign bits of the
rest), 1 bit a dim of the whole vector (RaBitQ-style scale), the same of the
residual to a k-means centroid (with and without a random rotation), and
2-4 bits a dim of that residual.  numpy only; no PostgreSQL.

  python3 test/bench/funnel_estimator_study.py /var/tmp/mrl-corpus/emb-*-1000000.copy [N] [Q]
"""
import struct
import sys

import numpy as np


def read_copy(path, n):
    """The mvector column (field 3) of the first n rows of a binary COPY."""
    out = None
    with open(path, "rb") as f:
        data = f.read(min(1 << 31, 1200 * (n + 10) + 4096))
    pos = 11 + 4
    pos += 4 + struct.unpack(">i", data[pos:pos + 4])[0]
    for row in range(n):
        nfields = struct.unpack(">h", data[pos:pos + 2])[0]
        pos += 2
        for field in range(nfields):
            length = struct.unpack(">i", data[pos:pos + 4])[0]
            pos += 4
            if field == 2:
                dim = struct.unpack(">h", data[pos:pos + 2])[0]
                if out is None:
                    out = np.zeros((n, dim), np.float32)
                out[row] = np.frombuffer(data[pos + 4:pos + 4 + 4 * dim], dtype=">f4")
            pos += max(length, 0)
    return out


def shortlist_needed(est, truth, frac=0.965):
    """Rows to rerank, in estimate order, to hold frac of the true top 10."""
    ranks = []
    for i in range(len(est)):
        vals = est[i, truth[i]]
        ranks.extend((est[i][None, :] > vals[:, None]).sum(1))
    ranks = np.sort(ranks)
    return int(ranks[int(np.ceil(frac * len(ranks))) - 1]) + 1


def sign_code(r):
    """1 bit a dim, times the scale ||r||^2 / sum|r_i| (RaBitQ's estimator)."""
    scale = (r * r).sum(1) / np.maximum(np.abs(r).sum(1), 1e-30)
    return np.sign(r) * scale[:, None]


def int8_code(r):
    step = np.maximum(np.abs(r).max(1, keepdims=True), 1e-30) / 127
    return np.round(r / step) * step


def uniform_code(r, bits):
    top = np.maximum(np.abs(r).max(1, keepdims=True), 1e-30)
    levels = 2 ** (bits - 1) - 0.5
    return (np.round(r / top * levels + 0.5) - 0.5) / levels * top


def kmeans(x, k, iterations, rng):
    c = x[rng.choice(len(x), k, replace=False)].copy()
    for _ in range(iterations):
        a = np.argmax(x @ c.T - 0.5 * (c * c).sum(1), axis=1)
        for j in range(k):
            members = a == j
            if members.any():
                c[j] = x[members].mean(0)
    return c, np.argmax(x @ c.T - 0.5 * (c * c).sum(1), axis=1)


def main():
    path = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 250000
    nq = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    x = read_copy(path, n + nq)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    rows, queries = x[:n], x[n:]
    dim = rows.shape[1]
    prefix = 64
    truth = np.argsort(-(queries @ rows.T), axis=1)[:, :10]
    rng = np.random.default_rng(1)
    centroids, assign = kmeans(rows, max(1, int(np.sqrt(n))), 8, rng)
    resid = rows - centroids[assign]
    base = (queries @ centroids.T)[:, assign]
    rot = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    qrot = queries @ rot
    codes = [
        ("funnel today: int8 of 64 dims + 1 bit of the rest", 40 + prefix + (dim - prefix) // 8,
         lambda: queries @ np.hstack([int8_code(rows[:, :prefix]), sign_code(rows[:, prefix:])]).T),
        ("1 bit a dim of the whole vector", 4 + dim // 8,
         lambda: queries @ sign_code(rows).T),
        ("1 bit a dim of the residual to its centroid", 4 + dim // 8,
         lambda: base + queries @ sign_code(resid).T),
        ("the same, randomly rotated", 4 + dim // 8,
         lambda: base + qrot @ sign_code(resid @ rot).T),
    ]
    for bits in (2, 3, 4):
        codes.append((f"{bits} bits a dim of the residual", 4 + dim * bits // 8,
                      lambda bits=bits: base + queries @ uniform_code(resid, bits).T))
    print(f"{n} rows x {dim} dims, {nq} held-out queries, {len(centroids)} k-means lists")
    print("code | bytes a row (code + factors; without the heap pointer) | shortlist for 96.5% of the top 10")
    for name, size, estimate in codes:
        print(f"{name} | {size} | {shortlist_needed(estimate(), truth)}")


if __name__ == "__main__":
    main()
