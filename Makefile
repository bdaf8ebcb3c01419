# SPDX-License-Identifier: GPL-2.0-or-later
#
# Entry points. Each installs what it needs (Debian 12), configures,
# builds, then acts:
#   make run     the main job: real tpm2-tools through the chunked interface
#   make check   the test suite (prints "N passed, N failed, N skipped")
#   make check-sanitizers  the test suite under ASan + UBSan
#   make bench   benchmarks
#   make         build only

BUILD ?= build
SAN_BUILD ?= build-san
NINJA ?= ninja

.PHONY: all deps check check-sanitizers run bench clean distclean

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

run: deps-run $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)
	@sh scripts/run-main.sh $(BUILD)

bench: deps-bench $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)
	@sh scripts/run-bench.sh $(BUILD)

clean:
	-$(NINJA) -C $(BUILD) clean

distclean:
	rm -rf $(BUILD) $(SAN_BUILD) .builddir
