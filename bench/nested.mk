# SPDX-License-Identifier: MIT
# Nested virtualization (issue 16): a KVM guest's boot inside a wirt guest
# against the same inside QEMU -cpu rv64,h=true (bench/nested_bench.py), then
# what --cpu h=on costs the plain guest's boot and CPU work (bench/bench.py
# --vmm wirt,wirt-h).  Fetches the nested disk (tools/fetch-nested-guest.sh).
# make bench-nested NESTED_BENCH_ARGS="--rounds 5" BENCH_ARGS="--rounds 5"
.PHONY: bench-nested
bench-nested: $(BUILD)/wirt $(BUILD)/bench/workload
	tools/fetch-guest.sh
	tools/fetch-nested-guest.sh
	python3 bench/nested_bench.py --build $(BUILD) $(NESTED_BENCH_ARGS); a=$$?; \
	python3 bench/bench.py --build $(BUILD) --vmm wirt,wirt-h \
	    --json $(BUILD)/bench/h-cost.json $(BENCH_ARGS); b=$$?; \
	[ $$a = 0 ] && [ $$b = 0 ]
