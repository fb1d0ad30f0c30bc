#!/usr/bin/python3
"""Compare two corpora: every dataset identical (values, dtype, shape) and every root attribute equal
except the creation-time ones (created_*). Exit 0 when they match, 1 with the differences listed."""
import sys
import h5py
import numpy as np


def datasets(f):
    out = {}
    f.visititems(lambda name, obj: out.__setitem__(name, obj) if isinstance(obj, h5py.Dataset) else None)
    return out


def main(a_path, b_path):
    bad = []
    with h5py.File(a_path, "r") as a, h5py.File(b_path, "r") as b:
        da, db = datasets(a), datasets(b)
        if sorted(da) != sorted(db):
            bad.append(f"dataset names differ: {sorted(set(da) ^ set(db))}")
        for name in sorted(set(da) & set(db)):
            x, y = da[name][()], db[name][()]
            if da[name].dtype != db[name].dtype or x.shape != y.shape or not np.array_equal(x, y):
                bad.append(f"{name}: differs ({da[name].dtype}{x.shape} vs {db[name].dtype}{y.shape})")
        ka = {k for k in a.attrs if not k.startswith("created_")}
        kb = {k for k in b.attrs if not k.startswith("created_")}
        if ka != kb:
            bad.append(f"attribute names differ: {sorted(ka ^ kb)}")
        for k in sorted(ka & kb):
            if not np.array_equal(np.asarray(a.attrs[k]), np.asarray(b.attrs[k])):
                bad.append(f"attribute {k}: {a.attrs[k]!r} vs {b.attrs[k]!r}")
    for line in bad:
        print(f"{a_path} vs {b_path}: {line}")
    if not bad:
        print(f"{a_path} == {b_path} ({len(da)} datasets)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
