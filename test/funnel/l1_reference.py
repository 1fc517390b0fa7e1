#!/usr/bin/python3
"""The exact L1 top-k of each query, computed with numpy, for 36_funnel_l1.sh.

usage: l1_reference.py DOCS QUERIES K OUT [--half]
DOCS and QUERIES hold lines "id<TAB>[x1,x2,...]" (an mvector's text form);
OUT gets "qid<TAB>{id1,id2,...}" (a PostgreSQL int[] literal), the k nearest
docs by sum |d_i - q_i| in double precision, ties by id.  --half rounds both
to IEEE half precision first (numpy float16, as an mhalfvec column holds them).
"""
import sys

import numpy as np


def read(path, half):
    ids, rows = [], []
    with open(path) as f:
        for line in f:
            i, v = line.rstrip("\n").split("\t")
            ids.append(int(i))
            rows.append(np.array(v.strip("[]").split(","), dtype=np.float32))
    x = np.vstack(rows)
    if half:
        x = x.astype(np.float16)
    return np.array(ids), x.astype(np.float64)


def main():
    docs, queries, k, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    half = "--half" in sys.argv[5:]
    dids, d = read(docs, half)
    qids, q = read(queries, half)
    with open(out, "w") as f:
        for qid, qv in zip(qids, q):
            dist = np.abs(d - qv).sum(axis=1)
            order = np.lexsort((dids, dist))[:k]
            f.write("%d\t{%s}\n" % (qid, ",".join(str(i) for i in dids[order])))


if __name__ == "__main__":
    main()
