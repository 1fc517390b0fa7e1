/*
 * embed.h: the encoder's SQL-side services, shared by mrl_embed (embed.c),
 * training (train_sql.c) and evaluation (evaluate_sql.c).
 */
#ifndef MRL_EMBED_H
#define MRL_EMBED_H

#include "fmgr.h"
#include "utils/array.h"

#include "encoder.h"

#include "remote.h"

/*
 * A model ready to embed texts in batches, local or remote (MrlEmbedderOpen):
 * what a function that embeds a table's rows holds.
 */
typedef struct MrlEmbedder
{
	const char *name;			/* the model's name, for messages */
	mrl_encoder *enc;			/* a local model, or NULL */
	MrlRemoteModel *remote;		/* a remote one (remote.c), or NULL */
	mrl_embed_options opts;		/* a local model's options */
	int			dim;			/* the width of the vectors it returns */
	int			batch_texts;	/* texts worth passing to one MrlEmbedderRun */
} MrlEmbedder;

extern int	MrlInterruptRequested(void *arg);
extern void MrlEmbedOptionsInit(mrl_embed_options *opts);
extern mrl_encoder *MrlModelForUse(FunctionCallInfo fcinfo, const char *name, const char *caller);
extern void MrlEmbedderOpen(MrlEmbedder *e, FunctionCallInfo fcinfo, const char *name, int dims,
							const char *local_only_caller);
extern void MrlEmbedderRun(const MrlEmbedder *e, const char **texts, const size_t *lens, int n,
						   float *out);
extern ArrayType *MrlVectorArray(const float *out, int dim, const bool *nulls, int n,
								 Oid mvector_oid);
extern int	MrlOutputDim(mrl_encoder *enc, const mrl_embed_options *opts);
extern void MrlEmbedTexts(mrl_encoder *enc, const char **texts, const size_t *lens, int n,
						  const mrl_embed_options *opts, int dim, float *out);

#endif							/* MRL_EMBED_H */
