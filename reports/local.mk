# reports/ (floor 2): every .c goes into libaudit.a
LIB_SRCS += $(wildcard reports/*.c)
