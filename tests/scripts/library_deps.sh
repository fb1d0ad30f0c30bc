#!/usr/bin/env bash
# libmirencoder.so, the C API of include/mir/mir.h, links neither MPI nor ScaLAPACK (issue 18): a compiler or an
# autotuner that embeds IR needs neither. ldd lists every library it loads, directly or through another one:
# none may be Open MPI's (libmpi, libopen-rte, libopen-pal), ScaLAPACK or the openmpi flavour of HDF5; the
# serial HDF5 must be there instead. The example and the installed library are tested by `install`.
set -euo pipefail
LIB=${MIR_LIBRARY:?}
fail() { echo "FAIL: library_deps: $*"; exit 1; }
[[ -f $LIB ]] || fail "$LIB missing"
out=$(ldd "$LIB") || fail "ldd $LIB failed"
echo "$out"
bad=$(grep -E 'lib(mpi|open-rte|open-pal|scalapack|hdf5_openmpi)[._-]' <<<"$out" || true)
[[ -z $bad ]] || fail "$(basename "$LIB") loads MPI, ScaLAPACK or the parallel HDF5: $bad"
grep -q 'libhdf5_serial\.so' <<<"$out" || fail "$(basename "$LIB") does not load the serial HDF5"
echo "library_deps: PASSED ($(basename "$LIB") loads no MPI, ScaLAPACK or parallel HDF5)"
