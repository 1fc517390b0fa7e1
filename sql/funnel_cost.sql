-- funnel cost model: the planner picks the index only where it is cheaper.
SET client_min_messages = warning;
\i test/funnel/funnel_check.sql
\i test/funnel/funnel_plan.sql

-- Matryoshka-structured rows (the leading dims carry most of the variance)
-- and uniform random rows (every dim alike: a 16-dim prefix cannot prune),
-- 20,000 of each, 1% of them in bucket 0
CREATE TABLE fc_mrl (id int PRIMARY KEY, bucket int, emb mvector(64));
INSERT INTO fc_mrl SELECT id, id % 100, emb FROM funnel_test_vectors(20000, 64, 41, 1, 2, 1);
CREATE TABLE fc_rand (id int PRIMARY KEY, bucket int, emb mvector(64));
INSERT INTO fc_rand
  SELECT i, i % 100, (SELECT array_agg(funnel_noise(i * 1000 + j, 7)) FROM generate_series(1, 64) j)::mvector
  FROM generate_series(1, 20000) i;
CREATE INDEX fc_mrl_f ON fc_mrl USING funnel (emb mvector_l2_ops) WITH (coarse_dims = 16);
SET client_min_messages = error;	-- (its warning: test/suites/30_funnel.sh)
CREATE INDEX fc_rand_f ON fc_rand USING funnel (emb mvector_l2_ops) WITH (coarse_dims = 16);
SET client_min_messages = warning;
ANALYZE fc_mrl;
ANALYZE fc_rand;

-- exact mode: the index where its bounds prune, a sequential scan where
-- they cannot (a sweep of the heap, which also reads the index)
SET mrl.funnel_exact = on;
SELECT pg_temp.funnel_plan($$SELECT id FROM fc_mrl ORDER BY emb <-> (SELECT emb FROM fc_mrl WHERE id = 7) LIMIT 10$$);
SELECT pg_temp.funnel_plan($$SELECT id FROM fc_rand ORDER BY emb <-> (SELECT emb FROM fc_rand WHERE id = 7) LIMIT 10$$);
-- forced, the index still returns what a sequential scan returns
SELECT (funnel_topk('fc_rand', '<->', emb, 10, true)).dists = (funnel_topk('fc_rand', '<->', emb, 10, false)).dists AS same
FROM fc_rand WHERE id = 7;

-- approximate mode: the index for a plain LIMIT; under a filter keeping 1%
-- of the rows, the LIMIT needs 1,000 index rows: a scan of the kept rows
-- and a sort (a bitmap scan with a btree on the filter column)
SET mrl.funnel_exact = off;
SELECT pg_temp.funnel_plan($$SELECT id FROM fc_mrl ORDER BY emb <-> (SELECT emb FROM fc_mrl WHERE id = 7) LIMIT 10$$);
SELECT pg_temp.funnel_plan($$SELECT id FROM fc_mrl WHERE bucket = 0 ORDER BY emb <-> (SELECT emb FROM fc_mrl WHERE id = 7) LIMIT 10$$);
CREATE INDEX fc_mrl_bucket ON fc_mrl (bucket);
SELECT pg_temp.funnel_plan($$SELECT id FROM fc_mrl WHERE bucket = 0 ORDER BY emb <-> (SELECT emb FROM fc_mrl WHERE id = 7) LIMIT 10$$);
-- a filter keeping most rows leaves the index the cheaper plan
SELECT pg_temp.funnel_plan($$SELECT id FROM fc_mrl WHERE bucket > 0 ORDER BY emb <-> (SELECT emb FROM fc_mrl WHERE id = 7) LIMIT 10$$);

-- the build's sample compares rows of one size only: a column mixing
-- sizes still builds (a scan then raises the operator's error, as a
-- sequential scan does)
CREATE TABLE fc_mixed (id int, emb mvector);
INSERT INTO fc_mixed SELECT id, CASE WHEN id % 2 = 0 THEN emb ELSE emb # 32 END
FROM funnel_test_vectors(200, 64, 5, 1, 2, 1);
CREATE INDEX fc_mixed_f ON fc_mixed USING funnel (emb mvector_l2_ops) WITH (coarse_dims = 16);
SELECT relname FROM pg_class WHERE relname = 'fc_mixed_f';

DROP TABLE fc_mrl, fc_rand, fc_mixed;
