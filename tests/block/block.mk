# SPDX-License-Identifier: MIT
# Block-layer test helpers: blktool (a CLI over the block layer for the
# shell tests) and the crash-test writer.  The fuzz targets are in fuzz/fuzz.mk.

BLOCK_HELPERS := $(BUILD)/tests/block/blktool $(BUILD)/tests/block/crash_writer

$(BUILD)/tests/block/blktool: tests/block/blktool.c $(BUILD)/libwirt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libwirt.a $(LDLIBS)

$(BUILD)/tests/block/crash_writer: tests/block/crash_writer.c $(BUILD)/libwirt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libwirt.a $(LDLIBS)

unit-tests: $(BLOCK_HELPERS)

.PHONY: block-helpers
block-helpers: $(BLOCK_HELPERS)
