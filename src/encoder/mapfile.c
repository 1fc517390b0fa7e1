/*
 * mapfile.c: read-only file mappings for the readers (mapfile.h).
 */
#include "mapfile.h"
#include "errors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Map path read-only and shared, so that every process mapping the same
 * file shares its page-cache pages.
 */
int
mrl_map_file(const char *path, mrl_mapping *m, char *err, size_t errlen)
{
	struct stat st;
	int			fd;
	void	   *p;

	memset(m, 0, sizeof(*m));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		mrl_errf(err, errlen, "could not open \"%s\": %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
	{
		mrl_errf(err, errlen, "\"%s\" is not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_size == 0)
	{
		mrl_errf(err, errlen, "\"%s\" is empty", path);
		close(fd);
		return -1;
	}
	p = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
	{
		mrl_errf(err, errlen, "could not map \"%s\": %s", path, strerror(errno));
		return -1;
	}
	m->base = p;
	m->size = (size_t) st.st_size;
	m->mtime_ns = (uint64_t) st.st_mtim.tv_sec * 1000000000u + st.st_mtim.tv_nsec;
	return 0;
}

void
mrl_unmap(mrl_mapping *m)
{
	if (m->base)
		munmap((void *) m->base, m->size);
	memset(m, 0, sizeof(*m));
}
