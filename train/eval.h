/*
 * eval.h: the held-out evaluation of pre-training (trainer.h): the model's forward on the held-out modules
 * (at most eval_modules of them, in micro-batches shared out over the data-parallel groups, each drawn
 * from a fixed seed so that every evaluation sees the same batches), summed over the groups: masked-token
 * (or statement) accuracy against the most-frequent-token baseline, node-text accuracy, edge AUC, matching
 * accuracy, loss, and the optional objectives' figures.
 */
#ifndef MIR_EVAL_H
#define MIR_EVAL_H
#include "mir_common.h"

struct trainer;

typedef struct eval_result {
    double mlm_acc, mlm_baseline, node_acc, edge_auc, match_acc, loss;
    double stat_mse; /* statistics auto-encoding: mean squared error per (module, slot); 0 without the head */
    double contrast_acc; /* contrastive: anchors whose most similar other module is the partner; 0 without */
} eval_result;

/* Collective over t's communicator: every rank receives the same er. 0, or -1 with err when a module could
 * not be read (on every rank). */
int mir_evaluate(struct trainer *t, eval_result *er, mir_error *err);

#endif
