-- funnel index: options, plans, results against a sequential scan, errors.
SET client_min_messages = warning;
\i test/funnel/funnel_plan.sql

-- 8-dim rows: the first 2 dims dominate, the rest refine
CREATE TABLE fd (id int PRIMARY KEY, emb mvector);
INSERT INTO fd VALUES
  (1, '[1,0,0.1,0,0,0,0,0]'), (2, '[0,1,0,0.1,0,0,0,0]'), (3, '[1,1,0,0,0.2,0,0,0]'),
  (4, '[-1,0,0,0,0,0.3,0,0]'), (5, '[0,-1,0.5,0.5,0.5,0.5,0.5,0.5]'), (6, '[2,0.1,0,0,0,0,0,0.1]'),
  (7, '[0.9,0.1,-0.2,0,0,0,0,0]'), (8, '[0,0,1,1,1,1,1,1]'), (9, NULL), (10, '[0,0,0,0,0,0,0,0]');

CREATE INDEX fd_l2 ON fd USING funnel (emb mvector_l2_ops) WITH (coarse_dims = 2);
CREATE INDEX fd_ip ON fd USING funnel (emb mvector_ip_ops) WITH (coarse_dims = 2, precision = float4);
CREATE INDEX fd_cos ON fd USING funnel (emb mvector_cosine_ops) WITH (coarse_dims = 2, precision = binary);
SELECT relname, reloptions FROM pg_class WHERE relname LIKE 'fd\_%' ORDER BY relname;

-- the planner uses the index for ORDER BY distance LIMIT, not without ORDER BY
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM fd ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM fd ORDER BY emb <#> '[1,0,0,0,0,0,0,0]' LIMIT 3;
EXPLAIN (COSTS OFF) SELECT id FROM fd ORDER BY emb <=> '[1,0,0,0,0,0,0,0]' LIMIT 3;
SELECT pg_temp.funnel_plan($$SELECT id FROM fd WHERE emb IS NOT NULL$$);
SELECT pg_temp.funnel_plan($$SELECT id FROM fd ORDER BY emb <+> '[1,0,0,0,0,0,0,0]' LIMIT 3$$);

-- each index scan counts in pg_stat_user_indexes
SELECT idx_scan AS fd_l2_scans FROM pg_stat_user_indexes WHERE indexrelname = 'fd_l2' \gset
SELECT id FROM fd ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 1;
SELECT id FROM fd ORDER BY emb <-> '[0,1,0,0,0,0,0,0]' LIMIT 1;
SELECT pg_stat_force_next_flush();
SELECT idx_scan - :fd_l2_scans AS new_scans FROM pg_stat_user_indexes WHERE indexrelname = 'fd_l2';

-- exact mode returns what a sequential scan returns, the NULL row (9) last;
-- rows are listed in the order the scan returns them, ties by id
CREATE FUNCTION fd_order(op text, q mvector, use_index bool) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  PERFORM set_config('enable_seqscan', (NOT use_index)::text, true);
  PERFORM set_config('enable_indexscan', use_index::text, true);
  EXECUTE format('SELECT string_agg(id || '':'' || coalesce(round(d::numeric, 4)::text, ''null''), '' '' ORDER BY tie, id)
                  FROM (SELECT id, d, count(*) FILTER (WHERE new_d) OVER (ORDER BY n) AS tie
                        FROM (SELECT id, d, n, d IS DISTINCT FROM lag(d) OVER (ORDER BY n) AS new_d
                              FROM (SELECT id, d, row_number() OVER () AS n
                                    FROM (SELECT id, emb %1$s $1 AS d FROM fd ORDER BY emb %1$s $1) s) s) s) s', op)
    INTO r USING q;
  RETURN r;
END $$;
SET mrl.funnel_exact = on;
SELECT op, fd_order(op, q, true) AS index_scan, fd_order(op, q, true) = fd_order(op, q, false) AS same
FROM (VALUES ('<->'), ('<#>'), ('<=>')) o(op),
     (VALUES ('[1,0,0,0,0,0,0,0]'::mvector), ('[0.5,0.5,1,1,1,1,1,1]')) v(q)
ORDER BY op, q;
-- the zero row has a NaN cosine distance: it sorts last either way
SELECT id FROM fd ORDER BY emb <=> '[1,0,0,0,0,0,0,0]' LIMIT 9 OFFSET 7;
-- a NULL query orders nothing but still returns the indexed rows
SELECT pg_temp.funnel_plan($$SELECT id FROM fd ORDER BY emb <-> (SELECT NULL::mvector) LIMIT 20$$);
SELECT count(*) FROM (SELECT id FROM fd ORDER BY emb <-> (SELECT NULL::mvector) LIMIT 20) s;

-- approximate mode with a tiny shortlist still returns LIMIT rows, batch by batch
SET mrl.funnel_exact = off;
SET mrl.funnel_shortlist = 2;
SELECT id FROM fd ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 5;
SELECT id FROM fd WHERE id % 2 = 0 ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 3;
RESET mrl.funnel_shortlist;

-- approximate mode returns rows in order (mrl.funnel_order = strict, the
-- default): here a coarse 8-dim prefix of random 32-dim rows misjudged the
-- estimates and the best row came 10th of 12 (before strict order), and a
-- scan without LIMIT returned 1,880 of the 2,000 rows (before rounds)
SELECT setseed(0.42);
CREATE TABLE fo AS SELECT g id, array(SELECT (random() - 0.5)::real FROM generate_series(1, 32) WHERE g > 0)::mvector v
FROM generate_series(1, 2000) g;
SET client_min_messages = error;	-- (its warning: test/suites/30_funnel.sh)
CREATE INDEX fo_v ON fo USING funnel (v) WITH (coarse_dims = 8);
SET client_min_messages = warning;
CREATE FUNCTION fo_sorted(k int) RETURNS TABLE (nrows bigint, sorted bool) LANGUAGE sql AS $$
  SELECT count(*), coalesce(bool_and(d >= prev), true)
  FROM (SELECT d, lag(d) OVER (ORDER BY n) AS prev
        FROM (SELECT row_number() OVER () AS n, d
              FROM (SELECT v <-> array_fill(0.1::real, ARRAY[32])::mvector AS d FROM fo
                    ORDER BY v <-> array_fill(0.1::real, ARRAY[32])::mvector LIMIT k) s) s) s
$$;
SHOW mrl.funnel_order;
SELECT * FROM fo_sorted(12);
SELECT * FROM fo_sorted(2000);
-- a shortlist of 2 makes each round miss rows a later one finds: strict
-- order skips them, relaxed order returns them, out of order
SET mrl.funnel_shortlist = 2;
SELECT * FROM fo_sorted(12);
SET mrl.funnel_order = relaxed;
SELECT * FROM fo_sorted(12);
RESET mrl.funnel_order;
RESET mrl.funnel_shortlist;
SET mrl.funnel_order = sorted;
DROP TABLE fo;
DROP FUNCTION fo_sorted;

-- inserts, deletes and VACUUM keep the index in step with the table
INSERT INTO fd VALUES (11, '[1.05,0,0,0,0,0,0,0]');
UPDATE fd SET emb = '[0.99,0.01,0,0,0,0,0,0]' WHERE id = 2;
DELETE FROM fd WHERE id = 1;
VACUUM fd;
SELECT relname, reltuples FROM pg_class WHERE relname LIKE 'fd\_%' ORDER BY relname;
SET mrl.funnel_exact = on;
SELECT id FROM fd ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 4;
SELECT fd_order('<=>', '[1,0,0,0,0,0,0,0]', true) = fd_order('<=>', '[1,0,0,0,0,0,0,0]', false) AS same;
REINDEX INDEX fd_l2;
CREATE INDEX CONCURRENTLY fd_l2_cc ON fd USING funnel (emb) WITH (coarse_dims = 4);
SELECT fd_order('<->', '[0,1,0,0,0,0,0,0]', true) = fd_order('<->', '[0,1,0,0,0,0,0,0]', false) AS same;
DROP INDEX fd_l2_cc;
-- IVF lists: one per row here, the answers stay exact
CREATE INDEX fd_l2_lists ON fd USING funnel (emb) WITH (coarse_dims = 3, lists = 9);
SELECT fd_order('<->', '[0,1,0,0,0,0,0,0]', true) = fd_order('<->', '[0,1,0,0,0,0,0,0]', false) AS same;
-- probes: exact mode ignores them; approximate mode opens the nearest list
-- (one row each here) first and more in each later round, so every row
-- still comes out, filtered or not (in relaxed order: strict order skips
-- the rows one-row shortlists find after farther ones)
SET mrl.funnel_probes = 1;
SELECT fd_order('<->', '[0,1,0,0,0,0,0,0]', true) = fd_order('<->', '[0,1,0,0,0,0,0,0]', false) AS same;
SET mrl.funnel_exact = off;
SET mrl.funnel_order = relaxed;
SET mrl.funnel_shortlist = 1;
SELECT id FROM fd ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 1;
SELECT count(*), count(DISTINCT id), array_agg(id ORDER BY id)
FROM (SELECT id FROM fd ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 20) s;
SELECT array_agg(id ORDER BY id)
FROM (SELECT id FROM fd WHERE id % 2 = 0 ORDER BY emb <-> '[1,0,0,0,0,0,0,0]' LIMIT 20) s;
RESET mrl.funnel_shortlist;
RESET mrl.funnel_order;
SET mrl.funnel_exact = on;
SET mrl.funnel_probes = -1;
RESET mrl.funnel_probes;
DROP INDEX fd_l2_lists;
-- an expression index is always scanned in exact mode (reranking reads columns)
CREATE INDEX fd_expr ON fd USING funnel ((emb::mvector(8))) WITH (coarse_dims = 2);
SET mrl.funnel_exact = off;
EXPLAIN (COSTS OFF) SELECT id FROM fd ORDER BY emb::mvector(8) <-> '[1,0,0,0,0,0,0,0]' LIMIT 3;
SELECT id FROM fd ORDER BY emb::mvector(8) <-> '[1,0,0,0,0,0,0,0]' LIMIT 3;
SET mrl.funnel_exact = on;
DROP INDEX fd_expr;

-- a column without typmod: a rolled-back or deleted row of another size
-- never breaks index scans; a visible one raises the operator's error, as
-- a sequential scan does
CREATE TABLE fdim (id int, emb mvector);
INSERT INTO fdim SELECT i, ('[' || i || ',' || i % 3 || ',1,0]')::mvector FROM generate_series(1, 20) i;
CREATE INDEX fdim_l2 ON fdim USING funnel (emb) WITH (coarse_dims = 2, lists = 1);
BEGIN;
INSERT INTO fdim VALUES (0, '[1,2,3]');
ROLLBACK;
SELECT id FROM fdim ORDER BY emb <-> '[1,1,1,0]' LIMIT 3;
SET mrl.funnel_exact = off;
SELECT id FROM fdim ORDER BY emb <-> '[1,1,1,0]' LIMIT 3;
INSERT INTO fdim VALUES (0, '[1,2,3]');
SELECT id FROM fdim ORDER BY emb <-> '[1,1,1,0]' LIMIT 3;
SET mrl.funnel_exact = on;
SELECT id FROM fdim ORDER BY emb <-> '[1,1,1,0]' LIMIT 3;
DELETE FROM fdim WHERE id = 0;
SELECT id FROM fdim ORDER BY emb <-> '[1,1,1,0]' LIMIT 3;
SET enable_seqscan = on;
SET enable_indexscan = off;
SELECT id FROM fdim ORDER BY emb <-> '[1,1,1,0]' LIMIT 3;
SET enable_seqscan = off;
RESET enable_indexscan;
DROP TABLE fdim;

-- errors
CREATE INDEX ON fd USING funnel (emb) WITH (coarse_dims = 9);
INSERT INTO fd VALUES (12, '[1,2,3,4,5,6,7,8,9]');
INSERT INTO fd VALUES (13, '[1]');
SELECT id FROM fd ORDER BY emb <-> '[1]' LIMIT 1;
SELECT id FROM fd ORDER BY emb <-> '[1,0,0,0,0,0,0,0,0]' LIMIT 1;
CREATE INDEX ON fd USING funnel (emb) WITH (precision = bit);
CREATE INDEX ON fd USING funnel (emb) WITH (coarse_dims = 0);
CREATE INDEX ON fd USING funnel (emb mvector_ops);
CREATE TABLE wide (emb mvector);
INSERT INTO wide SELECT array_fill(1, ARRAY[2100])::mvector;
CREATE INDEX ON wide USING funnel (emb) WITH (coarse_dims = 2100);
-- options are checked when they are set: a float4 entry of 2,030 dims does
-- not fit a page (this crashed the server), ALTER INDEX checks the merged
-- options (it accepted 3000, which failed at the next REINDEX), and the
-- build checks the column's declared size
CREATE INDEX ON wide USING funnel (emb) WITH (coarse_dims = 2029, precision = float4);
CREATE INDEX wide_ok ON wide USING funnel (emb) WITH (coarse_dims = 2028, precision = float4);
ALTER INDEX fd_l2 SET (coarse_dims = 3000);
ALTER INDEX wide_ok SET (coarse_dims = 2031);
ALTER INDEX wide_ok SET (precision = int8, coarse_dims = 2031);
SELECT reloptions FROM pg_class WHERE relname = 'wide_ok';
DROP INDEX wide_ok;
CREATE TABLE fd8 (emb mvector(8));
CREATE INDEX ON fd8 USING funnel (emb) WITH (coarse_dims = 9);
CREATE INDEX ON fd8 USING funnel ((emb::mvector(4))) WITH (coarse_dims = 6);
DROP TABLE fd8;
CREATE INDEX ON fd USING funnel (emb) WITH (lists = -1);
-- scans with a non-MVCC snapshot are refused: an exclusion constraint's
-- check (a dirty snapshot) would take every row for a conflict
CREATE OPERATOR CLASS mvector_eq_ops FOR TYPE mvector USING funnel AS
  OPERATOR 1 = (mvector, mvector),
  FUNCTION 1 mrl_l2_distance(mvector, mvector),
  FUNCTION 2 mrl_funnel_l2_support(internal);
CREATE TABLE fx (id int, emb mvector, EXCLUDE USING funnel (emb mvector_eq_ops WITH =) WITH (coarse_dims = 2));
INSERT INTO fx VALUES (1, '[1,2]');
INSERT INTO fx VALUES (2, '[3,4]');
DROP TABLE fx;
-- amvalidate checks an opclass has operator 1 for ORDER BY, computing
-- support function 1, and support function 2: the three shipped ones pass,
-- a search operator, a wrong strategy, a missing or mismatched function fail
SELECT opcname, amvalidate(oid) FROM pg_opclass
WHERE opcmethod = (SELECT oid FROM pg_am WHERE amname = 'funnel')
  AND opcname IN ('mvector_l2_ops', 'mvector_ip_ops', 'mvector_cosine_ops') ORDER BY opcname;
CREATE OPERATOR CLASS mvector_no_metric_ops FOR TYPE mvector USING funnel AS
  OPERATOR 1 <-> (mvector, mvector) FOR ORDER BY float_ops,
  FUNCTION 1 mrl_l2_distance(mvector, mvector);
CREATE OPERATOR CLASS mvector_strategy2_ops FOR TYPE mvector USING funnel AS
  OPERATOR 2 <-> (mvector, mvector) FOR ORDER BY float_ops,
  FUNCTION 1 mrl_l2_distance(mvector, mvector),
  FUNCTION 2 mrl_funnel_l2_support(internal);
CREATE OPERATOR CLASS mvector_mismatch_ops FOR TYPE mvector USING funnel AS
  OPERATOR 1 <-> (mvector, mvector) FOR ORDER BY float_ops,
  FUNCTION 1 mrl_cosine_distance(mvector, mvector),
  FUNCTION 2 mrl_funnel_l2_support(internal);
CREATE OPERATOR CLASS mvector_badproc_ops FOR TYPE mvector USING funnel AS
  OPERATOR 1 <-> (mvector, mvector) FOR ORDER BY float_ops,
  FUNCTION 1 mrl_l2_distance(mvector, mvector),
  FUNCTION 2 mrl_dims(mvector);
SELECT amvalidate(oid) AS eq FROM pg_opclass WHERE opcname = 'mvector_eq_ops';
SELECT amvalidate(oid) AS no_metric FROM pg_opclass WHERE opcname = 'mvector_no_metric_ops';
SELECT amvalidate(oid) AS strategy2 FROM pg_opclass WHERE opcname = 'mvector_strategy2_ops';
SELECT amvalidate(oid) AS mismatch FROM pg_opclass WHERE opcname = 'mvector_mismatch_ops';
SELECT amvalidate(oid) AS badproc FROM pg_opclass WHERE opcname = 'mvector_badproc_ops';
DROP OPERATOR FAMILY mvector_eq_ops USING funnel;
DROP OPERATOR FAMILY mvector_no_metric_ops USING funnel;
DROP OPERATOR FAMILY mvector_strategy2_ops USING funnel;
DROP OPERATOR FAMILY mvector_mismatch_ops USING funnel;
DROP OPERATOR FAMILY mvector_badproc_ops USING funnel;

-- 3072- and 4096-dim rows: only the prefix lives in the index
CREATE TABLE big (id int, emb mvector);
INSERT INTO big SELECT i, (SELECT array_agg(sin(i * 7 + j) / (1 + j / 64.0)) FROM generate_series(1, 3072) j)::mvector
FROM generate_series(1, 20) i;
CREATE TABLE huge (id int, emb mvector);
INSERT INTO huge SELECT i, (SELECT array_agg(cos(i * 5 + j) / (1 + j / 64.0)) FROM generate_series(1, 4096) j)::mvector
FROM generate_series(1, 20) i;
CREATE INDEX big_cos ON big USING funnel (emb mvector_cosine_ops) WITH (coarse_dims = 64);
CREATE INDEX huge_l2 ON huge USING funnel (emb) WITH (coarse_dims = 256, precision = float4);
SELECT pg_relation_size('big_cos') <= 8 * 8192 AS small_index, pg_table_size('big') > 20 * 12288 AS big_table;
SELECT id, round((emb <=> (SELECT emb FROM big WHERE id = 3))::numeric, 4)
FROM big ORDER BY emb <=> (SELECT emb FROM big WHERE id = 3) LIMIT 3;
SELECT pg_temp.funnel_plan($$SELECT id FROM huge ORDER BY emb <-> (SELECT emb FROM huge WHERE id = 3) LIMIT 3$$);
SELECT id, round((emb <-> (SELECT emb FROM huge WHERE id = 3))::numeric, 4)
FROM huge ORDER BY emb <-> (SELECT emb FROM huge WHERE id = 3) LIMIT 3;
SET enable_indexscan = off;
SELECT id, round((emb <-> (SELECT emb FROM huge WHERE id = 3))::numeric, 4)
FROM huge ORDER BY emb <-> (SELECT emb FROM huge WHERE id = 3) LIMIT 3;
RESET enable_indexscan;

-- the int8 code kernel (in the mrl.simd kernel table): every kernel set this
-- CPU runs gives the bounds the portable one gives; coarse dims from 5 to
-- 100 take each kernel through its vector loop and its tail
CREATE TABLE fk AS
SELECT i, c, array(SELECT sin(i * 13 + j)::real FROM generate_series(1, 128) j)::mvector AS a,
       array(SELECT cos(i * 7 + j)::real FROM generate_series(1, 128) j)::mvector AS q
FROM generate_series(1, 20) i, unnest('{5,8,13,16,37,64,100}'::int[]) c;
CREATE FUNCTION fk_bounds(isa text) RETURNS float8[] LANGUAGE plpgsql AS $$
DECLARE r float8[];
BEGIN
  PERFORM set_config('mrl.simd', isa, true);
  SELECT array_agg(mrl_funnel_bound(a, q, c, 'int8', m) ORDER BY i, c, m) INTO r
  FROM fk, unnest('{l2,ip,cosine}'::text[]) m;
  RETURN r;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN NULL;                -- a kernel set this CPU does not have
END $$;
-- (float rounding differs by a few 1e-6 on bounds of size 1 to 60; a wrong
-- lane or tail would be off by 1e-2 or more)
SELECT count(*) >= 1 AS scalar_ran, bool_and(worst < 1e-4) AS all_agree
FROM (SELECT isa, (SELECT max(abs(x - y)) FROM unnest(fk_bounds(isa), fk_bounds('scalar')) u(x, y)) AS worst
      FROM unnest('{scalar,avx2,avx512}'::text[]) isa) s
WHERE worst IS NOT NULL;
-- the page kernels of approximate scans (a page's int8 dot products and
-- sign-bit sums at once, in the mrl.simd kernel table): every kernel set
-- this CPU runs picks the same shortlists as the portable one.  Coarse dims
-- 5, 13 and 37 (sign bits of 15, 39 and 111 dims) take each kernel through
-- its vector loop and its tail; a shortlist of 3 and one probe make the
-- answers hang on the estimates
SELECT setseed(0.17);
CREATE TABLE fpk AS
SELECT i, array(SELECT (random() - 0.5)::real FROM generate_series(1, 160) WHERE i > 0)::mvector AS a
FROM generate_series(1, 400) i;
CREATE FUNCTION fpk_answers(isa text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  PERFORM set_config('mrl.simd', isa, true);
  PERFORM set_config('mrl.funnel_shortlist', '3', true);
  PERFORM set_config('mrl.funnel_probes', '1', true);
  SELECT array_agg(s.i ORDER BY q.i, s.n) INTO r
  FROM fpk q, LATERAL (SELECT i, row_number() OVER () AS n
                       FROM (SELECT i FROM fpk ORDER BY a <-> q.a LIMIT 3) s) s
  WHERE q.i <= 60;
  RETURN r;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN NULL;                -- a kernel set this CPU does not have
END $$;
CREATE FUNCTION fpk_agree() RETURNS TABLE (scalar_ran bool, all_agree bool) LANGUAGE sql AS $$
  SELECT count(*) >= 1, bool_and(answers = fpk_answers('scalar'))
  FROM (SELECT fpk_answers(isa) AS answers FROM unnest('{scalar,avx2,avx512}'::text[]) isa) s
  WHERE answers IS NOT NULL
$$;
SET enable_seqscan = off;
CREATE INDEX fpk_a ON fpk USING funnel (a) WITH (coarse_dims = 5, lists = 4);
SELECT * FROM fpk_agree();
DROP INDEX fpk_a;
CREATE INDEX fpk_a ON fpk USING funnel (a) WITH (coarse_dims = 13, precision = binary, lists = 4);
SELECT * FROM fpk_agree();
DROP INDEX fpk_a;
CREATE INDEX fpk_a ON fpk USING funnel (a) WITH (coarse_dims = 37, lists = 4);
SELECT * FROM fpk_agree();
RESET enable_seqscan;
DROP TABLE fpk;
DROP FUNCTION fpk_agree, fpk_answers;
-- A HOT-updated row is returned by approximate scans too: the index holds
-- the chain's root, and the row at distance g from [0,1] is id g.
CREATE TABLE hot (id int, emb mvector);
INSERT INTO hot SELECT g, array[g, 1]::real[]::mvector FROM generate_series(1, 10) g;
CREATE INDEX ON hot USING funnel (emb) WITH (coarse_dims = 2);
UPDATE hot SET id = id WHERE id <= 3;
SET enable_seqscan = off;
SET mrl.funnel_exact = off;
SELECT array_agg(id) AS approximate FROM (SELECT id FROM hot ORDER BY emb <-> '[0,1]' LIMIT 5) s;
SET mrl.funnel_exact = on;
SELECT array_agg(id) AS exact FROM (SELECT id FROM hot ORDER BY emb <-> '[0,1]' LIMIT 5) s;
RESET mrl.funnel_exact;
RESET enable_seqscan;
DROP TABLE hot;
