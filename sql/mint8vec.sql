-- mint8vec: int8 codes with one scale per vector.  Hand-checked values,
-- distances, truncation, casts, errors and funnel opclasses.
SET client_min_messages = warning;
\i test/funnel/funnel_plan.sql

-- scale = max |x| / 127: here 2, so 127 -> 63.5 rounds to even 64 (128),
-- -254 -> -127, 0.5 -> 0.25 -> 0; a zero vector has scale 0
SELECT '[127,-254,0.5]'::mint8vec AS v, '[0,0]'::mint8vec AS zero, '[1e-44]'::mint8vec AS tiny;
SELECT ' [ 1 , 2 ] '::mint8vec(2) AS spaced, mrl_dims('[1,2,3]'::mint8vec), mrl_norm('[127,0,0]'::mint8vec);
-- text round trip: the printed values read back to the same codes
SELECT v::text::mint8vec::text = v::text AS text_round_trip
FROM (VALUES ('[0.1,-0.2,0.3,1e-3]'::mint8vec), ('[3e38,-1e-3]'), ('[1,1,1]')) t(v);

-- with scale 1 (max 127) values are the codes: a = [127,0,-127], b = [0,127,127]
-- L2 = 127 sqrt(6) = 311.0852..., L1 = 508, a.b = -16129, cos = -0.5
SELECT a <-> b AS l2, a <+> b AS l1, a <#> b AS neg_ip, a <=> b AS cosine,
       mrl_l2_squared_distance(a, b) AS l2sq, mrl_inner_product(a, b) AS ip
FROM (SELECT '[127,0,-127]'::mint8vec a, '[0,127,127]'::mint8vec b) s;
-- prefix forms read the first d codes of each, which may differ in size
SELECT mrl_l1_distance('[127,0,-127]'::mint8vec, '[0,127,127,5]'::mint8vec, 2) AS l1_2,
       mrl_cosine_distance('[127,0,-127]'::mint8vec, '[127,1,9]'::mint8vec, 1) AS cos_1,
       mrl_l2_distance('[127,0,-127]'::mint8vec, '[0,127,127,5]'::mint8vec, 3) AS l2_3;
-- different scales: [2,1] has scale 2/127 and values [2, 128/127 = 1.007874],
-- [100,-50] 100/127 and [100, -6400/127 = -50.3937]: L2 110.6622, L1
-- 149.4016, a.b 149.2095, cosine distance 1 - 149.2095 / (2.2396 * 111.9800)
-- = 0.4050
SELECT round(('[2,1]'::mint8vec <-> '[100,-50]')::numeric, 4) AS l2,
       round(('[2,1]'::mint8vec <+> '[100,-50]')::numeric, 4) AS l1,
       round(('[2,1]'::mint8vec <#> '[100,-50]')::numeric, 4) AS neg_ip,
       round(('[2,1]'::mint8vec <=> '[100,-50]')::numeric, 4) AS cosine;
-- every distance is mvector's on the values (the cast to mvector), exactly
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE a <-> b = a::mvector <-> b::mvector AND a <+> b = a::mvector <+> b::mvector
                        AND a <#> b = a::mvector <#> b::mvector AND a <=> b = a::mvector <=> b::mvector
                        AND mrl_l2_distance(a, b, 5) = mrl_l2_distance(a::mvector, b::mvector, 5)) AS equal
FROM (SELECT array(SELECT (random() * g - 50)::real FROM generate_series(1, 40) WHERE g > 0)::mint8vec a,
             array(SELECT (random() * 3 - 1.5)::real FROM generate_series(1, 40) WHERE g > 0)::mint8vec b
      FROM generate_series(1, 100) g) s;
-- the zero vector's cosine distance is NaN, as mvector's
SELECT '[0,0]'::mint8vec <=> '[1,2]' AS cos_zero;

-- truncation keeps the scale, so a prefix is the stored prefix exactly;
-- renormalize quantises the unit-length prefix again
SELECT mrl_truncate('[127,-254,0.5]'::mint8vec, 2) AS t2, '[127,-254,0.5]'::mint8vec # 1 AS t1,
       mrl_truncate('[3,4,12]'::mint8vec, 2, renormalize => true) AS unit;
SELECT binary_quantize('[1,-2,0,0.5,-0.001]'::mint8vec);

-- casts: from mvector (implicit), mhalfvec and arrays (assignment); to
-- mvector, mhalfvec exactly the values
SELECT '[1,2,3]'::mvector::mint8vec AS from_mvector, '[1,2,3]'::mhalfvec::mint8vec AS from_half,
       '{1,2,3}'::real[]::mint8vec AS from_real, '{1,2,3}'::int[]::mint8vec AS from_int,
       '{1,2,3}'::float8[]::mint8vec AS from_float8, '{1,2,3}'::numeric[]::mint8vec AS from_numeric;
SELECT '[127,-254]'::mint8vec::mvector AS to_mvector, '[127,-254]'::mint8vec::mhalfvec AS to_half;
CREATE TABLE i8 (id int PRIMARY KEY, emb mint8vec(3));
INSERT INTO i8 VALUES (1, '[1,0,0]'::mvector), (2, '{0,1,0}'::real[]), (3, '[0,0,1]'::mhalfvec);
SELECT id, emb FROM i8 ORDER BY emb <-> '[0.9,0.1,0]'::mvector;

-- errors, with mvector's SQLSTATEs
\set VERBOSITY sqlstate
SELECT '[1,NaN]'::mint8vec;
SELECT '[1,Infinity]'::mint8vec;
SELECT '[1e39]'::mint8vec;
SELECT '[]'::mint8vec;
SELECT '[1,2]'::mint8vec(3);
INSERT INTO i8 VALUES (4, '[1,2]');
SELECT '[1,2]'::mint8vec <-> '[1,2,3]'::mint8vec;
SELECT mrl_l2_distance('[1,2]'::mint8vec, '[1,2,3]'::mint8vec, 3);
SELECT mrl_truncate('[1,2]'::mint8vec, 0);
SELECT '{1,NULL}'::real[]::mint8vec;
SELECT '[70000]'::mint8vec::mhalfvec;
\set VERBOSITY default

-- funnel opclasses: valid, and exact mode returns what a sequential scan returns
SELECT opcname, opcdefault, amvalidate(c.oid) FROM pg_opclass c JOIN pg_am a ON a.oid = opcmethod
WHERE amname = 'funnel' AND opcintype = 'mint8vec'::regtype ORDER BY opcname;
SELECT setseed(0.5);
CREATE TABLE i8m (id int PRIMARY KEY, emb mint8vec);
INSERT INTO i8m SELECT g, array(SELECT ((random() - 0.5) / (1 + i))::real
                               FROM generate_series(0, 31) i WHERE g > 0)::mvector
FROM generate_series(1, 2000) g;
CREATE FUNCTION i8m_top(op text, q mvector, use_index bool) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text;
BEGIN
  PERFORM set_config('enable_seqscan', (NOT use_index)::text, true);
  PERFORM set_config('enable_indexscan', use_index::text, true);
  PERFORM set_config('enable_bitmapscan', 'off', true);
  EXECUTE format('SELECT string_agg(round(d::numeric, 6)::text, '','' ORDER BY n)
                  FROM (SELECT row_number() OVER () AS n, d FROM
                        (SELECT emb %1$s $1 AS d FROM i8m ORDER BY emb %1$s $1 LIMIT 20) s) s', op)
    INTO r USING q;
  RETURN r;
END $$;
SET client_min_messages = error;	-- random rows: the build warns that lists do not prune
CREATE INDEX i8m_l2 ON i8m USING funnel (emb) WITH (coarse_dims = 8);
CREATE INDEX i8m_ip ON i8m USING funnel (emb mint8vec_ip_ops) WITH (coarse_dims = 8);
CREATE INDEX i8m_cos ON i8m USING funnel (emb mint8vec_cosine_ops) WITH (coarse_dims = 8);
CREATE INDEX i8m_l1 ON i8m USING funnel (emb mint8vec_l1_ops) WITH (coarse_dims = 8);
SET client_min_messages = warning;
SET enable_seqscan = off;
SELECT pg_temp.funnel_plan($$SELECT id FROM i8m ORDER BY emb <=> '[1,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]'::mvector LIMIT 3$$);
RESET enable_seqscan;
SET mrl.funnel_exact = on;
SELECT op, count(*) AS queries, count(*) FILTER (WHERE i8m_top(op, emb::mvector, true) = i8m_top(op, emb::mvector, false)) AS same
FROM (VALUES ('<->'), ('<#>'), ('<=>'), ('<+>')) o(op), (SELECT emb FROM i8m WHERE id % 200 = 1) q
GROUP BY op ORDER BY op;
SELECT mrl_funnel_check('i8m_l1');
RESET mrl.funnel_exact;
