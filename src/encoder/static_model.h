/*
 * static_model.h: write a static embedding model as a sentence-transformers
 * StaticEmbedding directory (the layout the loader reads, and that
 * sentence-transformers itself loads):
 *
 *   DIR/modules.json
 *   DIR/config_sentence_transformers.json
 *   DIR/0_StaticEmbedding/model.safetensors   embedding.weight [vocab][dim] F32
 *   DIR/0_StaticEmbedding/tokenizer.json      a copy of the tokenizer
 */
#ifndef MRL_STATIC_MODEL_H
#define MRL_STATIC_MODEL_H

#include <stddef.h>

/* Write the directory dir (which must not exist yet); 0, or -1 with a message. */
extern int	mrl_static_model_write(const char *dir, const float *E, int vocab, int dim,
								   const char *tokenizer_json_path,
								   char *err, size_t errlen);

#endif							/* MRL_STATIC_MODEL_H */
