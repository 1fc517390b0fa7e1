/*
 * model_store.h: stored models' files in the table mrl_model_data
 * (model_store.c).
 */
#ifndef MRL_MODEL_STORE_H
#define MRL_MODEL_STORE_H

extern char *MrlStoreModelFiles(const char *name, const char *src, const char *copy_to,
								int64 *bytes);
extern char *MrlStoredModelDir(const char *name, const char *sha256, int64 bytes);

#endif							/* MRL_MODEL_STORE_H */
