#!/usr/bin/python3
"""Where a PCA is fitted matters: kNN accuracy (10 neighbours, cosine,
5 stratified folds) of one model's embeddings of two labelled sets, at each
prefix size, for the model's prefix, the prefix centred on the training
folds' mean (as a PCA is), a PCA fitted on the set's own training folds
(what mrl_evaluate_classification's pca baseline does) and a PCA fitted on
the other set.  scikit-learn; a side measurement of
tools/eval_downstream.sh.

  downstream_pca_domain.py NAME=EMB.txt NAME=EMB.txt

EMB.txt lines: id|label|[v1,v2,...] (psql \\copy of id, label, mrl_embed(body)).
"""
import sys

import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import StratifiedKFold
from sklearn.neighbors import KNeighborsClassifier

DIMS = (16, 32, 64, 128, 256)


def load(path):
    rows = [line.rstrip("\n").split("|") for line in open(path)]
    return np.array([r[1] for r in rows]), np.array([[float(x) for x in r[2].strip("[]").split(",")]
                                                     for r in rows])


def unit(A):
    n = np.linalg.norm(A, axis=1, keepdims=True)
    return A / np.where(n > 0, n, 1)


def knn_accuracy(y, features):
    """features(train_rows) -> vectors of all rows; pooled 5-fold accuracy."""
    correct = 0
    for train, test in StratifiedKFold(5, shuffle=True, random_state=0).split(y, y):
        V = unit(features(train))
        knn = KNeighborsClassifier(10, metric="cosine", algorithm="brute").fit(V[train], y[train])
        correct += (knn.predict(V[test]) == y[test]).sum()
    return correct / len(y)


def main():
    sets = dict(arg.split("=", 1) for arg in sys.argv[1:])
    data = {name: load(path) for name, path in sets.items()}
    print("| set | dims | prefix | prefix, centred | PCA fitted on the set | PCA fitted on the other set |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, (y, E) in data.items():
        other = next(E2 for n2, (_, E2) in data.items() if n2 != name)
        for d in DIMS:
            prefix = knn_accuracy(y, lambda train: E[:, :d])
            centred = knn_accuracy(y, lambda train: E[:, :d] - E[train, :d].mean(axis=0))
            own = knn_accuracy(y, lambda train: PCA(d, svd_solver="full").fit(E[train]).transform(E))
            cross = knn_accuracy(y, lambda train: PCA(d, svd_solver="full").fit(other).transform(E))
            print("| %s | %d | %.3f | %.3f | %.3f | %.3f |" % (name, d, prefix, centred, own, cross))


if __name__ == "__main__":
    main()
