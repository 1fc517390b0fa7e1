-- mhalfvec: half-precision Matryoshka embeddings.  Rounding expectations
-- come from numpy (test/mhalfvec/reference.py table); distances from SQL
-- float8 arithmetic over the halves' exact values.

-- each element read as a float4 and rounded to the nearest half, ties to
-- even (numpy float16's bits and text); printed as pgvector's halfvec does
CREATE TABLE half_ref (lit text, bits text, txt text);
INSERT INTO half_ref VALUES
	('0.1', '2e66', '0.099975586'),
	('1', '3c00', '1'),
	('-2.5', 'c100', '-2.5'),
	('65504', '7bff', '65504'),
	('65519', '7bff', '65504'),
	('65519.99', '7bff', '65504'),
	('65505', '7bff', '65504'),
	('-65519', 'fbff', '-65504'),
	('1e-8', '0000', '0'),
	('2.9802322e-8', '0000', '0'),
	('3e-8', '0001', '5.9604645e-08'),
	('5.9604645e-8', '0001', '5.9604645e-08'),
	('6.1035156e-5', '0400', '6.1035156e-05'),
	('6.097555e-5', '03ff', '6.097555e-05'),
	('1.0009766', '3c01', '1.0009766'),
	('1.00048828125', '3c00', '1'),
	('1.00146484375', '3c02', '1.0019531'),
	('2049', '6800', '2048'),
	('2051', '6802', '2052'),
	('-0', '8000', '-0'),
	('0.333333', '3555', '0.33325195'),
	('-123.456', 'd7b7', '-123.4375'),
	('1000.5', '63d1', '1000.5'),
	('1.001358e-05', '00a8', '1.001358e-05');
SELECT lit, encode(substr(mhalfvec_send(('[' || lit || ']')::mhalfvec), 5), 'hex') = bits AS bits_ok,
	('[' || lit || ']')::mhalfvec::text = '[' || txt || ']' AS text_ok
FROM half_ref;
-- all of them in one vector, through mvector and through real[]
SELECT ('[' || string_agg(lit, ',') || ']')::mvector::mhalfvec::text = '[' || string_agg(txt, ',') || ']' AS from_mvector,
	('{' || string_agg(lit, ',') || '}')::real[]::mhalfvec::text = '[' || string_agg(txt, ',') || ']' AS from_real_array
FROM half_ref;
-- text reads back to the same halves
SELECT bool_and(('[' || txt || ']')::mhalfvec = ('[' || lit || ']')::mhalfvec) AS text_round_trip FROM half_ref;
DROP TABLE half_ref;

-- widening is exact: mhalfvec -> mvector -> mhalfvec keeps every value
SELECT '[0.1,-2.5,65504,5.9604645e-08,6.1035156e-05]'::mhalfvec::mvector;
SELECT '[0.1,-2.5,65504,5.9604645e-08]'::mhalfvec::mvector::mhalfvec = '[0.1,-2.5,65504,5.9604645e-08]'::mhalfvec AS same;
SELECT '[1.5,-0.25]'::mhalfvec::real[], ARRAY[1,2]::mhalfvec, ARRAY[1.5,2]::float8[]::mhalfvec, ARRAY[0.1]::numeric[]::mhalfvec;

-- out of range: past the largest half (22003); NaN, infinities (22000)
SELECT '[65520]'::mhalfvec;
SELECT '[-70000]'::mhalfvec;
SELECT '[1e39]'::mhalfvec;
SELECT '[70000]'::mvector::mhalfvec;
SELECT ARRAY[65520]::real[]::mhalfvec;
SELECT ARRAY[1e10]::float8[]::mhalfvec;
SELECT '[NaN]'::mhalfvec;
SELECT '[1,-Infinity]'::mhalfvec;
SELECT ARRAY['NaN']::real[]::mhalfvec;
-- malformed (22P02), empty, too many dims; messages name mhalfvec
SELECT '[1,,2]'::mhalfvec;
SELECT '[0x10]'::mhalfvec;
SELECT '[]'::mhalfvec;
SELECT ('[' || repeat('1,', 16000) || '1]')::mhalfvec;
SELECT array_fill(1, ARRAY[16001])::mhalfvec;

-- typmod
SELECT '[1,2]'::mhalfvec(2), '[1,2]'::mvector::mhalfvec(2);
SELECT '[1,2]'::mhalfvec(3);
SELECT '[1,2]'::mvector::mhalfvec(3);
SELECT '[1,2]'::mhalfvec::mvector(3);
SELECT NULL::mhalfvec(0);
SELECT NULL::mhalfvec(16001);
CREATE TABLE half_typmod (v mhalfvec(3));
INSERT INTO half_typmod VALUES ('[1,2,3]'), ('[4,5,6]'::mvector), (ARRAY[7,8,9]);
INSERT INTO half_typmod VALUES ('[1,2]');
SELECT v FROM half_typmod ORDER BY v;
SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'half_typmod'::regclass AND attname = 'v';
DROP TABLE half_typmod;

-- untyped literals read as mvector (the preferred type); an mvector meets
-- an mhalfvec through the implicit cast to mhalfvec
SELECT pg_typeof(mrl_truncate('[1,2,3]', 2)), pg_typeof('[1,2]' <=> '[3,4]');
SELECT pg_typeof('[1,2]'::mhalfvec # 1), '[1,2]'::mhalfvec <-> '[3.1,4]'::mvector;
SELECT '[1,2]'::mhalfvec = '[1,2]'::mvector AS mixed_equal;
SELECT avg(v) FROM (VALUES ('[1,2]'::mhalfvec)) t(v);	-- no half aggregates: cast to mvector
SELECT avg(v::mvector) FROM (VALUES ('[1,2]'::mhalfvec), ('[2,3]')) t(v);

-- comparison: element by element as numbers, then by size; 0 = -0
SELECT '[1,2]'::mhalfvec < '[1,3]', '[-1]'::mhalfvec < '[-0.5]', '[-2]'::mhalfvec < '[1]',
	'[0]'::mhalfvec = '[-0]', '[1]'::mhalfvec < '[1,0]', '[65504]'::mhalfvec > '[-65504]',
	'[5.9604645e-08]'::mhalfvec > '[0]', '[-5.9604645e-08]'::mhalfvec < '[-0]';
SELECT mhalfvec_cmp('[1,2]', '[1,2]'), mhalfvec_cmp('[1,3]', '[1,2]'), mhalfvec_cmp('[1]', '[1,2]');
-- btree and hash agree with the order of the mvector values
SELECT setseed(0.5);
CREATE TABLE half_sort AS
	SELECT i, array_agg(round((random() * 4 - 2)::numeric, 1) ORDER BY j)::real[]::mhalfvec AS v
	FROM generate_series(1, 300) i, generate_series(1, 3) j GROUP BY i;
SELECT (SELECT array_agg(i ORDER BY v, i) FROM half_sort) = (SELECT array_agg(i ORDER BY v::mvector, i) FROM half_sort) AS btree_order;
SET enable_sort = off;
SELECT count(DISTINCT v) = (SELECT count(DISTINCT v::mvector) FROM half_sort) AS hash_distinct FROM half_sort;
RESET enable_sort;
SELECT mhalfvec_hash('[0,1]') = mhalfvec_hash('[-0,1]') AS zero_hash;
CREATE INDEX ON half_sort (v);
SET enable_seqscan = off;
SELECT count(*) = (SELECT count(*) FROM half_sort WHERE v::mvector >= '[1,0,0]') AS btree_index
FROM half_sort WHERE v >= '[1,0,0]';
RESET enable_seqscan;
DROP TABLE half_sort;

-- distances: operators, pgvector's names and the mrl_ functions against
-- float8 sums over the exact halves, for every kernel set this CPU has
-- (under scalar, the portable kernels, which widen 256-element blocks; under
-- the others, F16C's 16-element steps); the sizes take each through its
-- loop, its tail and the blocks' edges
SELECT setseed(0.125);
CREATE TABLE half_rand AS
	SELECT n, k,
		array_agg(((random() - 0.5) * 8)::real ORDER BY j)::mhalfvec AS va,
		array_agg(((random() - 0.5) * 8)::real ORDER BY j)::mhalfvec AS vb
	FROM (VALUES (1), (7), (8), (15), (16), (17), (255), (256), (257), (700)) d(n),
		generate_series(1, 4) k, generate_series(1, n) j
	GROUP BY n, k;
CREATE TABLE half_ref AS
	SELECT n, k, va, vb, a, b,
		(SELECT sqrt(sum((x::float8 - y) ^ 2)) FROM unnest(a, b) u(x, y)) AS l2,
		(SELECT sum(x::float8 * y) FROM unnest(a, b) u(x, y)) AS ip,
		(SELECT sum(abs(x::float8 * y)) FROM unnest(a, b) u(x, y)) AS ip_scale,
		(SELECT sum(abs(x::float8 - y)) FROM unnest(a, b) u(x, y)) AS l1,
		(SELECT 1 - sum(x::float8 * y) / sqrt(sum(x::float8 * x) * sum(y::float8 * y)) FROM unnest(a, b) u(x, y)) AS cos,
		(SELECT sqrt(sum((x::float8 - y) ^ 2)) FROM unnest(a[1:(n + 1) / 2], b[1:(n + 1) / 2]) u(x, y)) AS l2_half,
		(SELECT 1 - sum(x::float8 * y) / sqrt(sum(x::float8 * x) * sum(y::float8 * y))
			FROM unnest(a[1:(n + 1) / 2], b[1:(n + 1) / 2]) u(x, y)) AS cos_half,
		(SELECT sqrt(sum(x::float8 * x)) FROM unnest(a) u(x)) AS norm
	FROM (SELECT n, k, va, vb, va::real[] AS a, vb::real[] AS b FROM half_rand) s;
CREATE TABLE half_err (kernel text, n int, l2 float8, ip float8, l1 float8, cos float8,
	l2_prefix float8, cos_prefix float8, l2sq float8, names bool, norm float8);
DO $$
DECLARE
	kernel text;
BEGIN
	FOREACH kernel IN ARRAY ARRAY['scalar', 'avx2', 'avx512']
	LOOP
		BEGIN
			PERFORM set_config('mrl.simd', kernel, false);
		EXCEPTION WHEN OTHERS THEN
			CONTINUE;			-- not on this CPU
		END;
		INSERT INTO half_err
		SELECT kernel, n,
			max(abs((va <-> vb) - l2) / l2), max(abs(-(va <#> vb) - ip) / ip_scale),
			max(abs((va <+> vb) - l1) / l1), max(abs((va <=> vb) - cos)),
			max(abs(mrl_l2_distance(va, vb, (n + 1) / 2) - l2_half) / l2_half),
			max(abs(mrl_cosine_distance(va, vb, (n + 1) / 2) - cos_half)),
			max(abs(mrl_l2_squared_distance(va, vb) - l2 * l2) / (l2 * l2)),
			bool_and(l2_distance(va, vb) = (va <-> vb) AND inner_product(va, vb) = -(va <#> vb)
				AND mrl_inner_product(va, vb) = -(va <#> vb)
				AND mrl_negative_inner_product(va, vb, n) = (va <#> vb)
				AND cosine_distance(va, vb) = (va <=> vb) AND l1_distance(va, vb) = (va <+> vb)
				AND mrl_l1_distance(va, vb, n) = (va <+> vb)
				AND mrl_l2_squared_distance(va, vb, n) = mrl_l2_squared_distance(va, vb)),
			max(abs(mrl_norm(va) - norm) / norm)
		FROM half_ref GROUP BY n;
	END LOOP;
	PERFORM set_config('mrl.simd', 'auto', false);
END $$;
SELECT n, bool_and(l2 < 1e-6) AS l2_ok, bool_and(ip < 1e-6) AS ip_ok, bool_and(l1 < 1e-6) AS l1_ok,
	bool_and(cos < 1e-6) AS cos_ok, bool_and(l2_prefix < 1e-6) AS l2_prefix_ok,
	bool_and(cos_prefix < 1e-6) AS cos_prefix_ok, bool_and(l2sq < 1e-6) AS l2sq_ok,
	bool_and(names) AS names_ok, bool_and(norm < 1e-12) AS norm_ok
FROM half_err GROUP BY n ORDER BY n;
SELECT bool_or(kernel = 'scalar') AS scalar_checked, count(DISTINCT kernel) > 1 AS another_checked FROM half_err;
-- the same values as mvector give the same distances, to float rounding
SELECT max(abs((va <-> vb) - (va::mvector <-> vb::mvector)) / l2) < 1e-6
	AND max(abs((va <=> vb) - (va::mvector <=> vb::mvector))) < 1e-6 AS as_mvector FROM half_ref;
DROP TABLE half_rand, half_ref, half_err;
SELECT '[1,2]'::mhalfvec <-> '[1,2,3]'::mhalfvec;
SELECT mrl_l2_distance('[1,2]'::mhalfvec, '[1,2,3]'::mhalfvec, 3);
SELECT '[0,0]'::mhalfvec <=> '[1,2]'::mhalfvec AS zero_cosine;

-- truncation, norms and pgvector's names
SELECT '[1,2,3,4]'::mhalfvec # 2, mrl_truncate('[3,4,5]'::mhalfvec, 2), mrl_truncate('[3,4,5]'::mhalfvec, 2, true),
	mrl_truncate('[0,0,5]'::mhalfvec, 2, true);
SELECT mrl_truncate('[3,4,5]'::mhalfvec, 2, renormalize => true) AS named;
SELECT mrl_truncate('[1,2]'::mhalfvec, 3);
SELECT '[1,2]'::mhalfvec # 0;
SELECT subvector('[1,2,3,4,5]'::mhalfvec, 2, 3), subvector('[1,2,3,4,5]'::mhalfvec, -1, 3),
	subvector('[1,2,3,4,5]'::mhalfvec, 4, 10);
SELECT subvector('[1,2,3]'::mhalfvec, 4, 1);
SELECT subvector('[1,2,3]'::mhalfvec, 1, 0);
SELECT mrl_dims('[1,2,3]'::mhalfvec), vector_dims('[1]'::mhalfvec), mrl_norm('[3,4]'::mhalfvec),
	l2_norm('[3,4]'::mhalfvec), mrl_normalize('[3,4]'::mhalfvec), l2_normalize('[0,0]'::mhalfvec);

-- storage: two bytes per element, inline up to a few thousand dims
SELECT typstorage, typalign FROM pg_type WHERE typname = 'mhalfvec';
CREATE TABLE half_store (id int, v mhalfvec);
INSERT INTO half_store SELECT i, array_agg(cos(i + j)::real)::mhalfvec
	FROM generate_series(1, 4) i, generate_series(1, 768) j GROUP BY i;
SELECT pg_column_size(v) AS bytes_768 FROM half_store LIMIT 1;
-- a 16,000-dim value goes out of line; prefix distances slice it
INSERT INTO half_store SELECT 10 + i, array_agg(sin(i * j)::real)::mhalfvec
	FROM generate_series(1, 3) i, generate_series(1, 16000) j GROUP BY i;
SELECT pg_relation_size(reltoastrelid) > 0 AS toasted FROM pg_class WHERE relname = 'half_store';
SELECT bool_and(abs(mrl_cosine_distance(v, q, 64) - (mrl_truncate(v, 64) <=> mrl_truncate(q, 64))) < 1e-12) AS slice_ok,
	bool_and(mrl_l2_distance(v, q, 16000) = (v <-> q)) AS full_ok, min(mrl_dims(v)) AS dims
FROM half_store, (SELECT v AS q FROM half_store WHERE id = 11) q WHERE id > 10;
SELECT mrl_truncate(v, 3)::text, subvector(v, 15999, 5)::text FROM half_store WHERE id = 11;
DROP TABLE half_store;

-- funnel opclasses: exact scans return what a sequential scan returns; the
-- index codes the widened floats, so approximate scans find what they find
-- on an mvector column of the same values; inserts after the build too
SELECT setseed(0.75);
CREATE TABLE half_idx AS
	SELECT i AS id, array_agg(((random() - 0.5) / sqrt(j))::real ORDER BY j)::real[] AS a
	FROM generate_series(1, 2000) i, generate_series(1, 48) j GROUP BY i;
ALTER TABLE half_idx ADD COLUMN h mhalfvec(48), ADD COLUMN f mvector(48);
UPDATE half_idx SET h = a, f = a::mhalfvec::mvector WHERE id <= 1500;
CREATE INDEX half_idx_h_l2 ON half_idx USING funnel (h) WITH (coarse_dims = 16);
CREATE INDEX half_idx_h_ip ON half_idx USING funnel (h mhalfvec_ip_ops) WITH (coarse_dims = 16);
CREATE INDEX half_idx_h_cos ON half_idx USING funnel (h mhalfvec_cosine_ops) WITH (coarse_dims = 16, precision = binary);
CREATE INDEX half_idx_f_l2 ON half_idx USING funnel (f) WITH (coarse_dims = 16);
CREATE INDEX half_idx_f_ip ON half_idx USING funnel (f mvector_ip_ops) WITH (coarse_dims = 16);
CREATE INDEX half_idx_f_cos ON half_idx USING funnel (f mvector_cosine_ops) WITH (coarse_dims = 16, precision = binary);
UPDATE half_idx SET h = a, f = a::mhalfvec::mvector WHERE id > 1500;
SELECT opcname, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = opcmethod
WHERE amname = 'funnel' AND opcintype = 'mhalfvec'::regtype ORDER BY opcname;
-- an mvector query meets the mhalfvec index through the implicit cast
SET enable_seqscan = off;
\i test/funnel/funnel_plan.sql
SELECT pg_temp.funnel_plan($$SELECT id FROM half_idx ORDER BY h <=> (SELECT f FROM half_idx WHERE id = 1) LIMIT 5$$);
RESET enable_seqscan;
CREATE FUNCTION half_top(col text, op text, q int, mode text) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
	PERFORM set_config('enable_indexscan', (mode <> 'seq')::text, true);
	PERFORM set_config('enable_seqscan', (mode = 'seq')::text, true);
	PERFORM set_config('mrl.funnel_exact', (mode = 'exact')::text, true);
	PERFORM set_config('jit', 'off', true);	-- disabled plans' costs would compile every query
	EXECUTE format('SELECT array_agg(id) FROM (SELECT id FROM half_idx ORDER BY %I %s (SELECT %I FROM half_idx WHERE id = %s) LIMIT 10) s',
				   col, op, col, q) INTO r;
	RETURN r;
END $$;
SELECT op, count(*) AS queries,
	count(*) FILTER (WHERE half_top('h', op, q, 'exact') = half_top('h', op, q, 'seq')) AS exact_as_seqscan,
	count(*) FILTER (WHERE half_top('h', op, q, 'approx') = half_top('f', op, q, 'approx')) AS approx_as_mvector
FROM unnest(ARRAY['<->', '<#>', '<=>']) op, generate_series(7, 1995, 104) q
GROUP BY op ORDER BY op;
DROP FUNCTION half_top(text, text, int, text);
DROP TABLE half_idx;
