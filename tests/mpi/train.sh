#!/usr/bin/env bash
# mir-train on a small corpus: it learns (loss falls), 1 and 2 ranks agree on the same global batch, a run
# stopped (--stop-after, SIGTERM) or killed (SIGKILL) and resumed ends with the same parameters as an
# uninterrupted one, and bad inputs give clear errors.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?set by CTest}
mkdir -p "$WORK/in"
cp "$SRC"/tests/data/ir/*.ll "$WORK/in/"
# variants of the kernels, so there is something to learn from and to hold out
ops=(fadd fsub fmul fdiv)
for k in $(seq 1 40); do
  sed "s/@vecadd/@vecadd$k/; s/fadd float/${ops[$((k % 4))]} float/; s/i64 %id$/i64 %id/" \
    "$SRC/tests/data/ir/vecadd_opaque.ll" > "$WORK/in/var$k.ll"
  sed "s/add i32 %i, 1/add i32 %i, $((k % 5 + 1))/; s/@sum/@sum$k/" "$SRC/tests/data/ir/loop.ll" > "$WORK/in/loop$k.ll"
done
"$PP" -q -o "$WORK/c.h5" "$WORK/in"
T=(--corpus "$WORK/c.h5" --config tiny --batch 8 --micro-batch 2 --seed 7 --lr 3e-3 --warmup 5 -q)

# 1 rank vs 2 ranks, same global batch: same losses and parameters within float tolerance
mpi 1 "$TR" "${T[@]}" --steps 30 -o "$WORK/r1.h5"
mpi 2 "$TR" "${T[@]}" --steps 30 -o "$WORK/r2.h5"
"$PY" - "$WORK/r1.h5.metrics.csv" "$WORK/r2.h5.metrics.csv" <<'PY'
import sys, csv
a = list(csv.DictReader(open(sys.argv[1]))); b = list(csv.DictReader(open(sys.argv[2])))
assert len(a) == len(b) == 30, (len(a), len(b))
worst = max(abs(float(x["loss"]) - float(y["loss"])) / max(1.0, abs(float(x["loss"]))) for x, y in zip(a, b))
print(f"1 vs 2 ranks: worst relative loss difference over 30 steps {worst:.2e} (tolerance 1e-4)")
assert worst < 1e-4
first, last = float(a[0]["loss"]), float(a[-1]["loss"])
print(f"loss {first:.4f} -> {last:.4f}")
assert last < first - 0.5, "the loss did not fall"
PY
"$TOOLS/model_compare.py" "$WORK/r1.h5" "$WORK/r2.h5" 1e-4

# stop after 12 steps (as on SIGTERM), resume to 30: the same parameters as the uninterrupted run
expect_status 0 "$TR" "${T[@]}" --steps 30 -o "$WORK/s.h5" --stop-after 12
"$PY" -c "import h5py,sys; s=int(h5py.File(sys.argv[1])['state'].attrs['step']); assert s == 12, s" "$WORK/s.h5"
"$TR" "${T[@]}" --steps 30 -o "$WORK/s.h5" --resume
"$TOOLS/model_compare.py" "$WORK/r1.h5" "$WORK/s.h5" 1e-6

# SIGKILL in the middle of a run that checkpoints every 4 steps, then --resume: same parameters
"$TR" "${T[@]}" --steps 400 -o "$WORK/full.h5"
"$TR" "${T[@]}" --steps 400 -o "$WORK/k.h5" --checkpoint-every 4 &
pid=$!
# wait for the marker: 6 steps' lines in the metrics file (header + 6), so the checkpoint of step 4 is in
for i in $(seq 1 6000); do
  [[ -f "$WORK/k.h5.metrics.csv" && $(wc -l <"$WORK/k.h5.metrics.csv") -ge 7 ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.02
done
kill -9 $pid; wait $pid 2>/dev/null || true
step=$("$PY" -c "import h5py,sys; print(int(h5py.File(sys.argv[1])['state'].attrs['step']))" "$WORK/k.h5")
echo "killed; last checkpoint at step $step"
[[ $step -lt 400 ]] || { echo "FAIL: the run finished before it was killed"; exit 1; }
"$TR" "${T[@]}" --steps 400 -o "$WORK/k.h5" --resume
"$TOOLS/model_compare.py" "$WORK/full.h5" "$WORK/k.h5" 1e-6

# SIGTERM: checkpoint and exit 0 before the end
"$TR" "${T[@]}" --steps 100000 -o "$WORK/t.h5" --checkpoint-every 0 &
pid=$!
# wait for the marker: the first optimiser step's line in the metrics file (header + 1 line)
for i in $(seq 1 6000); do
  [[ -f "$WORK/t.h5.metrics.csv" && $(wc -l <"$WORK/t.h5.metrics.csv") -ge 2 ]] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.05
done
kill -TERM $pid
set +e; wait $pid; rc=$?; set -e
[[ $rc == 0 ]] || { echo "FAIL: SIGTERM exit status $rc"; exit 1; }
"$PY" -c "import h5py,sys; s=int(h5py.File(sys.argv[1])['state'].attrs['step']); assert 0 < s < 100000, s; print('SIGTERM at step', s)" "$WORK/t.h5"

# bad inputs: a clear error naming the file
err() { local want=$1; shift; set +e; msg=$("$@" 2>&1); rc=$?; set -e
  [[ $rc == 1 && $msg == *"$want"* ]] || { echo "FAIL: expected exit 1 and '$want', got $rc: $msg"; exit 1; }; echo "ok: $want"; }
err "$WORK/nope.h5" "$TR" --corpus "$WORK/nope.h5" -o "$WORK/x.h5" -q
err "not a MIREncoder corpus" "$TR" --corpus "$WORK/r1.h5" -o "$WORK/x.h5" -q
cp "$WORK/c.h5" "$WORK/old.h5"
"$PY" -c "import h5py,sys; h5py.File(sys.argv[1],'r+').attrs['format_version']=0" "$WORK/old.h5"
err "format_version 0" "$TR" --corpus "$WORK/old.h5" -o "$WORK/x.h5" -q
cp "$WORK/c.h5" "$WORK/nodata.h5"
"$PY" -c "import h5py,sys; del h5py.File(sys.argv[1],'r+')['graph/edge_flow']" "$WORK/nodata.h5"
err "/graph/edge_flow missing" "$TR" --corpus "$WORK/nodata.h5" -o "$WORK/x.h5" -q
set +e; "$PP" -q -o "$WORK/bad.h5" "$WORK/nope1.ll" "$WORK/nope2.ll"; set -e
err "no usable modules" "$TR" --corpus "$WORK/bad.h5" -o "$WORK/x.h5" -q
err "another configuration" "$TR" --corpus "$WORK/c.h5" --config small -o "$WORK/r1.h5" --resume -q
err "multiple of --micro-batch" mpi 2 "$TR" --corpus "$WORK/c.h5" --config tiny --batch 6 --micro-batch 2 -o "$WORK/x.h5" -q
# a corpus damaged after its index (the token array cut to a third): the rank that draws a module it cannot
# read stops, the others learn why instead of waiting in a collective or being aborted; exit 1 naming the file
cp "$WORK/c.h5" "$WORK/cut.h5"
"$PY" - "$WORK/cut.h5" <<'PY'
import h5py, sys
f = h5py.File(sys.argv[1], "r+")
t = f["tokens"][:]
del f["tokens"]
f["tokens"] = t[: len(t) // 3]
PY
set +e; msg=$(mpi 2 "$TR" --corpus "$WORK/cut.h5" --config tiny --steps 20 --batch 4 --micro-batch 2 --eval-every 5 \
  -o "$WORK/cut-model.h5" -q 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"$WORK/cut.h5"* && $msg != *MPI_ABORT* ]] \
  || { echo "FAIL: damaged corpus: expected exit 1 naming it without MPI_Abort, got $rc: $msg"; exit 1; }
echo "ok: damaged corpus stops every rank with the reason"
# --metrics shorter than ".metrics.csv": the evaluations go beside it (this path was once written before its start)
(cd "$WORK" && "$TR" --corpus c.h5 --config tiny --steps 4 --batch 4 --micro-batch 2 --eval-every 2 -o short.h5 \
  --metrics m.csv -q)
[[ $(wc -l <"$WORK/m.csv") == 5 && -s "$WORK/m.csv.eval.csv" ]] || { echo "FAIL: --metrics m.csv"; exit 1; }
# --resume checks the model file it continues: a NaN in a parameter or a moment, or a d_model edited into an
# absurd size, stops with exit 1 naming the file and the tensor or the size (never a huge allocation)
for case in param:params/tok/wte adam:optim/m/tok/wte size:; do
  name=${case%%:*} what=${case#*:}
  cp "$WORK/s.h5" "$WORK/bad-$name.h5"
  "$PY" - "$WORK/bad-$name.h5" "$what" <<'PY'
import h5py, sys, numpy as np
f = h5py.File(sys.argv[1], "r+")
if sys.argv[2]:  # one value of that tensor made NaN
    d = f[sys.argv[2]]
    a = d[...]
    a.flat[3] = np.nan
    d[...] = a
else:
    f.attrs["d_model"] = np.int32(1 << 20)
PY
  R=(); skip=0  # T without --config (a resumed model keeps its own; given, a mismatch is refused first)
  for a in "${T[@]}"; do
    if ((skip)); then skip=0; elif [[ $a == --config ]]; then skip=1; else R+=("$a"); fi
  done
  set +e; msg=$("$TR" "${R[@]}" --steps 30 -o "$WORK/bad-$name.h5" --resume 2>&1); rc=$?; set -e
  case $name in
    size) want="parameters need" ;;
    adam) want="tensor /optim/m/tok/wte holds NaN" ;;
    *) want="tensor /params/tok/wte holds NaN" ;;
  esac
  [[ $rc == 1 && $msg == *"$WORK/bad-$name.h5"* && $msg == *"$want"* ]] \
    || { echo "FAIL: --resume of a damaged model ($name): expected exit 1 with \"$want\", got $rc: $msg"; exit 1; }
done
echo "ok: --resume refuses damaged model files"
echo "train: PASSED"
