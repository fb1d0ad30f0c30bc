#!/usr/bin/env bash
# Strong scaling of the three MPI stages on one machine: the same work at 1, 2, 4, ... ranks, wall time
# measured around mpirun, speedup and efficiency against the 1-rank run of the same invocation.
#
#   bench/scaling.sh [-r "1 2 4"] [-b BIN_DIR] [-s STEPS] [-o OUT_DIR] IR_INPUT...
#
#   preprocess  mir-preprocess over IR_INPUT (files, directories, @lists of .ll/.bc)
#   train       mir-train --config small on that corpus: STEPS steps (default 10) of a global batch of 64
#               modules (16 micro-batches of 4, so every rank count up to 16 divides it), 1 OpenBLAS
#               thread per rank; the first step is left out of the timing (start-up)
#   infer       mir-infer with the trained model over IR_INPUT
# BIN_DIR holds mir-preprocess, mir-train, mir-infer (default: build/{preprocess,train,infer}).
set -euo pipefail
RANKS="1 2"; BIN=""; STEPS=10; OUT=$(mktemp -d "${TMPDIR:-/tmp}/mir-scaling.XXXXXX")
while [[ $# -gt 0 ]]; do
  case $1 in
    -r) RANKS=$2; shift 2 ;;
    -b) BIN=$2; shift 2 ;;
    -s) STEPS=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { echo "usage: bench/scaling.sh [-r RANKS] [-b BIN_DIR] [-s STEPS] IR_INPUT..." >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -n $BIN ]]; then PP=$BIN/mir-preprocess; TR=$BIN/mir-train; INF=$BIN/mir-infer
else PP=$root/build/preprocess/mir-preprocess; TR=$root/build/train/mir-train; INF=$root/build/infer/mir-infer; fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
mkdir -p "$OUT"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; ranks: $RANKS"
now() { date +%s.%N; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
table() { # stage ranks seconds base extra
  printf "%-10s %5d %9.2f %8s %10s  %s\n" "$1" "$2" "$3" "$(ratio "$4" "$3")" \
    "$(awk -v b="$4" -v s="$3" -v n="$2" 'BEGIN { printf "%.0f%%", 100 * b / s / n }')" "$5"
}
printf "%-10s %5s %9s %8s %10s  %s\n" stage ranks seconds speedup efficiency notes
base=""
for n in $RANKS; do
  t0=$(now)
  set +e; log=$(mpirun -np "$n" "$PP" --no-progress -o "$OUT/c$n.h5" "$@" 2>&1); rc=$?; set -e
  t1=$(now)
  [[ $rc == 0 || $rc == 3 ]] || { echo "$log" | tail -5; exit 1; }
  s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'); [[ -z $base ]] && base=$s
  mods=$(echo "$log" | grep -o 'summary: [0-9]* modules' | grep -o '[0-9]*')
  mem=$(echo "$log" | grep -o 'peak memory per rank [0-9.]* MiB max' | grep -o '[0-9.]*' | head -1)
  table preprocess "$n" "$s" "$base" "$mods modules, peak $mem MiB/rank"
done
corpus=$OUT/c$(echo $RANKS | awk '{print $1}').h5
base=""
for n in $RANKS; do
  # steps/s from the metrics: elapsed at the last step minus elapsed after step 1
  set +e; log=$(mpirun -np "$n" "$TR" --corpus "$corpus" -o "$OUT/m$n.h5" --config small --steps "$STEPS" \
    --batch 64 --micro-batch 4 --warmup 2 --checkpoint-every 0 --eval-modules 0 --progress-interval 1000 2>&1); rc=$?; set -e
  [[ $rc == 0 ]] || { echo "$log" | tail -5; exit 1; }
  s=$(awk -F, 'NR == 2 { a = $13 } END { print $13 - a }' "$OUT/m$n.h5.metrics.csv")
  tps=$(awk -F, 'END { print $12 }' "$OUT/m$n.h5.metrics.csv")
  [[ -z $base ]] && base=$s
  table train "$n" "$s" "$base" "$((STEPS - 1)) steps of 64 modules, $(printf %.0f "$tps") tokens/s"
done
model=$OUT/m$(echo $RANKS | awk '{print $1}').h5
base=""
for n in $RANKS; do
  t0=$(now)
  set +e; log=$(mpirun -np "$n" "$INF" -q --model "$model" -o "$OUT/e$n.h5" "$@" 2>&1); rc=$?; set -e
  t1=$(now)
  [[ $rc == 0 || $rc == 3 ]] || { echo "$log" | tail -5; exit 1; }
  s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'); [[ -z $base ]] && base=$s
  table infer "$n" "$s" "$base" ""
done
echo "outputs in $OUT"
