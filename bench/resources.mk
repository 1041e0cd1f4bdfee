# SPDX-License-Identifier: MIT
# Resource benchmarks (issue 14): memory density against QEMU and the
# sandbox/cgroup overhead.  make bench-density DENSITY_ARGS="--n 10 --ksm"
.PHONY: bench-density bench-isolation
bench-density: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/density.py --build $(BUILD) $(DENSITY_ARGS)

bench-isolation: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/isolation_bench.py --build $(BUILD) $(ISOLATION_ARGS)
