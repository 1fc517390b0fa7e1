/*
 * tool_io.c: the tokenised pair file, for the command-line tools (see
 * tool_io.h).
 */
#include "tool_io.h"

#include "errors.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse one line of token ids, appending to pf->ids. */
static int
read_text_line(const char *line, pair_file *pf, int64_t *n_ids, int64_t *cap)
{
	const char *s = line;
	char	   *end;

	for (;;)
	{
		long		v;

		while (*s == ' ')
			s++;
		if (*s == '\n' || *s == '\0')
			return 0;
		errno = 0;
		v = strtol(s, &end, 10);
		if (end == s || errno || v < 0 || v > INT32_MAX)
			return -1;
		if (*n_ids == *cap)
		{
			int32_t    *grown = realloc(pf->ids, sizeof(int32_t) * (*cap * 2));

			if (!grown)
				return -1;
			pf->ids = grown;
			*cap *= 2;
		}
		pf->ids[(*n_ids)++] = (int32_t) v;
		if (v > pf->max_id)
			pf->max_id = (int32_t) v;
		s = end;
	}
}

/* Index of a source name, added if new; -1 if the table is full. */
static int
source_index(pair_file *pf, const char *name)
{
	for (int i = 0; i < pf->n_sources; i++)
		if (strcmp(pf->source_names[i], name) == 0)
			return i;
	if (pf->n_sources == PAIR_MAX_SOURCES)
		return -1;
	snprintf(pf->source_names[pf->n_sources], sizeof(pf->source_names[0]), "%s", name);
	return pf->n_sources++;
}

int
pair_file_read(const char *path, pair_file *pf, char *err, size_t errlen)
{
	FILE	   *f = fopen(path, "r");
	char	   *line = NULL;
	size_t		linecap = 0;
	int			n_texts,
				n_pairs,
				version;
	int64_t		n_ids = 0,
				cap = 1 << 20;
	int			rc = -1;

	memset(pf, 0, sizeof(*pf));
	pf->max_id = -1;
	if (!f)
		return MRL_FAIL(-1, "cannot open %s: %s", path, strerror(errno));
	if (getline(&line, &linecap, f) < 0 ||
		sscanf(line, "mrl-pairs %d %d %d", &version, &n_texts, &n_pairs) != 3 ||
		version != 1 || n_texts < 1 || n_pairs < 1 || n_texts > (1 << 30) ||
		n_pairs > (1 << 30))
	{
		mrl_errf(err, errlen, "%s: not a version 1 pair file", path);
		goto done;
	}
	pf->text_off = malloc(sizeof(int64_t) * ((size_t) n_texts + 1));
	pf->ids = malloc(sizeof(int32_t) * cap);
	pf->anchor = malloc(sizeof(int32_t) * n_pairs);
	pf->positive = malloc(sizeof(int32_t) * n_pairs);
	pf->source = malloc(n_pairs);
	if (!pf->text_off || !pf->ids || !pf->anchor || !pf->positive || !pf->source)
	{
		mrl_errf(err, errlen, "out of memory reading %s", path);
		goto done;
	}
	pf->text_off[0] = 0;
	for (int t = 0; t < n_texts; t++)
	{
		if (getline(&line, &linecap, f) < 0 ||
			read_text_line(line, pf, &n_ids, &cap) != 0)
		{
			mrl_errf(err, errlen, "%s: bad or missing text line %d", path, t + 1);
			goto done;
		}
		pf->text_off[t + 1] = n_ids;
	}
	for (int i = 0; i < n_pairs; i++)
	{
		char		name[32];
		int			s;

		if (getline(&line, &linecap, f) < 0 ||
			sscanf(line, "%d %d %31s", &pf->anchor[i], &pf->positive[i], name) != 3 ||
			pf->anchor[i] < 0 || pf->anchor[i] >= n_texts ||
			pf->positive[i] < 0 || pf->positive[i] >= n_texts ||
			(s = source_index(pf, name)) < 0)
		{
			mrl_errf(err, errlen, "%s: bad or missing pair line %d", path, i + 1);
			goto done;
		}
		pf->source[i] = (uint8_t) s;
	}
	pf->data.n_texts = n_texts;
	pf->data.text_off = pf->text_off;
	pf->data.ids = pf->ids;
	pf->data.n_pairs = n_pairs;
	pf->data.anchor = pf->anchor;
	pf->data.positive = pf->positive;
	pf->data.negative = NULL;
	rc = 0;
done:
	free(line);
	fclose(f);
	if (rc != 0)
		pair_file_free(pf);
	return rc;
}

void
pair_file_free(pair_file *pf)
{
	free(pf->text_off);
	free(pf->ids);
	free(pf->anchor);
	free(pf->positive);
	free(pf->source);
	memset(pf, 0, sizeof(*pf));
}
