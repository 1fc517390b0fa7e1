#!/usr/bin/env bash
# 29_embed_memory.sh: embedding a huge text costs memory in proportion to the
# model's window (or, for static models, to a bounded chunk of text), not to
# the text: a ~54 MB text through mrl_embed and mrl_embed(text[]), with the
# built-in static model, a Hugging Face WordPiece directory (tokenizer.json),
# a GGUF model (its own vocabulary) and a model2vec static model.  The
# backend's peak RSS (VmHWM, read from /proc/self/status through
# pg_read_file) may grow by at most LIMIT_MB over what the same session
# reached holding the detoasted text and the loaded model.
set -u
. "$(dirname "$0")/../lib.sh"
cd "$MRL_ROOT"
LIMIT_MB=32

mrl_cluster_ensure || exit 1
tmp=$(mktemp -d /tmp/mrl-embedmem.XXXXXX)
chmod 755 "$tmp"
models=$tmp/models
mkdir -p "$models"
/usr/bin/python3 test/encoder/make_tiny_models.py "$models" >/dev/null
chmod -R a+rX "$models"
sql() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
sql -c "CREATE EXTENSION IF NOT EXISTS mrl" \
	-c "SELECT mrl_register_model('mem_bert', '$models/tiny-bert')" \
	-c "SELECT mrl_register_model('mem_gguf', '$models/tiny-nomic.F16.gguf')" \
	-c "SELECT mrl_register_model('mem_static', '$models/tiny-static')" \
	-c "CREATE TABLE mem_big AS SELECT repeat('The quick brown fox jumps over the lazy dog; Ünïcödé àccents, 漢字 and 12345. ', 650000) AS t" \
	>/dev/null || { notok "register the models and make a huge text"; exit 1; }
mb=$(sql -c "SELECT octet_length(t) / 1048576 FROM mem_big")

hwm="SELECT 'VmHWM', (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\\s*(\\d+)'))[1]"
# peak_growth MODEL INPUT HOLD: kB the peak RSS grew by while mrl_embed(INPUT,
# MODEL) ran, over what the session reached after loading the model and
# holding INPUT (the detoasted text, or an array of it) once, in HOLD.
# pg_stat_force_next_flush() keeps PostgreSQL 15's idle-stats timer from
# firing during the embedding (src/embed.c takes that interrupt for a
# cancel: issue 10 item 7).
peak_growth()
{
	local model=$1 input=$2 hold=$3 out
	out=$(sql -c "SELECT mrl_dims(mrl_embed('warm up', $model))" \
		-c "SELECT $hold FROM mem_big" -c "$hwm" -c "SELECT pg_stat_force_next_flush()" \
		-c "SELECT mrl_embed($input, $model) IS NOT NULL FROM mem_big" -c "$hwm" 2>&1) ||
		{ echo "$out" | tail -1; return 1; }
	echo "$out" | awk -F'|' '$1 == "VmHWM" { kb[n++] = $2 } END { print kb[1] - kb[0] }'
}

# (a static model's text[] form runs the path of its text form: once is enough)
for model in NULL "'mem_bert'" "'mem_gguf'" "'mem_static'"; do
	for input in "t" "ARRAY[t, 'a short text']"; do
		[ "$model" = "'mem_static'" ] && [ "$input" != t ] && continue
		form="mrl_embed($input, $model)"
		hold="length(t)"
		[ "$input" = t ] || hold="cardinality($input)"
		growth=$(peak_growth "$model" "$input" "$hold")
		if [[ "$growth" =~ ^-?[0-9]+$ ]] && [ "$growth" -lt $((LIMIT_MB * 1024)) ]; then
			ok "$form of a $mb MB text: peak RSS grew by $((growth / 1024)) MB (< $LIMIT_MB MB)"
		else
			notok "$form of a $mb MB text: peak RSS grew by ${growth} kB (limit $LIMIT_MB MB)"
		fi
	done
done

# the window sees only the head: the huge text embeds as its first 10,000 bytes
same=$(sql -c "SELECT mrl_embed(t, 'mem_bert') = mrl_embed(left(t, 10000), 'mem_bert') FROM mem_big")
if [ "$same" = t ]; then
	ok "a transformer embeds the huge text as its head (the window is full after 10,000 bytes)"
else
	notok "the huge text and its head embed differently ($same)"
fi

sql -c "DROP TABLE mem_big" -c "SELECT mrl_unregister_model(m) FROM unnest(ARRAY['mem_bert', 'mem_gguf', 'mem_static']) m" >/dev/null
rm -rf "$tmp"
