/*
 * test_quant.c: dequantisation golden tests.  argv[1] is a directory made by
 * `gguf_tools.py golden DIR` holding, per type, random raw blocks (TYPE.bin)
 * and the numpy reference's float32 output (TYPE.f32); results must be
 * bit-identical.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quant.h"
#include "tap.h"

/* Dequantise DIR/name.bin and compare with DIR/name.f32 bit for bit. */
static void
golden(const char *dir, const char *name, uint32_t type)
{
	char		path[4096];
	size_t		nraw = 0,
				nexp = 0,
				n,
				i,
				bad = 0;
	uint8_t    *raw;
	float	   *exp,
			   *got;

	snprintf(path, sizeof(path), "%s/%s.bin", dir, name);
	raw = tap_slurp(path, &nraw);
	snprintf(path, sizeof(path), "%s/%s.f32", dir, name);
	exp = tap_slurp(path, &nexp);
	if (!ok(raw && exp && nexp > 0, "%s: golden files readable", name))
		return;
	n = nexp / sizeof(float);
	ok(nraw == n / mrl_ggml_block_elems(type) * mrl_ggml_block_bytes(type),
	   "%s: %zu bytes hold %zu elements", name, nraw, n);
	got = malloc(n * sizeof(float));
	ok(mrl_dequantize(type, raw, got, n) == 0, "%s: dequantize returns 0", name);
	for (i = 0; i < n; i++)
		if (memcmp(&got[i], &exp[i], sizeof(float)) != 0 && bad++ < 3)
			printf("# %s[%zu]: got %.9g expected %.9g\n", name, i, got[i], exp[i]);
	ok(bad == 0, "%s: %zu values bit-identical to the numpy reference (%zu differ)",
	   name, n, bad);
	free(raw);
	free(exp);
	free(got);
}

int
main(int argc, char **argv)
{
	static const struct
	{
		const char *name;
		uint32_t	type;
	}			types[] = {
		{"F32", MRL_TYPE_F32}, {"F16", MRL_TYPE_F16}, {"BF16", MRL_TYPE_BF16},
		{"Q8_0", MRL_TYPE_Q8_0}, {"Q4_0", MRL_TYPE_Q4_0}, {"Q4_1", MRL_TYPE_Q4_1},
		{"Q5_0", MRL_TYPE_Q5_0}, {"Q5_1", MRL_TYPE_Q5_1}, {"Q4_K", MRL_TYPE_Q4_K},
		{"Q5_K", MRL_TYPE_Q5_K}, {"Q6_K", MRL_TYPE_Q6_K},
	};
	size_t		i;
	int			okflag;
	float		f[32];
	uint8_t		zero[64] = {0};

	if (argc < 2)
	{
		fprintf(stderr, "usage: %s GOLDEN_DIR\n", argv[0]);
		return 2;
	}
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
	{
		golden(argv[1], types[i].name, types[i].type);
		ok(strcmp(mrl_ggml_type_name(types[i].type), types[i].name) == 0,
		   "type %u is named %s", types[i].type, types[i].name);
	}

	/* names of unsupported types, refusal of unsupported or partial input */
	ok(strcmp(mrl_ggml_type_name(16), "IQ2_XXS") == 0, "type 16 is IQ2_XXS");
	ok(strcmp(mrl_ggml_type_name(10), "Q2_K") == 0, "type 10 is Q2_K");
	ok(mrl_ggml_type_name(43) == NULL && mrl_ggml_type_name(UINT32_MAX) == NULL,
	   "ids past the table have no name");
	ok(!mrl_ggml_type_supported(10) && !mrl_ggml_type_supported(4) &&
	   !mrl_ggml_type_supported(999), "Q2_K, removed and unknown types unsupported");
	ok(mrl_dequantize(10, zero, f, 32) == -1, "dequantize refuses Q2_K");
	ok(mrl_dequantize(MRL_TYPE_Q8_0, zero, f, 31) == -1, "dequantize refuses a partial block");
	ok(mrl_ggml_nbytes(MRL_TYPE_Q4_K, 512, &okflag) == 288 && okflag, "Q4_K: 512 elements = 288 bytes");
	mrl_ggml_nbytes(MRL_TYPE_Q4_0, 33, &okflag);
	ok(!okflag, "nbytes refuses a partial block");
	mrl_ggml_nbytes(MRL_TYPE_F32, UINT64_MAX / 2, &okflag);
	ok(!okflag, "nbytes detects overflow");
	return tap_done();
}
