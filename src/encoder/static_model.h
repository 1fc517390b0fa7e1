/*
 * static_model.h: static embedding models.  A static model is a token
 * matrix E [vocab][dim]; a text's embedding is the mean of the rows of its
 * tokens (sentence-transformers StaticEmbedding, model2vec).  Its forward
 * pass (mean pooling, then the output step every architecture shares,
 * forward.h), its matrix file, and the writer of its directory, the layout
 * the loader reads and sentence-transformers itself loads:
 *
 *   DIR/modules.json
 *   DIR/config_sentence_transformers.json
 *   DIR/0_StaticEmbedding/model.safetensors   embedding.weight [vocab][dim] F32
 *   DIR/0_StaticEmbedding/tokenizer.json      a copy of the tokenizer
 *
 * No PostgreSQL headers.
 */
#ifndef MRL_STATIC_MODEL_H
#define MRL_STATIC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "forward.h"

/* Mean-pool the token rows of ids[0..n) into out[dim] (zeros if n == 0). */
extern void mrl_static_pool(const float *E, int dim, const int32_t *ids,
							int64_t n, float *out);

/*
 * Embeds n_seq token sequences (seq i is ids[i][0 .. lens[i]-1], any length
 * >= 0; an empty one gives a zero vector) with the static model E [vocab][dim]
 * whose default is to L2-normalise when normalize is 1.  out receives n_seq
 * rows of mrl_forward_out_dim() floats.  A static model has no layers and
 * only mean pooling.  Returns MRL_FWD_OK or an MRL_FWD_* code with a message.
 */
extern int	mrl_static_embed(const float *E, int vocab, int dim, int normalize,
							 const int32_t *const *ids, const int *lens, int n_seq,
							 const mrl_embed_options *opts, float *out,
							 char *err, size_t errlen);

/*
 * A source of token pieces: points *ids at the next *n ids of sequence seq
 * (valid until the next call) and returns 1 if more follow, 0 if these were
 * the last, or -1 with a message.  Sequences are asked for in order.
 */
typedef int (*mrl_pieces_fn) (void *arg, int seq, const int32_t **ids, int *n,
							  char *err, size_t errlen);

/*
 * The same, for sequences given a piece at a time by next: a sequence of
 * any length costs no memory here (a text streamed from its tokenizer).
 * The interrupt hook also runs between the pieces of a sequence.
 */
extern int	mrl_static_embed_pieces(const float *E, int vocab, int dim, int normalize,
									int n_seq, mrl_pieces_fn next, void *arg,
									const mrl_embed_options *opts, float *out,
									char *err, size_t errlen);

/*
 * The matrix E [vocab][dim] as a safetensors file: one F32 tensor
 * "embedding.weight" (the StaticEmbedding layout).  Reading also takes
 * model2vec's "embeddings" and returns a malloc'd copy (NULL with a
 * message); the file goes through the validating reader (safetensors.h).
 */
extern int	mrl_static_matrix_write(const char *path, const float *E, int vocab, int dim,
									char *err, size_t errlen);
extern float *mrl_static_matrix_read(const char *path, int *vocab, int *dim,
									 char *err, size_t errlen);

/*
 * Write the directory dir (which must not exist yet): a sentence-transformers
 * StaticEmbedding model whose embeddings are scaled to unit length (a
 * Normalize module), as the built-in model's.  0, or -1 with a message.
 */
extern int	mrl_static_model_write(const char *dir, const float *E, int vocab, int dim,
								   const char *tokenizer_json_path,
								   char *err, size_t errlen);

#endif							/* MRL_STATIC_MODEL_H */
