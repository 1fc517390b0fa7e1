#!/usr/bin/python3
"""Independent reference for mrl_evaluate_classification and
mrl_evaluate_clustering (test/suites/50_downstream.sh): scikit-learn
(Debian's python3-sklearn) on the same embeddings, exported by the server.

  reference_downstream.py gen DIR    write labelled texts: topics.tsv (id,
                                     body, label, fold: 6 topics, a fixed
                                     split with rows only trained on),
                                     small.tsv (id, body, label: 48 rows,
                                     integer labels) and noisy.tsv (id,
                                     body, label: 4 clean topics, a quarter
                                     of the labels wrong)
  reference_downstream.py check DIR  compare the server's results in DIR
                                     with scikit-learn; prints "PASS what" /
                                     "FAIL what" lines

Every method sees the first d values of each embedding scaled to unit
length; kNN votes among the 10 nearest by cosine; the linear probe is
LogisticRegression(C=1), multinomial, solved to convergence; k-means has one
cluster per label.
"""
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, adjusted_rand_score, f1_score, normalized_mutual_info_score
from sklearn.neighbors import KNeighborsClassifier

SEED = 1515
NEIGHBORS = 10
TOPICS = {
    "animals": "dog cat horse cow sheep lion tiger wolf bird fish rabbit mouse bear fox deer",
    "food": "bread cheese apple soup rice pasta butter sugar salt pepper cake meat bean onion milk",
    "computing": "compiler kernel memory network server database program code software file disk cache thread",
    "music": "guitar piano song melody rhythm drum violin concert singer chord album band orchestra",
    "weather": "rain snow wind storm cloud sunshine fog thunder frost temperature humidity forecast",
    "sport": "football tennis goal team player match score referee stadium race coach league",
}
COMMON = "the a of and with for in on very some many often new old big small good".split()


def texts(rng, topics, n_per_topic, common=True):
    rows = []
    for t in topics:
        words = TOPICS[t].split()
        for _ in range(n_per_topic):
            body = list(rng.choice(words, size=int(rng.integers(2, 6))))
            if common:
                body += list(rng.choice(COMMON, size=int(rng.integers(2, 5))))
            rng.shuffle(body)
            rows.append((" ".join(body), t))
    return [rows[i] for i in rng.permutation(len(rows))]


def gen(d):
    rng = np.random.default_rng(SEED)
    with open(d + "/topics.tsv", "w") as f:
        for i, (body, label) in enumerate(texts(rng, sorted(TOPICS), 40)):
            fold = "\\N" if i % 10 == 9 else str(i % 4 * 7 - 3)     # folds -3, 4, 11, 18
            f.write("%d\t%s\t%s\t%s\n" % (1000 - 3 * i, body, label, fold))
    with open(d + "/small.tsv", "w") as f:
        for i, (body, label) in enumerate(texts(rng, ["animals", "food", "music"], 16)):
            f.write("%d\t%s\t%d\n" % (i, body, sorted(TOPICS).index(label) * 10))
    with open(d + "/noisy.tsv", "w") as f:
        topics = ["animals", "computing", "food", "weather"]
        for i, (body, label) in enumerate(texts(rng, topics, 50, common=False)):
            if rng.random() < 0.25:
                label = topics[int(rng.integers(0, len(topics)))]
            f.write("%d\t%s\t%s\n" % (i, body, label))


def read_table(path):
    rows = [line.rstrip("\n").split("\t") for line in open(path)]
    return {r[0]: r[1:] for r in rows}


def read_emb(path):
    ids, rows = [], []
    for line in open(path):
        i, v = line.rstrip("\n").split("|")
        ids.append(i)
        rows.append([float(x) for x in v.strip("[]").split(",")])
    return ids, np.array(rows)


def read_result(path):
    """(dims, method) -> metrics, from 'dims|method|m1|m2...' lines."""
    out = {}
    for line in open(path):
        dims, method, *m = line.rstrip("\n").split("|")
        out[(int(dims), method)] = np.array([float(x) for x in m])
    return out


def unit(X, d):
    P = X[:, :d]
    n = np.linalg.norm(P, axis=1, keepdims=True)
    return P / np.where(n > 0, n, 1)


def classify(X, y, folds, d, pca):
    """Pooled kNN and logistic-regression predictions of the tested rows."""
    tested = [i for i, f in enumerate(folds) if f is not None]
    knn_pred, lin_pred = {}, {}
    for f in sorted({f for f in folds if f is not None}):
        train = np.array([g != f for g in folds])
        test = np.array([g == f for g in folds])
        V = PCA(n_components=d, svd_solver="full").fit(X[train]).transform(X) if pca else X
        U = unit(V, d)
        knn = KNeighborsClassifier(n_neighbors=NEIGHBORS, metric="cosine", algorithm="brute")
        lin = LogisticRegression(C=1.0, multi_class="multinomial", solver="sag", tol=1e-10,
                                 max_iter=100000, random_state=0)
        for pred, model in ((knn_pred, knn), (lin_pred, lin)):
            for i, p in zip(np.flatnonzero(test), model.fit(U[train], y[train]).predict(U[test])):
                pred[i] = p
    truth = y[tested]
    out = []
    for pred in (knn_pred, lin_pred):
        p = np.array([pred[i] for i in tested])
        out += [accuracy_score(truth, p), f1_score(truth, p, average="macro")]
    return np.array(out), len(tested)


def check(d):
    results = []

    def expect(cond, what):
        results.append(("PASS " if cond else "FAIL ") + what)

    # ---- classification with the table's folds (NULL: trained on only)
    table = read_table(d + "/topics.tsv")
    ids, E = read_emb(d + "/topics_emb.txt")
    y = np.array([table[i][1] for i in ids])
    folds = [None if table[i][2] == "\\N" else int(table[i][2]) for i in ids]
    for name, pca in (("topics_prefix", False), ("topics_pca", True)):
        got = read_result(d + "/%s.txt" % name)
        for (dims, method), m in sorted(got.items()):
            ref, n_tested = classify(E, y, folds, dims, pca)
            # PCA in float32 against float64: at most one prediction may move
            tol = 1e-12 if not pca else 1.0 / n_tested + 1e-12
            err = np.abs(m - ref).max()
            expect(err <= tol, "classification, %s at %d dims, fold column: kNN accuracy %.4f "
                   "(sklearn %.4f), macro-F1 %.4f (%.4f); linear accuracy %.4f (%.4f), macro-F1 %.4f (%.4f)"
                   % (method, dims, m[0], ref[0], m[1], ref[1], m[2], ref[2], m[3], ref[3]))

    # ---- leave-one-out (folds = rows): the same whatever the seed
    table = read_table(d + "/small.tsv")
    ids, E = read_emb(d + "/small_emb.txt")
    y = np.array([int(table[i][1]) for i in ids])
    got = read_result(d + "/small_loo.txt")
    for (dims, method), m in sorted(got.items()):
        ref, _ = classify(E, y, list(range(len(y))), dims, False)
        err = np.abs(m - ref).max()
        expect(err < 1e-12, "classification, leave-one-out at %d dims, integer labels: kNN %.4f/%.4f, "
               "linear %.4f/%.4f (sklearn %.4f/%.4f, %.4f/%.4f)"
               % (dims, m[0], m[1], m[2], m[3], ref[0], ref[1], ref[2], ref[3]))

    # ---- clustering: where k-means has one clear optimum (two sklearn runs
    # agree), the same partition gives the same NMI and ARI
    table = read_table(d + "/noisy.tsv")
    ids, E = read_emb(d + "/noisy_emb.txt")
    y = np.array([table[i][1] for i in ids])
    k = len(set(y))
    got = read_result(d + "/noisy_clusters.txt")
    max_pca = max(dims for dims, method in got if method == "pca")
    compared = 0
    for (dims, method), m in sorted(got.items()):
        V = PCA(n_components=max_pca, svd_solver="full").fit_transform(E) if method == "pca" else E
        U = unit(V, dims)
        runs = [KMeans(n_clusters=k, n_init=20, random_state=r).fit_predict(U) for r in (0, 1)]
        if adjusted_rand_score(runs[0], runs[1]) < 1:
            print("no single optimum at %s %d dims: not compared" % (method, dims))
            continue
        ref = np.array([normalized_mutual_info_score(y, runs[0]), adjusted_rand_score(y, runs[0])])
        compared += 1
        expect(np.abs(m - ref).max() < 1e-9, "clustering, %s at %d dims: NMI %.4f, ARI %.4f (sklearn %.4f, %.4f)"
               % (method, dims, m[0], m[1], ref[0], ref[1]))
    expect(compared >= 3, "clustering compared with sklearn at %d (prefix size, method) pairs" % compared)
    print("\n".join(results))


if __name__ == "__main__":
    {"gen": gen, "check": check}[sys.argv[1]](sys.argv[2])
