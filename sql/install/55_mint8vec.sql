-- mrl: mint8vec, Matryoshka embeddings as int8 codes with one scale per
-- vector (README: Storage).
--
-- A quarter of mvector's bytes, for users who keep full vectors elsewhere:
-- the same distances, truncation and funnel opclasses.  Casts as mhalfvec's:
-- mvector -> mint8vec is implicit (an mvector query meets a mint8vec column
-- and its index), the others are assignment casts.

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
