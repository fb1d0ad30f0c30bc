#!/usr/bin/env bash
# Bad input is recorded, never lost: at 2 ranks, each bad module gets its status and a message naming it,
# every good module is complete, the exit status is 3, and --strict stops with 3 and writes nothing.
source "$(dirname "$0")/common.sh"
IN=$WORK/in
mkdir -p "$IN"
cp "$SRC"/tests/data/ir/{loop,calls,switch,vecadd_opaque}.ll "$IN/"
cp "$IN/calls.ll" "$IN/calls_again.ll"                                   # identical content
: > "$IN/empty.ll"                                                       # empty
head -c 200 "$SRC/tests/data/ir/calls.ll" > "$IN/truncated.ll"           # truncated text IR
head -c 8192 /dev/urandom > "$IN/random.bc"                              # random bytes
llvm-as-16 "$SRC/tests/data/ir/loop.ll" -o "$IN/good.bc"                 # bitcode reads
# bitcode from an unknown LLVM version: set the identification block's epoch (bit 227 in LLVM 16.0.x
# output) to 1, which LLVM 16 rejects as "Incompatible epoch"
"$PY" - "$IN/good.bc" "$IN/future_epoch.bc" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read()); d[227 // 8] ^= 1 << (227 % 8)
open(sys.argv[2], "wb").write(d)
PY
# a module of 50 MB: 64 functions of straight-line arithmetic
"$PY" - "$IN/big.ll" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for fn in range(64):
        f.write(f"define i64 @f{fn}(i64 %x0) {{\n")
        for i in range(1, 26000):
            f.write(f"  %x{i} = add nsw i64 %x{i-1}, {i * 7919 % 100003}\n")
        f.write("  ret i64 %x25999\n}\n")
PY
size=$(stat -c %s "$IN/big.ll"); echo "big.ll: $size bytes"; [[ $size -gt 50000000 ]]
UNREADABLE=""
if [[ $(id -u) != 0 ]]; then
  cp "$IN/loop.ll" "$IN/unreadable.ll"; chmod 000 "$IN/unreadable.ll"; UNREADABLE=1
fi

expect_status 3 mpi 2 "$PP" --no-progress --failures "$WORK/failures.tsv" -o "$WORK/c.h5" "$IN" "$IN/does_not_exist.ll"
checks=(--status calls_again=duplicate --status empty.ll=empty --status truncated=parse_error
        --status random.bc=parse_error --status future_epoch=parse_error --status does_not_exist=read_error
        --status big.ll=ok --status good.bc=ok --status loop.ll=ok --status vecadd=ok --min-ok 6)
[[ -n $UNREADABLE ]] && checks+=(--status unreadable=read_error)
"$TOOLS/corpus_check.py" "$WORK/c.h5" "${checks[@]}"
"$PY" - "$WORK/c.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1])
err = {n.decode().rsplit("/", 1)[-1]: e.decode() for n, e in zip(f["modules/name"][()], f["modules/error"][()])}
assert "Incompatible epoch" in err["future_epoch.bc"], err["future_epoch.bc"]
assert "calls.ll" in err["calls_again.ll"], err["calls_again.ll"]
print("messages: PASSED")
PY
grep -q "truncated.ll" "$WORK/failures.tsv"
! grep -q "calls_again" "$WORK/failures.tsv"    # a duplicate is not a failure

# unreadable file: as root every file is readable, so drop to nobody for this case
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  chmod 711 "$WORK"; U=$WORK/unreadable; mkdir -p "$U"; cp "$SRC/tests/data/ir/loop.ll" "$U/ok.ll"
  cp "$SRC/tests/data/ir/switch.ll" "$U/unreadable.ll"; chmod 000 "$U/unreadable.ll"; chmod 777 "$U"
  expect_status 3 setpriv --reuid=65534 --regid=65534 --clear-groups "$PP" --no-progress -o "$U/c.h5" "$U/ok.ll" "$U/unreadable.ll"
  "$TOOLS/corpus_check.py" "$U/c.h5" --status unreadable.ll=read_error --status /ok.ll=ok
fi

# --strict: stops at the first failure, exit status 3, no corpus left behind
expect_status 3 mpi 2 "$PP" --no-progress --strict -o "$WORK/strict.h5" "$IN/loop.ll" "$IN/truncated.ll" "$IN/switch.ll" \
  2>"$WORK/strict.err"
# every rank stops together (no MPI_Abort), and the error names the module and why
grep -q "truncated.ll.*stopped by --strict, no corpus written" "$WORK/strict.err" ||
  { echo "FAIL: --strict did not name the failed module"; cat "$WORK/strict.err"; exit 1; }
! grep -q "MPI_ABORT" "$WORK/strict.err" || { echo "FAIL: --strict aborted MPI"; exit 1; }
[[ ! -e "$WORK/strict.h5" ]] && ! ls "$WORK"/strict.h5.tmp.* 2>/dev/null
# usage errors: exit status 2
expect_status 2 "$PP" --no-progress "$IN/loop.ll"
expect_status 2 "$PP" --vocab-size x -o "$WORK/x.h5" "$IN/loop.ll"
# nothing to do, or an unwritable output: exit status 1 and a message
mkdir -p "$WORK/empty_dir"
expect_status 1 "$PP" --no-progress -o "$WORK/none.h5" "$WORK/empty_dir"
expect_status 1 "$PP" --no-progress -o "/nonexistent-dir/c.h5" "$IN/loop.ll"
# --vocab with a file that is not a corpus: exit status 1, and the message names the file
set +e; msg=$("$PP" --no-progress --vocab "$IN/loop.ll" -o "$WORK/y.h5" "$IN/loop.ll" 2>&1); rc=$?; set -e
[[ $rc == 1 && $msg == *"$IN/loop.ll"* ]] || { echo "FAIL: --vocab on a non-HDF5 file: $rc $msg"; exit 1; }
echo "bad_inputs: PASSED"
