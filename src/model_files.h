/*
 * model_files.h: the extension's files under $PGDATA/mrl_models/DBOID/, a
 * cache derived from the database (model_files.c).
 */
#ifndef MRL_MODEL_FILES_H
#define MRL_MODEL_FILES_H

/*
 * pg_basebackup (tar format) refuses a path over 99 bytes under $PGDATA:
 * mrl_models/DBOID/ (at most 22 bytes), a stored model's directory named
 * by MRL_STORED_DIR_CHARS hex digits of its hash, or a build's
 * .build-PID-N (at most 25), then /model/ and the name of a file in the
 * model, which must fit the rest.
 */
#define MRL_STORED_DIR_CHARS 16
#define MRL_MAX_FILE_NAME (99 - 22 - 25 - 7)

/* A directory being written, to be renamed into place when complete. */
typedef struct MrlBuild
{
	char		path[MAXPGPATH];
	int			lock_fd;		/* flock()ed while this backend writes it */
	char		sha256[65];		/* where it goes at commit ("" if nowhere) */
	struct PendingWork *pending;
} MrlBuild;

extern char *MrlConvertedDir(void);
extern char *MrlStoredDir(const char *sha256);
extern MrlBuild *MrlBeginBuild(void);
extern void MrlInstallBuild(MrlBuild *b, const char *sha256);
extern void MrlInstallBuildAtCommit(MrlBuild *b, const char *sha256);
extern void MrlRemoveStoredAtCommit(const char *sha256);
extern void MrlSweepFiles(void);
extern void MrlModelFilesInit(void);

#endif							/* MRL_MODEL_FILES_H */
