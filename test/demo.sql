-- make demo: the product's main job end to end, in a throwaway cluster:
-- embed a corpus with the built-in model, index it, search coarse-then-fine.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION mrl;

\echo '== 1. The built-in Matryoshka model (static, trained by mrl on Debian text), no setup needed'
SELECT name, arch, dims, vocab, pg_size_pretty(size_bytes) AS size FROM mrl_model_info;

\echo '== 2. Embed a corpus inside the database: the descriptions of PostgreSQL''s own settings'
CREATE TABLE docs AS
	SELECT row_number() OVER (ORDER BY name)::int AS id, name, short_desc AS body
	FROM pg_settings;
ALTER TABLE docs ADD PRIMARY KEY (id);
ALTER TABLE docs ADD COLUMN emb mvector(256);
\echo 'embedding all documents in one batched call:'
\timing on
UPDATE docs d SET emb = e.emb
FROM (SELECT unnest(array_agg(id ORDER BY id)) AS id,
			 unnest(mrl_embed(array_agg(name || ': ' || body ORDER BY id))) AS emb
	  FROM docs) e
WHERE d.id = e.id;
\timing off
SELECT count(*) AS documents, max(mrl_dims(emb)) AS dims FROM docs;

\echo '== 3. Search with every Matryoshka prefix of one embedding: 256, 64 and 32 dims'
SELECT r AS rank, f.name AS all_256_dims, p64.name AS first_64, p32.name AS first_32
FROM (SELECT row_number() OVER (ORDER BY emb <=> mrl_embed('log every statement that runs too long')) AS r, name
	  FROM docs ORDER BY emb <=> mrl_embed('log every statement that runs too long') LIMIT 5) f
JOIN (SELECT row_number() OVER (ORDER BY mrl_cosine_distance(emb, mrl_embed('log every statement that runs too long'), 64)) AS r, name
	  FROM docs ORDER BY mrl_cosine_distance(emb, mrl_embed('log every statement that runs too long'), 64) LIMIT 5) p64 USING (r)
JOIN (SELECT row_number() OVER (ORDER BY mrl_cosine_distance(emb, mrl_embed('log every statement that runs too long'), 32)) AS r, name
	  FROM docs ORDER BY mrl_cosine_distance(emb, mrl_embed('log every statement that runs too long'), 32) LIMIT 5) p32 USING (r)
ORDER BY r;

\echo '== 4. Coarse-then-fine in one ORDER BY ... LIMIT: a funnel index shortlists on the first 64 dims, reranks on all 256'
CREATE INDEX docs_emb_funnel ON docs USING funnel (emb mvector_cosine_ops) WITH (coarse_dims = 64);
\echo '(a few hundred rows are scanned faster than searched, and the planner knows it: the index is forced here to show it)'
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT name FROM docs ORDER BY emb <=> mrl_embed('how many connections can the server accept') LIMIT 5;
SELECT name, body, round((emb <=> mrl_embed('how many connections can the server accept'))::numeric, 3) AS distance
FROM docs ORDER BY emb <=> mrl_embed('how many connections can the server accept') LIMIT 5;

\echo '== 5. Exact mode returns exactly what a sequential scan returns (every document as a query)'
SET mrl.funnel_exact = on;
CREATE TEMP TABLE via_index AS
	SELECT q.id AS q, array(SELECT d.id FROM docs d ORDER BY d.emb <=> q.emb LIMIT 10) AS top10 FROM docs q;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT count(*) FILTER (WHERE v.top10 = array(SELECT d.id FROM docs d ORDER BY d.emb <=> q.emb LIMIT 10)) AS identical_top10,
	count(*) AS queries
FROM via_index v JOIN docs q ON q.id = v.q;
RESET enable_indexscan;
RESET mrl.funnel_exact;

\echo '== 6. Truncate: a 64-dim copy, re-normalised, for a smaller column or another system'
SELECT name, mrl_dims(copy) AS dims, round(mrl_norm(copy)::numeric, 4) AS norm,
	(copy # 3)::text AS first_3_values_of_the_copy
FROM (SELECT id, name, mrl_truncate(emb, 64, renormalize => true) AS copy FROM docs) c
ORDER BY id LIMIT 3;
