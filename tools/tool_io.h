/*
 * tool_io.h: the file format shared by the command-line tools mrl_train and
 * eval_model: the tokenised pair file written by
 * tools/data/tokenize_pairs.js.  (A static model's matrix file is read and
 * written by the library, static_model.h.)
 */
#ifndef MRL_TOOL_IO_H
#define MRL_TOOL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "train.h"

#define PAIR_MAX_SOURCES 16

/* A loaded pair file; data points into the arrays below. */
typedef struct pair_file
{
	mrl_train_data data;
	int64_t    *text_off;
	int32_t    *ids;
	int32_t    *anchor;
	int32_t    *positive;
	uint8_t    *source;			/* [n_pairs] index into source_names */
	int			n_sources;
	char		source_names[PAIR_MAX_SOURCES][32];
	int32_t		max_id;			/* largest token id seen, -1 if none */
} pair_file;

/* Read a pair file; 0 or -1 with a message in err. */
extern int	pair_file_read(const char *path, pair_file *pf, char *err,
						   size_t errlen);
extern void pair_file_free(pair_file *pf);

#endif							/* MRL_TOOL_IO_H */
