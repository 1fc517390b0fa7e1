#!/usr/bin/python3
"""Extract (query, positive, source, group_key) training pairs from Debian.

Sources (all installed Debian packages, see model/README.md for licences):
  wordnet  wordnet-base data.{noun,verb,adj,adv}: lemmas -> definition and
           example sentence -> definition; group = synset
  debian   apt Translation-en: package synopsis -> long description;
           group = source package
  man      manpages, manpages-dev: NAME one-liner -> DESCRIPTION; group = page
  foldoc   dict-foldoc: headword -> definition; group = headword
  jargon   jargon-text: headword -> definition; group = headword (shared
           with foldoc, which quotes the Jargon File)

Writes OUT/train.tsv and OUT/heldout.tsv (tab-separated query, positive,
source, group_key), sorted, with the held-out share chosen by a hash of the
group key, never by pair, so no group straddles the split.

usage: extract_pairs.py OUTDIR [--apt-lists DIR] [--heldout-percent 5]
                        [--sources wordnet,debian,man,foldoc,jargon]
"""
import argparse
import glob
import gzip
import hashlib
import os
import re
import shlex
import subprocess
import sys

MAX_WORDS = 160          # long positives are cut to their first words


def clean(text, max_words=MAX_WORDS):
    """Collapse whitespace, drop tabs/newlines, cut to max_words words."""
    words = text.replace("\t", " ").split()
    return " ".join(words[:max_words])


# ---------------------------------------------------------------- WordNet
def wordnet_synsets(root="/usr/share/wordnet"):
    """(part of speech, fields before the gloss, gloss) of every synset."""
    for pos in ("noun", "verb", "adj", "adv"):
        with open(os.path.join(root, "data." + pos), encoding="latin-1") as f:
            for line in f:
                if line.startswith("  "):       # licence header
                    continue
                head, _, gloss = line.partition(" | ")
                yield pos, head.split(), gloss


def wordnet_pairs(root="/usr/share/wordnet"):
    for pos, fields, gloss in wordnet_synsets(root):
        n_words = int(fields[3], 16)
        words = [re.sub(r"\(.*\)$", "", w).replace("_", " ")
                 for w in fields[4:4 + 2 * n_words:2]]
        defn, *examples = gloss.strip().split('; "')
        defn = defn.strip().rstrip(";")
        group = "wn:%s:%s" % (pos, fields[0])
        if not defn:
            continue
        yield ", ".join(words), defn, "wordnet", group
        for ex in examples:
            ex = ex.strip().rstrip(";").strip('"').strip()
            if len(ex.split()) >= 3:
                yield ex, defn, "wordnet", group


# ------------------------------------------------- Debian package metadata
def apt_cat(path):
    """Decompressed content of an apt list file (lz4/xz/gz or plain)."""
    out = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path],
                         check=True, capture_output=True).stdout
    return out.decode("utf-8", "replace")


def stanzas(text):
    for block in text.split("\n\n"):
        fields, key = {}, None
        for line in block.split("\n"):
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, val = line.partition(":")
                fields[key] = val.strip()
        if fields:
            yield fields


def debian_pairs(lists_dir):
    source_of, md5_pkgs = {}, {}
    for path in sorted(glob.glob(os.path.join(lists_dir, "*_Packages*"))):
        for st in stanzas(apt_cat(path)):
            pkg = st.get("Package")
            if not pkg:
                continue
            source_of[pkg] = st.get("Source", pkg).split()[0]
            md5_pkgs.setdefault(st.get("Description-md5", ""), pkg)
    seen = set()
    for path in sorted(glob.glob(os.path.join(lists_dir, "*_Translation-en*"))):
        for st in stanzas(apt_cat(path)):
            md5, desc = st.get("Description-md5"), st.get("Description-en")
            if not desc or md5 in seen:
                continue
            seen.add(md5)
            synopsis, _, body = desc.partition("\n")
            lines = [l.strip() for l in body.split("\n")]
            body = " ".join(l for l in lines if l and l != ".")
            if len(body.split()) < 5 or len(synopsis.split()) < 2:
                continue
            pkg = st.get("Package") or md5_pkgs.get(md5, md5)
            yield synopsis, body, "debian", "deb:" + source_of.get(pkg, pkg)


# --------------------------------------------------------------- man pages
ROFF_FONT = re.compile(r"\\f(\[[^]]*\]|\(..|.)")
ROFF_CHAR = re.compile(r"\\(\(..|\[[^]]*\]|\*\(..|\*\[[^]]*\]|\*.)")
ROFF_SIZE = re.compile(r"\\s[-+]?\d+")


def roff_text(line):
    """Text of one roff line: requests keep their arguments, escapes go."""
    if line.startswith(('.\\"', "'\\\"", '.\\}')):
        return ""
    if line.startswith((".", "'")):
        req, _, args = line[1:].partition(" ")
        if req not in ("B", "I", "BR", "IR", "RB", "RI", "BI", "IB", "SM",
                       "SB", "TP", "IP", "UR", "MT", "SS"):
            return ""
        if req in ("BR", "IR", "RB", "RI", "BI", "IB"):
            # alternating fonts: the arguments abut ("open ()" -> "open()")
            try:
                line = "".join(shlex.split(args.replace("\\", "\\\\")))
            except ValueError:
                line = args.replace('"', "")
        else:
            line = args.replace('"', "")
    line = ROFF_FONT.sub("", line)
    line = line.replace("\\-", "-").replace("\\e", "\\").replace("\\&", "")
    line = line.replace("\\(aq", "'").replace("\\(dq", '"')
    line = ROFF_CHAR.sub(" ", line)
    line = ROFF_SIZE.sub("", line)
    return line.replace("\\ ", " ").replace("\\", "")


def man_sections(text):
    sections, name = {}, None
    for line in text.split("\n"):
        if line.startswith((".SH ", ".Sh ")):
            name = line[4:].strip().strip('"').upper()
            sections.setdefault(name, [])
        elif name:
            sections[name].append(line)
    return sections


def man_pairs(packages=("manpages", "manpages-dev")):
    files = subprocess.run(["dpkg", "-L", *packages], check=True,
                           capture_output=True, text=True).stdout.split()
    for path in sorted(set(files)):
        if not re.search(r"/usr/share/man/man\d/[^/]+\.gz$", path) or \
                os.path.islink(path):
            continue
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            text = f.read()
        if text.lstrip().startswith(".so "):
            continue
        sec = man_sections(text)
        name = " ".join(roff_text(l) for l in sec.get("NAME", []))
        desc = " ".join(roff_text(l) for l in sec.get("DESCRIPTION", []))
        _, dash, oneliner = name.partition(" - ")
        if not dash or len(desc.split()) < 8:
            continue
        page = os.path.basename(path)[:-3]
        yield clean(oneliner), clean(desc), "man", "man:" + page.rsplit(".", 1)[0]


# ------------------------------------------------------------ FOLDOC/Jargon
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def dictd_number(s):
    n = 0
    for ch in s:
        n = n * 64 + B64.index(ch)
    return n


def foldoc_pairs(root="/usr/share/dictd"):
    index = os.path.join(root, "foldoc.index")
    if not os.path.exists(index):
        return
    with gzip.open(os.path.join(root, "foldoc.dict.dz"), "rb") as f:
        data = f.read()
    seen = set()
    with open(index, encoding="utf-8") as f:
        for line in f:
            head, off, length = line.rstrip("\n").split("\t")
            if head.startswith("00-database") or (off, length) in seen:
                continue
            seen.add((off, length))
            start = dictd_number(off)
            body = data[start:start + dictd_number(length)].decode("utf-8", "replace")
            body = body.split("\n", 1)[1] if "\n" in body else ""
            body = re.sub(r"^\s*\(\d{4}-\d\d-\d\d\)\s*$", "", body, flags=re.M)
            body = re.sub(r"<[^>]*>", "", body).replace("{", "").replace("}", "")
            body = clean(body)
            if len(body.split()) >= 4:
                yield head, body, "foldoc", "term:" + head.lower()


def jargon_pairs(path="/usr/share/doc/jargon-text/jargon.txt.gz"):
    if not os.path.exists(path):
        return
    with gzip.open(path, "rt", encoding="utf-8") as f:
        text = f.read()
    entries = re.split(r"\n   :([^:\n]+):[^\n]*\n", text)
    for head, body in zip(entries[1::2], entries[2::2]):
        body = clean(body.replace("{", "").replace("}", ""))
        if len(body.split()) >= 4:
            yield head, body, "jargon", "term:" + head.lower()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--apt-lists", default="/var/lib/apt/lists")
    ap.add_argument("--heldout-percent", type=int, default=5)
    ap.add_argument("--sources", default="wordnet,debian,man,foldoc,jargon",
                    help="comma-separated subset of the sources to use")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    pairs, counts = set(), {}
    extractors = {"wordnet": wordnet_pairs, "man": man_pairs,
                  "debian": lambda: debian_pairs(args.apt_lists),
                  "foldoc": foldoc_pairs, "jargon": jargon_pairs}
    for name in args.sources.split(","):
        if name not in extractors:
            ap.error("unknown source %r" % name)
    for gen in (extractors[n]() for n in args.sources.split(",")):
        for q, p, src, group in gen:
            q, p = clean(q, 32), clean(p)
            if q and p and q != p:
                pairs.add((q, p, src, group))
    splits = {"train": [], "heldout": []}
    for row in sorted(pairs):
        h = int(hashlib.sha1(row[3].encode()).hexdigest()[:8], 16) % 100
        splits["heldout" if h < args.heldout_percent else "train"].append(row)
        counts[row[2]] = counts.get(row[2], 0) + 1
    for name, rows in splits.items():
        with open(os.path.join(args.outdir, name + ".tsv"), "w", encoding="utf-8") as f:
            for row in rows:
                f.write("\t".join(row) + "\n")
    print("pairs by source:", " ".join("%s=%d" % kv for kv in sorted(counts.items())),
          "| train %d heldout %d" % (len(splits["train"]), len(splits["heldout"])),
          file=sys.stderr)


if __name__ == "__main__":
    main()
