# Build, test and demo entry points. `make demo` and `make test` are the whole quick start.
SHELL := /bin/bash
CARGO ?= cargo
TOOLS ?= $(or $(SSHKEY_TOOLS_DIR),$(CURDIR)/.tools)
export SSHKEY_TOOLS_DIR := $(abspath $(TOOLS))
# Built binaries live in cargo's target directory, which CARGO_TARGET_DIR or a config may move.
TARGET_DIR = $(or $(CARGO_TARGET_DIR),$(shell $(CARGO) metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'))

.PHONY: all build tools test test-rust test-sdk soak lint demo bench clean-tools install release fuzz

all: build

build:
	$(CARGO) build --bins

tools:
	bash scripts/install-terraform.sh

test: tools test-rust test-sdk

test-rust:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  $(CARGO) nextest run --all-targets --no-fail-fast && $(CARGO) test --doc; \
	else \
	  $(CARGO) test --all-targets --no-fail-fast; \
	fi

test-sdk: tools
	$(CARGO) build --bin sshkey-emulator
	SSHKEY_EMULATOR_BIN="$(TARGET_DIR)/debug/sshkey-emulator" \
	  "$(SSHKEY_TOOLS_DIR)/venv-sdk/bin/python" tests/sdk/test_official_sdks.py

# 20 apply/destroy cycles of 200 keys under random faults (SSHKEY_SOAK_SEED replays a run).
soak: tools
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
	  SSHKEY_SOAK=1 $(CARGO) nextest run --test acc_reliability --no-capture soak_; \
	else \
	  SSHKEY_SOAK=1 $(CARGO) test --test acc_reliability soak_ -- --nocapture; \
	fi

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings
	# The fuzz targets are their own crate (nightly to run, stable to build): check that they
	# still compile against the library, or they rot unseen.
	cd fuzz && CARGO_TARGET_DIR=$(CURDIR)/target/fuzz-check $(CARGO) check --locked --bins

demo:
	bash scripts/demo.sh

# Real Terraform against the emulator, batched versus one call per resource; writes
# BENCHMARKS.md and its SVG charts in docs/bench/. Takes about two hours;
# SSHKEY_BENCH_SIZES/RUNS/ATTACH shrink it. SSHKEY_BENCH_ONLY=plan,apply (any of destroy, plan,
# apply, attachment, process) runs only those sections and replaces only them in BENCHMARKS.md.
# Trial runs: SSHKEY_BENCH_OUT=/tmp/b/BENCHMARKS.md (charts then go to /tmp/b/docs/bench/).
bench: tools
	$(CARGO) bench --bench terraform

clean-tools:
	rm -rf "$(SSHKEY_TOOLS_DIR)"

# Terraform's implied local mirror: a plain `terraform init` finds the provider here.
PLUGIN_DIR ?= $(HOME)/.terraform.d/plugins
DIST ?= dist

# Users get the release build. The acceptance tests package the debug build they already
# have (PROFILE=dev): the packaging is the same, and a release build would add minutes to CI.
PROFILE ?= release
PROFILE_DIR = $(if $(filter dev,$(PROFILE)),debug,$(PROFILE))
BUILT = $(TARGET_DIR)/$(PROFILE_DIR)/terraform-provider-sshkey

install:
	$(CARGO) build --profile $(PROFILE) --bin terraform-provider-sshkey
	bash scripts/package.sh install "$(BUILT)" "$(PLUGIN_DIR)"

release:
	$(CARGO) build --profile $(PROFILE) --bin terraform-provider-sshkey
	bash scripts/package.sh release "$(BUILT)" "$(DIST)"

# Fuzzing (not run by CI): each target runs FUZZ_SECONDS on nightly with libFuzzer. Committed
# seeds are in fuzz/seeds/TARGET; what the fuzzer learns accumulates in fuzz/corpus/TARGET and
# crashing inputs land in fuzz/artifacts/TARGET (both git-ignored). See docs/design/fuzzing.md.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= value_decode sign emulator_request
fuzz:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t fuzz/seeds/$$t; \
	  echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	  (cd fuzz && $(CARGO) +nightly fuzz run --sanitizer none $$t corpus/$$t seeds/$$t -- \
	    -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10) || exit 1; \
	done
