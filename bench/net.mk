# SPDX-License-Identifier: MIT
# VM-to-VM networking over a wirt switch against QEMU's -netdev socket.
.PHONY: bench-net
bench-net: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/net_bench.py $(BENCH_ARGS)
