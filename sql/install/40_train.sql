-- mrl: Matryoshka training of static models on your own pairs.

CREATE FUNCTION mrl_train(name text, pairs text,
	dims integer[] DEFAULT '{32,64,128,256}', base text DEFAULT 'mrl-default',
	epochs integer DEFAULT 1, batch_size integer DEFAULT 256,
	learning_rate double precision DEFAULT 0.05, dim_weights real[] DEFAULT NULL,
	seed bigint DEFAULT 42,
	OUT model text, OUT steps bigint, OUT pairs_used bigint,
	OUT first_loss double precision, OUT last_loss double precision, OUT sha256 text)
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE CALLED ON NULL INPUT;
COMMENT ON FUNCTION mrl_train(text, text, integer[], text, integer, integer, double precision, real[], bigint) IS
	'train a static Matryoshka model on (anchor, positive[, hard negative]) text pairs from a query, and store it in the database under a name';
