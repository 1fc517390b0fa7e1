#!/usr/bin/env bash
# 47_model_output.sh: a model whose forward pass overflows float32 (a static
# model with weights of +-3e38: pooling two tokens overflows) makes NaN
# vectors.  mrl_embed, its batch form and mrl_evaluate refuse them with an
# error naming the model (22000), so no NaN is ever stored; a text that does
# not overflow (one token) still embeds.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"

mrl_cluster_ensure || exit 1
mrl_scratch model_output

# the tiny static model of the regression tests, its weights pushed to +-3e38
/usr/bin/python3 - "$work/huge" <<'EOF' || { notok "write the model"; exit 1; }
import math, sys
sys.path.insert(0, "test/encoder")
import make_tiny_models as tiny
config, [(name, shape, values)] = tiny.static_model()
tiny.write_static_dir(sys.argv[1], config, [(name, shape, [math.copysign(3e38, v) for v in values])])
EOF
chmod -R a+rX "$work"
psql -X -q -d postgres -c "CREATE DATABASE $db" >/dev/null || { notok "create a database"; exit 1; }
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
sql -c "CREATE EXTENSION mrl" \
	-c "SELECT mrl_register_model('huge', '$work/huge')" \
	-c "CREATE FUNCTION err(stmt text) RETURNS text LANGUAGE plpgsql AS \$\$
		BEGIN EXECUTE stmt; RETURN 'no error';
		EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE || ': ' || SQLERRM; END \$\$" \
	-c "CREATE TABLE docs (id int, body text)" \
	-c "INSERT INTO docs VALUES (1, 'a a'), (2, 'a')" \
	-c "CREATE TABLE qrels (query_id int, doc_id int, relevance int)" \
	-c "INSERT INTO qrels VALUES (1, 1, 1)" >/dev/null || { notok "set up the database"; exit 1; }

expected='22000: model "huge" produced a non-finite embedding'
out=$(sql -c "SELECT mrl_dims(mrl_embed('a', 'huge')), round(mrl_norm(mrl_embed('a', 'huge'))::numeric, 5)" 2>&1)
[ "$out" = "64|1.00000" ] && ok "one token pools to a finite unit vector" ||
	notok "one token pools to a finite unit vector: $out"
refuses() # WHAT SQL...: the statement fails with the expected error
{
	local what=$1 out
	shift
	out=$(sql "$@" 2>&1)
	[ "$out" = "$expected" ] && ok "$what: $out" || notok "$what: $out"
}
refuses "mrl_embed refuses an overflowing text" -c "SELECT err(\$\$SELECT mrl_embed('a a', 'huge')\$\$)"
refuses "mrl_embed(text[]) refuses it" -c "SELECT err(\$\$SELECT mrl_embed(ARRAY['a', 'a a'], 'huge')\$\$)"
refuses "the default model is named too" -c "SET mrl.default_model = 'huge'" \
	-c "SELECT err(\$\$SELECT mrl_embed('a a')\$\$)"
refuses "mrl_evaluate refuses it" \
	-c "SELECT err(\$\$SELECT * FROM mrl_evaluate('docs', 'qrels', 'docs', 'huge', '{8}')\$\$)"
