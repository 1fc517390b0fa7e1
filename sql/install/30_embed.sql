-- mrl: the in-database encoder: mrl_embed() and the model registry.

-- Registered models.  Everyone may read it (paths are not secrets); it is
-- changed only through the functions below, which check privileges.  A
-- stored model (sha256 set) lives in mrl_model_data; a file-backed one
-- (path set) in the operator's files; a remote one (server set) behind an
-- API.  Roles are kept by name, so a dump restores where they are missing
-- (mrl_models_restore_roles).
CREATE TABLE mrl_models (
	name text PRIMARY KEY,
	path text,
	arch text NOT NULL,
	dims integer NOT NULL,
	-- NULL for a remote model, whose API does not report them
	vocab integer,
	layers integer,
	max_tokens integer,
	size_bytes bigint,
	owner text NOT NULL,
	usable_by text[] NOT NULL DEFAULT '{}',
	public boolean NOT NULL DEFAULT false,
	registered_at timestamptz NOT NULL DEFAULT now(),
	-- of the manifest "<sha256 of the file>  <file>\n" of its files, in
	-- byte order of their names (sha256sum's format)
	sha256 text CONSTRAINT mrl_models_sha256_hex CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	-- a remote model's mrl_http server (sql/install/32_remote.sql), path
	-- being "openai:<model>" or "ollama:<model>"; NULL for a local model
	server text,
	-- true when the remote model takes dims => server-side ("dimensions")
	sends_dimensions boolean NOT NULL DEFAULT false,
	CONSTRAINT mrl_models_path_or_stored CHECK ((path IS NULL) <> (sha256 IS NULL))
);
SELECT pg_catalog.pg_extension_config_dump('mrl_models', '');
REVOKE ALL ON mrl_models FROM PUBLIC;
GRANT SELECT ON mrl_models TO PUBLIC;

-- The files of stored models, in chunks of 1 MiB: file is the path
-- relative to the model's directory, '' for a model that is one file.
-- Only the extension's owner reads it (the weights may be private).  The
-- chunks are written before their registration (whose hash they make), so
-- the foreign key is checked at commit.
CREATE TABLE mrl_model_data (
	model text NOT NULL REFERENCES mrl_models (name) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
	file text NOT NULL,
	chunk integer NOT NULL CHECK (chunk >= 0),
	data bytea NOT NULL,
	PRIMARY KEY (model, file, chunk)
);
-- weights do not compress: store them out of line as they are
ALTER TABLE mrl_model_data ALTER COLUMN data SET STORAGE EXTERNAL;
SELECT pg_catalog.pg_extension_config_dump('mrl_model_data', '');
REVOKE ALL ON mrl_model_data FROM PUBLIC;

-- A registration restored where its owner role does not exist goes to the
-- restoring user, and grants to missing roles are dropped, with a WARNING.
CREATE FUNCTION mrl_models_restore_roles() RETURNS trigger
	AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE TRIGGER mrl_models_restore_roles BEFORE INSERT ON mrl_models
	FOR EACH ROW EXECUTE FUNCTION mrl_models_restore_roles();

-- DROP EXTENSION removes the extension's files ($PGDATA/mrl_models/<database
-- oid>/).  The drop is seen by mrl.so, which a session may never have
-- loaded: this trigger loads it when a command that can drop the extension
-- starts (an event trigger of the extension itself fires at the start of
-- its DROP EXTENSION, not at sql_drop).  A missing mrl.so must not block
-- any DROP: that failure is only a WARNING.
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

CREATE FUNCTION mrl_register_model(name text, path text, store boolean DEFAULT false) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION mrl_register_model(text, text, boolean) IS
	'register a GGUF file or a Hugging Face / sentence-transformers directory as a named model, by path or (store => true) copied into the database (superusers and pg_read_server_files members)';
CREATE FUNCTION mrl_unregister_model(name text) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION mrl_grant_model(name text, role text) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION mrl_grant_model(text, text) IS 'let a role (or public) use a registered model';
CREATE FUNCTION mrl_revoke_model(name text, role text) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION mrl_builtin_model_info(OUT path text, OUT arch text, OUT dims integer,
	OUT vocab integer, OUT layers integer, OUT max_tokens integer, OUT size_bytes bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE;

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

-- STABLE, not IMMUTABLE: a registered name can point to another file later.
CREATE FUNCTION mrl_embed(input text, model text DEFAULT NULL, dims integer DEFAULT NULL,
	layers integer DEFAULT NULL) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_embed(text, text, integer, integer) IS
	'embed a text with a model (default: the built-in one); dims takes a Matryoshka prefix, layers runs only the first n layers';
CREATE FUNCTION mrl_embed(texts text[], model text DEFAULT NULL, dims integer DEFAULT NULL,
	layers integer DEFAULT NULL) RETURNS mvector[]
	AS 'MODULE_PATHNAME', 'mrl_embed_batch' LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_embed(text[], text, integer, integer) IS
	'embed many texts in one batched pass (the same vectors as one call each)';
