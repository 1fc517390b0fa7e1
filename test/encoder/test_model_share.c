/*
 * test_model_share.c MODEL CACHE_DIR: how much private memory a second
 * process adds when it loads a model another process already holds.
 *
 * Process A loads MODEL and reads every weight, then waits; process B then
 * loads it too, reads every weight, and reports the change of its own
 * /proc/self/smaps_rollup.  Done twice: with the conversion cache (weights
 * converted once into a file shared through the page cache) and without
 * (each process converts into private memory), so the second run shows
 * that the measurement does see private copies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model.h"
#include "tap.h"
#include "walk_weights.h"

typedef struct rollup
{
	long		rss,
				pss,
				shared,
				private;		/* kB: Shared_* and Private_* summed */
} rollup;

static rollup
read_rollup(void)
{
	FILE	   *f = fopen("/proc/self/smaps_rollup", "r");
	char		line[256];
	long		v;
	rollup		r = {0};

	while (f && fgets(line, sizeof(line), f))
	{
		if (sscanf(line, "Rss: %ld", &v) == 1)
			r.rss = v;
		else if (sscanf(line, "Pss: %ld", &v) == 1)
			r.pss = v;
		else if (sscanf(line, "Shared_Clean: %ld", &v) == 1 ||
				 sscanf(line, "Shared_Dirty: %ld", &v) == 1)
			r.shared += v;
		else if (sscanf(line, "Private_Clean: %ld", &v) == 1 ||
				 sscanf(line, "Private_Dirty: %ld", &v) == 1)
			r.private += v;
	}
	if (f)
		fclose(f);
	return r;
}

static void
sum_array(void *arg, const float *p, size_t n)
{
	volatile float *acc = arg;
	size_t		i;

	for (i = 0; i < n; i++)
		*acc += p[i];
}

/* Load and touch every weight; returns the model (NULL on error). */
static mrl_model *
load_and_touch(const char *path, const char *cache_dir)
{
	mrl_load_options o = {cache_dir};
	char		err[512];
	mrl_model  *m = mrl_model_load(path, &o, err, sizeof(err));
	volatile float acc = 0;

	if (m == NULL)
		fprintf(stderr, "load failed: %s\n", err);
	else
		walk_weights(m, sum_array, (void *) &acc);
	return m;
}

/*
 * Run A and B as described above; fills B's smaps_rollup change and the
 * number of converted bytes.  Returns 0 on success.
 */
static int
measure(const char *path, const char *cache_dir, rollup *delta, size_t *converted)
{
	int			ready[2],
				hold[2],
				result[2];
	pid_t		a,
				b;
	char		c;
	struct
	{
		rollup		d;
		size_t		converted;
		int			ok;
	}			msg = {{0}, 0, 0};

	if (pipe(ready) || pipe(hold) || pipe(result))
		return -1;
	if ((a = fork()) == 0)
	{
		mrl_model  *m;

		alarm(60);
		close(hold[1]);			/* so that read(hold[0]) ends when the parent closes it */
		m = load_and_touch(path, cache_dir);

		c = m ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(hold[0], &c, 1) < 0)
			_exit(1);			/* read returns 0 when the parent closes hold */
		mrl_model_free(m);
		_exit(0);
	}
	close(hold[0]);
	if (read(ready[0], &c, 1) != 1 || c != 'y')
		return -1;
	if ((b = fork()) == 0)
	{
		rollup		before,
					after;
		mrl_model  *m;

		alarm(60);
		close(hold[1]);
		before = read_rollup();
		m = load_and_touch(path, cache_dir);
		after = read_rollup();
		msg.d.rss = after.rss - before.rss;
		msg.d.pss = after.pss - before.pss;
		msg.d.shared = after.shared - before.shared;
		msg.d.private = after.private - before.private;
		msg.converted = m ? m->converted_bytes : 0;
		msg.ok = m != NULL;
		if (write(result[1], &msg, sizeof(msg)) != sizeof(msg))
			_exit(1);
		mrl_model_free(m);
		_exit(0);
	}
	if (read(result[0], &msg, sizeof(msg)) != sizeof(msg))
		msg.ok = 0;
	close(hold[1]);				/* releases A */
	waitpid(a, NULL, 0);
	waitpid(b, NULL, 0);
	*delta = msg.d;
	*converted = msg.converted;
	return msg.ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	rollup		dc,
				dp;
	size_t		conv_c = 0,
				conv_p = 0;
	long		conv_kb;

	if (argc < 3)
		return 2;
	alarm(120);					/* never hang the suite */
	mkdir(argv[2], 0755);
	if (!ok(measure(argv[1], argv[2], &dc, &conv_c) == 0, "two processes load with the cache"))
		return tap_done();
	if (!ok(measure(argv[1], NULL, &dp, &conv_p) == 0, "two processes load without the cache"))
		return tap_done();
	conv_kb = (long) (conv_c / 1024);
	printf("# converted float32 weights: %ld kB\n", conv_kb);
	printf("# second process, cache file:  Rss %+ld kB, Pss %+ld kB, Shared %+ld kB, Private %+ld kB\n",
		   dc.rss, dc.pss, dc.shared, dc.private);
	printf("# second process, no cache:    Rss %+ld kB, Pss %+ld kB, Shared %+ld kB, Private %+ld kB\n",
		   dp.rss, dp.pss, dp.shared, dp.private);
	ok(conv_c == conv_p && conv_kb > 4096, "the model needs %ld kB of conversion", conv_kb);
	ok(dc.private < conv_kb / 10,
	   "with the cache the second process adds %ld kB private (< 10%% of %ld kB)",
	   dc.private, conv_kb);
	ok(dc.shared >= conv_kb * 9 / 10, "its converted weights are shared pages (%ld kB)", dc.shared);
	ok(dp.private >= conv_kb * 9 / 10,
	   "without the cache it adds %ld kB private (the measurement sees copies)", dp.private);
	return tap_done();
}
