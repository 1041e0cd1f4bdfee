# SPDX-License-Identifier: MIT
# The storage benchmark: bench/blockbench drives wirt's block layer with the
# request pattern of `qemu-img bench`; `make bench-img` runs bench/img_bench.sh.
$(BUILD)/bench/blockbench: bench/blockbench.c $(BUILD)/libwirt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libwirt.a $(LDLIBS)

.PHONY: bench-img
bench-img: $(BUILD)/bench/blockbench
	BLOCKBENCH=$(BUILD)/bench/blockbench bench/img_bench.sh $(BENCH_IMG_ARGS)

bench: $(BUILD)/bench/blockbench
