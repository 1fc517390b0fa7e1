-- mrl: the mvector type.

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION mrl" to load this file. \quit

CREATE TYPE mvector;

CREATE FUNCTION mvector_in(cstring, oid, integer) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_out(mvector) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_typmod_in(cstring[]) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_recv(internal, oid, integer) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_send(mvector) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- STORAGE main keeps vectors up to ~2,000 dims inline in the heap tuple
-- (see README, "Storage"): a scan reads them without a TOAST lookup.
-- PREFERRED: an untyped literal where mvector and mhalfvec (or pgvector's
-- types) would both fit reads as mvector, so mrl_l2_distance('[1,2]',
-- '[3,4]') stays unambiguous.
CREATE TYPE mvector (
	INPUT = mvector_in,
	OUTPUT = mvector_out,
	TYPMOD_IN = mvector_typmod_in,
	RECEIVE = mvector_recv,
	SEND = mvector_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = main,
	PREFERRED = true
);
COMMENT ON TYPE mvector IS 'Matryoshka embedding: a vector of float4 whose prefixes are embeddings too';

-- casts

CREATE FUNCTION mvector(mvector, integer, boolean) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mvector(integer[], integer, boolean) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mvector(real[], integer, boolean) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mvector(double precision[], integer, boolean) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION array_to_mvector(numeric[], integer, boolean) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_to_float4(mvector, integer, boolean) RETURNS real[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (mvector AS mvector) WITH FUNCTION mvector(mvector, integer, boolean) AS IMPLICIT;
CREATE CAST (integer[] AS mvector) WITH FUNCTION array_to_mvector(integer[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (real[] AS mvector) WITH FUNCTION array_to_mvector(real[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (double precision[] AS mvector) WITH FUNCTION array_to_mvector(double precision[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (numeric[] AS mvector) WITH FUNCTION array_to_mvector(numeric[], integer, boolean) AS ASSIGNMENT;
CREATE CAST (mvector AS real[]) WITH FUNCTION mvector_to_float4(mvector, integer, boolean) AS IMPLICIT;

-- comparison: element by element, then by dimension count

CREATE FUNCTION mvector_lt(mvector, mvector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_le(mvector, mvector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_eq(mvector, mvector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_ne(mvector, mvector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_ge(mvector, mvector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_gt(mvector, mvector) RETURNS bool
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_cmp(mvector, mvector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_hash(mvector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR < (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_lt,
	COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel);
CREATE OPERATOR <= (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_le,
	COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel);
CREATE OPERATOR = (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_eq,
	COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES);
CREATE OPERATOR <> (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_ne,
	COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel);
CREATE OPERATOR >= (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_ge,
	COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel);
CREATE OPERATOR > (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_gt,
	COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel);

CREATE OPERATOR CLASS mvector_ops DEFAULT FOR TYPE mvector USING btree AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >,
	FUNCTION 1 mvector_cmp(mvector, mvector);

CREATE OPERATOR CLASS mvector_hash_ops DEFAULT FOR TYPE mvector USING hash AS
	OPERATOR 1 =,
	FUNCTION 1 mvector_hash(mvector);

-- element-wise arithmetic and concatenation

CREATE FUNCTION mvector_add(mvector, mvector) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_sub(mvector, mvector) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_mul(mvector, mvector) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_concat(mvector, mvector) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR + (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_add, COMMUTATOR = +);
CREATE OPERATOR - (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_sub);
CREATE OPERATOR * (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_mul, COMMUTATOR = *);
CREATE OPERATOR || (LEFTARG = mvector, RIGHTARG = mvector, PROCEDURE = mvector_concat);

CREATE FUNCTION mrl_concat(mvector, mvector) RETURNS mvector
	AS 'MODULE_PATHNAME', 'mvector_concat' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- norms and Matryoshka truncation

CREATE FUNCTION mrl_dims(mvector) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_norm(mvector) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_normalize(mvector) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
-- renormalize, not normalize: NORMALIZE is a keyword, which named notation
-- would have to quote ("normalize" => true)
CREATE FUNCTION mrl_truncate(mvector, integer, renormalize boolean DEFAULT false) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mrl_truncate(mvector, integer, boolean) IS
	'the first d dimensions, re-normalised to unit length when renormalize is true';

-- v # d: the plain prefix, the same as mrl_truncate(v, d)
CREATE FUNCTION mrl_prefix(mvector, integer) RETURNS mvector
	AS 'MODULE_PATHNAME', 'mrl_truncate' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR # (LEFTARG = mvector, RIGHTARG = integer, PROCEDURE = mrl_prefix);

-- aggregates (parallel: the state is float8[] {count, sums...})

CREATE FUNCTION mvector_accum(double precision[], mvector) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_combine(double precision[], double precision[]) RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_avg(double precision[]) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mvector_sum(double precision[]) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE AGGREGATE avg(mvector) (
	SFUNC = mvector_accum, STYPE = double precision[], FINALFUNC = mvector_avg,
	COMBINEFUNC = mvector_combine, INITCOND = '{0}', PARALLEL = SAFE);
CREATE AGGREGATE sum(mvector) (
	SFUNC = mvector_accum, STYPE = double precision[], FINALFUNC = mvector_sum,
	COMBINEFUNC = mvector_combine, INITCOND = '{0}', PARALLEL = SAFE);

CREATE FUNCTION mrl_simd_kernels() RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mrl_simd_kernels() IS 'the distance kernels in use: avx512, avx2 or scalar';
