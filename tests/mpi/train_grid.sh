#!/usr/bin/env bash
# Model-parallel training (train/grid.h, train/dist.h): the block-cyclic linear layer against cblas_sgemm
# at 4 ranks, then the same training under layouts 1x1 (4 data groups), 1x2, 2x1, 2x2 and 2 groups x 1x2:
# losses and final parameters agree within float tolerance; a checkpoint written under 2x2 resumes under
# 1x1 and the other way round.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?}
mpi 4 "${MIR_TEST_DIST:?}"
"$PP" -q -o "$WORK/c.h5" "$SRC"/tests/data/ir
mkdir -p "$WORK/in"
cp "$SRC"/tests/data/ir/*.ll "$WORK/in/"
ops=(fadd fsub fmul fdiv)
for k in $(seq 1 24); do
  sed "s/@vecadd/@vecadd$k/; s/fadd float/${ops[$((k % 4))]} float/" "$SRC/tests/data/ir/vecadd_opaque.ll" > "$WORK/in/var$k.ll"
  sed "s/add i32 %i, 1/add i32 %i, $((k % 5 + 1))/; s/@sum/@sum$k/" "$SRC/tests/data/ir/loop.ll" > "$WORK/in/loop$k.ll"
done
"$PP" -q -o "$WORK/c.h5" "$WORK/in"
# block 4 on the tiny model (width 16, vocabulary ~100): every distributed matrix really is split
L=(--corpus "$WORK/c.h5" --config tiny --batch 8 --micro-batch 2 --seed 7 --lr 3e-3 --warmup 5 --block 4
   --steps 20 --checkpoint-every 0)
T=("${L[@]}" -q)
mpi 4 "$TR" "${T[@]}" --grid 1x1 -o "$WORK/g11.h5"
mpi 2 "$TR" "${T[@]}" --grid 1x2 -o "$WORK/g12.h5"
mpi 2 "$TR" "${T[@]}" --grid 2x1 -o "$WORK/g21.h5"
mpi 4 "$TR" "${L[@]}" --grid 2x2 -o "$WORK/g22.h5" 2>&1 | tee "$WORK/g22.log"
# the weights really are split: rank 0 holds part of the parameters, and PSGEMM ran
"$PY" - "$WORK/g22.log" <<'PY'
import re, sys
log = open(sys.argv[1]).read()
m = re.search(r"rank 0 holds (\d+) of the (\d+) parameters", log); assert m, log
mine, full = int(m.group(1)), int(m.group(2)); print(f"2x2: rank 0 holds {mine} of {full} parameters")
assert mine < 0.75 * full
m = re.search(r"PSGEMM ([0-9.]+) s/step.*\(grid 2x2\)", log); assert m and float(m.group(1)) > 0, log
PY
mpi 4 "$TR" "${T[@]}" --grid 1x2 -o "$WORK/g212.h5"      # 2 data-parallel groups of 1x2
"$PY" - "$WORK" <<'PY'
import sys, csv
w = sys.argv[1]
ref = [float(r["loss"]) for r in csv.DictReader(open(f"{w}/g11.h5.metrics.csv"))]
assert len(ref) == 20
for name in ("g12", "g21", "g22", "g212"):
    got = [float(r["loss"]) for r in csv.DictReader(open(f"{w}/{name}.h5.metrics.csv"))]
    worst = max(abs(a - b) / max(1.0, abs(a)) for a, b in zip(ref, got))
    print(f"{name}: worst relative loss difference to 1x1 over 20 steps {worst:.2e} (tolerance 1e-4)")
    assert len(got) == 20 and worst < 1e-4, (name, worst)
PY
for g in g12 g21 g22 g212; do "$TOOLS/model_compare.py" "$WORK/g11.h5" "$WORK/$g.h5" 1e-4; done
# layout-independent checkpoints: 2x2 stopped at step 8 resumes under 1x1, and 1x1 stopped resumes under 2x2
expect_status 0 mpi 4 "$TR" "${T[@]}" --grid 2x2 -o "$WORK/a.h5" --stop-after 8
mpi 4 "$TR" "${T[@]}" --grid 1x1 -o "$WORK/a.h5" --resume
"$TOOLS/model_compare.py" "$WORK/g11.h5" "$WORK/a.h5" 1e-4
expect_status 0 mpi 4 "$TR" "${T[@]}" --grid 1x1 -o "$WORK/b.h5" --stop-after 8
mpi 4 "$TR" "${T[@]}" --grid 2x2 -o "$WORK/b.h5" --resume
"$TOOLS/model_compare.py" "$WORK/g22.h5" "$WORK/b.h5" 1e-4
# errors: a grid that does not divide the ranks, a malformed one
set +e; msg=$(mpi 2 "$TR" "${T[@]}" --grid 2x2 -o "$WORK/x.h5" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"grid 2x2 needs a multiple of 4 ranks"* ]] || { echo "FAIL: bad grid accepted ($rc): $msg"; exit 1; }
expect_status 2 "$TR" "${T[@]}" --grid 2by2 -o "$WORK/x.h5"
# the default layout is explained in the log
mpi 2 "$TR" --corpus "$WORK/c.h5" --config tiny --batch 4 --micro-batch 2 --steps 1 -o "$WORK/d.h5" 2>&1 | tee "$WORK/d.log"
grep -q "layout: 2 data-parallel groups x grid 1x1 (block 64): data parallelism" "$WORK/d.log"
echo "train_grid: PASSED"
