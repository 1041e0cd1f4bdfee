# SPDX-License-Identifier: MIT
# Live migration against QEMU (bench/migrate_bench.py): downtime, total
# time and bytes for the idle default guest on loopback.
.PHONY: bench-migrate
bench-migrate: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/migrate_bench.py --build $(BUILD) $(BENCH_ARGS)

# Snapshots of a running VM and restore against QEMU's savevm/loadvm
# (bench/snapshot_bench.py).
.PHONY: bench-snapshot
bench-snapshot: $(BUILD)/wirt
	tools/fetch-guest.sh
	python3 bench/snapshot_bench.py --build $(BUILD) $(BENCH_ARGS)
