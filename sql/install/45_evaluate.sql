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
