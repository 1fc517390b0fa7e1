-- mrl: distances over all dimensions (operators) and over a prefix.

CREATE FUNCTION mrl_l2_distance(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_l2_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l2_squared_distance(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_l2_squared_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_inner_product(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_negative_inner_product(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_negative_inner_product' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_cosine_distance(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_cosine_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l1_distance(mvector, mvector) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_l1_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE FUNCTION mrl_l2_distance(mvector, mvector, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_l2_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l2_squared_distance(mvector, mvector, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_l2_squared_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_inner_product(mvector, mvector, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_inner_product_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_negative_inner_product(mvector, mvector, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_negative_inner_product_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_cosine_distance(mvector, mvector, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_cosine_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_l1_distance(mvector, mvector, integer) RETURNS double precision
	AS 'MODULE_PATHNAME', 'mvector_l1_distance_prefix' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION mrl_cosine_distance(mvector, mvector, integer) IS
	'cosine distance between the first d dimensions of each argument, read without copying the rest';

CREATE OPERATOR <-> (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mrl_l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mrl_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mrl_cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mrl_l1_distance, COMMUTATOR = '<+>');
