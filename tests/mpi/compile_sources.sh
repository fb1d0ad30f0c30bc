#!/usr/bin/env bash
# --compile: C, C++, OpenCL and CUDA sources become modules through clang 16 (compilation spread over
# ranks), -D/-I reach clang, and a source that fails to compile is recorded with clang's message.
source "$(dirname "$0")/common.sh"
mkdir -p "$WORK/src"
cp "$SRC"/tests/data/src/* "$WORK/src/"
printf 'int broken(void) { return undefined_symbol + ; }\n' > "$WORK/src/broken.c"
expect_status 3 mpi 2 "$PP" --no-progress --compile -DSCALE=2.0f -o "$WORK/c.h5" "$WORK/src"
"$TOOLS/corpus_check.py" "$WORK/c.h5" --status saxpy.c=ok --status scale.cl=ok --status axpy.cu=ok \
  --status reduce.cpp=ok --status broken.c=compile_error --decoded-contains scale.cl @_Z13get_global_idj --decoded-contains axpy.cu @sqrtf --decoded-contains axpy.cu @llvm.nvvm.read.ptx.sreg.tid.x
"$PY" - "$WORK/c.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1])
err = {n.decode().rsplit("/", 1)[-1]: e.decode() for n, e in zip(f["modules/name"][()], f["modules/error"][()])}
assert "error" in err["broken.c"] and "broken.c" in err["broken.c"], err["broken.c"]
print("compile messages: PASSED")
PY
# without the macro the OpenCL kernel does not compile, and says why
expect_status 3 "$PP" --no-progress --compile -o "$WORK/d.h5" "$WORK/src/scale.cl"
"$PY" -c "import h5py,sys; e=h5py.File(sys.argv[1])['modules/error'][0].decode(); assert 'SCALE' in e, e" "$WORK/d.h5"
echo "compile_sources: PASSED"
