/*
 * embed.h: the encoder's SQL-side services, shared by mrl_embed (embed.c),
 * training (train_sql.c) and evaluation (evaluate_sql.c).
 */
#ifndef MRL_EMBED_H
#define MRL_EMBED_H

#include "fmgr.h"
#include "encoder.h"

extern int	MrlInterruptRequested(void *arg);
extern void MrlEmbedOptionsInit(mrl_embed_options *opts);
extern mrl_encoder *MrlModelForUse(FunctionCallInfo fcinfo, const char *name);
extern int	MrlOutputDim(mrl_encoder *enc, const mrl_embed_options *opts);
extern void MrlEmbedTexts(mrl_encoder *enc, const char **texts, const size_t *lens, int n,
						  const mrl_embed_options *opts, int dim, float *out);

#endif							/* MRL_EMBED_H */
