# explainers/ (floor 2): every .c goes into libaudit.a
LIB_SRCS += $(wildcard explainers/*.c)
# the Linear TreeSHAP walk is ~20% faster at -O3 (its fixed-length loops over the Gauss points
# are unrolled and vectorised); measured by bench/bench_shap.py (depth sweep)
$(O)/obj/explainers/treeshap_linear.o: AUD_CFLAGS += -O3
