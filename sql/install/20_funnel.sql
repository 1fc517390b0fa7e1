-- mrl: the funnel index access method (coarse prefix, full rerank).

CREATE FUNCTION funnel_handler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;
CREATE ACCESS METHOD funnel TYPE INDEX HANDLER funnel_handler;
COMMENT ON ACCESS METHOD funnel IS
	'Matryoshka funnel index: shortlist on a coarse prefix, rerank on all dimensions';

-- Support function 2 tells the index which distance its opclass orders by.
CREATE FUNCTION mrl_funnel_l2_support(internal) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_funnel_ip_support(internal) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_funnel_cosine_support(internal) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION mrl_funnel_l1_support(internal) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS mvector_l2_ops DEFAULT FOR TYPE mvector USING funnel AS
	OPERATOR 1 <-> (mvector, mvector) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_l2_distance(mvector, mvector),
	FUNCTION 2 mrl_funnel_l2_support(internal);
CREATE OPERATOR CLASS mvector_ip_ops FOR TYPE mvector USING funnel AS
	OPERATOR 1 <#> (mvector, mvector) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_negative_inner_product(mvector, mvector),
	FUNCTION 2 mrl_funnel_ip_support(internal);
CREATE OPERATOR CLASS mvector_cosine_ops FOR TYPE mvector USING funnel AS
	OPERATOR 1 <=> (mvector, mvector) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_cosine_distance(mvector, mvector),
	FUNCTION 2 mrl_funnel_cosine_support(internal);
CREATE OPERATOR CLASS mvector_l1_ops FOR TYPE mvector USING funnel AS
	OPERATOR 1 <+> (mvector, mvector) FOR ORDER BY float_ops,
	FUNCTION 1 mrl_l1_distance(mvector, mvector),
	FUNCTION 2 mrl_funnel_l1_support(internal);

CREATE FUNCTION mrl_funnel_bound(a mvector, q mvector, coarse_dims integer,
								 "precision" text, metric text) RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION mrl_funnel_bound(mvector, mvector, integer, text, text) IS
	'lower bound of the distance a funnel index uses for row a and query q (metric l2, ip, cosine or l1)';

CREATE FUNCTION mrl_funnel_check(index regclass) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL RESTRICTED;
COMMENT ON FUNCTION mrl_funnel_check(regclass) IS
	'structural check of a funnel index (chains, pages, one entry per heap row); returns its entries';
