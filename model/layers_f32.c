/* layers_f32.c: the dense layers in float (generic code in layers.inc.c; see real.h). */
#include "layers.h"

#include <assert.h>
#include <stdlib.h>
#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MIR_REAL_DOUBLE 0
#include "real.h"
#include "layers.inc.c"
