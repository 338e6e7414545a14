#!/usr/bin/env bash
# Board binaries: a static Linux `edge-agent` for ARM boards, Swift in Embedded mode, C with the GNU
# cross gcc, libprotobuf-c from Debian's arm64/armhf packages (scripts/make-sysroot.sh).
#
#   scripts/cross-build.sh build TARGET     -> out/TARGET/edge-agent (stripped) + edge-agent.debug
#   scripts/cross-build.sh test  TARGET     builds, then runs it under qemu (ONNX backend cases,
#                                           models/edge.onnx against the host build in fp32, fp16 and
#                                           int8, and on aarch64 the board daemon against a host
#                                           `cema serve` on loopback)
# TARGET: aarch64 (aarch64-linux-gnu) or armv7 (arm-linux-gnueabihf). The target's settings live in
# toolchains/<triple>.mk ("NAME := value" lines, also read by the Makefile).
#
# Pipeline: C files (Sources/CEdgeShim/**/*.c, with -DCEDGE_EMBEDDED_SUPPORT) -> objects; EdgeRuntime
# (Sources/EdgeRuntime/**/*.swift) -> module + object; EdgeAgent (Sources/EdgeAgent/**/*.swift) -> object;
# all linked by the cross gcc against the target's libprotobuf-c.a, libm and pthread. Swift is compiled
# for the bare-metal triple of the same ISA/ABI (there is no <arch>-unknown-linux-gnu Embedded stdlib).
set -euo pipefail

mode="${1:?usage: $0 build|test TARGET}"
target="${2:?usage: $0 build|test TARGET}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

case "$target" in
    aarch64|arm64|aarch64-linux-gnu)      target=aarch64; triple=aarch64-linux-gnu ;;
    armv7|armhf|arm-linux-gnueabihf)      target=armv7;   triple=arm-linux-gnueabihf ;;
    *) echo "cross-build: unknown TARGET '$target' (aarch64 or armv7)" >&2; exit 2 ;;
esac

# --- toolchain file -----------------------------------------------------------------------------------
toolchain="toolchains/$triple.mk"
while IFS= read -r line; do
    [[ "$line" =~ ^([A-Z_][A-Z0-9_]*)[[:space:]]*:?=[[:space:]]*(.*)$ ]] || continue
    printf -v "${BASH_REMATCH[1]}" '%s' "${BASH_REMATCH[2]%"${BASH_REMATCH[2]##*[![:space:]]}"}"
done < "$toolchain"
for v in CROSS_TRIPLE CROSS_DEB_ARCH CROSS_SWIFT_TARGET CROSS_CC CROSS_SYSROOT CROSS_QEMU; do
    [ -n "${!v:-}" ] || { echo "cross-build: $toolchain does not set $v" >&2; exit 2; }
done
read -r -a swift_target_flags <<< "${CROSS_SWIFT_FLAGS:-}"
read -r -a cflags <<< "${CROSS_CFLAGS:-}"
read -r -a ldflags <<< "${CROSS_LDFLAGS:-}"
read -r -a libs <<< "${CROSS_LIBS:-}"
sysroot="$root/$CROSS_SYSROOT"

out="$root/out/$target"
obj="$out/obj"
mkdir -p "$obj" "$out/modules/CEdgeShim"
log() { echo "cross[$target]: $*"; }

# --- tools and target libraries ---------------------------------------------------------------------
SWIFTC="${SWIFTC:-$(command -v swiftc || true)}"
[ -n "$SWIFTC" ] || { echo "cross-build: swiftc not found (Swift 6.3 toolchain on PATH)" >&2; exit 1; }
embedded_lib="$(dirname "$(readlink -f "$SWIFTC")")/../lib/swift/embedded/$CROSS_SWIFT_TARGET"
[ -d "$embedded_lib" ] || { echo "cross-build: this Swift has no Embedded stdlib for $CROSS_SWIFT_TARGET" >&2; exit 1; }
scripts/install-packages.sh "gcc-$triple" "libc6-dev-$CROSS_DEB_ARCH-cross" qemu-user
scripts/make-sysroot.sh "$triple"
strip_tool="$triple-strip"

# newer_than OUT INPUT...: true when OUT is missing or older than any INPUT.
newer_than() {
    local out="$1"; shift
    [ -e "$out" ] || return 0
    local f
    for f in "$@"; do [ "$f" -nt "$out" ] && return 0; done
    return 1
}

build() {
    # Inputs every object depends on: the toolchain file, this script, the shim's headers.
    mapfile -t headers < <(find Sources/CEdgeShim -name '*.h' | sort)
    common_inputs=("$toolchain" "$0" "${headers[@]}")

    # --- C shim ---------------------------------------------------------------------------------------
    mapfile -t c_sources < <(find Sources/CEdgeShim -name '*.c' -not -path '*/proto/*' | sort)
    [ ${#c_sources[@]} -gt 0 ] || { echo "cross-build: no C sources in Sources/CEdgeShim" >&2; exit 1; }
    c_objects=()
    for src in "${c_sources[@]}"; do
        rel="${src#Sources/CEdgeShim/}"
        o="$obj/c/${rel%.c}.o"
        c_objects+=("$o")
        if newer_than "$o" "$src" "${common_inputs[@]}"; then
            mkdir -p "$(dirname "$o")"
            log "cc $rel"
            "$CROSS_CC" "${cflags[@]}" -ffunction-sections -fdata-sections -DCEDGE_EMBEDDED_SUPPORT \
                -I Sources/CEdgeShim/include -I "$sysroot/usr/include" -c "$src" -o "$o"
        fi
    done

    # --- Swift ----------------------------------------------------------------------------------------
    # The Clang importer sees the shim through this module map, the target's glibc headers and the
    # sysroot's <protobuf-c/protobuf-c.h>.
    modulemap="$out/modules/CEdgeShim/module.modulemap"
    want="module CEdgeShim {
    umbrella header \"$root/Sources/CEdgeShim/include/CEdgeShim.h\"
    export *
}"
    [ -f "$modulemap" ] && [ "$(cat "$modulemap")" == "$want" ] || printf '%s\n' "$want" > "$modulemap"
    swift_flags=(-target "$CROSS_SWIFT_TARGET" "${swift_target_flags[@]}"
        -enable-experimental-feature Embedded -wmo -O -swift-version 5 -D SWIFT_PACKAGE
        -Xfrontend -function-sections
        -I "$out/modules" -Xcc -isystem -Xcc "/usr/$triple/include" -Xcc -I"$sysroot/usr/include"
        -Xcc -DCEDGE_EMBEDDED_SUPPORT)

    mapfile -t runtime_sources < <(find Sources/EdgeRuntime -name '*.swift' | sort)
    mapfile -t agent_sources < <(find Sources/EdgeAgent -name '*.swift' | sort)
    [ ${#runtime_sources[@]} -gt 0 ] || { echo "cross-build: no Swift sources in Sources/EdgeRuntime" >&2; exit 1; }

    runtime_o="$obj/EdgeRuntime.o"
    if newer_than "$runtime_o" "${runtime_sources[@]}" "${common_inputs[@]}" "$modulemap"; then
        log "swiftc EdgeRuntime (${#runtime_sources[@]} files, Embedded)"
        rm -f "$runtime_o"
        "$SWIFTC" "${swift_flags[@]}" -parse-as-library -module-name EdgeRuntime \
            -emit-module -emit-module-path "$out/modules/EdgeRuntime.swiftmodule" \
            -c "${runtime_sources[@]}" -o "$runtime_o"
    fi
    agent_o="$obj/EdgeAgent.o"
    [ ${#agent_sources[@]} -gt 0 ] || { echo "cross-build: no Swift sources in Sources/EdgeAgent" >&2; exit 1; }
    if newer_than "$agent_o" "${agent_sources[@]}" "$runtime_o"; then
        log "swiftc EdgeAgent (${#agent_sources[@]} files, Embedded)"
        rm -f "$agent_o"
        # A main.swift holds top-level code; otherwise the entry point is an @main type.
        main_flags=(-parse-as-library)
        for f in "${agent_sources[@]}"; do [ "$(basename "$f")" = main.swift ] && main_flags=(); done
        "$SWIFTC" "${swift_flags[@]}" "${main_flags[@]}" -module-name EdgeAgent \
            -c "${agent_sources[@]}" -o "$agent_o"
    fi

    # Hard-float targets: the Swift objects must pass float/double in VFP registers like the gcc code
    # (bare-metal "eabi" defaults to soft-float argument passing; -mfloat-abi=hard in CROSS_SWIFT_FLAGS
    # switches it). The linker is told --no-warn-mismatch because libswiftUnicodeDataTables.a is built
    # soft-float (it passes no floating-point arguments), so it would not catch a real mismatch.
    if [[ "$triple" == *hf ]]; then
        for o in "$runtime_o" "$agent_o"; do
            if ! "$triple-readelf" -A "$o" | grep -q 'Tag_ABI_VFP_args: VFP registers'; then
                echo "cross-build: $o does not use the hard-float calling convention" >&2; exit 1
            fi
        done
    fi

    # --- link -----------------------------------------------------------------------------------------
    binary="$out/edge-agent"
    debug="$out/edge-agent.debug"
    protobuf_c="$sysroot/usr/lib/$triple/libprotobuf-c.a"
    sodium="$sysroot/usr/lib/$triple/libsodium.a"
    if newer_than "$debug" "$agent_o" "$runtime_o" "${c_objects[@]}" "$protobuf_c" "$sodium"; then
        log "link edge-agent"
        "$CROSS_CC" "${ldflags[@]}" -o "$debug" "$agent_o" "$runtime_o" "${c_objects[@]}" \
            "$protobuf_c" "$sodium" "$embedded_lib/libswiftUnicodeDataTables.a" "${libs[@]}"
        "$strip_tool" -o "$binary" "$debug"
    fi
    log "$(file -b "$binary" | cut -d, -f1-2): $binary"
    printf 'cross[%s]: size stripped %s bytes, unstripped %s bytes\n' "$target" \
        "$(stat -c %s "$binary")" "$(stat -c %s "$debug")"
}

# --- tests under qemu ----------------------------------------------------------------------------------
TESTDATA="${TESTDATA:-/usr/share/libonnx-testdata/data}"
CONFORMANCE_CASES=(test_conv_with_strides_padding test_relu test_maxpool_2d_default
    test_gemm_default_no_bias test_batchnorm_example test_add_bcast)

run_tests() {
    local binary="$out/edge-agent" failures=0
    command -v "$CROSS_QEMU" >/dev/null || { echo "cross-build: $CROSS_QEMU not found" >&2; exit 1; }

    # 1. ONNX backend-test cases: edge-agent conformance prints one line per case and a final
    #    "N passed, M failed, K unsupported" line; every case here must pass.
    local dirs=() c
    for c in "${CONFORMANCE_CASES[@]}"; do dirs+=("$TESTDATA/node/$c"); done
    log "qemu: edge-agent conformance (${#CONFORMANCE_CASES[@]} backend cases)"
    local report status=0
    report="$("$CROSS_QEMU" "$binary" conformance "${dirs[@]}" 2>&1)" || status=$?
    printf '%s\n' "$report" | sed "s/^/  [$target] /"
    local summary
    summary="$(printf '%s\n' "$report" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n1 || true)"
    if [ $status -ne 0 ] || [ -z "$summary" ] \
        || ! [[ "$summary" =~ ([0-9]+)\ passed,\ 0\ failed(,\ 0\ unsupported)?$ ]] \
        || [ "${BASH_REMATCH[1]}" -ne ${#CONFORMANCE_CASES[@]} ]; then
        log "FAIL: conformance (exit $status): ${summary:-no summary line}"
        failures=$((failures + 1))
    fi

    # 2. The product model against the host build, in each precision: fp32 and fp16 (weights stored as
    #    binary16 at load, and an fp16 file) within 1e-5 of the host's same precision; int8 (a QDQ model the host
    #    `cema quantize` writes here) bit-exact, since integer kernels leave no excuse for a difference.
    # Both are required: the model ships with the repository and `make cross-test` builds the host CLI first.
    local model="models/edge.onnx" host_cema="${HOST_CEMA:-$root/.build/release/cema}"
    if [ ! -f "$model" ] || [ ! -x "$host_cema" ]; then
        log "FAIL: the edge.onnx comparison needs $model and $host_cema"
        failures=$((failures + 1))
    else
        local work="$out/test" calibration="${CALIBRATION_IMAGES:-/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz}"
        mkdir -p "$work"
        python3 scripts/cross-tensors.py make-input "$model" "$work/in.pb"
        compare_on_board "$model" fp32 1e-5 || failures=$((failures + 1))
        # fp16 with the weights widened to fp32 (CEDGE_FP16=widen): the host's arithmetic, so within 1e-5; and
        # with native fp16 arithmetic where the (emulated) CPU has ARMv8.2 FP16: binary16 products and sums, so
        # a looser bound (0.062 was the largest logit difference over 5,000 test images, top-1 all equal).
        compare_on_board "$model" fp16 1e-5 CEDGE_FP16=widen || failures=$((failures + 1))
        compare_on_board "$model" fp16 0.25 || failures=$((failures + 1))
        # An fp16 file (float16 initializers, models/make_fp16.py): binary16 weights on the board too.
        compare_on_board models/golden/edge_fp16_io32.onnx fp16 1e-5 CEDGE_FP16=widen || failures=$((failures + 1))
        if "$host_cema" quantize "$model" --calibration "$calibration" --samples 128 --out "$work/edge.int8.onnx" >/dev/null; then
            compare_on_board "$work/edge.int8.onnx" int8 exact || failures=$((failures + 1))
        else
            log "FAIL: host cema quantize could not write $work/edge.int8.onnx"
            failures=$((failures + 1))
        fi
    fi
    # 3. The board daemon against the host cloud on loopback (aarch64 only: one board build is enough to
    #    show the loop, and the whole of `make test` must stay short): a severity-5 gaussian-noise
    #    FMNIST-C stream, `cema serve` adapting, patches installed between batches. The accuracy of the
    #    last quarter of the batches must beat the first quarter's, with at least one patch installed.
    if [ "$target" = aarch64 ]; then
        if [ -x "$host_cema" ]; then
            run_daemon_test "$binary" "$host_cema" || failures=$((failures + 1))
        else
            log "FAIL: the daemon test needs $host_cema"
            failures=$((failures + 1))
        fi
    fi
    if [ $failures -eq 0 ]; then log "cross tests passed"; else log "$failures cross test(s) failed"; fi
    return $failures
}

# compare_on_board MODEL PRECISION TOLERANCE [VAR=VALUE...]: one input through the board binary under qemu (with
# those environment variables) and through the host CLI, both in PRECISION; TOLERANCE is a max abs diff, or
# "exact" for byte-identical output files.
compare_on_board() {
    local m="$1" precision="$2" tolerance="$3" name
    local -a board_env=("${@:4}")
    name="$(basename "$m" .onnx) $precision${board_env[*]:+ (${board_env[*]})}"
    local board="$work/out-board-$precision.pb" host="$work/out-host-$precision.pb"
    rm -f "$board" "$host"
    log "qemu: ${board_env[*]:+${board_env[*]} }edge-agent run $m --precision $precision"
    if ! env "${board_env[@]}" "$CROSS_QEMU" "$binary" run "$m" --precision "$precision" --input "$work/in.pb" --output "$board" \
        || ! "$host_cema" run "$m" --precision "$precision" --input "$work/in.pb" --output "$host" >/dev/null; then
        log "FAIL: $name: a run failed"
        return 1
    fi
    if [ "$tolerance" = exact ]; then
        python3 scripts/cross-tensors.py compare "$board" "$host" --atol 0 || true
        if cmp -s "$board" "$host"; then log "$name: board output is bit-exact with the host build"; return 0; fi
        log "FAIL: $name: board output is not bit-exact with the host build"
        return 1
    fi
    if python3 scripts/cross-tensors.py compare "$board" "$host" --atol "$tolerance"; then
        log "$name: board output matches the host build"
        return 0
    fi
    log "FAIL: $name: board output differs from the host build"
    return 1
}

DAEMON_FRAMES="${DAEMON_FRAMES:-1024}"

# run_daemon_test BINARY HOST_CEMA: edge-agent daemon under qemu, cema serve on the host, 127.0.0.1.
run_daemon_test() {
    local binary="$1" cema="$2" work="$out/test/daemon" started=$SECONDS
    rm -rf "$work"
    mkdir -p "$work"
    "$cema" keygen --out "$work/key" >/dev/null
    "$cema" corrupt --corruption gaussian_noise --severity 5 --count "$DAEMON_FRAMES" --out "$work/stream" >/dev/null
    local images="$work/stream/gaussian_noise/5/images-idx3-ubyte" labels="$work/stream/gaussian_noise/5/labels-idx1-ubyte"
    "$cema" serve --key "$work/key" --port 0 --host 127.0.0.1 --port-file "$work/port" --seconds 300 \
        > "$work/cloud.log" 2>&1 &
    local cloud=$! i
    for i in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
    if [ ! -s "$work/port" ]; then
        kill "$cloud" 2>/dev/null; wait "$cloud" 2>/dev/null
        log "FAIL: cema serve did not start: $(tail -n 3 "$work/cloud.log")"
        return 1
    fi
    local port status=0
    port="$(cat "$work/port")"
    log "qemu: edge-agent daemon, $DAEMON_FRAMES frames of gaussian_noise/5, cloud 127.0.0.1:$port"
    # --sync-ms: wait for the cloud's answer to each batch (lockstep, as in `cema simulate`), so the run
    # shows the adaptation rather than how far qemu outruns the cloud.
    "$CROSS_QEMU" "$binary" daemon models/edge.onnx --store "$work/store" --pubkey "$work/key.pub" \
        --cloud "127.0.0.1:$port" --frames "$images" --labels "$labels" --batch 64 --sync-ms 60000 \
        --device-id "qemu-$target" > "$work/daemon.log" 2>&1 || status=$?
    kill "$cloud" 2>/dev/null; wait "$cloud" 2>/dev/null || true
    # Per-batch lines: "batch N frames F accuracy A% uploaded U version V cloud up".
    local verdict
    verdict="$(awk '
        /^batch [0-9]+ frames [0-9]+ accuracy / { a[n++] = $6 + 0 }
        /^edge-agent: served / { if (match($0, /patches installed [0-9]+/)) p = substr($0, RSTART + 18, RLENGTH - 18) + 0 }
        END {
            q = int(n / 4); if (q < 1) { print "FAIL no batches"; exit }
            for (i = 0; i < q; i++) { f += a[i]; l += a[n - q + i] }
            f /= q; l /= q
            printf "%s batches %d, first quarter %.2f%%, last quarter %.2f%%, patches installed %d\n", \
                (l > f && p >= 1) ? "ok" : "FAIL", n, f, l, p
        }' "$work/daemon.log")"
    sed -n '1,3p;/^edge-agent: served/p' "$work/daemon.log" | sed "s/^/  [$target] /"
    awk '/^batch / { if (++k % 4 == 0) print }' "$work/daemon.log" | sed "s/^/  [$target] /"
    log "daemon: $verdict ($((SECONDS - started)) s)"
    if [ $status -ne 0 ] || [[ "$verdict" != ok* ]]; then
        log "FAIL: board daemon (exit $status); logs in $work"
        return 1
    fi
}

case "$mode" in
    build) build ;;
    test)  build; run_tests ;;
    *) echo "usage: $0 build|test TARGET" >&2; exit 2 ;;
esac
