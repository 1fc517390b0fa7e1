-- mrl: progress of mrl_train, mrl_evaluate and mrl_embed_table, readable from any connection
-- (src/progress.c; README: Progress).

CREATE FUNCTION mrl_progress_info(OUT pid integer, OUT datid oid, OUT command text,
	OUT phase text, OUT done bigint, OUT total bigint, OUT loss double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL RESTRICTED;
CREATE VIEW mrl_progress AS
	SELECT p.pid, p.datid, d.datname, p.command, p.phase, p.done, p.total, p.loss
	FROM mrl_progress_info() p LEFT JOIN pg_catalog.pg_database d ON d.oid = p.datid;
COMMENT ON VIEW mrl_progress IS
	'one row per backend running mrl_train, mrl_evaluate or mrl_embed_table: phase, work done and total, latest training loss';
GRANT SELECT ON mrl_progress TO PUBLIC;
