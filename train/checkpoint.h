/*
 * checkpoint.h: model.h5, the model file (docs/formats.md): the configuration as attributes, the
 * vocabulary, every parameter tensor under /params/<name> with its shape, the AdamW moments under
 * /optim/m/<name> and /optim/v/<name>, and the training state (step, seed, data cursor, schedule) as
 * attributes of /state. Enough to resume bit for bit. Written by one process, under a temporary name
 * renamed into place, so a reader never sees half a file.
 */
#ifndef MIR_CHECKPOINT_H
#define MIR_CHECKPOINT_H
#include <stdint.h>

#include "mir_common.h"
#include "model.h"

#define MIR_MODEL_FORMAT "mir-model"
#define MIR_MODEL_VERSION 1

typedef struct mir_train_state {
    int64_t step;             /* optimiser steps done */
    int64_t total_steps;      /* of the schedule */
    uint64_t seed;
    int64_t cursor;           /* modules consumed from the data stream (step * global_batch) */
    int32_t global_batch, micro_batch;
    double lr, lr_min, weight_decay, beta1, beta2, eps, clip;
    int32_t warmup;
} mir_train_state;

/* Save: params (n floats laid out by mir_params_table), moments m and v (may be NULL: inference-only file). */
int mir_checkpoint_save(const char *path, const mir_config *c, char *const *vocab, const int64_t *vocab_count,
                        const float *params, const float *m, const float *v, const mir_train_state *st,
                        const char *corpus_path, mir_error *err);

/* Read the configuration (and state, if st is not NULL) of a model file. */
int mir_checkpoint_read_config(const char *path, mir_config *c, mir_train_state *st, mir_error *err);
/* Read parameters (and moments when m, v are not NULL) into flat buffers of the size the table gives. */
int mir_checkpoint_load(const char *path, const mir_config *c, float *params, float *m, float *v, mir_error *err);

/* FNV-1a 64 of the parameters, as stored in the "model_hash" attribute (hex). */
uint64_t mir_params_hash(const float *params, size_t n);

#endif
