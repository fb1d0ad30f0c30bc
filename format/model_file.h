/*
 * model_file.h: model.h5, the model file (docs/formats.md): the configuration as attributes, the
 * vocabulary, every parameter tensor under /params/<name> with its shape, the AdamW moments under
 * /optim/m/<name> and /optim/v/<name>, and the training state (step, seed, data cursor, schedule) as
 * attributes of /state. Enough to resume bit for bit. Written by one process, under a temporary name
 * renamed into place, so a reader never sees half a file. Serial HDF5 only (no MPI): the embedding library
 * reads it too.
 *
 *   model_file.c   saving and loading (mir-train's checkpoints, the embedding's model), the vocabulary of a
 *                  model or a corpus, a fresh model with random weights (the analyses' untrained encoder);
 *   model_check.c  the checks before a model file is trusted (issue 17). A model file may come from anywhere;
 *                  an edited attribute (d_model = 1,000,000) must not become a 180 TB allocation, and a NaN in
 *                  a tensor must not become NaN embeddings with exit status 0:
 *     before allocation  every configuration attribute present, an integer within its named limit below,
 *                        the configuration consistent (mir_config_check), the parameter count within
 *                        MIR_MODEL_MAX_PARAMS, every parameter tensor present as a 2-d float dataset of the
 *                        shape the configuration gives, and /vocab/token of vocab_size entries;
 *     after loading      every parameter finite (mir-train --resume: the AdamW moments too).
 *   Each failure is one message naming the file and the attribute or tensor.
 */
#ifndef MIR_MODEL_FILE_H
#define MIR_MODEL_FILE_H
#include <stdint.h>

#include "mir_common.h"
#include "model.h"
#include "schema.h" /* MIR_MODEL_FORMAT, MIR_MODEL_VERSION */
#include "wordpiece.h"

typedef struct mir_train_state {
    int64_t step;             /* optimiser steps done */
    int64_t total_steps;      /* of the schedule */
    uint64_t seed;
    int64_t cursor;           /* modules consumed from the data stream (step * global_batch) */
    int32_t global_batch, micro_batch;
    double lr, lr_min, weight_decay, beta1, beta2, eps, clip;
    int32_t warmup;
} mir_train_state;

/* ---- saving and loading (model_file.c) ---- */

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

/* Read the vocabulary stored under /vocab of a model or a corpus file (the same layout in both). */
mir_vocab *mir_vocab_load(const char *path, mir_error *err);

/* The random stream of a fresh model's weights ("random"): mir_model_file_write_random draws from it, and the
 * fine-tuning's random-weights encoder draws the same weights from it. */
#define MIR_RANDOM_MODEL_STREAM 0x72616e646f6dULL
/* Write a model file with configuration cfg and vocabulary v but freshly drawn weights (the encoder before
 * pre-training: mir_model_init_params with seed on MIR_RANDOM_MODEL_STREAM), inference-only, its /state holding
 * the seed. 0, or -1 with err. */
int mir_model_file_write_random(const mir_config *cfg, const mir_vocab *v, const char *path, uint64_t seed,
                                mir_error *err);

/* ---- the checks before trust (model_check.c) ---- */

/* Largest values accepted for each configuration attribute: far above any model this project trains
 * ("base" is d_model 512, 4 layers), far below what would exhaust a node's memory. */
#define MIR_MODEL_MAX_VOCAB (1 << 24)        /* mir-preprocess --vocab-size's own limit */
#define MIR_MODEL_MAX_SEQ 8192               /* as mir_config_check */
#define MIR_MODEL_MAX_D_MODEL 8192
#define MIR_MODEL_MAX_HEADS 256
#define MIR_MODEL_MAX_LAYERS 256             /* n_layers and n_graph_layers */
#define MIR_MODEL_MAX_D_FF 65536
#define MIR_MODEL_MAX_NODES 65536            /* MIR_INFER_MAX_NODES */
#define MIR_MODEL_MAX_PARAMS ((int64_t)1 << 31) /* parameter elements: 8 GiB of float32 */

/* The checks before allocation; on success *c holds the configuration. 0, or -1 with err. */
int mir_model_file_check(const char *path, mir_config *c, mir_error *err);
/* Every value of a full flat buffer laid out like the parameters finite (group "/params", or "/optim/m" and
 * "/optim/v" for a checkpoint's AdamW moments); -1 names the first tensor that is not, and where. */
int mir_model_tensors_check(const char *path, const mir_config *c, const char *group, const float *values,
                            mir_error *err);
/* mir_model_tensors_check of the group "/params". */
int mir_model_params_check(const char *path, const mir_config *c, const float *params, mir_error *err);

#endif
