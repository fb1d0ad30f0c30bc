/*
 * classifier.h: the two classifiers of the analyses, behind one call that fits on a training set and
 * returns class probabilities for a test set.
 *
 *   MIR_CLF_XGB  gradient-boosted trees through XGBoost's C API (binary:logistic for two classes, else
 *                multi:softprob; hist with 32 bins, which is 7x faster than the default 256 on a few hundred
 *                rows; one thread, so a result depends only on the data and the seed).
 *   MIR_CLF_MLP  a small multi-layer perceptron on the project's own layers (model/layers.h, float):
 *                inputs standardised with the training set's mean and deviation, d -> hidden (GELU) ->
 *                classes, softmax cross-entropy, AdamW on shuffled mini-batches.
 *
 * Nothing here exits: errors (XGBoost's own message) come back in err.
 */
#ifndef MIR_CLASSIFIER_H
#define MIR_CLASSIFIER_H
#include <stdint.h>

#include "mir_common.h"

enum { MIR_CLF_XGB = 0, MIR_CLF_MLP = 1, MIR_CLF_N = 2 };
const char *mir_clf_name(int kind); /* "xgboost", "mlp" */

typedef struct mir_clf_params {
    /* XGBoost */
    int xgb_rounds, xgb_max_depth, xgb_max_bin;
    double xgb_eta, xgb_subsample, xgb_colsample, xgb_min_child_weight;
    /* MLP */
    int mlp_hidden, mlp_epochs, mlp_batch;
    double mlp_lr, mlp_weight_decay;
} mir_clf_params;
void mir_clf_params_default(mir_clf_params *p);

/* Where to charge the time of fitting and of predicting (common/probe.h), or NULL. */
struct mir_probe;
typedef struct mir_clf_probe {
    struct mir_probe *probe;
    int phase_fit, phase_predict;
} mir_clf_probe;

/* Fit classifier `kind` on Xtr (ntr, d) with labels ytr in [0, n_classes), then write class probabilities
 * of Xte (nte, d) to proba (nte, n_classes). seed: the classifier's randomness (row/column sampling,
 * initial weights, batch order). probe (may be NULL): the training is charged to phase_fit, the
 * prediction of Xte to phase_predict. 0, or -1 with err filled. */
int mir_clf_fit_predict(int kind, const mir_clf_params *p, const float *Xtr, const int *ytr, int ntr, int d,
                        int n_classes, const float *Xte, int nte, uint64_t seed, float *proba,
                        const mir_clf_probe *probe, mir_error *err);

/* The XGBoost settings both the classifier and the regressor (regress.h) use: p's rounds-independent values,
 * hist with p->xgb_max_bin bins, one thread, silent, seed; the column sampling goes under colsample_key
 * ("colsample_bytree", or "colsample_bynode" where few columns must stay reachable). booster: a BoosterHandle.
 * The objective is the caller's. 0, or -1 with err. */
int mir_xgb_set_params(void *booster, const mir_clf_params *p, const char *colsample_key, uint64_t seed,
                       mir_error *err);

#endif
