-- distances: full-dimension operators and prefix-aware functions

-- hand-checked values
SELECT '[1,2,3]'::mvector <-> '[4,6,3]' AS l2;             -- sqrt(9+16) = 5
SELECT mrl_l2_squared_distance('[1,2,3]', '[4,6,3]');       -- 25
SELECT '[1,2,3]'::mvector <#> '[4,5,6]' AS neg_ip;          -- -(4+10+18) = -32
SELECT mrl_inner_product('[1,2,3]', '[4,5,6]');             -- 32
SELECT '[1,0]'::mvector <=> '[0,1]' AS orthogonal,          -- 1
	'[1,1]'::mvector <=> '[2,2]' AS same_direction,          -- 0
	'[1,1]'::mvector <=> '[-3,-3]' AS opposite;              -- 2
SELECT '[1,2,3]'::mvector <+> '[4,0,3]' AS l1;              -- 3+2+0 = 5
SELECT '[1,2]'::mvector <=> '[0,0]' AS zero_vector;         -- NaN: no direction

-- prefix forms: over the first d dims only
SELECT mrl_l2_distance('[1,2,100]', '[4,6,-100]', 2);       -- 5
SELECT mrl_inner_product('[1,2,100]', '[4,5,100]', 2);      -- 14
SELECT mrl_negative_inner_product('[1,2,100]', '[4,5,100]', 2);
SELECT mrl_cosine_distance('[1,0,5]', '[0,1,5]', 2);        -- 1
SELECT mrl_l1_distance('[1,2,100]', '[4,0,0]', 2);          -- 5
SELECT mrl_l2_squared_distance('[1,2,100]', '[4,6,-100]', 2);
-- prefix of vectors with different sizes (a 3-dim query against a 5-dim row)
SELECT mrl_cosine_distance('[1,2,3,9,9]', '[1,2,3]', 3);
-- the prefix cosine equals the cosine of the truncated vectors
SELECT mrl_cosine_distance('[1,2,3,4]', '[4,3,2,1]', 2) = (mrl_truncate('[1,2,3,4]', 2) <=> mrl_truncate('[4,3,2,1]', 2));

-- errors
SELECT '[1,2]'::mvector <-> '[1,2,3]';
SELECT '[1,2]'::mvector <=> '[1,2,3]';
SELECT mrl_l2_distance('[1,2]', '[1,2,3]', 3);
SELECT mrl_cosine_distance('[1,2]', '[1,2]', 0);
SELECT mrl_inner_product('[1,2]', '[1,2]', -5);
DO $$
BEGIN
	PERFORM '[1,2]'::mvector <-> '[1,2,3]';
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'dimension mismatch -> %', SQLSTATE;
END $$;
DO $$
BEGIN
	PERFORM mrl_l1_distance('[1,2]', '[1,2]', 3);
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'prefix out of range -> %', SQLSTATE;
END $$;

-- every distance on random vectors agrees with an independent float8
-- computation in SQL, over odd sizes that exercise the SIMD tails
CREATE TABLE t_rand AS
	SELECT n, k, array_agg((random() * 2 - 1)::real ORDER BY j) AS a, array_agg((random() * 2 - 1)::real ORDER BY j) AS b
	FROM (VALUES (1), (7), (15), (16), (17), (31), (33), (64), (100), (768), (1537)) d(n),
		generate_series(1, 20) k, generate_series(1, n) j
	GROUP BY n, k;
CREATE TABLE t_ref AS
	SELECT n, k, a::mvector AS va, b::mvector AS vb,
		(SELECT sqrt(sum((x - y)::float8 ^ 2)) FROM unnest(a, b) u(x, y)) AS l2,
		(SELECT sum(x::float8 * y) FROM unnest(a, b) u(x, y)) AS ip,
		(SELECT sum(abs(x::float8 * y)) FROM unnest(a, b) u(x, y)) AS ip_scale,
		(SELECT sum(abs(x::float8 - y)) FROM unnest(a, b) u(x, y)) AS l1,
		(SELECT 1 - sum(x::float8 * y) / sqrt(sum(x::float8 * x) * sum(y::float8 * y)) FROM unnest(a, b) u(x, y)) AS cos,
		(SELECT sqrt(sum((x - y)::float8 ^ 2)) FROM unnest(a[1:(n + 1) / 2], b[1:(n + 1) / 2]) u(x, y)) AS l2_half,
		(SELECT 1 - sum(x::float8 * y) / sqrt(sum(x::float8 * x) * sum(y::float8 * y)) FROM unnest(a[1:(n + 1) / 2], b[1:(n + 1) / 2]) u(x, y)) AS cos_half
	FROM t_rand;
-- relative errors stay at float4 rounding level (inner products relative to
-- the sum of |a_i b_i|, their condition)
SELECT n,
	max(abs((va <-> vb) - l2) / greatest(l2, 1e-6)) < 1e-5 AS l2_ok,
	max(abs(-(va <#> vb) - ip) / ip_scale) < 1e-6 AS ip_ok,
	max(abs((va <+> vb) - l1) / greatest(l1, 1e-6)) < 1e-5 AS l1_ok,
	max(abs((va <=> vb) - cos)) < 1e-5 AS cos_ok,
	max(abs(mrl_l2_distance(va, vb, (n + 1) / 2) - l2_half) / greatest(l2_half, 1e-6)) < 1e-5 AS l2_prefix_ok,
	max(abs(mrl_cosine_distance(va, vb, (n + 1) / 2) - cos_half)) < 1e-5 AS cos_prefix_ok,
	bool_and(mrl_inner_product(va, vb, n) = -(va <#> vb)) AS full_prefix_same
FROM t_ref GROUP BY n ORDER BY n;

-- the portable kernels give the same answers as the ones this CPU picked
CREATE TABLE t_auto AS SELECT n, k, va <-> vb AS l2, va <#> vb AS ip, va <=> vb AS cos, va <+> vb AS l1 FROM t_ref;
SET mrl.simd = scalar;
SELECT mrl_simd_kernels();
SELECT max(abs((r.va <-> r.vb) - a.l2) / greatest(a.l2, 1e-6)) < 1e-5 AS l2_ok,
	max(abs((r.va <#> r.vb) - a.ip) / r.ip_scale) < 1e-6 AS ip_ok,
	max(abs((r.va <=> r.vb) - a.cos)) < 1e-5 AS cos_ok,
	max(abs((r.va <+> r.vb) - a.l1) / greatest(a.l1, 1e-6)) < 1e-5 AS l1_ok
FROM t_ref r JOIN t_auto a USING (n, k);
RESET mrl.simd;
SET mrl.simd = 'sse9';
DROP TABLE t_rand, t_ref, t_auto;

-- prefix distances on out-of-line values read only the prefix
CREATE TABLE t_toast (id int, v mvector);
INSERT INTO t_toast SELECT i, array_agg(sin(i * j)::real)::mvector
	FROM generate_series(1, 4) i, generate_series(1, 3072) j GROUP BY i;
SELECT pg_column_size(v) > 8000 AS out_of_line FROM t_toast LIMIT 1;
SELECT bool_and(abs(mrl_cosine_distance(v, q, 64) - (mrl_truncate(v, 64) <=> mrl_truncate(q, 64))) < 1e-12) AS slice_ok,
	bool_and(abs(mrl_l2_distance(v, q, 3072) - (v <-> q)) < 1e-9) AS full_ok
FROM t_toast, (SELECT v AS q FROM t_toast WHERE id = 1) q;
SELECT mrl_cosine_distance(v, v, 3073) FROM t_toast LIMIT 1;
DROP TABLE t_toast;

-- the functions are immutable, strict and parallel safe
SELECT proname, pronargs, proargtypes[0]::regtype AS type, provolatile, proisstrict, proparallel
FROM pg_proc WHERE proname LIKE 'mrl\_%distance' OR proname LIKE 'mrl\_%inner\_product'
ORDER BY proname, pronargs, proargtypes[0]::regtype::text;
SELECT mrl_l2_distance(NULL, '[1]'), '[1]'::mvector <=> NULL;
