# tests/: cmocka unit tests (tests/unit/test_*.c, one binary each) and pytest suites that run the
# CLI and compare with independent references (tests/cli, tests/golden; Debian python3 oracles).
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
PYTEST     ?= $(PYTHON) -m pytest
# the pytest suites run on every core (pytest-xdist; TEST_JOBS=0 runs them in this process)
TEST_JOBS ?= auto
PYTEST_ARGS ?= -q -n $(TEST_JOBS)

$(O)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(call Q,LD)$(CC) $(ALL_CFLAGS) -Itests/unit -MMD -MP -o $@ $< $(LIB) $(ALL_LDFLAGS) $(DEP_LIBS) $(TEST_LIBS)

check:
	$(call AUTODEPS,tests)
	@$(MAKE) --no-print-directory check-layers check-embed check-unit check-fuzz check-py

# the floors of docs/architecture.md: include order, cross-folder calls and cycles, aud_ exports
check-layers: depcheck $(LIB) $(BIN)
	$(PYTHON) tools/check_layers.py --objs $(O)/obj --lib $(LIB)

# docs/examples/embed.c: a program using only the public header audit/audit.h, built against
# libaudit.a and run; and the model stays opaque to such a program (reading a field must not
# compile)
EMBED := $(O)/examples/embed
$(EMBED): docs/examples/embed.c $(LIB)
	@mkdir -p $(@D)
	$(call Q,LD)$(CC) $(ALL_CFLAGS) -MMD -MP -o $@ $< $(LIB) $(ALL_LDFLAGS) $(DEP_LIBS)

check-embed: depcheck $(EMBED)
	@d=$$(mktemp -d) && $(EMBED) $$d && rm -rf $$d
	@printf '#include "audit/audit.h"\nsize_t f(const aud_model *m);\nsize_t f(const aud_model *m) { return m->n_features; }\n' | \
	    $(CC) $(ALL_CFLAGS) -x c -fsyntax-only - 2>/dev/null && \
	    { echo "check-embed: aud_model's fields are visible through audit/audit.h" >&2; exit 1; } || true

# the unit binaries run side by side, one per core (UNIT_JOBS); each one's output is shown
# whole, after it ends, so a failure reads as it would alone
UNIT_JOBS ?= $(shell nproc 2>/dev/null || echo 1)
check-unit: depcheck-test $(UNIT_BINS)
	@printf '%s\n' $(UNIT_BINS) | xargs -P $(UNIT_JOBS) -I{} sh -c \
	    'out=$$({} 2>&1); rc=$$?; printf "== %s\n%s\n" "{}" "$$out"; exit $$rc'

check-py: depcheck $(BIN) $(if $(HAVE_MPICC),$(MPI_BIN))
	AUDIT_BIN=$(abspath $(BIN)) $(if $(HAVE_MPICC),AUDIT_MPI_BIN=$(abspath $(MPI_BIN))) \
	    $(if $(SANITIZE),AUDIT_SANITIZED=1) \
	    $(PYTEST) $(PYTEST_ARGS) tests

valgrind: $(BIN)
	AUDIT_BIN=$(abspath $(BIN)) AUDIT_VALGRIND=1 $(PYTEST) $(PYTEST_ARGS) -m valgrind tests
