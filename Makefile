# SPDX-License-Identifier: MIT
# wirt build.  `make` builds build/wirt; `make test` runs every test layer;
# `make run` sets up the host, fetches the default guest and boots it.

CC      ?= gcc
BUILD   ?= build
O       ?= -O2
WERROR  ?= $(if $(CI),-Werror,)
SAN     ?=
PKGS    := slirp glib-2.0 json-c zlib libzstd libmicrohttpd libcrypto nettle libpng libvncserver
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS  ?= $(O) -g
CFLAGS  += -std=c17 -D_GNU_SOURCE -Wall -Wextra $(WERROR) -Isrc $(PKG_CFLAGS) $(SAN) -MMD -MP \
           -fno-strict-aliasing -pthread
LDLIBS  += -lfdt -lseccomp -lwslay $(PKG_LIBS) -lm -pthread $(SAN)

LIB_SRCS  := $(filter-out src/main.c,$(shell find src -name '*.c' | sort))
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
TEST_SRCS := $(shell find tests/unit tests/dev tests/block -name 'test_*.c' 2>/dev/null | sort)
TEST_BINS := $(TEST_SRCS:%.c=$(BUILD)/%)

.PHONY: all test unit-tests asan tsan run clean format fetch-guest bench web
all: $(BUILD)/wirt

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libwirt.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/wirt: $(BUILD)/obj/src/main.o $(BUILD)/libwirt.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libwirt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libwirt.a $(LDLIBS) -lcmocka

unit-tests: $(TEST_BINS)

# The sanitizer build: unit and device tests under ASan + UBSan.
asan:
	$(MAKE) BUILD=build-asan O=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
	    unit-tests

# The same binaries under ThreadSanitizer (the tsan layer of run_tests.py).
# -Wno-tsan: gcc warns that TSan cannot model the virtqueue's seq_cst fences (they order
# guest-visible ring accesses); -Werror in CI would turn that into a failed build.
tsan:
	$(MAKE) BUILD=build-tsan O=-O1 SAN="-fsanitize=thread -fno-omit-frame-pointer -Wno-tsan" unit-tests

# Everything the README's test command runs; prints "N passed, N failed".
# The web UI of `wirt serve` (our files plus xterm.js/noVNC pinned in
# web/package-lock.json, from the npm registry).
web: $(BUILD)/web/index.html
$(BUILD)/web/index.html: $(wildcard web/*.html web/*.js web/*.css) web/package-lock.json tools/build-web.sh
	tools/build-web.sh $(BUILD)

test: all web unit-tests isa-tests
	python3 tests/run_tests.py

run:
	tools/setup-host.sh
	$(MAKE) all
	tools/fetch-guest.sh
	$(BUILD)/wirt run

format:
	clang-format -i $$(tools/format-files.sh)

clean:
	rm -rf build build-asan build-tsan build-fuzz

# Every benchmark prints wirt/anchor ratios; bench-vm, bench-img and
# bench-virtio run one family each.
.PHONY: bench-virtio
bench-virtio: $(BUILD)/wirt
	tools/fetch-guest.sh
	bench/virtio_bench.sh
bench: bench-vm bench-img bench-virtio

# Test layers and benchmarks add their own rules here.
-include $(wildcard tests/*/*.mk bench/*.mk fuzz/*.mk)
-include $(LIB_OBJS:.o=.d) $(BUILD)/obj/src/main.d $(TEST_BINS:=.d)
-include $(wildcard src/*/*.mk)
