/*
 * registry.h: the model registry: names, paths, owners, grants (registry.c).
 */
#ifndef MRL_REGISTRY_H
#define MRL_REGISTRY_H

#include "fmgr.h"

#define BUILTIN_MODEL_NAME "mrl-default"

extern char *MrlModelPath(FunctionCallInfo fcinfo, const char *name);
extern void MrlCheckModelName(const char *name);
extern void MrlCheckModelNameFree(FunctionCallInfo fcinfo, const char *name);
extern void MrlRegisterModel(FunctionCallInfo fcinfo, const char *name, const char *path,
							 bool owns_files);

#endif							/* MRL_REGISTRY_H */
