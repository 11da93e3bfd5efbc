# models/ (floor 1): the model abstraction, every loader, packed trees, predictions
LIB_SRCS += $(wildcard models/*.c)
