/*
 * registry.h: the model registry: names, paths, owners, grants (registry.c).
 */
#ifndef MRL_REGISTRY_H
#define MRL_REGISTRY_H

#include "fmgr.h"

#define BUILTIN_MODEL_NAME "mrl-default"

/* A registered model, as MrlLookupModel finds it for its user. */
typedef struct MrlModelEntry
{
	char	   *path;			/* file or directory; "api:model" for a remote model */
	char	   *server;			/* a remote model's mrl_http server, else NULL */
	Oid			owner;			/* InvalidOid for the built-in model */
	int			dims;
	bool		sends_dimensions;	/* a remote model takes dims => server-side */
} MrlModelEntry;

extern void MrlLookupModel(FunctionCallInfo fcinfo, const char *name, MrlModelEntry *entry);
extern void MrlCheckModelName(const char *name);
extern void MrlCheckModelNameFree(FunctionCallInfo fcinfo, const char *name);
extern void MrlRegisterModel(FunctionCallInfo fcinfo, const char *name, const char *path,
							 bool owns_files);
extern void MrlRegisterRemoteModel(FunctionCallInfo fcinfo, const char *name, const char *spec,
								   const char *arch, int dims, const char *server,
								   bool sends_dimensions);

#endif							/* MRL_REGISTRY_H */
