#!/usr/bin/env python3
"""check_embed_cli.py: TAP checks of the mrl_embed command-line tool.

usage: check_embed_cli.py MRL_EMBED EXPECTED.json MODELS_DIR FIRST_TEST_NUMBER

Runs tools/mrl_embed on the tiny models made by make_tiny_models.py and
compares its output with the PyTorch reference vectors in EXPECTED.json
(standard library only).  Prints TAP lines numbered from FIRST_TEST_NUMBER.
"""
import json
import math
import os
import struct
import subprocess
import sys

COS_MIN, REL_MAX = 0.99999, 1e-5


class Tap:
    def __init__(self, first):
        self.n = first - 1
        self.failed = 0

    def ok(self, cond, what):
        self.n += 1
        self.failed += not cond
        print("%sok %d - mrl_embed: %s" % ("" if cond else "not ", self.n, what))


def run(cli, model, args, stdin):
    p = subprocess.run([cli] + args + [model], input=stdin.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    rows = [[float(x) for x in line.split()] for line in p.stdout.decode().splitlines()]
    return p.returncode, rows, p.stderr.decode()


def compare(rows, ref):
    """(min cosine, max relative L2 error) of output rows vs reference rows."""
    if len(rows) != len(ref) or any(len(a) != len(b) for a, b in zip(rows, ref)):
        return -1.0, 1e9
    worst_cos, worst_rel = 1.0, 0.0
    for a, b in zip(rows, ref):
        dot = sum(x * y for x, y in zip(a, b))
        na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
        diff = math.sqrt(sum((x - y) ** 2 for x, y in zip(a, b)))
        worst_cos = min(worst_cos, dot / (na * nb))
        worst_rel = max(worst_rel, diff / nb)
    return worst_cos, worst_rel


def main():
    cli, expected, models, first = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with open(expected) as f:
        exp = json.load(f)
    ids_text = "".join(" ".join(map(str, s)) + "\n" for s in exp["sequences"])
    tap = Tap(first)

    def case(model, name):
        return next(c for c in exp["models"][model]["cases"] if c["name"] == name)["vectors"]

    checks = [("tiny-bert", "full", ["--ids"]),
              ("tiny-bert", "raw", ["--ids", "--no-normalize", "--batch", "2"]),
              ("tiny-bert", "layers1", ["--ids", "--layers", "1", "--threads", "2"]),
              ("tiny-nomic", "cls", ["--ids", "--pooling", "cls", "--batch", "1"]),
              ("tiny-nomic", "dims16", ["--ids", "--dims", "16"]),
              ("tiny-nomic", "nomic_dims16", ["--ids", "--dims", "16", "--nomic-dims"])]
    if os.path.exists(os.path.join(models, "tiny-bert.Q8_0.gguf")):
        checks.append(("tiny-bert.Q8_0.gguf", "full", ["--ids"]))
    for model, name, args in checks:
        rc, rows, err = run(cli, os.path.join(models, model), args, ids_text)
        c, r = compare(rows, case(model, name))
        tap.ok(rc == 0 and c >= COS_MIN and r <= REL_MAX,
               "%s %s %s: cosine %.9f, rel. error %.1e %s" % (model, " ".join(args), name, c, r, err.strip()))

    # Text input goes through the model's tokenizer: compare with the ids
    # looked up by hand in the tiny vocabulary (whole words and punctuation).
    bert = os.path.join(models, "tiny-bert")
    with open(os.path.join(bert, "vocab.txt")) as f:
        vocab = {t: i for i, t in enumerate(f.read().split("\n"))}

    def ids(words):
        return " ".join(str(vocab[w]) for w in ["[CLS]"] + words + ["[SEP]"]) + "\n"

    rc1, text_rows, err = run(cli, bert, [], "The cat sat.\nHELLO world!\n")
    rc2, id_rows, _ = run(cli, bert, ["--ids"], ids(["the", "cat", "sat", "."]) + ids(["hello", "world", "!"]))
    tap.ok(rc1 == 0 and rc2 == 0 and len(text_rows) == 2 and text_rows == id_rows,
           "text lines give the same vectors as their token ids %s" % err.strip())
    rc1, text_rows, err = run(cli, bert, ["--prefix", "search_query: "], "hello\n")
    rc2, id_rows, _ = run(cli, bert, ["--ids"], ids(["search", "_", "query", ":", "hello"]))
    tap.ok(rc1 == 0 and rc2 == 0 and len(text_rows) == 1 and text_rows == id_rows,
           "--prefix is tokenized with the line %s" % err.strip())

    # A static model: the normalised mean of the word pieces' rows, without
    # [CLS]/[SEP], computed here straight from the safetensors file.
    static = os.path.join(models, "tiny-static")
    with open(os.path.join(static, "model.safetensors"), "rb") as f:
        data = f.read()
    hlen = struct.unpack("<Q", data[:8])[0]
    info = json.loads(data[8:8 + hlen])["embeddings"]
    dim = info["shape"][1]
    table = struct.unpack("<%df" % ((len(data) - 8 - hlen) // 4), data[8 + hlen:])
    mean = [sum(table[vocab[w] * dim + j] for w in ("the", "cat", "sat")) / 3 for j in range(dim)]
    rc, rows, err = run(cli, static, [], "The cat sat\n")
    c, r = compare(rows, [mean])
    tap.ok(rc == 0 and c >= COS_MIN, "static model: mean of the word-piece rows, cosine %.9f %s"
           % (c, err.strip()))

    rc, rows, err = run(cli, bert, ["--ids"], "101 5 102\n101 200 102\n")
    tap.ok(rc != 0 and "out of range" in err, "token id out of range fails: %s" % err.strip())
    rc, rows, err = run(cli, bert, ["--ids"], "101 x 102\n")
    tap.ok(rc != 0 and "bad token id" in err, "non-numeric id fails: %s" % err.strip())
    rc, rows, err = run(cli, bert, ["--dims", "65"], "hello\n")
    tap.ok(rc != 0 and rows == [], "--dims above the width fails: %s" % err.strip())
    rc, rows, err = run(cli, os.path.join(models, "no-such-model"), [], "hello\n")
    tap.ok(rc != 0 and err, "missing model fails: %s" % err.strip())
    sys.exit(1 if tap.failed else 0)


if __name__ == "__main__":
    main()
