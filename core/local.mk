# core/ (floor 0): table and CSV reader, errors, allocation, I/O, threads, JSON helpers, provenance
LIB_SRCS += $(wildcard core/*.c)
