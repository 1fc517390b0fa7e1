/*
 * model_files.h: trained models' directories, in step with transactions
 * (model_files.c).
 */
#ifndef MRL_MODEL_FILES_H
#define MRL_MODEL_FILES_H

extern char *MrlNewModelDir(const char *name);
extern void MrlSyncModelDir(const char *dir);
extern bool MrlIsOwnModelDir(const char *path);
extern void MrlRemoveAtCommit(const char *dir);
extern void MrlSweepModelDirs(void);
extern void MrlModelFilesInit(void);

#endif							/* MRL_MODEL_FILES_H */
