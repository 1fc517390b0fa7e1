-- comparison, btree/hash, arithmetic, aggregates

SELECT '[1,2]'::mvector = '[1,2]', '[1,2]'::mvector = '[1,2,0]', '[0]'::mvector = '[-0]';
SELECT '[1,2]'::mvector < '[1,3]', '[1,2]'::mvector < '[1,2,0]', '[2]'::mvector < '[1,9]';
SELECT '[1,2]'::mvector <> '[1,2]', '[1,2]'::mvector >= '[1,2]', '[1,3]'::mvector > '[1,2,5]';
SELECT mvector_cmp('[1,2]', '[1,2]'), mvector_cmp('[1]', '[1,2]'), mvector_cmp('[3]', '[1,2]');

CREATE TABLE t_ops (id int, v mvector);
INSERT INTO t_ops VALUES (1, '[3,1]'), (2, '[1,2]'), (3, '[1,2,0]'), (4, '[1,2]'), (5, '[-1,9]'), (6, NULL), (7, '[0,0]'), (8, '[-0,0]');
SELECT v FROM t_ops ORDER BY v, id;
SELECT DISTINCT v FROM t_ops ORDER BY v;
SELECT v, count(*) FROM t_ops GROUP BY v ORDER BY v;
SET enable_sort = off;
EXPLAIN (COSTS OFF) SELECT v, count(*) FROM t_ops GROUP BY v;
SELECT v, count(*) FROM t_ops GROUP BY v ORDER BY count(*) DESC, v;
RESET enable_sort;
CREATE INDEX ON t_ops USING btree (v);
CREATE INDEX ON t_ops USING hash (v);
SET enable_seqscan = off;
SELECT id FROM t_ops WHERE v = '[1,2]' ORDER BY id;
SELECT id FROM t_ops WHERE v = '[0,0]' ORDER BY id;
RESET enable_seqscan;
CREATE UNIQUE INDEX ON t_ops (v);
DROP TABLE t_ops;

-- arithmetic
SELECT '[1,2,3]'::mvector + '[4,5,6]', '[1,2,3]'::mvector - '[4,5,6]', '[1,2,3]'::mvector * '[4,5,6]';
SELECT '[1,2]'::mvector || '[3]', mrl_concat('[1]', '[2,3]');
SELECT '[1,2]'::mvector + '[1]';
SELECT '[3e38]'::mvector + '[3e38]';
SELECT '[-3e38]'::mvector - '[3e38]';
SELECT '[1e30]'::mvector * '[1e30]';
SELECT array_fill(1, ARRAY[8000])::mvector || array_fill(1, ARRAY[8001])::mvector;

-- aggregates
SELECT avg(v), sum(v) FROM (VALUES ('[1,2]'::mvector), ('[3,5]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (VALUES (NULL::mvector)) t(v);
SELECT avg(v) FROM (VALUES ('[1,2]'::mvector), ('[3]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::mvector), ('[3e38]')) t(v);
SELECT g, avg(v) FROM (VALUES (1, '[1,1]'::mvector), (1, '[3,3]'), (2, '[10,20]')) t(g, v) GROUP BY g ORDER BY g;

-- avg and sum agree with an independent per-element computation, also in parallel
CREATE TABLE t_agg AS
	SELECT i, array_agg(((i * 31 + j * 17) % 101 - 50) / 8.0 ORDER BY j)::mvector(16) AS v
	FROM generate_series(1, 20000) i, generate_series(1, 16) j GROUP BY i;
SELECT (SELECT array_agg(round(s::numeric, 3) ORDER BY j) FROM (
		SELECT j, avg(((i * 31 + j * 17) % 101 - 50) / 8.0) AS s
		FROM generate_series(1, 20000) i, generate_series(1, 16) j GROUP BY j) r)
	= (SELECT array_agg(round(x::numeric, 3)) FROM unnest((SELECT avg(v) FROM t_agg)::real[]) x) AS avg_ok;
ALTER TABLE t_agg SET (parallel_workers = 2);
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT sum(v) FROM t_agg;
SELECT sum(v) = (SELECT sum(v) FROM (SELECT v FROM t_agg ORDER BY i) s) AS parallel_sum_ok FROM t_agg;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
DROP TABLE t_agg;
