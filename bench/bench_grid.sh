#!/usr/bin/env bash
# Model parallelism against data parallelism: mir-train's step time, its split (PSGEMM, assembling the
# distributed products, summing gradients over the groups, the rest = replicated compute), and peak memory
# per rank, for every P x Q layout that divides each rank count, at two widths.
#
#   bench/bench_grid.sh [-r "2 4"] [-s STEPS] [-w "default wide"] [-B BATCH] [-g "1x1 2x2 ..."] [-b BIN_DIR] CORPUS.h5
#
#   default   the `small` configuration (d_model 128, d_ff 512, 4 + 4 layers, window 256)
#   wide      d_model 1024, 8 heads, 2 layers, d_ff 4096, 2 graph layers, window 128, 128 nodes
# Global batch BATCH (default 8; micro-batches of 2, so it must be a multiple of 2 x the data-parallel groups:
# 16 for 1x1 at 8 ranks, 32 at 16), 1 OpenBLAS thread per rank; STEPS steps (default 4). -g limits the
# layouts tried (default: every one of 1x1 ... 4x4 that divides the rank count; 1x1 first). The reference of
# each row is the 1x1 (pure data-parallel) layout at the same rank count, measured in the same run.
set -euo pipefail
RANKS="2 4"; STEPS=4; WIDTHS="default wide"; BIN=""; BATCH=8; GRIDS="1x1 1x2 2x1 2x2 1x4 4x1 2x4 4x2 1x8 8x1 4x4"
while [[ $# -gt 0 ]]; do
  case $1 in
    -r) RANKS=$2; shift 2 ;;
    -s) STEPS=$2; shift 2 ;;
    -w) WIDTHS=$2; shift 2 ;;
    -b) BIN=$2; shift 2 ;;
    -B) BATCH=$2; shift 2 ;;
    -g) GRIDS=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[[ $# -eq 1 ]] || { echo "usage: bench/bench_grid.sh [-r RANKS] [-s STEPS] [-w WIDTHS] [-B BATCH] [-g GRIDS] CORPUS.h5" >&2; exit 2; }
CORPUS=$1
root=$(cd "$(dirname "$0")/.." && pwd)
TR=${BIN:+$BIN/mir-train}; TR=${TR:-$root/build/train/mir-train}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1
OUT=$(mktemp -d "${TMPDIR:-/tmp}/mir-grid.XXXXXX"); trap 'rm -rf "$OUT"' EXIT
printf 'd_model = 1024\nn_heads = 8\nn_layers = 2\nd_ff = 4096\nn_graph_layers = 2\nmax_seq = 128\nmax_nodes = 128\n' > "$OUT/wide.cfg"
echo "bench_grid: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); corpus $CORPUS; $STEPS steps of a global batch of $BATCH"
printf '%-8s %5s %-6s %9s %9s %9s %9s %9s %9s %9s %9s %7s\n' width ranks grid "s/step" PSGEMM assemble gradsum rest \
  "state MiB" "peak MiB" "rank0 MiB" "vs 1x1"
for width in $WIDTHS; do
  cfg=small; [[ $width == wide ]] && cfg=$OUT/wide.cfg
  for n in $RANKS; do
    ref=""
    for g in $GRIDS; do
      p=${g%x*}; q=${g#*x}
      (( n % (p * q) == 0 )) || continue
      log=$OUT/$width-$n-$g.log
      mpirun -np "$n" "$TR" --corpus "$CORPUS" --config "$cfg" --grid "$g" --steps "$STEPS" --batch "$BATCH" --micro-batch 2 \
        --checkpoint-every 0 --eval-modules 2 -o "$OUT/m.h5" > "$log" 2>&1 || { echo "FAILED: $width $n $g"; tail "$log"; exit 1; }
      line=$(grep "timing:" "$log")
      read -r step gemm asm red mem mem0 < <(sed -E 's/.*\(([0-9.]+) s\/step\): PSGEMM ([0-9.]+) s\/step, assembling its results ([0-9.]+) s\/step, gradient sums ([0-9.]+) s\/step; peak memory ([0-9.]+) MiB per rank \(([0-9.]+) on rank 0.*/\1 \2 \3 \4 \5 \6/' <<<"$line")
      state=$(grep "layout:" "$log" | sed -E 's/.*\(([0-9.]+) of [0-9.]+ MiB with gradients.*/\1/')
      [[ $g == 1x1 ]] && ref=$step
      rest=$(awk -v s="$step" -v a="$asm" -v r="$red" 'BEGIN{printf "%.4f", s-a-r}')
      ratio=-; [[ -n $ref ]] && ratio=$(awk -v s="$step" -v r="$ref" 'BEGIN{printf "%.2fx", r/s}')
      printf '%-8s %5d %-6s %9.4f %9.4f %9.4f %9.4f %9s %9.1f %9.1f %9.1f %7s\n' "$width" "$n" "$g" "$step" "$gemm" "$asm" "$red" \
        "$rest" "$state" "$mem" "$mem0" "$ratio"
      rm -f "$OUT/m.h5"*
    done
  done
done
echo "(state: parameters, gradients and AdamW moments held by rank 0; peak: largest peak RSS of the other ranks;"
echo " vs 1x1: the data-parallel step time at the same rank count divided by this layout's; >1 means faster)"
