# SPDX-License-Identifier: MIT
# Block-layer test helpers: blktool (a CLI over the block layer for the
# shell tests), the crash-test writer and the qcow2 fuzz target.

BLOCK_HELPERS := $(BUILD)/tests/block/blktool $(BUILD)/tests/block/crash_writer

$(BUILD)/tests/block/blktool: tests/block/blktool.c $(BUILD)/libwirt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libwirt.a $(LDLIBS)

$(BUILD)/tests/block/crash_writer: tests/block/crash_writer.c $(BUILD)/libwirt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libwirt.a $(LDLIBS)

unit-tests: $(BLOCK_HELPERS)

.PHONY: block-helpers fuzz-qcow2
block-helpers: $(BLOCK_HELPERS)

# The fuzz target links the block sources directly (built with clang).
FUZZ_BLOCK_SRCS := src/block/block.c src/block/raw.c src/block/vmdk.c src/block/vhd.c src/block/table32.c $(wildcard src/block/qcow2*.c) src/util/log.c src/util/file.c
$(BUILD)/fuzz/fuzz_qcow2: fuzz/fuzz_qcow2.c $(FUZZ_BLOCK_SRCS)
	@mkdir -p $(dir $@)
	clang -std=c17 -D_GNU_SOURCE -g -O1 -Isrc -fsanitize=fuzzer,address,undefined \
	    -o $@ fuzz/fuzz_qcow2.c $(FUZZ_BLOCK_SRCS) -lz -lzstd
fuzz-qcow2: $(BUILD)/fuzz/fuzz_qcow2
