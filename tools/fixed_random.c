/*
 * fixed_random.c: an LD_PRELOAD shim that makes getrandom() return a fixed
 * pseudo-random stream (seeded by $MRL_HASH_SEED), so the Rust hash maps in
 * Hugging Face tokenizers get the same keys on every run and its WordPiece
 * trainer breaks count ties the same way.  Used by tools/train_tokenizer.sh
 * only; never linked into the extension.
 */
#include <stdlib.h>
#include <sys/types.h>

ssize_t
getrandom(void *buf, size_t len, unsigned int flags)
{
	static unsigned long long state;
	static int	seeded;
	unsigned char *p = buf;
	size_t		i;

	if (!seeded)
	{
		const char *s = getenv("MRL_HASH_SEED");

		state = s ? strtoull(s, NULL, 10) : 1;
		seeded = 1;
	}
	for (i = 0; i < len; i++)
	{
		/* 64-bit LCG (Knuth's MMIX constants); the top byte is well mixed */
		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		p[i] = (unsigned char) (state >> 56);
	}
	return (ssize_t) len;
}
