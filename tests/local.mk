# tests/: cmocka unit tests (tests/unit/test_*.c, one binary each) and pytest suites that run the
# CLI and compare with independent references (tests/cli, tests/golden; Debian python3 oracles).
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
PYTEST     ?= $(PYTHON) -m pytest
PYTEST_ARGS ?= -q

$(O)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(call Q,LD)$(CC) $(ALL_CFLAGS) -Itests/unit -MMD -MP -o $@ $< $(LIB) $(ALL_LDFLAGS) $(DEP_LIBS) $(TEST_LIBS)

check:
	$(call AUTODEPS,tests)
	@$(MAKE) --no-print-directory check-layers check-unit check-py

# the floors of docs/architecture.md: include order, cross-folder calls and cycles, aud_ exports
check-layers: depcheck $(LIB) $(BIN)
	$(PYTHON) tools/check_layers.py --objs $(O)/obj --lib $(LIB)

check-unit: depcheck-test $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

check-py: depcheck $(BIN)
	AUDIT_BIN=$(abspath $(BIN)) $(PYTEST) $(PYTEST_ARGS) tests

valgrind: $(BIN)
	AUDIT_BIN=$(abspath $(BIN)) AUDIT_VALGRIND=1 $(PYTEST) $(PYTEST_ARGS) -m valgrind tests
