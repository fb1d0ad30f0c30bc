#!/usr/bin/env bash
# Supervised parsing (issue 17): valid modules mixed with modules that kill the parsing process. At 1 and 2
# ranks, mir-preprocess and mir-infer complete with exit status 3, every valid module is processed (and the
# same as with --no-isolation), and each killer is recorded as crashed with a message naming the signal or
# the limit. Killers: two mutated bitcode files found by tests/tools/mutate_ir.py, one that makes LLVM 16's
# reader abort ("LLVM ERROR: out of memory"; seed 1) and one that makes it segfault (seed 2), and the
# worker's test hook (MIR_TEST_CRASH_ON) for a
# SIGSEGV, an abort, the memory limit and the time limit.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?}; INF=${MIR_INFER:?}
export OPENBLAS_NUM_THREADS=1
IN=$WORK/in; GOOD=$WORK/good
mkdir -p "$IN" "$GOOD"
cp "$SRC"/tests/data/ir/*.ll "$GOOD/"
for k in $(seq 1 6); do
  sed "s/@vecadd/@vecadd$k/; s/fadd float/fmul float/" "$SRC/tests/data/ir/vecadd_opaque.ll" > "$GOOD/v$k.ll"
done
llvm-as-16 "$SRC/tests/data/ir/loop.ll" -o "$GOOD/loop_bc.bc"
cp "$GOOD"/* "$IN/"
# bitcode files that crash LLVM 16's reader (a few flipped bits of the tests' own IR, kept in tests/data/crash:
# found by tests/tools/mutate_ir.py when it still assembled from full paths): llvm_oom.bc aborts with "LLVM
# ERROR: out of memory", llvm_segv.bc segfaults; each must still crash llvm-dis-16 and mir-preprocess --no-isolation
cp "$SRC/tests/data/crash/llvm_oom.bc" "$IN/llvm_killer.bc"
cp "$SRC/tests/data/crash/llvm_segv.bc" "$IN/llvm_segv.bc"
for k in llvm_killer llvm_segv; do
  set +e; llvm-dis-16 "$IN/$k.bc" -o /dev/null 2>/dev/null; rc=$?; set -e
  [[ $rc -gt 128 ]] || { echo "FAIL: $k.bc no longer crashes llvm-dis-16 (exit $rc)"; exit 1; }
  set +e; "$PP" -q --no-isolation -o "$WORK/noiso.h5" "$IN/$k.bc" >/dev/null 2>&1; rc=$?; set -e
  [[ $rc -gt 128 ]] || { echo "FAIL: $k.bc does not crash mir-preprocess --no-isolation (exit $rc)"; exit 1; }
done
for k in segv abort oom hang; do
  sed "s/@vecadd/@hook_$k/" "$SRC/tests/data/ir/vecadd_opaque.ll" > "$IN/hook_$k.ll"
done
export MIR_TEST_CRASH_ON=segv:hook_segv,abort:hook_abort,oom:hook_oom,hang:hook_hang
LIMITS=(--worker-memory 512 --module-timeout 2)
mpi() { local n=$1; shift; mpirun --oversubscribe -np "$n" -x MIR_TEST_CRASH_ON -x OPENBLAS_NUM_THREADS "$@"; }

# the reference: the valid modules alone, in-process
"$PP" -q --no-isolation -o "$WORK/ref.h5" "$GOOD"
"$TR" -q --corpus "$WORK/ref.h5" --config tiny --steps 3 --batch 4 --micro-batch 2 -o "$WORK/m.h5"
"$INF" -q --no-isolation --model "$WORK/m.h5" -o "$WORK/eref.h5" "$GOOD"

crash_checks=(--status llvm_killer=crashed --status llvm_segv=crashed --status hook_segv=crashed --status hook_abort=crashed
              --status hook_oom=crashed --status hook_hang=crashed)
for n in 1 2; do
  expect_status 3 mpi "$n" "$PP" -q "${LIMITS[@]}" -o "$WORK/c$n.h5" "$IN"
  ok_checks=()
  for f in "$GOOD"/*; do ok_checks+=(--status "/$(basename "$f")=ok"); done
  "$TOOLS/corpus_check.py" "$WORK/c$n.h5" "${crash_checks[@]}" "${ok_checks[@]}" --min-ok 12
  expect_status 3 mpi "$n" "$INF" -q "${LIMITS[@]}" --model "$WORK/m.h5" -o "$WORK/e$n.h5" "$IN"
done
# with the killers' hook off, the hook modules are valid: the same corpus whatever the isolation
MIR_TEST_CRASH_ON= expect_status 0 mpi 2 "$PP" -q -o "$WORK/iso_good.h5" "$GOOD"
"$TOOLS/corpus_compare.py" "$WORK/ref.h5" "$WORK/iso_good.h5"

"$PY" - "$WORK" <<'PY'
import os, sys, h5py, numpy as np
w = sys.argv[1]
inputs = sorted(os.listdir(f"{w}/in"))
base = lambda n: n.decode().rsplit("/", 1)[-1]
want = {"hook_segv": "signal 11 (SIGSEGV)", "hook_abort": "signal 6 (SIGABRT)",
        "hook_oom": "limit of 512 MiB (--worker-memory)", "hook_hang": "time limit of 2 s (--module-timeout)",
        "llvm_killer": "LLVM ERROR: out of memory", "llvm_segv": "signal 11 (SIGSEGV)"}
def check_messages(names, status, errors, what):
    # the worker is pipelined (a killer is in the child while the next module waits): every module is
    # recorded once, in the inputs' order, whatever the crashes around it
    assert [base(n) for n in names] == inputs, (what, [base(n) for n in names])
    for n, s, e in zip(names, status, errors):
        b, e = base(n), e.decode()
        key = b.split(".")[0]
        if key in want:
            assert s == 8 and want[key] in e and "crashed" in e and b in e, (what, b, s, e)
        else:
            assert s == 0 and e == "", (what, b, s, e)
ref = h5py.File(f"{w}/eref.h5")
R = {base(n): v for n, v in zip(ref["names"][()], ref["embeddings"][()])}
for n in (1, 2):
    c = h5py.File(f"{w}/c{n}.h5")
    check_messages(c["modules/name"][()], c["modules/status"][()], c["modules/error"][()], f"corpus {n}")
    e = h5py.File(f"{w}/e{n}.h5")
    check_messages(e["names"][()], e["status"][()], e["error"][()], f"embeddings {n}")
    got = {base(k): v for k, v in zip(e["names"][()], e["embeddings"][()])}
    for k, v in R.items():
        assert np.array_equal(got[k], v), f"{k}: isolated embedding differs from in-process at {n} ranks"
print(f"worker_crash: {len(R)} valid modules identical to in-process, 6 killers recorded as crashed")
PY
echo "worker_crash: PASSED"
