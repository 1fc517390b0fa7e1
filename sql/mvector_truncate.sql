-- Matryoshka truncation, norms

SELECT mrl_truncate('[3,4,12]', 2);
SELECT mrl_truncate('[3,4,12]', 2, true);
SELECT mrl_truncate('[3,4,12]', 2, renormalize => true);
SELECT mrl_truncate('[3,4,12]', 3, false);
SELECT mrl_truncate('[0,0,5]', 2, true);
SELECT '[3,4,12]'::mvector # 1, '[3,4,12]'::mvector # 3;
SELECT mrl_truncate('[1,2]', 0);
SELECT mrl_truncate('[1,2]', 3);
SELECT '[1,2]'::mvector # -1;
SELECT mrl_dims('[1,2,3]'), mrl_norm('[3,4,12]'), mrl_norm('[0,0]');
SELECT mrl_normalize('[3,4]'), mrl_normalize('[0,0]'), mrl_norm(mrl_normalize('[1e-30,1e-30]'));
-- a normalised prefix is unit length whatever the prefix
SELECT d, round(mrl_norm(mrl_truncate(v, d, true))::numeric, 6)
FROM (SELECT array_agg(sin(j)::real)::mvector AS v FROM generate_series(1, 100) j) s,
	(VALUES (1), (7), (64), (100)) p(d) ORDER BY d;
-- typmod of the result can be set by the caller
SELECT mrl_truncate('[1,2,3]', 2)::mvector(2);

-- out-of-line values: the prefix comes from a slice and equals the full value's prefix
CREATE TABLE t_trunc (id int, v mvector);
ALTER TABLE t_trunc ALTER COLUMN v SET STORAGE external;
INSERT INTO t_trunc SELECT i, array_agg(((i * 13 + j * 7) % 97) / 97.0)::mvector
	FROM generate_series(1, 5) i, generate_series(1, 3072) j GROUP BY i;
SELECT bool_and(mrl_truncate(v, 64)::real[] = (v::real[])[1:64]) AS prefix_ok,
	bool_and(mrl_truncate(v, 3072) = v) AS full_ok,
	bool_and(mrl_dims(v) = 3072) AS dims_ok
FROM t_trunc;
SELECT mrl_truncate(v, 3073) FROM t_trunc LIMIT 1;
-- compressed inline values (STORAGE extended compresses a repetitive vector)
ALTER TABLE t_trunc ALTER COLUMN v SET STORAGE extended;
INSERT INTO t_trunc SELECT 100 + i, array_fill(i::real, ARRAY[3000])::mvector FROM generate_series(1, 3) i;
SELECT id, pg_column_size(v) < 3000 * 4 AS compressed, mrl_truncate(v, 3) FROM t_trunc WHERE id > 100 ORDER BY id;
DROP TABLE t_trunc;
