-- mrl: working with Citus: an IMMUTABLE embedding for distributed UPDATEs,
-- and the model registry copied to the workers.

-- The content hash of a model: a stored model's sha256, the built-in
-- model's as it would be stored, NULL for a model registered by path.
CREATE FUNCTION mrl_model_sha256(name text) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT STABLE PARALLEL SAFE;
COMMENT ON FUNCTION mrl_model_sha256(text) IS
	'the content hash that mrl_embed_pinned checks: a stored model''s sha256, the built-in model''s, NULL for a model registered by path';

-- IMMUTABLE as far as results go: the model's contents are fixed by the
-- hash (any other contents are an error, never another vector), so Citus
-- may run it on the shards in UPDATE ... SET emb = mrl_embed_pinned(body, ...).
CREATE FUNCTION mrl_embed_pinned(input text, model text, sha256 text, dims integer DEFAULT NULL,
	layers integer DEFAULT NULL) RETURNS mvector
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_embed_pinned(text, text, text, integer, integer) IS
	'mrl_embed with the model whose contents have this sha256 (mrl_model_sha256), an error for any other: IMMUTABLE, for distributed UPDATEs';

-- Citus: make every worker's registry (mrl_models, mrl_model_data, local
-- tables on each node) the coordinator's: copy the registrations and stored
-- models a worker lacks or has in another version, one transaction per
-- model and worker, and unregister those the coordinator does not have.
-- Run on the coordinator after registering or training a model and after
-- adding a worker.  Superusers only: it writes the workers' registry rows.
CREATE FUNCTION mrl_distribute_models(OUT node text, OUT model text, OUT action text)
	RETURNS SETOF record LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	-- the extension is relocatable: its schema, for the statements here and there
	s text := (SELECT pg_catalog.quote_ident(n.nspname) FROM pg_catalog.pg_extension e
			   JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'mrl');
	-- a registration's identity: its row but the time it was made
	-- (whose text depends on the session's time zone)
	row_id text := 'pg_catalog.md5((pg_catalog.row_to_json(m)::jsonb - ''registered_at'')::text)';
	run text := format('SELECT %s.mrl_run_on_worker($1, $2, $3)', s);
	w record;
	m record;
	theirs jsonb;
	cmd text;
BEGIN
	IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
		RAISE EXCEPTION 'only superusers may copy the model registry to the workers'
			USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF pg_catalog.to_regprocedure('pg_catalog.citus_is_coordinator()') IS NULL THEN
		RAISE EXCEPTION 'Citus is not installed in this database' USING ERRCODE = 'feature_not_supported';
	END IF;
	IF NOT pg_catalog.citus_is_coordinator() THEN
		RAISE EXCEPTION 'mrl_distribute_models() runs on the coordinator' USING ERRCODE = 'feature_not_supported';
	END IF;
	FOR w IN SELECT nodename, nodeport FROM pg_catalog.pg_dist_node
			 WHERE noderole = 'primary' AND isactive AND groupid <> 0 ORDER BY nodeid LOOP
		node := w.nodename || ':' || w.nodeport;
		EXECUTE run INTO theirs USING w.nodename, w.nodeport,
			format('SELECT coalesce(jsonb_object_agg(name, %s), ''{}'') FROM %s.mrl_models m', row_id, s);
		FOR m IN EXECUTE format('SELECT name FROM pg_catalog.jsonb_object_keys($1) name
								 WHERE name NOT IN (SELECT name FROM %s.mrl_models) ORDER BY 1', s) USING theirs LOOP
			EXECUTE run USING w.nodename, w.nodeport, format('SELECT %s.mrl_unregister_model(%L)', s, m.name);
			model := m.name;
			action := 'unregistered';
			RETURN NEXT;
		END LOOP;
		FOR m IN EXECUTE format('SELECT name, %s AS id, pg_catalog.row_to_json(m)::text AS row
								 FROM %s.mrl_models m ORDER BY name', row_id, s) LOOP
			model := m.name;
			action := 'unchanged';
			IF theirs->>m.name IS DISTINCT FROM m.id THEN
				-- one command, one transaction there: the old registration
				-- out, the row and its stored files in
				EXECUTE format('SELECT %1$L || coalesce(string_agg(format(%2$L, %3$L, d.model, d.file, d.chunk, d.data), '''' ORDER BY d.file, d.chunk), '''')
								FROM %3$s.mrl_model_data d WHERE d.model = $1',
							   format('SELECT %1$s.mrl_unregister_model(name) FROM %1$s.mrl_models WHERE name = %2$L; '
									  'INSERT INTO %1$s.mrl_models SELECT * FROM json_populate_record(NULL::%1$s.mrl_models, %3$L); ',
									  s, m.name, m.row),
							   'INSERT INTO %s.mrl_model_data VALUES (%L, %L, %s, %L::bytea); ', s)
					INTO cmd USING m.name;
				EXECUTE run USING w.nodename, w.nodeport, cmd;
				action := CASE WHEN theirs ? m.name THEN 'replaced' ELSE 'copied' END;
			END IF;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END $$;
COMMENT ON FUNCTION mrl_distribute_models() IS
	'Citus: copy the coordinator''s model registry and stored models to every worker (superusers, on the coordinator)';

-- One command on one Citus node: its result, an error if it fails there.
CREATE FUNCTION mrl_run_on_worker(host text, port integer, command text) RETURNS text
	LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	ok boolean;
	res text;
BEGIN
	SELECT r.success, r.result INTO ok, res
		FROM pg_catalog.master_run_on_worker(ARRAY[host], ARRAY[port], ARRAY[command], false) r;
	IF NOT ok THEN
		RAISE EXCEPTION 'worker %:% failed: %', host, port, res;
	END IF;
	RETURN res;
END $$;
REVOKE ALL ON FUNCTION mrl_run_on_worker(text, integer, text) FROM PUBLIC;
