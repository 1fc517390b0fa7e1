-- mrl_evaluate on hand-checked toy collections, checked against values
-- worked out by hand (full-text, identical texts) and against a plain SQL
-- computation of the metrics (prefix); then its errors; then mrl_pca_fit /
-- mrl_pca_apply properties and errors (their numbers are checked against
-- numpy in test/suites/45_pca.sh).
SET client_min_messages = warning;
SET extra_float_digits = 0;

CREATE TABLE ev_docs (id int, body text);
INSERT INTO ev_docs VALUES (1, 'apple banana'), (2, 'apple apple cherry'),
	(3, 'banana cherry date'), (4, 'elderberry fig'), (5, 'grape');
-- text query ids, bigint doc ids in qrels: ids match by their text form
CREATE TABLE ev_queries (id text, body text);
INSERT INTO ev_queries VALUES ('q1', 'apple'), ('q2', 'banana date'),
	('q3', 'fig grape'), ('q4', 'zucchini'), ('q5', 'the');
CREATE TABLE ev_qrels (query_id text, doc_id bigint, relevance int);
INSERT INTO ev_qrels VALUES ('q1', 1, 2), ('q1', 2, 1), ('q2', 1, 1), ('q2', 5, 1),
	('q3', 5, 3), ('q4', 4, 1),
	('q5', 1, 0),		-- q5 has no relevant document: not scored
	('q1', 99, 1),		-- unknown doc id: ignored
	('q1', 3, NULL);	-- NULL grade: ignored

-- Full text: ts_rank_cd of an OR query gives 0.1 per occurrence of a query
-- term here (one-word covers, weight D = 0.1), ties by id.  Rankings:
--   q1 'apple':       d2 (0.2), d1 (0.1)
--   q2 'banana date': d3 (0.2), d1 (0.1)
--   q3 'fig grape':   d4 (0.1), d5 (0.1)
--   q4 'zucchini':    nothing
-- With L = log2(3) = 1.5849625:
--   q1: DCG = 1/1 + 2/L = 2.2618595, IDCG = 2/1 + 1/L = 2.6309298,
--       nDCG = 0.8597187; recall 2/2; MRR 1/1
--   q2: DCG = 1/L = 0.6309298, IDCG = 1 + 1/L = 1.6309298,
--       nDCG = 0.3868528; recall 1/2 (d5 not retrieved); MRR 1/2
--   q3: DCG = 3/L = 1.8927893, IDCG = 3, nDCG = 0.6309298; recall 1; MRR 1/2
--   q4: all 0
-- Means over the 4 scored queries: nDCG = 1.8775013 / 4 = 0.4693753,
-- Recall@10 = Recall@100 = 2.5 / 4 = 0.625, MRR@10 = 2 / 4 = 0.5.
SET client_min_messages = notice;	-- the unknown doc id is reported
SELECT dims, method, round(ndcg_at_10::numeric, 7) AS ndcg_at_10, recall_at_10,
	recall_at_100, mrr_at_10
FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', dims => '{16}', baselines => '{fulltext}')
WHERE method = 'fulltext';
SET client_min_messages = warning;

-- Queries identical to their one relevant document: with any model the
-- document has cosine 1 and ranks first, at every prefix size, and after
-- PCA (the same input projects to the same point): every metric is 1.
CREATE TABLE ev_same_q AS SELECT id * 10 AS id, body FROM ev_docs;
CREATE TABLE ev_same_rel AS SELECT id * 10 AS query_id, id AS doc_id, 1 AS relevance FROM ev_docs;
SELECT * FROM mrl_evaluate('ev_same_q', 'ev_same_rel', 'ev_docs', 'mrl-default',
	'{2,16,256}', '{pca}');

-- The prefix method against the same metrics computed in SQL from
-- mrl_embed's re-normalised prefixes (cosine ranking, ties by id).
CREATE FUNCTION ev_reference(d int) RETURNS TABLE (ndcg float8, recall10 float8, mrr float8)
LANGUAGE sql AS $$
	WITH ranked AS (
		SELECT q.id AS qid, dd.id AS did,
			row_number() OVER (PARTITION BY q.id
				ORDER BY mrl_cosine_distance(mrl_embed(q.body, dims => d), mrl_embed(dd.body, dims => d)), dd.id) AS rank
		FROM ev_queries q, ev_docs dd),
	rel AS (SELECT query_id AS qid, doc_id::int AS did, relevance FROM ev_qrels
		WHERE relevance > 0 AND doc_id IN (SELECT id FROM ev_docs)),
	per_query AS (
		SELECT r.qid,
			sum(CASE WHEN k.rank <= 10 THEN r.relevance / log(2, k.rank + 1) ELSE 0 END) AS dcg,
			(SELECT sum(g / log(2, i + 1)) FROM (SELECT r2.relevance AS g,
				row_number() OVER (ORDER BY r2.relevance DESC) AS i FROM rel r2 WHERE r2.qid = r.qid) s
				WHERE i <= 10) AS idcg,
			avg(CASE WHEN k.rank <= 10 THEN 1.0 ELSE 0.0 END) AS recall10,
			max(CASE WHEN k.rank <= 10 THEN 1.0 / k.rank ELSE 0 END) AS rr
		FROM rel r JOIN ranked k ON k.qid = r.qid AND k.did = r.did
		GROUP BY r.qid)
	SELECT avg(dcg / idcg), avg(recall10), avg(rr) FROM per_query
$$;
SELECT e.dims, abs(e.ndcg_at_10 - r.ndcg) < 1e-6 AS ndcg_ok,
	abs(e.recall_at_10 - r.recall10) < 1e-9 AS recall_ok, abs(e.mrr_at_10 - r.mrr) < 1e-9 AS mrr_ok
FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', dims => '{2,4,16,64,256}') e,
	LATERAL ev_reference(e.dims) r
ORDER BY e.dims;

-- a view works, and so does a quoted, schema-qualified name
CREATE SCHEMA "Ev Schema";
CREATE VIEW "Ev Schema"."Docs View" AS SELECT id, body::varchar AS body FROM ev_docs;
SELECT dims, method, round(ndcg_at_10::numeric, 7) AS ndcg_at_10
FROM mrl_evaluate('ev_queries', 'ev_qrels', '"Ev Schema"."Docs View"', dims => '{8}', baselines => '{fulltext}')
WHERE method = 'fulltext';

-- Views whose rows change at every read (issue 10 item 1: this crashed the
-- server): docs, queries and qrels each grow when read again.  Each table
-- is read once, so the collection is the one first read: each query is the
-- text of its one relevant document, which ranks first (all metrics 1);
-- the full-text baseline's second read skips the rows the first did not see.
CREATE SEQUENCE ev_grow;
CREATE VIEW ev_grow_docs AS SELECT g AS id, 'doc ' || g AS body
	FROM generate_series(1, (nextval('ev_grow') * 1000)::int) g;
CREATE VIEW ev_grow_queries AS SELECT g AS id, 'doc ' || g AS body
	FROM generate_series(1, (nextval('ev_grow') * 5)::int) g;
CREATE VIEW ev_grow_qrels AS SELECT g AS query_id, g AS doc_id, 1 AS relevance
	FROM generate_series(1, (nextval('ev_grow') * 5)::int) g;
SELECT * FROM mrl_evaluate('ev_grow_queries', 'ev_grow_qrels', 'ev_grow_docs',
	dims => '{256}', baselines => '{fulltext}');

-- errors, with their SQLSTATEs
CREATE FUNCTION ev_error(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', dims => '{0}')$$);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', dims => '{257}')$$);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', dims => '{}')$$);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', dims => '{16,NULL}')$$);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', dims => NULL)$$);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', baselines => '{bm25}')$$);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', NULL)$$);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_docs', model => 'no-such-model')$$);
CREATE TABLE ev_nobody (id int, text text);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_nobody')$$);
CREATE TABLE ev_badrel (query_id text, doc_id int, relevance text);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_badrel', 'ev_docs')$$);
CREATE TABLE ev_floatid (id float8, body text);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_floatid', 'ev_qrels', 'ev_docs')$$);
CREATE TABLE ev_empty (id int, body text);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_empty', 'ev_qrels', 'ev_docs')$$);
CREATE TABLE ev_dup (id int, body text);
INSERT INTO ev_dup VALUES (1, 'a'), (1, 'b');
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_qrels', 'ev_dup')$$);
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_same_rel', 'ev_docs')$$);
CREATE TABLE ev_twice AS SELECT * FROM ev_qrels UNION ALL SELECT 'q1', 1, 1;
SELECT ev_error($$SELECT * FROM mrl_evaluate('ev_queries', 'ev_twice', 'ev_docs')$$);

-- mrl_pca_fit: points on the line y = x: mean (2, 2), one direction
-- (1, 1) / sqrt 2 = 0.7071068 (largest coordinate positive; both equal)
SELECT (SELECT array_agg(round(x::numeric, 6)) FROM unnest(p[1]::real[]) x) AS mean,
	(SELECT array_agg(round(x::numeric, 6)) FROM unnest(p[2]::real[]) x) AS direction
FROM (SELECT mrl_pca_fit(v, 1) AS p
	FROM (VALUES ('[1,1]'::mvector), ('[2,2]'), ('[3,3]'), (NULL)) t(v)) s;
-- a 2 x 1 rectangle's corners: variance 4/3 along x, 1/3 along y, so the
-- directions are (1, 0) then (0, 1); (2, 1) - mean (1, 0.5) projects to
-- (1, 0.5), and (0, 0) to (-1, -0.5)
CREATE TABLE ev_pts (v mvector);
INSERT INTO ev_pts VALUES ('[0,0]'), ('[2,0]'), ('[0,1]'), ('[2,1]');
CREATE TABLE ev_pca AS SELECT mrl_pca_fit(v, 2) AS p FROM ev_pts;
SELECT array_length(p, 1) AS elements, p[1] AS mean, p[2] AS first, p[3] AS second FROM ev_pca;
SELECT mrl_pca_apply(p, '[2,1]') AS far_corner, mrl_pca_apply(p, '[0,0]') AS origin,
	mrl_pca_apply(p[1:2], '[2,1]') AS first_only FROM ev_pca;
-- errors
SELECT ev_error($$SELECT mrl_pca_fit(v, 0) FROM ev_pts$$);
SELECT ev_error($$SELECT mrl_pca_fit(v, 3) FROM ev_pts$$);
SELECT ev_error($$SELECT mrl_pca_fit(v, 2) FROM ev_pts WHERE v <> '[0,0]' AND v <> '[2,0]'$$);
SELECT ev_error($$SELECT mrl_pca_fit(v, 1) FROM ev_pts WHERE false$$);
SELECT ev_error($$SELECT mrl_pca_fit(v, 1) FROM (VALUES ('[1,2]'::mvector), ('[1,2,3]')) t(v)$$);
SELECT ev_error($$SELECT mrl_pca_fit(v, c) FROM (VALUES ('[1,2]'::mvector, 1), ('[3,4]', 2)) t(v, c)$$);
SELECT ev_error($$SELECT mrl_pca_fit(v, NULL) FROM ev_pts$$);
SELECT ev_error($$SELECT mrl_pca_apply(p, '[1,2,3]') FROM ev_pca$$);
SELECT ev_error($$SELECT mrl_pca_apply(p[1:1], '[1,2]') FROM ev_pca$$);
SELECT ev_error($$SELECT mrl_pca_apply(ARRAY[p[1], NULL], '[1,2]') FROM ev_pca$$);
SELECT ev_error($$SELECT mrl_pca_apply(ARRAY[p[1], '[1,2,3]'], '[1,2]') FROM ev_pca$$);
