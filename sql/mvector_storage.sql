-- storage: 768-dim vectors stay inline (STORAGE main), 3072-dim go out of line
SELECT typstorage FROM pg_type WHERE typname = 'mvector';
CREATE TABLE t_store (id int, v mvector);
INSERT INTO t_store SELECT i, array_agg(cos(i + j)::real)::mvector
	FROM generate_series(1, 10) i, generate_series(1, 768) j GROUP BY i;
SELECT pg_relation_size(reltoastrelid) AS toast_bytes FROM pg_class WHERE relname = 't_store';
SELECT min(pg_column_size(v)), max(pg_column_size(v)) FROM t_store;
DROP TABLE t_store;
