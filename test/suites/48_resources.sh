#!/usr/bin/env bash
# 48_resources.sh: functions that take input of unbounded size hold memory
# for a batch or a window, not for the whole input, and a request beyond the
# memory available fails with 53200 (or 54000) rather than crashing.
#
# A backend's peak resident memory is read from VmHWM in /proc/self/status,
# reset through /proc/self/clear_refs just before the statement, less what
# the statement added of shared memory (buffers) and file pages (library
# code): its own memory at the peak, compared with what the statement needs
# (texts for mrl_embed are checked by the encoder's own suites):
#  - a float8[] cast to mvector: the array's header (an oversized array is
#    refused before it is detoasted);
#  - avg/sum(mvector): one state per group, not the rows;
#  - mrl_pca_fit: a dim x dim covariance and a block of rows, not the rows;
#  - mrl_evaluate: the document vectors, the scores of a batch of queries and
#    a batch of texts (bytes per document x documents), not the texts;
#  - mrl_evaluate_classification and _clustering: the rows' vectors and
#    labels and the copies their methods work on, not the texts;
#  - mrl_train: the pairs' token ids, not their texts;
#  - a stored model: a chunk of its files, storing it or writing it out;
# and, with one backend's address space capped by prlimit, requests beyond
# the cap fail with 53200.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
mrl_scratch resources
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { notok "create a database"; exit 1; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }

# kb(field): a field of this backend's /proc status in kB; peak_reset():
# start a new peak (VmHWM) from the current resident size, which it returns
sql -c "CREATE EXTENSION mrl" \
	-c "CREATE FUNCTION kb(field text) RETURNS bigint LANGUAGE sql AS \$\$
		SELECT substring(pg_read_file('/proc/self/status') from field || ':\\s+(\\d+) kB')::bigint \$\$" \
	-c "CREATE FUNCTION peak_reset() RETURNS bigint LANGUAGE plpgsql AS \$\$
		BEGIN EXECUTE 'COPY (SELECT 5) TO ''/proc/self/clear_refs'''; RETURN kb('VmRSS'); END \$\$" \
	>/dev/null || { notok "set up the database"; exit 1; }

# peak_mb SETUP STMT: how many MB the backend's own resident memory grew by
# at its peak while STMT ran, after SETUP in the same session (statements
# without their semicolons); errors go to $work/out
peak_mb()
{
	psql -X -q -At -d "$db" 2>"$work/out" <<EOF
\\o /dev/null
${1:+$1;}
SELECT peak_reset() AS r0, kb('RssShmem') + kb('RssFile') AS s0 \\gset
$2;
\\o
SELECT (kb('VmHWM') - :r0 - (kb('RssShmem') + kb('RssFile') - :s0)) / 1024;
EOF
}

# capped SETUP MB STMT: STMT's output or error, run after SETUP in a backend
# whose address space may grow by only MB more (prlimit)
capped()
{
	psql -X -q -At -d "$db" 2>&1 <<EOF
\\o /dev/null
${1:+$1;}
SELECT pg_backend_pid() AS pid, (kb('VmSize') + $2 * 1024) * 1024 AS cap \\gset
\\setenv BPID :pid
\\setenv CAP :cap
\\! prlimit --pid \$BPID --as=\$CAP:
\\o
$3;
EOF
}

# within WHAT MB BOUND: ok if MB <= BOUND
within()
{
	if [ -n "$2" ] && [ "$2" -le "$3" ]; then
		ok "$1: peak +$2 MB, bound $3 MB"
	else
		notok "$1: peak +${2:-?} MB, bound $3 MB ($(head -c 300 "$work/out"))"
	fi
}

# ---- arrays -> mvector: 20 million float8 (160 MB), refused from the header
sql -c "CREATE TABLE big_array AS SELECT array_fill(1::float8, ARRAY[20000000]) AS a" >/dev/null
mb=$(peak_mb "" "SELECT mrl_dims(a::mvector) FROM big_array")
grep -q "cannot have more than 16000 dimensions" "$work/out" &&
	within "a 20M-element float8[] is refused (54000) before it is read" "$mb" 8 ||
	notok "a 20M-element float8[] cast to mvector: $(cat "$work/out")"

# ---- a table of 50,000 x 512 random vectors (100 MB of floats)
/usr/bin/python3 test/bench/gen_vectors.py 50000 512 "$work/vectors.bin" && chmod 644 "$work/vectors.bin"
sql -c "CREATE TABLE vecs (id int, v mvector)" -c "COPY vecs FROM '$work/vectors.bin' (FORMAT binary)" >/dev/null
touch_vecs="SELECT count(*) FROM vecs"		# brings the table's pages in first

mb=$(peak_mb "$touch_vecs" "SELECT avg(v), sum(v) FROM vecs")
within "avg and sum over 50,000 x 512 hold one state" "$mb" 8

# PCA needs the dim x dim covariance in double (2 MB), a block of rows (1 MB)
# and, to fit, the covariance in float (1 MB); a fit of 300 rows first loads
# OpenBLAS and LAPACK and their buffers
mb=$(peak_mb "$touch_vecs; SELECT mrl_pca_fit(v, 16) FROM (SELECT v FROM vecs LIMIT 300) s" \
	"SELECT mrl_pca_fit(v, 16) FROM vecs")
within "mrl_pca_fit over 50,000 x 512 (100 MB) holds a covariance, not the rows" "$mb" 8
# The eigendecomposition cannot be interrupted and takes minutes past a few
# thousand dims (a quarter of an hour at 16,000): wider inputs are refused
# before any memory is taken.
out=$(psql -X -q -At -d "$db" -c "\\set VERBOSITY verbose" \
	-c "SELECT mrl_pca_fit(v, 1) FROM (SELECT array_fill(1::real, ARRAY[16000])::mvector AS v FROM generate_series(1, 3)) s" 2>&1)
case "$out" in
*"ERROR:  54000: mrl_pca_fit takes vectors of at most 4096 dimensions, not 16000"*)
	ok "mrl_pca_fit at 16,000 dims is refused at once (54000)" ;;
*) notok "mrl_pca_fit at 16,000 dims: $out" ;;
esac

# ---- mrl_evaluate: 10,000 documents of about 5 KB (50 MB of text), 256 dims.
# Per document: its vector (doubled while the buffer grows), its column of
# the score matrix of a batch of 256 queries, its id; plus a batch of texts.
sql -c "CREATE TABLE ev_docs AS SELECT g AS id, repeat('system file data network ' || g || ' ', 160) AS body
		FROM generate_series(1, 10000) g" \
	-c "CREATE TABLE ev_queries AS SELECT g AS id, 'network ' || g AS body FROM generate_series(1, 200) g" \
	-c "CREATE TABLE ev_qrels AS SELECT g AS query_id, g AS doc_id, 1 AS relevance FROM generate_series(1, 200) g" \
	>/dev/null
warm_evaluate="SELECT count(*) FROM ev_docs; SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_queries', dims => '{16}')"
mb=$(peak_mb "$warm_evaluate" "SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', dims => '{256}')")
bound=$(((10000 * (2 * 256 * 4 + 256 * 4 + 64) + 256 * 5200) / 1048576 + 16))
within "mrl_evaluate over 10,000 docs of 5 KB holds their vectors, not their texts" "$mb" "$bound"

# ---- mrl_evaluate_classification and _clustering on the same 10,000 rows,
# labelled: the vectors (doubled while the buffer grows), ids and labels,
# copies of the prefixes, the classifiers' or k-means' rows and a batch of
# 256 rows' kNN scores; not the texts
sql -c "CREATE VIEW ev_labelled AS SELECT id, body, id % 10 AS label FROM ev_docs" >/dev/null
mb=$(peak_mb "$warm_evaluate" "SELECT * FROM mrl_evaluate_classification('ev_labelled', dims => '{16}', folds => 2)")
bound=$(((10000 * (2 * 256 * 4 + 4 * 16 * 4 + 16 * 8 + 10 * 8 + 128 + 256 * 4) + 256 * 5200) / 1048576 + 16))
within "mrl_evaluate_classification over 10,000 rows of 5 KB holds their vectors, not their texts" "$mb" "$bound"
mb=$(peak_mb "$warm_evaluate" "SELECT * FROM mrl_evaluate_clustering('ev_labelled', dims => '{256}', restarts => 1)")
bound=$(((10000 * (2 * 256 * 4 + 256 * 4 + 32 + 128) + 256 * 5200) / 1048576 + 16))
within "mrl_evaluate_clustering over 10,000 rows of 5 KB holds their vectors, not their texts" "$mb" "$bound"

# ---- mrl_train: 50,000 pairs with 1 KB positives (50 MB of text) of a few
# tokens each (a word over 100 characters is one [UNK]): the pairs' token
# ids, the model's matrix (20,000 x 256 floats) twice, not the texts
sql -c "CREATE TABLE tr_pairs AS SELECT 'network file ' || g AS a, repeat('q', 1000) || ' ' || g AS p
		FROM generate_series(1, 50000) g" >/dev/null
warm_train="SELECT count(*) FROM tr_pairs; SELECT * FROM mrl_train('warm', \$\$SELECT a, p FROM tr_pairs LIMIT 100\$\$)"
mb=$(peak_mb "$warm_train" "SELECT * FROM mrl_train('big', \$\$SELECT a, p FROM tr_pairs\$\$)")
bound=$(((2 * 20000 * 256 * 4 + 50000 * 100) / 1048576 + 16))
within "mrl_train over 50,000 pairs (50 MB of text) holds token ids, not texts" "$mb" "$bound"
sql -c "SELECT mrl_unregister_model('warm')" -c "SELECT mrl_unregister_model('big')" >/dev/null

# ---- a stored model of 52 MB (model2vec, a table of 1,600 x 8,192 floats):
# storing it and writing it back out of the table (its copy removed) go a
# 1 MiB chunk at a time, whatever the size of its files
mkdir -p "$work/tiny" "$work/big" && /usr/bin/python3 test/encoder/make_tiny_models.py "$work/tiny" >/dev/null &&
	cp "$work/tiny/tiny-static/config.json" "$work/tiny/tiny-static/tokenizer.json" "$work/big/" &&
	/usr/bin/python3 - "$work/big/model.safetensors" <<'EOF' && chmod -R a+rX "$work/big" || notok "write a 52 MB model"
import json, struct, sys
import numpy as np
rows, dims = 1600, 8192
header = json.dumps({"embeddings": {"dtype": "F32", "shape": [rows, dims],
                                    "data_offsets": [0, rows * dims * 4]}}).encode()
header += b" " * (-len(header) % 8)
rng = np.random.default_rng(1)
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header)
    for _ in range(rows // 100):
        f.write(rng.standard_normal((100, dims), dtype=np.float32).tobytes())
EOF
warm_embed="SELECT mrl_dims(mrl_embed('warm'))"
mb=$(peak_mb "$warm_embed" "SELECT mrl_register_model('big_stored', '$work/big', store => true)")
within "storing a 52 MB model streams it in 1 MiB chunks" "$mb" 16
copy=$(sql -c "SELECT current_setting('data_directory') || '/mrl_models/' || d.oid || '/' || left(m.sha256, 16)
	FROM pg_database d, mrl_models m WHERE d.datname = current_database() AND m.name = 'big_stored'")
rm -rf "$copy"
mb=$(peak_mb "$warm_embed" "SELECT mrl_dims(mrl_embed('warm', 'big_stored'))")
[ -d "$copy/model" ] && within "writing a 52 MB stored model out of the table streams it in 1 MiB chunks" "$mb" 16 ||
	notok "the stored model's copy was not written again: $(cat "$work/out")"
sql -c "SELECT mrl_unregister_model('big_stored')" >/dev/null

# ---- beyond the memory a backend may take: 53200, and the server lives on.
# A second cluster, configured as this one, runs with its address space
# capped (ulimit -v) at what a backend here maps once BLAS and the model are
# loaded, plus 256 MB; requests are checked to fail there with 53200.
base_kb=$(sql -c "$warm_evaluate" -c "SELECT kb('VmSize')" | tail -1)
(
	ulimit -v $((base_kb + 256 * 1024))
	unset PGHOST PGPORT
	mrl_cluster_start >/dev/null || { notok "start a cluster capped at $((base_kb / 1024 + 256)) MB"; exit 1; }
	sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"; }
	sql -c "CREATE EXTENSION mrl" \
		-c "CREATE TABLE ev_queries AS SELECT g AS id, 'network ' || g AS body FROM generate_series(1, 200) g" \
		-c "CREATE TABLE ev_qrels AS SELECT g AS query_id, g AS doc_id, 1 AS relevance FROM generate_series(1, 200) g" \
		-c "CREATE TABLE ev_many AS SELECT g AS id, 'doc ' || g AS body FROM generate_series(1, 200000) g" \
		-c "CREATE VIEW ev_many_labelled AS SELECT id, body, id % 10 AS label FROM ev_many" \
		-c "CREATE TABLE pairs AS SELECT 'network file ' || g AS a, 'data ' || g AS p FROM generate_series(1, 100) g" \
		>/dev/null || { notok "set up the capped cluster"; exit 1; }
	refused() # WHAT STMT: ok when STMT fails with 53200
	{
		local out
		out=$(psql -X -q -At -d postgres -c "\\set VERBOSITY verbose" -c "$2" 2>&1)
		case "$out" in
		*"ERROR:  53200: out of memory"*) ok "$1: 53200" ;;
		*) notok "$1: $out" ;;
		esac
	}
	refused "mrl_evaluate over 200,000 docs (200 MB of vectors), 256 MB left" \
		"SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_many', dims => '{256}')"
	refused "mrl_evaluate_classification over 200,000 rows (200 MB of vectors), 256 MB left" \
		"SELECT * FROM mrl_evaluate_classification('ev_many_labelled', dims => '{256}')"
	refused "mrl_train of a model 16,000 wide (a 1.3 GB matrix), 256 MB left" \
		"SELECT * FROM mrl_train('wide', \$\$SELECT a, p FROM pairs\$\$, dims => '{16000}', base => NULL)"
	out=$(sql -c "SELECT count(*) FROM mrl_model_info WHERE name = 'wide'" -c "SELECT mrl_dims(mrl_embed('still here'))" 2>&1)
	[ "$out" = "0
256" ] && ok "after those errors the server runs on and nothing was registered" ||
		notok "after the capped statements: $out"
)
