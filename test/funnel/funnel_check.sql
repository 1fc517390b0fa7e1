-- Helpers for the funnel suites (loaded by test/suites/30_funnel.sh and the
-- benchmark): a Matryoshka-like data generator and exact-vs-seqscan checks.

-- Deterministic uniform noise in [-0.5, 0.5) for a key.
CREATE FUNCTION funnel_noise(key bigint, seed bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
$$ SELECT (hashint8extended(key, seed) & 16777215)::float8 / 16777216 - 0.5 $$;

-- Rows first_id .. first_id+n-1 of Matryoshka-like d-dim data: k clusters
-- of 8 sub-clusters each (fixed by centre_seed), plus per-row noise (seed).
-- Dim j is scaled by (1 + j/8)^-0.75, so the leading dims carry most of the
-- variance (the first 64 of 768 dims hold ~74%), as in MRL embeddings.
CREATE FUNCTION funnel_test_vectors(n int, d int, k int, centre_seed int, seed int,
                                    first_id int DEFAULT 1)
RETURNS TABLE (id int, emb mvector) LANGUAGE sql AS $$
  SELECT i, (SELECT array_agg((funnel_noise(i % k * 100000 + j, centre_seed)
                               + 0.5 * funnel_noise(i % (8 * k) * 100000 + j, centre_seed + 1)
                               + 0.3 * funnel_noise(i::bigint * 100000 + j, seed))
                              * 3.46 * power(1 + j / 8.0::float8, -0.75) ORDER BY j)
             FROM generate_series(0, d - 1) j)::mvector
  FROM generate_series(first_id, first_id + n - 1) i
$$;

-- The top-k (ids, distances) of query q over tbl by operator op, with the
-- index allowed (use_index) or forbidden.
CREATE FUNCTION funnel_topk(tbl regclass, op text, q mvector, k int, use_index bool,
                            OUT ids int[], OUT dists float8[]) LANGUAGE plpgsql AS $$
BEGIN
  PERFORM set_config('enable_indexscan', use_index::text, true);
  PERFORM set_config('enable_seqscan', (NOT use_index)::text, true);
  EXECUTE format('SELECT array_agg(id), array_agg(d) FROM
                    (SELECT id, emb %1$s $1 AS d FROM %2$s ORDER BY emb %1$s $1 LIMIT %3$s) s',
                 op, tbl, k)
    INTO ids, dists USING q;
  PERFORM set_config('enable_indexscan', 'on', true);
  PERFORM set_config('enable_seqscan', 'on', true);
END $$;

-- Queries whose exact-mode index result differs from a sequential scan:
-- distances must match exactly, ids too unless distances tie.
CREATE FUNCTION funnel_exact_mismatches(tbl regclass, op text, queries regclass, k int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  q mvector;
  a record;
  b record;
  bad int := 0;
BEGIN
  PERFORM set_config('mrl.funnel_exact', 'on', true);
  FOR q IN EXECUTE format('SELECT emb FROM %s ORDER BY id', queries) LOOP
    a := funnel_topk(tbl, op, q, k, true);
    b := funnel_topk(tbl, op, q, k, false);
    IF a.dists IS DISTINCT FROM b.dists OR
       (a.ids IS DISTINCT FROM b.ids AND
        (SELECT count(DISTINCT x) FROM unnest(b.dists) x) = cardinality(b.dists)) THEN
      bad := bad + 1;
      RAISE NOTICE 'mismatch: index % % seq % %', a.ids, a.dists, b.ids, b.dists;
    END IF;
  END LOOP;
  RETURN bad;
END $$;

-- Mean recall@k of approximate mode against the exact top-k.
CREATE FUNCTION funnel_recall(tbl regclass, op text, queries regclass, k int)
RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
  q mvector;
  a record;
  b record;
  hits float8 := 0;
  n int := 0;
BEGIN
  PERFORM set_config('mrl.funnel_exact', 'off', true);
  FOR q IN EXECUTE format('SELECT emb FROM %s ORDER BY id', queries) LOOP
    a := funnel_topk(tbl, op, q, k, true);
    b := funnel_topk(tbl, op, q, k, false);
    hits := hits + (SELECT count(*) FROM unnest(a.ids) x WHERE x = ANY (b.ids));
    n := n + 1;
  END LOOP;
  RETURN hits / (n * k);
END $$;

-- Queries whose approximate top-k is not in nondecreasing distance order
-- (with the current mrl.funnel_order).
CREATE FUNCTION funnel_unsorted(tbl regclass, op text, queries regclass, k int)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  q mvector;
  a record;
  bad int := 0;
BEGIN
  PERFORM set_config('mrl.funnel_exact', 'off', true);
  FOR q IN EXECUTE format('SELECT emb FROM %s ORDER BY id', queries) LOOP
    a := funnel_topk(tbl, op, q, k, true);
    IF a.dists IS DISTINCT FROM (SELECT array_agg(d ORDER BY d) FROM unnest(a.dists) d) THEN
      bad := bad + 1;
    END IF;
  END LOOP;
  RETURN bad;
END $$;
