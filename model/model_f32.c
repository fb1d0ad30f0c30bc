/* model_f32.c: the model in float (training, inference). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers.h"
#include "mir_common.h"
#include "model.h"

#define MIR_REAL_DOUBLE 0
#include "real.h"
#include "model.inc.c"
