/*
 * tap.h: minimal TAP output for the encoder unit tests (header-only).
 * ok(cond, fmt, ...) prints "ok N - ..." or "not ok N - ..."; tap_done()
 * prints the plan and returns the exit status; tap_slurp() reads a file.
 */
#ifndef MRL_TAP_H
#define MRL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

static int	tap_n = 0;
static int	tap_failed = 0;

/* Report one assertion; returns cond so callers can skip dependent checks. */
static inline int
ok(int cond, const char *fmt,...)
{
	va_list		ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

/* Print the plan line; exit status for main. */
static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

/* Read a whole file into malloc'd memory (NUL-terminated); NULL on error. */
static inline void *
tap_slurp(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf = NULL;
	long		n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
		(buf = malloc(n + 1)) != NULL)
	{
		if (fread(buf, 1, n, f) != (size_t) n)
		{
			free(buf);
			buf = NULL;
		}
		else
		{
			buf[n] = '\0';
			*len = (size_t) n;
		}
	}
	fclose(f);
	return buf;
}

/*
 * For every entry X of dir that has an X.expect file: opening X with
 * try_open (returns non-zero on success, message in err) must fail with a
 * message containing the text of X.expect.
 */
static inline void
tap_bad_dir(const char *dir, int (*try_open) (const char *path, char *err, size_t errlen))
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	char		path[8192],
				xpath[8300],
				err[1024];
	char	   *want;
	size_t		n;
	int			count = 0;

	while (d && (e = readdir(d)) != NULL)
	{
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(xpath, sizeof(xpath), "%s.expect", path);
		if ((want = tap_slurp(xpath, &n)) == NULL)
			continue;
		err[0] = '\0';
		ok(!try_open(path, err, sizeof(err)) && strstr(err, want) != NULL,
		   "%s refused: %s", e->d_name, err);
		free(want);
		count++;
	}
	if (d)
		closedir(d);
	ok(count > 0, "%s holds %d bad files", dir, count);
}

#endif							/* MRL_TAP_H */
