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

# C sources: one folder per part (see README "Layout").
OBJS = \
	src/daily_seongsu.o \
	src/alloc_pg.o \
	src/safe_spi.o \
	src/ingest/csv.o \
	src/ingest/rows.o \
	src/ingest/import_csv.o \
	src/ingest/import.o \
	src/ingest/upsert.o \
	src/ingest/http.o \
	src/ingest/secrets.o \
	src/ingest/sources.o \
	src/ingest/jobs.o \
	src/ingest/worker.o \
	src/ingest/parse_json.o \
	src/ingest/parse_seoul.o \
	src/ingest/parse_datagokr.o \
	src/ingest/parse_openmeteo.o \
	src/features/calendar.o \
	src/features/climate.o \
	src/features/holidays.o \
	src/features/features.o \
	src/features/window.o \
	src/ml/binning.o \
	src/ml/dataset.o \
	src/ml/day_memo.o \
	src/ml/shares.o \
	src/ml/train.o \
	src/ml/predict.o \
	src/ml/forest.o \
	src/ml/gbdt.o \
	src/ml/matrix.o \
	src/ml/metrics.o \
	src/ml/model.o \
	src/ml/model_io.o \
	src/ml/model_image.o \
	src/ml/model_share.o \
	src/ml/params.o \
	src/ml/ridge.o \
	src/ml/tree.o

# Install-script parts, concatenated in name order.
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))

REGRESS = import_real import_variants import_errors timezone ingest features models schedule quality security
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
