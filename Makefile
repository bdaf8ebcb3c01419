# SPDX-License-Identifier: GPL-2.0-or-later
#
# Entry points. Each installs what it needs (Debian 12), configures,
# builds, then acts:
#   make run     the main job: real tpm2-tools through the chunked interface
#   make check   the test suite (prints "N passed, N failed, N skipped")
#   make check-sanitizers  the test suite under ASan + UBSan (+ LSan)
#   make check-fuzz  fuzz-target corpus replay, then FUZZ_SECONDS (30) of
#                    fuzzing per target (clang + libFuzzer)
#   make check-valgrind  the qtests with the emulator under valgrind
#   make bench   benchmarks
#   make         build only

BUILD ?= build
SAN_BUILD ?= build-san
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
NINJA ?= ninja

.PHONY: all deps check check-sanitizers check-fuzz check-valgrind run bench \
	clean distclean

all: $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)

deps-%:
	@sh scripts/install-deps.sh $*

$(BUILD)/build.ninja:
	@sh scripts/install-deps.sh build
	./configure --builddir=$(BUILD)

$(SAN_BUILD)/build.ninja:
	@sh scripts/install-deps.sh build
	./configure --builddir=$(SAN_BUILD) --enable-sanitizers

check: deps-check $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)
	@sh scripts/run-tests.sh $(BUILD)

check-sanitizers: deps-check $(SAN_BUILD)/build.ninja
	$(NINJA) -C $(SAN_BUILD)
	@sh scripts/run-tests.sh $(SAN_BUILD)

$(FUZZ_BUILD)/build.ninja:
	@sh scripts/install-deps.sh fuzz
	./configure --builddir=$(FUZZ_BUILD) --enable-fuzzing

# The replay tests (suite "fuzz") and the timed runs, in one TAP log.
check-fuzz: deps-fuzz $(FUZZ_BUILD)/build.ninja
	$(NINJA) -C $(FUZZ_BUILD)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh scripts/run-tests.sh $(FUZZ_BUILD) \
		--suite fuzz --suite fuzz-run

# valgrind memcheck over the emulator in every qtest, and over the fuzz
# corpus replays themselves (slow: see docs/devel/robustness.rst).
check-valgrind: deps-check $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)
	@sh scripts/run-tests.sh $(BUILD) --setup valgrind --suite qtest \
		--suite fuzz --num-processes 1

run: deps-run $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)
	@sh scripts/run-main.sh $(BUILD)

bench: deps-bench $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)
	@sh scripts/run-bench.sh $(BUILD)

clean:
	-$(NINJA) -C $(BUILD) clean

distclean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD) .builddir
