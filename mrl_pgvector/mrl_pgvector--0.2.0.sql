-- mrl_pgvector: casts between mrl's types and pgvector's (README: Coming from pgvector).

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION mrl_pgvector" to load this file. \quit

-- Same precision, same bytes: pgvector's vector and mvector are both a
-- varlena header, int16 dim, int16 unused and the float4 elements; halfvec
-- and mhalfvec the same with half elements.  These casts relabel the value
-- (no function, no copy; ALTER TABLE ... TYPE mvector USING emb::mvector
-- does not rewrite the table); a typmod is checked by the target type's
-- length coercion.  From pgvector's types they are implicit, so a query
-- parameter typed vector meets an mvector column and its funnel index.
CREATE CAST (vector AS mvector) WITHOUT FUNCTION AS IMPLICIT;
CREATE CAST (mvector AS vector) WITHOUT FUNCTION AS ASSIGNMENT;
CREATE CAST (halfvec AS mhalfvec) WITHOUT FUNCTION AS IMPLICIT;
CREATE CAST (mhalfvec AS halfvec) WITHOUT FUNCTION AS ASSIGNMENT;

-- Across precisions: mrl's own conversions (exact widening; rounding to the
-- nearest half, out of range past 65504), which read the pgvector type as
-- the mrl type of the same layout.  Assignment casts: a conversion that
-- rounds is never chosen silently.
CREATE FUNCTION mrl_halfvec_to_mvector(halfvec, integer, boolean) RETURNS mvector
	AS 'MODULE_PATHNAME', 'mhalfvec_to_mvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_mvector_to_halfvec(mvector, integer, boolean) RETURNS halfvec
	AS 'MODULE_PATHNAME', 'mvector_to_mhalfvec' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_vector_to_mhalfvec(vector, integer, boolean) RETURNS mhalfvec
	AS 'MODULE_PATHNAME', 'mvector_to_mhalfvec' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_mhalfvec_to_vector(mhalfvec, integer, boolean) RETURNS vector
	AS 'MODULE_PATHNAME', 'mhalfvec_to_mvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE CAST (halfvec AS mvector) WITH FUNCTION mrl_halfvec_to_mvector(halfvec, integer, boolean) AS ASSIGNMENT;
CREATE CAST (mvector AS halfvec) WITH FUNCTION mrl_mvector_to_halfvec(mvector, integer, boolean) AS ASSIGNMENT;
CREATE CAST (vector AS mhalfvec) WITH FUNCTION mrl_vector_to_mhalfvec(vector, integer, boolean) AS ASSIGNMENT;
CREATE CAST (mhalfvec AS vector) WITH FUNCTION mrl_mhalfvec_to_vector(mhalfvec, integer, boolean) AS ASSIGNMENT;
