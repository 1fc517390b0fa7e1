/*
 * fuzz_model.c: libFuzzer target for the model loader on GGUF input (seeded
 * with tiny bert / nomic-bert models): hostile metadata and tensor tables
 * must be refused with a message, or give a model whose every weight array
 * (sizes from its configuration) lies in readable memory.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model.h"
#include "../encoder/walk_weights.h"

static void
sum_array(void *arg, const float *p, size_t n)
{
	float	   *acc = arg;
	size_t		i;

	for (i = 0; i < n; i++)
		*acc += p[i];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		path[64],
				err[1024];
	int			fd = memfd_create("model.gguf", 0);
	mrl_model  *m;
	float		acc = 0;

	if (fd < 0 || write(fd, data, size) != (ssize_t) size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = '\0';
	m = mrl_model_load(path, NULL, err, sizeof(err));
	if (m == NULL && err[0] == '\0')
		abort();				/* every refusal must say why */
	if (m)
	{
		walk_weights(m, sum_array, &acc);
		mrl_model_free(m);
	}
	close(fd);
	return 0;
}
