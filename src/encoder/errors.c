/*
 * errors.c: error messages into callers' buffers (errors.h).
 */
#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

/* Format a message into err (if given), always NUL-terminated. */
void
mrl_errf(char *err, size_t errlen, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
mrl_err_prefix(char *err, size_t errlen, const char *path)
{
	char		msg[1024];

	if (err == NULL || errlen == 0)
		return;
	snprintf(msg, sizeof(msg), "%s", err);
	mrl_errf(err, errlen, "%s: %s", path, msg);
}
