/* graphops_f32.c: the kernels of graphops.inc.c compiled for float. */
#include "graphops.h"

#define MIR_REAL_DOUBLE 0
#include "real.h"
#include "graphops.inc.c"
