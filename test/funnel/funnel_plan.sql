-- funnel_plan(query): a query's plan as its nodes only, the same on every
-- PostgreSQL major, for the pg_regress tests (a temporary function: \i it in
-- each test that shows plans).  EXPLAIN (COSTS OFF) without the lines that
-- describe a node ("Order By: ...", "Filter: ..."), which differ between
-- majors: 17 writes an InitPlan's output as (InitPlan 1).col1, not $0, and 18
-- adds "Disabled: true" under a node that an enable_* setting turned off.
CREATE FUNCTION pg_temp.funnel_plan(query text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    CONTINUE WHEN line ~ '^\s*[A-Z][A-Za-z ]*: ';
    RETURN NEXT regexp_replace(line, ' \(returns [$0-9,]+\)$', '');
  END LOOP;
END
$$;
