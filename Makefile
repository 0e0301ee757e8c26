# glassbox - build, test, bench.  `make` builds build/glassbox; `make test`
# installs missing dependencies, builds from nothing and runs every suite.

CC      ?= cc
PKGS    := libmicrohttpd libcjson sqlite3 openblas
PYTHON  ?= /usr/bin/python3
FUZZ_SECONDS ?= 30

# pkg-config is evaluated lazily, so `make test` can install it first.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null)

WARN    := -Wall -Wextra -Wshadow -Wconversion -Wno-sign-conversion \
           -Wmissing-prototypes -Wstrict-prototypes -Werror
CSTD    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
OPT     ?= -O2 -g
CFLAGS_ALL = $(CSTD) $(OPT) $(WARN) -MMD -MP -I. $(PKG_CFLAGS) $(EXTRA_CFLAGS)

# Library sources: every .c under the layers, except the CLI entry point.
LIB_SRC := $(sort $(shell find core explain storage api server -name '*.c' ! -name main.c 2>/dev/null))
MAIN_SRC := server/main.c
UNIT_SRC := $(sort $(wildcard tests/unit/check_*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

# BUILD selects the variant: build (release) or build/asan (sanitizers).
BUILD   ?= build
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ := $(MAIN_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit unit-asan fuzz fuzz-build bench run clean format docker-test \
        format-check fixtures integration browser

all: $(BUILD)/glassbox

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/libglassbox.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/glassbox: $(MAIN_OBJ) $(BUILD)/libglassbox.a
	$(CC) $(OPT) $(EXTRA_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libglassbox.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS_ALL) $(CHECK_CFLAGS) $(EXTRA_LDFLAGS) -o $@ $< \
	    $(BUILD)/libglassbox.a $(PKG_LIBS) $(CHECK_LIBS)

unit-bins: $(UNIT_BIN) $(BUILD)/glassbox

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

deps:
	@scripts/install-deps

# The whole suite, from nothing: dependencies, release build + unit tests,
# the same tests under ASan+UBSan, the fuzz targets, integration tests.
test: deps
	@mkdir -p build && rm -f build/test-results.txt
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory browser
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)
	@$(MAKE) --no-print-directory docker-test
	@scripts/test-summary

unit:
	@$(MAKE) --no-print-directory BUILD=build unit-bins
	@scripts/run-unit-tests build release

unit-asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
	    EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" unit-bins
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    scripts/run-unit-tests build/asan asan

integration: all
	@scripts/run-integration-tests

# The dashboard in headless Chromium against a live daemon (npm ci on first use).
browser: all
	@tests/browser/run.sh build/glassbox

# libFuzzer targets (clang).  Each runs FUZZ_SECONDS on a scratch copy of its
# committed seed corpus; committed regression inputs are replayed first.
fuzz:
	@scripts/run-fuzz $(FUZZ_SECONDS)

bench: all
	@scripts/run-bench $(BENCH)

docker-test: all
	@scripts/docker-test

fixtures:
	$(PYTHON) scripts/fixtures/make_all.py

run:
	@scripts/install-deps run
	@$(MAKE) --no-print-directory all
	@scripts/run-demo

format:
	clang-format -i $(LIB_SRC) $(MAIN_SRC) $(UNIT_SRC) $(FUZZ_SRC) $(shell find core explain storage api server -name '*.h')

format-check:
	@clang-format --dry-run --Werror $(LIB_SRC) $(MAIN_SRC) $(UNIT_SRC) $(FUZZ_SRC) $(shell find core explain storage api server -name '*.h') && echo "format-check: ok"

clean:
	rm -rf build
