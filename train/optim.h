/*
 * optim.h: the optimiser of pre-training (trainer.h): the learning-rate schedule (linear warm-up, then
 * cosine decay to lr_min) and AdamW on the flat parameter buffers of the model, in whatever local layout
 * the model holds them (dist.h): both are element by element, so the layout does not matter.
 */
#ifndef MIR_OPTIM_H
#define MIR_OPTIM_H
#include <stdint.h>

#include "model.h"
#include "model_file.h"

/* The learning rate of step `step` (0-based) under st's schedule (lr, lr_min, warmup, total_steps). */
double mir_lr_at(const mir_train_state *st, int64_t step);

/* One AdamW step at learning rate lr on model's parameters from its gradients, with st's betas, eps and
 * weight decay; m1, m2 the moments (model->n_params each, the model's layout). */
void mir_adamw(const mir_train_state *st, mir_model_f32 *model, float *m1, float *m2, double lr, int64_t step);

#endif
