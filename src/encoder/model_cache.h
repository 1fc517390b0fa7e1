/*
 * model_cache.h: the float32 cache file of converted weights.  Weights that
 * need conversion (F16, BF16, quantised, model2vec tables) are converted
 * once into a file that every process loading the same model then maps
 * read-only, so they all share its page-cache pages (model.c decides what
 * goes into it).
 *
 * A cache file is a 64-byte header (the magic "MRLF32C1", the 64-bit key,
 * the float count, zeros) and the floats, named mrl-<key in hex>.f32.  The
 * key hashes the identity of every source file and the conversion plan, so
 * any change gives a new file.  A file is written under a temporary name,
 * synced and renamed into place, so readers only ever see complete files
 * (concurrent writers produce identical contents).  No PostgreSQL headers.
 */
#ifndef MRL_MODEL_CACHE_H
#define MRL_MODEL_CACHE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "mapfile.h"

#define MRL_CACHE_HEADER 64		/* bytes before the first float */

/* FNV-1a over n bytes, continuing the hash h. */
extern uint64_t mrl_cache_hash(uint64_t h, const void *data, size_t n);

/*
 * The start of a key: the format's magic and the identity (real path, size,
 * mtime, inode) of each source file; continue it with mrl_cache_hash() over
 * a description of the conversion plan.
 */
extern uint64_t mrl_cache_key_files(char *const *paths, int n_paths);

/* The same, from a caller's name for the files' contents (a content hash). */
extern uint64_t mrl_cache_key_content(const char *content_key);

/* The cache file's path for key in dir (malloc'd; NULL when out of memory). */
extern char *mrl_cache_path(const char *dir, uint64_t key);

/* Map the cache file at path if it is complete and matches; 0, else -1. */
extern int	mrl_cache_open(const char *path, uint64_t key, uint64_t n_floats,
						   mrl_mapping *map);

/* A cache file being written. */
typedef struct mrl_cache_writer
{
	int			fd;
	uint64_t	key;
	uint64_t	n_floats;
	char		tmp[PATH_MAX];	/* the temporary name */
} mrl_cache_writer;

/*
 * Start writing a cache file of n_floats floats in dir (space reserved up
 * front, so a full disk fails here); 0, or -1 with why in note.
 */
extern int	mrl_cache_create(mrl_cache_writer *w, const char *dir, uint64_t key,
							 uint64_t n_floats, char *note, size_t notelen);

/* Write floats buf[0..n) at float offset; 0, or -1 with errno set. */
extern int	mrl_cache_put(mrl_cache_writer *w, uint64_t offset, const float *buf,
						  size_t n);

/*
 * Write the header, sync and rename the file to path; 0, or -1 with why in
 * note (the temporary file is removed).  Either way w is closed.
 */
extern int	mrl_cache_commit(mrl_cache_writer *w, const char *path,
							 char *note, size_t notelen);

/* Give up after a failed mrl_cache_put (errno says why, copied to note). */
extern void mrl_cache_abort(mrl_cache_writer *w, char *note, size_t notelen);

#endif							/* MRL_MODEL_CACHE_H */
