# SPDX-License-Identifier: MIT
# libFuzzer targets (fuzz/fuzz_*.c), built with clang against a copy of
# libwirt instrumented for coverage, ASan and UBSan in $(FUZZ_BUILD).
#   make fuzz-targets          builds them all
#   make fuzz FUZZ_SECONDS=600 runs each for that long (default 300)
# tests/fuzz/test_fuzz.sh runs each briefly in `make test`.

FUZZ_BUILD   ?= build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_NAMES   := $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_TARGETS := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz/fuzz_%)
FUZZ_SECONDS ?= 300

.PHONY: fuzz fuzz-targets fuzz-lib $(FUZZ_NAMES:%=fuzz-%)

# The library is built by a recursive make so its objects keep their own
# dependency files; FORCE-like: make decides inside whether anything changed.
fuzz-lib:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=clang O=-O1 SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	    $(FUZZ_BUILD)/libwirt.a

$(FUZZ_BUILD)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz-lib
	@mkdir -p $(dir $@)
	clang -std=c17 -D_GNU_SOURCE -g -O1 -Wall -Wextra $(WERROR) -Isrc -Itests/dev $(PKG_CFLAGS) \
	    -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_BUILD)/libwirt.a -lfdt -lseccomp -lwslay $(PKG_LIBS) -lm -pthread

fuzz-targets: $(FUZZ_TARGETS)
$(foreach n,$(FUZZ_NAMES),$(eval fuzz-$(n): $(FUZZ_BUILD)/fuzz/fuzz_$(n)))

fuzz:
	FUZZ_TIME=$(FUZZ_SECONDS) FUZZ_BUILD=$(FUZZ_BUILD) tests/fuzz/test_fuzz.sh
