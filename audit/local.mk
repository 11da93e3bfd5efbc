# audit/ (floor 3): the orchestration (run*.c, spec.c, checks.c) goes into libaudit.a; the CLI
# (main.c, cli.c, cmd_*.c, csvopt.c) is a client of the library and is linked into build/audit only.
CLI_SRCS := audit/main.c audit/cli.c audit/csvopt.c $(wildcard audit/cmd_*.c)
# build/audit-mpi (make MPI=1): its own main, linked with mpicc; never in libaudit.a or build/audit
MPI_SRCS := audit/mpi_main.c
LIB_SRCS += $(filter-out $(CLI_SRCS) $(MPI_SRCS),$(wildcard audit/*.c))
