/*
 * mapfile.h: read-only file mappings shared by the model-file readers
 * (gguf.c, safetensors.c, model.c) and the tokenizer loader.
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

#endif							/* MRL_MAPFILE_H */
