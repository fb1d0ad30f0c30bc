/* regress.c: per-configuration regression and the safe margin rule (see regress.h). */
#include "regress.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "xgbtry.h"

#include "cv.h"
#include "paired.h"
#include "protocol.h"

const double mir_reg_margins[MIR_REG_N_MARGINS] = {0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, INFINITY};

/* ------------------------------------------------------------------------------------------------ */
/* XGBoost regressor                                                                                */


int mir_reg_fit_predict(const mir_clf_params *p, const float *Xtr, const float *ytr, int ntr, int d, const float *Xte,
                        int nte, uint64_t seed, float *out, mir_error *err) {
    if (ntr <= 0) return mir_fail(err, "regressor: empty training set");
    if (nte <= 0) return 0;
    int rc = 0;
    DMatrixHandle dtr = NULL, dte = NULL;
    BoosterHandle b = NULL;
    XGB_TRY(XGDMatrixCreateFromMat(Xtr, (bst_ulong)ntr, (bst_ulong)d, NAN, &dtr));
    XGB_TRY(XGDMatrixSetFloatInfo(dtr, "label", ytr, (bst_ulong)ntr));
    XGB_TRY(XGBoosterCreate(&dtr, 1, &b));
    XGB_TRY(XGBoosterSetParam(b, "objective", "reg:squarederror"));
    if ((rc = mir_xgb_set_params(b, p, "colsample_bynode", seed, err))) goto done;
    for (int it = 0; it < p->xgb_rounds; it++) XGB_TRY(XGBoosterUpdateOneIter(b, it, dtr));
    XGB_TRY(XGDMatrixCreateFromMat(Xte, (bst_ulong)nte, (bst_ulong)d, NAN, &dte));
    bst_ulong len = 0;
    const float *res = NULL;
    XGB_TRY(XGBoosterPredict(b, dte, 0, 0, 0, &len, &res));
    if (len != (bst_ulong)nte) {
        rc = mir_fail(err, "regressor: %llu predictions for %d rows", (unsigned long long)len, nte);
        goto done;
    }
    memcpy(out, res, (size_t)nte * sizeof *out);
done:
    if (b) XGBoosterFree(b);
    if (dte) XGDMatrixFree(dte);
    if (dtr) XGDMatrixFree(dtr);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* The decision rule                                                                                */

double mir_reg_log_speedup(const mir_reg_task *t, int u, int c) {
    return c == MIR_REG_DEFAULT ? 0.0 : t->gain[(size_t)u * t->n_cfg + c];
}

int mir_reg_decide(const double *pg, int n_cfg, int default_cfg, double m) {
    int best = -1;
    for (int c = 0; c < n_cfg; c++)
        if (!isnan(pg[c]) && (best < 0 || pg[c] > pg[best])) best = c;
    int dflt = default_cfg >= 0 ? default_cfg : MIR_REG_DEFAULT;
    if (best < 0) return dflt;
    double base = default_cfg >= 0 && !isnan(pg[default_cfg]) ? pg[default_cfg] : 0.0;
    return pg[best] - base > m ? best : dflt;
}

/* Predicted gains pg (nte, n_cfg) of the test units te (nte) by a regressor fitted on every measured row of
 * the training units tr (ntr). Unmeasured configurations: NaN. */
static int predict_gains(const mir_reg_task *t, const int *tr, int ntr, const int *te, int nte, uint64_t seed,
                         double *pg, int64_t *n_fits, mir_error *err) {
    const int C = t->n_cfg, d = t->d;
    size_t nrow = 0, nq = 0;
    for (int i = 0; i < ntr; i++)
        for (int c = 0; c < C; c++) nrow += !isnan(t->gain[(size_t)tr[i] * C + c]);
    float *X = mir_malloc((nrow ? nrow : 1) * d * sizeof *X), *y = mir_malloc((nrow ? nrow : 1) * sizeof *y);
    float *Q = mir_malloc(((size_t)nte * C + 1) * d * sizeof *Q), *out = mir_malloc(((size_t)nte * C + 1) * sizeof *out);
    nrow = 0;
    for (int i = 0; i < ntr; i++)
        for (int c = 0; c < C; c++) {
            double g = t->gain[(size_t)tr[i] * C + c];
            if (isnan(g)) continue;
            t->row(t->ctx, tr[i], c, X + nrow * d);
            y[nrow++] = (float)g;
        }
    for (int i = 0; i < nte; i++)
        for (int c = 0; c < C; c++)
            if (!isnan(t->gain[(size_t)te[i] * C + c])) t->row(t->ctx, te[i], c, Q + nq++ * d);
    int rc = mir_reg_fit_predict(t->params, X, y, (int)nrow, d, Q, (int)nq, seed, out, err);
    if (n_fits) (*n_fits)++;
    nq = 0;
    for (int i = 0; i < nte && !rc; i++)
        for (int c = 0; c < C; c++)
            pg[(size_t)i * C + c] = isnan(t->gain[(size_t)te[i] * C + c]) ? NAN : (double)out[nq++];
    free(out); free(Q); free(y); free(X);
    return rc;
}

/* Choose among the candidate margins from the pooled inner realised log speedups lv (MIR_REG_N_MARGINS, ntr) of
 * the training units, whose groups are grp (ntr). MIR_REG_RULE_MEAN: the largest mean (ties: the larger
 * margin). MIR_REG_RULE_SIGNIFICANT: the same among the margins whose gain over the default is significant, the
 * 95 % paired t interval of the per-group mean log speedups against 0 lying above 0 (groups, not units: the
 * units of one kernel are not independent); none: inf. MIR_REG_RULE_NO_HARM: also no group's mean below 0.
 * MIR_REG_RULE_NO_LOSS: also no unit below 0 (which implies no group below 0). */
int mir_reg_choose_margin(const double *lv, const int *grp, int ntr, int rule) {
    int max_g = 0;
    for (int i = 0; i < ntr; i++) max_g = grp[i] > max_g ? grp[i] : max_g;
    double *gs = mir_malloc(((size_t)max_g + 1) * sizeof *gs), *zero = mir_calloc((size_t)max_g + 1, sizeof *zero);
    double *gv = mir_malloc(((size_t)max_g + 1) * sizeof *gv);
    int *gn = mir_malloc(((size_t)max_g + 1) * sizeof *gn), best = -1; /* inf is always allowed */
    double best_score = 0;
    for (int m = 0; m < MIR_REG_N_MARGINS; m++) {
        double sum = 0;
        memset(gs, 0, ((size_t)max_g + 1) * sizeof *gs);
        memset(gn, 0, ((size_t)max_g + 1) * sizeof *gn);
        for (int i = 0; i < ntr; i++) {
            sum += lv[(size_t)m * ntr + i];
            gs[grp[i]] += lv[(size_t)m * ntr + i];
            gn[grp[i]]++;
        }
        int ng = 0;
        double worst_group = 0, worst_unit = 0;
        for (int i = 0; i < ntr; i++)
            if (lv[(size_t)m * ntr + i] < worst_unit) worst_unit = lv[(size_t)m * ntr + i];
        for (int g = 0; g <= max_g; g++)
            if (gn[g]) {
                gv[ng] = gs[g] / gn[g];
                if (gv[ng] < worst_group) worst_group = gv[ng];
                ng++;
            }
        mir_paired p;
        mir_paired_t(gv, zero, ng, &p);
        int harmless = rule == MIR_REG_RULE_NO_LOSS ? worst_unit >= 0 : rule != MIR_REG_RULE_NO_HARM || worst_group >= 0;
        int ok = isinf(mir_reg_margins[m]) || rule == MIR_REG_RULE_MEAN || (p.lo > 0 && harmless);
        double score = ntr ? sum / ntr : 0;
        if (ok && (best < 0 || score >= best_score - 1e-12)) { /* ascending: ties go to the larger margin */
            best = m;
            best_score = score;
        }
    }
    free(gn); free(gv); free(zero); free(gs);
    return best;
}

/* The margin picked on the training units tr (ntr): inner folds grouped by t->group, the pooled inner
 * predictions scored under every candidate margin. */
static int pick_margin(const mir_reg_task *t, const int *tr, int ntr, uint64_t seed, double *margin, int64_t *n_fits,
                       mir_error *err) {
    const int C = t->n_cfg;
    int *grp = mir_malloc((size_t)ntr * sizeof *grp), *inner = mir_malloc((size_t)ntr * sizeof *inner);
    int *itr = mir_malloc((size_t)ntr * sizeof *itr), *ite = mir_malloc((size_t)ntr * sizeof *ite);
    int *pos = mir_malloc((size_t)ntr * sizeof *pos);
    double *pg = mir_malloc((size_t)ntr * C * sizeof *pg), *lv = mir_calloc((size_t)MIR_REG_N_MARGINS * ntr, sizeof *lv);
    for (int i = 0; i < ntr; i++) grp[i] = t->group[tr[i]];
    mir_rng r;
    mir_rng_seed(&r, seed, 0x6d617267696e);
    int ik = mir_folds_grouped(grp, ntr, t->inner_k, &r, inner), rc = 0;
    for (int g = 0; g < ik && !rc; g++) {
        int nitr = 0, nite = 0;
        for (int i = 0; i < ntr; i++) {
            if (inner[i] == g) {
                pos[nite] = i;
                ite[nite++] = tr[i];
            } else itr[nitr++] = tr[i];
        }
        if (!nite || !nitr) continue;
        rc = predict_gains(t, itr, nitr, ite, nite, mir_seed_mix(seed, (uint64_t)g), pg, n_fits, err);
        for (int i = 0; i < nite && !rc; i++)
            for (int m = 0; m < MIR_REG_N_MARGINS; m++)
                lv[(size_t)m * ntr + pos[i]] = mir_reg_log_speedup(
                    t, ite[i], mir_reg_decide(pg + (size_t)i * C, C, t->default_cfg, mir_reg_margins[m]));
    }
    /* too few groups to choose: always the default */
    *margin = mir_reg_margins[ik >= 2 ? mir_reg_choose_margin(lv, grp, ntr, t->margin_rule) : MIR_REG_N_MARGINS - 1];
    free(lv); free(pg); free(pos); free(ite); free(itr); free(inner); free(grp);
    return rc;
}

int mir_reg_run(const mir_reg_task *t, uint64_t seed, int *regression, int *safe, double *margin, int64_t *n_fits,
                mir_error *err) {
    const int n = t->n_units, C = t->n_cfg;
    int *tr = mir_malloc((size_t)n * sizeof *tr), *te = mir_malloc((size_t)n * sizeof *te);
    double *pg = mir_malloc((size_t)n * C * sizeof *pg);
    int rc = 0;
    for (int f = 0; f < t->n_groups && !rc; f++) {
        int ntr = 0, nte = 0;
        for (int u = 0; u < n; u++) {
            if (t->group[u] == f) te[nte++] = u;
            else tr[ntr++] = u;
        }
        if (!nte) continue;
        if (!ntr) {
            rc = mir_fail(err, "regression: fold %d leaves no training unit", f);
            break;
        }
        double m = INFINITY;
        uint64_t fs = mir_seed_mix(seed, (uint64_t)f);
        rc = pick_margin(t, tr, ntr, mir_seed_mix(fs, 1), &m, n_fits, err);
        if (!rc) rc = predict_gains(t, tr, ntr, te, nte, mir_seed_mix(fs, 2), pg, n_fits, err);
        for (int i = 0; i < nte && !rc; i++) {
            regression[te[i]] = mir_reg_decide(pg + (size_t)i * C, C, -1, -INFINITY);
            safe[te[i]] = mir_reg_decide(pg + (size_t)i * C, C, t->default_cfg, m);
        }
        if (margin) margin[f] = m;
    }
    free(pg); free(te); free(tr);
    return rc;
}
