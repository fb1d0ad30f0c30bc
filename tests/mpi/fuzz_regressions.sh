#!/usr/bin/env bash
# Inputs that fuzz_ingest found to break our code (tests/fuzz/README.md), kept in tests/data/fuzz/: each goes
# through mir-preprocess at 2 ranks, in the worker and with --no-isolation, and the corpus must pass every
# structural check (edge ends inside their module's nodes, ...) with each module processed.
#   empty_entry_block.bc: @f's only block has no instruction (bitcode the reader accepts, text IR cannot
#     say); @g calls @f. The graph had edges root -> @f's entry and call -> @f's entry to node -1.
#   nul_in_triple.ll: loop.ll under a target triple holding NUL bytes. The C API's print of the module ends at
#     the first NUL, so the whole-module walk found no definition and the module came out ok with 0 tokens;
#     its statements must be those of loop.ll (the definitions the print misses are printed one at a time).
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
PY
done
