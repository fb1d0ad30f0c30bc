/* layers.h: the dense layers of the model, in float (_f32) and double (_f64). See layers_decl.h. */
#ifndef MIR_LAYERS_H
#define MIR_LAYERS_H
#include <stdint.h>

#define MIR_REAL_DOUBLE 0
#include "real.h"
#include "layers_decl.h"
#undef MIR_REAL_DOUBLE
#define MIR_REAL_DOUBLE 1
#include "real.h"
#include "layers_decl.h"
#undef MIR_REAL_DOUBLE
#undef real
#undef R
#endif
