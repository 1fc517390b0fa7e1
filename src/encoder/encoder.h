/*
 * encoder.h: text in, embeddings out.  One object bundling a loaded model
 * (model.h), its tokenizer (tokenizer.h) and the forward pass (bert.h), so
 * callers (the SQL layer, the command-line tool) never repeat that glue.
 * No PostgreSQL headers.
 */
#ifndef MRL_ENCODER_H
#define MRL_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "bert.h"
#include "model.h"
#include "tokenizer.h"

typedef struct mrl_encoder mrl_encoder;

typedef struct mrl_encoder_info
{
	const char *arch;			/* "bert", "nomic-bert" or "static" */
	int			dims;			/* full output width */
	int			vocab;			/* tokenizer vocabulary size */
	int			layers;			/* transformer layers (0 for static) */
	int			max_tokens;		/* longest input counting specials; 0 = no limit */
} mrl_encoder_info;

/*
 * Load the model at path (a GGUF file or a model directory).  cache_dir, if
 * not NULL, is where converted weights are cached, shared between processes.
 * NULL with a message in err on failure.
 */
extern mrl_encoder *mrl_encoder_open(const char *path, const char *cache_dir,
									 char *err, size_t errlen);
/* The same with every load option (model.h), e.g. a content key for the cache. */
extern mrl_encoder *mrl_encoder_open_with(const char *path, const mrl_load_options *lo,
										  char *err, size_t errlen);
extern void mrl_encoder_free(mrl_encoder *enc);
extern void mrl_encoder_get_info(const mrl_encoder *enc, mrl_encoder_info *info);

/*
 * A static model's token matrix [vocab][dim] (NULL for other models), and
 * the tokenizer.json it came with (NULL for GGUF vocabularies): what a
 * trainer needs to fine-tune it.
 */
extern const float *mrl_encoder_static_matrix(const mrl_encoder *enc, int *vocab, int *dim);
extern const char *mrl_encoder_tokenizer_path(const mrl_encoder *enc);

/* Output width for these options, or -1 with a message if they are invalid. */
extern int	mrl_encoder_out_dim(const mrl_encoder *enc, const mrl_embed_options *opts,
								char *err, size_t errlen);

/*
 * The token ids the model sees for a text: truncated to max_len tokens (0:
 * the model's window), without [CLS]/[SEP] (and [UNK] for model2vec) for
 * static models.  Returns the count, or -1 with a message.
 */
extern int	mrl_encoder_tokenize(const mrl_encoder *enc, const char *text, size_t len,
								 int max_len, mrl_encoding *out, char *err, size_t errlen);

/*
 * Embed n token sequences with the model's forward pass (mrl_bert_embed or
 * mrl_static_embed); returns an MRL_FWD_* code.
 */
extern int	mrl_encoder_embed_ids(mrl_encoder *enc, const int32_t *const *ids,
								  const int *lens, int n, const mrl_embed_options *opts,
								  float *out, char *err, size_t errlen);

/*
 * Embed n texts (texts[i] has lens[i] bytes of UTF-8, not necessarily
 * NUL-terminated); texts longer than the model's window are truncated.  out
 * receives n rows of mrl_encoder_out_dim() floats.  Returns MRL_FWD_OK or an
 * MRL_FWD_* code with a message (MRL_FWD_EINTERRUPTED when the options'
 * interrupt hook asked to stop).
 *
 * Memory does not grow with a text's length: a transformer's text is
 * tokenized only until its window is full, a static model's (which pools
 * every token) is read a chunk of about 64 kB at a time.
 */
extern int	mrl_encoder_embed(mrl_encoder *enc, const char *const *texts,
							  const size_t *lens, int n,
							  const mrl_embed_options *opts, float *out,
							  char *err, size_t errlen);

#endif							/* MRL_ENCODER_H */
