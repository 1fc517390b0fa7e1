-- pgvector's function names on mvector (README: Coming from pgvector).
-- Expected values are hand-computed; pgvector 0.8.6 gives the same on vector.

-- a = [1,2,2] (norm 3), b = [2,-1,2] (norm 3): a - b = (-1,3,0), a.b = 4
SELECT round(l2_distance('[1,2,2]'::mvector, '[2,-1,2]')::numeric, 6) AS l2,	-- sqrt 10 = 3.162278
	inner_product('[1,2,2]'::mvector, '[2,-1,2]') AS ip,						-- 4
	round(cosine_distance('[1,2,2]'::mvector, '[2,-1,2]')::numeric, 6) AS cos,	-- 1 - 4/9 = 0.555556
	l1_distance('[1,2,2]'::mvector, '[2,-1,2]') AS l1;							-- 1 + 3 + 0 = 4
-- the same as the operators
SELECT l2_distance(a, b) = a <-> b AS l2, -inner_product(a, b) = a <#> b AS ip,
	cosine_distance(a, b) = a <=> b AS cos, l1_distance(a, b) = a <+> b AS l1
	FROM (VALUES ('[0.5,-1.25,3]'::mvector, '[2,0.75,-1]'::mvector)) t(a, b);
SELECT l2_distance('[1,2]'::mvector, '[1,2,3]');

SELECT vector_dims('[1,2,3]'::mvector), vector_norm('[3,4]'::mvector);		-- 3, 5
SELECT l2_normalize('[3,4]'::mvector), l2_normalize('[0,0]'::mvector);		-- [0.6,0.8], zero stays zero

-- subvector(v, start, count): 1-based, an offset, clipped like substring
SELECT subvector('[1,2,3,4,5]'::mvector, 2, 3) AS middle,		-- [2,3,4]
	subvector('[1,2,3,4,5]'::mvector, 1, 5) AS whole,
	subvector('[1,2,3,4,5]'::mvector, 5, 1) AS last,			-- [5]
	subvector('[1,2,3,4,5]'::mvector, 4, 10) AS past_end,		-- [4,5]
	subvector('[1,2,3,4,5]'::mvector, 0, 3) AS from_zero,		-- positions 0..2: [1,2]
	subvector('[1,2,3,4,5]'::mvector, -1, 3) AS from_minus_one,	-- positions -1..1: [1]
	subvector('[1,2,3,4,5]'::mvector, 2, 2147483647) AS huge_count;	-- [2,3,4,5]
SELECT subvector('[1,2,3,4,5]'::mvector, 1, 0);
SELECT subvector('[1,2,3,4,5]'::mvector, 6, 1);
SELECT subvector('[1,2,3,4,5]'::mvector, -5, 2);
SELECT subvector('[1,2,3,4,5]'::mvector, 2147483647, 1);
SELECT subvector('[1,2,3,4,5]'::mvector, -2147483648, 2147483647);

-- a value stored out of line is read through a slice up to start + count
CREATE TABLE t_sub (v mvector);
ALTER TABLE t_sub ALTER COLUMN v SET STORAGE external;
INSERT INTO t_sub SELECT array_agg(i)::real[] FROM generate_series(1, 3000) i;
SELECT subvector(v, 100, 3) AS early, subvector(v, 2999, 5) AS tail, vector_dims(subvector(v, -10, 3000)) AS clipped
	FROM t_sub;																-- [100,101,102], [2999,3000], 2989
DROP TABLE t_sub;

-- binary_quantize: one bit per dimension, set where the element is > 0
SELECT binary_quantize('[1,-2,0,3.5,-0.1,2,1,1,5]'::mvector);	-- 100101111
SELECT pg_typeof(binary_quantize('[1]'::mvector));				-- bit, as pgvector

-- Hamming and Jaccard distances: 1100 vs 1010 differ in 2 bits; share 1 of 3
SELECT binary_quantize('[1,1,-1,-1]'::mvector) <~> binary_quantize('[1,-1,1,-1]'::mvector) AS hamming,
	round((binary_quantize('[1,1,-1,-1]'::mvector) <%> binary_quantize('[1,-1,1,-1]'::mvector))::numeric, 6) AS jaccard;
-- on plain bit values, as pgvector's queries write them; 100 bits: whole
-- 64-bit words and a tail
SELECT B'1100' <~> B'1010' AS hamming, hamming_distance(B'1100', B'1010') AS hamming_fn,
	repeat('1', 100)::bit(100) <~> repeat('10', 50)::bit(100) AS hamming_100,		-- 50
	repeat('1', 100)::bit(100) <%> repeat('10', 50)::bit(100) AS jaccard_100,		-- 1 - 50/100
	(repeat('0', 99) || '1')::bit(100) <~> repeat('0', 100)::bit(100) AS last_bit,	-- 1
	B'0101' <%> B'1010' AS jaccard_disjoint, B'0000' <%> B'0000' AS jaccard_empty,	-- 1, 1
	jaccard_distance(B'1', B'1') AS jaccard_same;									-- 0
SELECT B'1' <~> B'11';
SELECT B'1' <%> B'11';

-- pgvector declares the same names on bit in the same schema: they must not
-- clash with ours, and then its exact (bit, bit) match is the one chosen
CREATE FUNCTION hamming_distance(bit, bit) RETURNS double precision
	AS 'SELECT -1::double precision' LANGUAGE sql IMMUTABLE;
CREATE FUNCTION jaccard_distance(bit, bit) RETURNS double precision
	AS 'SELECT -1::double precision' LANGUAGE sql IMMUTABLE;
CREATE OPERATOR <~> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = bit, RIGHTARG = bit, PROCEDURE = jaccard_distance, COMMUTATOR = '<%>');
CREATE FUNCTION binary_quantize(real[]) RETURNS bit
	AS 'SELECT B''1''' LANGUAGE sql IMMUTABLE;
SELECT B'1100' <~> B'1010' AS theirs, binary_quantize('[1,-1]'::mvector) AS ours;
DROP OPERATOR <~> (bit, bit);
DROP OPERATOR <%> (bit, bit);
DROP FUNCTION hamming_distance(bit, bit), jaccard_distance(bit, bit), binary_quantize(real[]);
SELECT B'1100' <~> B'1010' AS ours_again;
