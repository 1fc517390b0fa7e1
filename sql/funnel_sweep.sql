-- funnel exact mode where the prefix bounds cannot prune: the scan sweeps
-- the heap in physical order (funnelscan.c) and must still return exactly
-- what a sequential scan returns, over several passes, with NULL, deleted,
-- rolled-back and HOT-updated rows, tied distances and filters.
SET client_min_messages = warning;
-- (the helpers in a schema of this test's, as other tests load them too)
CREATE SCHEMA fsweep;
SET search_path = fsweep, public;
\i test/funnel/funnel_check.sql

-- 3,000 uniform random 32-dim rows (an 8-dim prefix says nothing about the
-- rest), 50 duplicates (tied distances), 10 NULL rows; half-full pages, so
-- that updates of the unindexed column stay on the page (HOT)
CREATE TABLE fs (id int PRIMARY KEY, note text, emb mvector(32)) WITH (fillfactor = 50);
INSERT INTO fs SELECT i, '', (SELECT array_agg(funnel_noise(i * 1000 + j, 3)) FROM generate_series(1, 32) j)::mvector
FROM generate_series(1, 3000) i;
INSERT INTO fs SELECT 3000 + id, '', emb FROM fs WHERE id <= 50;
INSERT INTO fs SELECT i, '', NULL FROM generate_series(3051, 3060) i;
SET client_min_messages = error;	-- (the build warns that prefixes rank poorly)
CREATE INDEX fs_f ON fs USING funnel (emb mvector_l2_ops) WITH (coarse_dims = 8, lists = 16);
SET client_min_messages = warning;
-- after the build: HOT updates (the index keeps each chain's root), deletes,
-- and rows of a rolled-back insert
CREATE TEMP TABLE before AS SELECT id, ctid AS old_ctid FROM fs;
UPDATE fs SET note = 'updated' WHERE id % 7 = 0;
UPDATE fs SET note = 'again' WHERE id % 14 = 0;
-- (an update that changes no indexed column and stays on its page is HOT)
SELECT count(*) > 400 AS hot_updated FROM fs JOIN before b USING (id)
WHERE fs.ctid <> b.old_ctid AND (fs.ctid::text::point)[0] = (b.old_ctid::text::point)[0];
DELETE FROM fs WHERE id % 11 = 0;
BEGIN;
INSERT INTO fs SELECT 5000 + id, '', emb FROM fs WHERE id <= 100;
ROLLBACK;
CREATE TABLE fs_queries AS SELECT id, emb FROM fs WHERE id IN (1, 2, 3, 5, 8, 13, 3001, 1000, 2999);
ANALYZE fs;

-- the sweep is taken, and its later passes keep 8 times as many rows
SET mrl.funnel_exact = on;
SET enable_seqscan = off;
SET client_min_messages = debug1;
SELECT count(*) FROM (SELECT id FROM fs ORDER BY emb <-> (SELECT emb FROM fs WHERE id = 1) LIMIT 150) s;
SET client_min_messages = warning;

-- the top 10, 150 (two passes) and 1,000 (three) equal a sequential scan's
SELECT funnel_exact_mismatches('fs', '<->', 'fs_queries', 10) AS k10,
       funnel_exact_mismatches('fs', '<->', 'fs_queries', 150) AS k150,
       funnel_exact_mismatches('fs', '<->', 'fs_queries', 1000) AS k1000;
-- every row: the visible ones by distance, then the NULL ones
SELECT (funnel_topk('fs', '<->', emb, 5000, true)).dists = (funnel_topk('fs', '<->', emb, 5000, false)).dists AS all_rows,
       cardinality((funnel_topk('fs', '<->', emb, 5000, true)).ids) = (SELECT count(*) FROM fs) AS count_all
FROM fs WHERE id = 2;
-- under a filter (the index forced, then a sequential scan), and a row's
-- vector tied with its duplicate's
CREATE TEMP TABLE filtered AS SELECT array_agg(id) AS ids FROM
  (SELECT id FROM fs WHERE note = 'updated' ORDER BY emb <-> (SELECT emb FROM fs WHERE id = 42) LIMIT 5) s;
SET enable_indexscan = off;
SET enable_seqscan = on;
SELECT ids = (SELECT array_agg(id) FROM (SELECT id FROM fs WHERE note = 'updated'
              ORDER BY emb <-> (SELECT emb FROM fs WHERE id = 42) LIMIT 5) s) AS filtered_same,
       cardinality(ids) AS n
FROM filtered;
RESET enable_indexscan;
SET enable_seqscan = off;
SELECT array_agg(id) AS tied FROM (SELECT id FROM fs ORDER BY emb <-> (SELECT emb FROM fs WHERE id = 17) LIMIT 2) s;

-- an index on an expression sweeps too, evaluating it on every row
DROP INDEX fs_f;
SET client_min_messages = error;
CREATE INDEX fs_expr ON fs USING funnel ((emb # 16) mvector_l2_ops) WITH (coarse_dims = 4, lists = 16);
CREATE TEMP TABLE expr_top (ids int[]);
SET client_min_messages = debug1;
INSERT INTO expr_top SELECT array_agg(id) FROM
  (SELECT id FROM fs ORDER BY (emb # 16) <-> (SELECT emb # 16 FROM fs WHERE id = 5) LIMIT 10) s;
SET client_min_messages = warning;
SET enable_indexscan = off;
SET enable_seqscan = on;
SELECT ids = (SELECT array_agg(id) FROM (SELECT id FROM fs
              ORDER BY (emb # 16) <-> (SELECT emb # 16 FROM fs WHERE id = 5) LIMIT 10) s) AS expr_same
FROM expr_top;
RESET enable_indexscan;
RESET enable_seqscan;
RESET mrl.funnel_exact;

DROP TABLE fs, fs_queries, before, filtered, expr_top;
DROP SCHEMA fsweep CASCADE;
RESET search_path;
