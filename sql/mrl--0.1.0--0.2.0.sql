-- mrl 0.1.0 -> 0.2.0: what changed in the SQL objects (CHANGELOG.md).

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION mrl UPDATE TO '0.2.0'" to load this file. \quit

-- Only the registry row that mrl_train created owns (and may remove) its
-- directory; rows registered before 0.2.0 own nothing.
ALTER TABLE mrl_models ADD COLUMN owns_files boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX mrl_models_owned_path ON mrl_models (path) WHERE owns_files;

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

-- Remote encoders (sql/install/32_remote.sql): a remote model's row names its
-- server, and NULL stands for the shapes its API does not report.
ALTER TABLE mrl_models ALTER COLUMN vocab DROP NOT NULL, ALTER COLUMN layers DROP NOT NULL,
	ALTER COLUMN max_tokens DROP NOT NULL, ALTER COLUMN size_bytes DROP NOT NULL,
	ADD COLUMN server text, ADD COLUMN sends_dimensions boolean NOT NULL DEFAULT false;
CREATE OR REPLACE VIEW mrl_model_info AS
	SELECT 'mrl-default'::text AS name, b.arch, b.dims, b.vocab, b.layers, b.max_tokens,
		b.path, b.size_bytes, NULL::regrole AS owner, true AS public, '{}'::regrole[] AS usable_by,
		NULL::text AS server, false AS sends_dimensions
	FROM mrl_builtin_model_info() b
	UNION ALL
	SELECT name, arch, dims, vocab, layers, max_tokens, path, size_bytes, owner, public, usable_by,
		server, sends_dimensions
	FROM mrl_models;
CREATE FUNCTION mrl_http_validator(text[], oid) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE FOREIGN DATA WRAPPER mrl_http VALIDATOR mrl_http_validator;
COMMENT ON FOREIGN DATA WRAPPER mrl_http IS
	'embedding API endpoints for mrl_embed: servers take url and limits, user mappings an api_key';
CREATE FUNCTION mrl_register_model(name text, model text, server text) RETURNS void
	AS 'MODULE_PATHNAME', 'mrl_register_remote_model' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION mrl_register_model(text, text, text) IS
	'register openai:<model> or ollama:<model> served by an mrl_http server (needs USAGE on the server)';
