-- make demo: what mrl does today, end to end, in a throwaway cluster.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION mrl;

\echo '== 1. The mvector type: Matryoshka embeddings whose every prefix is an embedding'
-- 2,000 synthetic 256-dim unit vectors with Matryoshka structure: 20 topics,
-- information concentrated in the early dims (per-dim scale decays).
SELECT setseed(0.42) \g /dev/null
CREATE TEMP TABLE centre AS
	SELECT t, j, random() * 2 - 1 AS c FROM generate_series(0, 19) t, generate_series(1, 256) j;
CREATE TABLE docs (id int PRIMARY KEY, topic int, emb mvector(256));
INSERT INTO docs
SELECT i, i % 20, mrl_normalize(array_agg((c + 0.8 * (random() * 2 - 1)) / sqrt(1 + j / 8.0) ORDER BY j)::mvector)
FROM generate_series(1, 2000) i JOIN centre ON t = i % 20 GROUP BY i;
SELECT id, topic, mrl_dims(emb) AS dims, round(mrl_norm(emb)::numeric, 4) AS norm,
	substr((emb # 4)::text, 1, 60) AS first_4_dims
FROM docs ORDER BY id LIMIT 3;

\echo '== 2. Truncate: the 32-dim prefix, re-normalised to unit length'
SELECT id, mrl_dims(mrl_truncate(emb, 32, true)) AS dims,
	round(mrl_norm(mrl_truncate(emb, 32, true))::numeric, 4) AS norm
FROM docs ORDER BY id LIMIT 2;

\echo '== 3. Search: top 5 by cosine over all 256 dims, and over the first 32 dims only (no copy made)'
SELECT f.id AS full_256, f.topic, p.id AS prefix_32, p.topic AS topic_32
FROM (SELECT id, topic, row_number() OVER (ORDER BY emb <=> (SELECT emb FROM docs WHERE id = 7)) AS r
	  FROM docs ORDER BY emb <=> (SELECT emb FROM docs WHERE id = 7) LIMIT 5) f
JOIN (SELECT id, topic, row_number() OVER (ORDER BY mrl_cosine_distance(emb, (SELECT emb FROM docs WHERE id = 7), 32)) AS r
	  FROM docs ORDER BY mrl_cosine_distance(emb, (SELECT emb FROM docs WHERE id = 7), 32) LIMIT 5) p USING (r)
ORDER BY r;

\echo '== 4. Coarse-then-fine by hand: shortlist 50 on the 32-dim prefix, rerank on all dims'
WITH q AS (SELECT emb FROM docs WHERE id = 7),
shortlist AS (
	SELECT id, emb FROM docs ORDER BY mrl_cosine_distance(emb, (SELECT emb FROM q), 32) LIMIT 50)
SELECT id, round((emb <=> (SELECT emb FROM q))::numeric, 4) AS cosine_distance
FROM shortlist ORDER BY emb <=> (SELECT emb FROM q) LIMIT 5;

\echo '== 5. How well each prefix size agrees with the full vector (recall@10 over 20 queries)'
SELECT d AS prefix_dims,
	round(avg((SELECT count(*) FROM
		(SELECT id FROM docs ORDER BY emb <=> q.emb LIMIT 10) a JOIN
		(SELECT id FROM docs ORDER BY mrl_cosine_distance(emb, q.emb, d) LIMIT 10) b USING (id)) / 10.0), 2) AS recall_at_10
FROM (SELECT emb FROM docs WHERE id <= 20) q, (VALUES (8), (16), (32), (64), (128), (256)) dims(d)
GROUP BY d ORDER BY d;

\echo '== 6. The same coarse-then-fine search inside one ORDER BY ... LIMIT, through a funnel index'
CREATE INDEX docs_funnel ON docs USING funnel (emb mvector_cosine_ops) WITH (coarse_dims = 32);
EXPLAIN (COSTS OFF) SELECT id FROM docs ORDER BY emb <=> (SELECT emb FROM docs WHERE id = 7) LIMIT 5;
SELECT id, round((emb <=> (SELECT emb FROM docs WHERE id = 7))::numeric, 4) AS cosine_distance
FROM docs ORDER BY emb <=> (SELECT emb FROM docs WHERE id = 7) LIMIT 5;

\echo '== 7. Exact mode returns exactly what a sequential scan returns (20 queries)'
SET mrl.funnel_exact = on;
CREATE TEMP TABLE via_index AS
	SELECT q.id AS q, array(SELECT d.id FROM docs d ORDER BY d.emb <=> q.emb LIMIT 10) AS top10
	FROM docs q WHERE q.id <= 20;
SET enable_indexscan = off;
SELECT count(*) FILTER (WHERE v.top10 = array(SELECT d.id FROM docs d ORDER BY d.emb <=> q.emb LIMIT 10)) AS identical,
	count(*) AS queries
FROM via_index v JOIN docs q ON q.id = v.q;
RESET enable_indexscan;
RESET mrl.funnel_exact;
