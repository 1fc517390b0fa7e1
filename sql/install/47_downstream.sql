-- mrl: downstream tasks per Matryoshka prefix size: classification and
-- clustering of a labelled table of texts.

-- labelled(id, body, label[, fold]): id an integer or text type, unique,
-- not null; label an integer or text type, not null; fold (optional, an
-- integer type) a fixed split for classification: each distinct value is
-- tested against the other rows, NULL rows are only trained on.
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
