/*
 * tokenizer_unicode.c: character classes for the BERT tokenizer (see
 * tokenizer_unicode.h).
 */
#include "tokenizer_unicode.h"

#include <stddef.h>
#include <string.h>
#include <utf8proc.h>

/* A run of code points whose tokenizers class differs from utf8proc's */
typedef struct uc_override
{
	int32_t		lo;
	int32_t		hi;
	unsigned	cls;
} uc_override;

#include "tokenizer_unicode_table.h"

#define N_OVERRIDES (sizeof(uc_overrides) / sizeof(uc_overrides[0]))

/* The override covering c, or NULL (binary search over sorted runs). */
static const uc_override *
find_override(int32_t c)
{
	size_t		lo = 0,
				hi = N_OVERRIDES;

	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;

		if (c < uc_overrides[mid].lo)
			hi = mid;
		else if (c > uc_overrides[mid].hi)
			lo = mid + 1;
		else
			return &uc_overrides[mid];
	}
	return NULL;
}

/* Class bits from utf8proc's general category. */
static unsigned
utf8proc_class(int32_t c)
{
	utf8proc_category_t cat;

	if (c < 0x80)
	{
		if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
			(c >= 91 && c <= 96) || (c >= 123 && c <= 126))
			return MRL_UC_PUNCT;
		return (c < 0x20 || c == 0x7F) && c != '\t' && c != '\n' && c != '\r' ?
			MRL_UC_CONTROL : 0;
	}
	cat = utf8proc_category(c);
	switch (cat)
	{
		case UTF8PROC_CATEGORY_CC:
		case UTF8PROC_CATEGORY_CF:
		case UTF8PROC_CATEGORY_CO:
		case UTF8PROC_CATEGORY_CS:
			return MRL_UC_CONTROL;
		case UTF8PROC_CATEGORY_MN:
			return MRL_UC_MN;
		case UTF8PROC_CATEGORY_PC:
		case UTF8PROC_CATEGORY_PD:
		case UTF8PROC_CATEGORY_PS:
		case UTF8PROC_CATEGORY_PE:
		case UTF8PROC_CATEGORY_PI:
		case UTF8PROC_CATEGORY_PF:
		case UTF8PROC_CATEGORY_PO:
			return MRL_UC_PUNCT;
		default:
			return 0;
	}
}

unsigned
mrl_unicode_class(int32_t c, bool compat)
{
	if (compat && c >= uc_overrides[0].lo)
	{
		const uc_override *o = find_override(c);

		if (o != NULL)
			return o->cls;
	}
	return utf8proc_class(c);
}

bool
mrl_unicode_table_current(const char **table_version)
{
	*table_version = MRL_UC_TABLE_UNICODE;
	return strcmp(utf8proc_unicode_version(), MRL_UC_TABLE_UNICODE) == 0;
}
