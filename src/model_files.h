/*
 * model_files.h: the extension's files under $PGDATA/mrl_models/DBOID/, a
 * cache derived from the database (model_files.c).
 */
#ifndef MRL_MODEL_FILES_H
#define MRL_MODEL_FILES_H

/* A directory being written, to be renamed into place when complete. */
typedef struct MrlBuild
{
	char		path[MAXPGPATH];
	int			lock_fd;		/* flock()ed while this backend writes it */
	char		sha256[65];		/* where it goes at commit ("" if nowhere) */
	struct PendingWork *pending;
} MrlBuild;

extern char *MrlDatabaseDir(void);
extern char *MrlConvertedDir(void);
extern char *MrlStoredDir(const char *sha256);
extern MrlBuild *MrlBeginBuild(void);
extern void MrlInstallBuild(MrlBuild *b, const char *sha256);
extern void MrlInstallBuildAtCommit(MrlBuild *b, const char *sha256);
extern void MrlRemoveStoredAtCommit(const char *sha256);
extern void MrlSweepFiles(void);
extern void MrlModelFilesInit(void);

#endif							/* MRL_MODEL_FILES_H */
