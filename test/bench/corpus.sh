#!/usr/bin/env bash
# corpus.sh: a benchmark corpus of distinct real English sentences from Debian's text.
#
#   bash test/bench/corpus.sh                  # 1,000,000 docs + 1,000 queries
#   N=250000 bash test/bench/corpus.sh         # a smaller corpus (a prefix of the larger)
#   N=all ...                                  # every sentence found
#   CORPUS_DIR=/path ...                       # cache directory (default /var/tmp/mrl-corpus)
#   REFRESH=1 ...                              # fetch the package descriptions again
#   REBUILD=1 ...                              # extract the sentences again
#
# Installs the Debian packages of test/bench/corpus_deps.txt when missing,
# fetches the English package descriptions (Translation-en) into a private apt
# lists directory, and runs corpus_text.py, which splits package
# descriptions, man pages, WordNet, two dictionaries, info manuals and the HTML
# of documentation packages into sentences (4-60 words, distinct).  Writes
# into CORPUS_DIR:
#   pool.txt     every sentence but the queries, ordered by MD5 (any prefix is
#                a random sample)
#   queries.txt  1,000 held-out sentences chosen by another hash, never in pool
#   docs.txt     the first N sentences of pool.txt
# The output is deterministic given the same installed packages and lists;
# an existing pool is reused.  Prints the counts and checksums.
set -eu
. "$(dirname "$0")/../lib.sh"
N=${N:-1000000}
CORPUS_DIR=${CORPUS_DIR:-/var/tmp/mrl-corpus}
mkdir -p "$CORPUS_DIR/apt-lists/partial"
chmod 755 "$CORPUS_DIR"

mrl_ensure_packages "$MRL_ROOT/test/bench/corpus_deps.txt"

# Debian's long package descriptions are in the Translation-en lists, which
# this machine's apt does not fetch (Acquire::Languages "none"): fetch them
# into a directory of our own, leaving the system's lists alone.
lists=$CORPUS_DIR/apt-lists
if [ "${REFRESH:-0}" = 1 ] || ! ls "$lists"/*_i18n_Translation-en* >/dev/null 2>&1; then
	echo "# fetching package descriptions into $lists"
	apt-get update -qq -o Dir::State::Lists="$lists" -o Acquire::Languages=en >/dev/null
fi

# The pool's inputs: the extractor, the installed packages and the lists.
# A pool is kept until REBUILD=1 (so that a benchmark's sizes share one
# pool while other packages come and go); a changed input is only reported.
stamp=$({
	md5sum "$MRL_ROOT/test/bench/corpus_text.py" | cut -d' ' -f1
	dpkg-query -W -f='${Package} ${Version}\n' | sort
	cat "$lists"/*_i18n_Translation-en* | md5sum
} | md5sum | cut -d' ' -f1)
if [ "${REBUILD:-0}" = 1 ] || [ ! -s "$CORPUS_DIR/pool.txt" ]; then
	echo "# extracting sentences ($(nproc) cores)"
	t0=$(date +%s)
	tmp=$(mktemp -d "$CORPUS_DIR/build.XXXXXX")
	python3 "$MRL_ROOT/test/bench/corpus_text.py" "$tmp" "$lists"
	mv "$tmp/pool.txt" "$tmp/queries.txt" "$CORPUS_DIR/"
	rmdir "$tmp"
	echo "$stamp" >"$CORPUS_DIR/pool.stamp"
	echo "# extracted in $(($(date +%s) - t0)) s"
elif [ "$(cat "$CORPUS_DIR/pool.stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "# note: installed packages or corpus_text.py changed since pool.txt was built; REBUILD=1 rebuilds it"
fi

available=$(wc -l <"$CORPUS_DIR/pool.txt")
[ "$N" = all ] && N=$available
if [ "$N" -gt "$available" ]; then
	echo "only $available sentences available, fewer than N=$N" >&2
	exit 1
fi
head -n "$N" "$CORPUS_DIR/pool.txt" >"$CORPUS_DIR/docs.txt"
chmod 644 "$CORPUS_DIR"/*.txt
echo "# pool $available sentences ($(md5sum <"$CORPUS_DIR/pool.txt" | cut -c1-12)), docs.txt $N ($(md5sum <"$CORPUS_DIR/docs.txt" | cut -c1-12)), queries.txt $(wc -l <"$CORPUS_DIR/queries.txt") ($(md5sum <"$CORPUS_DIR/queries.txt" | cut -c1-12)) in $CORPUS_DIR"
