#!/usr/bin/env python3
# corpus_text.py: distinct English sentences from Debian's installed text, for test/bench/corpus.sh.
#
#   corpus_text.py OUTDIR APT_LISTS_DIR
#
# Reads package descriptions (the Translation-en files in APT_LISTS_DIR),
# man pages (rendered with mandoc), WordNet glosses and examples, the GCIDE
# and FOLDOC dictionaries, info manuals and the HTML of documentation
# packages; splits the text into sentences, keeps the distinct ones of 4 to 60
# words that look like prose, and writes OUTDIR/pool.txt (every sentence, in
# the order of its MD5, so any prefix is a random sample) and
# OUTDIR/queries.txt (QUERIES sentences chosen by another hash, never in
# pool.txt).  The output depends only on the installed files and the lists.
import concurrent.futures
import glob
import gzip
import hashlib
import html.parser
import os
import re
import subprocess
import sys

QUERIES = int(os.environ.get("QUERIES", "1000"))
MIN_WORDS, MAX_WORDS = 4, 60

# HTML documentation packages (their English pages only)
HTML_PACKAGES = ["linux-doc-6.1", "python3.11-doc", "postgresql-doc-15", "debian-reference-en",
                 "debian-handbook", "developers-reference", "debian-policy", "debian-faq",
                 "debian-history", "git-doc", "python-django-doc", "vim-doc", "sqlite3-doc",
                 "apache2-doc", "cmake-doc", "sphinx-doc", "libboost1.74-doc"]

# Words that end in a period without ending a sentence (besides initials:
# any single letter).
ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "cf", "eg", "ie", "dr", "mr", "mrs", "ms", "st", "no",
                 "fig", "vol", "approx", "incl", "resp", "esp", "viz", "al", "ca", "ch", "sec",
                 "ed", "pp", "obs", "lat", "gr", "fr", "adj", "adv"}

SENTENCE_END = re.compile(r"""[.!?]["')\]]*\s+(?=["'(\[]?[A-Z0-9])""")
# Pages in other languages: a directory or a file suffix named by the language
LANGUAGES = "ar|ca|cs|da|de|el|es|fa|fi|fr|he|hr|hu|id|it|ja|ko|nb|nl|pl|pt|ro|ru|sk|sl|sv|tr|uk|vi|zh"
OTHER_LANGUAGE = re.compile(rf"/translations/|/({LANGUAGES})([-_][A-Za-z]{{2,4}})?/|\.({LANGUAGES})(_[A-Z]{{2}})?\.html?$")
CODE_CHARS = set("{}<>=;$\\|_#@*^~`")


def split_sentences(paragraph):
	"""Sentences of one paragraph: cut after . ! ? before a capital, unless
	the word before the period is a known abbreviation or an initial."""
	out, start = [], 0
	for m in SENTENCE_END.finditer(paragraph):
		words = paragraph[start:m.start() + 1].split()
		last = words[-1].rstrip(".").lower() if words else ""
		if paragraph[m.start()] == "." and (last in ABBREVIATIONS or len(last) == 1):
			continue
		out.append(paragraph[start:m.end()].strip())
		start = m.end()
	out.append(paragraph[start:].strip())
	return out


def is_prose(s, strict):
	"""A sentence worth keeping: 4-60 words, mostly ASCII letters, little
	code punctuation; strict sources also need a capital and a final stop."""
	words = s.split()
	if not MIN_WORDS <= len(words) <= MAX_WORDS:
		return False
	chars = s.replace(" ", "")
	letters = sum(c.isascii() and c.isalpha() for c in chars)
	if letters < 0.75 * len(chars) or sum(c in CODE_CHARS for c in chars) > 2:
		return False
	if strict:
		first = s.lstrip("\"'(")
		return first[:1].isupper() and s.rstrip("\"')").endswith((".", "!", "?"))
	return True


def paragraphs(text):
	"""Blank-line separated blocks of text, each joined into one line."""
	for block in re.split(r"\n\s*\n", text):
		line = " ".join(block.split())
		if line:
			yield line


# ---------------------------------------------------------------- sources
# Each yields (paragraph, strict) pairs.

def package_descriptions(lists_dir):
	"""Long descriptions of Debian packages (Translation-en), one paragraph
	per ' .'-separated block or list item, each description once."""
	seen = set()
	for path in sorted(glob.glob(os.path.join(lists_dir, "*_i18n_Translation-en*"))):
		text = subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", path], check=True,
		                      capture_output=True, text=True, errors="replace").stdout
		for record in text.split("\n\n"):
			md5 = re.search(r"^Description-md5: (\S+)", record, re.M)
			if not md5 or md5.group(1) in seen:
				continue
			seen.add(md5.group(1))
			body = record.split("\nDescription-en:", 1)[-1].split("\n")[1:]
			yield from description_paragraphs(body)


def description_paragraphs(lines):
	"""Paragraphs of a long description: ' .' ends one, a list item (' * ')
	starts one and goes on over its indented lines; other lines indented by
	two spaces or more are verbatim (code, tables) and left out."""
	block, in_item = [], False
	for line in lines + [" ."]:
		item = re.match(r"^ [*o+-] ", line)
		indented = line.startswith("  ")
		if line == " ." or item or indented != in_item:
			if block:
				yield " ".join(block), True
			block, in_item = [], bool(item)
		if item:
			block.append(line[item.end():].strip())
		elif line != " ." and (not indented or in_item):
			block.append(line.strip())


def render_man(path):
	"""One man page as wide text (mandoc reads one compressed page at a time
	correctly, so it gets the page on its standard input)."""
	with open(path, "rb") as f:
		page = f.read()
	if path.endswith(".gz"):
		page = gzip.decompress(page)
	out = subprocess.run(["mandoc", "-T", "utf8", "-O", "width=1000"], input=page,
	                     capture_output=True).stdout
	text = re.sub(r".\x08", "", out.decode("utf-8", "replace"))
	return re.sub(r"^(\S.*)$", "\\1\n", text, flags=re.M)	# headings stand alone


def man_pages():
	"""English man pages of sections 1-9 (symbolic links left out)."""
	files = sorted(f for f in glob.glob("/usr/share/man/man[1-9]/*")
	               if os.path.isfile(f) and not os.path.islink(f))
	with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
		for text in pool.map(render_man, files, chunksize=64):
			for p in paragraphs(text):
				yield p, True


def wordnet():
	"""WordNet glosses: each definition and each quoted example."""
	for pos in ("noun", "verb", "adj", "adv"):
		with open(f"/usr/share/wordnet/data.{pos}", encoding="utf-8", errors="replace") as f:
			for line in f:
				if line.startswith("  ") or " | " not in line:
					continue
				for part in line.split(" | ", 1)[1].split(";"):
					part = part.strip().strip('"').strip()
					if part:
						yield part, False


def dictionary(name):
	"""A dictd dictionary (gzip-compatible .dict.dz): cross-reference braces,
	bracketed notes and '--Author' attributions removed."""
	with gzip.open(f"/usr/share/dictd/{name}.dict.dz", "rt", encoding="utf-8", errors="replace") as f:
		text = f.read()
	text = re.sub(r"\[[^\]]*\]", " ", text)
	text = re.sub(r"--\s*[A-Z][\w.' ]*\.", " ", text)
	text = re.sub(r"[{}]", "", text)
	for p in paragraphs(text):
		yield re.sub(r"^(\d+\.|\([a-z]\))\s+", "", p), True


def info_manuals():
	"""GNU info manuals in /usr/share/info."""
	for path in sorted(glob.glob("/usr/share/info/**/*.info*.gz", recursive=True)):
		with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
			for p in paragraphs(f.read()):
				yield p, True


class HtmlText(html.parser.HTMLParser):
	"""Text of an HTML page, one paragraph per block element, without
	preformatted blocks, scripts and styles."""
	BLOCKS = {"p", "div", "li", "dd", "dt", "td", "th", "tr", "br", "table", "blockquote", "section",
	          "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "title", "caption", "pre"}
	SKIP = {"pre", "script", "style", "head"}

	def __init__(self):
		super().__init__(convert_charrefs=True)
		self.out, self.cur, self.skip = [], [], 0

	def flush(self):
		line = " ".join("".join(self.cur).split())
		if line:
			self.out.append(line)
		self.cur = []

	def handle_starttag(self, tag, attrs):
		if tag in self.BLOCKS:
			self.flush()
		if tag in self.SKIP:
			self.skip += 1

	def handle_endtag(self, tag):
		if tag in self.SKIP and self.skip:
			self.skip -= 1
		if tag in self.BLOCKS:
			self.flush()

	def handle_data(self, data):
		if not self.skip:
			self.cur.append(data)


def html_docs():
	"""English HTML pages of the documentation packages that are installed."""
	for pkg in HTML_PACKAGES:
		listing = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True).stdout
		for path in sorted(listing.split("\n")):
			if not re.search(r"\.html?$", path) or not os.path.isfile(path):
				continue
			if OTHER_LANGUAGE.search(path) or "/_sources/" in path:
				continue
			parser = HtmlText()
			with open(path, encoding="utf-8", errors="replace") as f:
				parser.feed(f.read())
			parser.close()
			parser.flush()
			for p in parser.out:
				yield p, True


# ---------------------------------------------------------------- main

def main(outdir, lists_dir):
	sources = [("package descriptions", package_descriptions(lists_dir)), ("man pages", man_pages()),
	           ("wordnet", wordnet()), ("gcide", dictionary("gcide")), ("foldoc", dictionary("foldoc")),
	           ("info manuals", info_manuals()), ("html docs", html_docs())]
	seen = set()
	for name, paras in sources:
		before = len(seen)
		for para, strict in paras:
			for s in split_sentences(para):
				if is_prose(s, strict):
					seen.add(s)
		print(f"# {name}: {len(seen) - before} new distinct sentences", file=sys.stderr)
	md5 = lambda s, salt="": hashlib.md5((salt + s).encode()).hexdigest()
	queries = set(sorted(seen, key=lambda s: md5(s, "query:"))[:QUERIES])
	with open(os.path.join(outdir, "queries.txt"), "w") as f:
		f.writelines(s + "\n" for s in sorted(queries, key=md5))
	with open(os.path.join(outdir, "pool.txt"), "w") as f:
		f.writelines(s + "\n" for s in sorted(seen - queries, key=md5))


if __name__ == "__main__":
	main(sys.argv[1], sys.argv[2])
