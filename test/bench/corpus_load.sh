# test/bench/corpus_load.sh: the embedded real-text corpus (test/bench/corpus.sh) in tables of a running cluster.
# Source it from a benchmark after test/lib.sh, with the cluster started and
# a function sql() that runs psql; it defines MRL_BUCKET_SQL and corpus_load.

# A filter column: a hash of the row id, uniform in 0..99, so that
# `bucket < 10` keeps 10% of the rows and `bucket = 0` (or `< 1`) 1%,
# whatever the text.
MRL_BUCKET_SQL="((hashint4(id) & 2147483647) % 100)"

# corpus_load N Q DIR: tables docs (id int PRIMARY KEY, body text,
# emb mvector(256), bucket int) with the first N sentences of DIR/docs.txt
# embedded by the built-in model, and queries (id, body, emb) with the first
# Q held-out queries.  The embedded documents are cached in DIR as a COPY
# BINARY file per pool and model (emb-KEY-ROWS.copy), and a cached file of at
# least N rows is loaded instead of embedding again.  The key hashes what
# the vectors' directions come from, the pool and the model's weights and
# tokenizer (model/0_StaticEmbedding/), not its other files: a cached file is
# scaled to unit length as it loads, which is what the model's Normalize
# module does (up to float rounding), so files written before the model
# normalised load as they are.
corpus_load()
{
	local n=$1 q=$2 dir=$3 key f m rows=0 t0 secs p0 p1
	N=$n CORPUS_DIR=$dir bash "$MRL_ROOT/test/bench/corpus.sh" || return 1
	key=$({
		md5sum <"$dir/pool.txt"
		find "$MRL_ROOT/model/0_StaticEmbedding" -type f | LC_ALL=C sort | xargs cat | md5sum
	} | md5sum | cut -c1-12)
	for f in "$dir"/emb-"$key"-*.copy; do
		[ -f "$f" ] || continue
		m=${f##*-}
		m=${m%.copy}
		if [ "$m" -ge "$n" ] && { [ "$rows" = 0 ] || [ "$m" -lt "$rows" ]; }; then
			rows=$m
		fi
	done
	sql -c "CREATE TABLE docs (id int, body text, emb mvector(256), bucket int)" || return 1
	if [ "$rows" != 0 ]; then
		echo "# loading $n rows of $dir/emb-$key-$rows.copy"
		sql -c "CREATE UNLOGGED TABLE cached (LIKE docs)" \
			-c "COPY cached FROM '$dir/emb-$key-$rows.copy' WITH (FORMAT binary) WHERE id <= $n" \
			-c "INSERT INTO docs SELECT id, body, mrl_normalize(emb), bucket FROM cached" \
			-c "DROP TABLE cached" || return 1
	else
		sql -c "CREATE UNLOGGED TABLE corpus_text (id int, body text)" || return 1
		sed 's/\\/\\\\/g' "$dir/docs.txt" | awk '{ print NR "\t" $0 }' |
			sql -c "COPY corpus_text FROM STDIN" || return 1
		echo "# embedding $n sentences with mrl-default, 2 clients"
		t0=$(date +%s.%N)
		sql -c "INSERT INTO docs SELECT id, body, mrl_embed(body), $MRL_BUCKET_SQL FROM corpus_text WHERE id % 2 = 0" &
		p0=$!
		sql -c "INSERT INTO docs SELECT id, body, mrl_embed(body), $MRL_BUCKET_SQL FROM corpus_text WHERE id % 2 = 1" &
		p1=$!
		wait $p0 && wait $p1 || return 1
		secs=$(echo "$(date +%s.%N) - $t0" | bc)
		printf '# embedded %d sentences in %.1f s: %.0f rows/s\n' "$n" "$secs" "$(echo "$n / $secs" | bc -l)"
		sql -c "DROP TABLE corpus_text"
		f=$dir/emb-$key-$n.copy
		sql -c "\\copy (SELECT * FROM docs ORDER BY id) TO '$f.tmp' WITH (FORMAT binary)" &&
			chmod 644 "$f.tmp" && mv "$f.tmp" "$f" || return 1
		echo "# saved $f ($(du -h "$f" | cut -f1))"
	fi
	sql -c "ALTER TABLE docs ADD PRIMARY KEY (id)" \
		-c "CREATE TABLE query_texts (id int, body text)" || return 1
	sed 's/\\/\\\\/g' "$dir/queries.txt" | awk -v q="$q" 'NR <= q { print NR "\t" $0 }' |
		sql -c "COPY query_texts FROM STDIN" || return 1
	sql -c "CREATE TABLE queries AS SELECT id, body, mrl_embed(body)::mvector(256) AS emb FROM query_texts" \
		-c "DROP TABLE query_texts"
}
