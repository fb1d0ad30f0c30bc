#!/usr/bin/env bash
# Strong scaling of mir-preprocess: the same corpus at 1, 2, 4, ... ranks, wall time measured around
# mpirun, speedup and efficiency against the 1-rank run of the same invocation.
#
#   bench/scaling_preprocess.sh [-r "1 2 4 8 16"] [-b BUILD_DIR] [--compile] INPUT...
#
# Without inputs it builds a corpus of >= 5,000 IR modules: the NeuroVectorizer loop programs compiled
# to IR once with clang 16 (cached under out/bench/loops_ir; needs scripts/prepare-data first).
set -euo pipefail
cd "$(dirname "$0")/.."
RANKS="1 2"; BUILD=build; EXTRA=()
while [[ $# -gt 0 ]]; do
  case $1 in
    -r) RANKS=$2; shift 2 ;;
    -b) BUILD=$2; shift 2 ;;
    --compile) EXTRA+=(--compile); shift ;;
    *) break ;;
  esac
done
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
PP=$BUILD/preprocess/mir-preprocess
INPUTS=("$@")
if [[ ${#INPUTS[@]} -eq 0 ]]; then
  SRC=${MIR_OUT_DIR:-out}/data/loop_vectorization/training_data
  IR=${MIR_OUT_DIR:-out}/bench/loops_ir
  [[ -d $SRC ]] || { echo "scaling: $SRC missing: run scripts/prepare-data first" >&2; exit 1; }
  if [[ ! -f $IR/.done ]]; then
    mkdir -p "$IR"
    echo "scaling: compiling $(ls "$SRC"/*.c | wc -l) loop programs to IR (once)"
    ls "$SRC"/*.c | grep -v '/header\.c$' | xargs -P "$(nproc)" -I{} sh -c \
      'clang-16 -O1 -g0 -Wno-everything -emit-llvm -S -I"$0" -o "$1/$(basename "{}" .c).ll" "{}" 2>/dev/null || true' "$SRC" "$IR"
    touch "$IR/.done"
  fi
  INPUTS=("$IR")
fi
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
printf "%6s %10s %9s %11s %16s\n" ranks seconds speedup efficiency "peak MiB/rank"
base=""
for n in $RANKS; do
  out=$(mktemp -u /tmp/mir-scaling-XXXXXX.h5)
  t0=$(date +%s.%N)
  set +e
  log=$(mpirun --oversubscribe -np "$n" "$PP" --no-progress "${EXTRA[@]}" -o "$out" "${INPUTS[@]}" 2>&1)
  rc=$?
  set -e
  t1=$(date +%s.%N)
  rm -f "$out"
  if [[ $rc != 0 && $rc != 3 ]]; then echo "$log" | tail -5; echo "scaling: mpirun -np $n failed ($rc)"; exit 1; fi
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')
  [[ -z $base ]] && base=$secs
  mem=$(echo "$log" | grep -o 'peak memory per rank [0-9.]* MiB max' | grep -o '[0-9.]*' | head -1)
  modules=$(echo "$log" | grep -o 'summary: [0-9]* modules' | grep -o '[0-9]*')
  printf "%6d %10.2f %9.2f %10.0f%% %16s\n" "$n" "$secs" "$(awk -v b="$base" -v s="$secs" 'BEGIN{print b/s}')" \
    "$(awk -v b="$base" -v s="$secs" -v n="$n" 'BEGIN{print 100*b/s/n}')" "$mem"
done
echo "modules: $modules (inputs: ${INPUTS[*]})"
