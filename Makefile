# mrl: PGXS build.  `make demo` and `make test` bootstrap everything they
# need (Debian packages, a throwaway cluster); see README.md.
EXTENSION = mrl
EXTVERSION = 0.1.0

MODULE_big = mrl
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
HEADERS = src/mvector.h

# The install script is assembled from one fragment per concept, so each
# part of the extension keeps its SQL beside the others in sql/install/.
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql

# Every sql/*.sql except the install script is a pg_regress test.
REGRESS = $(filter-out $(EXTENSION)--%,$(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
PG_CPPFLAGS += -Isrc/encoder

# The encoder core is a plain C library (src/encoder) linked into mrl.so.
ENCODER_LIB = src/encoder/libmrlenc.a
# OpenBLAS and LAPACKE are opened at run time by the backends that need
# them (src/encoder/blas.h), so they are not linked here.
SHLIB_LINK += $(ENCODER_LIB) -lutf8proc -ljson-c -lm -lpthread -ldl

# pg_regress needs the tiny test models where the server can read them.
REGRESS_MODELS = /tmp/mrl_regress_models

PG_CONFIG ?= $(shell command -v pg_config 2>/dev/null || echo /usr/lib/postgresql/15/bin/pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all install installcheck:
	@echo "PostgreSQL server development files not found (PG_CONFIG=$(PG_CONFIG))." >&2
	@echo "Run 'make test' or 'make demo' to install them, or install postgresql-server-dev-15." >&2
	@exit 1
endif

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql))
	cat $^ > $@

$(shlib): $(ENCODER_LIB)
$(ENCODER_LIB): FORCE
	$(MAKE) -C src/encoder libmrlenc.a
FORCE:

# The built-in model ships with the extension, in share/extension/mrl_model.
install: install-model
install-model:
	$(MKDIR_P) '$(DESTDIR)$(datadir)/extension/mrl_model'
	cp -R model/. '$(DESTDIR)$(datadir)/extension/mrl_model/'

installcheck: regress-models
# Written beside and swapped in only when they differ, so a run that is
# reading the models is not disturbed by another that regenerates them.
regress-models:
	rm -rf $(REGRESS_MODELS).new.$$$$ && mkdir -p $(REGRESS_MODELS).new.$$$$ && \
	/usr/bin/python3 test/encoder/make_tiny_models.py $(REGRESS_MODELS).new.$$$$ >/dev/null && \
	chmod -R a+rX $(REGRESS_MODELS).new.$$$$ && \
	if diff -rq $(REGRESS_MODELS).new.$$$$ $(REGRESS_MODELS) >/dev/null 2>&1; then \
		rm -rf $(REGRESS_MODELS).new.$$$$; \
	else \
		rm -rf $(REGRESS_MODELS) && mv $(REGRESS_MODELS).new.$$$$ $(REGRESS_MODELS); \
	fi

clean: clean-encoder
clean-encoder:
	$(MAKE) -C src/encoder clean

.PHONY: test demo bench install-model regress-models clean-encoder FORCE model
# The whole suite in a throwaway cluster; prints "N passed, M failed" last.
test:
	@bash test/run_suite.sh
# The product's main job end to end, in a throwaway cluster.
demo:
	@bash test/demo.sh
# Rebuild the built-in static MRL model in model/ from Debian packages.
model:
	@bash tools/build_model.sh
