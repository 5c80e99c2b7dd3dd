# daily_seongsu — PGXS build.
#   make && make install          build and install into the pg_config found on PATH
#   make installcheck             pg_regress suite against a running server (fixtures of its own)
#   make installcheck-real DATA=d the pg_regress tests on the real data folder d
#   bash test/check.sh            everything: pg_regress + TAP (test/t), on a throwaway cluster
#   make sanitize-check           parser and model tests built with ASan/UBSan
#   make valgrind-check           regression suite with the server under valgrind
#   make fuzz                     every parser's libFuzzer harness for a fixed budget

EXTENSION = daily_seongsu
MODULE_big = daily_seongsu
DATA_built = daily_seongsu--0.1.0.sql

# C sources: the shared pieces, then one folder per part (docs/architecture.md).
OBJS = \
	src/daily_seongsu.o \
	src/settings.o \
	src/invalidation.o \
	src/safe_spi.o \
	src/alloc_pg.o \
	src/names.o \
	$(patsubst %.c,%.o,$(sort $(wildcard $(srcdir)/src/ingest/*.c))) \
	$(patsubst %.c,%.o,$(sort $(wildcard $(srcdir)/src/ml/*.c))) \
	$(patsubst %.c,%.o,$(sort $(wildcard $(srcdir)/src/features/*.c))) \
	$(patsubst %.c,%.o,$(sort $(wildcard $(srcdir)/src/serve/*.c))) \
	$(patsubst %.c,%.o,$(sort $(wildcard $(srcdir)/src/train/*.c)))

# Install-script parts, concatenated in name order.
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))

# pg_regress: the core schedule runs on any server where the extension can be
# created, on fixtures of its own (test/fixtures); installcheck-real runs the
# tests that read the real data folder (make installcheck-real DATA=dir, a
# folder the server can read; test/check.sh runs it when ../shared/data exists).
REGRESS = import_variants import_errors timezone ingest fixtures features models schedule quality security
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)
REGRESS_REAL = import_real features_real models_real quality_real

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -std=gnu11 -I$(srcdir)/src -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare \
	-Wno-cast-function-type
SHLIB_LINK = -lcurl -ljson-c -lm
EXTRA_CLEAN = $(DATA_built)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# Always rebuilt (a cat): a part that was removed must leave the script too.
$(DATA_built): $(SQL_PARTS)
	cat $(SQL_PARTS) > $@
.PHONY: $(DATA_built)

# Every object is rebuilt when any header changes (PGXS tracks no headers).
$(OBJS) $(OBJS:.o=.bc): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/*/*.h)

# Memory checks: the pure-C parts under ASan/UBSan, the server under valgrind.
sanitize-check:
	$(MAKE) -C test/fuzz check
	$(MAKE) -C test/unit check-asan

valgrind-check:
	bash test/valgrind.sh

fuzz:
	$(MAKE) -C test/fuzz run

# The real-data schedule, in a database of its own, results in tmp_check/real.
installcheck-real:
	@test -n "$(DATA)" || { echo "installcheck-real: set DATA to the real data folder (readable by the server)" >&2; exit 2; }
	$(MKDIR_P) tmp_check/real
	export PGOPTIONS="$$PGOPTIONS -c regress.data_dir=$(abspath $(DATA))"; $(pg_regress_installcheck) --inputdir=. \
		--load-extension=$(EXTENSION) --dbname=contrib_regression_real --outputdir=tmp_check/real $(REGRESS_REAL)

.PHONY: sanitize-check valgrind-check fuzz installcheck-real
