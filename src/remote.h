/*
 * remote.h: remote encoders: models served by an embedding API (remote.c).
 */
#ifndef MRL_REMOTE_H
#define MRL_REMOTE_H

#include "fmgr.h"

#include "registry.h"

typedef struct MrlRemoteModel MrlRemoteModel;

/* A registered remote model's endpoint, key and limits, for the current statement. */
extern MrlRemoteModel *MrlRemoteModelOpen(const char *name, const MrlModelRef *entry);

/* The width mrl_embed returns for its dims and layers arguments. */
extern int	MrlRemoteOutputDim(const MrlRemoteModel *m, FunctionCallInfo fcinfo,
							   int dims_arg, int layers_arg);

/* The width of a prefix of dims values (0: the model's width), or an error. */
extern int	MrlRemoteCheckDims(const MrlRemoteModel *m, int dims);

/* Texts worth passing to one call of MrlRemoteEmbed: several rounds of requests. */
extern int	MrlRemoteBatchTexts(const MrlRemoteModel *m);

/* Embed n texts into out (n rows of dims floats), in input order. */
extern void MrlRemoteEmbed(const MrlRemoteModel *m, const char **texts, const size_t *lens,
						   int n, int dims, float *out);

#endif							/* MRL_REMOTE_H */
