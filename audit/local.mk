# audit/ (floor 3): the orchestration (run*.c, spec.c, checks.c) goes into libaudit.a; the CLI
# (main.c, cli.c, cmd_*.c, csvopt.c) is a client of the library and is linked into build/audit only.
CLI_SRCS := audit/main.c audit/cli.c audit/csvopt.c $(wildcard audit/cmd_*.c)
LIB_SRCS += $(filter-out $(CLI_SRCS),$(wildcard audit/*.c))
