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
