-- mrl: pgvector's function names on mvector, and its bit distances.
--
-- A query written for pgvector runs unchanged on an mvector column.  Each
-- name is a new SQL entry point to the C function mrl already has.  The
-- mvector overloads coexist with pgvector's (the argument types differ);
-- the bit distances are declared on mrl_bit, a domain over bit, because
-- pgvector declares the same names on bit itself: with pgvector installed
-- its exact (bit, bit) match is chosen, without it a bit argument converts
-- to mrl_bit, and either order of CREATE EXTENSION works.

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
