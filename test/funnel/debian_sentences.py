#!/usr/bin/env python3
# debian_sentences.py: distinct English sentences from text every Debian system has (for test/suites/34_funnel_recall.sh).
#
#   debian_sentences.py N Q OUTDIR
#
# Reads the installed packages' descriptions (/var/lib/dpkg/status), then
# their copyright files and Debian changelogs (/usr/share/doc, in name
# order), keeps the sentences test/bench/corpus_text.py keeps (distinct, 4 to
# 60 words of prose) and stops once it has N + Q of them.  Writes
# OUTDIR/queries.txt (Q sentences, chosen by a hash) and OUTDIR/docs.txt
# (the others, N or as many as the system has, at least N / 4; else it
# exits non-zero).
import glob
import gzip
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import corpus_text  # noqa: E402


def status_descriptions():
	"""Long descriptions of the installed packages, paragraph by paragraph."""
	with open("/var/lib/dpkg/status", errors="replace") as f:
		for record in f.read().split("\n\n"):
			m = re.search(r"^Description: .*\n((?: .*\n?)*)", record, re.M)
			if m:
				yield from corpus_text.description_paragraphs(m.group(1).rstrip("\n").split("\n"))


def doc_files():
	"""Paragraphs of copyright files and Debian changelogs."""
	for path in sorted(glob.glob("/usr/share/doc/*/copyright") +
	                   glob.glob("/usr/share/doc/*/changelog*.gz")):
		try:
			if path.endswith(".gz"):
				text = gzip.open(path).read().decode("utf-8", "replace")
			else:
				with open(path, errors="replace") as f:
					text = f.read()
		except OSError:
			continue
		for para in corpus_text.paragraphs(text):
			yield para, True


def main(n, q, outdir):
	seen = {}
	for source in (status_descriptions(), doc_files()):
		for para, strict in source:
			for s in corpus_text.split_sentences(para):
				if corpus_text.is_prose(s, strict):
					seen[s] = None
			if len(seen) >= n + q:
				break
		if len(seen) >= n + q:
			break
	if len(seen) < n // 4 + q:
		sys.exit(f"only {len(seen)} sentences found, {n // 4 + q} needed")
	md5 = lambda s, salt="": hashlib.md5((salt + s).encode()).hexdigest()
	sentences = sorted(list(seen)[:n + q], key=lambda s: md5(s, "query:"))
	with open(os.path.join(outdir, "queries.txt"), "w") as f:
		f.writelines(s + "\n" for s in sentences[:q])
	with open(os.path.join(outdir, "docs.txt"), "w") as f:
		f.writelines(s + "\n" for s in sorted(sentences[q:], key=md5))


if __name__ == "__main__":
	main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
