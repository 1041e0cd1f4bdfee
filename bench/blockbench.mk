# SPDX-License-Identifier: MIT
# The storage benchmark driver (bench/img_bench.sh runs it next to qemu-img bench).
$(BUILD)/bench/blockbench: bench/blockbench.c $(BUILD)/libwirt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libwirt.a $(LDLIBS)

bench: $(BUILD)/bench/blockbench
