#!/usr/bin/env bash
# Builds the libFuzzer binary (FuzzEntry.swift + FrameFuzz.swift + PatchFuzz.swift with the EdgeRuntime
# sources) and runs each target for SECONDS.
#   Tests/Fuzz/run.sh SECONDS        (make test: 10 s each; make fuzz: longer)
# Swift is compiled with swiftc -sanitize=fuzzer,address and the C shim with clang
# -fsanitize=fuzzer-no-link,address; both come with the Swift toolchain.
# Seeds: Tests/Fuzz/seeds/<target>/ plus the committed wire vectors; findings go to .build-fuzz/<target>/.
set -euo pipefail
seconds="${1:?usage: $0 SECONDS}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
work="$root/.build-fuzz"
mkdir -p "$work/modules/CEdgeShim" "$work/obj" "$work/bin"
CLANG="${CLANG:-$(dirname "$(readlink -f "$(command -v swiftc)")")/clang}"

# Module map for the shim, as the cross build writes it.
printf 'module CEdgeShim {\n    umbrella header "%s/Sources/CEdgeShim/include/CEdgeShim.h"\n    export *\n}\n' "$root" \
    > "$work/modules/CEdgeShim/module.modulemap"

mapfile -t c_sources < <(find Sources/CEdgeShim -name '*.c' -not -path '*/proto/*' | sort)
mapfile -t headers < <(find Sources/CEdgeShim -name '*.h' | sort)
objects=()
for src in "${c_sources[@]}"; do
    o="$work/obj/$(echo "${src#Sources/CEdgeShim/}" | tr / _).o"
    objects+=("$o")
    if [ ! -e "$o" ] || [ -n "$(find "$src" "${headers[@]}" -newer "$o" | head -1)" ]; then
        "$CLANG" -O1 -g -std=gnu11 -fsanitize=fuzzer-no-link,address -I Sources/CEdgeShim/include -c "$src" -o "$o"
    fi
done
mapfile -t swift_sources < <(find Sources/EdgeRuntime Tests/Fuzz -name '*.swift' | sort)

binary="$work/bin/cedge-fuzz"
if [ ! -x "$binary" ] || [ -n "$(find "${swift_sources[@]}" "${objects[@]}" -newer "$binary" | head -1)" ]; then
    echo "fuzz: building $binary"
    # lld: GNU gold prints a warning per sanitizer symbol. The build log is shown only on failure.
    if ! swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name EdgeRuntime -I "$work/modules" \
        -use-ld=lld "${swift_sources[@]}" "${objects[@]}" -lprotobuf-c -lsodium -lm -lpthread \
        -o "$binary" > "$work/build.log" 2>&1; then
        cat "$work/build.log" >&2
        exit 1
    fi
fi

status=0
for target in FrameFuzz PatchFuzz; do
    corpus="$work/$target/corpus"
    mkdir -p "$corpus" "$work/$target/findings"
    cp -n Tests/Fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
    if [ "$target" = PatchFuzz ]; then cp -n Tests/CloudTrainerTests/Vectors/patch_*.bin "$corpus"/ 2>/dev/null || true; fi
    echo "fuzz: $target for ${seconds}s"
    if ! CEDGE_FUZZ_TARGET="$target" "$binary" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$work/$target/findings/" "$corpus" > "$work/$target/log" 2>&1; then
        echo "fuzz: $target FAILED, see $work/$target/log and $work/$target/findings/" >&2
        tail -n 30 "$work/$target/log" >&2
        status=1
    else
        grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$work/$target/log" | sed "s/^/  [$target] /"
    fi
done
exit $status
