#!/usr/bin/env bash
# --compile --opt-levels 0,2: every source becomes PATH@O0 and PATH@O2, next to each other, sharing
# /modules/source and differing in content; an identical copy of a source is still a duplicate, level by
# level; IR inputs stay one module with their own source; the corpus is the same at 1 and 2 ranks; the
# reader (mir_corpus_open) gives /modules/source, or source[i] = i for a corpus without it.
source "$(dirname "$0")/common.sh"
READER=${MIR_TEST_CORPUS_SOURCE:?set by CTest}
mkdir -p "$WORK/in"
cp "$SRC"/tests/data/pairs/*.c "$WORK/in/"
cp "$SRC"/tests/data/ir/loop.ll "$SRC"/tests/data/ir/calls.ll "$WORK/in/"
for n in 1 2; do
  expect_status 0 mpi "$n" "$PP" --no-progress --compile --opt-levels 0,2 -o "$WORK/p$n.h5" "$WORK/in"
done
"$TOOLS/corpus_compare.py" "$WORK/p1.h5" "$WORK/p2.h5"
"$READER" "$WORK/p1.h5" > "$WORK/p1.source"
"$PY" - "$WORK/p1.h5" "$WORK/p1.source" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1])
names = [n.decode().rsplit("/", 1)[-1] for n in f["modules/name"][()]]
assert names == ["calls.ll", "dot.c@O0", "dot.c@O2", "dot_copy.c@O0", "dot_copy.c@O2", "fib.c@O0", "fib.c@O2",
                 "loop.ll"], names
at = {n: i for i, n in enumerate(names)}
src, status, dup = f["modules/source"][()], f["modules/status"][()], f["modules/duplicate_of"][()]
h, off = f["modules/hash"][()], f["modules/token_offset"][()]
assert f["modules/source"].dtype == np.int64 and len(src) == len(names), f["modules/source"]
assert f.attrs["format_version"] == 1
ntok = lambda n: off[at[n] + 1] - off[at[n]]
for s in ("dot.c", "dot_copy.c", "fib.c"):
    o0, o2 = at[s + "@O0"], at[s + "@O2"]
    assert src[o0] == src[o2] == o0, (s, src)
for s in ("dot.c", "fib.c"):
    o0, o2 = at[s + "@O0"], at[s + "@O2"]
    assert status[o0] == status[o2] == 0, (s, status)
    assert h[o0] != h[o2], (s, "the levels of one source must not share a hash")
    assert ntok(s + "@O0") != ntok(s + "@O2"), (s, ntok(s + "@O0"), ntok(s + "@O2"))
# the identical copy: a duplicate of the same level of the original
for l in ("@O0", "@O2"):
    c = at["dot_copy.c" + l]
    assert status[c] == 6 and dup[c] == at["dot.c" + l] and h[c] == h[at["dot.c" + l]], (l, status, dup)
for s in ("calls.ll", "loop.ll"):
    assert src[at[s]] == at[s] and status[at[s]] == 0, (s, src, status)
read = [int(line.split("\t")[1]) for line in open(sys.argv[2])]
assert read == list(src), ("mir_corpus_open", read, list(src))
print("opt-levels pairs: PASSED")
PY
# one level (the default): names and sources as before --opt-levels; the reader fills source[i] = i when
# the dataset is missing (a corpus written before it existed)
expect_status 0 mpi 2 "$PP" --no-progress --compile -o "$WORK/one.h5" "$WORK/in"
expect_status 0 "$PP" --no-progress --compile --opt-levels 2 -o "$WORK/two.h5" "$WORK/in"
"$PY" - "$WORK/one.h5" "$WORK/two.h5" <<'PY'
import sys, h5py, numpy as np
for path in sys.argv[1:]:
    with h5py.File(path, "a") as f:
        names = [n.decode().rsplit("/", 1)[-1] for n in f["modules/name"][()]]
        assert names == ["calls.ll", "dot.c", "dot_copy.c", "fib.c", "loop.ll"], names
        assert list(f["modules/source"][()]) == list(range(5)), f["modules/source"][()]
        assert f["modules/status"][2] == 6 and f["modules/duplicate_of"][2] == 1
        if path == sys.argv[1]:
            del f["modules/source"]
one, two = h5py.File(sys.argv[1]), h5py.File(sys.argv[2])
assert "-O2" in two.attrs["options"].decode() or "opt=O2" in two.attrs["options"].decode(), two.attrs["options"]
print("one level: PASSED")
PY
"$READER" "$WORK/one.h5" > "$WORK/one.source"
printf '%s\t%s\n' 0 0 1 1 2 2 3 3 4 4 | diff - "$WORK/one.source"
# bad lists are usage errors
expect_status 2 "$PP" --no-progress --compile --opt-levels 0,4 -o "$WORK/bad.h5" "$WORK/in"
expect_status 2 "$PP" --no-progress --compile --opt-levels 0,0 -o "$WORK/bad.h5" "$WORK/in"
expect_status 2 "$PP" --no-progress --opt-levels 0,2 -o "$WORK/bad.h5" "$WORK/in"
echo "opt_levels: PASSED"
