-- mrl_embed and the model registry, on tiny random models made by
-- test/encoder/make_tiny_models.py (Makefile target regress-models) in the
-- directory $MRL_REGRESS_MODELS.
-- Their numbers are checked against PyTorch in test/suites/22_forward.sh;
-- here we check the SQL layer: registry, options, batching, errors, rights.
SET client_min_messages = warning;
\getenv models MRL_REGRESS_MODELS

SELECT mrl_register_model('tiny-bert', :'models' || '/tiny-bert');
SELECT mrl_register_model('tiny-nomic-q8', :'models' || '/tiny-nomic.Q8_0.gguf');
SELECT mrl_register_model('tiny-static', :'models' || '/tiny-static');
-- the generator's shapes: hidden 64, vocab 200, 2 layers, 64 positions
SELECT name, arch, dims, vocab, layers, max_tokens, size_bytes > 0 AS has_size, owner, public
FROM mrl_model_info WHERE name <> 'mrl-default' ORDER BY name;

-- one text; the vector is unit length (the models' sentence-transformers Normalize)
SELECT mrl_dims(mrl_embed('the quick brown fox', 'tiny-bert')) AS dims,
	round(mrl_norm(mrl_embed('the quick brown fox', 'tiny-bert'))::numeric, 5) AS norm;
-- a Matryoshka prefix: the first 16 dims of the pooled vector, re-normalised
SELECT mrl_dims(mrl_embed('the quick brown fox', 'tiny-bert', dims => 16)) AS dims,
	mrl_cosine_distance(mrl_embed('the quick brown fox', 'tiny-bert', dims => 16),
		mrl_truncate(mrl_embed('the quick brown fox', 'tiny-bert'), 16, true), 16) < 1e-6 AS same_as_truncating;
-- the built-in model's vectors are unit length (its Normalize module), and so
-- are its dims => prefixes: norms by float8 arithmetic over the elements
SELECT dims, bool_and(abs(sqrt((SELECT sum(x::float8 * x) FROM unnest(mrl_embed(t, dims => dims)::real[]) x)) - 1) < 1e-6) AS unit
FROM (VALUES ('how many clients can connect'), ('sorting uses work_mem'), ('x')) t(t),
	(VALUES (16), (64), (256)) d(dims) GROUP BY dims ORDER BY dims;
-- ... so Euclidean distance, inner product and cosine rank documents alike
WITH d(id, e) AS (SELECT i, mrl_embed(b) FROM unnest(ARRAY['maximum number of concurrent connections',
		'memory used by sorts', 'write a log line for slow statements', 'the server port', 'autovacuum workers']) WITH ORDINALITY u(b, i)),
	q(e) AS (SELECT mrl_embed('how many clients can connect at once'))
SELECT array_agg(id ORDER BY d.e <-> q.e) = array_agg(id ORDER BY d.e <=> q.e) AS l2_as_cosine,
	array_agg(id ORDER BY d.e <#> q.e) = array_agg(id ORDER BY d.e <=> q.e) AS ip_as_cosine
FROM d, q;
-- layers => 1 runs only the first layer: a different vector
SELECT mrl_embed('the quick brown fox', 'tiny-bert', layers => 1)
	<> mrl_embed('the quick brown fox', 'tiny-bert') AS first_layer_differs;
-- deterministic, and different texts give different vectors
SELECT mrl_embed('hello', 'tiny-static') = mrl_embed('hello', 'tiny-static') AS stable,
	mrl_embed('hello', 'tiny-static') <> mrl_embed('world', 'tiny-static') AS distinct_texts;
-- the batch form gives the same vectors as one call per text (up to float
-- rounding: a batch runs other matrix shapes); NULLs stay NULL
WITH t(i, s) AS (VALUES (1, 'alpha beta'), (2, NULL), (3, 'gamma'), (4, ''), (5, repeat('long text ', 100)))
SELECT i, e IS NULL AS is_null,
	coalesce((e <-> mrl_embed(s, 'tiny-nomic-q8', 32)) < 1e-5, e IS NULL AND s IS NULL) AS same_as_single
FROM t, LATERAL (SELECT (mrl_embed((SELECT array_agg(s ORDER BY i) FROM t), 'tiny-nomic-q8', 32))[i] AS e) b
ORDER BY i;
SELECT mrl_embed(ARRAY[]::text[], 'tiny-bert') AS empty_batch;
SELECT mrl_embed(NULL::text, 'tiny-bert') AS null_text;
-- texts longer than the window (64 tokens here) are truncated, not refused
SELECT mrl_embed(repeat('word ', 1000), 'tiny-bert') = mrl_embed(repeat('word ', 2000), 'tiny-bert') AS truncated;
-- an UPDATE fills a column
CREATE TABLE docs (id int, body text, emb mvector(64));
INSERT INTO docs VALUES (1, 'first document'), (2, 'second document'), (3, NULL);
UPDATE docs SET emb = mrl_embed(body, 'tiny-bert');
SELECT id, emb IS NULL AS no_emb, mrl_dims(emb) FROM docs ORDER BY id;
SELECT id FROM docs WHERE emb IS NOT NULL ORDER BY emb <=> mrl_embed('second document', 'tiny-bert') LIMIT 1;

-- errors
SELECT mrl_embed('x', 'no-such-model');
SELECT mrl_embed('x', 'tiny-bert', dims => 0);
SELECT mrl_embed('x', 'tiny-bert', dims => 65);
SELECT mrl_embed('x', 'tiny-bert', layers => 3);
SELECT mrl_embed('x', 'tiny-static', layers => 1);
SELECT mrl_embed(ARRAY[['a', 'b'], ['c', 'd']], 'tiny-bert');
SELECT mrl_register_model('tiny-bert', :'models' || '/tiny-bert');
SELECT mrl_register_model('mrl-default', :'models' || '/tiny-bert');
SELECT mrl_register_model('bad name!', :'models' || '/tiny-bert');
SELECT mrl_register_model('rel', 'tiny-bert');
-- errors naming a file: SQLSTATE and message, with the directory as $MODELS
CREATE FUNCTION pg_temp.register_error(name text, path text, models text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM mrl_register_model(name, path);
	RETURN 'registered';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || replace(SQLERRM, models, '$MODELS');
END
$$;
SELECT pg_temp.register_error('missing', :'models' || '/nothing-here', :'models');
SELECT pg_temp.register_error('not-a-model', :'models', :'models');
SELECT mrl_unregister_model('no-such-model');

-- privileges: registering needs superuser or pg_read_server_files; using a
-- model needs ownership or a grant
CREATE ROLE mrl_alice;
CREATE ROLE mrl_bob;
CREATE ROLE mrl_reader;
GRANT pg_read_server_files TO mrl_reader;
GRANT mrl_bob TO mrl_alice;
SET ROLE mrl_alice;
SELECT mrl_register_model('alice-model', :'models' || '/tiny-bert');
SELECT mrl_embed('x', 'tiny-bert');
INSERT INTO mrl_models (name, path, arch, dims, vocab, layers, max_tokens, size_bytes, owner)
	VALUES ('sneaky', '/etc', 'bert', 1, 1, 1, 1, 1, 'mrl_alice');
SELECT count(*) > 0 AS can_read_registry FROM mrl_models;
RESET ROLE;
SET ROLE mrl_reader;
SELECT mrl_register_model('reader-model', :'models' || '/tiny-static');
SELECT mrl_dims(mrl_embed('x', 'reader-model'));
SELECT mrl_grant_model('tiny-bert', 'mrl_alice');
SELECT mrl_grant_model('reader-model', 'mrl_bob');
RESET ROLE;
SET ROLE mrl_alice;
SELECT mrl_dims(mrl_embed('x', 'reader-model')) AS via_bob_membership;
SELECT mrl_unregister_model('reader-model');
RESET ROLE;
SET ROLE mrl_reader;
SELECT mrl_revoke_model('reader-model', 'mrl_bob');
RESET ROLE;
SET ROLE mrl_alice;
SELECT mrl_embed('x', 'reader-model');
RESET ROLE;
SELECT mrl_grant_model('tiny-bert', 'public');
SET ROLE mrl_alice;
SELECT mrl_dims(mrl_embed('x', 'tiny-bert')) AS public_model;
RESET ROLE;
SELECT mrl_grant_model('tiny-bert', 'no_such_role');
-- a user's own operators and functions cannot take part in the privilege checks
SELECT mrl_revoke_model('tiny-bert', 'public');
CREATE SCHEMA mrl_evil AUTHORIZATION mrl_alice;
SET ROLE mrl_alice;
CREATE FUNCTION mrl_evil.always(regrole, regrole) RETURNS bool LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR mrl_evil.= (LEFTARG = regrole, RIGHTARG = regrole, FUNCTION = mrl_evil.always);
CREATE FUNCTION mrl_evil.textalways(text, text) RETURNS bool LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR mrl_evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = mrl_evil.textalways);
SET search_path = mrl_evil, pg_catalog, public;
SELECT mrl_embed('x', 'tiny-bert');
SELECT mrl_unregister_model('tiny-static');
SELECT mrl_grant_model('tiny-nomic-q8', 'mrl_alice');
RESET search_path;
RESET ROLE;
SELECT name, public, usable_by FROM mrl_models ORDER BY name;
DROP SCHEMA mrl_evil CASCADE;
SELECT mrl_grant_model('tiny-bert', 'public');
SELECT name, owner, public, usable_by FROM mrl_models ORDER BY name;

-- cancellation: a long batch stops at statement_timeout
SET statement_timeout = '200ms';
SELECT mrl_dims((mrl_embed(array_fill('many words in a long text '::text, ARRAY[200000]), 'tiny-bert'))[1]);
RESET statement_timeout;

-- mrl_embed_table: in fetches of 256 rows, the vectors mrl_embed gives row by
-- row; dims from the column's declared width; a NULL text stays NULL
CREATE TABLE embed_tbl (id int, body text, emb mvector(32));
INSERT INTO embed_tbl SELECT g, 'row number ' || g FROM generate_series(1, 300) g;
INSERT INTO embed_tbl VALUES (301, NULL);
SELECT mrl_embed_table('embed_tbl', 'body', 'emb', 'tiny-nomic-q8') AS updated;
SELECT count(emb) AS embedded, bool_and((emb <-> mrl_embed(body, 'tiny-nomic-q8', 32)) < 1e-5) AS same_as_single
FROM embed_tbl;
SELECT mrl_embed_table('embed_tbl', 'body', 'emb', 'tiny-nomic-q8') AS none_missing;
SELECT mrl_embed_table('embed_tbl', 'body', 'emb', 'tiny-nomic-q8', dims => 16);
DROP TABLE embed_tbl;

-- threads setting
SET mrl.encoder_threads = 2;
SELECT mrl_embed('threads', 'tiny-bert') = (SELECT mrl_embed('threads', 'tiny-bert')) AS same_with_two_threads;
SET mrl.encoder_threads = 0;
RESET mrl.encoder_threads;

SELECT mrl_unregister_model('tiny-bert');
SELECT mrl_unregister_model('tiny-nomic-q8');
SELECT mrl_unregister_model('tiny-static');
SELECT mrl_unregister_model('reader-model');
DROP TABLE docs;
DROP ROLE mrl_alice, mrl_bob, mrl_reader;
