/*
 * regress.h: per-configuration regression with a do-no-harm rule (issue 15), for the tasks that choose one
 * configuration among several for each decision unit (coarsen: a (kernel, GPU) and its factors; vectorize: a
 * program and its (VF, IF)).
 *
 *   rows     one per (unit u, measured configuration c): the unit's features and the configuration's
 *            (the caller's row callback), target gain[u][c] = log(time at the default / time at c).
 *   model    XGBoost reg:squarederror (hist, one thread, seeded: classifier.h's settings), fitted on the
 *            training units' rows, predicting every measured configuration of a test unit.
 *   regression  the configuration with the largest predicted gain.
 *   safe        the same, unless its predicted gain over the default (the default's own prediction when it
 *               is a configuration of the grid, 0 when it is outside it) is not above a margin m: then the
 *               default. m is picked among mir_reg_margins by inner cross-validation on the training units
 *               only, grouped by unit group (kernel, family): criterion the mean realised log speedup of
 *               the pooled inner predictions (the log of their geometric mean); ties go to the larger m; under
 *               MIR_REG_RULE_SIGNIFICANT only margins whose inner gain is significant compete.
 *               m = inf is always the default, so safe can always fall back to doing nothing.
 *
 * Outer folds: one per group (leave one kernel / family out). Nothing here exits: errors come back in err.
 */
#ifndef MIR_REGRESS_H
#define MIR_REGRESS_H
#include <stdint.h>

#include "classifier.h"
#include "mir_common.h"

#define MIR_REG_N_MARGINS 8
/* candidate margins of the safe rule, ascending: 0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, inf (log speedup) */
extern const double mir_reg_margins[MIR_REG_N_MARGINS];
#define MIR_REG_DEFAULT (-1) /* a choice: the default, when it is outside the grid */
/* How safe picks its margin from the inner predictions:
 *   MIR_REG_RULE_MEAN         the largest mean log speedup (ties: the larger margin);
 *   MIR_REG_RULE_SIGNIFICANT  the same, among the margins whose inner gain over the default is significant: the
 *                             95 % paired t interval of the per-group (kernel, family) mean log speedups lies
 *                             above 0; when none is, inf (the default);
 *   MIR_REG_RULE_NO_HARM      the same, and no inner group (kernel, family) may come out slower than the
 *                             default on average: a margin that harmed a training kernel in the inner folds is
 *                             not trusted on a new one;
 *   MIR_REG_RULE_NO_LOSS      the same, and no inner unit ((kernel, GPU), program) may come out slower than the
 *                             default: the unit is what is decided, and what the do-no-harm bar counts (losses,
 *                             worst slowdown, per-device means over units), so one harmful inner move is evidence
 *                             enough against a margin; a group's average can hide it (the rule used). */
enum { MIR_REG_RULE_MEAN = 0, MIR_REG_RULE_SIGNIFICANT = 1, MIR_REG_RULE_NO_HARM = 2, MIR_REG_RULE_NO_LOSS = 3 };

/* Fit XGBoost reg:squarederror on Xtr (ntr, d) -> ytr (ntr), predict Xte (nte, d) into out (nte).
 * p: rounds, depth, bins, eta, subsample, min_child_weight of the classifiers; columns are sampled per
 * node (p->xgb_colsample), not per tree, so every tree may split on the few configuration columns.
 * 0, or -1 with err. */
int mir_reg_fit_predict(const mir_clf_params *p, const float *Xtr, const float *ytr, int ntr, int d, const float *Xte,
                        int nte, uint64_t seed, float *out, mir_error *err);

typedef struct mir_reg_task {
    int n_units, n_cfg, d;    /* decision units, configurations, features of a row */
    /* the features of row (unit u, configuration c) into x (d floats) */
    void (*row)(const void *ctx, int u, int c, float *x);
    const void *ctx;
    const double *gain;       /* (n_units, n_cfg) measured log speedup over the default; NaN: not measured */
    int default_cfg;          /* the default's configuration, or -1: outside the grid (gain 0 by construction) */
    const int *group;         /* (n_units) group id in [0, n_groups): outer fold and inner grouping */
    int n_groups;
    int inner_k;              /* inner folds over the training groups (e.g. 4) */
    const mir_clf_params *params;
    int margin_rule;          /* MIR_REG_RULE_MEAN, _SIGNIFICANT, _NO_HARM or _NO_LOSS (above) */
} mir_reg_task;

/* Leave one group out. For every unit: regression[u] (a configuration) and safe[u] (a configuration, or
 * MIR_REG_DEFAULT when default_cfg < 0 and the rule kept the default); margin (n_groups; may be NULL): the m
 * picked in each outer fold; n_fits (may be NULL) incremented by the fits done. seed: inner folds and the
 * regressors. 0, or -1 with err. */
int mir_reg_run(const mir_reg_task *t, uint64_t seed, int *regression, int *safe, double *margin, int64_t *n_fits,
                mir_error *err);

/* The measured log speedup of choice c for unit u (0 for MIR_REG_DEFAULT; NaN for an unmeasured c). */
double mir_reg_log_speedup(const mir_reg_task *t, int u, int c);

/* The choice for predicted gains pg (n_cfg; NaN: not measured) under margin m: the largest-gain configuration
 * when its gain over the default's (pg[default_cfg], or 0) exceeds m, else the default. */
int mir_reg_decide(const double *pg, int n_cfg, int default_cfg, double m);

/* The margin (an index into mir_reg_margins) that `rule` picks from the realised log speedups lv
 * (MIR_REG_N_MARGINS, n): lv[m * n + i] is unit i's under margin m; grp (n): the units' groups (kernels,
 * families). mir_reg_run's choice on its pooled inner predictions; also the fine-tuned safe rule's (finetune.h). */
int mir_reg_choose_margin(const double *lv, const int *grp, int n, int rule);

#endif
