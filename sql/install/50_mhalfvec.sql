-- mrl: mhalfvec, Matryoshka embeddings in half precision (README: Storage).
--
-- Half the bytes of mvector, the same distances, truncation and funnel
-- opclasses.  Casts follow pgvector's halfvec: mvector -> mhalfvec is
-- implicit (an mvector query meets an mhalfvec column and its index),
-- mhalfvec -> mvector and -> real[] are assignment casts.

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
CREATE OPERATOR CLASS mhalfvec_l1_ops FOR TYPE mhalfvec USING funnel AS
	OPERATOR 1 <+> (mhalfvec, mhalfvec) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_l1_distance(mhalfvec, mhalfvec),
	FUNCTION 2 mrl_funnel_l1_support(internal);
