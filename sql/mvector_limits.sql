-- mvector's invariants hold whatever builds a value: 1 to 16,000 dims and
-- finite elements, from the aggregates' final functions (callable with any
-- float8[]), arithmetic and PCA (models: test/suites/47_model_output.sh);
-- and distances of finite vectors
-- are finite and right even where float4 sums overflow or underflow.
SET extra_float_digits = 0;
CREATE FUNCTION lim_error(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- the aggregates' final functions take a state {count, sum_1, ...}
SELECT mvector_avg('{2,4,6}'), mvector_sum('{2,4,6}');		-- [2,3] and [4,6]
SELECT mvector_avg('{0,1}') IS NULL AS no_rows;
SELECT lim_error($$SELECT mvector_avg('{1,NaN}')$$);
SELECT lim_error($$SELECT mvector_sum('{1,1,Infinity}')$$);
SELECT lim_error($$SELECT mvector_sum('{1,1e300}')$$);
SELECT lim_error($$SELECT mvector_avg('{}')$$);
SELECT lim_error($$SELECT mvector_avg('{{1,2}}')$$);
-- sizes past the limit, including those an int16 would wrap to -32767 and 1
SELECT n, lim_error(format('SELECT mvector_sum(array_fill(1::float8, ARRAY[%s]))', n))
FROM (VALUES (16001), (16002), (32770), (65538)) t(n);
SELECT mrl_dims(mvector_sum(array_fill(1::float8, ARRAY[16001])) ) AS largest;
-- through the aggregates themselves
SELECT avg(v) FROM (VALUES ('[3e38]'::mvector), ('[3e38]')) t(v);
SELECT lim_error($$SELECT sum(v) FROM (VALUES ('[3e38]'::mvector), ('[3e38]')) t(v)$$);
-- arithmetic and concatenation
SELECT lim_error($$SELECT '[3e38]'::mvector * '[2]'$$);
SELECT lim_error($$SELECT '[-3e38]'::mvector - '[3e38]'$$);
SELECT lim_error($$SELECT array_fill(1, ARRAY[8000])::mvector || array_fill(1, ARRAY[8001])::mvector$$);

-- PCA of points on the line y = x near float4's limits (the covariance
-- overflowed: a NaN direction) and among denormals (it underflowed to 0):
-- means (3e38 - 3e38 + 1e38) / 3 = 3.33333e37 and (2e-40 - 1e-40 + 2e-40)
-- / 3 = 1e-40 (to the few digits denormals carry), direction (1, 1) / sqrt 2
-- = 0.70711
CREATE FUNCTION lim_round(v mvector, scale numeric, digits int) RETURNS numeric[]
LANGUAGE sql AS $$
	SELECT array_agg(round(x::numeric * scale, digits)) FROM unnest(v::real[]) x
$$;
SELECT lim_round(p[1], 1e-37, 5) AS mean_e37, lim_round(p[2], 1, 5) AS direction
FROM (SELECT mrl_pca_fit(v, 1) AS p
	FROM (VALUES ('[3e38,3e38]'::mvector), ('[-3e38,-3e38]'), ('[1e38,1e38]')) t(v)) s;
SELECT lim_round(p[1], 1e40, 4) AS mean_e_minus_40, lim_round(p[2], 1, 5) AS direction
FROM (SELECT mrl_pca_fit(v, 1) AS p
	FROM (VALUES ('[2e-40,2e-40]'::mvector), ('[-1e-40,-1e-40]'), ('[2e-40,2e-40]')) t(v)) s;
-- a projection beyond float4's range is an overflow, not infinity
SELECT lim_error($$SELECT mrl_pca_apply(ARRAY['[0,0]', '[0.7071068,0.7071068]']::mvector[], '[3e38,3e38]')$$);

-- distances: hand-checked cases where float4 sums overflow or underflow
-- (relative errors, the inputs being float4 roundings of the decimals)
SELECT '[1e-40]'::mvector <=> '[1e-40]' AS same_direction,	-- 0, not NaN
	'[1e-40,0]'::mvector <=> '[0,1e-40]' AS orthogonal,			-- 1
	abs(('[3e38,1e38]'::mvector <=> '[1e38,3e38]') - 0.4) < 1e-6 AS cos_large_ok,	-- 1 - 6/10
	abs(('[3e38,3e38]'::mvector <-> '[-3e38,-3e38]') / (6e38 * sqrt(2)) - 1) < 1e-6 AS l2_large_ok,
	abs(('[3e38,-3e38]'::mvector <+> '[-3e38,3e38]') / 12e38 - 1) < 1e-6 AS l1_large_ok,
	abs(('[3e38,3e38]'::mvector <#> '[3e38,3e38]') / -18e76 - 1) < 1e-6 AS ip_large_ok,
	abs(('[1e-30]'::mvector <-> '[0]') / 1e-30 - 1) < 1e-6 AS l2_tiny_ok,	-- not 0
	abs(('[1e-30,1e-30]'::mvector <#> '[2e-30,3e-30]') / -5e-60 - 1) < 1e-6 AS ip_tiny_ok;
-- against an independent float8 computation in SQL, for every kernel set
-- this CPU has: random vectors of odd sizes (SIMD tails) at scales where
-- squares and products overflow (1e20 to 3e38), underflow (1e-20 to 1e-40,
-- the last denormal), and mixed
SELECT setseed(0.25);
CREATE TABLE lim_rand AS
	SELECT scale, n, k,
		array_agg((sa * (0.5 + random() / 2) * (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END))::real ORDER BY j) AS a,
		array_agg((sb * (0.5 + random() / 2) * (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END))::real ORDER BY j) AS b
	FROM (VALUES ('3e38', 3e38, 3e38), ('1e20', 1e20, 1e20), ('1e-20', 1e-20, 1e-20),
			('1e-40', 1e-40, 1e-40), ('mixed', 1e20, 1e-20)) s(scale, sa, sb),
		(VALUES (1), (7), (17), (33), (100)) d(n),
		generate_series(1, 5) k, generate_series(1, n) j
	GROUP BY scale, n, k;
CREATE TABLE lim_ref AS
	SELECT scale, n, k, a::mvector AS va, b::mvector AS vb,
		(SELECT sqrt(sum((x::float8 - y) ^ 2)) FROM unnest(a, b) u(x, y)) AS l2,
		(SELECT sum(x::float8 * y) FROM unnest(a, b) u(x, y)) AS ip,
		(SELECT sum(abs(x::float8 * y)) FROM unnest(a, b) u(x, y)) AS ip_scale,
		(SELECT sum(abs(x::float8 - y)) FROM unnest(a, b) u(x, y)) AS l1,
		(SELECT 1 - sum(x::float8 * y) / sqrt(sum(x::float8 * x) * sum(y::float8 * y)) FROM unnest(a, b) u(x, y)) AS cos,
		(SELECT sqrt(sum((x::float8 - y) ^ 2)) FROM unnest(a[1:(n + 1) / 2], b[1:(n + 1) / 2]) u(x, y)) AS l2_half,
		(SELECT 1 - sum(x::float8 * y) / sqrt(sum(x::float8 * x) * sum(y::float8 * y))
			FROM unnest(a[1:(n + 1) / 2], b[1:(n + 1) / 2]) u(x, y)) AS cos_half
	FROM lim_rand;
CREATE TABLE lim_err (kernel text, scale text, l2 float8, ip float8, l1 float8, cos float8,
	l2_prefix float8, cos_prefix float8);
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
		-- relative errors (inner products relative to the sum of |a_i b_i|)
		INSERT INTO lim_err
		SELECT kernel, scale,
			max(abs((va <-> vb) - l2) / l2), max(abs(-(va <#> vb) - ip) / ip_scale),
			max(abs((va <+> vb) - l1) / l1), max(abs((va <=> vb) - cos)),
			max(abs(mrl_l2_distance(va, vb, (n + 1) / 2) - l2_half) / l2_half),
			max(abs(mrl_cosine_distance(va, vb, (n + 1) / 2) - cos_half))
		FROM lim_ref GROUP BY scale;
	END LOOP;
	PERFORM set_config('mrl.simd', 'auto', false);
END $$;
SELECT scale, bool_and(l2 < 1e-6) AS l2_ok, bool_and(ip < 1e-6) AS ip_ok,
	bool_and(l1 < 1e-6) AS l1_ok, bool_and(cos < 1e-6) AS cos_ok,
	bool_and(l2_prefix < 1e-6) AS l2_prefix_ok, bool_and(cos_prefix < 1e-6) AS cos_prefix_ok
FROM lim_err GROUP BY scale ORDER BY scale;
SELECT bool_or(kernel = 'scalar') AS scalar_checked FROM lim_err;
DROP TABLE lim_rand, lim_ref, lim_err;
