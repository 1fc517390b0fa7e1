-- mrl 0.1.0: the mvector type.

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
CREATE TYPE mvector (
	INPUT = mvector_in,
	OUTPUT = mvector_out,
	TYPMOD_IN = mvector_typmod_in,
	RECEIVE = mvector_recv,
	SEND = mvector_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = main
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
CREATE FUNCTION mrl_truncate(mvector, integer, "normalize" boolean DEFAULT false) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mrl_truncate(mvector, integer, boolean) IS
	'the first d dimensions, re-normalised to unit length when normalize is true';

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
-- mrl 0.1.0: distances over all dimensions (operators) and over a prefix.

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
-- mrl 0.1.0: the funnel index access method (coarse prefix, full rerank).

CREATE FUNCTION funnel_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE ACCESS METHOD funnel TYPE INDEX HANDLER funnel_handler;
COMMENT ON ACCESS METHOD funnel IS
	'Matryoshka funnel index: shortlist on a coarse prefix, rerank on all dimensions';

-- Support function 2 tells the index which distance its opclass orders by.
CREATE FUNCTION mrl_funnel_l2_support(internal) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_funnel_ip_support(internal) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_funnel_cosine_support(internal) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS mvector_l2_ops DEFAULT FOR TYPE mvector USING funnel AS
	OPERATOR 1 <-> (mvector, mvector) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_l2_distance(mvector, mvector),
	FUNCTION 2 mrl_funnel_l2_support(internal);
CREATE OPERATOR CLASS mvector_ip_ops FOR TYPE mvector USING funnel AS
	OPERATOR 1 <#> (mvector, mvector) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_negative_inner_product(mvector, mvector),
	FUNCTION 2 mrl_funnel_ip_support(internal);
CREATE OPERATOR CLASS mvector_cosine_ops FOR TYPE mvector USING funnel AS
	OPERATOR 1 <=> (mvector, mvector) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_cosine_distance(mvector, mvector),
	FUNCTION 2 mrl_funnel_cosine_support(internal);

CREATE FUNCTION mrl_funnel_bound(a mvector, q mvector, coarse_dims integer,
								 "precision" text, metric text) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mrl_funnel_bound(mvector, mvector, integer, text, text) IS
	'lower bound of the distance a funnel index uses for row a and query q (metric l2, ip or cosine)';
-- mrl 0.1.0: the in-database encoder: mrl_embed() and the model registry.

-- Registered models.  Everyone may read it (paths are not secrets); it is
-- changed only through the functions below, which check privileges.
CREATE TABLE mrl_models (
	name text PRIMARY KEY,
	path text NOT NULL,
	arch text NOT NULL,
	dims integer NOT NULL,
	vocab integer NOT NULL,
	layers integer NOT NULL,
	max_tokens integer NOT NULL,
	size_bytes bigint NOT NULL,
	owner regrole NOT NULL,
	usable_by regrole[] NOT NULL DEFAULT '{}',
	public boolean NOT NULL DEFAULT false,
	registered_at timestamptz NOT NULL DEFAULT now()
);
SELECT pg_catalog.pg_extension_config_dump('mrl_models', '');
REVOKE ALL ON mrl_models FROM PUBLIC;
GRANT SELECT ON mrl_models TO PUBLIC;

CREATE FUNCTION mrl_register_model(name text, path text) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION mrl_register_model(text, text) IS
	'register a GGUF file or a Hugging Face / sentence-transformers directory as a named model (superusers and pg_read_server_files members)';
CREATE FUNCTION mrl_unregister_model(name text) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
CREATE FUNCTION mrl_grant_model(name text, role text) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;
COMMENT ON FUNCTION mrl_grant_model(text, text) IS 'let a role (or public) use a registered model';
CREATE FUNCTION mrl_revoke_model(name text, role text) RETURNS void
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT VOLATILE;

CREATE FUNCTION mrl_builtin_model_info(OUT path text, OUT arch text, OUT dims integer,
	OUT vocab integer, OUT layers integer, OUT max_tokens integer, OUT size_bytes bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE;

CREATE VIEW mrl_model_info AS
	SELECT 'mrl-default'::text AS name, b.arch, b.dims, b.vocab, b.layers, b.max_tokens,
		b.path, b.size_bytes, NULL::regrole AS owner, true AS public, '{}'::regrole[] AS usable_by
	FROM mrl_builtin_model_info() b
	UNION ALL
	SELECT name, arch, dims, vocab, layers, max_tokens, path, size_bytes, owner, public, usable_by
	FROM mrl_models;
GRANT SELECT ON mrl_model_info TO PUBLIC;

-- STABLE, not IMMUTABLE: a registered name can point to another file later.
CREATE FUNCTION mrl_embed(input text, model text DEFAULT NULL, dims integer DEFAULT NULL,
	layers integer DEFAULT NULL) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_embed(text, text, integer, integer) IS
	'embed a text with a model (default: the built-in one); dims takes a Matryoshka prefix, layers runs only the first n layers';
CREATE FUNCTION mrl_embed(texts text[], model text DEFAULT NULL, dims integer DEFAULT NULL,
	layers integer DEFAULT NULL) RETURNS mvector[]
	AS 'MODULE_PATHNAME', 'mrl_embed_batch' LANGUAGE C STABLE PARALLEL SAFE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_embed(text[], text, integer, integer) IS
	'embed many texts in one batched pass (the same vectors as one call each)';
-- mrl 0.1.0: Matryoshka training of static models on your own pairs.

CREATE FUNCTION mrl_train(name text, pairs text,
	dims integer[] DEFAULT '{32,64,128,256}', base text DEFAULT 'mrl-default',
	epochs integer DEFAULT 1, batch_size integer DEFAULT 256,
	learning_rate double precision DEFAULT 0.05, dim_weights real[] DEFAULT NULL,
	seed bigint DEFAULT 42,
	OUT model text, OUT steps bigint, OUT pairs_used bigint,
	OUT first_loss double precision, OUT last_loss double precision, OUT path text)
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_train(text, text, integer[], text, integer, integer, double precision, real[], bigint) IS
	'train a static Matryoshka model on (anchor, positive[, hard negative]) text pairs from a query, and register it';
-- mrl 0.1.0: evaluation: retrieval quality per Matryoshka prefix size, and PCA.

-- queries(id, body), docs(id, body): id an integer or text type, unique,
-- not null; qrels(query_id, doc_id, relevance integer), > 0 = relevant.
CREATE FUNCTION mrl_evaluate(queries regclass, qrels regclass, docs regclass,
	model text DEFAULT NULL, dims integer[] DEFAULT '{16,32,64,128,256}',
	baselines text[] DEFAULT '{}')
	RETURNS TABLE(dims integer, method text, ndcg_at_10 float8, recall_at_10 float8,
		recall_at_100 float8, mrr_at_10 float8)
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_evaluate(regclass, regclass, regclass, text, integer[], text[]) IS
	'nDCG@10, Recall@10/100, MRR@10 of a model at each prefix size (method prefix), with optional pca and fulltext baselines';

CREATE FUNCTION mrl_pca_fit_accum(internal, mvector, integer) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION mrl_pca_fit_final(internal) RETURNS mvector[]
	AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE AGGREGATE mrl_pca_fit(emb mvector, components integer) (
	SFUNC = mrl_pca_fit_accum,
	STYPE = internal,
	FINALFUNC = mrl_pca_fit_final,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE mrl_pca_fit(mvector, integer) IS
	'PCA of the vectors: {mean, direction 1, ..., direction k}, directions by falling variance';

CREATE FUNCTION mrl_pca_apply(pca mvector[], v mvector) RETURNS mvector
	AS 'MODULE_PATHNAME', 'mrl_pca_apply_mvector' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mrl_pca_apply(mvector[], mvector) IS
	'project a vector on a PCA from mrl_pca_fit: (v - mean) . direction for each direction, in order of variance';
