# stridewise: the two commands are `make bench` (the main job) and `make test`.
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help test lint build bench bench-quick clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

lint: ## rustfmt --check and clippy -D warnings
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

build: ## release build of the workspace
	$(CARGO) build --workspace --release

test: lint ## lint, then every test (cargo test --workspace)
	$(CARGO) test --workspace --all-features

bench: ## criterion benches (full run), then a table of GB/s against the read-bandwidth probe
	$(CARGO) bench -p stridewise-bench --bench reduce
	python3 bench/summary.py target/criterion | tee target/criterion/summary.md
	@echo "criterion HTML report: target/criterion/report/index.html"

bench-quick: ## a first look (criterion --quick), same table
	$(CARGO) bench -p stridewise-bench --bench reduce -- --quick
	python3 bench/summary.py target/criterion | tee target/criterion/summary.md

clean: ## remove build products
	$(CARGO) clean
