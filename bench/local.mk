# bench/: speed is measured here, side by side with the peer tool, never in tests.
BENCH_SCRIPTS := $(sort $(wildcard bench/bench_*.py))
bench: $(BIN)
	@set -e; for b in $(BENCH_SCRIPTS); do echo "== $$b"; AUDIT_BIN=$(abspath $(BIN)) $(PYTHON) $$b; done
