/*
 * progress.h: progress of mrl_train, mrl_evaluate and mrl_embed_table,
 * readable from other connections through the mrl_progress view
 * (progress.c).
 */
#ifndef MRL_PROGRESS_H
#define MRL_PROGRESS_H

/* The commands that report progress. */
typedef enum MrlProgressCommand
{
	MRL_PROGRESS_TRAIN = 1,
	MRL_PROGRESS_EVALUATE = 2,
	MRL_PROGRESS_EMBED_TABLE = 3
} MrlProgressCommand;

/*
 * Phases, each with its own unit of `done` (README: Progress).  The numbers
 * are what other backends read: append, never renumber.
 */
typedef enum MrlProgressPhase
{
	MRL_PHASE_READING_PAIRS = 1,	/* pairs read */
	MRL_PHASE_TRAINING = 2,		/* gradient steps */
	MRL_PHASE_WRITING_MODEL = 3,	/* nothing counted */
	MRL_PHASE_EMBEDDING_DOCUMENTS = 4,	/* documents embedded */
	MRL_PHASE_READING_JUDGEMENTS = 5,	/* judgements read */
	MRL_PHASE_EMBEDDING_QUERIES = 6,	/* judged queries embedded */
	MRL_PHASE_SCORING = 7,		/* result rows (prefix size, method) done */
	MRL_PHASE_EMBEDDING_ROWS = 8	/* rows embedded and updated */
} MrlProgressPhase;

extern void MrlProgressStart(MrlProgressCommand command);
extern void MrlProgressSetPhase(MrlProgressPhase phase, int64 total);
extern void MrlProgressDone(int64 done);
extern void MrlProgressTrainStep(int64 step, int64 total, double loss);
extern void MrlProgressEnd(void);

#endif							/* MRL_PROGRESS_H */
