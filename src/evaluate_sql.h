/*
 * evaluate_sql.h: what the SQL evaluations share (mrl_evaluate in
 * evaluate_sql.c, the downstream tasks in downstream_sql.c): the column
 * contract, reading a table of texts once and embedding it, the dims and
 * baselines arguments, and the PCA baseline's fit.
 */
#ifndef MRL_EVALUATE_SQL_H
#define MRL_EVALUATE_SQL_H

#include "postgres.h"

#include "executor/spi.h"
#include "utils/array.h"

#include "embed.h"
#include "encoder.h"
#include "evaluate.h"

/*
 * The ids of a table of texts in their text form, numbered 0.. in id order
 * (the order the table was read in), and sorted by text for lookups.
 */
typedef struct IdIndex
{
	char	   *relname;		/* quoted, schema-qualified if needed */
	int			n;
	int			capacity;
	char	  **id;				/* [n] by number */
	int		   *sorted;			/* [n] numbers in strcmp order of their ids */
} IdIndex;

/*
 * Which rows of a text table to embed: a row's index among them, or -1.
 * Called in MrlReadTextTable's mcxt with the row's number and id, and its
 * position in SPI_tuptable (for the extra columns, from column 3).
 */
typedef int (*KeepRow) (void *arg, int n, const char *id, uint64 row);

/* Column types: ids and labels, texts, integers. */
extern const Oid MrlKeyTypes[6];
extern const Oid MrlTextTypes[3];
extern const Oid MrlIntTypes[3];

extern char *MrlRelName(Oid relid);
extern void MrlCheckColumn(Oid relid, const char *col, const Oid *types, int ntypes,
						   const char *what, const char *hint);
extern int	MrlGrowCapacity(int capacity, int need, const char *relname);
extern char *MrlSpiText(uint64 row, int c);
extern void MrlReadTextTable(IdIndex *ids, const char *extra, KeepRow keep, void *keep_arg,
							 const MrlEmbedder *model, MemoryContext mcxt, float **vecs);
extern int *MrlParseDims(ArrayType *arr, int full_dim, int *n);
extern void MrlParseBaselines(ArrayType *arr, const char *const *names, int n_names,
							  bool *asked, const char *hint);
extern void MrlFitPca(const float *X, int n, int dim, const bool *use, int k,
					  const char *rows, mrl_pca *pca);

#endif							/* MRL_EVALUATE_SQL_H */
