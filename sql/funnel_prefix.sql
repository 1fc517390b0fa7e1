-- funnel: search at d dims through an index on the truncation (emb # d),
-- approximate by default as an index on a stored column of the same
-- values: its reranks evaluate the index expression on each fetched row.
SET client_min_messages = warning;
-- (the helpers in a schema of this test's, as other tests load them too)
CREATE SCHEMA fprefix;
SET search_path = fprefix, public;
\i test/funnel/funnel_check.sql
\i test/funnel/funnel_plan.sql

-- 3,000 Matryoshka-structured 64-dim rows; the same first 32 dims stored
-- in a generated column; 40 queries from the same clusters
CREATE TABLE fp (id int PRIMARY KEY, emb mvector(64),
                 emb32 mvector(32) GENERATED ALWAYS AS (emb # 32) STORED);
INSERT INTO fp (id, emb) SELECT id, emb FROM funnel_test_vectors(3000, 64, 7, 1, 2, 1);
CREATE TABLE fp_queries AS SELECT id, emb # 32 AS emb FROM funnel_test_vectors(40, 64, 7, 1, 99, 1);
CREATE INDEX fp_expr ON fp USING funnel ((emb # 32) mvector_cosine_ops) WITH (coarse_dims = 8);
CREATE INDEX fp_stored ON fp USING funnel (emb32 mvector_cosine_ops) WITH (coarse_dims = 8);
ANALYZE fp;

-- the top 10 (ids, distances) of q by a query over $1, index forced or not
CREATE FUNCTION fp_top(query text, q mvector, use_index bool,
                       OUT ids int[], OUT dists float8[]) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('enable_indexscan', use_index::text, true);
  PERFORM set_config('enable_seqscan', (NOT use_index)::text, true);
  EXECUTE query INTO ids, dists USING q;
  PERFORM set_config('enable_indexscan', 'on', true);
  PERFORM set_config('enable_seqscan', 'on', true);
END $$;
CREATE TABLE fp_sql (name text, query text);
INSERT INTO fp_sql VALUES
  ('expr', 'SELECT array_agg(id), array_agg(d) FROM (SELECT id, (emb # 32) <=> $1 AS d FROM fp
            ORDER BY (emb # 32) <=> $1 LIMIT 10) s'),
  ('stored', 'SELECT array_agg(id), array_agg(d) FROM (SELECT id, emb32 <=> $1 AS d FROM fp
              ORDER BY emb32 <=> $1 LIMIT 10) s');

-- the planner uses the expression index for ORDER BY (emb # 32) <=> q
SELECT pg_temp.funnel_plan($$SELECT id FROM fp ORDER BY (emb # 32) <=> (SELECT emb FROM fp_queries WHERE id = 1) LIMIT 10$$);

-- approximate mode with a shortlist too short to find every neighbour: the
-- expression index answers exactly as the index on the stored column
-- (same values, same build), misses the same rows (recall below 1, so the
-- scan is not exact), and its answers are sorted
SET mrl.funnel_exact = off;
SET mrl.funnel_shortlist = 3;
SET mrl.funnel_probes = 1;
CREATE TABLE fp_answers AS
SELECT q.id AS qid, s.name, (fp_top(s.query, q.emb, true)).*, (fp_top(s.query, q.emb, false)).ids AS truth
FROM fp_queries q, fp_sql s;
SELECT name, round(avg((SELECT count(*) FROM unnest(ids) x WHERE x = ANY (truth)) / 10.0), 3) < 1 AS missed_some,
       sum((dists = (SELECT array_agg(d ORDER BY d) FROM unnest(dists) d))::int) AS sorted,
       sum((cardinality(ids) = 10)::int) AS full_limit
FROM fp_answers GROUP BY name ORDER BY name;
SELECT count(*) AS same_answers FROM fp_answers e JOIN fp_answers s USING (qid)
WHERE e.name = 'expr' AND s.name = 'stored' AND e.ids = s.ids AND e.dists = s.dists;
RESET mrl.funnel_shortlist;
RESET mrl.funnel_probes;

-- exact mode: the expression index equals a sequential scan
SET mrl.funnel_exact = on;
SELECT count(*) AS exact_same FROM fp_queries q, fp_sql s
WHERE s.name = 'expr' AND (fp_top(s.query, q.emb, true)).dists = (fp_top(s.query, q.emb, false)).dists;
RESET mrl.funnel_exact;

DROP TABLE fp, fp_queries, fp_sql, fp_answers;
DROP SCHEMA fprefix CASCADE;
RESET search_path;
