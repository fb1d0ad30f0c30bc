/* graphops_f64.c: the kernels of graphops.inc.c compiled for double. */
#include "graphops.h"

#define MIR_REAL_DOUBLE 1
#include "real.h"
#include "graphops.inc.c"
