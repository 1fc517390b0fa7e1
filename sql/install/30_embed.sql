-- mrl: the in-database encoder: mrl_embed() and the model registry.

-- Registered models.  Everyone may read it (paths are not secrets); it is
-- changed only through the functions below, which check privileges.
CREATE TABLE mrl_models (
	name text PRIMARY KEY,
	path text NOT NULL,
	arch text NOT NULL,
	dims integer NOT NULL,
	-- NULL for a remote model, whose API does not report them
	vocab integer,
	layers integer,
	max_tokens integer,
	size_bytes bigint,
	owner regrole NOT NULL,
	usable_by regrole[] NOT NULL DEFAULT '{}',
	public boolean NOT NULL DEFAULT false,
	registered_at timestamptz NOT NULL DEFAULT now(),
	-- true only for a model mrl_train wrote: its row owns the directory and
	-- unregistering it removes the files; a path registered by hand never is
	owns_files boolean NOT NULL DEFAULT false,
	-- a remote model's mrl_http server (sql/install/32_remote.sql), path
	-- being "openai:<model>" or "ollama:<model>"; NULL for a local model
	server text,
	-- true when the remote model takes dims => server-side ("dimensions")
	sends_dimensions boolean NOT NULL DEFAULT false
);
-- two rows never own the same directory
CREATE UNIQUE INDEX mrl_models_owned_path ON mrl_models (path) WHERE owns_files;
SELECT pg_catalog.pg_extension_config_dump('mrl_models', '');
REVOKE ALL ON mrl_models FROM PUBLIC;
GRANT SELECT ON mrl_models TO PUBLIC;

CREATE FUNCTION mrl_register_model(name text, path text) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION mrl_register_model(text, text) IS
	'register a GGUF file or a Hugging Face / sentence-transformers directory as a named model (superusers and pg_read_server_files members)';
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
		b.path, b.size_bytes, NULL::regrole AS owner, true AS public, '{}'::regrole[] AS usable_by,
		NULL::text AS server, false AS sends_dimensions
	FROM mrl_builtin_model_info() b
	UNION ALL
	SELECT name, arch, dims, vocab, layers, max_tokens, path, size_bytes, owner, public, usable_by,
		server, sends_dimensions
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
