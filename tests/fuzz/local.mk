# tests/fuzz/: libFuzzer harnesses of the parsers (tests/fuzz/README.md).
#   make fuzz FUZZ_SECONDS=N   builds them with clang -fsanitize=fuzzer,address,undefined into
#                              build-fuzz/ and runs each for N seconds (new inputs: build-fuzz/corpus/,
#                              crashes: build-fuzz/artifacts/)
#   make check                 replays the committed corpora and regression inputs through the same
#                              harnesses linked with tests/fuzz/replay.c (no libFuzzer needed)
FUZZ_NAMES   := csv xgb lgbm linear trees model spec report profile
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_FLAGS   ?=
FUZZ_SRC_csv    := tests/fuzz/fuzz_csv.c
FUZZ_SRC_spec   := tests/fuzz/fuzz_spec.c
FUZZ_SRC_report := tests/fuzz/fuzz_report.c
FUZZ_SRC_profile := tests/fuzz/fuzz_profile.c
FUZZ_FMT_xgb    := xgboost-json
FUZZ_FMT_lgbm   := lightgbm-text
FUZZ_FMT_linear := linear-json
FUZZ_FMT_trees  := trees-json
FUZZ_FMT_model  := NULL
define FUZZ_RULES
FUZZ_SRC_$(1) ?= tests/fuzz/fuzz_model.c
FUZZ_DEF_$(1) := $(if $(FUZZ_FMT_$(1)),-DFUZZ_FORMAT=$(if $(filter NULL,$(FUZZ_FMT_$(1))),NULL,'"$(FUZZ_FMT_$(1))"'))
$(O)/tests/fuzz/replay_$(1): $$(FUZZ_SRC_$(1)) tests/fuzz/replay.c tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $$(@D)
	$$(call Q,LD)$$(CC) $$(ALL_CFLAGS) $$(FUZZ_DEF_$(1)) -o $$@ $$(FUZZ_SRC_$(1)) tests/fuzz/replay.c $(LIB) $$(ALL_LDFLAGS) $$(DEP_LIBS)
$(O)/fuzz/fuzz_$(1): $$(FUZZ_SRC_$(1)) tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $$(@D)
	$$(call Q,LD)$$(CC) $$(ALL_CFLAGS) -fsanitize=fuzzer $$(FUZZ_DEF_$(1)) -o $$@ $$(FUZZ_SRC_$(1)) $(LIB) $$(ALL_LDFLAGS) $$(DEP_LIBS)
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call FUZZ_RULES,$(n))))
FUZZ_REPLAYS := $(FUZZ_NAMES:%=$(O)/tests/fuzz/replay_%)

.PHONY: check-fuzz fuzz fuzz-bins
# every committed seed and regression input, through each harness (ASan/UBSan/LSan under SANITIZE)
check-fuzz: depcheck $(FUZZ_REPLAYS)
	@set -e; for n in $(FUZZ_NAMES); do \
	    $(O)/tests/fuzz/replay_$$n tests/fuzz/corpus/$$n $$(ls -d tests/fuzz/regress/$$n 2>/dev/null); done

fuzz-bins: $(FUZZ_NAMES:%=$(O)/fuzz/fuzz_%)

fuzz: depcheck
	@command -v $(FUZZ_CC) >/dev/null || { echo "audit: make fuzz needs clang (apt-get install clang)" >&2; exit 1; }
	@$(MAKE) --no-print-directory O=build-fuzz CC=$(FUZZ_CC) SANITIZE=address,undefined \
	    CFLAGS=-fsanitize=fuzzer-no-link fuzz-bins
	@failed=; for n in $(FUZZ_NAMES); do \
	    mkdir -p build-fuzz/corpus/$$n build-fuzz/artifacts; \
	    echo "== fuzz_$$n ($(FUZZ_SECONDS) s)"; \
	    build-fuzz/fuzz/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -timeout=25 -print_final_stats=1 \
	        -dict=tests/fuzz/dict/$$n.dict \
	        -artifact_prefix=build-fuzz/artifacts/$$n- $(FUZZ_FLAGS) build-fuzz/corpus/$$n \
	        tests/fuzz/corpus/$$n $$(ls -d tests/fuzz/regress/$$n 2>/dev/null) \
	        > build-fuzz/fuzz_$$n.log 2>&1 || failed="$$failed $$n"; \
	    grep -E '^stat::number_of_executed_units|^SUMMARY|ERROR:' build-fuzz/fuzz_$$n.log || true; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: findings in:$$failed (build-fuzz/fuzz_*.log, build-fuzz/artifacts/)" >&2; exit 1; fi
