# SPDX-License-Identifier: MIT
# Bare-metal RISC-V ISA tests: every tests/isa/*.S becomes $(BUILD)/isa/<name>.elf.
# `make isa-tests` builds them; `make isa-qemu` runs them under QEMU's spike
# machine (the reference used to validate the tests themselves).

ISA_CC     ?= riscv64-unknown-elf-gcc
ISA_CFLAGS := -march=rv64gc -mabi=lp64d -mcmodel=medany -nostdlib -nostartfiles -static \
              -Itests/isa -T tests/isa/isa.ld -Wl,--no-relax -Wl,--no-warn-rwx-segments
ISA_SRCS   := $(sort $(wildcard tests/isa/*.S))
ISA_ELFS   := $(ISA_SRCS:tests/isa/%.S=$(BUILD)/isa/%.elf)

.PHONY: isa-tests isa-qemu
isa-tests: $(ISA_ELFS)

$(BUILD)/isa/%.elf: tests/isa/%.S tests/isa/isa.h tests/isa/fp.h tests/isa/isa.ld
	@mkdir -p $(dir $@)
	$(ISA_CC) $(ISA_CFLAGS) -o $@ $<

# The QEMU_QUIRKS build tolerates the few places where QEMU 7.2 departs from
# the specification (each is commented in the test); wirt runs the strict build.
ISA_QEMU_ELFS := $(ISA_SRCS:tests/isa/%.S=$(BUILD)/isa-qemu/%.elf)

$(BUILD)/isa-qemu/%.elf: tests/isa/%.S tests/isa/isa.h tests/isa/fp.h tests/isa/isa.ld
	@mkdir -p $(dir $@)
	$(ISA_CC) $(ISA_CFLAGS) -DQEMU_QUIRKS -o $@ $<

isa-qemu: $(ISA_QEMU_ELFS)
	@pass=0; fail=0; for e in $(ISA_QEMU_ELFS); do \
	    if timeout 30 qemu-system-riscv64 -M spike -bios none -nographic -kernel $$e; \
	    then pass=$$((pass+1)); else echo "  -> $$e exit $$?"; fail=$$((fail+1)); fi; \
	done; echo "isa-qemu: $$pass passed, $$fail failed"; test $$fail = 0
