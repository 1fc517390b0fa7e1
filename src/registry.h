/*
 * registry.h: the model registry: names, paths or stored contents, owners,
 * grants (registry.c).
 */
#ifndef MRL_REGISTRY_H
#define MRL_REGISTRY_H

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/portal.h"

#include "model_files.h"

#define BUILTIN_MODEL_NAME "mrl-default"

/*
 * A registered model, as MrlFindModel found it: file-backed (path), stored
 * (sha256), or remote (server, with path its "api:model").
 */
typedef struct MrlModelRef
{
	char	   *name;
	char	   *path;			/* a file-backed model (or the built-in one) */
	char	   *sha256;			/* else a stored model: its hash */
	int64		bytes;
	char	   *server;			/* a remote model's mrl_http server, else NULL */
	Oid			owner;			/* the owner role, InvalidOid if it does not exist */
	int			dims;
	bool		sends_dimensions;	/* a remote model takes dims => server-side */
} MrlModelRef;

extern char *MrlRegistryTable(const char *table);
extern int	MrlRegistryExecute(const char *sql, int nargs, Oid *types, Datum *values,
							   bool as_owner);
extern Portal MrlRegistryCursor(const char *sql, int nargs, Oid *types, Datum *values);
extern List *MrlStoredHashes(void);
extern void MrlFindModel(const char *name, MrlModelRef *ref);
extern const char *MrlModelContentHash(const MrlModelRef *ref);
extern void MrlCheckModelName(const char *name);
extern void MrlCheckModelNameFree(const char *name);
extern char *MrlRegisterStoredModel(const char *name, const char *src, MrlBuild *build);
extern void MrlRegisterRemoteModel(const char *name, const char *spec, const char *arch, int dims,
								   const char *server, bool sends_dimensions);

#endif							/* MRL_REGISTRY_H */
