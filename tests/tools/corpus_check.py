#!/usr/bin/python3
"""Check a corpus with h5py alone: structural invariants every corpus must hold, then optional expectations.

usage: corpus_check.py CORPUS [--status NAME_SUBSTRING=STATUS ...] [--same-tokens A B] [--min-ok N]
                              [--max-unk-rate R] [--word-in-vocab W ...]
"""
import sys
import h5py
import numpy as np

STATUS = {"ok": 0, "read_error": 1, "empty": 2, "parse_error": 3, "compile_error": 4, "too_large": 5,
          "duplicate": 6, "extract_error": 7, "crashed": 8}


def fail(msg):
    print("corpus_check: FAIL:", msg)
    sys.exit(1)


def main(argv):
    path = argv[0]
    f = h5py.File(path, "r")
    names = [n.decode() for n in f["modules/name"][()]]
    errors = [e.decode() for e in f["modules/error"][()]]
    status = f["modules/status"][()]
    dup = f["modules/duplicate_of"][()]
    M = len(names)
    for i in range(M):
        if (status[i] == 6) != (dup[i] >= 0) or dup[i] >= i or (dup[i] >= 0 and f["modules/hash"][dup[i]] != f["modules/hash"][i]):
            fail(f"{names[i]}: duplicate_of {dup[i]} inconsistent with status {status[i]}")
    fmt = f.attrs["format"]
    if (fmt.decode() if isinstance(fmt, bytes) else fmt) != "mir-corpus":
        fail("format attribute")
    for key in ("tool_version", "llvm_version", "options", "n_modules", "vocab_size", "unk_rate"):
        if key not in f.attrs:
            fail(f"attribute {key} missing")
    if int(f.attrs["n_modules"]) != M:
        fail("n_modules attribute")
    vocab = [t.decode() for t in f["vocab/token"][()]]
    V = len(vocab)
    if vocab[:5] != ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]:
        fail(f"special tokens: {vocab[:5]}")
    tok = f["tokens"][()]
    to, no, eo = (f[f"modules/{k}_offset"][()] for k in ("token", "node", "edge"))
    for o, total, what in ((to, len(tok), "token"), (no, len(f["graph/node_kind"]), "node"),
                           (eo, len(f["graph/edge_src"]), "edge")):
        if len(o) != M + 1 or o[0] != 0 or o[-1] != total or np.any(np.diff(o) < 0):
            fail(f"{what}_offset not a prefix sum of length M+1")
    if len(tok) and (tok.min() < 0 or tok.max() >= V):
        fail("token id out of the vocabulary")
    src, dst = f["graph/edge_src"][()], f["graph/edge_dst"][()]
    flow, kind = f["graph/edge_flow"][()], f["graph/node_kind"][()]
    text = f["graph/node_text"][()]
    if len(text) and (text.min() < 0 or text.max() >= V):
        fail("node text id out of the vocabulary")
    if len(flow) and (flow.min() < 0 or flow.max() > 2) or len(kind) and (kind.min() < 0 or kind.max() > 2):
        fail("edge flow / node kind out of range")
    for i in range(M):
        nn = no[i + 1] - no[i]
        s, d = src[eo[i]:eo[i + 1]], dst[eo[i]:eo[i + 1]]
        if len(s) and (s.min() < 0 or d.min() < 0 or s.max() >= nn or d.max() >= nn):
            fail(f"{names[i]}: edge endpoint outside the module's nodes")
        if status[i] == 0:
            if to[i + 1] == to[i] or nn == 0:
                fail(f"{names[i]}: ok but empty")
            if vocab[text[no[i]]] != "[external]":
                fail(f"{names[i]}: node 0 is not the [external] root")
            if errors[i]:
                fail(f"{names[i]}: ok with an error message")
        else:
            if to[i + 1] != to[i] or nn != 0:
                fail(f"{names[i]}: failed but has data")
            if not errors[i]:
                fail(f"{names[i]}: status {status[i]} without a message")
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--status":
            sub, want = args[i + 1].split("=")
            hits = [k for k, n in enumerate(names) if sub in n]
            if not hits:
                fail(f"no module matching {sub}")
            for k in hits:
                if status[k] != STATUS[want]:
                    fail(f"{names[k]}: status {status[k]} ({errors[k]}), expected {want}")
                if want != "ok" and sub.split("/")[-1] not in errors[k] and names[k] not in errors[k]:
                    fail(f"{names[k]}: message does not name the file: {errors[k]}")
            i += 2
        elif a == "--same-tokens":
            x, y = args[i + 1], args[i + 2]
            kx = [k for k, n in enumerate(names) if x in n][0]
            ky = [k for k, n in enumerate(names) if y in n][0]
            if not np.array_equal(tok[to[kx]:to[kx + 1]], tok[to[ky]:to[ky + 1]]):
                fail(f"tokens of {x} and {y} differ")
            i += 3
        elif a == "--min-ok":
            if int(np.sum(status == 0)) < int(args[i + 1]):
                fail(f"only {int(np.sum(status == 0))} ok modules")
            i += 2
        elif a == "--max-unk-rate":
            if float(f.attrs["unk_rate"]) > float(args[i + 1]):
                fail(f"unk_rate {float(f.attrs['unk_rate'])}")
            i += 2
        elif a == "--decoded-contains":
            # the module's tokens, pieces joined back into words, contain the given word
            sub, word = args[i + 1], args[i + 2]
            k = [k for k, n in enumerate(names) if sub in n][0]
            words, cur = [], ""
            for t in tok[to[k]:to[k + 1]]:
                piece = vocab[t]
                if piece.startswith("##"):
                    cur += piece[2:]
                else:
                    if cur:
                        words.append(cur)
                    cur = piece
            words.append(cur)
            if word not in words:
                fail(f"{names[k]}: decoded tokens lack {word}")
            i += 3
        elif a == "--word-in-vocab":
            if args[i + 1] not in vocab:
                fail(f"{args[i + 1]} not in the vocabulary")
            i += 2
        else:
            fail(f"unknown argument {a}")
    print(f"corpus_check: {path}: {M} modules, {int(np.sum(status == 0))} ok, {len(tok)} tokens, "
          f"{len(kind)} nodes, {len(src)} edges, vocabulary {V}: PASSED")


if __name__ == "__main__":
    main(sys.argv[1:])
