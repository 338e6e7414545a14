#!/usr/bin/env bash
# Chooses hyperparameters on the validation streams only: ImageNet-C's four held-out corruptions
# (speckle_noise, gaussian_blur, spatter, saturate) at severity 3, never the 15 benchmark corruptions.
#   CEMA:           E_max0 fraction x lambda (edge learning rate at the reference 2.5e-3); the most accurate setting that uploads at
#                   most MAX_UPLOAD % of the stream.
#   Tent/ETA/EATA:  their shared on-device learning rate, by the mean accuracy of the three.
# Prints one line per trial and the choices; writes out/select-hyperparameters/{trials.md,choice.txt}.
set -euo pipefail
cd "$(dirname "$0")/.."
CEMA=${CEMA:-.build/release/cema}
SAMPLES=${SAMPLES:-2000}
MAX_UPLOAD=${MAX_UPLOAD:-40}
OUT=out/select-hyperparameters
mkdir -p "$OUT"
start=$(date +%s)
common=(--corruption validation --severity 3 --samples "$SAMPLES")

# Prints "accuracy upload%" of METHOD from a `cema simulate` summary table on stdin.
row() { awk -F'|' -v m="$1" '$2 ~ "^ *"m" *$" { gsub(/ /, "", $3); gsub(/ /, "", $4); print $3, $4 }'; }

echo "| trial | mean accuracy % | uploaded % |" > "$OUT/trials.md"
echo "| --- | ---: | ---: |" >> "$OUT/trials.md"
best=""; best_acc=-1
for emax in 0.3 0.4 0.5; do
  for lambda in 0.8 1.0; do
    for lr in 0.0025; do
      read -r acc up < <("$CEMA" simulate --method cema "${common[@]}" --e-max "$emax" --lambda "$lambda" --edge-lr "$lr" 2>/dev/null | row cema)
      echo "cema --e-max $emax --lambda $lambda --edge-lr $lr: accuracy $acc%, uploads $up%"
      echo "| cema --e-max $emax --lambda $lambda --edge-lr $lr | $acc | $up |" >> "$OUT/trials.md"
      if awk -v a="$acc" -v u="$up" -v b="$best_acc" -v m="$MAX_UPLOAD" 'BEGIN { exit !(u <= m && a > b) }'; then
        best="--e-max $emax --lambda $lambda --edge-lr $lr"; best_acc=$acc
      fi
    done
  done
done
echo "cema: $best (validation accuracy $best_acc%)" | tee "$OUT/choice.txt"

# One learning rate for the three on-device methods (they share --device-lr): best mean of the three.
dbest=""; dbest_acc=-1
for lr in 0.00025 0.001 0.005; do
  table=$("$CEMA" simulate --method tent,eta,eata "${common[@]}" --device-lr "$lr" 2>/dev/null)
  sum=0
  for method in tent eta eata; do
    read -r acc up < <(row "$method" <<< "$table")
    echo "$method --device-lr $lr: accuracy $acc%"
    echo "| $method --device-lr $lr | $acc | $up |" >> "$OUT/trials.md"
    sum=$(awk -v s="$sum" -v a="$acc" 'BEGIN { print s + a }')
  done
  mean=$(awk -v s="$sum" 'BEGIN { printf "%.2f", s / 3 }')
  if awk -v a="$mean" -v b="$dbest_acc" 'BEGIN { exit !(a > b) }'; then dbest="--device-lr $lr"; dbest_acc=$mean; fi
done
echo "tent/eta/eata: $dbest (mean validation accuracy $dbest_acc%)" | tee -a "$OUT/choice.txt"
echo "wall time: $(( $(date +%s) - start )) s; trials in $OUT/trials.md"
