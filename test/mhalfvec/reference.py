#!/usr/bin/python3
"""numpy's float16 as the reference for mhalfvec's rounding.

  reference.py table
      prints the literal / half bits / text rows written into sql/mhalfvec.sql
      (each literal read as a float32, then rounded to the nearest half)
  reference.py boundaries FLOATS EXPECTED
      writes FLOATS, vectors (one per line, mvector text) of float32 values
      at every rounding boundary of half precision: each finite half, the
      midpoints to its neighbours and the floats one ulp either side of them,
      both signs, plus values below the smallest subnormal; and EXPECTED,
      numpy's half of each, as 4-digit hex per element, one line per vector.
  reference.py halves FLOATS
      writes every finite half's exact value (as float32 text), 1000 per
      line, for the widening direction (the bits are 0000..7bff, 8000..fbff).
"""
import sys

import numpy as np

PER_LINE = 1000


def f32_text(x):
    # 9 significant digits read back to the same float32
    return "%.9g" % float(x)


def write_vectors(path, values):
    with open(path, "w") as f:
        for i in range(0, len(values), PER_LINE):
            f.write("[" + ",".join(f32_text(v) for v in values[i:i + PER_LINE]) + "]\n")


def table():
    literals = ["0.1", "1", "-2.5", "65504", "65519", "65519.99", "65505", "-65519",
                "1e-8", "2.9802322e-8", "3e-8", "5.9604645e-8", "6.1035156e-5",
                "6.097555e-5", "1.0009766", "1.00048828125", "1.00146484375",
                "2049", "2051", "-0", "0.333333", "-123.456", "1000.5", "1.001358e-05"]
    for lit in literals:
        h = np.float32(lit).astype(np.float16)
        bits = int(h.view(np.uint16))
        text = repr(np.float32(h))
        text = text[:-2] if text.endswith(".0") else text   # PostgreSQL prints 1, not 1.0
        print("('%s', '%04x', '%s')," % (lit, bits, text))


def boundaries(floats_path, expected_path):
    finite = np.arange(0, 0x7c00, dtype=np.uint16)         # +0 .. 65504
    h = finite.view(np.float16).astype(np.float32)
    nxt = (finite + 1).view(np.float16).astype(np.float32)  # 0x7c00 is infinity
    mid = np.where(np.isinf(nxt), np.float32(65520), (h + nxt) / 2).astype(np.float32)
    values = [h, mid, np.nextafter(mid, np.float32(0)), np.nextafter(mid, np.float32(np.inf))]
    tiny = np.float32(2.0) ** np.arange(-149, -24, dtype=np.float32)
    pos = np.concatenate(values + [tiny])
    pos = pos[pos < 65520]                                  # 65520 and up are out of range
    rng = np.random.default_rng(7)
    pos = np.concatenate([pos, rng.uniform(0, 65519.99, 50000).astype(np.float32)])
    allv = np.concatenate([pos, -pos]).astype(np.float32)
    write_vectors(floats_path, allv)
    bits = allv.astype(np.float16).view(np.uint16)
    with open(expected_path, "w") as f:
        for i in range(0, len(bits), PER_LINE):
            f.write("".join("%04x" % b for b in bits[i:i + PER_LINE]) + "\n")


def halves(floats_path):
    bits = np.concatenate([np.arange(0, 0x7c00), np.arange(0x8000, 0xfc00)]).astype(np.uint16)
    write_vectors(floats_path, bits.view(np.float16).astype(np.float32))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "table":
        table()
    elif mode == "boundaries":
        boundaries(sys.argv[2], sys.argv[3])
    elif mode == "halves":
        halves(sys.argv[2])
    else:
        sys.exit("unknown mode " + mode)
