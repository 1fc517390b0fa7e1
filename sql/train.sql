-- mrl_train: Matryoshka training of a static model on the user's own pairs
SET client_min_messages = warning;
-- the tiny models of embed.sql
\getenv models MRL_REGRESS_MODELS

-- 60 pairs: a made-up product code and its description; the built-in model
-- has never seen the codes, so only training can connect them
CREATE TABLE pairs AS
	SELECT 'zq' || chr(97 + i % 26) || chr(97 + (i / 26) % 26) || ' part' AS code,
		(ARRAY['red', 'green', 'blue', 'black', 'white'])[1 + i % 5] || ' ' ||
		(ARRAY['valve', 'pump', 'filter', 'hose', 'gasket', 'nozzle'])[1 + i % 6] || ' for ' ||
		(ARRAY['boilers', 'engines', 'pools', 'gardens'])[1 + i % 4] || ' number ' || i AS descr
	FROM generate_series(1, 60) i;

-- top-1 retrieval of each description from its code, with a model
CREATE FUNCTION top1(model text) RETURNS float8 LANGUAGE sql AS $$
	SELECT avg(((SELECT p2.descr FROM pairs p2
				 ORDER BY mrl_embed(p2.descr, model) <=> mrl_embed(p.code, model) LIMIT 1) = p.descr)::int)::float8
	FROM pairs p $$;

-- a trained model is stored in the database, under the hash of its files
SELECT model, steps, pairs_used, last_loss < first_loss AS loss_went_down, sha256 AS parts_v1_sha256
FROM mrl_train('parts_v1', $$SELECT code, descr FROM pairs$$, dims => '{16,32,64,256}',
			   epochs => 20, batch_size => 16, learning_rate => 0.2) \gset
SELECT :'model' AS model, :'steps' AS steps, :'pairs_used' AS pairs_used, :'loss_went_down' AS loss_went_down,
	:'parts_v1_sha256' = (SELECT sha256 FROM mrl_models WHERE name = 'parts_v1') AS registered_hash;
SELECT name, arch, dims, vocab, owner, path, stored FROM mrl_model_info WHERE name = 'parts_v1';
-- the files the loader reads, in chunks of 1 MiB
SELECT file, count(*) AS chunks, max(length(data)) AS largest_chunk
FROM mrl_model_data WHERE model = 'parts_v1' GROUP BY file ORDER BY file;
SELECT sum(length(data)) = (SELECT size_bytes FROM mrl_models WHERE name = 'parts_v1') AS all_bytes
FROM mrl_model_data WHERE model = 'parts_v1';
SELECT mrl_dims(mrl_embed('zqaa part', 'parts_v1')) AS dims, mrl_dims(mrl_embed('zqaa part', 'parts_v1', dims => 16)) AS prefix_dims;
-- trained models are unit length, as the built-in model (a Normalize module)
SELECT round(sqrt(sum(x::float8 * x))::numeric, 6) AS norm FROM unnest(mrl_embed('zqaa part', 'parts_v1')::real[]) x;
-- training helped: codes now find their descriptions (the base model cannot)
SELECT top1('parts_v1') > top1('mrl-default') + 0.3 AS trained_beats_base;
-- the same seed gives the same model, byte for byte, whatever order the
-- rows come in (as from a distributed table's shards)
SELECT model FROM mrl_train('parts_v1_again', $$SELECT code, descr FROM pairs ORDER BY descr DESC;$$, dims => '{16,32,64,256}',
			   epochs => 20, batch_size => 16, learning_rate => 0.2);
SELECT bool_and(mrl_embed(code, 'parts_v1') = mrl_embed(code, 'parts_v1_again')) AS deterministic,
	(SELECT count(DISTINCT sha256) FROM mrl_models WHERE name LIKE 'parts_v1%') AS hashes FROM pairs;
-- from scratch: random start with the built-in tokenizer, width = the largest prefix
SELECT model, last_loss < first_loss AS loss_went_down
FROM mrl_train('parts_scratch', $$SELECT code, descr FROM pairs$$, dims => '{8,32}', base => NULL,
			   epochs => 20, batch_size => 16, learning_rate => 0.2);
SELECT dims FROM mrl_model_info WHERE name = 'parts_scratch';
-- fewer pairs than one batch (256 by default): one step per epoch, and a warning says so
SELECT model, steps FROM mrl_train('parts_one_batch', $$SELECT code, descr FROM pairs$$, epochs => 2);
SELECT mrl_unregister_model('parts_one_batch');
-- fine-tune a fine-tuned model, with hard negatives in a third column
SELECT model, pairs_used FROM mrl_train('parts_v2',
	$$SELECT p.code, p.descr, n.descr FROM pairs p JOIN pairs n ON n.code = 'zq' || substr(p.code, 3, 1) || 'a part' AND n.descr <> p.descr$$,
	base => 'parts_v1', epochs => 2, batch_size => 8);

-- errors
SELECT * FROM mrl_train('e1', $$SELECT code, descr FROM pairs WHERE false$$);
SELECT * FROM mrl_train('e2', $$SELECT code, descr FROM pairs LIMIT 1$$);
SELECT * FROM mrl_train('e3', $$SELECT code FROM pairs$$);
SELECT * FROM mrl_train('e4', $$SELECT code, 1 FROM pairs$$);
SELECT * FROM mrl_train('e5', $$DELETE FROM pairs$$);
SELECT * FROM mrl_train('e5', $$DELETE FROM pairs RETURNING code, descr$$);
SELECT count(*) FROM pairs;
SELECT * FROM mrl_train('e6', $$SELECT code, descr FROM pairs$$, dims => '{64,32}');
SELECT * FROM mrl_train('e7', $$SELECT code, descr FROM pairs$$, dims => '{512}');
SELECT * FROM mrl_train('e8', $$SELECT code, descr FROM pairs$$, dims => '{}');
SELECT * FROM mrl_train('e9', $$SELECT code, descr FROM pairs$$, dim_weights => '{1,2}');
SELECT * FROM mrl_train('e10', $$SELECT code, descr FROM pairs$$, batch_size => 1);
SELECT * FROM mrl_train('parts_v1', $$SELECT code, descr FROM pairs$$);
SELECT * FROM mrl_train('mrl-default', $$SELECT code, descr FROM pairs$$);
SELECT * FROM mrl_train('e11', $$SELECT code, descr FROM pairs$$, base => 'no-such-model');
SELECT mrl_register_model('tiny-bert-t', :'models' || '/tiny-bert');
SELECT * FROM mrl_train('e12', $$SELECT code, descr FROM pairs$$, base => 'tiny-bert-t');
SELECT * FROM mrl_train('e13', $$SELECT code, descr FROM no_such_table$$);
SELECT * FROM mrl_train(NULL, $$SELECT code, descr FROM pairs$$);
SELECT name FROM mrl_model_info WHERE name LIKE 'e%';

-- only superusers and pg_write_server_files members may train (it writes files)
CREATE ROLE mrl_trainer_nobody;
GRANT SELECT ON pairs TO mrl_trainer_nobody;
SET ROLE mrl_trainer_nobody;
SELECT * FROM mrl_train('nope', $$SELECT code, descr FROM pairs$$);
RESET ROLE;
CREATE ROLE mrl_trainer_writer;
GRANT pg_write_server_files TO mrl_trainer_writer;
GRANT SELECT ON pairs TO mrl_trainer_writer;
SET ROLE mrl_trainer_writer;
SELECT model FROM mrl_train('writer_model', $$SELECT code, descr FROM pairs$$, epochs => 1, batch_size => 16);
SELECT mrl_dims(mrl_embed('x', 'writer_model'));
-- the stored files are the extension owner's: users embed with them, never read them
SELECT count(*) FROM mrl_model_data;
RESET ROLE;
SELECT owner FROM mrl_models WHERE name = 'writer_model';

-- a rolled-back or failed mrl_train leaves no directory behind in this
-- database's directory of the extension's files, savepoints and PL/pgSQL
-- exception blocks included
CREATE FUNCTION model_dirs() RETURNS bigint LANGUAGE sql AS $$
	SELECT count(*) FROM pg_ls_dir('mrl_models/' || (SELECT oid FROM pg_database WHERE datname = current_database())) $$;
CREATE FUNCTION train_small(name text) RETURNS SETOF text LANGUAGE sql AS $$
	SELECT model FROM mrl_train(name, 'SELECT code, descr FROM pairs', dims => '{8}', base => NULL, batch_size => 16) $$;
CREATE TEMP TABLE dirs_before AS SELECT model_dirs() AS n;
BEGIN;
SELECT train_small('rolled_back');
ROLLBACK;
SELECT model, 1 / (steps - steps) FROM mrl_train('failed_after', $$SELECT code, descr FROM pairs$$, dims => '{8}', base => NULL, batch_size => 16);
BEGIN;
SAVEPOINT s;
SELECT train_small('in_savepoint');
ROLLBACK TO s;
COMMIT;
DO $$
BEGIN
	PERFORM train_small('in_block');
	RAISE EXCEPTION 'undo';
EXCEPTION WHEN raise_exception THEN
	NULL;
END $$;
SELECT model_dirs() - n AS left_behind FROM dirs_before;
-- a released savepoint hands the new directory to the transaction: kept at commit
BEGIN;
SAVEPOINT s;
SELECT train_small('released');
RELEASE s;
COMMIT;
SELECT model_dirs() - n AS kept, (SELECT count(*) FROM mrl_models WHERE name = 'released') AS registered FROM dirs_before;

-- cancellation: statement_timeout stops a long training run, nothing is registered
CREATE TABLE many AS SELECT 'question ' || i AS q, 'answer number ' || i AS a FROM generate_series(1, 2000) i;
SET statement_timeout = '300ms';
SELECT * FROM mrl_train('too_long', $$SELECT q, a FROM many$$, epochs => 10000, batch_size => 64);
RESET statement_timeout;
SELECT count(*) FROM mrl_models WHERE name = 'too_long';

-- unregistering a trained model removes this database's copy of its files,
-- once (and only if) that commits
CREATE TEMP TABLE trained AS SELECT name, 'mrl_models/' ||
	(SELECT oid FROM pg_database WHERE datname = current_database()) || '/' || left(sha256, 16) AS path
	FROM mrl_models WHERE sha256 IS NOT NULL;
CREATE FUNCTION on_disk(model text) RETURNS boolean LANGUAGE sql AS $$
	SELECT (pg_stat_file(path, true)).modification IS NOT NULL FROM trained WHERE name = model $$;
SELECT mrl_dims(mrl_embed('x', 'parts_v2')) AS dims, on_disk('parts_v2') AS on_disk;
BEGIN;
SELECT mrl_unregister_model('parts_v2');
ROLLBACK;
SELECT on_disk('parts_v2') AS kept_after_rollback;
-- the deletion belongs to the subtransaction that unregistered: rolled back
-- with a savepoint or a PL/pgSQL exception block, the files stay
BEGIN;
SAVEPOINT s;
SELECT mrl_unregister_model('parts_v2');
ROLLBACK TO s;
COMMIT;
SELECT on_disk('parts_v2') AS kept_after_rollback_to_savepoint;
BEGIN;
SAVEPOINT outer_sp;
SAVEPOINT inner_sp;
SELECT mrl_unregister_model('parts_v2');
RELEASE inner_sp;
ROLLBACK TO outer_sp;
COMMIT;
SELECT on_disk('parts_v2') AS kept_after_released_then_rolled_back;
DO $$
BEGIN
	PERFORM mrl_unregister_model('parts_v2');
	RAISE EXCEPTION 'undo';
EXCEPTION WHEN raise_exception THEN
	NULL;
END $$;
SELECT on_disk('parts_v2') AS kept_after_exception_block, count(*) AS still_registered FROM mrl_models WHERE name = 'parts_v2';
-- a released savepoint hands the deletion to the transaction: gone at commit,
-- with the stored rows
BEGIN;
SAVEPOINT s;
SELECT mrl_unregister_model('parts_v2');
RELEASE s;
SELECT on_disk('parts_v2') AS kept_until_commit;
COMMIT;
SELECT on_disk('parts_v2') AS on_disk_after_commit,
	(SELECT count(*) FROM mrl_model_data WHERE model = 'parts_v2') AS rows_left;
-- two models with the same files share one copy: it stays until both are gone
SELECT mrl_unregister_model('parts_v1_again');
SELECT on_disk('parts_v1') AS kept_for_the_other, mrl_dims(mrl_embed('x', 'parts_v1')) AS still_works;
SELECT mrl_unregister_model('parts_v1');
SELECT on_disk('parts_v1') AS on_disk_after_both;
-- the extension's own directory is not a place to register a path by hand
-- (what is there is written and removed by the extension); storing a copy
-- of a model from there is fine
CREATE ROLE mrl_file_reader;
GRANT pg_read_server_files TO mrl_file_reader;
SELECT current_setting('data_directory') || '/' || path || '/model' AS writer_model_files
FROM trained WHERE name = 'writer_model' \gset
SET ROLE mrl_file_reader;
\set VERBOSITY terse
SELECT mrl_register_model('alias', :'writer_model_files');
\set VERBOSITY default
SELECT mrl_register_model('copy', :'writer_model_files', store => true);
RESET ROLE;
SELECT mrl_embed('x', 'copy') = mrl_embed('x', 'writer_model') AS same_model,
	(SELECT sha256 FROM mrl_models WHERE name = 'copy') = (SELECT sha256 FROM mrl_models WHERE name = 'writer_model') AS same_hash;
SELECT mrl_unregister_model('copy');
SELECT on_disk('writer_model') AS kept_for_the_original, mrl_dims(mrl_embed('x', 'writer_model')) AS still_works;
SELECT mrl_unregister_model(name) FROM mrl_models ORDER BY name;
SELECT count(*) AS trained, count((pg_stat_file(path, true)).modification) AS left_on_disk FROM trained;
DROP TABLE pairs, many;
DROP FUNCTION top1(text), on_disk(text), model_dirs(), train_small(text);
DROP ROLE mrl_trainer_nobody, mrl_trainer_writer, mrl_file_reader;
