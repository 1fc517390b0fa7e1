#!/usr/bin/python3
"""Independent numpy reference for mrl_evaluate and mrl_pca_fit/apply
(test/suites/45_evaluate.sh).

  reference.py gen DIR      write pca_points.txt, wide points for PCA at the
                            common large embedding sizes (pca_wide_D.txt) and
                            a synthetic judged collection (docs.tsv,
                            queries.tsv, qrels.tsv)
  reference.py check DIR    compare the server's outputs in DIR with numpy;
                            prints "PASS what" / "FAIL what" lines

Metrics follow trec_eval as BEIR uses it: linear gains, discount
1/log2(rank + 1), ideal DCG from the query's judged grades, relevant means
grade > 0, queries without a relevant document are not scored.
"""
import math
import sys

import numpy as np

SEED = 20261127
N_POINTS, POINT_DIM, COMPONENTS = 300, 12, 5
# 3,072 and 4,096 dims: LAPACK's ssyevd workspace, sized through a float,
# came out too small from about 2,900 dims
WIDE_DIMS, WIDE_POINTS, WIDE_SCALES = (3072, 4096), 200, (10.0, 8.0, 6.0, 4.0)
N_TOPICS, DOCS_PER_TOPIC, N_QUERIES = 30, 20, 40
TOPK = 100


def vec_text(v):
    return "[" + ",".join("%.9g" % x for x in v) + "]"


def parse_vec(s):
    return np.array([float(x) for x in s.strip().strip("[]").split(",")], dtype=np.float64)


def gen(d):
    rng = np.random.default_rng(SEED)
    # anisotropic points: well separated variances, then a random rotation
    scales = np.linspace(6.0, 0.5, POINT_DIM)
    rot, _ = np.linalg.qr(rng.standard_normal((POINT_DIM, POINT_DIM)))
    pts = (rng.standard_normal((N_POINTS, POINT_DIM)) * scales) @ rot.T + rng.standard_normal(POINT_DIM)
    with open(d + "/pca_points.txt", "w") as f:
        for p in pts.astype(np.float32):
            f.write(vec_text(p) + "\n")
    # a few strong directions at random in many dims, plus small noise (a
    # stream of their own, so the collection below stays the same)
    wide_rng = np.random.default_rng(SEED + 1)
    for dim in WIDE_DIMS:
        basis, _ = np.linalg.qr(wide_rng.standard_normal((dim, len(WIDE_SCALES))))
        pts = (wide_rng.standard_normal((WIDE_POINTS, len(WIDE_SCALES))) * WIDE_SCALES) @ basis.T + \
            0.01 * wide_rng.standard_normal((WIDE_POINTS, dim)) + wide_rng.standard_normal(dim)
        with open(d + "/pca_wide_%d.txt" % dim, "w") as f:
            for p in pts.astype(np.float32):
                f.write(vec_text(p) + "\n")

    # topics of made-up words; docs mix topic words with common words
    syll = ["ka", "lo", "mi", "ren", "su", "tor", "va", "zel", "pi", "qua", "bri", "don"]
    word = lambda: "".join(rng.choice(syll, size=3))
    topics = [[word() for _ in range(8)] for _ in range(N_TOPICS)]
    common = [word() for _ in range(40)]
    docs = []
    for t in range(N_TOPICS):
        for _ in range(DOCS_PER_TOPIC):
            words = list(rng.choice(topics[t], size=int(rng.integers(2, 7)))) + \
                list(rng.choice(common, size=int(rng.integers(2, 6))))
            rng.shuffle(words)
            docs.append((t, words))
    order = rng.permutation(len(docs))
    with open(d + "/docs.tsv", "w") as f:
        for i, k in enumerate(order):
            f.write("%d\t%s\n" % (1000 + 7 * i, " ".join(docs[k][1])))
    doc_topic = {1000 + 7 * i: docs[k][0] for i, k in enumerate(order)}
    doc_words = {1000 + 7 * i: set(docs[k][1]) for i, k in enumerate(order)}
    with open(d + "/queries.tsv", "w") as f, open(d + "/qrels.tsv", "w") as g:
        for q in range(N_QUERIES):
            t = q % N_TOPICS
            qw = list(rng.choice(topics[t], size=3, replace=False))
            f.write("Q%d\t%s\n" % (q, " ".join(qw)))
            for doc, dt in doc_topic.items():
                if dt != t:
                    continue
                hits = len(doc_words[doc] & set(qw))
                g.write("Q%d\t%d\t%d\n" % (q, doc, min(hits, 2)))


def score_query(ranked, grades):
    """nDCG@10, Recall@10, Recall@100, MRR@10 of one ranking (doc ids)."""
    rel = {d for d, g in grades.items() if g > 0}
    dcg = sum(grades.get(d, 0) / math.log2(r + 2) for r, d in enumerate(ranked[:10]) if grades.get(d, 0) > 0)
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:10]
    idcg = sum(g / math.log2(r + 2) for r, g in enumerate(ideal))
    rr = next((1.0 / (r + 1) for r, d in enumerate(ranked[:10]) if d in rel), 0.0)
    return np.array([dcg / idcg, len(rel & set(ranked[:10])) / len(rel),
                     len(rel & set(ranked[:100])) / len(rel), rr])


def evaluate(Q, D, doc_ids, qrels, dims):
    """Mean metrics of ranking docs by the cosine of the first dims values."""
    q = Q[:, :dims] / np.maximum(np.linalg.norm(Q[:, :dims], axis=1, keepdims=True), 1e-30)
    dd = D[:, :dims] / np.maximum(np.linalg.norm(D[:, :dims], axis=1, keepdims=True), 1e-30)
    total = np.zeros(4)
    for i, grades in enumerate(qrels):
        order = np.argsort(-(dd @ q[i]), kind="stable")[:TOPK]
        total += score_query([doc_ids[k] for k in order], grades)
    return total / len(qrels)


def read_emb(path):
    ids, rows = [], []
    with open(path) as f:
        for line in f:
            i, v = line.rstrip("\n").split("|")
            ids.append(i)
            rows.append(parse_vec(v))
    return ids, np.array(rows)


def check(d):
    results = []

    def expect(cond, what):
        results.append(("PASS " if cond else "FAIL ") + what)

    # ---- PCA against numpy's eigendecomposition of the covariance
    X = np.array([parse_vec(l) for l in open(d + "/pca_points.txt")])
    fit = [parse_vec(l) for l in open(d + "/pca_fit.txt")]
    proj = np.array([parse_vec(l) for l in open(d + "/pca_proj.txt")])
    mean = X.mean(axis=0)
    evals, evecs = np.linalg.eigh(np.cov(X, rowvar=False))
    comps = evecs[:, ::-1][:, :COMPONENTS].T
    for c in comps:
        if c[np.argmax(np.abs(c))] < 0:
            c *= -1
    expect(len(fit) == COMPONENTS + 1, "mrl_pca_fit returns the mean and %d directions" % COMPONENTS)
    err_mean = np.abs(fit[0] - mean).max()
    expect(err_mean < 1e-4, "PCA mean equals numpy's (max error %.2g)" % err_mean)
    err_dir = max(np.abs(fit[k + 1] - comps[k]).max() for k in range(COMPONENTS))
    expect(err_dir < 1e-3, "PCA directions and signs equal numpy's eigh (max error %.2g)" % err_dir)
    ref_proj = (X - mean) @ comps.T
    err_proj = np.abs(proj - ref_proj).max() / np.abs(ref_proj).max()
    expect(err_proj < 1e-4, "mrl_pca_apply equals numpy's projections (max relative error %.2g)" % err_proj)
    var = proj.var(axis=0)
    expect(all(var[k] > var[k + 1] for k in range(COMPONENTS - 1)),
           "projections come in order of falling variance (%s)" % ", ".join("%.2f" % v for v in var))

    # ---- PCA of wide points against numpy's SVD of the centred points
    for dim in WIDE_DIMS:
        X = np.array([parse_vec(l) for l in open(d + "/pca_wide_%d.txt" % dim)])
        fit = [parse_vec(l) for l in open(d + "/pca_wide_%d_fit.txt" % dim)]
        k = len(WIDE_SCALES)
        mean = X.mean(axis=0)
        comps = np.linalg.svd(X - mean, full_matrices=False)[2][:k]
        for c in comps:
            if c[np.argmax(np.abs(c))] < 0:
                c *= -1
        ok = len(fit) == k + 1 and all(len(v) == dim for v in fit)
        err_mean = np.abs(fit[0] - mean).max() if ok else float("inf")
        err_dir = max(np.abs(fit[c + 1] - comps[c]).max() for c in range(k)) if ok else float("inf")
        expect(ok and err_mean < 1e-5 and err_dir < 1e-4,
               "PCA of %d points in %d dims equals numpy's SVD (mean error %.2g, direction error %.2g)"
               % (len(X), dim, err_mean, err_dir))

    # ---- mrl_evaluate against numpy rankings and metrics
    doc_ids, D = read_emb(d + "/doc_emb.txt")
    query_ids, Q = read_emb(d + "/query_emb.txt")
    judged = {}
    for line in open(d + "/qrels.tsv"):
        q, doc, g = line.split("\t")
        judged.setdefault(q, {})[doc] = int(g)
    keep = [i for i, q in enumerate(query_ids) if any(g > 0 for g in judged.get(q, {}).values())]
    qrels = [judged[query_ids[i]] for i in keep]
    Q = Q[keep]
    got = {}
    for line in open(d + "/eval.txt"):
        dims, method, *m = line.rstrip("\n").split("|")
        got[(dims, method)] = np.array([float(x) for x in m])
    pca_dims = max(int(k[0]) for k in got if k[1] == "pca")
    mean = D.mean(axis=0)
    evals, evecs = np.linalg.eigh(np.cov(D, rowvar=False))
    W = evecs[:, ::-1][:, :pca_dims]
    for (dims, method), m in sorted(got.items()):
        if method == "prefix":
            ref, tol = evaluate(Q, D, doc_ids, qrels, int(dims)), 2e-3
        elif method == "pca":
            ref, tol = evaluate((Q - mean) @ W, (D - mean) @ W, doc_ids, qrels, int(dims)), 1e-2
        else:
            continue
        err = np.abs(m - ref).max()
        expect(err < tol, "mrl_evaluate %s at %s dims equals numpy (nDCG@10 %.4f vs %.4f, "
               "R@100 %.4f vs %.4f, max error %.2g)" % (method, dims, m[0], ref[0], m[2], ref[2], err))
    print("\n".join(results))


if __name__ == "__main__":
    {"gen": gen, "check": check}[sys.argv[1]](sys.argv[2])
