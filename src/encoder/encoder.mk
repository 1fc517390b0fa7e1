# src/encoder/encoder.mk: the one build recipe of the encoder core and of the
# C programs around it (unit tests, tools, benchmarks, fuzzers).  Included by
# the extension's Makefile (run in the repository root) and by
# src/encoder/Makefile (run in src/encoder); scripts call its targets
# instead of writing compiler flags.
#
# Every src/encoder/*.c is part of the library, so adding or splitting a file
# needs no edit here.  Flags of the Debian libraries come from pkg-config.

# Paths from the directory make runs in.
ifeq ($(wildcard encoder.mk),)
ENC_DIR := src/encoder/
TOP_DIR :=
else
ENC_DIR :=
TOP_DIR := ../../
endif

# Errors go to /dev/null: a missing package is reported by encoder-deps
# when something is built, not while `make test` is still installing it.
PKG_CONFIG ?= pkg-config
ENC_PKGS = json-c libutf8proc openblas lapacke
ENC_CPPFLAGS := -I$(or $(ENC_DIR),.) $(shell $(PKG_CONFIG) --cflags $(ENC_PKGS) 2>/dev/null)
# What the library needs at link time; OpenBLAS and LAPACKE are opened at
# run time (blas.h), so only programs that call them directly link them.
ENC_LIBS := $(shell $(PKG_CONFIG) --libs json-c libutf8proc 2>/dev/null) -lm -lpthread -ldl
ENC_BLAS_LIBS := $(shell $(PKG_CONFIG) --libs openblas lapacke 2>/dev/null)

ENC_OPT = -O2 -g
ENC_CFLAGS = $(ENC_OPT) -std=gnu11 -fPIC -Wall -Wextra -Wno-unused-parameter

ENC_SRCS := $(sort $(wildcard $(ENC_DIR)*.c))
ENC_HDRS := $(wildcard $(ENC_DIR)*.h)
ENC_OBJS := $(ENC_SRCS:.c=.o)
ENC_LIB := $(ENC_DIR)libmrlenc.a

# Programs linked with the library: unit tests (TAP), command-line tools
# (tools/tool_*.c are code they share; fixed_random.c is an LD_PRELOAD shim),
# benchmarks.
ENC_TESTS := $(patsubst %.c,%,$(wildcard $(TOP_DIR)test/encoder/test_*.c))
TOOL_COMMON := $(wildcard $(TOP_DIR)tools/tool_*.c)
TOOL_SHIM := $(TOP_DIR)tools/fixed_random.so
ENC_TOOLS := $(patsubst %.c,%,$(filter-out $(TOOL_COMMON) $(TOOL_SHIM:.so=.c),$(wildcard $(TOP_DIR)tools/*.c)))
ENC_BENCHES := $(patsubst %.c,%,$(wildcard $(TOP_DIR)test/bench/*.c))

# libFuzzer targets: the library's sources again, instrumented, in objects of
# their own; each test/fuzz/fuzz_*.c links what it uses from that archive.
FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -std=gnu11 -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_BUILD := $(TOP_DIR)test/fuzz/build/
FUZZ_OBJS := $(patsubst $(ENC_DIR)%.c,$(FUZZ_BUILD)%.o,$(ENC_SRCS))
FUZZ_LIB := $(FUZZ_BUILD)libmrlenc_fuzz.a
ENC_FUZZERS := $(patsubst $(TOP_DIR)test/fuzz/%.c,$(FUZZ_BUILD)%,$(wildcard $(TOP_DIR)test/fuzz/fuzz_*.c))

encoder: $(ENC_LIB)
encoder-tests: $(ENC_TESTS)
encoder-tools: $(ENC_TOOLS) $(TOOL_SHIM)
encoder-benches: $(ENC_BENCHES)
encoder-fuzzers: $(ENC_FUZZERS)

encoder-deps:
	@$(PKG_CONFIG) --exists $(ENC_PKGS) || \
		{ echo "pkg-config ($(PKG_CONFIG)) finds no $(ENC_PKGS); install the packages of test/deps.d/" >&2; exit 1; }

$(ENC_OBJS): $(ENC_DIR)%.o: $(ENC_DIR)%.c $(ENC_HDRS) | encoder-deps
	$(CC) $(ENC_CFLAGS) $(ENC_CPPFLAGS) -c -o $@ $<

# vecmath.c: elementwise kernels that vectorise only at -O3 without FP traps
$(ENC_DIR)vecmath.o: ENC_OPT += -O3 -fno-trapping-math

$(ENC_LIB): $(ENC_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(ENC_TESTS): %: %.c $(ENC_LIB) $(ENC_HDRS) | encoder-deps
	$(CC) $(ENC_CFLAGS) $(ENC_CPPFLAGS) -o $@ $< $(ENC_LIB) $(ENC_TEST_LIBS) $(ENC_LIBS)

# test_forward reports which OpenBLAS kernels ran
$(TOP_DIR)test/encoder/test_forward: ENC_TEST_LIBS = $(ENC_BLAS_LIBS)

# tools and benchmarks call BLAS/LAPACK themselves
$(ENC_TOOLS) $(ENC_BENCHES): %: %.c $(TOOL_COMMON) $(ENC_LIB) $(ENC_HDRS) | encoder-deps
	$(CC) $(ENC_CFLAGS) $(ENC_CPPFLAGS) -I$(TOP_DIR)tools -o $@ $< $(TOOL_COMMON) $(ENC_LIB) \
		$(ENC_BLAS_LIBS) $(ENC_LIBS)

$(TOOL_SHIM): %.so: %.c
	$(CC) -shared -fPIC -O2 -o $@ $<

$(FUZZ_OBJS): $(FUZZ_BUILD)%.o: $(ENC_DIR)%.c $(ENC_HDRS) | encoder-deps
	@mkdir -p $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(ENC_CPPFLAGS) -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(ENC_FUZZERS): $(FUZZ_BUILD)%: $(TOP_DIR)test/fuzz/%.c $(FUZZ_LIB) $(ENC_HDRS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(ENC_CPPFLAGS) -o $@ $< $(FUZZ_LIB) $(ENC_LIBS)

encoder-clean:
	rm -rf $(ENC_OBJS) $(ENC_LIB) $(ENC_TESTS) $(ENC_TOOLS) $(TOOL_SHIM) $(ENC_BENCHES) $(FUZZ_BUILD)

.PHONY: encoder encoder-tests encoder-tools encoder-benches encoder-fuzzers encoder-deps encoder-clean
