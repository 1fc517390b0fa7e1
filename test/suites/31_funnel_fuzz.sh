#!/usr/bin/env bash
# Differential fuzzer of the funnel index (test/fuzz/funnel_fuzz.py): random
# dims, opclasses, options and interleavings of writes, VACUUM and REINDEX;
# after each step exact mode must equal the table read without the index,
# approximate mode must return live rows sorted by distance, and the index
# must stay within a bound of the heap's size.  A fixed seed and about a
# minute here; a longer run, with another seed:
#   MRL_FUZZ_SEED=7 MRL_FUZZ_STEPS=5000 bash test/suites/31_funnel_fuzz.sh
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
mrl_scratch funnel_fuzz
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { notok "create a database"; exit 1; }
export PGDATABASE=$db
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION mrl" \
	-f test/funnel/funnel_check.sql -f test/funnel/funnel_fuzz.sql >/dev/null ||
	{ notok "load the extension and the fuzzer's SQL helpers"; exit 1; }
/usr/bin/python3 test/fuzz/funnel_fuzz.py --seed "${MRL_FUZZ_SEED:-2}" --steps "${MRL_FUZZ_STEPS:-800}"
