# SPDX-License-Identifier: MIT
# fpu.c changes the host rounding mode around floating-point operations;
# keep the compiler from folding or moving them across those changes.
$(BUILD)/obj/src/cpu/fpu.o: CFLAGS += -frounding-math
