# SPDX-License-Identifier: MIT
# VM-to-VM networking over a wirt switch against QEMU's -netdev socket.
.PHONY: bench-net
bench-net: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/net_bench.py $(BENCH_ARGS)

# Where a VM-to-VM round trip's time goes (hops between the VMMs, the peer's turnaround).
.PHONY: bench-net-trace
bench-net-trace: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/net_lat_trace.py $(BENCH_ARGS)
