#!/usr/bin/python3
"""Compare the parameters of two model files: every /params tensor present in both with the same shape,
and the largest absolute difference at most TOL. usage: model_compare.py A B TOL"""
import sys
import h5py
import numpy as np


def tensors(f):
    out = {}
    f["params"].visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out


a, b, tol = sys.argv[1], sys.argv[2], float(sys.argv[3])
with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
    ta, tb = tensors(fa), tensors(fb)
    sa, sb = int(fa["state"].attrs["step"]), int(fb["state"].attrs["step"])
if sorted(ta) != sorted(tb):
    print("tensor names differ"); sys.exit(1)
worst, where = 0.0, ""
for k in ta:
    if ta[k].shape != tb[k].shape:
        print(f"{k}: shapes differ"); sys.exit(1)
    d = float(np.max(np.abs(ta[k].astype(np.float64) - tb[k]))) if ta[k].size else 0.0
    if d > worst:
        worst, where = d, k
ok = worst <= tol and sa == sb
print(f"{a} vs {b}: steps {sa}/{sb}, {len(ta)} tensors, max |difference| {worst:.3g} ({where}), tolerance {tol:g}: "
      + ("PASSED" if ok else "FAILED"))
sys.exit(0 if ok else 1)
