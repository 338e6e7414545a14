#!/usr/bin/env bash
# `make bench`: latency of this runtime vs onnxruntime on the same models, and CEMA's cloud step vs PyTorch,
# in the same run, interleaved so machine drift hits both alike. Prints medians and the ratio (ours / peer;
# < 1 is faster).
set -euo pipefail
cd "$(dirname "$0")/.."
CEMA=${CEMA:-.build/release/cema}
VENV=.venv-bench
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import onnxruntime, torch, onnx" 2>/dev/null; then
    echo "installing the peers (onnxruntime, PyTorch) into $VENV (once)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -r scripts/bench-requirements.txt
fi
MODELS=${BENCH_MODELS:-"models/edge.onnx models/foundation.onnx"}
ALL=$(nproc)
ROUNDS=${BENCH_ROUNDS:-3}
echo "machine: $(nproc) cores, $(uname -m), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $("$(dirname "$CEMA")/edge-agent" info)"
printf "%-28s %5s %7s %12s %12s %8s\n" model batch threads "cema ms" "ort ms" ratio
for model in $MODELS; do
    [ -f "$model" ] || { echo "bench: $model not found" >&2; exit 1; }
    for batch in 1 32; do
        for threads in 1 "$ALL"; do
            runs=$([ "$batch" -eq 1 ] && echo 200 || echo 20)
            ours=(); theirs=()
            for _ in $(seq "$ROUNDS"); do
                ours+=("$($CEMA bench "$model" --batch "$batch" --threads "$threads" --runs "$runs" --plain)")
                theirs+=("$("$VENV/bin/python" scripts/bench_ort.py "$model" --batch "$batch" --threads "$threads" --runs "$runs")")
            done
            a=$(printf "%s\n" "${ours[@]}" | sort -g | sed -n "$(( (ROUNDS + 1) / 2 ))p")
            b=$(printf "%s\n" "${theirs[@]}" | sort -g | sed -n "$(( (ROUNDS + 1) / 2 ))p")
            printf "%-28s %5d %7d %12.3f %12.3f %8.2f\n" "$(basename "$model")" "$batch" "$threads" "$a" "$b" \
                "$(python3 -c "print($a / $b)")"
        done
    done
done

# CEMA's cloud step: one distillation step (batch 128) and one foundation entropy step (batch 32), this
# runtime's CloudTrainer against the same math in PyTorch, same thread count, interleaved rounds.
echo
printf "%-34s %7s %12s %12s %8s\n" "cloud step" threads "cema ms" "torch ms" ratio
for threads in 1 "$ALL"; do
    d_ours=(); f_ours=(); d_torch=(); f_torch=()
    for _ in $(seq "$ROUNDS"); do
        read -r d f < <($CEMA bench-cloud --threads "$threads" --plain)
        d_ours+=("$d"); f_ours+=("$f")
        read -r d f < <("$VENV/bin/python" scripts/bench_cloud_torch.py --threads "$threads")
        d_torch+=("$d"); f_torch+=("$f")
    done
    mid() { printf "%s\n" "$@" | sort -g | sed -n "$(( (ROUNDS + 1) / 2 ))p"; }
    for row in "distillation (batch 128)|$(mid "${d_ours[@]}")|$(mid "${d_torch[@]}")" \
               "foundation entropy (batch 32)|$(mid "${f_ours[@]}")|$(mid "${f_torch[@]}")"; do
        IFS='|' read -r name a b <<< "$row"
        printf "%-34s %7d %12.3f %12.3f %8.2f\n" "$name" "$threads" "$a" "$b" "$(python3 -c "print($a / $b)")"
    done
done
