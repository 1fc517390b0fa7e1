#!/usr/bin/python3
"""The report of tools/eval_downstream.sh: mean +- sd over seeds of every
downstream metric at every prefix size, for four methods (the MRL model's
prefix, the MRL model + PCA, the non-MRL twin truncated, the twin + PCA).

  downstream_report.py OUTDIR ROWS.tsv...

ROWS files hold task, set, seed, model, dims, method, metric, value
(tab-separated).  Writes OUTDIR/downstream.tsv (every row),
OUTDIR/downstream.png (accuracies, the linear probe's macro-F1, NMI and
ARI against dims, one panel per set and metric, error bars = sd) and prints one markdown table per set and task.
"""
import collections
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

METHODS = [(("mrl", "prefix"), "MRL prefix"), (("mrl", "pca"), "MRL + PCA"),
           (("twin", "prefix"), "twin, truncated"), (("twin", "pca"), "twin + PCA")]
METRICS = [("classification", "knn_accuracy", "kNN accuracy"),
           ("classification", "linear_accuracy", "linear probe accuracy"),
           ("classification", "linear_macro_f1", "linear probe macro-F1"),
           ("classification", "knn_macro_f1", "kNN macro-F1"),
           ("clustering", "nmi", "k-means NMI"),
           ("clustering", "ari", "k-means ARI")]
PLOTTED = ("knn_accuracy", "linear_accuracy", "linear_macro_f1", "nmi", "ari")
SET_NAMES = {"packages": "Debian packages by Section", "wordnet": "WordNet glosses by lexicographer file"}


def main():
    out, paths = sys.argv[1], sys.argv[2:]
    values = collections.defaultdict(dict)      # (task, set, model, method, metric, dims) -> {seed: v}
    lines = []
    for path in paths:
        for line in open(path):
            task, set_, seed, model, dims, method, metric, value = line.rstrip("\n").split("\t")
            values[(task, set_, model, method, metric, int(dims))][int(seed)] = float(value)
            lines.append(line)
    with open(out + "/downstream.tsv", "w") as f:
        f.write("task\tset\tseed\tmodel\tdims\tmethod\tmetric\tvalue\n")
        f.writelines(sorted(lines))
    sets = sorted({k[1] for k in values})
    dims = sorted({k[5] for k in values})
    seeds = sorted({s for v in values.values() for s in v})

    def stat(task, set_, key, metric, d):
        v = list(values.get((task, set_) + key + (metric, d), {}).values())
        return (np.mean(v), np.std(v, ddof=1) if len(v) > 1 else 0.0, len(v)) if v else None

    for set_ in sets:
        for task in ("classification", "clustering"):
            metrics = [m for m in METRICS if m[0] == task]
            print("\n%s, %s (mean ± sd over seeds %s)\n" % (SET_NAMES.get(set_, set_), task,
                                                           ", ".join(map(str, seeds))))
            print("| metric | dims | " + " | ".join(name for _, name in METHODS) + " |")
            print("|---|---:|" + "---:|" * len(METHODS))
            for _, metric, label in metrics:
                for d in dims:
                    cells = []
                    for key, _ in METHODS:
                        s = stat(task, set_, key, metric, d)
                        cells.append("%.3f ± %.3f" % s[:2] if s else "")
                    print("| %s | %d | %s |" % (label, d, " | ".join(cells)))

    plotted = [m for m in METRICS if m[1] in PLOTTED]
    fig, axes = plt.subplots(len(sets), len(plotted), figsize=(4 * len(plotted), 3.6 * len(sets)),
                             squeeze=False)
    for r, set_ in enumerate(sets):
        for c, (task, metric, label) in enumerate(plotted):
            ax = axes[r][c]
            for (key, name), style in zip(METHODS, ("o-", "s--", "^-", "v--")):
                pts = [(d, stat(task, set_, key, metric, d)) for d in dims]
                pts = [(d, s) for d, s in pts if s]
                if pts:
                    ax.errorbar([d for d, _ in pts], [s[0] for _, s in pts], yerr=[s[1] for _, s in pts],
                                fmt=style, capsize=3, label=name, lw=1.5, ms=5)
            ax.set_xscale("log", base=2)
            ax.set_xticks(dims)
            ax.set_xticklabels([str(d) for d in dims])
            ax.grid(alpha=0.3)
            ax.set_title("%s\n%s" % (label, SET_NAMES.get(set_, set_)), fontsize=10)
            if r == len(sets) - 1:
                ax.set_xlabel("dimensions")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Downstream tasks inside PostgreSQL at every prefix size "
                 "(mrl_evaluate_classification / _clustering; mean ± sd over %d seed%s)"
                 % (len(seeds), "" if len(seeds) == 1 else "s"))
    fig.tight_layout()
    fig.savefig(out + "/downstream.png", dpi=80)


if __name__ == "__main__":
    main()
