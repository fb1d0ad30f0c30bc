/*
 * optim.c: the learning-rate schedule and AdamW (see optim.h).
 */
#include "optim.h"

#include <math.h>

double mir_lr_at(const mir_train_state *st, int64_t step) {
    if (step < st->warmup) return st->lr * (double)(step + 1) / (double)st->warmup;
    double span = (double)(st->total_steps - st->warmup);
    double prog = span > 0 ? (double)(step - st->warmup) / span : 1.0;
    if (prog > 1) prog = 1;
    return st->lr_min + 0.5 * (st->lr - st->lr_min) * (1.0 + cos(3.141592653589793 * prog));
}

/* AdamW on the flat buffers; LayerNorm gains, biases and embeddings' rows are decayed alike (simple). */
void mir_adamw(const mir_train_state *st, mir_model_f32 *model, float *m1, float *m2, double lr, int64_t step) {
    float *p = model->params, *g = model->grads;
    double b1 = st->beta1, b2 = st->beta2;
    double c1 = 1.0 - pow(b1, (double)(step + 1)), c2 = 1.0 - pow(b2, (double)(step + 1));
    float fb1 = (float)b1, fb2 = (float)b2, flr = (float)lr, feps = (float)st->eps, fwd = (float)st->weight_decay;
    float fc1 = (float)(1.0 / c1), fc2 = (float)(1.0 / c2);
    for (size_t i = 0; i < model->n_params; i++) {
        float gi = g[i];
        m1[i] = fb1 * m1[i] + (1 - fb1) * gi;
        m2[i] = fb2 * m2[i] + (1 - fb2) * gi * gi;
        float mh = m1[i] * fc1, vh = m2[i] * fc2;
        p[i] -= flr * (mh / (sqrtf(vh) + feps) + fwd * p[i]);
    }
}
