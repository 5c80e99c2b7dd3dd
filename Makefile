# daily_seongsu — PGXS build.
#   make && make install          build and install into the pg_config found on PATH
#   make installcheck             pg_regress suite against a running server (fixtures of its own)
#   make installcheck-real DATA=d the pg_regress tests on the real data folder d
#   bash test/check.sh            everything: pg_regress + TAP (test/t), on a throwaway cluster
#   make container-check          the image (Dockerfile) for 15 and 17, built with podman and smoke-tested
#   make sanitize-check           parser and model tests built with ASan/UBSan
#   make valgrind-check           regression suite with the server under valgrind
#   make fuzz                     every parser's libFuzzer harness for a fixed budget
#   make installcheck-files       every script and the library are installed (docs/releasing.md)
# Warnings are errors only in CI and developer builds: make DS_WERROR=1
# (test/lib.sh passes it); a user's build of a release never stops on a
# warning a newer compiler invents.

EXTENSION = daily_seongsu
MODULE_big = daily_seongsu
# The version being built is the control file's default_version; its
# install script is made from src/sql.  releases/ holds the frozen install
# scripts of released versions and every upgrade script (docs/releasing.md).
EXTVERSION := $(shell sed -n "s/^default_version = '\([^']*\)'.*/\1/p" daily_seongsu.control)
DATA_built = daily_seongsu--$(EXTVERSION).sql
DATA = $(sort $(wildcard releases/daily_seongsu--*.sql))

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

# pg_regress: the core schedule runs on any server where the extension can be
# created, on fixtures of its own (test/fixtures); installcheck-real runs the
# tests that read the real data folder (make installcheck-real DATA=dir, a
# folder the server can read; test/check.sh runs it when ../shared/data exists).
REGRESS = import_variants import_errors timezone ingest fixtures features models tracking versions schedule quality monitoring security release api pipeline
REGRESS_OPTS = --inputdir=. --load-extension=$(EXTENSION)
REGRESS_REAL = import_real features_real models_real quality_real

PG_CONFIG ?= pg_config
PG_CPPFLAGS = -std=gnu11 -I$(srcdir)/src -Wall -Wextra $(if $(DS_WERROR),-Werror) \
	-Wno-unused-parameter -Wno-missing-field-initializers -Wno-sign-compare \
	-Wno-cast-function-type -DSEONGSU_VERSION='"$(EXTVERSION)"'
SHLIB_LINK = -lcurl -ljson-c -lm
EXTRA_CLEAN = $(DATA_built)

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# supautils' after-create script for Supabase (docs/supabase.md), installed
# as <sharedir>/daily_seongsu/after-create.sql: the layout supautils reads.
install: install-supabase
install-supabase:
	$(MKDIR_P) '$(DESTDIR)$(datadir)/$(EXTENSION)'
	$(INSTALL_DATA) $(srcdir)/supabase/after-create.sql '$(DESTDIR)$(datadir)/$(EXTENSION)/after-create.sql'
uninstall: uninstall-supabase
uninstall-supabase:
	rm -f '$(DESTDIR)$(datadir)/$(EXTENSION)/after-create.sql'
	rmdir '$(DESTDIR)$(datadir)/$(EXTENSION)' 2>/dev/null || true
# The source revision compiled in (seongsu.runs.build): SS_BUILD when given
# (test/chroot.sh passes the host's, the root has no git), else git describe
# of this checkout, else "unknown".  track.o is rebuilt when it changes.
SS_BUILD ?=
ifeq ($(strip $(SS_BUILD)),)
SS_BUILD := $(shell git -c safe.directory='*' -C '$(srcdir)' describe --always --dirty --abbrev=12 2>/dev/null)
endif
SS_BUILD := $(shell printf '%s' '$(SS_BUILD)' | tr -cd 'A-Za-z0-9._+-')
ifeq ($(SS_BUILD),)
SS_BUILD := unknown
endif
src/train/track.o src/train/track.bc: override CPPFLAGS += -DSS_BUILD='"$(SS_BUILD)"'
src/train/track.o src/train/track.bc: tmp_check/build-id
tmp_check/build-id: FORCE
	@mkdir -p tmp_check
	@[ "$$(cat $@ 2>/dev/null)" = '$(SS_BUILD)' ] || printf '%s\n' '$(SS_BUILD)' > $@
.PHONY: FORCE

# Always rebuilt (a cat): a part that was removed must leave the script too.
$(DATA_built): $(SQL_PARTS)
	cat $(SQL_PARTS) > $@
.PHONY: $(DATA_built)

# Every object is rebuilt when any header changes (PGXS tracks no headers),
# and when the version (SEONGSU_VERSION) does.
$(OBJS) $(OBJS:.o=.bc): $(wildcard $(srcdir)/src/*.h $(srcdir)/src/*/*.h) daily_seongsu.control

# Every file `make install` puts in place is there and is this checkout's
# (the control file, the scripts of DATA and DATA_built, Supabase's
# after-create script, the library), and
# no other daily_seongsu script is installed: a stale upgrade script would
# let ALTER EXTENSION take a path this checkout does not ship.
installcheck-files:
	@status=0; dir='$(DESTDIR)$(datadir)/$(datamoduledir)'; \
	for f in $(EXTENSION).control $(DATA) $(DATA_built); do \
	  cmp -s "$$f" "$$dir/$$(basename "$$f")" || { echo "not installed, or not this checkout's: $$dir/$$(basename "$$f")"; status=1; }; \
	done; \
	ac='$(DESTDIR)$(datadir)/$(EXTENSION)/after-create.sql'; \
	cmp -s '$(srcdir)/supabase/after-create.sql' "$$ac" || { echo "not installed, or not this checkout's: $$ac"; status=1; }; \
	for f in "$$dir"/$(EXTENSION)--*.sql; do \
	  [ -e "$$f" ] || continue; \
	  case " $(notdir $(DATA) $(DATA_built)) " in *" $$(basename "$$f") "*) ;; \
	    *) echo "installed but not in this checkout: $$f (remove it)"; status=1 ;; esac; \
	done; \
	lib='$(DESTDIR)$(pkglibdir)/$(MODULE_big)$(DLSUFFIX)'; \
	cmp -s '$(MODULE_big)$(DLSUFFIX)' "$$lib" || { echo "not installed, or not this build's: $$lib"; status=1; }; \
	exit $$status

# Memory checks: the pure-C parts under ASan/UBSan, the server under valgrind.
sanitize-check:
	$(MAKE) -C test/fuzz check
	$(MAKE) -C test/unit check-asan

valgrind-check:
	bash test/valgrind.sh

# The container image: built with podman and smoke-tested (as root;
# CONTAINER_MAJORS picks the majors; docs/containers.md).
CONTAINER_MAJORS ?= 15 17
container-check:
	bash test/container.sh $(CONTAINER_MAJORS)
.PHONY: container-check

fuzz:
	$(MAKE) -C test/fuzz run

# The real-data schedule, in a database of its own, results in tmp_check/real.
installcheck-real:
	@test -n "$(DATA)" || { echo "installcheck-real: set DATA to the real data folder (readable by the server)" >&2; exit 2; }
	$(MKDIR_P) tmp_check/real
	export PGOPTIONS="$$PGOPTIONS -c regress.data_dir=$(abspath $(DATA))"; $(pg_regress_installcheck) --inputdir=. \
		--load-extension=$(EXTENSION) --dbname=contrib_regression_real --outputdir=tmp_check/real $(REGRESS_REAL)

.PHONY: installcheck-files sanitize-check valgrind-check fuzz installcheck-real install-supabase uninstall-supabase
