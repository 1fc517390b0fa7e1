-- mrl: remote encoders: models served by an OpenAI-compatible or an Ollama
-- embedding API (README, Remote encoders).

-- An endpoint is a server of this wrapper; its options are readable by every
-- role, so the API key goes in a user mapping, which PostgreSQL hides from
-- other roles.  Only superusers may create servers until they grant USAGE on
-- the wrapper.
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
