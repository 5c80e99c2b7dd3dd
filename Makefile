# daily_seongsu — PGXS build.
#   make && make install          build and install into the pg_config found on PATH
#   make installcheck             pg_regress suite against a running server
#   bash test/check.sh            everything: pg_regress + TAP (test/t), on a throwaway cluster
#   make sanitize                 rebuild with ASan/UBSan (run the server with it via test/check.sh)
#   make valgrind-check           regression suite with the server under valgrind
#   make fuzz                     every parser's libFuzzer harness for a fixed budget

EXTENSION = daily_seongsu
MODULE_big = daily_seongsu
DATA_built = daily_seongsu--0.1.0.sql

# C sources: one folder per part (see README "Layout").
OBJS = \
	src/daily_seongsu.o \
	src/alloc_pg.o \
	src/ingest/csv.o \
	src/ingest/rows.o \
	src/ingest/import_csv.o \
	src/ingest/import.o \
	src/ingest/upsert.o \
	src/ingest/parse_json.o \
	src/ingest/parse_seoul.o \
	src/ingest/parse_datagokr.o \
	src/ingest/parse_openmeteo.o

# Install-script parts, concatenated in name order.
SQL_PARTS = $(sort $(wildcard src/sql/*.sql))

REGRESS = import_real import_variants import_errors timezone
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -std=gnu11 -I$(srcdir)/src -Wall -Wextra -Werror \
	-Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare \
	-Wno-cast-function-type
SHLIB_LINK = -lcurl -ljson-c -lm
EXTRA_CLEAN = $(DATA_built)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(DATA_built): $(SQL_PARTS)
	cat $(SQL_PARTS) > $@

# ASan/UBSan build of the module (the server itself is not instrumented; the
# check script preloads libasan into it).
sanitize: clean
	$(MAKE) COPT='-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined' \
		SHLIB_LINK='$(SHLIB_LINK) -fsanitize=address,undefined'

valgrind-check:
	bash test/valgrind.sh

fuzz:
	$(MAKE) -C test/fuzz run

.PHONY: sanitize valgrind-check fuzz
