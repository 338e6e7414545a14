#!/usr/bin/env bash
# `make bench`'s last section: guest instructions the aarch64 board binary executes for models/edge.onnx
# in fp32, fp16 (binary16 weights) and int8 (a QDQ model from the host `cema quantize`), counted under qemu-user by the TCG
# plugin in scripts/qemu-insncount.c (valgrind cannot run aarch64 code on an x86 host). Each precision runs
# `edge-agent run` on a batch of 1 and of 32 images, 1 thread; the per-image figure is the difference over
# 31 images, which cancels start-up, model decoding and planning.
set -euo pipefail
cd "$(dirname "$0")/.."
CEMA=${CEMA:-.build/release/cema}
QEMU=${QEMU:-qemu-aarch64}
work=out/insncount
mkdir -p "$work"
scripts/cross-build.sh build aarch64 >/dev/null
plugin="$work/libinsncount.so"
src=scripts/qemu-insncount.c
if [ ! -e "$plugin" ] || [ "$src" -nt "$plugin" ]; then gcc -O2 -shared -fPIC -Wall -Wextra -o "$plugin" "$src"; fi
"$CEMA" quantize models/edge.onnx --calibration /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz \
    --samples 512 --out "$work/edge.int8.onnx" >/dev/null
for b in 1 32; do python3 scripts/cross-tensors.py make-input models/edge.onnx "$work/in-$b.pb" --batch "$b" >/dev/null; done

# count MODEL PRECISION BATCH: instructions of one `edge-agent run` under the plugin.
count() {
    local f="$work/count-$2-$3.txt"
    rm -f "$f"
    "$QEMU" -plugin "$plugin,out=$f" out/aarch64/edge-agent run "$1" --precision "$2" --threads 1 \
        --input "$work/in-$3.pb" --output "$work/out-$2-$3.pb"
    [ -s "$f" ] || { echo "insncount: the plugin wrote no count (qemu without plugin support?)" >&2; exit 1; }
    awk '{ print $2 }' "$f"
}
echo
echo "aarch64 guest instructions under $($QEMU --version | head -n1 | cut -d' ' -f1-3), edge-agent run --threads 1"
printf "%-14s %16s %16s %18s\n" precision "batch 1" "batch 32" "per image"
# fp16 twice: native fp16 arithmetic (qemu's CPU has ARMv8.2 FP16) and widened to fp32 (CEDGE_FP16=widen, what
# a Cortex-A72 or A57 board runs).
for row in "fp32|models/edge.onnx|fp32" "fp16|models/edge.onnx|fp16 native" "fp16|models/edge.onnx|fp16 widened|widen" \
           "int8|$work/edge.int8.onnx|int8"; do
    IFS='|' read -r p m label mode <<< "$row"
    one=$(CEDGE_FP16=$mode count "$m" "$p" 1)
    many=$(CEDGE_FP16=$mode count "$m" "$p" 32)
    printf "%-14s %16d %16d %18d\n" "$label" "$one" "$many" $(( (many - one) / 31 ))
done
