# SPDX-License-Identifier: GPL-2.0-or-later
#
# Entry points. Each installs what it needs (Debian 12), fetches the QEMU
# base, builds, then acts:
#   make run     the main job: a Linux guest runs tpm2-tools through the
#                kernel's tpm_crb driver and the chunked driver
#   make run-bridge  tpm2-tools on the host through the bridge (qtest)
#   make bench   patched against stock QEMU, through qtest and in a guest;
#                what a chunk costs (docs/benchmarks.md)
#   make check   the TPM tests (QEMU's and the series') on the patched
#                QEMU, then the tools' tests; ends with
#                "N passed, N failed, N skipped"
#   make         the patched QEMU (build/qemu-system-x86_64) and the tools
#   make stock   the stock peer: the same base without the series
#                (build/stock/qemu-system-x86_64)
#   make series  the series as mails (build/series/)
#   make check-series  every prefix builds, checkpatch, git am, QEMU's docs
#   make check-sanitizers  the TPM tests on an --enable-asan --enable-ubsan
#                build of the patched QEMU; any sanitizer report fails
#   make check-fuzz  QEMU's fuzzing framework (clang, libFuzzer, ASan) on
#                the series' tpm-crb targets: the seed corpus replayed,
#                then FUZZ_SECONDS (30) of fuzzing each, with coverage

BUILD ?= build
NINJA ?= ninja

.PHONY: all qemu stock tools series check-series check check-sanitizers \
	check-fuzz run run-bridge bench clean distclean

all: tools

deps-%:
	@sh scripts/install-deps.sh $*

qemu: deps-build
	@sh scripts/build-qemu.sh patched $(BUILD)

stock: deps-build
	@sh scripts/build-qemu.sh stock $(BUILD)

# contrib/ and its tests, against the patched tree.
tools: qemu
	@[ -f $(BUILD)/tools/build.ninja ] || \
		./configure --builddir=$(BUILD)/tools --qemu=$(BUILD)/src/qemu \
			--stock=$(BUILD)/stock/qemu-system-x86_64
	$(NINJA) -C $(BUILD)/tools

series: qemu
	@python3 scripts/series.py mail $(BUILD)/src/qemu $(BUILD)/series

check-series: deps-series series
	@sh scripts/check-series.sh $(BUILD)

# The stock peer is built too: the differential test compares with it.
check: deps-check tools stock
	@sh scripts/check.sh $(BUILD)

check-sanitizers: deps-check deps-fuzz stock
	@sh scripts/build-qemu.sh asan $(BUILD)
	@sh scripts/run-qemu-tests.sh --sanitizers $(BUILD)

check-fuzz: deps-fuzz
	@sh scripts/build-qemu.sh fuzz $(BUILD)
	@sh scripts/check-fuzz.sh $(BUILD)

run: deps-run tools
	@sh scripts/run-main.sh $(BUILD)

bench: deps-bench tools stock
	@sh scripts/guest-image.sh $(BUILD)/tools $(BUILD)/guest
	@python3 scripts/bench.py --qemu $(BUILD)/qemu-system-x86_64 \
		--stock $(BUILD)/stock/qemu-system-x86_64 \
		--guest $(BUILD)/guest --work $(BUILD)/bench $(BENCH_ARGS)

run-bridge: deps-run tools
	@sh scripts/run-bridge.sh $(BUILD)/tools $(BUILD)/qemu-system-x86_64

clean:
	-$(NINJA) -C $(BUILD)/tools clean
	-$(NINJA) -C $(BUILD)/src/qemu/build clean

distclean:
	rm -rf $(BUILD)
