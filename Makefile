# daily_seongsu — PGXS build.
#   make && make install          build and install into the pg_config found on PATH
#   make installcheck             pg_regress suite against a running server
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
	$(patsubst %.c,%.o,$(sort $(wildcard $(srcdir)/src/train/*.c))) \
	$(patsubst %.c,%.o,$(sort $(wildcard $(srcdir)/src/ops/*.c)))

# Install-script parts, concatenated in name order.
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))

REGRESS = import_real import_variants import_errors timezone ingest features models schedule quality monitoring security
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

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

.PHONY: sanitize-check valgrind-check fuzz
