#!/usr/bin/python3
# readme_excerpts.py: checks that every code block of the README's "Clients" section is a verbatim excerpt.
#
# Usage: readme_excerpts.py README.md DIR.  A ```python block must be a run of
# consecutive lines of DIR/example.py or DIR/example_psycopg3.py, a ```js
# block of DIR/example.mjs.  Prints the number of blocks checked, or each
# block found in none of its files, and exits 1 then.
import os
import re
import sys

SOURCES = {"python": ["example.py", "example_psycopg3.py"], "js": ["example.mjs"]}


def is_excerpt(block, lines):
    n = len(block)
    return any(lines[k:k + n] == block for k in range(len(lines) - n + 1))


def main(readme, directory):
    text = open(readme, encoding="utf-8").read()
    section = re.search(r"^## Clients\n(.*?)(?=^## )", text, re.M | re.S)
    if not section:
        print("no '## Clients' section in", readme)
        return 1
    blocks = re.findall(r"^```(\w+)\n(.*?)^```$", section.group(1), re.M | re.S)
    failures = 0
    for lang, body in blocks:
        block = body.rstrip("\n").split("\n")
        sources = [open(os.path.join(directory, f), encoding="utf-8").read().split("\n")
                   for f in SOURCES.get(lang, [])]
        if not any(is_excerpt(block, lines) for lines in sources):
            print("not an excerpt of %s: %s" % (" or ".join(SOURCES.get(lang, ["(no file)"])), block[0]))
            failures += 1
    print("%d blocks, %d not excerpts" % (len(blocks), failures))
    return 1 if failures or not blocks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
