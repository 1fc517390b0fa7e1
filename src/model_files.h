/*
 * model_files.h: trained models' directories, in step with transactions
 * (model_files.c).
 */
#ifndef MRL_MODEL_FILES_H
#define MRL_MODEL_FILES_H

#include "nodes/pg_list.h"

extern char *MrlNewModelDir(const char *name);
extern void MrlSyncModelDir(const char *dir);
extern bool MrlIsOwnModelDir(const char *path);
extern void MrlRemoveAtCommit(const char *dir);
extern void MrlRemoveModelDir(const char *dir);
extern List *MrlFinishedModelDirs(void);
extern void MrlModelFilesInit(void);

#endif							/* MRL_MODEL_FILES_H */
