/* model_loss.h: the double-precision model's total pre-training loss on a batch, and the same as a loss for
 * fd.h (test_model, test_stmt). */
#ifndef MIR_TEST_MODEL_LOSS_H
#define MIR_TEST_MODEL_LOSS_H
#include "model.h"

static inline double total_loss(mir_model_f64 *m, const mir_batch *b) {
    mir_losses l;
    mir_model_forward_f64(m, b, &l);
    return l.total;
}

typedef struct loss_ctx {
    mir_model_f64 *m;
    const mir_batch *b;
} loss_ctx;

static inline double loss_of(void *p) {
    loss_ctx *c = p;
    return total_loss(c->m, c->b);
}

#endif
