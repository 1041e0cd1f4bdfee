# SPDX-License-Identifier: MIT
# Bare-metal RISC-V ISA tests: every tests/isa/*.S becomes $(BUILD)/isa/<name>.elf
# (HTIF tohost/fromhost, linked at 0x80000000), run by tests/run_tests.py under
# `wirt run --elf`.  `make isa-tests` builds them.
#
# `make isa-qemu` validates the tests themselves against QEMU: a separate build
# with -DQEMU_QUIRKS tolerates the few documented places where QEMU 7.2
# departs from the specification (each is commented in the test), run on
# QEMU's spike machine.  Tests in ISA_VIRT_TESTS need what spike lacks (rdtime,
# Sstc) and are built with -DPLATFORM_VIRT (SiFive finisher + UART instead of
# HTIF) and run on QEMU's virt machine.

ISA_CC     ?= riscv64-unknown-elf-gcc
ISA_CFLAGS := -march=rv64gc -mabi=lp64d -mcmodel=medany -nostdlib -nostartfiles -static \
              -Itests/isa -T tests/isa/isa.ld -Wl,--no-relax -Wl,--no-warn-rwx-segments
ISA_DEPS   := tests/isa/isa.h tests/isa/fp.h tests/isa/isa.ld
ISA_SRCS   := $(sort $(wildcard tests/isa/*.S))
ISA_ELFS   := $(ISA_SRCS:tests/isa/%.S=$(BUILD)/isa/%.elf)
ISA_VIRT_TESTS := sstc
ISA_QEMU   ?= qemu-system-riscv64
# Extensions QEMU's default CPU leaves off, per test.
ISA_QEMU_CPU_rv64b := -cpu rv64,zba=true,zbb=true,zbc=true,zbs=true,zbkb=true,zbkc=true,zbkx=true
ISA_QEMU_CPU_svext := -cpu rv64,svpbmt=true,svnapot=true,svinval=true
ISA_QEMU_CPU_crypto := -cpu rv64,zkne=true,zknd=true,zknh=true,zksh=true
ISA_QEMU_CPU_zfh := -cpu rv64,Zfh=true,Zfhmin=true
ISA_QEMU_CPU_pmu := -cpu rv64,sscofpmf=true
ISA_QEMU_CPU_zksed := -cpu rv64,zksed=true
ISA_QEMU_CPU_hext := -cpu rv64,h=true,svinval=true
ISA_QEMU_CPU_hoff := -cpu rv64,h=false

.PHONY: isa-tests isa-qemu
isa-tests: $(ISA_ELFS)

$(BUILD)/isa/%.elf: tests/isa/%.S $(ISA_DEPS)
	@mkdir -p $(dir $@)
	$(ISA_CC) $(ISA_CFLAGS) -o $@ $<

# QEMU 7.2 has none of Zicbom/Zicboz/Zcb/Zacas/Zihintntl/Zfa nor mcontrol6 (sdtrig): nothing to compare with.
ISA_QEMU_SKIP := cmo rv64ext zkr zfa svadu smstateen sdtrig tcontrol
ISA_QEMU_ELFS := $(filter-out $(ISA_QEMU_SKIP:%=$(BUILD)/isa-qemu/%.elf),\
                   $(ISA_SRCS:tests/isa/%.S=$(BUILD)/isa-qemu/%.elf))

$(BUILD)/isa-qemu/%.elf: tests/isa/%.S $(ISA_DEPS)
	@mkdir -p $(dir $@)
	$(ISA_CC) $(ISA_CFLAGS) -DQEMU_QUIRKS \
	    $(if $(filter $*,$(ISA_VIRT_TESTS)),-DPLATFORM_VIRT) -o $@ $<

isa-qemu: $(ISA_QEMU_ELFS)
	@pass=0; fail=0; for e in $(ISA_QEMU_ELFS); do \
	    n=$$(basename $$e .elf); m=spike; \
	    for v in $(ISA_VIRT_TESTS); do [ $$n = $$v ] && m=virt; done; \
	    c=; [ $$n = rv64b ] && c="$(ISA_QEMU_CPU_rv64b)"; [ $$n = svext ] && c="$(ISA_QEMU_CPU_svext)"; \
	    [ $$n = crypto ] && c="$(ISA_QEMU_CPU_crypto)"; [ $$n = zfh ] && c="$(ISA_QEMU_CPU_zfh)"; [ $$n = pmu ] && c="$(ISA_QEMU_CPU_pmu)"; [ $$n = zksed ] && c="$(ISA_QEMU_CPU_zksed)"; \
	    [ $$n = hext ] && c="$(ISA_QEMU_CPU_hext)"; [ $$n = hoff ] && c="$(ISA_QEMU_CPU_hoff)"; case $$n in smp*) c="$$c -smp 4";; esac; \
	    if timeout 30 $(ISA_QEMU) -M $$m $$c -bios none -nographic -kernel $$e; \
	    then pass=$$((pass+1)); else echo "  -> $$n exit $$? (qemu -M $$m)"; fail=$$((fail+1)); fi; \
	done; echo "isa-qemu: $$pass passed, $$fail failed"; test $$fail = 0
