#!/usr/bin/env bash
# mir-infer and the C API: embeddings are the same at 1, 2 and 4 ranks, the same from IR files and from a
# corpus made with the model's vocabulary (one code path), the same through the C API from 4 threads; CSV
# output; failed modules are listed and the exit status is 3; a corpus with another vocabulary is refused.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?}; INF=${MIR_INFER:?}; CAPI=${MIR_TEST_CAPI:?}
mkdir -p "$WORK/in"
cp "$SRC"/tests/data/ir/*.ll "$WORK/in/"
for k in $(seq 1 10); do
  sed "s/@vecadd/@vecadd$k/; s/fadd float/fmul float/" "$SRC/tests/data/ir/vecadd_opaque.ll" > "$WORK/in/v$k.ll"
done
# a module longer than one token window (tiny model: 16 tokens) and one with many nodes
"$PY" - "$WORK/in/long.ll" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("define i32 @long(i32 %x0) {\n")
    for i in range(1, 300):
        f.write(f"  %x{i} = mul i32 %x{i-1}, {i % 13 + 2}\n")
    f.write("  ret i32 %x299\n}\n")
PY
"$PP" -q -o "$WORK/c.h5" "$WORK/in"
"$TR" -q --corpus "$WORK/c.h5" --config tiny --steps 5 --batch 4 --micro-batch 2 -o "$WORK/m.h5"
for n in 1 2 4; do mpi "$n" "$INF" -q --model "$WORK/m.h5" -o "$WORK/e$n.h5" "$WORK/in"; done
# through a corpus encoded with the model's vocabulary
"$PP" -q --vocab "$WORK/m.h5" -o "$WORK/cv.h5" "$WORK/in"
mpi 2 "$INF" -q --model "$WORK/m.h5" -o "$WORK/ec.h5" "$WORK/cv.h5"
"$PY" - "$WORK" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
e = {n: h5py.File(f"{w}/e{n}.h5") for n in (1, 2, 4)}
for n in (2, 4):
    assert np.array_equal(e[1]["embeddings"][()], e[n]["embeddings"][()]), f"1 vs {n} ranks differ"
    assert np.array_equal(e[1]["names"][()], e[n]["names"][()])
c = h5py.File(f"{w}/ec.h5")
assert np.array_equal(c["names"][()], e[1]["names"][()])
d = np.abs(c["embeddings"][()] - e[1]["embeddings"][()]).max()
print(f"files vs corpus: max |difference| {d:.3g}")
assert d == 0.0, d
E = e[1]["embeddings"][()]
assert E.shape[1] == 2 * 16 and np.isfinite(E).all() and (np.abs(E).sum(axis=1) > 0).all()
assert e[1].attrs["model_hash"] == h5py.File(f"{w}/m.h5").attrs["model_hash"]
print("rank invariance, corpus path, attributes: PASSED")
PY
"$CAPI" "$WORK/m.h5" "$WORK/e1.h5" "$WORK"/in/long.ll "$WORK"/in/loop.ll "$WORK"/in/v3.ll "$WORK"/in/calls.ll
# reading modes (mir_embed_options): references built from the exact mode, pooled working memory; the
# one-window modes' limited extraction, also on multi.ll: several functions, the first shorter than a window
"$PY" - "$WORK/multi.ll" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("declare i32 @ext(i32)\n@g = global i32 7\n")
    f.write("define i32 @f0(i32 %x) #0 {\n  ret i32 %x\n}\n")
    for k in range(1, 6):
        f.write(f"define i32 @f{k}(i32 %x0) #0 {{\n")
        for i in range(1, 3 * k + 1):
            f.write(f"  %x{i} = add i32 %x{i-1}, {i}\n")
        f.write(f"  %c = call i32 @f{k-1}(i32 %x{3 * k})\n  %e = call i32 @ext(i32 %c)\n")
        f.write(f"  store i32 %e, ptr @g, align 4\n  ret i32 %e\n}}\n")
    f.write('attributes #0 = { nounwind "frame-pointer"="none" }\n')
PY
"${MIR_TEST_EMBED_OPTIONS:?}" "$WORK/m.h5" "$WORK/in/long.ll" "$WORK/in/loop.ll" "$WORK/multi.ll" \
  "$WORK/in/calls.ll" "$WORK/in/switch.ll" "$WORK/in/vecadd_typed.ll"
mpi 2 "$INF" -q --model "$WORK/m.h5" --windows 0 -o "$WORK/w0.h5" "$WORK/in"
mpi 2 "$INF" -q --model "$WORK/m.h5" --fast -o "$WORK/fast.h5" "$WORK/in"
mpi 2 "$INF" -q --model "$WORK/m.h5" --fast -o "$WORK/fastc.h5" "$WORK/cv.h5"   # full tokens from the corpus
mpi 2 "$INF" -q --model "$WORK/m.h5" --window-tokens 9 -o "$WORK/wt.h5" "$WORK/in"
"$PY" - "$WORK" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
e, z, f, t = (h5py.File(f"{w}/{n}.h5") for n in ("e1", "w0", "fast", "wt"))
T = h5py.File(f"{w}/m.h5").attrs["max_seq"]
assert np.array_equal(e["embeddings"][()], z["embeddings"][()]), "--windows 0 is not the default"
assert e.attrs["max_windows"] == 0 and e.attrs["max_nodes"] == 65536 and e.attrs["window_tokens"] == T
assert f.attrs["max_windows"] == 1 and f.attrs["max_nodes"] == h5py.File(f"{w}/m.h5").attrs["max_nodes"]
assert f.attrs["window_tokens"] == (128 if T >= 128 else T) and t.attrs["window_tokens"] == 9
names = [n.decode() for n in e["names"][()]]
i = names.index(f"{w}/in/long.ll")
assert not np.array_equal(e["embeddings"][i], f["embeddings"][i]), "--fast did not change a long module"
assert not np.array_equal(e["embeddings"][i], t["embeddings"][i]), "--window-tokens did not change a long module"
# files in --fast extract only the first window's words; the corpus holds every token: the same vectors
fc = h5py.File(f"{w}/fastc.h5")
assert np.array_equal(fc["names"][()], f["names"][()])
assert np.array_equal(fc["embeddings"][()], f["embeddings"][()]), "--fast: limited extraction differs from the corpus"
print("--windows/--window-tokens/--fast: PASSED")
PY
set +e; msg=$("$INF" --model "$WORK/m.h5" --window-tokens 100000 -o "$WORK/x.h5" "$WORK/in" 2>&1); rc=$?; set -e
[[ $rc != 0 && $msg == *"window"* ]] || { echo "FAIL: --window-tokens past the model's window accepted ($rc): $msg"; exit 1; }
set +e; msg=$("$INF" --model "$WORK/m.h5" --windows -2 -o "$WORK/x.h5" "$WORK/in" 2>&1); rc=$?; set -e
[[ $rc == 2 ]] || { echo "FAIL: --windows -2 accepted ($rc)"; exit 1; }
# CSV, and failures
: > "$WORK/in/empty.ll"; echo "garbage" > "$WORK/in/bad.ll"
expect_status 3 mpi 2 "$INF" -q --model "$WORK/m.h5" --format csv -o "$WORK/e.csv" "$WORK/in"
"$PY" - "$WORK/e.csv" "$WORK/e1.h5" <<'PY'
import sys, csv, h5py, numpy as np
rows = list(csv.reader(open(sys.argv[1])))
h = h5py.File(sys.argv[2]); names = [n.decode() for n in h["names"][()]]
assert len(rows) == 1 + len(names), (len(rows), len(names))   # the two bad files are not rows
for r in rows[1:]:
    i = names.index(r[0]); assert np.allclose([float(x) for x in r[1:]], h["embeddings"][i], rtol=1e-6, atol=1e-7)
print("csv: PASSED")
PY
set +e; msg=$(mpi 2 "$INF" --model "$WORK/m.h5" -o "$WORK/x.h5" "$WORK/in" 2>&1); rc=$?; set -e
[[ $rc == 3 && $msg == *"bad.ll"* && $msg == *"empty.ll"* ]] || { echo "FAIL: failures not reported ($rc)"; exit 1; }
# a corpus built with its own vocabulary is refused, with the fix in the message
"$PP" -q -o "$WORK/other.h5" "$SRC/tests/data/ir/switch.ll"
set +e; msg=$("$INF" --model "$WORK/m.h5" -o "$WORK/x.h5" "$WORK/other.h5" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"--vocab"* ]] || { echo "FAIL: foreign vocabulary accepted ($rc): $msg"; exit 1; }
# the statistics readout (--readout stats): refused for a model without the head; for one with it, the embedding
# unchanged followed by the head's output at each opcode of the vocabulary, checked against the head applied by
# hand to the embedding with the parameters read from the model file
set +e; msg=$("$INF" --model "$WORK/m.h5" --readout stats -o "$WORK/x.h5" "$WORK/in/loop.ll" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"statistics head"* ]] || { echo "FAIL: --readout stats without a head ($rc): $msg"; exit 1; }
printf 'max_seq = 16\nd_model = 16\nn_heads = 2\nn_layers = 1\nd_ff = 32\nn_graph_layers = 2\nmax_nodes = 32\nstats = 1\n' \
  > "$WORK/stats.cfg"
"$TR" -q --corpus "$WORK/c.h5" --config "$WORK/stats.cfg" --steps 5 --batch 4 --micro-batch 2 -o "$WORK/ms.h5"
GOOD=("$WORK"/in/long.ll "$WORK"/in/loop.ll "$WORK"/in/calls.ll "$WORK"/in/switch.ll "$WORK"/in/vecadd_typed.ll "$WORK"/in/v3.ll)
mpi 2 "$INF" -q --model "$WORK/ms.h5" -o "$WORK/rs0.h5" "${GOOD[@]}"
mpi 2 "$INF" -q --model "$WORK/ms.h5" --readout stats -o "$WORK/rs1.h5" "${GOOD[@]}"
mpi 1 "$INF" -q --model "$WORK/ms.h5" --readout stats -o "$WORK/rs1r.h5" "${GOOD[@]}"
mpi 2 "$INF" -q --model "$WORK/ms.h5" --readout stats-only -o "$WORK/rs2.h5" "${GOOD[@]}"
mpi 2 "$INF" -q --model "$WORK/ms.h5" --readout stats --format csv -o "$WORK/rs1.csv" "${GOOD[@]}"
"$PY" - "$WORK" <<'PY'
import sys, csv, h5py, numpy as np
w = sys.argv[1]
e0, e1, m = h5py.File(f"{w}/rs0.h5"), h5py.File(f"{w}/rs1.h5"), h5py.File(f"{w}/ms.h5")
E0, E1 = e0["embeddings"][()].astype(np.float64), e1["embeddings"][()].astype(np.float64)
C2 = 2 * m.attrs["d_model"]
cols = [c.decode() for c in e1["stat_columns"][()]]
attr = lambda f, k: f.attrs[k].decode() if isinstance(f.attrs[k], bytes) else str(f.attrs[k])
assert attr(e0, "readout") == "embedding" and attr(e1, "readout") == "stats", (e0.attrs["readout"], e1.attrs["readout"])
assert E1.shape == (E0.shape[0], C2 + len(cols)) and e1.attrs["dim"] == E1.shape[1], E1.shape
assert np.array_equal(E0, E1[:, :C2]), "the statistics readout changed the embedding"
assert np.array_equal(E1, h5py.File(f"{w}/rs1r.h5")["embeddings"][()]), "1 and 2 ranks differ"
vocab = [t.decode() for t in m["vocab/token"][()]]
assert len(set(cols)) == len(cols) and {"mul", "add", "ret", "br", "call", "load", "store"} <= set(cols), cols
ids = [vocab.index(c) for c in cols]                       # every column is a word of the vocabulary
W, b = m["params/head/w_stat"][()].astype(np.float64), m["params/head/b_stat"][()].astype(np.float64).reshape(-1)
ref = E0 @ W[:, ids] + b[ids]
err = np.abs(E1[:, C2:] - ref).max()
print(f"statistics readout: {len(cols)} opcodes, max |head by hand - readout| {err:.2e}")
assert err <= 1e-5 * max(1.0, np.abs(ref).max()), err
e2 = h5py.File(f"{w}/rs2.h5")
assert np.array_equal(e2["embeddings"][()], E1[:, C2:]), "stats-only is not the statistics columns of stats"
assert [c.decode() for c in e2["stat_columns"][()]] == cols and e2.attrs["dim"] == len(cols)
assert attr(e2, "readout") == "stats-only"
rows = list(csv.reader(open(f"{w}/rs1.csv")))
assert rows[0][1 + C2:] == [f"stat_{c}" for c in cols] and len(rows[0]) == 1 + E1.shape[1], rows[0][-3:]
print("--readout: PASSED")
PY
echo "infer: PASSED"
