/*
 * mapfile.h: read-only file mappings and error-buffer formatting shared by
 * the model-file readers (gguf.c, safetensors.c, model.c).
 */
#ifndef MRL_MAPFILE_H
#define MRL_MAPFILE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mrl_mapping
{
	const uint8_t *base;
	size_t		size;
	uint64_t	mtime_ns;		/* for cache keys */
} mrl_mapping;

/* Map a whole regular, non-empty file read-only; 0 or -1 with err set. */
extern int	mrl_map_file(const char *path, mrl_mapping *m, char *err, size_t errlen);

extern void mrl_unmap(mrl_mapping *m);

/* Prefix the message already in err with "path: ". */
extern void mrl_err_prefix(char *err, size_t errlen, const char *path);

/* snprintf into a caller's error buffer (no-op when err is NULL). */
extern void mrl_errf(char *err, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

#endif							/* MRL_MAPFILE_H */
