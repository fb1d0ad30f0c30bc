#!/usr/bin/env bash
# Inputs that fuzz_ingest found to break our code (tests/fuzz/README.md), kept in tests/data/fuzz/: each goes
# through mir-preprocess at 2 ranks, in the worker and with --no-isolation, and the corpus must pass every
# structural check (edge ends inside their module's nodes, ...) with each module processed.
#   empty_entry_block.bc: @f's only block has no instruction (bitcode the reader accepts, text IR cannot
#     say); @g calls @f. The graph had edges root -> @f's entry and call -> @f's entry to node -1.
#   nul_in_triple.ll: loop.ll under a target triple holding NUL bytes. The C API's print of the module ends at
#     the first NUL, so the whole-module walk found no definition and the module came out ok with 0 tokens;
#     its statements must be those of loop.ll (the definitions the print misses are printed one at a time).
#   newline_in_triple.ll: loop.ll under a target triple that spans lines, one of which reads as a definition of
#     @sum. The whole-module walk took it for @sum and failed the module (extract_error: 2 printed statements but
#     6 instructions); its tokens must be those of loop.ll (such a module is printed one function at a time).
source "$(dirname "$0")/common.sh"
IN=$WORK/in
mkdir -p "$IN"
cp "$SRC"/tests/data/fuzz/* "$SRC/tests/data/ir/loop.ll" "$IN/"
for iso in "" --no-isolation; do
  mpi 2 "$PP" --no-progress $iso -o "$WORK/c$iso.h5" "$IN"
  "$TOOLS/corpus_check.py" "$WORK/c$iso.h5" --status empty_entry_block.bc=ok --status loop.ll=ok --min-ok 2
  "$PY" - "$WORK/c$iso.h5" <<'PY'
import h5py, sys
f = h5py.File(sys.argv[1], "r")
names = [n.decode() if isinstance(n, bytes) else n for n in f["modules/name"][:]]
off = f["modules/token_offset"][:]
tok = {n.rsplit("/", 1)[-1]: off[i + 1] - off[i] for i, n in enumerate(names)}
assert tok["nul_in_triple.ll"] > 0 and tok["nul_in_triple.ll"] == tok["loop.ll"], tok
print("nul_in_triple.ll:", tok["nul_in_triple.ll"], "tokens, as loop.ll")
t = f["tokens"][:]
span = {n.rsplit("/", 1)[-1]: t[off[i]:off[i + 1]].tolist() for i, n in enumerate(names)}
assert span["newline_in_triple.ll"] == span["loop.ll"] and span["loop.ll"], (span["newline_in_triple.ll"], span["loop.ll"])
print("newline_in_triple.ll:", len(span["loop.ll"]), "tokens, those of loop.ll")
PY
done
