#!/usr/bin/python3
"""Build labelled text sets from Debian for the downstream evaluations
(mrl_evaluate_classification, mrl_evaluate_clustering).

  packages  a package's synopsis and long description, labelled by its
            archive Section (admin, devel, libs, python, ...)
  wordnet   a WordNet 3.0 gloss (the definition, without its examples),
            labelled by its lexicographer file (noun.animal, verb.motion, ...)

Each set keeps its CLASSES most frequent labels and PER_CLASS texts of each,
chosen by a hash of the text (so the choice does not depend on file order);
texts that occur twice, or under two labels, are dropped.  Writes
OUT/packages.tsv and OUT/wordnet.tsv: id, body, label, tab-separated, in id
order.

usage: labelled_sets.py OUTDIR [--apt-lists DIR] [--classes 15] [--per-class 200]
"""
import argparse
import collections
import glob
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from extract_pairs import apt_cat, clean, stanzas, wordnet_synsets  # noqa: E402

MAX_WORDS = 60           # a body is cut to its first words

# WordNet's lexicographer files by number (lexnames(5WN)); data.* lines
# give the number in their second field.
LEXNAMES = """adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact
noun.attribute noun.body noun.cognition noun.communication noun.event noun.feeling
noun.food noun.group noun.location noun.motive noun.object noun.person noun.phenomenon
noun.plant noun.possession noun.process noun.quantity noun.relation noun.shape
noun.state noun.substance noun.time verb.body verb.change verb.cognition
verb.communication verb.competition verb.consumption verb.contact verb.creation
verb.emotion verb.motion verb.perception verb.possession verb.social verb.stative
verb.weather adj.ppl""".split()


def wordnet_texts():
    """(gloss, lexname) of every synset."""
    for pos, fields, gloss in wordnet_synsets():
        definition = gloss.strip().split('; "')[0].strip().rstrip(";")
        if definition:
            yield definition, LEXNAMES[int(fields[1])]


def package_texts(lists_dir):
    """(synopsis and long description, Section) of every described package."""
    long_of = {}
    for path in sorted(glob.glob(os.path.join(lists_dir, "*_Translation-en*"))):
        for st in stanzas(apt_cat(path)):
            md5, desc = st.get("Description-md5"), st.get("Description-en")
            if md5 and desc:
                lines = [l.strip() for l in desc.split("\n")[1:]]
                long_of[md5] = " ".join(l for l in lines if l and l != ".")
    seen = set()
    for path in sorted(glob.glob(os.path.join(lists_dir, "*_Packages*"))):
        for st in stanzas(apt_cat(path)):
            md5, section = st.get("Description-md5", ""), st.get("Section")
            synopsis = st.get("Description") or st.get("Description-en", "").split("\n")[0]
            if not section or not synopsis or (md5, section) in seen:
                continue
            seen.add((md5, section))
            yield (synopsis + ". " + long_of.get(md5, "")).strip(), section.split("/")[-1]


def choose(pairs, classes, per_class):
    """The most frequent labels' texts, per_class of each by text hash."""
    labels_of = collections.defaultdict(set)
    for text, label in pairs:
        labels_of[clean(text, MAX_WORDS)].add(label)
    by_label = collections.defaultdict(list)
    for text, labels in labels_of.items():
        if len(labels) == 1:                    # ambiguous texts are dropped
            by_label[labels.pop()].append(text)
    top = sorted(by_label, key=lambda l: (-len(by_label[l]), l))[:classes]
    rows = []
    for label in sorted(top):
        texts = sorted(by_label[label], key=lambda t: hashlib.sha1(t.encode()).hexdigest())
        rows += [(text, label) for text in texts[:per_class]]
    rows.sort(key=lambda r: hashlib.sha1((r[1] + "\t" + r[0]).encode()).hexdigest())
    return rows


def write(path, rows):
    with open(path, "w") as f:
        for i, (text, label) in enumerate(rows, 1):
            f.write("%d\t%s\t%s\n" % (i, text, label))
    counts = collections.Counter(label for _, label in rows)
    print("%s: %d texts, %d labels (%s)" % (path, len(rows), len(counts),
                                             ", ".join("%s %d" % kv for kv in sorted(counts.items()))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--apt-lists", default="/var/lib/apt/lists")
    ap.add_argument("--classes", type=int, default=15)
    ap.add_argument("--per-class", type=int, default=200)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    write(os.path.join(args.out, "packages.tsv"),
          choose(package_texts(args.apt_lists), args.classes, args.per_class))
    write(os.path.join(args.out, "wordnet.tsv"),
          choose(wordnet_texts(), args.classes, args.per_class))


if __name__ == "__main__":
    main()
