#!/usr/bin/env bash
# extract_text.sh OUTDIR: the English training text for the built-in model's
# WordPiece vocabulary (see model/README.md), from Debian packages:
#   OUTDIR/wordnet.txt  - WordNet 3.0 glosses and lemmas (package wordnet-base)
#   OUTDIR/debian.txt   - Debian package short descriptions (apt-cache dumpavail)
# Output is sorted/ordered deterministically for a given apt state.
set -euo pipefail
out=${1:?usage: extract_text.sh OUTDIR}
mkdir -p "$out"
export LC_ALL=C
wn=/usr/share/wordnet
[ -r "$wn/data.noun" ] || { echo "install wordnet-base first" >&2; exit 1; }

# data.* lines: "offset lexfile pos w_cnt word lex_id ... | gloss"; the
# licence header lines start with two spaces.
for pos in noun verb adj adv; do
	awk 'function hex(s,   i, v) {
			v = 0
			for (i = 1; i <= length(s); i++)
				v = v * 16 + index("0123456789abcdef", tolower(substr(s, i, 1))) - 1
			return v
		}
		/^  / { next }
		{
			n = hex($4)
			lemmas = ""
			for (i = 0; i < n; i++) {
				w = $(5 + 2 * i)
				gsub(/_/, " ", w)
				sub(/\([a-z]+\)$/, "", w)
				lemmas = lemmas (i ? ", " : "") w
			}
			g = $0
			sub(/^[^|]*\| */, "", g)
			sub(/ +$/, "", g)
			print lemmas ": " g
		}' "$wn/data.$pos"
done >"$out/wordnet.txt"

apt-cache dumpavail | sed -n 's/^Description: //p' | sort -u >"$out/debian.txt"
wc -lc "$out"/wordnet.txt "$out"/debian.txt >&2
