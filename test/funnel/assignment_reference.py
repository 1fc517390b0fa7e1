#!/usr/bin/python3
"""Share of a funnel index's rows that a build put in their exact nearest list.

Reads, on stdin, lines "part|hex" of test/suites/33's funnel_contents (the
metapage, the directory's records without their page pointers, and every
entry as "entry <list>") and lines "row|<block>|<offset>|<mvector text>" of
the table, for an index of coarse_dims dims on mvector_cosine_ops.  For each
row, numpy (float64) finds the nearest list centroid to the first
coarse_dims dims of the unit vector, and the row's entry (by heap pointer)
says which list the build chose.  Prints the share of rows in their nearest
list, and the mean ratio of the chosen list's squared distance to the
nearest one's, each with 4 decimals.
"""
import struct
import sys

import numpy as np


def main():
    coarse = int(sys.argv[1])
    centroids = []
    chosen = {}
    rows = []
    for line in sys.stdin:
        part, _, rest = line.rstrip("\n").partition("|")
        if part == "row":
            block, offset, text = rest.split("|")
            rows.append(((int(block), int(offset)), np.array(text.strip("[]").split(","), dtype=np.float64)))
            continue
        content = bytes.fromhex(rest)
        if part == "list":
            # radius, minResid, maxResid, maxNorm (float4), count (uint32), centroid
            centroids.append(struct.unpack_from("<%df" % coarse, content, 20))
        elif part.startswith("entry "):
            hi, lo, pos = struct.unpack_from("<HHH", content, 0)
            chosen[((hi << 16) | lo, pos)] = int(part.split()[1])
    c = np.array(centroids[:-1], dtype=np.float64)  # the last record is the NULL list's
    exact = 0
    ratios = []
    for tid, x in rows:
        p = (x / np.linalg.norm(x))[:coarse]
        d = ((c - p) ** 2).sum(axis=1)
        nearest = int(d.argmin())
        got = chosen[tid]
        exact += got == nearest or d[got] == d[nearest]
        ratios.append(d[got] / d[nearest] if d[nearest] > 0 else 1.0)
    print("%.4f %.4f" % (exact / len(rows), float(np.mean(ratios))))


main()
