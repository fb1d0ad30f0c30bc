#!/usr/bin/env bash
# The corpus is the same whatever the number of ranks: 1, 2 and 4 ranks over good and bad inputs give
# identical datasets and attributes (creation-time attributes aside).
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/in"
cp "$SRC"/tests/data/ir/*.ll "$WORK/in/"
cp "$WORK/in/loop.ll" "$WORK/in/loop_copy.ll"               # a duplicate
: > "$WORK/in/empty.ll"
head -c 300 "$SRC/tests/data/ir/vecadd_opaque.ll" > "$WORK/in/truncated.ll"
head -c 4096 /dev/urandom > "$WORK/in/random.ll"
# more modules than ranks, of several sizes: variants of the kernel
for k in $(seq 1 12); do
  sed "s/@vecadd/@vecadd$k/; s/fadd float/$( ((k % 2)) && echo fmul || echo fsub) float/" \
    "$SRC/tests/data/ir/vecadd_opaque.ll" > "$WORK/in/var$k.ll"
done
for n in 1 2 4; do
  expect_status 3 mpi "$n" "$PP" --no-progress -o "$WORK/c$n.h5" "$WORK/in" "$WORK/in/missing.ll"
done
"$TOOLS/corpus_check.py" "$WORK/c1.h5" --min-ok 16 --status loop_copy=duplicate --status empty.ll=empty \
  --status truncated=parse_error --status random=parse_error --status missing=read_error \
  --same-tokens vecadd_opaque vecadd_typed --max-unk-rate 0
"$TOOLS/corpus_compare.py" "$WORK/c1.h5" "$WORK/c2.h5"
"$TOOLS/corpus_compare.py" "$WORK/c1.h5" "$WORK/c4.h5"
# a second corpus encoded with the first one's vocabulary has the same vocabulary and token ids
expect_status 0 mpi 2 "$PP" --no-progress --vocab "$WORK/c1.h5" -o "$WORK/v.h5" "$SRC/tests/data/ir"
"$PY" - "$WORK/c1.h5" "$WORK/v.h5" <<'PY'
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
assert np.array_equal(a["vocab/token"][()], b["vocab/token"][()]), "vocabulary not reused"
na = [n.decode().rsplit("/", 1)[-1] for n in a["modules/name"][()]]
nb = [n.decode().rsplit("/", 1)[-1] for n in b["modules/name"][()]]
ta, tb = a["tokens"][()], b["tokens"][()]
oa, ob = a["modules/token_offset"][()], b["modules/token_offset"][()]
for j, n in enumerate(nb):
    i = na.index(n)
    assert np.array_equal(ta[oa[i]:oa[i+1]], tb[ob[j]:ob[j+1]]), n
print("vocabulary reuse: PASSED")
PY
echo "preprocess_ranks: PASSED"
