-- funnel index, L1 opclasses (mvector_l1_ops, mhalfvec_l1_ops): exact mode
-- against a sequential scan ordered by <+>, hand-checked distances and ties,
-- and the lower bound the index prunes with.
SET client_min_messages = warning;
\i test/funnel/funnel_plan.sql

-- 4-dim rows, coarse_dims 2; from [0,0,0,0] the L1 distances are the sums
-- of absolute values: 1:0, 10:0.5, 2 and 3:1, 4 to 7:2, 8:4, 9 NULL (last).
-- From [1,0,0,0]: 2:0, 1 and 4:1, 10:1.5, 3 and 7:2, 5, 6 and 8:3.
CREATE TABLE l1 (id int PRIMARY KEY, emb mvector, half mhalfvec);
INSERT INTO l1 (id, emb) VALUES
  (1, '[0,0,0,0]'), (2, '[1,0,0,0]'), (3, '[0,1,0,0]'), (4, '[1,1,0,0]'), (5, '[0,0,1,1]'),
  (6, '[-2,0,0,0]'), (7, '[0.5,0.5,0.5,0.5]'), (8, '[3,0,0,1]'), (9, NULL), (10, '[0,0,0,-0.5]');
UPDATE l1 SET half = emb;
CREATE INDEX l1_int8 ON l1 USING funnel (emb mvector_l1_ops) WITH (coarse_dims = 2, lists = 2);
CREATE INDEX l1_half ON l1 USING funnel (half mhalfvec_l1_ops) WITH (coarse_dims = 2, lists = 1);

SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = opcmethod
WHERE amname = 'funnel' AND opcname LIKE '%l1_ops' ORDER BY opcname;
SET enable_seqscan = off;
SELECT pg_temp.funnel_plan($$SELECT id FROM l1 ORDER BY emb <+> '[1,0,0,0]' LIMIT 3$$);
SELECT pg_temp.funnel_plan($$SELECT id FROM l1 ORDER BY half <+> '[1,0,0,0]' LIMIT 3$$);
-- other distances do not use an L1 index
SELECT pg_temp.funnel_plan($$SELECT id FROM l1 ORDER BY emb <-> '[1,0,0,0]' LIMIT 3$$);

-- rows in scan order as id:distance, ties (equal distances) by id
CREATE FUNCTION l1_order(col text, q mvector, use_index bool) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  PERFORM set_config('enable_seqscan', (NOT use_index)::text, true);
  PERFORM set_config('enable_indexscan', use_index::text, true);
  EXECUTE format('SELECT string_agg(id || '':'' || coalesce(d::text, ''null''), '' '' ORDER BY tie, id)
                  FROM (SELECT id, d, count(*) FILTER (WHERE new_d) OVER (ORDER BY n) AS tie
                        FROM (SELECT id, d, n, d IS DISTINCT FROM lag(d) OVER (ORDER BY n) AS new_d
                              FROM (SELECT id, d, row_number() OVER () AS n
                                    FROM (SELECT id, %1$I <+> $1 AS d FROM l1 ORDER BY %1$I <+> $1) s) s) s) s', col)
    INTO r USING q;
  RETURN r;
END $$;
SET mrl.funnel_exact = on;
SELECT col, q, l1_order(col, q, true) AS index_scan, l1_order(col, q, true) = l1_order(col, q, false) AS same
FROM (VALUES ('emb'), ('half')) c(col), (VALUES ('[0,0,0,0]'::mvector), ('[1,0,0,0]')) v(q)
ORDER BY col, q;

-- the approximate mode returns the same few rows here (its shortlist holds them all)
SET mrl.funnel_exact = off;
SELECT id, emb <+> '[1,0,0,0]' AS d FROM l1 ORDER BY emb <+> '[1,0,0,0]', id LIMIT 4;
RESET enable_seqscan;

-- 3,000 rows of 48 dims whose scales fall with the index, as a Matryoshka
-- embedding's do, and ten exact duplicates (ties): exact mode returns the
-- sequential scan's top 25 distances for every query and precision
SELECT setseed(0.13);
CREATE TABLE l1m (id int PRIMARY KEY, emb mvector);
INSERT INTO l1m SELECT g, array(SELECT ((random() - 0.5) / sqrt(1 + i / 4.0))::real
                               FROM generate_series(0, 47) i WHERE g > 0)::mvector
FROM generate_series(1, 3000) g;
INSERT INTO l1m SELECT id + 3000, emb FROM l1m WHERE id % 300 = 0;
CREATE TABLE l1q AS SELECT id AS qid, emb FROM l1m WHERE id % 250 = 7;
CREATE FUNCTION l1m_top(q mvector, use_index bool) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  PERFORM set_config('enable_seqscan', (NOT use_index)::text, true);
  PERFORM set_config('enable_indexscan', use_index::text, true);
  PERFORM set_config('enable_bitmapscan', 'off', true);
  SELECT string_agg(round(d::numeric, 5)::text, ',' ORDER BY n) INTO r
  FROM (SELECT row_number() OVER () AS n, d FROM
        (SELECT emb <+> q AS d FROM l1m ORDER BY emb <+> q LIMIT 25) s) s;
  RETURN r;
END $$;
SET mrl.funnel_exact = on;
SET client_min_messages = error;	-- random rows: the build warns that lists do not prune
CREATE INDEX l1m_idx ON l1m USING funnel (emb mvector_l1_ops) WITH (coarse_dims = 8);
SELECT 'int8' AS precision, count(*) AS queries,
       count(*) FILTER (WHERE l1m_top(emb, true) = l1m_top(emb, false)) AS same FROM l1q;
DROP INDEX l1m_idx;
CREATE INDEX l1m_idx ON l1m USING funnel (emb mvector_l1_ops) WITH (coarse_dims = 8, precision = float4);
SELECT 'float4' AS precision, count(*) AS queries,
       count(*) FILTER (WHERE l1m_top(emb, true) = l1m_top(emb, false)) AS same FROM l1q;
DROP INDEX l1m_idx;
CREATE INDEX l1m_idx ON l1m USING funnel (emb mvector_l1_ops) WITH (coarse_dims = 16, precision = binary);
SELECT 'binary' AS precision, count(*) AS queries,
       count(*) FILTER (WHERE l1m_top(emb, true) = l1m_top(emb, false)) AS same FROM l1q;
SET client_min_messages = warning;
SET enable_seqscan = off;
SELECT pg_temp.funnel_plan($$SELECT id FROM l1m ORDER BY emb <+> (SELECT emb FROM l1q LIMIT 1) LIMIT 5$$);
RESET enable_seqscan;
RESET mrl.funnel_exact;

-- the bound never exceeds the distance, and prunes: its mean share of the
-- distance over 1,000 pairs of those rows, about the prefix's share of the
-- L1 distance (16 of 48 dims: half of it; all 48: all of it), less for the
-- coarse binary code
SELECT p.precision, p.coarse_dims,
       bool_and(mrl_funnel_bound(a.emb, b.emb, p.coarse_dims, p.precision, 'l1') <= a.emb <+> b.emb) AS bound_holds,
       round(avg(mrl_funnel_bound(a.emb, b.emb, p.coarse_dims, p.precision, 'l1') / (a.emb <+> b.emb))::numeric, 1) AS mean_share
FROM l1m a JOIN l1m b ON b.id = a.id % 3000 + 1 AND a.id % 3 = 0,
     (VALUES ('float4', 16), ('int8', 16), ('binary', 16), ('int8', 48)) p(precision, coarse_dims)
GROUP BY 1, 2 ORDER BY 1, 2;
-- hand-checked: prefix [1,1] against [0,0] is 2; the residual norms 0 and 1
-- differ by 1: bound 3 (to float rounding), distance 1 + 1 + 0.6 + 0.8 = 3.4
SELECT round(mrl_funnel_bound('[1,1,0,0]', '[0,0,0.6,0.8]', 2, 'float4', 'l1')::numeric, 4) AS bound,
       '[1,1,0,0]'::mvector <+> '[0,0,0.6,0.8]' AS distance;
SELECT mrl_funnel_bound('[1,2]', '[1,2]', 1, 'int8', 'l3');
