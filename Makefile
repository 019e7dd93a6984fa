# Thin wrapper over packaging/ + CMake presets. The README's two commands are `make run` and
# `make test`; both install what is missing first.
BUILD_DIR := build
JOBS ?= $(shell nproc)
WORKSPACE ?= $(HOME)/.local/share/xopd-workbench

.PHONY: setup configure build run test test-fast bench demo-kit demo-table fuzz package clean

setup:
	bash packaging/setup-debian.sh

configure: setup
	cmake --preset default

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# The window opens as soon as its two programs are built (the tests are not needed for it); a
# missing demo kit is built inside the window, in the background.
# An existing build folder is not configured again (its build.ninja re-runs CMake when a CMake file
# changed), which saves seconds on every start.
run: setup
	@test -f $(BUILD_DIR)/build.ninja || cmake --preset default
	cmake --build $(BUILD_DIR) -j $(JOBS) --target xopd xopd-workbench
	@bash packaging/run-workbench.sh $(BUILD_DIR)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2

test-fast: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j 2 -LE "slow|gpu"

# Benchmarks are built only when asked (XOPD_BUILD_BENCH): a plain build and `make test` skip them.
bench: configure
	cmake -B $(BUILD_DIR) -DXOPD_BUILD_BENCH=ON >/dev/null
	cmake --build $(BUILD_DIR) -j $(JOBS)
	bash tests/bench/run-all.sh $(BUILD_DIR)

demo-kit: build
	$(BUILD_DIR)/app/cli/xopd demo-kit build --out resources/demo-kit

# The paper's three tables in miniature (README "Demo kit"): builds the kit only when there is no
# kit of the current version (`xopd demo-kit info` refuses others; make demo-kit rebuilds it), then
# writes $(BUILD_DIR)/demo-table/demo-table.md and .json. DEMO_TABLE_ARGS passes options
# (e.g. --steps 100 --seeds 2).
demo-table: build
	$(BUILD_DIR)/app/cli/xopd demo-kit info resources/demo-kit >/dev/null || $(BUILD_DIR)/app/cli/xopd demo-kit build --out resources/demo-kit
	/usr/bin/python3 tests/bench/demo_table.py $(BUILD_DIR) --kit resources/demo-kit --out $(BUILD_DIR)/demo-table $(DEMO_TABLE_ARGS)

fuzz: setup
	bash tests/fuzz/run-fuzzers.sh

package: build
	cd $(BUILD_DIR) && cpack -G DEB

clean:
	rm -rf $(BUILD_DIR)
