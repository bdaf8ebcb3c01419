# SPDX-License-Identifier: GPL-2.0-or-later
#
# Entry points. Each installs what it needs (Debian 12), fetches the QEMU
# base, builds, then acts:
#   make run     the main job: real tpm2-tools through the chunked interface
#   make check   QEMU's TPM tests against the patched QEMU, then this
#                tree's suite; prints "N passed, N failed, N skipped"
#   make         build the patched QEMU (build/qemu-system-x86_64) and
#                the lean host
#   make stock   the stock peer: the same base without the series
#                (build/stock/qemu-system-x86_64)
#   make series  the series as mails (build/series/)
#   make check-series  every prefix builds, checkpatch, QEMU's docs
#   make check-sanitizers  the lean host's suite under ASan + UBSan (+ LSan)
#   make check-fuzz  the lean host's fuzz targets: corpus replay, then
#                    FUZZ_SECONDS (30) of fuzzing per target
#   make check-valgrind  the lean host's qtests under valgrind
#   make bench   benchmarks (lean host)

BUILD ?= build
LEAN_BUILD ?= $(BUILD)/lean
SAN_BUILD ?= $(BUILD)/lean-san
FUZZ_BUILD ?= $(BUILD)/lean-fuzz
FUZZ_SECONDS ?= 30
NINJA ?= ninja

.PHONY: all qemu stock lean series check-series check check-qemu \
	check-lean check-sanitizers check-fuzz check-valgrind run bench \
	clean distclean

all: qemu lean

deps-%:
	@sh scripts/install-deps.sh $*

qemu: deps-build
	@sh scripts/build-qemu.sh patched $(BUILD)

stock: deps-build
	@sh scripts/build-qemu.sh stock $(BUILD)

series: qemu
	@python3 scripts/series.py mail $(BUILD)/src/qemu $(BUILD)/series

check-series: deps-series series
	@sh scripts/check-series.sh $(BUILD)

lean: deps-build $(LEAN_BUILD)/build.ninja
	$(NINJA) -C $(LEAN_BUILD)

$(LEAN_BUILD)/build.ninja:
	@sh scripts/install-deps.sh build
	./configure --builddir=$(LEAN_BUILD)

$(SAN_BUILD)/build.ninja:
	@sh scripts/install-deps.sh build
	./configure --builddir=$(SAN_BUILD) --enable-sanitizers

$(FUZZ_BUILD)/build.ninja:
	@sh scripts/install-deps.sh fuzz
	./configure --builddir=$(FUZZ_BUILD) --enable-fuzzing

# QEMU's TPM tests, then this tree's suite, one closing line for both.
check: deps-check qemu lean
	@sh scripts/check.sh $(BUILD) $(LEAN_BUILD)

check-qemu: deps-check qemu
	@sh scripts/run-qemu-tests.sh $(BUILD)

check-lean: deps-check lean
	@sh scripts/run-tests.sh $(LEAN_BUILD)

check-sanitizers: deps-check $(SAN_BUILD)/build.ninja
	$(NINJA) -C $(SAN_BUILD)
	@sh scripts/run-tests.sh $(SAN_BUILD)

# The replay tests (suite "fuzz") and the timed runs, in one TAP log.
check-fuzz: deps-fuzz $(FUZZ_BUILD)/build.ninja
	$(NINJA) -C $(FUZZ_BUILD)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) sh scripts/run-tests.sh $(FUZZ_BUILD) \
		--suite fuzz --suite fuzz-run

# valgrind memcheck over the emulator in every qtest, and over the fuzz
# corpus replays themselves (slow: see docs/devel/robustness.rst).
check-valgrind: deps-check lean
	@sh scripts/run-tests.sh $(LEAN_BUILD) --setup valgrind --suite qtest \
		--suite fuzz --num-processes 1

run: deps-run lean
	@sh scripts/run-main.sh $(LEAN_BUILD)

bench: deps-bench lean
	@sh scripts/run-bench.sh $(LEAN_BUILD)

clean:
	-$(NINJA) -C $(LEAN_BUILD) clean
	-$(NINJA) -C $(BUILD)/src/qemu/build clean

distclean:
	rm -rf $(BUILD) .builddir
