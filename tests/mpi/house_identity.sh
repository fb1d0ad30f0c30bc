#!/usr/bin/env bash
# No behaviour change (issue 18): the programs built from this tree and from the baseline commit named in
# tests/house/BASELINE run the same commands on the tests' own inputs, at 1 and 2 ranks, in the same folder
# with the same seeds, and leave the same outputs:
#  - mir-preprocess's corpora (tests/data/ir, variants, a duplicate, an empty and a truncated file);
#  - mir-train's model files after 40 steps (train.sh's tiny settings), with their loss and eval CSVs;
#  - mir-infer's embeddings (exact, and --fast at 2 ranks);
#  - mir-analyze's outputs on analyze.sh's settings (devmap, coarsen, --fast, --versus, a crashing kernel),
#    and vectorize's on fixed labels (vectorize-label's timings differ from run to run, so the labels here
#    are made up: the evaluation is under test, not the measurement);
#  - every exit status.
# HDF5 files are compared by content (tests/tools/h5_identical.py: every dataset's dtype, shape and bytes,
# every attribute), other files (CSV, JSON, plots, the unpacked kernels) byte for byte, except what holds
# timings or the program's path: the corpus's created_at attribute (the clock); summary.md (the command
# line, "Time:", the Cost section); the programs' logs; the training metrics.csv's tokens_per_s and
# elapsed_s columns (the other columns are compared). summary.json holds neither timings nor paths (two
# runs in different folders write the same bytes): it is compared whole, no key removed.
# The baseline is exported with git archive and built (only the four programs) under
# $MIR_BUILD_DIR/house-baseline, kept between runs. Without git or the commit the test fails. Without the
# analysis data sets the other comparisons are made and the test is then skipped (77).
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?}; INF=${MIR_INFER:?}; AN=${MIR_ANALYZE:?}
DATA=${MIR_DATA_DIR:-${MIR_ANALYZE_DATA:?}}
BUILD=${MIR_BUILD_DIR:?}
export OPENBLAS_NUM_THREADS=1
t0=$SECONDS

# ---------------- the baseline: exported and built once per commit
fail() { echo "FAIL: house_identity: $*"; exit 1; }
base=$(awk '!/^[[:space:]]*(#|$)/ {print $1; exit}' "$SRC/tests/house/BASELINE") ||
  fail "cannot read $SRC/tests/house/BASELINE"
[[ -n $base ]] || fail "$SRC/tests/house/BASELINE names no commit"
command -v git >/dev/null || fail "git is not installed: the baseline $base cannot be exported (this test needs git and a clone)"
commit=$(git -C "$SRC" rev-parse -q --verify "$base^{commit}" 2>/dev/null) ||
  fail "the baseline commit $base is not in $SRC's history (a tarball, or a shallow clone?): cannot compare against it"
OB=$BUILD/house-baseline
if [[ $(cat "$OB/commit" 2>/dev/null) != "$commit" ]]; then
  echo "house_identity: exporting the baseline $commit into $OB"
  rm -rf "$OB"
  mkdir -p "$OB/src"
  git -C "$SRC" archive "$commit" | tar -x -C "$OB/src" || fail "git archive $commit failed"
  echo "$commit" > "$OB/commit"
fi
# the same compiler and flags as this build (CTest passes them): bit-identical outputs need the same code
# generation; configured every time, so that a change of this build's settings reaches the baseline's
cmake -S "$OB/src" -B "$OB/build" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE="${MIR_BUILD_TYPE:-RelWithDebInfo}" \
  ${MIR_C_COMPILER:+-DCMAKE_C_COMPILER="$MIR_C_COMPILER"} -DCMAKE_C_FLAGS="${MIR_C_FLAGS:-}" \
  -DMIR_NATIVE="${MIR_NATIVE:-ON}" -DMIR_SANITIZE="${MIR_SANITIZE:-OFF}" >"$OB/configure.log" 2>&1 ||
  { tail -n 30 "$OB/configure.log"; fail "configuring the baseline failed ($OB/configure.log)"; }
cmake --build "$OB/build" -j"$(nproc)" --target mir-preprocess mir-train mir-infer mir-analyze >"$OB/build.log" 2>&1 ||
  { tail -n 30 "$OB/build.log"; fail "building the baseline failed ($OB/build.log)"; }
old_bin() { find "$OB/build" -type f -name "$1" -perm -u+x | head -n 1; }
OLD=("$(old_bin mir-preprocess)" "$(old_bin mir-train)" "$(old_bin mir-infer)" "$(old_bin mir-analyze)")
for b in "${OLD[@]}"; do [[ -x $b ]] || fail "a baseline program is missing under $OB/build"; done
echo "house_identity: baseline ${commit:0:12} ready in $((SECONDS - t0)) s"

# ---------------- the inputs, shared by both runs
IN=$WORK/in
mkdir -p "$IN"
cp "$SRC"/tests/data/ir/*.ll "$IN/"
ops=(fadd fsub fmul fdiv)
for k in $(seq 1 40); do
  sed "s/@vecadd/@vecadd$k/; s/fadd float/${ops[$((k % 4))]} float/" \
    "$SRC/tests/data/ir/vecadd_opaque.ll" > "$IN/var$k.ll"
  sed "s/add i32 %i, 1/add i32 %i, $((k % 5 + 1))/; s/@sum/@sum$k/" "$SRC/tests/data/ir/loop.ll" > "$IN/loop$k.ll"
done
cp "$IN/loop.ll" "$IN/loop_copy.ll"                       # a duplicate
: > "$IN/empty.ll"
head -c 300 "$SRC/tests/data/ir/vecadd_opaque.ll" > "$IN/truncated.ll"
# longer than one token window of the tiny model (16 tokens)
"$PY" - "$IN/long.ll" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("define i32 @long(i32 %x0) {\n")
    for i in range(1, 300):
        f.write(f"  %x{i} = mul i32 %x{i-1}, {i % 13 + 2}\n")
    f.write("  ret i32 %x299\n}\n")
PY
analysis=1
for f in devmap/cgo17-amd.csv devmap/task_devmap.zip thread_coarsening/pact-2014-runtimes.csv \
         thread_coarsening/task_threadcoarsening.zip loop_vectorization/neurovectorizer-training_data.tar.xz; do
  [[ -r $DATA/$f ]] || { echo "house_identity: $DATA/$f missing: mir-analyze is not compared"; analysis=0; }
done
if ((analysis)); then
  # six programs of three loop families, and labels made up from their names' order
  L=$WORK/loops
  mkdir -p "$L"
  progs=(s1_1024_add_0.c s1_1024_add_1.c s12_1024_2_2_in_assign.c s12_1024_2_2_sa_assign.c s17_1024_mul_0.c
         s17_1024_mul_4.c)
  tar -xJf "$DATA/loop_vectorization/neurovectorizer-training_data.tar.xz" -C "$WORK" \
    $(for p in header.h header.c "${progs[@]}"; do echo "training_data/$p"; done)
  mv "$WORK"/training_data/* "$L/"
  "$PY" - "$L" "$WORK/labels.csv" <<'PY'
import sys, os
progs = sorted(p for p in os.listdir(sys.argv[1]) if p.startswith("s"))
with open(sys.argv[2], "w") as f:
    f.write("program,kind,vf,if,status,best_s,max_s,digest\n")
    for i, p in enumerate(progs):
        o3 = 1.0 + 0.125 * i
        f.write(f"{p},1,0,0,0,{o3:.6g},{o3 * 1.0625:.6g},{1000 + i}\n")
        for vf in (1, 2, 4, 8):
            for ic in (1, 2):
                t = o3 * (0.5 + ((3 * i + 5 * vf + 7 * ic) % 13) / 16)
                f.write(f"{p},0,{vf},{ic},0,{t:.6g},{t * 1.0625:.6g},{1000 + i}\n")
        f.write(f"{p},2,0,0,0,{o3 * 1.03125:.6g},{o3 * 1.09375:.6g},{1000 + i}\n")
PY
fi

# ---------------- one run: the same commands with one set of programs, in $WORK/run
R=$WORK/run
# step NAME cmd...: run cmd in $R, its output in log/NAME.log; record its exit status (0, or 3 when some
# inputs failed); any other status stops the test
step() {
  local name=$1; shift
  set +e; (cd "$R" && "$@") >"$R/log/$name.log" 2>&1; local rc=$?; set -e
  echo "$name $rc" >> "$R/log/status"
  [[ $rc == 0 || $rc == 3 ]] || { tail -n 20 "$R/log/$name.log"; fail "$name exited with $rc"; }
}
mpx() { local n=$1; shift; mpirun --oversubscribe -x OPENBLAS_NUM_THREADS -np "$n" "$@"; }
run_all() {
  local pp=$1 tr=$2 inf=$3 an=$4 n
  rm -rf "$R"
  mkdir -p "$R/log"
  for n in 1 2; do
    step "preprocess-$n" mpx "$n" "$pp" --no-progress -q -o "$R/c$n.h5" "$IN"
    step "train-$n" mpx "$n" "$tr" --corpus "$R/c$n.h5" --config tiny --batch 8 --micro-batch 2 --seed 7 --lr 3e-3 \
      --warmup 5 --steps 40 -q -o "$R/m$n.h5"
    step "infer-$n" mpx "$n" "$inf" -q --model "$R/m$n.h5" -o "$R/e$n.h5" "$IN"
  done
  step infer-fast-2 mpx 2 "$inf" -q --fast --model "$R/m2.h5" -o "$R/ef2.h5" "$IN"
  ((analysis)) || return 0
  # analyze.sh's runs, with the 1-rank model
  local M=(--model "$R/m1.h5" --data "$DATA") FAST=(--xgb-rounds 20 --mlp-epochs 15)
  local K=(--kernels "$R/o2/data/devmap/task_devmap/kernels_ir")
  step devmap-2 mpx 2 "$an" devmap -q "${M[@]}" --out "$R/o2" --limit 60 --seeds 2 --ablation-seeds 1 "${FAST[@]}"
  step coarsen-2 mpx 2 "$an" coarsen -q "${M[@]}" --out "$R/o2" --seeds 2 --no-ablations "${FAST[@]}"
  step devmap-1 "$an" devmap -q "${M[@]}" --out "$R/o1" --limit 60 --seeds 2 --no-ablations "${FAST[@]}" "${K[@]}"
  step coarsen-1 "$an" coarsen -q "${M[@]}" --out "$R/o1" --seeds 2 --no-ablations "${FAST[@]}"
  step coarsen-crash env MIR_TEST_CRASH_ON=segv:sgemm "$an" coarsen "${M[@]}" --out "$R/oc" --seeds 1 --no-ablations \
    "${FAST[@]}"
  step coarsen-fast "$an" coarsen -q --fast "${M[@]}" --out "$R/of" --seeds 1 --no-ablations "${FAST[@]}"
  step devmap-versus mpx 2 "$an" devmap -q "${M[@]}" --versus "$R/m1.h5" --out "$R/ov" --limit 60 --seeds 2 \
    --no-ablations "${FAST[@]}" "${K[@]}"
  # vectorize on the made-up labels (vectorize.sh's settings, six programs, two seeds)
  local V=(vectorize -q --model "$R/m1.h5" --loops "$L" --labels "$WORK/labels.csv" --seeds 2 --xgb-rounds 5
           --mlp-epochs 5)
  step vectorize-2 mpx 2 "$an" "${V[@]}" --out "$R/o2"
  step vectorize-1 "$an" "${V[@]}" --out "$R/o1"
}
t=$SECONDS
run_all "${OLD[@]}"
mv "$R" "$WORK/old"
echo "house_identity: baseline run in $((SECONDS - t)) s"
t=$SECONDS
run_all "$PP" "$TR" "$INF" "$AN"
mv "$R" "$WORK/new"
echo "house_identity: this tree's run in $((SECONDS - t)) s"

# ---------------- the comparison: every file, the first difference of each one that differs
bad=0
"$PY" - "$WORK/old" "$WORK/new" "$TOOLS" <<'PY' || bad=1
import csv, os, sys
sys.path.insert(0, sys.argv[3])
from h5_identical import identical
old, new = sys.argv[1], sys.argv[2]
def files(root):
    out = set()
    for d, _, names in os.walk(root):
        out.update(os.path.relpath(os.path.join(d, n), root) for n in names)
    return {f for f in out if not (f.startswith("log/") and f.endswith(".log"))}   # logs: timings, paths
fa, fb = files(old), files(new)
bad = []
if fa != fb:
    bad.append(f"the files written differ: only the baseline's {sorted(fa - fb)}, only this tree's {sorted(fb - fa)}")
def no_timing(path):   # the training loss lines without their timing columns
    rows = list(csv.reader(open(path)))
    keep = [i for i, h in enumerate(rows[0]) if h not in ("tokens_per_s", "elapsed_s")]
    return [[r[i] for i in keep] for r in rows]
n = {"HDF5": 0, "other": 0}
for f in sorted(fa & fb):
    a, b = os.path.join(old, f), os.path.join(new, f)
    if f.endswith("/summary.md"):
        continue
    if f.endswith(".h5"):
        n["HDF5"] += 1
        diff, _ = identical(a, b, ["created_at"])
        if diff:
            bad.append(diff)
        continue
    n["other"] += 1
    if f.endswith(".h5.metrics.csv"):
        x, y = no_timing(a), no_timing(b)
    else:   # lines with their ends: equal lists, equal bytes
        x, y = (open(p, "rb").read().splitlines(True) for p in (a, b))
    if x != y:
        k = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
        show = lambda v: (v[k] if k < len(v) else "(end of file)")
        bad.append(f"{f}: DIFFER: line {k + 1}: {show(x)!r:.300} vs {show(y)!r:.300}")
for line in bad:
    print(line)
print(f"house_identity: compared {n['HDF5']} HDF5 files by content and {n['other']} other files "
      f"(the exit statuses in log/status): {len(bad)} differ")
sys.exit(1 if bad else 0)
PY
echo "house_identity: $((SECONDS - t0)) s in all"
((bad == 0)) || fail "outputs of this tree differ from the baseline ${commit:0:12}'s (above)"
((analysis)) || { echo "house_identity: the analysis data sets are missing: mir-analyze not compared: SKIPPED"; exit 77; }
echo "house_identity: PASSED (the same outputs as ${commit:0:12})"
