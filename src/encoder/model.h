/*
 * model.h: one loader for every supported embedding-model layout.
 *
 *   mrl_model *m = mrl_model_load(path, &opts, err, sizeof(err));
 *   ... m->config, m->weights (float32, see bert.h), tokenizer fields ...
 *   mrl_model_free(m);
 *
 * path may be
 *   - a GGUF file (llama.cpp embedding models, architectures bert and
 *     nomic-bert; tensor types F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1,
 *     Q4_K, Q5_K, Q6_K), or
 *   - a directory: a Hugging Face / sentence-transformers snapshot of a
 *     BertModel or NomicBertModel (config.json, model.safetensors or a
 *     sharded model.safetensors.index.json, tokenizer.json, modules.json,
 *     1_Pooling/config.json, sentence_bert_config.json, a Normalize module),
 *     a model2vec directory, or a sentence-transformers StaticEmbedding
 *     directory (0_StaticEmbedding/model.safetensors).
 *
 * Every tensor's shape is checked against the configuration.  float32
 * tensors are used in place from the read-only mapping of the model file.
 * Tensors that need conversion (F16, BF16, quantised, model2vec
 * mapping/weights) are converted once into a cache file under
 * opts->cache_dir (named by a hash of the source files' paths, sizes and
 * mtimes, or of opts->content_key; written under a temporary name and
 * renamed atomically) which is
 * then mapped read-only, so every process loading the same model shares
 * the same page-cache pages.  Without a cache_dir (or when it cannot be
 * written) they are converted into private memory.
 */
#ifndef MRL_MODEL_H
#define MRL_MODEL_H

#include <stddef.h>

#include "bert.h"
#include "gguf.h"

typedef struct mrl_load_options
{
	const char *cache_dir;		/* NULL: convert into private memory */
	/*
	 * What the files hold, when the caller knows (a content hash): the cache
	 * file is then named after it instead of the files' paths and mtimes, so
	 * a copy of the model moved elsewhere keeps its cache.  NULL: paths.
	 */
	const char *content_key;
	int			plan_only;		/* read and check, convert nothing */
} mrl_load_options;

typedef enum mrl_tokenizer_source
{
	MRL_TOK_JSON = 1,			/* a Hugging Face tokenizer.json file */
	MRL_TOK_GGUF = 2			/* the tokenizer.ggml.* keys of the GGUF */
} mrl_tokenizer_source;

typedef struct mrl_model_private mrl_model_private;

typedef struct mrl_model
{
	mrl_bert_config config;		/* n_ctx = 0 for static models: no limit */
	mrl_bert_weights weights;
	int			n_ctx_train;	/* rows of position_embd / trained context */

	/* where the tokenizer comes from */
	mrl_tokenizer_source tok_source;
	char	   *tokenizer_path; /* MRL_TOK_JSON */
	const mrl_gguf *gguf;		/* MRL_TOK_GGUF: tokenizer.ggml.tokens etc. */
	int			add_special_tokens; /* [CLS]/[SEP]; 0 for static models */
	int			drop_unk;		/* model2vec removes [UNK] ids before pooling */

	/* how the weights were obtained */
	size_t		converted_bytes;	/* float32 bytes produced by conversion */
	int			cache_hit;		/* 1: an existing cache file was mapped */
	char	   *cache_path;		/* the cache file used, or NULL */
	char		cache_note[256];	/* why no cache was used, if so */

	mrl_model_private *priv;
} mrl_model;

/* Load a model; NULL with a message in err (never aborts). */
extern mrl_model *mrl_model_load(const char *path, const mrl_load_options *opts,
								 char *err, size_t errlen);

/*
 * The files a model at path is made of, as the loader reads them: path
 * itself for a GGUF file; for a directory, its JSON files, weights (every
 * shard) and tokenizer.json, and nothing else it may hold.  Nothing is
 * converted.  *files gets n malloc'd absolute paths in a malloc'd array
 * (free both); -1 with a message in err.
 */
extern int	mrl_model_files(const char *path, char ***files, int *n, char *err, size_t errlen);

extern void mrl_model_free(mrl_model *m);

/* "bert", "nomic-bert" or "static". */
extern const char *mrl_arch_name(mrl_arch arch);

#endif							/* MRL_MODEL_H */
