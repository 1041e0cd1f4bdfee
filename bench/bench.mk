# SPDX-License-Identifier: MIT
# VM benchmarks against QEMU: boot time and in-guest CPU work (bench/bench.py).
# make bench BENCH_ARGS="--rounds 5 --only boot"
BENCH_CC ?= riscv64-linux-gnu-gcc

$(BUILD)/bench/workload: bench/cpu/workload.c
	@mkdir -p $(dir $@)
	$(BENCH_CC) -std=c17 -static -O2 -Wall -Wextra -o $@ $<

.PHONY: bench-vm
bench-vm: $(BUILD)/wirt $(BUILD)/bench/workload
	tools/fetch-guest.sh
	python3 bench/bench.py --build $(BUILD) $(BENCH_ARGS)

bench: bench-vm

# SMP scaling, wirt --cpus 1/2 against QEMU MTTCG -smp 1/2 (bench/smp_bench.py).
.PHONY: bench-smp
bench-smp: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/smp_bench.py --build $(BUILD) $(SMP_BENCH_ARGS)

# Address-space switches: a pipe ping-pong between two guest processes
# against QEMU (bench/ctxsw_bench.py).
.PHONY: bench-ctxsw
bench-ctxsw: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/ctxsw_bench.py --build $(BUILD) $(CTXSW_BENCH_ARGS)
