# SPDX-License-Identifier: MIT
# The hostile-guest layer: tests/hostile/hostile.c is a bare-metal program
# that attacks the devices (virtio rings and registers, PLIC, CLINT, UART);
# test_hostile.py runs it under `wirt run --elf` and checks the host side.
# `make hostile-tests` builds it (riscv64-unknown-elf-gcc, linked like the ISA tests).
# tests/hostile/flood_rss.sh [elf|linux] measures host RSS under a 40 s flood.

HOSTILE_CC     ?= riscv64-unknown-elf-gcc
HOSTILE_CFLAGS := -march=rv64gc -mabi=lp64d -mcmodel=medany -O2 -ffreestanding -nostdlib \
                  -nostartfiles -static -T tests/isa/isa.ld -Wl,--no-relax \
                  -Wl,--no-warn-rwx-segments -Wall -Wextra
HOSTILE_DEPS   := tests/hostile/hostile.c tests/hostile/start.S tests/isa/isa.ld

.PHONY: hostile-tests
hostile-tests: $(BUILD)/hostile/hostile.elf

$(BUILD)/hostile/hostile.elf: $(HOSTILE_DEPS)
	@mkdir -p $(dir $@)
	$(HOSTILE_CC) $(HOSTILE_CFLAGS) $(HOSTILE_DEFS) -o $@ tests/hostile/start.S tests/hostile/hostile.c

# The same program as a static Linux binary: it reaches the devices through
# /dev/mem from the default guest (test_hostile.py builds the initramfs).
HOSTILE_LINUX_CC ?= riscv64-linux-gnu-gcc

hostile-tests: $(BUILD)/hostile/hostile-linux

$(BUILD)/hostile/hostile-linux: tests/hostile/hostile.c
	@mkdir -p $(dir $@)
	$(HOSTILE_LINUX_CC) -static -O2 -Wall -Wextra -D_GNU_SOURCE -DHOSTILE_LINUX $(HOSTILE_DEFS) \
	    -o $@ tests/hostile/hostile.c

# `make test` runs test_hostile.py, which needs the programs.
test: hostile-tests
