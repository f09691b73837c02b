# The two commands of the quick start: `make demo` and `make test`.
# Both install missing Debian packages (scripts/bootstrap, idempotent), build and run.
SHELL := /bin/bash
JOBS ?= 2
FUZZ_SECONDS ?= 60
TF := build/host/tinyforge

.PHONY: all bootstrap build build-asan test unit-test fuzz demo bench clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	cmake --preset host >/dev/null
	cmake --build --preset host -j $(JOBS)
	@ln -sfn host/tinyforge build/tinyforge

build-asan: bootstrap
	cmake --preset host-asan >/dev/null
	cmake --build --preset host-asan -j $(JOBS) --target fuzzers

unit-test: build
	ctest --preset host -j $(JOBS)

fuzz: build-asan
	scripts/fuzz $(FUZZ_SECONDS)

test: unit-test fuzz

demo: build
	scripts/demo

bench: build
	scripts/bench

clean:
	rm -rf build
