# stridewise: the two commands are `make bench` (the main job) and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := $(CURDIR)/.venv
VPY := $(VENV)/bin/python
# maturin and the tools run from the project's venv; nothing is installed outside it.
VENV_ENV := VIRTUAL_ENV=$(VENV) PATH=$(VENV)/bin:$$PATH

.PHONY: help test lint cargo-test py-lint py-test bench-test develop build bench bench-quick criterion clean \
	aarch64-tools test-aarch64 capi capi-tools capi-test examples

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

lint: ## rustfmt --check and clippy -D warnings
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

build: ## release build of the workspace
	$(CARGO) build --workspace --release

# The venv, with the pinned build and test tools. Re-made when the pins change.
$(VENV)/.installed: crates/pybind/requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check -r crates/pybind/requirements-dev.txt
	touch $@

develop: $(VENV)/.installed ## build the Python package (release) into .venv
	$(VENV_ENV) maturin develop --release --quiet -m crates/pybind/Cargo.toml

# The Rust tests run on the release build, in the same cargo graph as the Python package
# (`-p stridewise-py` selects its dependencies' features too), so `make develop` and this
# target compile the kernels once between them. Every cargo command here keeps both -p: with
# `-p stridewise` alone the kernels would be compiled again with other features. The kernels are instantiated only in the
# stridewise crate itself (src/dynamic.rs): the test binaries link them.
RUST_PKGS := -p stridewise -p stridewise-py -p stridewise-capi
# Long contiguous runs are read as streams side by side or in order, by the CPU
# (walk::decide_streams); the unit tests and the suite run again with the other order forced
# (STRIDEWISE_STREAMS), so both are tested on every machine.
cargo-test: ## the Rust tests (kernels, C API, doctests) on the release build, both read orders, and the SIMD levels they ran
	$(CARGO) test --release $(RUST_PKGS)
	@line=$$($(CARGO) test --release -q $(RUST_PKGS) --test suite simd_levels_report \
		-- --nocapture | grep '^stridewise') && echo "$$line" && \
	if echo "$$line" | grep -q 'as streams'; then other=0; else other=1; fi && \
	echo "again with STRIDEWISE_STREAMS=$$other (the other read order)" && \
	STRIDEWISE_STREAMS=$$other $(CARGO) test --release -q $(RUST_PKGS) --lib --test suite && \
	STRIDEWISE_STREAMS=$$other $(CARGO) test --release -q $(RUST_PKGS) --test suite \
		simd_levels_report -- --nocapture | grep '^stridewise'

py-lint: $(VENV)/.installed ## ruff and mypy --strict on the Python layer and its stub
	$(VENV)/bin/ruff check crates/pybind
	$(VENV)/bin/ruff format --check crates/pybind
	cd crates/pybind/python && $(VENV)/bin/mypy --strict stridewise

# pytest-xdist: one worker process per core by default (each test's kernels still use every
# core); PYTEST_WORKERS=0 runs them in this process.
PYTEST_WORKERS ?= auto
py-test: develop py-lint ## pytest against numpy, in parallel processes
	$(VPY) -m pytest crates/pybind/tests -q -n $(PYTEST_WORKERS)

bench-test: develop $(VENV)/.bench-installed ## the benchmark harness's own tests (nothing timed)
	$(VENV)/bin/ruff check python-bench
	$(VENV)/bin/ruff format --check python-bench
	$(VPY) -m pytest python-bench -q

test: lint cargo-test py-test bench-test capi-test examples ## lint, then every test: cargo and pytest on one release build, the harness, the C API, the examples

# The C API (crates/capi): libstridewise_c.so and .a in target/release, the header in
# crates/capi/include. Its tests: C and C++ programs compiled with gcc/g++ against the header
# and the library (the C++ one reduces Eigen matrices: Debian's libeigen3-dev, header-only),
# and the seed's ctypes `compute_mean` on numpy slices.
CAPI_OUT := target/capi
CAPI_FLAGS := -O2 -Wall -Wextra -Werror -Icrates/capi/include -Ltarget/release -lstridewise_c \
	-Wl,-rpath,$(CURDIR)/target/release
# (Built with the binding, in one cargo graph: alone, the kernels' dependencies would have
# other features and the kernels would be compiled once more.)
capi: ## build the C library, shared and static, and check that its header is current
	$(CARGO) build --release -p stridewise-py -p stridewise-capi
	$(CARGO) run -q -p stridewise-capi-header -- --check

EIGEN_INCLUDE ?= /usr/include/eigen3
capi-tools: ## install Debian's Eigen headers for the C++ test if EIGEN_INCLUDE lacks them (root, apt)
	@test -f $(EIGEN_INCLUDE)/Eigen/Dense || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		libeigen3-dev >/dev/null; }

capi-test: capi capi-tools $(VENV)/.installed ## the C API from C, C++ (Eigen) and ctypes
	@mkdir -p $(CAPI_OUT)
	gcc -std=c11 crates/capi/tests/c/test_capi.c $(CAPI_FLAGS) -lpthread -lm -o $(CAPI_OUT)/test_capi
	$(CAPI_OUT)/test_capi
	g++ -std=c++17 -I$(EIGEN_INCLUDE) crates/capi/tests/c/test_eigen.cpp $(CAPI_FLAGS) \
		-o $(CAPI_OUT)/test_eigen
	$(CAPI_OUT)/test_eigen
	gcc -std=c11 -O2 -Icrates/capi/include crates/capi/tests/c/test_capi.c \
		target/release/libstridewise_c.a -lpthread -ldl -lm -o $(CAPI_OUT)/test_capi_static
	$(CAPI_OUT)/test_capi_static > /dev/null && echo "ok the same program linked statically"
	$(VENV)/bin/ruff check crates/capi
	$(VENV)/bin/ruff format --check crates/capi
	$(VPY) -m pytest -p no:cacheprovider crates/capi/tests -q

# examples/: the seeds' stories, each asserting that no copy was made: a pybind11 C++ image
# (padded rows, interleaved channels) reduced per channel through the buffer protocol, a
# ctypes heap array, a padded column-major matrix by __array_interface__.
EXAMPLES_OUT := target/examples
$(VENV)/.examples-installed: examples/requirements.txt $(VENV)/.installed
	$(VPY) -m pip install --quiet --disable-pip-version-check -r examples/requirements.txt
	touch $@

examples: develop $(VENV)/.examples-installed ## build and run the examples (C++ via pybind11, ctypes)
	$(VENV)/bin/ruff check examples
	$(VENV)/bin/ruff format --check examples
	@mkdir -p $(EXAMPLES_OUT)
	g++ -O2 -std=c++17 -shared -fPIC -Wall -Werror $$($(VPY) -m pybind11 --includes) \
		examples/pybind11_image/padded_image.cpp \
		-o $(EXAMPLES_OUT)/padded_image$$($(VPY) -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
	PYTHONPATH=$(EXAMPLES_OUT) $(VPY) examples/pybind11_image/reduce_image.py
	$(VPY) examples/ctypes_heap_array.py
	$(VPY) examples/padded_matrix.py

# What the Python harness adds to the venv: pytest-benchmark, bottleneck, numexpr, matplotlib.
$(VENV)/.bench-installed: python-bench/requirements.txt $(VENV)/.installed
	$(VPY) -m pip install --quiet --disable-pip-version-check -r python-bench/requirements.txt
	touch $@

BENCH_OUT := python-bench/report
# The Dask section's persisted array (python-bench/dask_bench.py), in GiB.
DASK_GB ?= 4
# pytest-benchmark: median of at least 5 rounds, each at least 100 us long, per case.
BENCH_ARGS := -m benchmark -q --benchmark-json=$(BENCH_OUT)/results.json --benchmark-disable-gc \
	--benchmark-min-rounds=5 --benchmark-min-time=0.0001 --benchmark-columns=median,iqr,rounds \
	--benchmark-sort=name

# numpy's reductions never call BLAS, but importing numpy starts OpenBLAS's threads, whose
# idle loop took 2-11% of the samples in perf profiles of the benchmarks on 2 cores.
bench bench-quick: export OPENBLAS_NUM_THREADS = 1
bench: develop $(VENV)/.bench-installed ## the main job: criterion (quick), the Python harness, the report
	$(CARGO) bench -p stridewise-bench --bench reduce -- --quick
	$(VPY) bench/summary.py target/criterion > target/criterion/summary.md
	$(VPY) -m pytest python-bench $(BENCH_ARGS) --bench-set=full --benchmark-max-time=0.25
	$(VPY) python-bench/report.py $(BENCH_OUT)/results.json $(BENCH_OUT) --print \
		--command "make bench" --criterion target/criterion/summary.md
	$(VPY) python-bench/dask_bench.py --gb $(DASK_GB) --out $(BENCH_OUT)/dask.md

bench-quick: develop $(VENV)/.bench-installed ## a first look (under 2 min once built): the target cases only
	$(VPY) -m pytest python-bench $(BENCH_ARGS) --bench-set=quick --benchmark-max-time=0.1
	$(VPY) python-bench/report.py $(BENCH_OUT)/results.json $(BENCH_OUT) --print \
		--command "make bench-quick"

criterion: ## the criterion benches in full (several minutes), with their GB/s table
	$(CARGO) bench -p stridewise-bench --bench reduce
	$(PYTHON) bench/summary.py target/criterion | tee target/criterion/summary.md

# aarch64 (NEON): Debian's Rust (rustc-web, with the arm64 std) cross-builds the kernels' Rust
# tests, and qemu-user runs them. Timings under qemu mean nothing; results do. The property
# tests run a share of their cases (AARCH64_FRACTION), all at both levels (scalar, neon).
# The binaries are linked statically: dynamically linked aarch64 programs hang under
# qemu-user on this project's machines as soon as they start a thread (a C pthread_create
# too), and the tests need threads (libtest's, rayon's).
ARM_TARGET := aarch64-unknown-linux-gnu
ARM_ENV := RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C target-feature=+crt-static" \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER=qemu-aarch64-static
ARM_PKGS := rustc-web cargo-web libstd-rust-web-dev:arm64 gcc-aarch64-linux-gnu \
	libc6-dev-arm64-cross qemu-user-static
AARCH64_FRACTION ?= 0.1

aarch64-tools: ## install Debian's cross toolchain and qemu-user (needs root and apt)
	@dpkg -s $(ARM_PKGS) >/dev/null 2>&1 || { dpkg --add-architecture arm64 && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $(ARM_PKGS) >/dev/null; }

test-aarch64: aarch64-tools ## the kernels' Rust tests for aarch64 (scalar and NEON), under qemu
	$(ARM_ENV) STRIDEWISE_TEST_FRACTION=$(AARCH64_FRACTION) /usr/bin/cargo test --release \
		-p stridewise --target $(ARM_TARGET) --target-dir target/aarch64
	@$(ARM_ENV) /usr/bin/cargo test --release -q -p stridewise --target $(ARM_TARGET) \
		--target-dir target/aarch64 --test suite simd_levels_report -- --nocapture | grep '^stridewise'

clean: ## remove build products
	$(CARGO) clean
