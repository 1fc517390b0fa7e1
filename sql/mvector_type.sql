-- mvector: text I/O, typmod, storage of large vectors, bad input.

-- text round trip: shortest text that reads back to the same float4
SELECT '[1,2.5,-3e-2]'::mvector;
SELECT '  [ 1 , 2 ,3 ]  '::mvector;
SELECT '[1.1,0.1,-0.3,3.4028235e38,1.4e-45,-1.17549435e-38]'::mvector;
SELECT '[0.1]'::mvector::text::mvector = '[0.1]'::mvector;
SELECT '[-0]'::mvector;

-- every float4 round-trips exactly through text
SELECT count(*) AS mismatches FROM (
	SELECT v, v::text::mvector AS w
	FROM (SELECT array_agg(((random() - 0.5) * 10 ^ (random() * 60 - 30))::real)::mvector AS v
		  FROM generate_series(1, 2000) i GROUP BY i % 20) s
) t WHERE v::real[]::text <> w::real[]::text;

-- malformed literals: 22P02
SELECT '1,2'::mvector;
SELECT '[1,2'::mvector;
SELECT '[1,,2]'::mvector;
SELECT '[1,2,]'::mvector;
SELECT '[1 2]'::mvector;
SELECT '[1,2] x'::mvector;
SELECT '[a]'::mvector;
SELECT '[]'::mvector;
SELECT ''::mvector;
-- only decimal numbers: strtof's hexadecimal forms are refused (22P02)
SELECT '[0x10]'::mvector;
SELECT '[0x1p3]'::mvector;
SELECT '[-0X1.8P1]'::mvector;
SELECT '[0x1p200]'::mvector;
SELECT '[1,0x]'::mvector;
SELECT '[1e]'::mvector;
SELECT '[1e+]'::mvector;
SELECT '[.]'::mvector;
SELECT '[+-1]'::mvector;
SELECT ('[' || chr(11) || '1]')::mvector;	-- a vertical tab is a space (as in pgvector)
SELECT E' \t[\n1\r,\f2\x0b]\t'::mvector;	-- the six spaces of C's isspace, anywhere
-- decimal forms that are accepted: sign, bare point, exponent, padding
SELECT '[+1,-.5,5.,+2.5E+1,1e-2, 007 ]'::mvector;
-- NaN, infinities, out of range
SELECT '[NaN]'::mvector;
SELECT '[1,Infinity]'::mvector;
SELECT '[-inf]'::mvector;
SELECT '[+infinity]'::mvector;
SELECT '[-nan]'::mvector;
SELECT '[nan(123)]'::mvector;
SELECT '[1e39]'::mvector;
-- underflow reads as zero (or a denormal), as in pgvector: 1e-46 is below
-- float4's smallest denormal 1.4e-45, 1e-40 is a denormal
SELECT '[1e-46,-1e-46,1e-40,1e-45]'::mvector;
SELECT '[1e-46]'::mvector = '[0]' AS underflow_is_zero;

-- the SQLSTATEs, for clients that branch on them
DO $$
DECLARE
	lit text;
BEGIN
	FOREACH lit IN ARRAY ARRAY['[1,,2]', '[]', '[NaN]', '[1e39]', '[0x10]', '[Infinity]']
	LOOP
		BEGIN
			PERFORM lit::mvector;
		EXCEPTION WHEN OTHERS THEN
			RAISE NOTICE '% -> %', lit, SQLSTATE;
		END;
	END LOOP;
END $$;

-- dimension limits
SELECT mrl_dims(array_fill(1, ARRAY[16000])::mvector);
SELECT mrl_dims(array_fill(1, ARRAY[16001])::mvector);
SELECT mrl_dims(('[' || repeat('1,', 16000) || '1]')::mvector);

-- typmod
SELECT '[1,2,3]'::mvector(3);
SELECT '[1,2]'::mvector(3);
SELECT '[1]'::mvector(0);
SELECT '[1]'::mvector(16001);
SELECT '[1]'::mvector(1, 2);
CREATE TABLE t_typmod (v mvector(3));
INSERT INTO t_typmod VALUES ('[1,2,3]');
INSERT INTO t_typmod VALUES ('[1,2]');
INSERT INTO t_typmod VALUES (ARRAY[1,2,3,4]);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 't_typmod'::regclass AND attname = 'v';
DROP TABLE t_typmod;

-- large vectors stored out of line read back intact
CREATE TABLE t_big (id int, v mvector);
INSERT INTO t_big SELECT i, array_agg(((i * 7919 + j) % 1000) / 1000.0 ORDER BY j)::mvector
	FROM generate_series(1, 3) i, generate_series(1, 4096) j GROUP BY i;
SELECT id, mrl_dims(v), (v::real[])[4096] AS last,
	v::real[] = (SELECT array_agg((((id * 7919 + j) % 1000) / 1000.0)::real ORDER BY j) FROM generate_series(1, 4096) j) AS intact
FROM t_big ORDER BY id;
DROP TABLE t_big;

-- binary I/O round trip through COPY
CREATE TABLE t_bin (v mvector);
INSERT INTO t_bin VALUES ('[1,-2.5,3e-7]'), ('[0]'), (NULL);
COPY t_bin TO '/tmp/mrl_regress_mvector.bin' (FORMAT binary);
CREATE TABLE t_bin2 (v mvector);
COPY t_bin2 FROM '/tmp/mrl_regress_mvector.bin' (FORMAT binary);
SELECT v FROM t_bin2;
CREATE TABLE t_bin3 (v mvector(2));
COPY t_bin3 FROM '/tmp/mrl_regress_mvector.bin' (FORMAT binary);
DROP TABLE t_bin, t_bin2, t_bin3;
