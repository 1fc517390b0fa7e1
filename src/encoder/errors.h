/*
 * errors.h: how the encoder core reports errors.  Functions return NULL or
 * an error code and write a message into a caller's buffer (err, errlen);
 * the library never prints, aborts or keeps error state.
 */
#ifndef MRL_ERRORS_H
#define MRL_ERRORS_H

#include <stddef.h>

/* snprintf into a caller's error buffer (no-op when err is NULL). */
extern void mrl_errf(char *err, size_t errlen, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Prefix the message already in err with "path: ". */
extern void mrl_err_prefix(char *err, size_t errlen, const char *path);

/*
 * Write a message into the err/errlen in scope and evaluate to code:
 * "return MRL_FAIL(MRL_TRAIN_EINVAL, "bad %s", what);".
 */
#define MRL_FAIL(code, ...) (mrl_errf(err, errlen, __VA_ARGS__), (code))

#endif							/* MRL_ERRORS_H */
