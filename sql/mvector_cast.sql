-- casts between mvector and arrays

SELECT ARRAY[1,2,3]::mvector;
SELECT ARRAY[1.5,2,3]::real[]::mvector;
SELECT ARRAY[1.5,2,3]::double precision[]::mvector;
SELECT ARRAY[1.5,2,3]::numeric[]::mvector;
SELECT ARRAY[0.1]::double precision[]::mvector = '[0.1]'::mvector;
SELECT '[1,2.5,3]'::mvector::real[];
SELECT ('[1,2.5,3]'::mvector::real[])[2];
SELECT ARRAY[1,2,3]::mvector(3);
SELECT ARRAY[1,2,3]::mvector(2);

-- assignment casts
CREATE TABLE t_cast (v mvector(2));
INSERT INTO t_cast VALUES (ARRAY[1,2]), (ARRAY[1.5,2.5]::real[]), (ARRAY[3,4]::float8[]), (ARRAY[5,6]::numeric[]);
SELECT v FROM t_cast;
DROP TABLE t_cast;

-- bad arrays
SELECT ARRAY[[1,2],[3,4]]::mvector;
SELECT ARRAY[1,NULL,3]::mvector;
SELECT '{}'::real[]::mvector;
SELECT ARRAY['NaN']::real[]::mvector;
SELECT ARRAY['Infinity']::float8[]::mvector;
SELECT ARRAY[1e300]::float8[]::mvector;
-- underflow as pgvector: a double rounds to zero, a numeric is refused
SELECT ARRAY[1e-300, -1e-300, 1e-40]::float8[]::mvector;
SELECT ARRAY[1e-46]::numeric[]::mvector;
SELECT ARRAY['NaN']::numeric[]::mvector;
SELECT ARRAY[1e39]::numeric[]::mvector;
SELECT array_fill(1, ARRAY[16001])::real[]::mvector;

-- interop with pgvector's text form: both print and read "[a,b,c]"
SELECT '[1,2,3]'::mvector::text;
