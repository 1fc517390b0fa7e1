-- Helpers of the funnel differential fuzzer (test/fuzz/funnel_fuzz.py), on
-- top of funnel_check.sql (load that first): rows of three shapes, and one
-- index scan checked against the table it scans.

-- Rows first_id .. first_id+n-1 of d-dim vectors of one shape:
--   clustered: funnel_test_vectors' Matryoshka-like clusters (7 of them);
--   uniform:   noise in [-0.5, 0.5) on every dim, where prefixes say little;
--   grid:      integers in -2..1, so distinct rows often tie in distance
--              and some are zero (NaN cosine distances).
CREATE FUNCTION funnel_fuzz_vectors(n int, d int, shape text, centre_seed int, seed int,
                                    first_id int)
RETURNS TABLE (id int, emb mvector) LANGUAGE sql AS $$
  SELECT * FROM funnel_test_vectors(n, d, 7, centre_seed, seed, first_id)
  WHERE shape = 'clustered'
  UNION ALL
  SELECT i, (SELECT array_agg(CASE WHEN shape = 'grid' THEN round(3 * x) ELSE x END ORDER BY j)
             FROM (SELECT j, funnel_noise(i::bigint * 100000 + j, seed) AS x
                   FROM generate_series(0, d - 1) j) s)::mvector
  FROM generate_series(first_id, first_id + n - 1) i
  WHERE shape <> 'clustered'
$$;

-- One ORDER BY emb <op> q LIMIT k (k NULL: no LIMIT) through the index of
-- tbl, in exact or approximate mode, checked against the table read
-- without it.  Returns one line per problem, "kind: what differed", and
-- nothing when all holds:
--   plan:  the planner did not use the index (the other checks would be void);
--   error: the index scan raised an error;
--   rows:  exact mode: not min(k, rows) distinct live rows with their true
--          distances (NULL vectors included, as a sequential scan returns them);
--   order: exact mode: distances not those of a sequential scan, in order;
--   approx_rows: approximate mode: a row not live, repeated, with a wrong
--          distance, or more than k rows;
--   approx_order: approximate mode with a LIMIT: distances out of order (it
--          may miss rows, never misorder those it returns: issue 10 item 5);
--   approx_all: approximate mode with no LIMIT, in relaxed order where
--          mrl.funnel_order exists (strict order may skip rows found late):
--          a row with a vector missing.
CREATE FUNCTION funnel_fuzz_check(tbl regclass, op text, q mvector, k int, exact bool)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  lim int := coalesce(k, 2147483647);
  plan text := '';
  line text;
  got record;
  want float8[];
  n_all int;
  n_vec int;
  n int;
  n_null int;
  bad text;
  pos int;
BEGIN
  -- The reference: every row's distance, sorted as ORDER BY sorts (NaN
  -- after numbers, NULL last), with no index involved.
  EXECUTE format('SELECT coalesce(array_agg(d ORDER BY d), ''{}''), count(*), count(emb)
                  FROM (SELECT emb, emb %s $1 AS d FROM %s) s', op, tbl)
    INTO want, n_all, n_vec USING q;

  PERFORM set_config('mrl.funnel_exact', exact::text, true);
  IF k IS NULL AND current_setting('mrl.funnel_order', true) IS NOT NULL THEN
    PERFORM set_config('mrl.funnel_order', 'relaxed', true);
  END IF;
  PERFORM set_config('enable_seqscan', 'off', true);
  FOR line IN EXECUTE format('EXPLAIN (COSTS OFF) SELECT id FROM %s ORDER BY emb %s $1 LIMIT %s',
                             tbl, op, lim) USING q LOOP
    plan := plan || line || ' ';
  END LOOP;
  IF plan NOT LIKE '%Index Scan using%' THEN
    RETURN NEXT 'plan: no index scan: ' || plan;
    RETURN;
  END IF;
  BEGIN
    got := funnel_topk(tbl, op, q, lim, true);
  EXCEPTION WHEN OTHERS THEN
    RETURN NEXT format('error: %s (SQLSTATE %s)', replace(SQLERRM, E'\n', ' '), SQLSTATE);
    RETURN;
  END;
  got.ids := coalesce(got.ids, '{}');
  got.dists := coalesce(got.dists, '{}');
  n := cardinality(got.ids);

  -- Each returned row is a distinct live row, at its true distance.
  EXECUTE format('SELECT string_agg(format(''position %%s: id %%s %%s'', g.pos, g.id,
                    CASE WHEN t.id IS NULL THEN ''is not a live row''
                         WHEN g.nth > 1 THEN ''comes twice''
                         ELSE format(''has distance %%s, the index said %%s'', t.d, g.d) END),
                    ''; '' ORDER BY g.pos)
                  FROM (SELECT *, row_number() OVER (PARTITION BY id ORDER BY pos) AS nth
                        FROM unnest($1, $2) WITH ORDINALITY u(id, d, pos)) g
                  LEFT JOIN (SELECT id, emb %s $3 AS d FROM %s) t ON t.id = g.id
                  WHERE t.id IS NULL OR t.d IS DISTINCT FROM g.d OR g.nth > 1', op, tbl)
    INTO bad USING got.ids, got.dists, q;
  n_null := (SELECT count(*) FROM unnest(got.dists) x WHERE x IS NULL);

  IF exact THEN
    IF bad IS NOT NULL THEN
      RETURN NEXT 'rows: ' || bad;
    END IF;
    IF n <> least(lim, n_all) THEN
      RETURN NEXT format('rows: the index returned %s rows (%s with NULL vectors), a sequential scan %s (%s with NULL vectors)',
                         n, n_null, least(lim, n_all), greatest(0, least(lim, n_all) - n_vec));
    END IF;
    pos := (SELECT min(i) FROM generate_series(1, least(n, n_all)) i
            WHERE got.dists[i] IS DISTINCT FROM want[i]);
    IF pos IS NOT NULL THEN
      RETURN NEXT format('order: position %s: the index gave distance %s, a sequential scan %s',
                         pos, got.dists[pos], want[pos]);
    END IF;
    RETURN;
  END IF;
  IF bad IS NOT NULL THEN
    RETURN NEXT 'approx_rows: ' || bad;
  END IF;
  IF n > least(lim, n_all) THEN
    RETURN NEXT format('approx_rows: LIMIT %s returned %s rows from a table of %s rows', k, n, n_all);
  END IF;
  IF k IS NULL THEN
    IF n - n_null < n_vec THEN
      RETURN NEXT format('approx_all: %s of the %s rows with a vector came out', n - n_null, n_vec);
    END IF;
    RETURN;
  END IF;
  pos := (SELECT min(i) FROM generate_series(2, n) i
          WHERE got.dists[i - 1] > got.dists[i]
             OR (got.dists[i - 1] IS NULL AND got.dists[i] IS NOT NULL));
  IF pos IS NOT NULL THEN
    RETURN NEXT format('approx_order: position %s: distance %s after %s (positions %s..%s: %s)',
                       pos, got.dists[pos], got.dists[pos - 1], greatest(1, pos - 3), pos + 1,
                       array_to_string(got.dists[greatest(1, pos - 3):pos + 1], ' ', 'NULL'));
  END IF;
END $$;
