# audit - one non-recursive GNU Makefile; each folder adds its sources in local.mk.
# Targets: all check demo bench deps install clean valgrind.  O=DIR puts objects elsewhere;
# SANITIZE=address,undefined builds into build-san/ by default.

ifdef SANITIZE
O ?= build-san
else
O ?= build
endif
PREFIX     ?= /usr/local
PKG_CONFIG ?= pkg-config
PYTHON     ?= /usr/bin/python3

PKGS := gsl libcjson xlsxwriter libcrypto zlib libzstd
MISSING := $(strip $(foreach p,$(PKGS) cmocka,$(if $(shell $(PKG_CONFIG) --exists $(p) 2>/dev/null && echo ok),,$(p))))
MISSING += $(if $(wildcard /usr/include/hpdf.h),,libhpdf)
MISSING := $(strip $(MISSING))
# needed at run time only (the PDF report's font)
MISSING_FONT := $(if $(wildcard /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf),,fonts-dejavu-core)

# Debian package of each pkg-config module (for the message when one is missing)
DEB_gsl := libgsl-dev
DEB_libcjson := libcjson-dev
DEB_xlsxwriter := libxlsxwriter-dev
DEB_libcrypto := libssl-dev
DEB_zlib := zlib1g-dev
DEB_libzstd := libzstd-dev
DEB_cmocka := libcmocka-dev
DEB_libhpdf := libhpdf-dev

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
ALL_CFLAGS = $(AUD_CFLAGS) $(DEP_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(AUD_LDFLAGS) $(LDFLAGS)
Q = $(if $(V),,@echo '  $(1)   $@';)

LIB_SRCS :=
include core/local.mk models/local.mk explainers/local.mk metrics/local.mk reports/local.mk audit/local.mk
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(O)/obj/%.o)
LIB      := $(O)/libaudit.a
BIN      := $(O)/audit

.PHONY: all check check-layers check-unit check-py demo bench deps install clean valgrind depcheck
all: depcheck $(BIN)

depcheck:
ifneq ($(MISSING),)
	@echo "audit: missing build dependencies: $(MISSING)" >&2
	@echo "audit: install the Debian packages $(foreach p,$(MISSING),$(DEB_$(p))) (and pkg-config)," >&2
	@echo "audit: or everything the build, tests and demo need with 'sudo make deps'" >&2
	@exit 1
endif

$(LIB): $(LIB_OBJS)
	$(call Q,AR)rm -f $@ && $(AR) rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIB)
	$(call Q,LD)$(CC) $(ALL_CFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(ALL_LDFLAGS) $(DEP_LIBS)

$(O)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call Q,CC)$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

include tests/local.mk bench/local.mk

DEBIAN_PKGS := build-essential pkg-config libgsl-dev libcjson-dev libxlsxwriter-dev libhpdf-dev \
               libcmocka-dev libssl-dev zlib1g-dev libzstd-dev fonts-dejavu-core poppler-utils valgrind \
               python3 python3-numpy python3-pandas python3-scipy python3-sklearn python3-xgboost \
               python3-openpyxl python3-statsmodels python3-pytest
deps:
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEBIAN_PKGS)

# demo: installs missing packages when run as root, builds, and runs the main job on the bundled data.
DEMO_OUT ?= demo-out
# The quick-start targets install what is missing when run as root (else they say what to run):
# the C libraries found by pkg-config and the report font; for `make check` (AUTODEPS with
# argument "tests") also the Python modules the tests use as oracles.
PY_MODULES := pytest numpy pandas scipy sklearn xgboost openpyxl statsmodels
define AUTODEPS
	@missing="$(strip $(MISSING) $(MISSING_FONT))"; \
	if [ "$(1)" = tests ] && \
	    ! $(PYTHON) -c "import $(subst $(space),$(comma),$(PY_MODULES))" 2>/dev/null; then \
	    missing="$$missing python3-modules"; fi; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then $(MAKE) --no-print-directory deps; \
	    else echo "audit: missing:$$missing; run 'sudo make deps' first" >&2; exit 1; fi; fi
endef
space := $(subst ,, )
comma := ,

demo:
	$(AUTODEPS)
	@$(MAKE) --no-print-directory $(BIN)
	@rc=0; $(BIN) run datasets/demo_audit.json --out $(DEMO_OUT) --verbose || rc=$$?; \
	if [ $$rc -eq 1 ]; then \
	    echo "demo: verdict FAIL, as intended: the bundled model disadvantages race group B (see datasets/README.md)"; \
	elif [ $$rc -ne 0 ]; then echo "demo: audit run failed with exit code $$rc" >&2; exit $$rc; fi; \
	echo "demo: results in $(DEMO_OUT)/: results.json report.pdf report.xlsx runs.jsonl"

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/audit

clean:
	rm -rf build build-san

.DELETE_ON_ERROR:
.SUFFIXES:
-include $(shell find $(O) -name '*.d' 2>/dev/null)
