# Shared by the MPI test scripts: paths, mpirun with the flags tests need, and check helpers.
set -euo pipefail
PP=${MIR_PREPROCESS:?set by CTest}
SRC=${MIR_SOURCE_DIR:?set by CTest}
TOOLS=$SRC/tests/tools
PY=/usr/bin/python3   # Debian's, which has h5py (a pyenv python on PATH may not)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl_vader_single_copy_mechanism=none   # containers often forbid CMA
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mir-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mpi() { local n=$1; shift; mpirun --oversubscribe -np "$n" "$@"; }
# expect_status CODE cmd...: run cmd, fail unless it exits with CODE
expect_status() {
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  if [[ $got != "$want" ]]; then echo "FAIL: expected exit status $want, got $got: $*"; exit 1; fi
}
