#!/usr/bin/env bash
# Model files are checked on load (issue 17): copies of a small model edited with h5py (an attribute over
# its limit, a NaN, an infinity, a missing tensor, a tensor of the wrong shape, a vocabulary shorter than
# vocab_size) are refused by mir-infer with exit status 1 and a message naming the file and the attribute
# or tensor: never an abort, a huge allocation, or NaN embeddings with exit status 0.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?}; INF=${MIR_INFER:?}
export OPENBLAS_NUM_THREADS=1
"$PP" -q -o "$WORK/c.h5" "$SRC"/tests/data/ir
"$TR" -q --corpus "$WORK/c.h5" --config tiny --steps 2 --batch 4 --micro-batch 2 -o "$WORK/m.h5"
"$INF" -q --model "$WORK/m.h5" -o "$WORK/e.h5" "$SRC/tests/data/ir/loop.ll"   # the original loads
"$PY" - "$WORK" <<'PY'
import sys, shutil, h5py, numpy as np
w = sys.argv[1]
def edit(name, fn):
    shutil.copy(f"{w}/m.h5", f"{w}/{name}.h5")
    with h5py.File(f"{w}/{name}.h5", "r+") as f:
        fn(f)
def setattr_(k, v): return lambda f: f.attrs.modify(k, np.int64(v))
def poke(t, val):
    def fn(f):
        a = f[t][()]; a[0, 1] = val; f[t][...] = a
    return fn
def drop(t): return lambda f: f.__delitem__(t)
def reshape(t):
    def fn(f):
        a = f[t][()]; del f[t]; f[t] = a[:-1]
    return fn
def short_vocab(f):
    tok = f["vocab/token"][()]; cnt = f["vocab/count"][()]
    del f["vocab/token"]; del f["vocab/count"]
    f["vocab/token"] = tok[:-1]; f["vocab/count"] = cnt[:-1]
edit("d_model", setattr_("d_model", 1000000))
edit("d_model_huge", setattr_("d_model", 1 << 40))
edit("n_layers", setattr_("n_layers", 100000))
edit("nan", poke("params/tok/wte", np.nan))
edit("inf", poke("params/graph/wkind", np.inf))
edit("missing", drop("params/tok/h0/w_qkv"))
edit("shape", reshape("params/tok/wpe"))
edit("vocab", short_vocab)
PY
check() { # check NAME WORDS...: mir-infer exits 1 and its message names the file and each word
  local name=$1; shift
  set +e; msg=$(mpi "${NP:-1}" "$INF" -q --model "$WORK/$name.h5" -o "$WORK/x.h5" "$SRC/tests/data/ir/loop.ll" 2>&1); rc=$?; set -e
  [[ $rc == 1 ]] || { echo "FAIL: $name: exit status $rc (want 1): $msg"; exit 1; }
  for word in "$WORK/$name.h5" "$@"; do
    [[ $msg == *"$word"* ]] || { echo "FAIL: $name: message lacks '$word': $msg"; exit 1; }
  done
  echo "$name: refused: $(grep -m1 -o "$WORK/$name.h5.*" <<< "$msg")"
}
check d_model "d_model = 1000000" MIR_MODEL_MAX_D_MODEL
check d_model_huge "d_model = 1099511627776"
check n_layers n_layers MIR_MODEL_MAX_LAYERS
check nan "tensor /params/tok/wte" NaN
check inf "tensor /params/graph/wkind" infinity
check missing "tensor /params/tok/h0/w_qkv missing"
check shape "tensor /params/tok/wpe"
check vocab "/vocab/token" vocab_size
NP=2 check nan "tensor /params/tok/wte"
echo "model_check: PASSED"
