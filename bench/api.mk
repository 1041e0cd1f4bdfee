# SPDX-License-Identifier: MIT
# The management plane (issue 15): API latency (list, info with 50 VMs in
# the store) and create-to-guest-ready, wirt serve against the wirt vm CLI.
# make bench-api API_BENCH_ARGS="--vms 50 --rounds 100 --boots 3"
.PHONY: bench-api
bench-api: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/api_bench.py --build $(BUILD) $(API_BENCH_ARGS)
