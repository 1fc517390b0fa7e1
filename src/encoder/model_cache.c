/*
 * model_cache.c: the float32 cache file of converted weights (model_cache.h).
 */
#include "model_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"

#define CACHE_MAGIC "MRLF32C1"	/* change it when conversions change */

uint64_t
mrl_cache_hash(uint64_t h, const void *data, size_t n)
{
	const uint8_t *p = data;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

uint64_t
mrl_cache_key_files(char *const *paths, int n_paths)
{
	uint64_t	h = 0xcbf29ce484222325ULL;
	char		buf[PATH_MAX + 128],
				real[PATH_MAX];
	struct stat st;

	h = mrl_cache_hash(h, CACHE_MAGIC, 8);
	for (int i = 0; i < n_paths; i++)
	{
		if (realpath(paths[i], real) == NULL || stat(real, &st) != 0)
			snprintf(real, sizeof(real), "%s", paths[i]), memset(&st, 0, sizeof(st));
		snprintf(buf, sizeof(buf), "%s|%lld|%lld.%09ld|%llu\n", real, (long long) st.st_size,
				 (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (unsigned long long) st.st_ino);
		h = mrl_cache_hash(h, buf, strlen(buf));
	}
	return h;
}

uint64_t
mrl_cache_key_content(const char *content_key)
{
	uint64_t	h = mrl_cache_hash(0xcbf29ce484222325ULL, CACHE_MAGIC, 8);

	h = mrl_cache_hash(h, "content:", 8);
	return mrl_cache_hash(h, content_key, strlen(content_key));
}

char *
mrl_cache_path(const char *dir, uint64_t key)
{
	size_t		n = strlen(dir) + 32;
	char	   *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/mrl-%016llx.f32", dir, (unsigned long long) key);
	return p;
}

/* The fixed header of a cache file. */
static void
cache_header(uint8_t *hdr, uint64_t key, uint64_t n_floats)
{
	memset(hdr, 0, MRL_CACHE_HEADER);
	memcpy(hdr, CACHE_MAGIC, 8);
	memcpy(hdr + 8, &key, 8);
	memcpy(hdr + 16, &n_floats, 8);
}

int
mrl_cache_open(const char *path, uint64_t key, uint64_t n_floats, mrl_mapping *map)
{
	uint8_t		hdr[MRL_CACHE_HEADER];

	if (access(path, R_OK) != 0 || mrl_map_file(path, map, NULL, 0) != 0)
		return -1;
	cache_header(hdr, key, n_floats);
	if (map->size != MRL_CACHE_HEADER + n_floats * sizeof(float) ||
		memcmp(map->base, hdr, MRL_CACHE_HEADER) != 0)
	{
		mrl_unmap(map);
		return -1;
	}
	return 0;
}

/* pwrite all of buf at off; 0 or -1 (errno set). */
static int
write_all(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t		w;

	while (len > 0)
	{
		w = pwrite(fd, buf, len, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf = (const char *) buf + w;
		len -= (size_t) w;
		off += w;
	}
	return 0;
}

int
mrl_cache_create(mrl_cache_writer *w, const char *dir, uint64_t key,
				 uint64_t n_floats, char *note, size_t notelen)
{
	w->key = key;
	w->n_floats = n_floats;
	snprintf(w->tmp, sizeof(w->tmp), "%s/.mrl-tmp-%016llx-%ld", dir,
			 (unsigned long long) key, (long) getpid());
	w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
	{
		mrl_errf(note, notelen, "cannot create %s: %s", w->tmp, strerror(errno));
		return -1;
	}
	/* reserve the blocks first so that a full disk fails early */
	if ((errno = posix_fallocate(w->fd, 0,
								 (off_t) (MRL_CACHE_HEADER + n_floats * sizeof(float)))) != 0)
	{
		mrl_cache_abort(w, note, notelen);
		return -1;
	}
	return 0;
}

int
mrl_cache_put(mrl_cache_writer *w, uint64_t offset, const float *buf, size_t n)
{
	return write_all(w->fd, buf, n * sizeof(float),
					 MRL_CACHE_HEADER + (off_t) (offset * sizeof(float)));
}

int
mrl_cache_commit(mrl_cache_writer *w, const char *path, char *note, size_t notelen)
{
	uint8_t		hdr[MRL_CACHE_HEADER];

	/* the header last: a file without it is never taken for complete */
	cache_header(hdr, w->key, w->n_floats);
	if (write_all(w->fd, hdr, MRL_CACHE_HEADER, 0) != 0 || fsync(w->fd) != 0 ||
		rename(w->tmp, path) != 0)
	{
		mrl_cache_abort(w, note, notelen);
		return -1;
	}
	close(w->fd);
	w->fd = -1;
	return 0;
}

void
mrl_cache_abort(mrl_cache_writer *w, char *note, size_t notelen)
{
	mrl_errf(note, notelen, "cannot write %s: %s", w->tmp, strerror(errno));
	unlink(w->tmp);
	close(w->fd);
	w->fd = -1;
}
