#!/usr/bin/env bash
# mir-preprocess --statement-sep (the input of a statement-level model, mir_config.statements = 1): the corpus
# is the same at 1 and 2 ranks and with or without the worker (--no-isolation); it carries statement_sep = 1;
# each module has one [SEP] (id 3) per statement, counted independently from its graph (instruction nodes,
# plus one define header per defined function) and from its IR text (define lines); without the [SEP]s its
# tokens are exactly those of the default corpus, whose vocabulary is the same; the default corpus has no
# [SEP] and no attribute. mir-train and mir-infer refuse a configuration that does not match the corpus.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?set by CTest}; INF=${MIR_INFER:?set by CTest}
mkdir -p "$WORK/in"
cp "$SRC"/tests/data/ir/*.ll "$WORK/in/"
for k in $(seq 1 6); do
  sed "s/@vecadd/@vecadd$k/; s/fadd float/fmul float/" "$SRC/tests/data/ir/vecadd_opaque.ll" > "$WORK/in/v$k.ll"
  sed "s/add i32 %i, 1/add i32 %i, $((k + 1))/; s/@sum/@sum$k/" "$SRC/tests/data/ir/loop.ll" > "$WORK/in/loop$k.ll"
done
"$PP" -q -o "$WORK/d.h5" "$WORK/in"
mpi 1 "$PP" -q --statement-sep -o "$WORK/s1.h5" "$WORK/in"
mpi 2 "$PP" -q --statement-sep -o "$WORK/s2.h5" "$WORK/in"
mpi 2 "$PP" -q --statement-sep --no-isolation -o "$WORK/s2n.h5" "$WORK/in"
"$TOOLS/corpus_compare.py" "$WORK/s1.h5" "$WORK/s2.h5"
"$TOOLS/corpus_compare.py" "$WORK/s1.h5" "$WORK/s2n.h5"
# with the default corpus's vocabulary: the same corpus
mpi 2 "$PP" -q --statement-sep --vocab "$WORK/d.h5" -o "$WORK/sv.h5" "$WORK/in"
"$PY" - "$WORK" <<'PY'
import re, sys, h5py, numpy as np
w = sys.argv[1]
d, s, sv = h5py.File(f"{w}/d.h5"), h5py.File(f"{w}/s1.h5"), h5py.File(f"{w}/sv.h5")
SEP = 3
assert s["vocab/token"][SEP] == b"[SEP]"
assert "statement_sep" not in d.attrs, "default corpus has statement_sep"
assert int(s.attrs["statement_sep"]) == 1 and int(sv.attrs["statement_sep"]) == 1
assert b"statement_sep=1" in s.attrs["options"] and b"statement_sep" not in d.attrs["options"]
assert np.array_equal(d["vocab/token"][()], s["vocab/token"][()]), "--statement-sep changed the vocabulary"
assert np.array_equal(s["tokens"][()], sv["tokens"][()]), "--vocab of the default corpus gives other tokens"
assert not (d["tokens"][()] == SEP).any(), "default corpus holds [SEP]"
names = [n.decode() for n in s["modules/name"][()]]
assert names == [n.decode() for n in d["modules/name"][()]]
for g in ("graph/node_kind", "graph/node_text", "graph/edge_src", "modules/node_offset", "modules/status"):
    assert np.array_equal(d[g][()], s[g][()]), g
dt, st = d["tokens"][()], s["tokens"][()]
do, so, no = d["modules/token_offset"][()], s["modules/token_offset"][()], s["modules/node_offset"][()]
kind, fn = s["graph/node_kind"][()], s["graph/node_function"][()]
total = 0
for i, name in enumerate(names):
    a, b = dt[do[i]:do[i + 1]], st[so[i]:so[i + 1]]
    assert np.array_equal(b[b != SEP], a), f"{name}: tokens without [SEP] differ from the default corpus"
    k, f = kind[no[i]:no[i + 1]], fn[no[i]:no[i + 1]]
    inst = k[1:] == 0                                   # instruction nodes, the root (node 0) aside
    n_fn = len(set(f[1:][inst].tolist()))               # defined functions: every one has instructions
    text = open(name, errors="replace").read()
    n_def = len(re.findall(r"^define ", text, re.M))
    n_sep = int((b == SEP).sum())
    assert n_fn == n_def, f"{name}: {n_fn} functions in the graph, {n_def} define lines"
    assert n_sep == int(inst.sum()) + n_fn, f"{name}: {n_sep} [SEP], {int(inst.sum())} instructions + {n_fn} headers"
    assert len(b) == 0 or b[-1] == SEP, f"{name}: last token is not [SEP]"
    total += n_sep
assert total == int(s.attrs["n_tokens"]) - int(d.attrs["n_tokens"])
print(f"statement_sep: {len(names)} modules, {total} statements, one [SEP] each: PASSED")
PY

# refusals: the [SEP]s would be words to a token-level model; a statement-level model needs them
err() { # err SUBSTRING cmd...: exit status 1 and SUBSTRING in the output
  local want=$1; shift
  set +e; local msg; msg=$("$@" 2>&1); local rc=$?; set -e
  if [[ $rc != 1 || $msg != *"$want"* ]]; then echo "FAIL: want exit 1 and \"$want\", got $rc: $msg"; exit 1; fi
  echo "refused as expected: $msg"
}
err "statements = 0, which would read its [SEP] tokens as words" \
  "$TR" -q --corpus "$WORK/s1.h5" --config tiny --steps 2 --batch 4 --micro-batch 2 -o "$WORK/x.h5"
printf 'max_seq = 16\nd_model = 16\nn_heads = 2\nn_layers = 1\nd_ff = 32\nn_graph_layers = 1\nmax_nodes = 64\nstatements = 1\n' \
  > "$WORK/stmt.cfg"
set +e; msg=$("$TR" -q --corpus "$WORK/d.h5" --config "$WORK/stmt.cfg" --steps 2 --batch 4 --micro-batch 2 \
  -o "$WORK/y.h5" 2>&1); rc=$?; set -e

if [[ $rc != 1 || $msg != *"no statement boundaries"* ]]; then
  echo "FAIL: statements = 1 on a corpus without --statement-sep: exit $rc: $msg"; exit 1
else
  echo "refused as expected: $msg"
fi
  # a statement-level model end to end: a module longer than one window (16 statements), embedded from IR files
  # (extraction with [SEP], statement windows) and from a corpus made with the model's vocabulary and
  # --statement-sep give the same vectors, reading every window and reading one (--fast: the first 16 statements,
  # a statement-limited extraction from files); the model refuses the corpus without [SEP]
  "$PY" - "$WORK/in/long.ll" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("define i32 @long(i32 %x0) {\n")
    for i in range(1, 60):
        f.write(f"  %x{i} = mul i32 %x{i-1}, {i % 13 + 2}\n")
    f.write("  ret i32 %x59\n}\n")
PY
  mpi 1 "$PP" -q --statement-sep -o "$WORK/sl.h5" "$WORK/in"
  "$TR" -q --corpus "$WORK/sl.h5" --config "$WORK/stmt.cfg" --steps 3 --batch 4 --micro-batch 2 -o "$WORK/ms.h5"
  mpi 1 "$PP" -q --statement-sep --vocab "$WORK/ms.h5" -o "$WORK/cs.h5" "$WORK/in"
  for mode in all fast; do
    fl=(); [[ $mode == fast ]] && fl=(--fast)
    mpi 2 "$INF" -q "${fl[@]}" --model "$WORK/ms.h5" -o "$WORK/ef-$mode.h5" "$WORK/in"
    mpi 2 "$INF" -q "${fl[@]}" --model "$WORK/ms.h5" -o "$WORK/ec-$mode.h5" "$WORK/cs.h5"
  done
  "$PY" - "$WORK" <<'PY'
import sys, h5py, numpy as np
w = sys.argv[1]
for mode in ("all", "fast"):
    f, c = h5py.File(f"{w}/ef-{mode}.h5"), h5py.File(f"{w}/ec-{mode}.h5")
    assert int(f.attrs["statements"]) == 1 and int(c.attrs["statements"]) == 1
    assert np.array_equal(f["names"][()], c["names"][()])
    E, F = f["embeddings"][()], c["embeddings"][()]
    assert np.isfinite(E).all() and (np.abs(E).sum(axis=1) > 0).all(), mode
    d = np.abs(E - F).max()
    print(f"statement-level model, {mode} windows: files vs corpus max |difference| {d:.3g}")
    assert d == 0.0, (mode, d)
names = [n.decode() for n in h5py.File(f"{w}/ef-all.h5")["names"][()]]
i = [k for k, n in enumerate(names) if n.endswith("long.ll")][0]
C = int(h5py.File(f"{w}/ef-all.h5").attrs["d_model"])
a, b = h5py.File(f"{w}/ef-all.h5")["embeddings"][i][:C], h5py.File(f"{w}/ef-fast.h5")["embeddings"][i][:C]
assert np.abs(a - b).max() > 0, "a module of 61 statements read whole and by its first 16 gave one token half"
PY
  "$PP" -q --vocab "$WORK/ms.h5" -o "$WORK/dv.h5" "$WORK/in"
  err "no statement boundaries" "$INF" -q --model "$WORK/ms.h5" -o "$WORK/e.h5" "$WORK/dv.h5"
# mir-infer on a corpus: a token-level model refuses a corpus with [SEP]
"$TR" -q --corpus "$WORK/d.h5" --config tiny --steps 2 --batch 4 --micro-batch 2 -o "$WORK/m.h5"
err "statements = 0, which would read its [SEP] tokens as words" "$INF" -q --model "$WORK/m.h5" -o "$WORK/e.h5" "$WORK/sv.h5"
"$INF" -q --model "$WORK/m.h5" -o "$WORK/e.h5" "$WORK/d.h5"
echo "statement_sep: PASSED"
