/*
 * unicode_dump.c: print, for every Unicode scalar value, the BERT tokenizer
 * classes that current Unicode (utf8proc) gives it: "cp class strip lower"
 * in hex, where strip is NFD minus nonspacing marks, after a first line
 * "# unicode VERSION" (utf8proc's Unicode version).  Input to
 * tools/unicode_compat.js, which compares with Hugging Face tokenizers.
 *
 * make -C src/encoder ../../tools/unicode_dump
 */
#include <stdio.h>
#include <utf8proc.h>

#include "tokenizer_unicode.h"

/* Print a list of code points as comma-separated hex ("-" when empty). */
static void
print_cps(const int32_t *v, int n)
{
	int			i;

	if (n == 0)
		fputs("-", stdout);
	for (i = 0; i < n; i++)
		printf(i ? ",%x" : "%x", (unsigned) v[i]);
}

int
main(void)
{
	int32_t		c;

	printf("# unicode %s\n", utf8proc_unicode_version());
	for (c = 0; c <= 0x10FFFF; c++)
	{
		utf8proc_int32_t d[32];
		int32_t		kept[32];
		int			bc = 0,
					n,
					k = 0,
					i;
		int32_t		lower[2] = {utf8proc_tolower(c), 0};

		if (c >= 0xD800 && c <= 0xDFFF)
			continue;
		n = (int) utf8proc_decompose_char(c, d, 32, UTF8PROC_DECOMPOSE, &bc);
		for (i = 0; i < n && i < 32; i++)
			if (!(mrl_unicode_class(d[i], false) & MRL_UC_MN))
				kept[k++] = d[i];
		if (c == 0x130)
			lower[0] = 'i', lower[1] = 0x307;
		printf("%x %u ", (unsigned) c,
			   mrl_unicode_class(c, false) & (MRL_UC_CONTROL | MRL_UC_PUNCT));
		print_cps(kept, k);
		putchar(' ');
		print_cps(lower, c == 0x130 ? 2 : 1);
		putchar('\n');
	}
	return 0;
}
