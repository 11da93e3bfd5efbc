# metrics/: every .c except the CLI entry point goes into libaudit.a
LIB_SRCS += $(filter-out audit/main.c,$(wildcard metrics/*.c))
