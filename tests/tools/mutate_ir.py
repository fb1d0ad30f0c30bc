#!/usr/bin/env python3
"""Deterministic mutants of LLVM IR for the robustness tests (issue 17).

usage: mutate_ir.py --seed S --count N --out DIR FILE.ll...

Each input is assembled to bitcode with llvm-as-16; N mutants are written, alternately .bc (from the
bitcode) and .ll (from the text), each made by one of: bit flips (1-8), a byte run overwritten with random
bytes, a truncation, a splice (the head of one input joined to the tail of another), a duplicated chunk.
The same seed gives the same files, byte for byte (numpy's PCG64). Prints one line per file: name, kind.
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np


def mutate(rng, data, other):
    d = bytearray(data)
    kind = ("flip", "overwrite", "truncate", "splice", "duplicate")[rng.integers(5)]
    n = len(d)
    if kind == "flip":
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(n))
            d[i] ^= 1 << int(rng.integers(8))
    elif kind == "overwrite":
        i = int(rng.integers(n))
        k = int(rng.integers(1, 17))
        d[i:i + k] = rng.integers(0, 256, size=min(k, n - i), dtype=np.uint8).tobytes()
    elif kind == "truncate":
        d = d[:int(rng.integers(1, n))]
    elif kind == "splice":
        d = d[:int(rng.integers(1, n))] + bytearray(other[int(rng.integers(len(other))):])
    else:
        i, k = int(rng.integers(n)), int(rng.integers(1, 65))
        d = d[:i + k] + d[i:i + k] + d[i + k:]
    return bytes(d), kind


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--llvm-as", default="llvm-as-16")
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    texts, bcs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for p in sorted(a.inputs):
            texts.append(open(p, "rb").read())
            bc = os.path.join(tmp, "x.bc")
            # from the file's own folder, so the module identifier (and so the bitcode) is the file's name,
            # not its path: the same mutants from any checkout
            subprocess.run([a.llvm_as, os.path.basename(p), "-o", bc], check=True, cwd=os.path.dirname(p) or ".")
            bcs.append(open(bc, "rb").read())
    rng = np.random.Generator(np.random.PCG64(a.seed))
    for k in range(a.count):
        pool, ext = (bcs, "bc") if k % 2 == 0 else (texts, "ll")
        i, j = int(rng.integers(len(pool))), int(rng.integers(len(pool)))
        data, kind = mutate(rng, pool[i], pool[j])
        name = f"m{a.seed}_{k:04d}.{ext}"
        with open(os.path.join(a.out, name), "wb") as f:
            f.write(data)
        print(name, kind)


if __name__ == "__main__":
    main()
