# bench/: speed is measured here, side by side with the peer tool, never in tests.
# make bench: every bench/bench_*.py; each row is also recorded (bench/benchlib.py) in
# $(O)/bench.jsonl and printed as the README's table ($(O)/bench.md).
# make bench-readme: puts that table into README.md (between its bench-table markers); run it
# after a make bench on a quiet machine.
# make bench BENCH_ONLY="bench/bench_threads.py bench/bench_csv.py" runs only those scripts;
# make bench-readme BENCH_KEEP=1 then replaces only their rows of the README's table.
BENCH_SCRIPTS := $(if $(BENCH_ONLY),$(BENCH_ONLY),$(sort $(wildcard bench/bench_*.py)))
bench: $(BIN)
	@rm -f $(O)/bench.jsonl
	@set -e; for b in $(BENCH_SCRIPTS); do echo "== $$b"; \
	    BENCH_RECORD=$(abspath $(O))/bench.jsonl AUDIT_BIN=$(abspath $(BIN)) $(PYTHON) $$b; done
	@$(PYTHON) tools/bench_table.py $(O)/bench.jsonl > $(O)/bench.md
	@echo "== the table for README.md ($(O)/bench.md; make bench-readme puts it there)"; cat $(O)/bench.md

bench-readme:
	@test -s $(O)/bench.jsonl || { echo "audit: run make bench first" >&2; exit 1; }
	$(PYTHON) tools/bench_table.py $(O)/bench.jsonl --readme README.md $(if $(BENCH_KEEP),--keep)
