#!/usr/bin/env bash
# mir-train with statement positions (statements = 1) on a corpus of the tests' IR whose statements end in [SEP]
# (mir-preprocess --statement-sep). It checks: the loss falls, 1 and 2 ranks agree, the model file says statements = 1, a run
# stopped and resumed ends with the parameters of the uninterrupted one, and statements = 2 is refused.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?set by CTest}
mkdir -p "$WORK/in"
cp "$SRC"/tests/data/ir/*.ll "$WORK/in/"
for k in $(seq 1 20); do
  sed "s/@vecadd/@vecadd$k/" "$SRC/tests/data/ir/vecadd_opaque.ll" > "$WORK/in/var$k.ll"
  sed "s/add i32 %i, 1/add i32 %i, $((k % 5 + 1))/; s/@sum/@sum$k/" "$SRC/tests/data/ir/loop.ll" > "$WORK/in/loop$k.ll"
done
"$PP" -q --statement-sep -o "$WORK/c.h5" "$WORK/in"
printf 'max_seq = 8\nd_model = 16\nn_heads = 2\nn_layers = 1\nd_ff = 32\nn_graph_layers = 1\nmax_nodes = 32\nstatements = 1\n' >"$WORK/stmt.cfg"
T=(--corpus "$WORK/c.h5" --config "$WORK/stmt.cfg" --batch 8 --micro-batch 2 --seed 7 --lr 3e-3 --warmup 5 -q)

mpi 1 "$TR" "${T[@]}" --steps 30 -o "$WORK/r1.h5"
mpi 2 "$TR" "${T[@]}" --steps 30 -o "$WORK/r2.h5"
"$PY" - "$WORK/r1.h5.metrics.csv" "$WORK/r2.h5.metrics.csv" "$WORK/r1.h5" <<'PY'
import sys, csv, h5py
a = list(csv.DictReader(open(sys.argv[1]))); b = list(csv.DictReader(open(sys.argv[2])))
assert len(a) == len(b) == 30, (len(a), len(b))
worst = max(abs(float(x["loss"]) - float(y["loss"])) / max(1.0, abs(float(x["loss"]))) for x, y in zip(a, b))
print(f"statements, 1 vs 2 ranks: worst relative loss difference over 30 steps {worst:.2e} (tolerance 1e-4)")
assert worst < 1e-4
first, last = float(a[0]["loss"]), float(a[-1]["loss"])
mlm0, mlm1 = float(a[0]["mlm"]), float(a[-1]["mlm"])
print(f"statements: loss {first:.4f} -> {last:.4f}, masked-statement loss {mlm0:.4f} -> {mlm1:.4f}")
assert last < first - 0.5, "the loss did not fall"
assert mlm1 < mlm0, "the masked-statement loss did not fall"
assert int(h5py.File(sys.argv[3]).attrs["statements"]) == 1
PY
"$TOOLS/model_compare.py" "$WORK/r1.h5" "$WORK/r2.h5" 1e-4

# stopped after 12 steps and resumed to 30: the uninterrupted run's parameters
expect_status 0 "$TR" "${T[@]}" --steps 30 -o "$WORK/s.h5" --stop-after 12
"$TR" "${T[@]}" --steps 30 -o "$WORK/s.h5" --resume
"$TOOLS/model_compare.py" "$WORK/r1.h5" "$WORK/s.h5" 1e-6

# max_seq 2: mir-train reads windows of 4 * 2 = 8 statements from a statement's start, which cut most modules: it
# trains, and its held-out masked-statement accuracy is a fraction
sed 's/max_seq = 8/max_seq = 2/' "$WORK/stmt.cfg" >"$WORK/short.cfg"
"$TR" --corpus "$WORK/c.h5" --config "$WORK/short.cfg" --batch 8 --micro-batch 2 --seed 3 --steps 6 -o "$WORK/short.h5" -q
"$PY" - "$WORK/short.h5.metrics.csv" <<'PY'
import sys, csv, math
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 6 and all(math.isfinite(float(r["loss"])) and 0 <= float(r["mlm_acc"]) <= 1 for r in rows), rows
print(f"statements, max_seq 2 (cut reading windows): loss {float(rows[0]['loss']):.4f} -> {float(rows[-1]['loss']):.4f}")
PY

# statements must be 0 or 1
sed 's/statements = 1/statements = 2/' "$WORK/stmt.cfg" >"$WORK/bad.cfg"
expect_status 1 "$TR" --corpus "$WORK/c.h5" --config "$WORK/bad.cfg" --steps 2 -o "$WORK/bad.h5" -q
echo "train_stmt: ok"
