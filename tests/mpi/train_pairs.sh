#!/usr/bin/env bash
# mir-train's contrastive objective on a paired corpus (mir-preprocess --compile --opt-levels 0,2): the -O0 and
# -O2 modules of one source meet in one micro-batch, side by side and marked as partners, at 1, 2 and 4 ranks
# alike; a pair is never split between training and held-out; 1 and 2 ranks learn the same parameters; the
# switch off leaves every micro-batch unpaired; an odd --micro-batch is refused.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?set by CTest}
mkdir -p "$WORK/src"
# 96 small C programs (a loop each, with a different body), compiled at -O0 and -O2, and the tests' IR alone
ops=('+' '-' '*' '^')
for k in $(seq 1 96); do
  cat >"$WORK/src/p$k.c" <<EOF
int f$k(int *a, int n) {
  int s = $k, t = $((k * 7 % 11));
  for (int i = 0; i < n; i++) s = s ${ops[$((k % 4))]} a[i] * $((k % 5 + 1)) + t;
  return s;
}
EOF
done
cp "$SRC"/tests/data/ir/*.ll "$WORK/src/"
mpi 2 "$PP" -q --compile --opt-levels 0,2 -o "$WORK/c.h5" "$WORK/src"
printf 'max_seq = 32\nd_model = 16\nn_heads = 2\nn_layers = 1\nd_ff = 32\nn_graph_layers = 1\nmax_nodes = 32\ncontrastive = 1\n' >"$WORK/pairs.cfg"
C=(--corpus "$WORK/c.h5" --seed 3 --lr 3e-3 --warmup 2 -q)
T=("${C[@]}" --config "$WORK/pairs.cfg" --batch 16 --micro-batch 4)
for n in 1 2 4; do
  MIR_TRACE_BATCHES="$WORK/trace$n" mpi "$n" -x MIR_TRACE_BATCHES "$TR" "${T[@]}" --steps 6 -o "$WORK/r$n.h5"
done
MIR_TRACE_BATCHES="$WORK/trace-off" mpi 1 -x MIR_TRACE_BATCHES "$TR" "${C[@]}" --config tiny --batch 16 --micro-batch 4 \
  --steps 3 -o "$WORK/off.h5"

"$PY" - "$WORK" <<'PY'
import sys, glob, h5py
w = sys.argv[1]
f = h5py.File(f"{w}/c.h5", "r")
names = [n.decode() if isinstance(n, bytes) else n for n in f["/modules/name"][:]]
status, source = f["/modules/status"][:], f["/modules/source"][:]
ok = [i for i in range(len(names)) if status[i] == 0]
pairs = {}
for i in ok:
    pairs.setdefault(int(source[i]), []).append(i)
pairs = {s: m for s, m in pairs.items() if len(m) == 2}
partner = {a: b for a, b in pairs.values()} | {b: a for a, b in pairs.values()}
assert len(pairs) == 96, f"expected 96 pairs of one source, got {len(pairs)}"
for a, b in pairs.values():
    assert names[a].endswith("@O0") and names[b].endswith("@O2"), (names[a], names[b])

def load(prefix):
    lines = set()
    for p in glob.glob(prefix + ".[0-9]*"):
        lines |= {l.strip() for l in open(p) if l.strip()}
    return lines

ref = load(f"{w}/trace1")
assert len(ref) == 6 * 4, f"1 rank: {len(ref)} micro-batches traced, expected 24"
for n in (2, 4):
    got = load(f"{w}/trace{n}")
    assert got == ref, f"{n} ranks read other micro-batches than 1 rank: {sorted(got ^ ref)[:4]}"
seen, n_paired = set(), 0
for line in ref:
    ids_part, part = line.split("|")
    ids = [int(x) for x in ids_part.split()[2:]]
    mark = [int(x) for x in part.split()]
    assert len(ids) == len(mark)
    seen |= set(ids)
    for j, i in enumerate(ids):
        if i in partner:
            k = ids.index(partner[i])  # its partner is in the same micro-batch, next to it
            assert abs(k - j) == 1, (line, i)
            assert mark[j] == k, f"partner of position {j} marked {mark[j]}, expected {k}: {line}"
            n_paired += 1
        else:
            assert mark[j] == -1, line
assert n_paired > 0
for i in seen:  # held-out never takes one module of a pair and trains on the other
    assert i not in partner or partner[i] in seen, f"module {names[i]} trained without its partner"
for line in load(f"{w}/trace-off"):
    assert all(int(x) == -1 for x in line.split("|")[1].split()), f"contrastive off but paired: {line}"
print(f"96 pairs; 1, 2 and 4 ranks read the same 24 micro-batches; {n_paired} paired positions, all side by side")
PY
"$TOOLS/model_compare.py" "$WORK/r1.h5" "$WORK/r2.h5" 1e-4
"$PY" -c "import h5py,sys; assert int(h5py.File(sys.argv[1]).attrs['contrastive']) == 1" "$WORK/r1.h5"
# the loss is logged (positive with the objective, 0 without), and the held-out evaluation (2 pairs of this
# corpus) reports how often a module's nearest neighbour in its micro-batch is its partner
"$PY" - "$WORK/r1.h5.metrics.csv" "$WORK/off.h5.metrics.csv" "$WORK/r1.h5.eval.csv" <<'PY'
import sys, csv
on = [float(r["contrast"]) for r in csv.DictReader(open(sys.argv[1]))]
off = [float(r["contrast"]) for r in csv.DictReader(open(sys.argv[2]))]
assert len(on) == 6 and min(on) > 0, on
assert len(off) == 3 and max(off) == 0, off
rows = list(csv.DictReader(open(sys.argv[3])))
assert rows, "no held-out evaluation"
acc = float(rows[-1]["contrast_acc"])
assert 0.0 <= acc <= 1.0, acc
print(f"contrastive loss {on[0]:.3f} -> {on[-1]:.3f}; held-out pair retrieval accuracy after 6 steps: {acc:.3f}")
PY
# an odd micro-batch cannot hold pairs
expect_status 1 "$TR" "${C[@]}" --config "$WORK/pairs.cfg" --batch 6 --micro-batch 3 --steps 1 -o "$WORK/odd.h5" 2>"$WORK/odd.err"
grep -q "must be even" "$WORK/odd.err" || { echo "FAIL: odd --micro-batch not refused clearly"; cat "$WORK/odd.err"; exit 1; }
# a micro-batch of one pair has no negatives (a contrastive loss of exactly 0): refused too
expect_status 1 "$TR" "${C[@]}" --config "$WORK/pairs.cfg" --batch 4 --micro-batch 2 --steps 1 -o "$WORK/one.h5" 2>"$WORK/one.err"
grep -q "at least 4" "$WORK/one.err" || { echo "FAIL: --micro-batch 2 with contrastive not refused clearly"; cat "$WORK/one.err"; exit 1; }
echo "PASS"
