/*
 * modelcheck.h: a model file checked before it is trusted (issue 17). A model file may come from anywhere;
 * an edited attribute (d_model = 1,000,000) must not become a 180 TB allocation, and a NaN in a tensor
 * must not become NaN embeddings with exit status 0.
 *
 *   before allocation  every configuration attribute present, an integer within its named limit below,
 *                      the configuration consistent (mir_config_check), the parameter count within
 *                      MIR_MODEL_MAX_PARAMS, every parameter tensor present as a 2-d float dataset of the
 *                      shape the configuration gives, and /vocab/token of vocab_size entries;
 *   after loading      every parameter finite (mir-train --resume: the AdamW moments too).
 * Each failure is one message naming the file and the attribute or tensor.
 */
#ifndef MIR_MODELCHECK_H
#define MIR_MODELCHECK_H

#include "mir_common.h"
#include "model.h"

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
