# stridewise: the two commands are `make bench` (the main job) and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
PYTHON ?= python3
VENV := $(CURDIR)/.venv
VPY := $(VENV)/bin/python
# maturin and the tools run from the project's venv; nothing is installed outside it.
VENV_ENV := VIRTUAL_ENV=$(VENV) PATH=$(VENV)/bin:$$PATH

.PHONY: help test lint cargo-test py-lint py-test develop build bench bench-quick clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

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

cargo-test: ## the Rust tests (kernels, doctests)
	$(CARGO) test --workspace --exclude stridewise-py --features stridewise/ndarray

py-lint: $(VENV)/.installed ## ruff and mypy --strict on the Python layer and its stub
	$(VENV)/bin/ruff check crates/pybind
	$(VENV)/bin/ruff format --check crates/pybind
	cd crates/pybind/python && $(VENV)/bin/mypy --strict stridewise

py-test: develop py-lint ## pytest against numpy
	$(VPY) -m pytest crates/pybind/tests -q

test: lint cargo-test py-test ## lint, then every test: cargo, then pytest on the release build

bench: ## criterion benches (full run), then a table of GB/s against the read-bandwidth probe
	$(CARGO) bench -p stridewise-bench --bench reduce
	$(PYTHON) bench/summary.py target/criterion | tee target/criterion/summary.md
	@echo "criterion HTML report: target/criterion/report/index.html"

bench-quick: ## a first look (criterion --quick), same table
	$(CARGO) bench -p stridewise-bench --bench reduce -- --quick
	$(PYTHON) bench/summary.py target/criterion | tee target/criterion/summary.md

clean: ## remove build products
	$(CARGO) clean
