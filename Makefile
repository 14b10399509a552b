# Broker Lab — build, serve and test.
#
#   make serve   install what is missing, then serve the app on http://127.0.0.1:8080
#   make test    install what is missing, then run every check (scripts/test.sh)
#
# Helpers: setup, setup-test, build, check (all but e2e), e2e, bench, bench-ui, clean, distclean.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# tools/wasm-opt: npm's binaryen, for trunk's release build (scripts/setup.sh installs it).
export PATH := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin:$(CURDIR)/tools/wasm-opt/node_modules/.bin:$(PATH)

ADDRESS ?= 127.0.0.1
PORT ?= 8080

.PHONY: help setup setup-test serve build test check e2e bench bench-ui bench-peer dist-zip clean distclean

help:
	@echo "make serve       build and serve the app on http://$(ADDRESS):$(PORT) (trunk serve --release)"
	@echo "make test        every check: fmt, clippy, core tests, wasm builds, e2e in headless Chromium"
	@echo "make setup       install the build tools that are missing (wasm32 target, trunk, wasm-bindgen-cli)"
	@echo "make setup-test  the above, plus Debian chromium and tests/e2e/node_modules"
	@echo "make build       release bundle into dist/ (trunk build --release)"
	@echo "make check       every check but the browser ones (fmt, clippy, core tests, wasm build of the core)"
	@echo "make e2e         trunk build --release, then the e2e tests only"
	@echo "make bench       the core's criterion benchmarks (cargo bench -p broker-sim)"
	@echo "make bench-ui    build, then frame times in headless Chromium (tests/e2e/bench-frames.mjs)"
	@echo "make bench-peer  the runner against SimPy on the same M/M/3 network (scripts/bench-peer.sh)"
	@echo "make dist-zip    build, then pack dist/ into broker-lab.zip, which runs from any static server"
	@echo "make clean       remove target/ and dist/; make distclean also removes tests/e2e/node_modules"

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test

serve: setup
	trunk serve --release --address $(ADDRESS) --port $(PORT)

build: setup
	trunk build --release

# The stages, their order and the summary live in scripts/test.sh:
#   setup fmt clippy-sim clippy-web test-sim test-web wasm-sim trunk-build size e2e
test:
	scripts/test.sh

check:
	scripts/test.sh setup fmt clippy-sim clippy-web test-sim test-web wasm-sim

e2e:
	scripts/test.sh setup trunk-build size e2e

bench:
	cargo bench -p broker-sim

bench-ui: build
	node tests/e2e/bench-frames.mjs

bench-peer:
	scripts/bench-peer.sh

# One archive for a USB stick: unzip it anywhere, then `python3 -m http.server` inside it.
dist-zip: build
	rm -f broker-lab.zip
	cd dist && python3 -m zipfile -c ../broker-lab.zip .
	@echo "broker-lab.zip: $$(stat -c %s broker-lab.zip) bytes"

clean:
	cargo clean
	rm -rf dist

distclean: clean
	rm -rf tests/e2e/node_modules
