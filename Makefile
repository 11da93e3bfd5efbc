# audit - one non-recursive GNU Makefile; each folder adds its sources in local.mk.
# Targets: all check demo bench deps deps-run deps-test deps-deb man install uninstall deb clean
# valgrind.
# O=DIR puts objects elsewhere;
# SANITIZE=address,undefined builds into build-san/ by default.

ifdef SANITIZE
O ?= build-san
else
O ?= build
endif
# one spelling of the build folder: O=$PWD/build (as tests/cli/test_install.py passes it) and
# O=build must name the same targets, or the dependency files written by one are not read by
# the other and a changed header leaves stale objects behind
override O := $(patsubst $(CURDIR)/%,%,$(abspath $(O)))
PREFIX     ?= /usr/local
PKG_CONFIG ?= pkg-config
PYTHON     ?= /usr/bin/python3

PKGS := gsl libcjson xlsxwriter libcrypto sqlite3 zlib libzstd
# what `make` lacks (a bare Debian has no compiler and no pkg-config); cmocka only for the tests
MISSING := $(if $(shell command -v $(CC) 2>/dev/null),,cc) \
           $(if $(shell command -v $(PKG_CONFIG) 2>/dev/null),,pkg-config) \
           $(foreach p,$(PKGS),$(if $(shell $(PKG_CONFIG) --exists $(p) 2>/dev/null && echo ok),,$(p)))
MISSING += $(if $(wildcard /usr/include/hpdf.h),,libhpdf)
MISSING := $(strip $(MISSING))
MISSING_TEST := $(if $(shell $(PKG_CONFIG) --exists cmocka 2>/dev/null && echo ok),,cmocka)
# needed at run time only (the PDF report's font)
MISSING_FONT := $(if $(wildcard /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf),,fonts-dejavu-core)

# Debian package of each pkg-config module (for the message when one is missing)
DEB_gsl := libgsl-dev
DEB_libcjson := libcjson-dev
DEB_xlsxwriter := libxlsxwriter-dev
DEB_libcrypto := libssl-dev
DEB_zlib := zlib1g-dev
DEB_libzstd := libzstd-dev
DEB_sqlite3 := libsqlite3-dev
DEB_cmocka := libcmocka-dev
DEB_libhpdf := libhpdf-dev
DEB_cc := gcc
DEB_pkg-config := pkg-config

DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
DEP_LIBS   := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -lhpdf -lpthread -lm
TEST_LIBS  := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

AUD_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -fvisibility=hidden -g -O2 \
              -Wall -Wextra -Werror -Wmissing-prototypes -Wvla -Wwrite-strings -Wshadow \
              -I.
AUD_LDFLAGS :=
ifdef SANITIZE
AUD_CFLAGS  += -fsanitize=$(SANITIZE) -fno-sanitize-recover=all -fno-omit-frame-pointer -O1
AUD_LDFLAGS += -fsanitize=$(SANITIZE)
endif
ALL_CFLAGS = $(AUD_CFLAGS) $(DEP_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(AUD_LDFLAGS) $(LDFLAGS)
Q = $(if $(V),,@echo '  $(1)   $@';)

LIB_SRCS :=
include core/local.mk models/local.mk explainers/local.mk metrics/local.mk reports/local.mk audit/local.mk
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(O)/obj/%.o)
LIB      := $(O)/libaudit.a
BIN      := $(O)/audit

.PHONY: all check check-layers check-embed check-unit check-py demo bench bench-readme deps deps-run deps-test deps-deb man \
        install install-bin install-dev uninstall deb clean valgrind depcheck depcheck-test
all: depcheck $(BIN)

depcheck:
ifneq ($(MISSING),)
	@echo "audit: missing build dependencies: $(MISSING)" >&2
	@echo "audit: install the Debian packages $(foreach p,$(MISSING),$(DEB_$(p))) (and pkg-config)," >&2
	@echo "audit: or everything the build and demo need with 'make deps-run' as root" >&2
	@exit 1
endif

depcheck-test: depcheck
ifneq ($(MISSING_TEST),)
	@echo "audit: the unit tests need libcmocka-dev; 'make deps' as root installs what tests need" >&2
	@exit 1
endif

$(LIB): $(LIB_OBJS)
	$(call Q,AR)rm -f $@ && $(AR) rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIB)
	$(call Q,LD)$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(ALL_LDFLAGS) $(DEP_LIBS)

# build/audit-mpi (docs/scale-out.md): `make MPI=1`, with Debian's OpenMPI (libopenmpi-dev,
# openmpi-bin: test packages, not run ones); make check builds it when mpicc is there. build/audit
# and libaudit.a never link MPI.
MPICC   ?= mpicc
MPI_BIN := $(O)/audit-mpi
HAVE_MPICC := $(shell command -v $(MPICC) 2>/dev/null)
$(MPI_BIN): $(MPI_SRCS) $(LIB)
	$(call Q,LD)OMPI_CC=$(CC) $(MPICC) $(ALL_CFLAGS) -o $@ $(MPI_SRCS) $(LIB) $(ALL_LDFLAGS) $(DEP_LIBS)
ifdef MPI
all: $(MPI_BIN)
endif

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call Q,CC)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

include tests/local.mk tests/fuzz/local.mk bench/local.mk

# Debian packages. DEPS_RUN: what `make` and `make demo` need (compiler, pkg-config, the C
# libraries, the report font; xlsxwriter.pc links -lz but libxlsxwriter-dev does not pull
# zlib1g-dev); DEBIAN_PKGS: the build's, the tests' and their oracles' (add new ones here);
# DEPS_TEST: DEBIAN_PKGS less DEPS_RUN, what only `make check` and `make valgrind` need.
DEPS_RUN := gcc libc6-dev make pkg-config libgsl-dev libcjson-dev libxlsxwriter-dev libhpdf-dev \
            libssl-dev libsqlite3-dev zlib1g-dev libzstd-dev fonts-dejavu-core icc-profiles-free
DEBIAN_PKGS := build-essential pkg-config libgsl-dev libcjson-dev libxlsxwriter-dev libhpdf-dev \
               libcmocka-dev libssl-dev libsqlite3-dev zlib1g-dev libzstd-dev fonts-dejavu-core poppler-utils valgrind \
               icc-profiles-free qpdf ghostscript \
               python3 python3-numpy python3-pandas python3-scipy python3-sklearn python3-xgboost \
               python3-openpyxl python3-statsmodels python3-pytest python3-pytest-xdist clang time libopenmpi-dev \
               openmpi-bin


# the man pages rendered by the tests (tests/cli/test_man.py); `make deb`: debhelper, lintian and
# build-essential (dpkg-checkbuilddeps requires it)
DEBIAN_PKGS += man-db
DEPS_DEB := build-essential debhelper lintian
DEPS_TEST = $(filter-out $(DEPS_RUN),$(DEBIAN_PKGS))
APT_INSTALL = apt-get update -q && \
              DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends
deps-run:
	$(APT_INSTALL) $(DEPS_RUN)
deps-test:
	$(APT_INSTALL) $(DEPS_TEST)
deps-deb:
	$(APT_INSTALL) $(DEPS_DEB)
deps:
	$(APT_INSTALL) $(DEPS_RUN) $(DEPS_TEST) $(DEPS_DEB)

# demo: installs missing packages when run as root, builds, and runs the main job on the bundled data.
DEMO_OUT ?= demo-out
# The quick-start targets install what is missing when run as root (else they say what to run):
# `make demo` (AUTODEPS with argument "run") the compiler, the C libraries and the report font
# (deps-run); `make check` (argument "tests") also cmocka, man-db and the Python modules the
# tests use as oracles (deps-run and deps-test); `make deb` (argument "deb") debhelper, lintian.
PY_MODULES := pytest xdist numpy pandas scipy sklearn xgboost openpyxl statsmodels
define AUTODEPS
	@missing="$(strip $(foreach p,$(MISSING),$(DEB_$(p))) $(MISSING_FONT))"; target=deps-run; \
	pkgs="$(DEPS_RUN)"; \
	if [ "$(1)" = tests ]; then target="deps-run deps-test"; pkgs="$$pkgs $(DEPS_TEST)"; \
	    missing="$$missing $(foreach p,$(MISSING_TEST),$(DEB_$(p)))"; \
	    $(PYTHON) -c "import $(subst $(space),$(comma),$(PY_MODULES))" 2>/dev/null || \
	        missing="$$missing python3-modules"; \
	    command -v man >/dev/null 2>&1 || missing="$$missing man-db"; fi; \
	if [ "$(1)" = deb ]; then target="deps-run deps-deb"; pkgs="$$pkgs $(DEPS_DEB)"; \
	    for p in $(DEPS_DEB); do dpkg-query -W -f='$${db:Status-Abbrev}' $$p 2>/dev/null | \
	        grep -q '^ii' || missing="$$missing $$p"; done; fi; \
	missing=$$(echo $$missing); \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then $(APT_INSTALL) $$pkgs; \
	    else echo "audit: missing: $$missing; run 'make $$target' as root first" \
	        "(su -c 'make $$target', or sudo make $$target)" >&2; exit 1; fi; fi
endef
space := $(subst ,, )
comma := ,

demo:
	$(call AUTODEPS,run)
	@$(MAKE) --no-print-directory $(BIN)
	@rc=0; $(BIN) run datasets/demo_audit.json --out $(DEMO_OUT) --verbose || rc=$$?; \
	if [ $$rc -eq 1 ]; then \
	    echo "demo: verdict FAIL, as intended: the bundled model disadvantages race group B (see datasets/README.md)"; \
	elif [ $$rc -ne 0 ]; then echo "demo: audit run failed with exit code $$rc" >&2; exit $$rc; fi; \
	echo "demo: results in $(DEMO_OUT)/: results.json report.pdf report.xlsx runs.jsonl"

# Man pages: generated from `audit --help` and `audit CMD --help` of the built binary (audit-run.1
# also from docs/spec-file.md), so they cannot drift from --help; tests/cli/test_man.py compares.
MAN_STAMP := $(O)/man/.stamp
man: $(MAN_STAMP)
$(MAN_STAMP): $(BIN) tools/gen_man.pl docs/spec-file.md
	@rm -rf $(O)/man && mkdir -p $(O)/man
	$(call Q,MAN)perl tools/gen_man.pl $(BIN) docs/spec-file.md $(O)/man && touch $@

# make install [PREFIX=/usr/local] [DESTDIR=]: install-bin (the program, its man pages and bash
# completion; what the Debian package ships) and install-dev (libaudit.a, the public header
# audit/audit.h, audit.pc). The public header includes core/aud.h, models/model_api.h, ...: those
# it includes (found by cc -MM) are installed beside it, folders kept, in INCLUDEDIR/audit/,
# which audit.pc's Cflags names, so a program writes #include <audit/audit.h> as in this tree.
BINDIR      ?= $(PREFIX)/bin
LIBDIR      ?= $(PREFIX)/lib
INCLUDEDIR  ?= $(PREFIX)/include
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
PUBLIC_HEADER := audit/audit.h
PUBLIC_HEADERS = $(filter-out /% \ %:,$(shell $(CC) -MM -I. $(DEP_CFLAGS) $(PUBLIC_HEADER)))
install: install-bin install-dev
install-bin: all man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/audit
	install -m 644 $(O)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 tools/audit-completion.bash $(DESTDIR)$(BASHCOMPDIR)/audit
install-dev: depcheck $(LIB)
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libaudit.a
	for h in $(PUBLIC_HEADERS); do install -D -m 644 $$h $(DESTDIR)$(INCLUDEDIR)/audit/$$h; done
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e "s|@VERSION@|$$(sed -n 's/^#define AUD_VERSION \"\(.*\)\"/\1/p' core/aud.h)|" \
	    -e 's|@PKGS@|$(PKGS)|' tools/audit.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/audit.pc
# removes what install wrote: the headers of PUBLIC_HEADERS (and the folders they leave empty),
# and only the man pages gen_man.pl wrote (another package may own other audit-*.1 pages)
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/audit $(DESTDIR)$(BASHCOMPDIR)/audit $(DESTDIR)$(LIBDIR)/libaudit.a \
	      $(DESTDIR)$(LIBDIR)/pkgconfig/audit.pc \
	      $(addprefix $(DESTDIR)$(INCLUDEDIR)/audit/,$(PUBLIC_HEADERS))
	if [ -d $(DESTDIR)$(INCLUDEDIR)/audit ]; then \
	    find $(DESTDIR)$(INCLUDEDIR)/audit -depth -type d -empty -delete; fi
	for f in $(DESTDIR)$(MANDIR)/man1/audit.1 $(DESTDIR)$(MANDIR)/man1/audit-*.1; do \
	    if grep -qs 'generated by tools/gen_man.pl' "$$f"; then rm -f "$$f"; fi; done

# The Debian package (debian/, debhelper), built from this tree into $(O)/deb/: what
# `dpkg-buildpackage -us -uc -b` makes (it writes to ..; the tree is cleaned after), moved there,
# and checked by lintian (errors and warnings fail).
deb:
	$(call AUTODEPS,deb)
	rm -rf $(O)/deb
	dpkg-buildpackage -us -uc -b -Jauto --post-clean
	@mkdir -p $(O)/deb
	@set -e; v=$$(dpkg-parsechangelog -S Version); a=$$(dpkg --print-architecture); \
	for f in ../audit_$${v}_$$a.* ../audit-dbgsym_$${v}_$$a.*; do \
	    if [ -e "$$f" ]; then mv -f "$$f" $(O)/deb/; fi; done; \
	echo "deb: $(O)/deb/audit_$${v}_$$a.deb"
	lintian --fail-on error,warning $(O)/deb/audit_*.changes

clean:
	rm -rf build build-san

.DELETE_ON_ERROR:
.SUFFIXES:
-include $(shell find $(O) -name '*.d' 2>/dev/null)
