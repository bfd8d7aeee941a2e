# scorescope: the two commands a fresh machine needs are `make demo` and `make test`.
# Each target installs what is missing first (Debian packages; sudo only when not root).

SWIFT        ?= swift
APT_PACKAGES := libcairo2-dev libopenblas-dev libpng-dev zlib1g-dev libsqlite3-dev sqlite3 fonts-dejavu-core dataset-fashion-mnist
SUDO         := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
RELEASE      := $(SWIFT) build -c release
BIN          := .build/release/scorescope
# OpenBLAS: one thread (we split the batch over the cores ourselves). The kernel family (OPENBLAS_CORETYPE)
# is chosen by the scorescope binary itself from the CPU flags unless the environment names one.
export OPENBLAS_NUM_THREADS := 1
# Release builds: the numeric targets are compiled for x86-64-v4 (AVX-512) when this machine has it, else for
# x86-64-v3 (AVX2 + FMA); see Package.swift. To build for x86-64-v3 on an AVX-512 machine (one binary for a
# cluster whose nodes differ), `export SCORESCOPE_CPU=x86-64-v3` first: every target that builds the release
# binary (release, demo, bench, figures, report-screenshot) uses the same level then.
AVX512_FLAGS := avx512f avx512bw avx512cd avx512dq avx512vl
ifeq ($(strip $(SCORESCOPE_CPU)),)
SCORESCOPE_CPU := $(shell f=$$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null); v=x86-64-v4; \
  for x in $(AVX512_FLAGS); do echo " $$f " | grep -q " $$x " || v=x86-64-v3; done; echo $$v)
endif
ifneq ($(filter-out x86-64-v3 x86-64-v4,$(SCORESCOPE_CPU)),)
$(error SCORESCOPE_CPU must be x86-64-v3 or x86-64-v4 (or unset: detect), got '$(SCORESCOPE_CPU)')
endif
export SCORESCOPE_CPU

DEMO_OUT     := runs/quick-demo

.PHONY: setup build release test test-swift test-cli bench demo figures golden report-screenshot clean

setup:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "setup: installing$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "setup: all system packages present"; fi

build: setup
	$(SWIFT) build

release: setup
	$(RELEASE)

# The whole suite: command-line scenarios (kill/resume, a real Slurm cluster) first, the Swift tests last.
test: setup
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory test-cli
	$(MAKE) --no-print-directory test-swift

test-swift:
	$(SWIFT) test --skip-build

test-cli:
	@for t in Tests/cli/*.sh; do echo "== $$t"; bash "$$t" .build/debug/scorescope || exit 1; done

bench: release
	$(BIN) bench layers
	$(BIN) bench conv
	$(BIN) bench data
	$(BIN) bench record
	$(BIN) bench step
	$(BIN) bench step --ft
	$(BIN) bench plot

# The main job: a quick momentum sweep on Fashion-MNIST (5 runs, 2 at a time) and its report.
demo: release
	$(BIN) sweep experiments/quick-demo/sweep.json --jobs 2 --out $(DEMO_OUT)
	$(BIN) report $(DEMO_OUT) --out $(DEMO_OUT)/report

# Figures shown in the README, redrawn from the demo's stored runs.
figures: release
	$(BIN) plot curves $(DEMO_OUT)/m* --out figures/quick-demo-curves.png --size text
	$(BIN) plot various-m $(DEMO_OUT)/m* --out figures/quick-demo-various-m.png --size text

# Regenerate the golden figures of the tests (only on purpose, after checking the new output by eye).
golden:
	SCORESCOPE_UPDATE_GOLDEN=1 $(SWIFT) test --filter "[Gg]olden"

# Screenshot of the demo report's index.html in headless Chromium (installs chromium when missing).
report-screenshot: release
	SCORESCOPE=$(BIN) bash Tests/ReportsTests/screenshot-report.sh $(DEMO_OUT) $(DEMO_OUT)/report/screenshot.png

clean:
	rm -rf .build
