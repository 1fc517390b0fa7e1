#!/usr/bin/env bash
# 46_corpus_text.sh: the benchmark corpus's sentence splitter and filters (test/bench/corpus_text.py) on hand-checked text.
# Needs no cluster: it imports the extractor's functions into python3.
set -u
. "$(dirname "$0")/../lib.sh"

# run_py CODE: the output of CODE with corpus_text's functions imported as c
run_py()
{
	PYTHONPATH="$MRL_ROOT/test/bench" python3 -c "import corpus_text as c
$1" 2>&1
}

check "sentences split after . ! ? before a capital, not after abbreviations or initials" \
	"$(run_py 'for s in c.split_sentences("Use ls, e.g. ls -l. It lists files! Written by J. Smith et al. in 2001. Does it work? Yes.") : print(s)')" \
	"Use ls, e.g. ls -l.
It lists files!
Written by J. Smith et al. in 2001.
Does it work?
Yes."

check "a stop inside a word or before lower case does not split" \
	"$(run_py 'print(c.split_sentences("See the file config.h for details. the rest stays."))')" \
	"['See the file config.h for details. the rest stays.']"

check "prose filter: 4 to 60 words, capital and final stop for strict sources" \
	"$(run_py 'for s in ["Lists the files.", "It lists the files.", "it lists the files.", "It lists the files",
	                    "Set x = y; z = {a}; w = <b>.", " ".join(["Word"] * 60) + ".", " ".join(["Word"] * 61) + "."]:
	print(c.is_prose(s, True), c.is_prose(s, False))')" \
	"False False
True True
False True
False True
False False
True True
False False"

check "package description: paragraphs at ' .', one per list item, verbatim lines left out" \
	"$(run_py 'for p, strict in c.description_paragraphs([" First paragraph", " goes on.", " .", " Features:",
	                                                       " * one item", "   wrapped.", " - another", " Then text.",
	                                                       "  verbatim code", " Last."]):
	print(p)')" \
	"First paragraph goes on.
Features:
one item wrapped.
another
Then text.
Last."

check "HTML: text of block elements, no preformatted blocks or scripts" \
	"$(run_py 'h = c.HtmlText(); h.feed("<html><head><title>T</title></head><body><p>One <code>ls</code> call.</p><pre>code line</pre><script>x()</script><ul><li>Item &amp; more</li></ul></body></html>"); h.close(); h.flush(); print(h.out)')" \
	"['One ls call.', 'Item & more']"

check "pages in other languages are recognised by directory or file suffix" \
	"$(run_py 'for p in ["/usr/share/doc/apache2-doc/manual/de/index.html", "/usr/share/doc/apache2-doc/manual/en/index.html",
	                    "/usr/share/doc/debian-history/docs/detailed.fr.html", "/usr/share/doc/debian-history/docs/detailed.en.html",
	                    "/usr/share/doc/debian-handbook/html/zh-CN/x.html", "/usr/share/doc/linux-doc-6.1/html/translations/it_IT/a.html",
	                    "/usr/share/doc/linux-doc-6.1/html/mm/index.html"]:
	print(bool(c.OTHER_LANGUAGE.search(p)))')" \
	"True
False
True
False
True
True
False"

echo "1..$tap_n"
