#!/usr/bin/python3
"""Write N random D-dim vectors as a PostgreSQL binary COPY file.

The binary form of mvector (int16 dim, int16 unused, float4 x[dim], network
order) is also pgvector's, so one file loads into either type.  Columns:
id int4, emb.  --matryoshka gives per-dimension scales that decay with the
index and clustered data, like real MRL embeddings; vectors are unit length.
"""
import argparse
import struct
import sys

import numpy as np


def vectors(n, d, seed, matryoshka, clusters=100):
    rng = np.random.default_rng(seed)
    if not matryoshka:
        x = rng.standard_normal((n, d), dtype=np.float32)
    else:
        scale = (1.0 / np.sqrt(1.0 + np.arange(d) / 8.0)).astype(np.float32)
        centres = rng.standard_normal((clusters, d), dtype=np.float32) * scale
        x = centres[rng.integers(0, clusters, n)]
        x += 0.5 * rng.standard_normal((n, d), dtype=np.float32) * scale
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("d", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--matryoshka", action="store_true")
    ap.add_argument("--start-id", type=int, default=1)
    a = ap.parse_args()
    x = vectors(a.n, a.d, a.seed, a.matryoshka)
    rowhead = struct.pack(">h", 2) + struct.pack(">i", 4)
    vechead = struct.pack(">i", 4 + 4 * a.d) + struct.pack(">hh", a.d, 0)
    with open(a.out, "wb") as f:
        f.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        for i in range(a.n):
            f.write(rowhead + struct.pack(">i", a.start_id + i) + vechead)
            f.write(x[i].astype(">f4").tobytes())
        f.write(struct.pack(">h", -1))


if __name__ == "__main__":
    sys.exit(main())
