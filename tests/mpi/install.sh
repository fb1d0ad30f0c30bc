#!/usr/bin/env bash
# cmake --install puts the library, header, pkg-config file and CMake package in a prefix; docs/example.c
# builds against that tree both ways (pkg-config, find_package) and its embeddings equal mir-infer's.
source "$(dirname "$0")/common.sh"
TR=${MIR_TRAIN:?}; INF=${MIR_INFER:?}; BUILD=${MIR_BUILD_DIR:?}
cmake --install "$BUILD" --prefix "$WORK/prefix" >/dev/null
lib=$(ls -d "$WORK"/prefix/lib*/ | head -1)
test -f "$WORK/prefix/include/mir/mir.h" && test -e "$lib/libmirencoder.so" && test -f "$lib/pkgconfig/mirencoder.pc"
"$PP" -q -o "$WORK/c.h5" "$SRC/tests/data/ir"
"$TR" -q --corpus "$WORK/c.h5" --config tiny --steps 3 --batch 2 --micro-batch 2 -o "$WORK/m.h5"
"$INF" -q --model "$WORK/m.h5" -o "$WORK/e.h5" "$SRC/tests/data/ir/loop.ll" "$SRC/tests/data/ir/calls.ll"
# pkg-config
export PKG_CONFIG_PATH=$lib/pkgconfig
cc -std=c11 -Wall -Werror "$SRC/docs/example.c" $(pkg-config --cflags --libs mirencoder) -o "$WORK/example-pc"
"$WORK/example-pc" "$WORK/m.h5" "$SRC/tests/data/ir/loop.ll" "$SRC/tests/data/ir/calls.ll" > "$WORK/pc.txt"
# CMake package
mkdir -p "$WORK/consumer"
cat > "$WORK/consumer/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(MIREncoder 0.1 REQUIRED)
add_executable(example "$SRC/docs/example.c")
target_link_libraries(example PRIVATE MIREncoder::mirencoder)
CM
cmake -S "$WORK/consumer" -B "$WORK/consumer/build" -DCMAKE_PREFIX_PATH="$WORK/prefix" >/dev/null
cmake --build "$WORK/consumer/build" >/dev/null
"$WORK/consumer/build/example" "$WORK/m.h5" "$SRC/tests/data/ir/loop.ll" "$SRC/tests/data/ir/calls.ll" > "$WORK/cm.txt"
cmp "$WORK/pc.txt" "$WORK/cm.txt"
"$PY" - "$WORK/pc.txt" "$WORK/e.h5" <<'PY'
import sys, h5py, numpy as np
h = h5py.File(sys.argv[2]); names = [n.decode() for n in h["names"][()]]
lines = open(sys.argv[1]).read().split("\n")[:-1]
assert len(lines) == 2
for line in lines:
    parts = line.split(); i = names.index(parts[0])
    v = np.array([float(x) for x in parts[1:]], dtype=np.float32)
    assert np.array_equal(v, h["embeddings"][i]), parts[0]
print("installed library == mir-infer: PASSED")
PY
echo "install: PASSED"
