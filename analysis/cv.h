/*
 * cv.h: cross-validation with model selection on the training folds only.
 *
 * For each outer fold f: the training rows (fold != f) are split again into inner folds (stratified by
 * label, grouped by group id, or plain, as the outer protocol asks); each classifier is fitted on every
 * inner training split and predicts its inner test rows; the pooled inner predictions are scored with
 * the task's score (accuracy for device mapping, mean speedup for coarsening) and the better classifier
 * (ties: XGBoost) is the fold's choice. Then both classifiers are fitted on all the training rows and
 * predict the test rows: pred[MIR_CLF_XGB], pred[MIR_CLF_MLP], and pred[MIR_CLF_N] (the chosen one's).
 * The test rows are never seen before that last prediction.
 */
#ifndef MIR_CV_H
#define MIR_CV_H
#include <stdint.h>

#include "classifier.h"
#include "mir_common.h"

struct mir_probe;

typedef enum { MIR_INNER_STRATIFIED = 0, MIR_INNER_GROUPED = 1, MIR_INNER_RANDOM = 2 } mir_inner_kind;

typedef struct mir_cv_task {
    int n, d, n_classes;
    const float *X;         /* (n, d) features */
    const int *y;           /* (n) labels */
    const int *group;       /* (n) group ids for MIR_INNER_GROUPED (may be NULL otherwise) */
    const uint8_t *allowed; /* (n, n_classes) classes a row may be predicted as; NULL: all */
    /* Score of predictions pred (m) of rows rows (m): higher is better. */
    double (*score)(void *ctx, const int *rows, const int *pred, int m);
    void *ctx;
    mir_inner_kind inner;
    int inner_k;            /* inner folds (3) */
    const mir_clf_params *params;
    /* probe may be NULL; classifier k's fitting goes to phase phase_fit + k, its predicting to
     * phase_predict + k (MIR_CLF_N consecutive phases each) */
    struct mir_probe *probe; int phase_fit, phase_predict;
} mir_cv_task;

/* Outer folds fold[n] in [0, k). pred: 3 arrays of n (xgb, mlp, chosen); chosen: k entries (classifier
 * picked in fold f, -1 for an empty fold). seed: all randomness of the run (inner folds, classifiers).
 * n_fits[kind] and n_predicted[kind] (MIR_CLF_N each; may be NULL) are incremented by the fits done and the
 * rows they predicted. 0, or -1 with err. */
int mir_cv_run(const mir_cv_task *t, const int *fold, int k, uint64_t seed, int *pred[MIR_CLF_N + 1], int *chosen,
               int64_t *n_fits, int64_t *n_predicted, mir_error *err);

/* Mix integers into one 64-bit seed (splitmix64 steps). */
uint64_t mir_seed_mix(uint64_t a, uint64_t b);

#endif
