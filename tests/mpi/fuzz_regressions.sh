#!/usr/bin/env bash
# Inputs that fuzz_ingest found to break our code (tests/fuzz/README.md), kept in tests/data/fuzz/: each goes
# through mir-preprocess at 2 ranks, in the worker and with --no-isolation, and the corpus must pass every
# structural check (edge ends inside their module's nodes, ...) with each module processed.
#   empty_entry_block.bc: @f's only block has no instruction (bitcode the reader accepts, text IR cannot
#     say); @g calls @f. The graph had edges root -> @f's entry and call -> @f's entry to node -1.
source "$(dirname "$0")/common.sh"
IN=$WORK/in
mkdir -p "$IN"
cp "$SRC"/tests/data/fuzz/* "$SRC/tests/data/ir/loop.ll" "$IN/"
for iso in "" --no-isolation; do
  mpi 2 "$PP" --no-progress $iso -o "$WORK/c$iso.h5" "$IN"
  "$TOOLS/corpus_check.py" "$WORK/c$iso.h5" --status empty_entry_block.bc=ok --status loop.ll=ok --min-ok 2
done
