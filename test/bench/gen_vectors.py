#!/usr/bin/python3
"""Write N random D-dim vectors as a PostgreSQL binary COPY file.

The binary form of mvector (int16 dim, int16 unused, float4 x[dim], network
order) is also pgvector's, so one file loads into either type.  Columns:
id int4, emb.  --matryoshka gives per-dimension scales that decay with the
index and clustered data, like real MRL embeddings; vectors are unit length.
--queries Q FILE draws Q more vectors of the same distribution first (ids
1..Q, held out of the rows), and --truth FILE writes each query's exact
top-K rows by cosine distance (float64, numpy) as "qid<TAB>{id,...}" for
COPY into (qid int, ids int[]).  Rows are made CHUNK at a time, so memory
stays small at millions of rows.
"""
import argparse
import struct
import sys

import numpy as np

CHUNK = 262144


class Generator:
    """Vectors of one distribution, drawn in successive batches."""

    def __init__(self, d, seed, matryoshka, clusters=100):
        self.rng = np.random.default_rng(seed)
        self.d = d
        self.matryoshka = matryoshka
        if matryoshka:
            self.scale = (1.0 / np.sqrt(1.0 + np.arange(d) / 8.0)).astype(np.float32)
            self.centres = self.rng.standard_normal((clusters, d), dtype=np.float32) * self.scale

    def draw(self, n):
        rng = self.rng
        if not self.matryoshka:
            x = rng.standard_normal((n, self.d), dtype=np.float32)
        else:
            x = self.centres[rng.integers(0, len(self.centres), n)]
            x += 0.5 * rng.standard_normal((n, self.d), dtype=np.float32) * self.scale
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x


def copy_rows(x, first_id):
    """The rows of x as binary COPY tuples (id, vector), ids from first_id."""
    n, d = x.shape
    row = np.dtype([("nfields", ">i2"), ("idlen", ">i4"), ("id", ">i4"), ("veclen", ">i4"),
                    ("dim", ">i2"), ("unused", ">i2"), ("x", ">f4", (d,))])
    out = np.zeros(n, dtype=row)
    out["nfields"], out["idlen"], out["veclen"], out["dim"] = 2, 4, 4 + 4 * d, d
    out["id"] = np.arange(first_id, first_id + n)
    out["x"] = x
    return out.tobytes()


def write_copy(path, batches):
    """A binary COPY file of the (x, first_id) batches."""
    with open(path, "wb") as f:
        f.write(b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0))
        for x, first_id in batches:
            f.write(copy_rows(x, first_id))
        f.write(struct.pack(">h", -1))


class TopK:
    """Each query's K nearest rows by cosine distance, merged batch by batch."""

    def __init__(self, queries, k):
        q = queries.astype(np.float64)
        self.q = q / np.linalg.norm(q, axis=1, keepdims=True)
        self.k = k
        self.sims = np.full((len(q), 0), -np.inf)
        self.ids = np.zeros((len(q), 0), dtype=np.int64)

    def add(self, x, first_id):
        x = x.astype(np.float64)
        sims = (x / np.linalg.norm(x, axis=1, keepdims=True)) @ self.q.T
        sims = np.concatenate([self.sims, sims.T], axis=1)
        ids = np.concatenate([self.ids, np.broadcast_to(np.arange(first_id, first_id + len(x)),
                                                        (len(self.q), len(x)))], axis=1)
        # the k largest, then those k in order (a full sort per batch was
        # most of the time at 4M rows)
        keep = np.argpartition(-sims, self.k - 1, axis=1)[:, :self.k]
        sims, ids = np.take_along_axis(sims, keep, axis=1), np.take_along_axis(ids, keep, axis=1)
        order = np.argsort(-sims, axis=1, kind="stable")
        self.sims = np.take_along_axis(sims, order, axis=1)
        self.ids = np.take_along_axis(ids, order, axis=1)

    def write(self, path):
        with open(path, "w") as f:
            for qid, ids in enumerate(self.ids, start=1):
                f.write("%d\t{%s}\n" % (qid, ",".join(map(str, ids))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("d", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--matryoshka", action="store_true")
    ap.add_argument("--start-id", type=int, default=1)
    ap.add_argument("--queries", nargs=2, metavar=("Q", "FILE"))
    ap.add_argument("--truth", metavar="FILE")
    ap.add_argument("-k", type=int, default=10)
    a = ap.parse_args()
    gen = Generator(a.d, a.seed, a.matryoshka)
    topk = None
    if a.queries:
        queries = gen.draw(int(a.queries[0]))
        write_copy(a.queries[1], [(queries, 1)])
        if a.truth:
            topk = TopK(queries, a.k)

    def batches():
        for lo in range(0, a.n, CHUNK):
            x = gen.draw(min(CHUNK, a.n - lo))
            if topk:
                topk.add(x, a.start_id + lo)
            yield x, a.start_id + lo

    write_copy(a.out, batches())
    if topk:
        topk.write(a.truth)


if __name__ == "__main__":
    sys.exit(main())
