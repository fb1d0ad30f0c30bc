#!/usr/bin/python3
"""Are two HDF5 files the same content? Walks both files and compares every group's members, every
dataset's dtype, shape and bytes, and every attribute (of the root, groups and datasets: dtype, shape and
bytes), in sorted order; reports the first difference by name. The files' own bytes are not compared: HDF5
lays out the same content differently from run to run.
usage: h5_identical.py A B [--ignore-attr GLOB]...   (GLOB matches an attribute's name, e.g. 'created_*')
Exit 0 when identical, 1 with the first difference. identical(A, B, ignore) does the same from Python."""
import argparse
import fnmatch
import sys
import h5py
import numpy as np


class Differ(Exception):
    pass


def value_bytes(v, dtype):
    """The content of an array or scalar as bytes; variable-length strings element by element."""
    a = np.asarray(v)
    if a.dtype == object or h5py.check_vlen_dtype(dtype) is not None:
        return repr([x.tobytes() if isinstance(x, np.ndarray) else x for x in a.ravel().tolist()]).encode()
    return a.tobytes()


def first_element(x, y):
    """Index and values of the first element where two same-shaped arrays differ (bitwise)."""
    a, b = np.asarray(x).ravel(), np.asarray(y).ravel()
    for i in range(a.size):
        if value_bytes(a[i:i + 1], a.dtype) != value_bytes(b[i:i + 1], b.dtype):
            idx = np.unravel_index(i, np.shape(x)) if np.ndim(x) else ()
            return f"first at {tuple(int(k) for k in idx)}: {a[i]!r} vs {b[i]!r}"
    return ""


def compare_value(name, x, y, dx, dy):
    if dx != dy:
        raise Differ(f"{name}: dtype {dx} vs {dy}")
    if isinstance(x, h5py.Empty) or isinstance(y, h5py.Empty):
        if not (isinstance(x, h5py.Empty) and isinstance(y, h5py.Empty)):
            raise Differ(f"{name}: empty in one file only")
        return
    sx, sy = np.shape(x), np.shape(y)
    if sx != sy:
        raise Differ(f"{name}: shape {sx} vs {sy}")
    if value_bytes(x, dx) != value_bytes(y, dy):
        raise Differ(f"{name}: values differ, {first_element(x, y)}")


def compare_attrs(name, a, b, ignore, counts):
    keep = lambda k: not any(fnmatch.fnmatchcase(k, g) for g in ignore)
    ka, kb = sorted(filter(keep, a.attrs)), sorted(filter(keep, b.attrs))
    if ka != kb:
        raise Differ(f"{name}: attributes differ: only in A {sorted(set(ka) - set(kb))}, "
                     f"only in B {sorted(set(kb) - set(ka))}")
    for k in ka:
        compare_value(f"{name} attribute {k}", a.attrs[k], b.attrs[k], a.attrs.get_id(k).dtype,
                      b.attrs.get_id(k).dtype)
        counts["attributes"] += 1


def compare(name, a, b, ignore, counts):
    compare_attrs(name, a, b, ignore, counts)
    if isinstance(a, h5py.Dataset):
        if not isinstance(b, h5py.Dataset):
            raise Differ(f"{name}: a dataset in A, not in B")
        if a.shape != b.shape:   # before reading: a shape difference is reported as such
            raise Differ(f"{name}: shape {a.shape} vs {b.shape}")
        compare_value(name, a[()], b[()], a.dtype, b.dtype)
        counts["datasets"] += 1
        return
    if not isinstance(b, h5py.Group):
        raise Differ(f"{name}: a group in A, not in B")
    ma, mb = sorted(a), sorted(b)
    if ma != mb:
        raise Differ(f"{name}: members differ: only in A {sorted(set(ma) - set(mb))}, "
                     f"only in B {sorted(set(mb) - set(ma))}")
    for m in ma:
        la, lb = a.get(m, getlink=True), b.get(m, getlink=True)
        if type(la) is not type(lb):
            raise Differ(f"{name.rstrip('/')}/{m}: link kinds {type(la).__name__} vs {type(lb).__name__}")
        if isinstance(la, h5py.SoftLink):
            if la.path != lb.path:
                raise Differ(f"{name.rstrip('/')}/{m}: soft link to {la.path} vs {lb.path}")
            continue
        compare(f"{name.rstrip('/')}/{m}", a[m], b[m], ignore, counts)


def identical(a_path, b_path, ignore=()):
    """None when the two files hold the same content, else the first difference (a line naming it)."""
    counts = {"datasets": 0, "attributes": 0}
    try:
        with h5py.File(a_path, "r") as fa, h5py.File(b_path, "r") as fb:
            compare("/", fa, fb, list(ignore), counts)
    except Differ as e:
        return f"{a_path} vs {b_path}: DIFFER: {e}", counts
    return None, counts


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--ignore-attr", action="append", default=[], metavar="GLOB")
    o = p.parse_args()
    diff, counts = identical(o.a, o.b, o.ignore_attr)
    if diff:
        print(diff)
        return 1
    skipped = f", attributes {' '.join(o.ignore_attr)} not compared" if o.ignore_attr else ""
    print(f"{o.a} == {o.b}: {counts['datasets']} datasets, {counts['attributes']} attributes identical{skipped}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
