# The two commands of the quick start: `make demo` and `make test`.
# Both install missing Debian packages (scripts/bootstrap, idempotent), build and run.
# docs/testing.md describes the test targets, strict mode and mutation testing.
SHELL := /bin/bash
JOBS ?= 2
FUZZ_SECONDS ?= 30
FUZZ_LONG_RUNS ?= 1000000
# 1: a test that skips (missing ../shared data, cross-compiler, QEMU, Python module) fails
# the run. STRICT=0: lenient, for a developer by hand.
STRICT ?= 1
TF := build/host/tinyforge

.PHONY: all bootstrap format build build-code build-asan build-asan-all test unit-test asan-test fuzz \
        fuzz-long mutate demo demo-audio bench clean

all: build

bootstrap:
	@scripts/bootstrap

# gcc, Release, -Werror: the build users get.
build: bootstrap
	cmake --preset host >/dev/null
	cmake --build --preset host -j $(JOBS)
	@ln -sfn host/tinyforge build/tinyforge

# The same without the test binary: the libraries and the CLI, where -Werror applies.
build-code: bootstrap
	cmake --preset host >/dev/null
	cmake --build --preset host -j $(JOBS) --target tinyforge
	@ln -sfn host/tinyforge build/tinyforge

# clang with ASan + UBSan: the fuzzers only, or everything (tests included).
build-asan: bootstrap
	cmake --preset host-asan >/dev/null
	cmake --build --preset host-asan -j $(JOBS) --target fuzzers

build-asan-all: bootstrap
	cmake --preset host-asan >/dev/null
	cmake --build --preset host-asan -j $(JOBS)

# Every tracked C/C++ file as clang-format writes it (.clang-format); --fix to rewrite.
format:
	@scripts/check-format

# The whole suite on the Release build.
unit-test: build
	TINYFORGE_STRICT=$(STRICT) JOBS=$(JOBS) scripts/run-tests host

# The whole suite (unit and end-to-end) under ASan + UBSan.
asan-test: build-asan-all
	TINYFORGE_STRICT=$(STRICT) JOBS=$(JOBS) scripts/run-tests host-asan

fuzz: build-asan
	scripts/fuzz $(FUZZ_SECONDS)

fuzz-long: build-asan
	scripts/fuzz --runs $(FUZZ_LONG_RUNS)

# The Release code is compiled (gcc -Werror) but the suite is built and run once, sanitized:
# twice would not fit the 20-minute budget on 2 cores (docs/testing.md).
test: format build-code asan-test fuzz

# Mutation testing of the safety-critical code (about an hour on 2 cores); writes
# bench/results/mutation.md.
mutate: bootstrap
	JOBS=$(JOBS) scripts/mutate

demo: build
	scripts/demo

# Keyword spotting: espeak-ng speech -> front-end -> micro_speech -> detections, host and M4.
demo-audio: build
	scripts/demo-audio

bench: build
	scripts/bench

clean:
	rm -rf build
