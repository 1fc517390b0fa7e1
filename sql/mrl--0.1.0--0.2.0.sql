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

-- A structural check of a funnel index (sql/install/20_funnel.sql).
CREATE FUNCTION mrl_funnel_check(index regclass) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION mrl_funnel_check(regclass) IS
	'structural check of a funnel index (chains, pages, one entry per heap row); returns its entries';
