-- mrl 0.1.0 -> 0.2.0: what changed in the SQL objects (CHANGELOG.md).

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mrl UPDATE TO '0.2.0'" to load this file. \quit

-- Models are database objects (sql/install/30_embed.sql): mrl_train and
-- mrl_register_model(..., store => true) keep a model's files in
-- mrl_model_data; the registry keeps roles by name.  Models registered
-- before 0.2.0 stay file-backed (path), trained ones included.
DROP VIEW mrl_model_info;
CREATE FUNCTION mrl_role_names(regrole[]) RETURNS text[] LANGUAGE sql AS
	$$SELECT coalesce(array_agg(pg_catalog.pg_get_userbyid(r) ORDER BY o), '{}')
	  FROM unnest($1) WITH ORDINALITY AS u(r, o)$$;
ALTER TABLE mrl_models
	ALTER COLUMN path DROP NOT NULL,
	ALTER COLUMN owner TYPE text USING pg_catalog.pg_get_userbyid(owner)::text,
	ALTER COLUMN usable_by DROP DEFAULT,
	ALTER COLUMN usable_by TYPE text[] USING mrl_role_names(usable_by),
	ALTER COLUMN usable_by SET DEFAULT '{}',
	ADD COLUMN sha256 text CONSTRAINT mrl_models_sha256_hex CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	ADD CONSTRAINT mrl_models_path_or_stored CHECK ((path IS NULL) <> (sha256 IS NULL));
DROP FUNCTION mrl_role_names(regrole[]);
-- Remote encoders (their functions are at the end): a remote model's row
-- names its server, and NULL stands for the shapes its API does not report.
ALTER TABLE mrl_models ALTER COLUMN vocab DROP NOT NULL, ALTER COLUMN layers DROP NOT NULL,
	ALTER COLUMN max_tokens DROP NOT NULL, ALTER COLUMN size_bytes DROP NOT NULL,
	ADD COLUMN server text, ADD COLUMN sends_dimensions boolean NOT NULL DEFAULT false;

CREATE TABLE mrl_model_data (
	model text NOT NULL REFERENCES mrl_models (name) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	file text NOT NULL,
	chunk integer NOT NULL CHECK (chunk >= 0),
	data bytea NOT NULL,
	PRIMARY KEY (model, file, chunk)
);
ALTER TABLE mrl_model_data ALTER COLUMN data SET STORAGE EXTERNAL;
SELECT pg_catalog.pg_extension_config_dump('mrl_model_data', '');
REVOKE ALL ON mrl_model_data FROM PUBLIC;

CREATE FUNCTION mrl_models_restore_roles() RETURNS trigger
	AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE TRIGGER mrl_models_restore_roles BEFORE INSERT ON mrl_models
	FOR EACH ROW EXECUTE FUNCTION mrl_models_restore_roles();

CREATE FUNCTION mrl_watch_drops() RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION mrl_watch_drops_trigger() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
	-- the extension is relocatable: find its schema now
	EXECUTE pg_catalog.format('SELECT %I.mrl_watch_drops()',
		(SELECT n.nspname FROM pg_catalog.pg_extension e
		 JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'mrl'));
EXCEPTION WHEN undefined_file OR undefined_function THEN
	RAISE WARNING 'mrl: % (the files of the extension in this database are left in place)', SQLERRM;
END $$;
CREATE EVENT TRIGGER mrl_watch_drops ON ddl_command_start
	WHEN TAG IN ('DROP EXTENSION', 'DROP SCHEMA', 'DROP OWNED')
	EXECUTE FUNCTION mrl_watch_drops_trigger();

DROP FUNCTION mrl_register_model(text, text);
CREATE FUNCTION mrl_register_model(name text, path text, store boolean DEFAULT false) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION mrl_register_model(text, text, boolean) IS
	'register a GGUF file or a Hugging Face / sentence-transformers directory as a named model, by path or (store => true) copied into the database (superusers and pg_read_server_files members)';

CREATE VIEW mrl_model_info AS
	SELECT 'mrl-default'::text AS name, b.arch, b.dims, b.vocab, b.layers, b.max_tokens,
		b.path, b.size_bytes, NULL::text AS owner, true AS public, '{}'::text[] AS usable_by,
		false AS stored, NULL::text AS server, false AS sends_dimensions
	FROM mrl_builtin_model_info() b
	UNION ALL
	SELECT name, arch, dims, vocab, layers, max_tokens, path, size_bytes, owner, public, usable_by,
		sha256 IS NOT NULL, server, sends_dimensions
	FROM mrl_models;
GRANT SELECT ON mrl_model_info TO PUBLIC;

DROP FUNCTION mrl_train(text, text, integer[], text, integer, integer, double precision, real[], bigint);
CREATE FUNCTION mrl_train(name text, pairs text,
	dims integer[] DEFAULT '{32,64,128,256}', base text DEFAULT 'mrl-default',
	epochs integer DEFAULT 1, batch_size integer DEFAULT 256,
	learning_rate double precision DEFAULT 0.05, dim_weights real[] DEFAULT NULL,
	seed bigint DEFAULT 42,
	OUT model text, OUT steps bigint, OUT pairs_used bigint,
	OUT first_loss double precision, OUT last_loss double precision, OUT sha256 text)
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_train(text, text, integer[], text, integer, integer, double precision, real[], bigint) IS
	'train a static Matryoshka model on (anchor, positive[, hard negative]) text pairs from a query, and store it in the database under a name';

-- pgvector's function names on mvector, and its bit distances (sql/install/15_pgvector_names.sql).
CREATE FUNCTION l2_distance(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION inner_product(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cosine_distance(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l1_distance(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_dims(mvector) RETURNS integer
	AS 'MODULE_PATHNAME', 'mrl_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_norm(mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mrl_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l2_normalize(mvector) RETURNS mvector
	AS 'MODULE_PATHNAME', 'mrl_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION subvector(mvector, integer, integer) RETURNS mvector
	AS 'MODULE_PATHNAME', 'mvector_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION subvector(mvector, integer, integer) IS
	'count dimensions from the 1-based start, as pgvector''s subvector';
CREATE FUNCTION binary_quantize(mvector) RETURNS bit
	AS 'MODULE_PATHNAME', 'mvector_binary_quantize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION binary_quantize(mvector) IS
	'one bit per dimension, set where the element is positive';

-- "bit" quoted: bit of any length (unquoted, bit means bit(1))
CREATE DOMAIN mrl_bit AS "bit";
COMMENT ON DOMAIN mrl_bit IS
	'bit, for hamming_distance, jaccard_distance, <~> and <%> without clashing with pgvector''s on bit';
CREATE FUNCTION hamming_distance(mrl_bit, mrl_bit) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mrl_hamming_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION jaccard_distance(mrl_bit, mrl_bit) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mrl_jaccard_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR <~> (LEFTARG = mrl_bit, RIGHTARG = mrl_bit, PROCEDURE = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = mrl_bit, RIGHTARG = mrl_bit, PROCEDURE = jaccard_distance, COMMUTATOR = '<%>');

-- mrl_truncate's third parameter is renamed from "normalize", a keyword that
-- named notation had to quote, to renormalize.  CREATE OR REPLACE cannot
-- rename a parameter, and DROP FUNCTION would fail on (or, with CASCADE,
-- drop) the views and expression indexes that call it, so the name is
-- changed in the catalog, as contrib's upgrade scripts change signatures
-- "the hard way".  Stored calls keep working: they refer to the function by
-- OID and to the argument by position.
UPDATE pg_catalog.pg_proc SET proargnames = '{"","",renormalize}'
	WHERE oid = 'mrl_truncate(mvector, integer, boolean)'::pg_catalog.regprocedure;
COMMENT ON FUNCTION mrl_truncate(mvector, integer, boolean) IS
	'the first d dimensions, re-normalised to unit length when renormalize is true';

-- The mrl_progress view (sql/install/47_progress.sql).
CREATE FUNCTION mrl_progress_info(OUT pid integer, OUT datid oid, OUT command text,
	OUT phase text, OUT done bigint, OUT total bigint, OUT loss double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
CREATE VIEW mrl_progress AS
	SELECT p.pid, p.datid, d.datname, p.command, p.phase, p.done, p.total, p.loss
	FROM mrl_progress_info() p LEFT JOIN pg_catalog.pg_database d ON d.oid = p.datid;
COMMENT ON VIEW mrl_progress IS
	'one row per backend running mrl_train, mrl_evaluate or mrl_embed_table: phase, work done and total, latest training loss';
GRANT SELECT ON mrl_progress TO PUBLIC;

-- Classification and clustering at every prefix size (sql/install/47_downstream.sql).
CREATE FUNCTION mrl_evaluate_classification(labelled regclass, model text DEFAULT NULL,
	dims integer[] DEFAULT '{16,32,64,128,256}', baselines text[] DEFAULT '{}',
	folds integer DEFAULT NULL, neighbors integer DEFAULT 10, seed integer DEFAULT 42)
	RETURNS TABLE(dims integer, method text, knn_accuracy float8, knn_macro_f1 float8,
		linear_accuracy float8, linear_macro_f1 float8)
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_evaluate_classification(regclass, text, integer[], text[], integer, integer, integer) IS
	'kNN and logistic-regression accuracy and macro-F1 of a model at each prefix size (method prefix), cross-validated, with an optional pca baseline';

CREATE FUNCTION mrl_evaluate_clustering(labelled regclass, model text DEFAULT NULL,
	dims integer[] DEFAULT '{16,32,64,128,256}', baselines text[] DEFAULT '{}',
	restarts integer DEFAULT 10, seed integer DEFAULT 42)
	RETURNS TABLE(dims integer, method text, nmi float8, ari float8)
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_evaluate_clustering(regclass, text, integer[], text[], integer, integer) IS
	'NMI and ARI of k-means (one cluster per label) against the labels at each prefix size (method prefix), with an optional pca baseline';

-- Remote encoders (sql/install/32_remote.sql); their registry columns are
-- added with the other registry changes above.
CREATE FUNCTION mrl_http_validator(text[], oid) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FOREIGN DATA WRAPPER mrl_http VALIDATOR mrl_http_validator;
COMMENT ON FOREIGN DATA WRAPPER mrl_http IS
	'embedding API endpoints for mrl_embed: servers take url and limits, user mappings an api_key';
CREATE FUNCTION mrl_register_model(name text, model text, server text) RETURNS void
	AS 'MODULE_PATHNAME', 'mrl_register_remote_model' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION mrl_register_model(text, text, text) IS
	'register openai:<model> or ollama:<model> served by an mrl_http server (needs USAGE on the server)';

-- A table's texts embedded into its vector column in batches (a remote
-- model's requests several in flight), in one statement, as the caller.
CREATE FUNCTION mrl_embed_table(tbl regclass, text_column name, vector_column name,
	model text DEFAULT NULL, dims integer DEFAULT NULL, only_missing boolean DEFAULT true)
	RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_embed_table(regclass, name, name, text, integer, boolean) IS
	'UPDATE tbl SET vector_column = mrl_embed(text_column, model, dims) [WHERE vector_column IS NULL], in batches; returns the rows updated';

-- A structural check of a funnel index (sql/install/20_funnel.sql).
CREATE FUNCTION mrl_funnel_check(index regclass) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION mrl_funnel_check(regclass) IS
	'structural check of a funnel index (chains, pages, one entry per heap row); returns its entries';

-- Citus (sql/install/50_citus.sql): mrl_embed_pinned for distributed UPDATEs,
-- mrl_distribute_models to copy the registry to the workers.

-- The content hash of a model: a stored model's sha256, the built-in
-- model's as it would be stored, NULL for a model registered by path.
CREATE FUNCTION mrl_model_sha256(name text) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mrl_model_sha256(text) IS
	'the content hash that mrl_embed_pinned checks: a stored model''s sha256, the built-in model''s, NULL for a model registered by path';

-- IMMUTABLE as far as results go: the model's contents are fixed by the
-- hash (any other contents are an error, never another vector), so Citus
-- may run it on the shards in UPDATE ... SET emb = mrl_embed_pinned(body, ...).
CREATE FUNCTION mrl_embed_pinned(input text, model text, sha256 text, dims integer DEFAULT NULL,
	layers integer DEFAULT NULL) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_embed_pinned(text, text, text, integer, integer) IS
	'mrl_embed with the model whose contents have this sha256 (mrl_model_sha256), an error for any other: IMMUTABLE, for distributed UPDATEs';

-- Citus: make every worker's registry (mrl_models, mrl_model_data, local
-- tables on each node) the coordinator's: copy the registrations and stored
-- models a worker lacks or has in another version, one transaction per
-- model and worker, and unregister those the coordinator does not have.
-- Run on the coordinator after registering or training a model and after
-- adding a worker.  Superusers only: it writes the workers' registry rows.
CREATE FUNCTION mrl_distribute_models(OUT node text, OUT model text, OUT action text)
	RETURNS SETOF record LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	-- the extension is relocatable: its schema, for the statements here and there
	s text := (SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e
			   JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'mrl');
	-- a registration's identity: its row but the time it was made
	-- (whose text depends on the session's time zone)
	row_id text := 'pg_catalog.md5((pg_catalog.row_to_json(m)::jsonb - ''registered_at'')::text)';
	run text := format('SELECT %s.mrl_run_on_worker($1, $2, $3)', s);
	w record;
	m record;
	theirs jsonb;
	cmd text;
BEGIN
	IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
		RAISE EXCEPTION 'only superusers may copy the model registry to the workers'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF pg_catalog.to_regprocedure('pg_catalog.citus_is_coordinator()') IS NULL THEN
		RAISE EXCEPTION 'Citus is not installed in this database' USING ERRCODE = 'feature_not_supported';
	END IF;
	IF NOT pg_catalog.citus_is_coordinator() THEN
		RAISE EXCEPTION 'mrl_distribute_models() runs on the coordinator' USING ERRCODE = 'feature_not_supported';
	END IF;
	FOR w IN SELECT nodename, nodeport FROM pg_catalog.pg_dist_node
			 WHERE noderole = 'primary' AND isactive AND groupid <> 0 ORDER BY nodeid LOOP
		node := w.nodename || ':' || w.nodeport;
		EXECUTE run INTO theirs USING w.nodename, w.nodeport,
			format('SELECT coalesce(jsonb_object_agg(name, %s), ''{}'') FROM %s.mrl_models m', row_id, s);
		FOR m IN EXECUTE format('SELECT name FROM pg_catalog.jsonb_object_keys($1) name
								 WHERE name NOT IN (SELECT name FROM %s.mrl_models) ORDER BY 1', s) USING theirs LOOP
			EXECUTE run USING w.nodename, w.nodeport, format('SELECT %s.mrl_unregister_model(%L)', s, m.name);
			model := m.name;
			action := 'unregistered';
			RETURN NEXT;
		END LOOP;
		FOR m IN EXECUTE format('SELECT name, %s AS id, pg_catalog.row_to_json(m)::text AS row
								 FROM %s.mrl_models m ORDER BY name', row_id, s) LOOP
			model := m.name;
			action := 'unchanged';
			IF theirs->>m.name IS DISTINCT FROM m.id THEN
				-- one command, one transaction there: the old registration
				-- out, the row and its stored files in
				EXECUTE format('SELECT %1$L || coalesce(string_agg(format(%2$L, %3$L, d.model, d.file, d.chunk, d.data), '''' ORDER BY d.file, d.chunk), '''')
								FROM %3$s.mrl_model_data d WHERE d.model = $1',
							   format('SELECT %1$s.mrl_unregister_model(name) FROM %1$s.mrl_models WHERE name = %2$L; '
									  'INSERT INTO %1$s.mrl_models SELECT * FROM json_populate_record(NULL::%1$s.mrl_models, %3$L); ',
									  s, m.name, m.row),
							   'INSERT INTO %s.mrl_model_data VALUES (%L, %L, %s, %L::bytea); ', s)
					INTO cmd USING m.name;
				EXECUTE run USING w.nodename, w.nodeport, cmd;
				action := CASE WHEN theirs ? m.name THEN 'replaced' ELSE 'copied' END;
			END IF;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END $$;
COMMENT ON FUNCTION mrl_distribute_models() IS
	'Citus: copy the coordinator''s model registry and stored models to every worker (superusers, on the coordinator)';

-- One command on one Citus node: its result, an error if it fails there.
CREATE FUNCTION mrl_run_on_worker(host text, port integer, command text) RETURNS text
	LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	ok boolean;
	res text;
BEGIN
	SELECT r.success, r.result INTO ok, res
		FROM pg_catalog.master_run_on_worker(ARRAY[host], ARRAY[port], ARRAY[command], false) r;
	IF NOT ok THEN
		RAISE EXCEPTION 'worker %:% failed: %', host, port, res;
	END IF;
	RETURN res;
END $$;
REVOKE ALL ON FUNCTION mrl_run_on_worker(text, integer, text) FROM PUBLIC;

-- Untyped literals read as mvector where mhalfvec (or pgvector's types) would
-- also fit (sql/install/00_mvector.sql: PREFERRED).  CREATE TYPE sets this,
-- and no ALTER TYPE option changes it, so the catalog row is updated.
UPDATE pg_catalog.pg_type SET typispreferred = true WHERE oid = 'mvector'::regtype;

-- mhalfvec, Matryoshka embeddings in half precision (sql/install/50_mhalfvec.sql).
CREATE TYPE mhalfvec;

CREATE FUNCTION mhalfvec_in(cstring, oid, integer) RETURNS mhalfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_out(mhalfvec) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_recv(internal, oid, integer) RETURNS mhalfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_send(mhalfvec) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE mhalfvec (
	INPUT = mhalfvec_in,
	OUTPUT = mhalfvec_out,
	TYPMOD_IN = mhalfvec_typmod_in,
	RECEIVE = mhalfvec_recv,
	SEND = mhalfvec_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = main
);
COMMENT ON TYPE mhalfvec IS 'Matryoshka embedding in half precision (IEEE binary16), half the size of mvector';

-- casts

CREATE FUNCTION mhalfvec(mhalfvec, integer, boolean) RETURNS mhalfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_to_mhalfvec(mvector, integer, boolean) RETURNS mhalfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_to_mvector(mhalfvec, integer, boolean) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mhalfvec(integer[], integer, boolean) RETURNS mhalfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mhalfvec(real[], integer, boolean) RETURNS mhalfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mhalfvec(double precision[], integer, boolean) RETURNS mhalfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mhalfvec(numeric[], integer, boolean) RETURNS mhalfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_to_float4(mhalfvec, integer, boolean) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (mhalfvec AS mhalfvec) WITH FUNCTION mhalfvec(mhalfvec, integer, boolean) AS IMPLICIT;
CREATE CAST (mvector AS mhalfvec) WITH FUNCTION mvector_to_mhalfvec(mvector, integer, boolean) AS IMPLICIT;
CREATE CAST (mhalfvec AS mvector) WITH FUNCTION mhalfvec_to_mvector(mhalfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (integer[] AS mhalfvec) WITH FUNCTION array_to_mhalfvec(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS mhalfvec) WITH FUNCTION array_to_mhalfvec(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS mhalfvec) WITH FUNCTION array_to_mhalfvec(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS mhalfvec) WITH FUNCTION array_to_mhalfvec(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (mhalfvec AS real[]) WITH FUNCTION mhalfvec_to_float4(mhalfvec, integer, boolean) AS ASSIGNMENT;

-- comparison: element by element, then by dimension count

CREATE FUNCTION mhalfvec_lt(mhalfvec, mhalfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_le(mhalfvec, mhalfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_eq(mhalfvec, mhalfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_ne(mhalfvec, mhalfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_ge(mhalfvec, mhalfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_gt(mhalfvec, mhalfvec) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_cmp(mhalfvec, mhalfvec) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_hash(mhalfvec) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR < (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mhalfvec_lt,
	COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mhalfvec_le,
	COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mhalfvec_eq,
	COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR <> (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mhalfvec_ne,
	COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mhalfvec_ge,
	COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mhalfvec_gt,
	COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

CREATE OPERATOR CLASS mhalfvec_ops DEFAULT FOR TYPE mhalfvec USING btree AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >,
	FUNCTION 1 mhalfvec_cmp(mhalfvec, mhalfvec);

CREATE OPERATOR CLASS mhalfvec_hash_ops DEFAULT FOR TYPE mhalfvec USING hash AS
	OPERATOR 1 =,
	FUNCTION 1 mhalfvec_hash(mhalfvec);

-- distances over all dimensions (operators) and over a prefix

CREATE FUNCTION mrl_l2_distance(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l2_squared_distance(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_l2_squared_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_inner_product(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_negative_inner_product(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_negative_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_cosine_distance(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l1_distance(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION mrl_l2_distance(mhalfvec, mhalfvec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_l2_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l2_squared_distance(mhalfvec, mhalfvec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_l2_squared_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_inner_product(mhalfvec, mhalfvec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_inner_product_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_negative_inner_product(mhalfvec, mhalfvec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_negative_inner_product_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_cosine_distance(mhalfvec, mhalfvec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_cosine_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l1_distance(mhalfvec, mhalfvec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_l1_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR <-> (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mrl_l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mrl_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mrl_cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = mhalfvec, RIGHTARG = mhalfvec, PROCEDURE = mrl_l1_distance, COMMUTATOR = '<+>');

-- norms and Matryoshka truncation

CREATE FUNCTION mrl_dims(mhalfvec) RETURNS integer
	AS 'MODULE_PATHNAME', 'mhalfvec_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_norm(mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_normalize(mhalfvec) RETURNS mhalfvec
	AS 'MODULE_PATHNAME', 'mhalfvec_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- renormalize, not normalize: NORMALIZE is a keyword, which named notation
-- would have to quote ("normalize" => true)
CREATE FUNCTION mrl_truncate(mhalfvec, integer, renormalize boolean DEFAULT false) RETURNS mhalfvec
	AS 'MODULE_PATHNAME', 'mhalfvec_truncate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_prefix(mhalfvec, integer) RETURNS mhalfvec
	AS 'MODULE_PATHNAME', 'mhalfvec_truncate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR # (LEFTARG = mhalfvec, RIGHTARG = integer, PROCEDURE = mrl_prefix);

-- pgvector's names, as on its halfvec

CREATE FUNCTION l2_distance(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION inner_product(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION cosine_distance(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l1_distance(mhalfvec, mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION vector_dims(mhalfvec) RETURNS integer
	AS 'MODULE_PATHNAME', 'mhalfvec_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l2_norm(mhalfvec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mhalfvec_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION l2_normalize(mhalfvec) RETURNS mhalfvec
	AS 'MODULE_PATHNAME', 'mhalfvec_normalize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION subvector(mhalfvec, integer, integer) RETURNS mhalfvec
	AS 'MODULE_PATHNAME', 'mhalfvec_subvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- funnel opclasses: the index codes the prefix of the widened floats and
-- reranks with the opclass's distance on the halves

CREATE OPERATOR CLASS mhalfvec_l2_ops DEFAULT FOR TYPE mhalfvec USING funnel AS
	OPERATOR 1 <-> (mhalfvec, mhalfvec) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_l2_distance(mhalfvec, mhalfvec),
	FUNCTION 2 mrl_funnel_l2_support(internal);
CREATE OPERATOR CLASS mhalfvec_ip_ops FOR TYPE mhalfvec USING funnel AS
	OPERATOR 1 <#> (mhalfvec, mhalfvec) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_negative_inner_product(mhalfvec, mhalfvec),
	FUNCTION 2 mrl_funnel_ip_support(internal);
CREATE OPERATOR CLASS mhalfvec_cosine_ops FOR TYPE mhalfvec USING funnel AS
	OPERATOR 1 <=> (mhalfvec, mhalfvec) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_cosine_distance(mhalfvec, mhalfvec),
	FUNCTION 2 mrl_funnel_cosine_support(internal);

-- The funnel's L1 opclasses, for <+> (sql/install/20_funnel.sql, 50_mhalfvec.sql).
CREATE FUNCTION mrl_funnel_l1_support(internal) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR CLASS mvector_l1_ops FOR TYPE mvector USING funnel AS
	OPERATOR 1 <+> (mvector, mvector) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_l1_distance(mvector, mvector),
	FUNCTION 2 mrl_funnel_l1_support(internal);
CREATE OPERATOR CLASS mhalfvec_l1_ops FOR TYPE mhalfvec USING funnel AS
	OPERATOR 1 <+> (mhalfvec, mhalfvec) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_l1_distance(mhalfvec, mhalfvec),
	FUNCTION 2 mrl_funnel_l1_support(internal);
COMMENT ON FUNCTION mrl_funnel_bound(mvector, mvector, integer, text, text) IS
	'lower bound of the distance a funnel index uses for row a and query q (metric l2, ip, cosine or l1)';

-- mint8vec, int8 codes with one scale per vector (sql/install/55_mint8vec.sql).
CREATE TYPE mint8vec;

CREATE FUNCTION mint8vec_in(cstring, oid, integer) RETURNS mint8vec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mint8vec_out(mint8vec) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mint8vec_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mint8vec_recv(internal, oid, integer) RETURNS mint8vec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mint8vec_send(mint8vec) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE mint8vec (
	INPUT = mint8vec_in,
	OUTPUT = mint8vec_out,
	TYPMOD_IN = mint8vec_typmod_in,
	RECEIVE = mint8vec_recv,
	SEND = mint8vec_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = main
);
COMMENT ON TYPE mint8vec IS 'Matryoshka embedding as int8 codes with one float4 scale, a quarter of the size of mvector';

-- casts

CREATE FUNCTION mint8vec(mint8vec, integer, boolean) RETURNS mint8vec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_to_mint8vec(mvector, integer, boolean) RETURNS mint8vec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mhalfvec_to_mint8vec(mhalfvec, integer, boolean) RETURNS mint8vec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mint8vec_to_mvector(mint8vec, integer, boolean) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mint8vec_to_mhalfvec(mint8vec, integer, boolean) RETURNS mhalfvec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mint8vec(integer[], integer, boolean) RETURNS mint8vec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mint8vec(real[], integer, boolean) RETURNS mint8vec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mint8vec(double precision[], integer, boolean) RETURNS mint8vec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mint8vec(numeric[], integer, boolean) RETURNS mint8vec
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (mint8vec AS mint8vec) WITH FUNCTION mint8vec(mint8vec, integer, boolean) AS IMPLICIT;
CREATE CAST (mvector AS mint8vec) WITH FUNCTION mvector_to_mint8vec(mvector, integer, boolean) AS IMPLICIT;
CREATE CAST (mhalfvec AS mint8vec) WITH FUNCTION mhalfvec_to_mint8vec(mhalfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (mint8vec AS mvector) WITH FUNCTION mint8vec_to_mvector(mint8vec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (mint8vec AS mhalfvec) WITH FUNCTION mint8vec_to_mhalfvec(mint8vec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (integer[] AS mint8vec) WITH FUNCTION array_to_mint8vec(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS mint8vec) WITH FUNCTION array_to_mint8vec(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS mint8vec) WITH FUNCTION array_to_mint8vec(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS mint8vec) WITH FUNCTION array_to_mint8vec(numeric[], integer, boolean) AS ASSIGNMENT;

-- distances over all dimensions (operators) and over a prefix

CREATE FUNCTION mrl_l2_distance(mint8vec, mint8vec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l2_squared_distance(mint8vec, mint8vec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_l2_squared_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_inner_product(mint8vec, mint8vec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_negative_inner_product(mint8vec, mint8vec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_negative_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_cosine_distance(mint8vec, mint8vec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l1_distance(mint8vec, mint8vec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION mrl_l2_distance(mint8vec, mint8vec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_l2_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l2_squared_distance(mint8vec, mint8vec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_l2_squared_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_inner_product(mint8vec, mint8vec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_inner_product_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_negative_inner_product(mint8vec, mint8vec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_negative_inner_product_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_cosine_distance(mint8vec, mint8vec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_cosine_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l1_distance(mint8vec, mint8vec, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_l1_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR <-> (LEFTARG = mint8vec, RIGHTARG = mint8vec, PROCEDURE = mrl_l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = mint8vec, RIGHTARG = mint8vec, PROCEDURE = mrl_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = mint8vec, RIGHTARG = mint8vec, PROCEDURE = mrl_cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = mint8vec, RIGHTARG = mint8vec, PROCEDURE = mrl_l1_distance, COMMUTATOR = '<+>');

-- norms, Matryoshka truncation, binary quantisation

CREATE FUNCTION mrl_dims(mint8vec) RETURNS integer
	AS 'MODULE_PATHNAME', 'mint8vec_dims' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_norm(mint8vec) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mint8vec_norm' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_truncate(mint8vec, integer, renormalize boolean DEFAULT false) RETURNS mint8vec
	AS 'MODULE_PATHNAME', 'mint8vec_truncate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_prefix(mint8vec, integer) RETURNS mint8vec
	AS 'MODULE_PATHNAME', 'mint8vec_truncate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR # (LEFTARG = mint8vec, RIGHTARG = integer, PROCEDURE = mrl_prefix);
-- a code is positive exactly where its value is
CREATE FUNCTION binary_quantize(mint8vec) RETURNS bit
	AS 'SELECT binary_quantize($1::mvector)' LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE;

-- funnel opclasses: the index codes the prefix of the values (codes times
-- the scale) and reranks with the opclass's distance on the codes

CREATE OPERATOR CLASS mint8vec_l2_ops DEFAULT FOR TYPE mint8vec USING funnel AS
	OPERATOR 1 <-> (mint8vec, mint8vec) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_l2_distance(mint8vec, mint8vec),
	FUNCTION 2 mrl_funnel_l2_support(internal);
CREATE OPERATOR CLASS mint8vec_ip_ops FOR TYPE mint8vec USING funnel AS
	OPERATOR 1 <#> (mint8vec, mint8vec) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_negative_inner_product(mint8vec, mint8vec),
	FUNCTION 2 mrl_funnel_ip_support(internal);
CREATE OPERATOR CLASS mint8vec_cosine_ops FOR TYPE mint8vec USING funnel AS
	OPERATOR 1 <=> (mint8vec, mint8vec) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_cosine_distance(mint8vec, mint8vec),
	FUNCTION 2 mrl_funnel_cosine_support(internal);
CREATE OPERATOR CLASS mint8vec_l1_ops FOR TYPE mint8vec USING funnel AS
	OPERATOR 1 <+> (mint8vec, mint8vec) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_l1_distance(mint8vec, mint8vec),
	FUNCTION 2 mrl_funnel_l1_support(internal);
