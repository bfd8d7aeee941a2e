# scorescope: the two commands a fresh machine needs are `make demo` and `make test`.
# Each target installs what is missing first (Debian packages; sudo only when not root).

SWIFT        ?= swift
APT_PACKAGES := libcairo2-dev libopenblas-dev libpng-dev zlib1g-dev libsqlite3-dev fonts-dejavu-core dataset-fashion-mnist
SUDO         := $(shell [ "$$(id -u)" = "0" ] || echo sudo)
RELEASE      := $(SWIFT) build -c release
BIN          := .build/release/scorescope
# OpenBLAS: one thread (we split the batch over the cores ourselves) and the AVX2 kernels, which are ~20 %
# faster than the auto-picked AVX-512 ones on conv-shaped GEMMs on this machine kind.
export OPENBLAS_NUM_THREADS := 1
export OPENBLAS_CORETYPE ?= Haswell

.PHONY: setup build release test bench demo clean

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

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: release
	$(BIN) bench layers

demo: release
	$(BIN) bench layers

clean:
	rm -rf .build
