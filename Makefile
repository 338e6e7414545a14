# CEMA edge runtime. `make demo` runs the main job, `make test` runs every test; both install what they
# need first (Debian packages through apt-get, idempotent).
SHELL := /bin/bash
SWIFT ?= swift
CONFIG ?= release
# -enable-testing lets the test targets' @testable imports link against this same optimized build, so
# `make test` compiles the package once and the numeric tests run at release speed.
BUILD_FLAGS := -c $(CONFIG) -Xswiftc -enable-testing
BIN := $(shell pwd)/.build/$(CONFIG)
TESTDATA := /usr/share/libonnx-testdata/data

# Debian packages the host build, the tests and the board builds use.
APT_PACKAGES := libonnx-dev libprotobuf-c-dev protobuf-c-compiler libonnx-testdata dataset-fashion-mnist \
    libsodium-dev libjpeg-dev zlib1g-dev gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf \
    libc6-dev-arm64-cross libc6-dev-armhf-cross qemu-user lld python3-venv

.PHONY: setup build test demo bench bench-adapt select-hyperparameters proto cross clean fuzz

setup:
	@scripts/install-packages.sh $(APT_PACKAGES)

build: setup
	$(SWIFT) build $(BUILD_FLAGS)

# --- tests -----------------------------------------------------------------------------------------
# Unit tests (XCTest), then the ONNX backend suites through the release CLI (every supported case must
# pass), then the board binaries under qemu against the host build.
test: build
	$(SWIFT) test $(BUILD_FLAGS)
	Tests/Fuzz/run.sh 10
	$(BIN)/cema conformance --quiet $(TESTDATA)/node $(TESTDATA)/simple $(TESTDATA)/pytorch-converted $(TESTDATA)/pytorch-operator
	@$(CROSS_TEST_ALL)

# libFuzzer targets for the frame and patch decoders (Tests/Fuzz/): 10 s each inside `make test`,
# FUZZ_SECONDS each here. Findings land in .build-fuzz/<target>/findings/.
FUZZ_SECONDS ?= 600
fuzz: setup
	Tests/Fuzz/run.sh $(FUZZ_SECONDS)

# --- main job --------------------------------------------------------------------------------------
# A short CEMA run: 3 severity-5 FMNIST-C streams (gaussian_noise, defocus_blur, fog), 2,000 frames each,
# CEMA against no adaptation and against uploading everything; report.md and SVG plots in out/demo.
demo: build
	$(BIN)/cema simulate $(ADAPT_CHOICES) --report out/demo

# --- benchmarks ------------------------------------------------------------------------------------
# Latency against onnxruntime (fp32, fp16 and int8 rows, model memory) and the cloud step against PyTorch,
# same run (scripts/bench.sh); then aarch64 instruction counts, fp32 vs int8, under qemu (scripts/insncount.sh).
bench: build
	scripts/bench.sh
	scripts/insncount.sh

# The results table: every method on the 15 severity-5 streams (long: hours on 2 cores at the full 10,000
# frames; ADAPT_SAMPLES=2000 for a quicker, noisier table). Prints its wall time; report in out/bench-adapt.
# --lambda 0.8 and --device-lr 0.005 were chosen by `make select-hyperparameters` on the validation streams.
ADAPT_SAMPLES ?= 10000
ADAPT_CHOICES := --lambda 0.8 --device-lr 0.005
bench-adapt: build
	$(BIN)/cema simulate --method all --corruption all --severity 5 --samples $(ADAPT_SAMPLES) $(ADAPT_CHOICES) --report out/bench-adapt
# How the defaults were chosen: trials on the validation corruptions (speckle_noise, gaussian_blur, spatter,
# saturate) at severity 3 only, never on the benchmark streams (~20 min on 2 cores).
select-hyperparameters: build
	scripts/select-hyperparameters.sh

# --- generated code --------------------------------------------------------------------------------
# Regenerates the committed protobuf code: C (protoc-c) for onnx.proto, as libonnx-dev installs it, and
# for the project's cema.proto; Swift (protoc-gen-swift) for cema.proto, for the cloud. CI never runs this.
# protoc-gen-swift has no Debian package; build it once from the swift-protobuf checkout SwiftPM resolved
# (the same version as the SwiftProtobuf library the code links, so the generated code matches it):
#   swift package resolve
#   swift build -c release --package-path .build/checkouts/swift-protobuf --product protoc-gen-swift \
#       --scratch-path .build-protoc-gen-swift
# or point PROTOC_GEN_SWIFT at a plugin built elsewhere: make proto PROTOC_GEN_SWIFT=/path/protoc-gen-swift
PROTOC_GEN_SWIFT ?= $(shell pwd)/.build-protoc-gen-swift/release/protoc-gen-swift
PROTO_DIR := Sources/CEdgeShim/proto

proto: setup
	@scripts/install-packages.sh protobuf-compiler
	@test -x "$(PROTOC_GEN_SWIFT)" || { echo "make proto: no protoc-gen-swift at $(PROTOC_GEN_SWIFT) (see the comment above the proto target)" >&2; exit 1; }
	cp /usr/include/onnx/onnx.proto $(PROTO_DIR)/onnx.proto
	cd $(PROTO_DIR) && protoc-c --c_out=../generated onnx.proto cema.proto
	protoc --plugin=protoc-gen-swift="$(PROTOC_GEN_SWIFT)" --swift_opt=Visibility=Public \
	    --swift_out=Sources/CloudTrainer/generated -I $(PROTO_DIR) $(PROTO_DIR)/cema.proto

# --- board binaries --------------------------------------------------------------------------------
# Static `edge-agent` for ARM Linux boards: EdgeRuntime + EdgeAgent in Embedded Swift, the C shim with
# the GNU cross gcc, linked against Debian's arm64/armhf libprotobuf-c.a (unpacked by
# scripts/make-sysroot.sh into .cache/sysroot-<triple>). Per-target settings: toolchains/<triple>.mk;
# pipeline: scripts/cross-build.sh. Output: out/$(TARGET)/edge-agent (stripped), edge-agent.debug.
#   make cross TARGET=aarch64   Raspberry Pi OS 64-bit, Jetson (aarch64-linux-gnu)
#   make cross TARGET=armv7     Raspberry Pi OS 32-bit, ARMv7-A + NEON (arm-linux-gnueabihf)
#   make cross-test             both, run under qemu-user: ONNX backend cases, and models/edge.onnx
#                               compared with the host build: fp32 and fp16 within 1e-5, int8 (a QDQ
#                               model the host `cema quantize` writes into out/) bit-exact
TARGET ?= aarch64
CROSS_TARGETS := aarch64 armv7
.PHONY: cross cross-all cross-test

cross: setup
	scripts/cross-build.sh build $(TARGET)

cross-all: setup
	@for t in $(CROSS_TARGETS); do scripts/cross-build.sh build $$t || exit 1; done

# Called directly by `test` (not through `make cross-test`): a second `swift build` after `swift test` would
# recompile the dependencies for nothing.
CROSS_TEST_ALL = failed=0; for t in $(CROSS_TARGETS); do scripts/cross-build.sh test $$t || failed=1; done; exit $$failed

cross-test: build
	@$(CROSS_TEST_ALL)

clean:
	rm -rf .build .build-* out
