# mrl: PGXS build.  `make demo` and `make test` bootstrap everything they
# need (Debian packages, a throwaway cluster); see README.md.
EXTENSION = mrl
# The version is written once, as default_version in mrl.control.
EXTVERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big = mrl
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)))
HEADERS = src/mvector.h

# The current version's install script is assembled from one fragment per
# concept, so each part of the extension keeps its SQL beside the others in
# sql/install/.  Released versions' install scripts and the upgrade scripts
# between versions are committed files (README: Versions and upgrades).
DATA_built = sql/$(EXTENSION)--$(EXTVERSION).sql
DATA = $(filter-out $(DATA_built),$(wildcard sql/$(EXTENSION)--*.sql))
EXTRA_CLEAN = sql/$(EXTENSION)--$(EXTVERSION).sql

# Every sql/*.sql except the extension's scripts is a pg_regress test.
REGRESS = $(filter-out $(EXTENSION)--%,$(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-missing-field-initializers
# mint8vec's codes are widened to floats for every distance: a loop GCC
# vectorises only when asked (-O2 does not), as pgvector builds with it.
src/mint8vec.o: CFLAGS += -ftree-vectorize

# The encoder core is a plain C library (src/encoder) linked into mrl.so;
# its recipe and the flags of the Debian libraries are in encoder.mk
# (included after naming `all`, so that PGXS's `all` stays the default goal).
all:
include src/encoder/encoder.mk
PG_CPPFLAGS += $(ENC_CPPFLAGS)
# OpenBLAS and LAPACKE are opened at run time by the backends that need
# them (src/encoder/blas.h), so they are not linked here.
SHLIB_LINK += $(ENC_LIB) $(ENC_LIBS)
# Remote encoders (src/remote_http.c) compile against libcurl's headers and
# open the library at run time, as OpenBLAS, so it is not linked either.
PG_CPPFLAGS += $(shell $(PKG_CONFIG) --cflags libcurl 2>/dev/null)

# The built-in model is installed in share/extension/$(MODEL_DIR).
MODEL_DIR = mrl_model
PG_CPPFLAGS += -DMRL_MODEL_DIR='"$(MODEL_DIR)"'

# pg_regress's tests register tiny models made for each run, found through
# this variable (psql's \getenv, as PostgreSQL's own tests find their data
# files); the server must be able to read the directory.
MRL_REGRESS_MODELS ?= $(CURDIR)/tmp_check/regress_models
export MRL_REGRESS_MODELS

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

# Objects compiled for another PostgreSQL (another PG_CONFIG, another
# major) are rebuilt, never linked into this one's mrl.so: .pg_config holds
# the version and headers of the last build.
PG_BUILD_ID := $(shell $(PG_CONFIG) --version --includedir-server 2>/dev/null)
ifneq ($(PG_BUILD_ID),$(shell cat .pg_config 2>/dev/null))
$(shell echo '$(PG_BUILD_ID)' >.pg_config)
endif
$(OBJS) $(OBJS:.o=.bc): .pg_config
EXTRA_CLEAN += .pg_config

sql/$(EXTENSION)--$(EXTVERSION).sql: $(sort $(wildcard sql/install/*.sql))
	cat $^ > $@

$(shlib): $(ENC_LIB)

install: install-model install-pgvector-casts
install-model:
	$(MKDIR_P) '$(DESTDIR)$(datadir)/extension/$(MODEL_DIR)'
	cp -R model/. '$(DESTDIR)$(datadir)/extension/$(MODEL_DIR)/'

# mrl_pgvector, the casts to and from pgvector's types (CREATE EXTENSION
# mrl_pgvector where pgvector is installed), has its own control file.
install-pgvector-casts:
	$(MAKE) -C mrl_pgvector install PG_CONFIG='$(PG_CONFIG)'
uninstall: uninstall-pgvector-casts
uninstall-pgvector-casts:
	$(MAKE) -C mrl_pgvector uninstall PG_CONFIG='$(PG_CONFIG)'

# PYTHON is the one PostgreSQL was configured with (Makefile.global):
# Debian's, which has python3-numpy; a server built without Python leaves
# it empty, and the system's (not a python3 found first on PATH) is used.
installcheck: regress-models
regress-models:
	rm -rf '$(MRL_REGRESS_MODELS)' && mkdir -p '$(MRL_REGRESS_MODELS)' && \
	$(or $(PYTHON),/usr/bin/python3) test/encoder/make_tiny_models.py '$(MRL_REGRESS_MODELS)' >/dev/null && \
	chmod -R a+rX '$(MRL_REGRESS_MODELS)'

clean: encoder-clean

.PHONY: test demo bench install-model install-pgvector-casts uninstall-pgvector-casts regress-models model
# The whole suite in a throwaway cluster; prints "N passed, M failed" last.
test:
	@bash test/run_suite.sh
# The product's main job end to end, in a throwaway cluster.
demo:
	@bash test/demo.sh
# Rebuild the built-in static MRL model in model/ from Debian packages.
model:
	@bash tools/build_model.sh
