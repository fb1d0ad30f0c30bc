/* classifier.c: XGBoost through its C API and a small MLP on the project's layers (see classifier.h). */
#include "classifier.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "xgbtry.h"

#include "layers.h"
#include "probe.h"
#include "rng.h"

const char *mir_clf_name(int kind) { return kind == MIR_CLF_XGB ? "xgboost" : kind == MIR_CLF_MLP ? "mlp" : "?"; }

void mir_clf_params_default(mir_clf_params *p) {
    p->xgb_rounds = 60;
    p->xgb_max_depth = 5;
    p->xgb_max_bin = 32;
    p->xgb_eta = 0.2;
    p->xgb_subsample = 0.8;
    p->xgb_colsample = 0.5;
    p->xgb_min_child_weight = 1.0;
    p->mlp_hidden = 32;
    p->mlp_epochs = 40;
    p->mlp_batch = 32;
    p->mlp_lr = 3e-3;
    p->mlp_weight_decay = 1e-3;
}

/* ------------------------------------------------------------------------------------------------ */
/* XGBoost                                                                                          */


int mir_xgb_set_params(void *booster, const mir_clf_params *p, const char *colsample_key, uint64_t seed,
                       mir_error *err) {
    char v[7][64];
    snprintf(v[0], sizeof v[0], "%d", p->xgb_max_bin);
    snprintf(v[1], sizeof v[1], "%d", p->xgb_max_depth);
    snprintf(v[2], sizeof v[2], "%g", p->xgb_eta);
    snprintf(v[3], sizeof v[3], "%g", p->xgb_subsample);
    snprintf(v[4], sizeof v[4], "%g", p->xgb_colsample);
    snprintf(v[5], sizeof v[5], "%g", p->xgb_min_child_weight);
    snprintf(v[6], sizeof v[6], "%llu", (unsigned long long)(seed & 0x7fffffff));
    const char *kv[][2] = {{"max_bin", v[0]},       {"tree_method", "hist"}, {"nthread", "1"},
                           {"verbosity", "0"},      {"max_depth", v[1]},     {"eta", v[2]},
                           {"subsample", v[3]},     {colsample_key, v[4]},   {"min_child_weight", v[5]},
                           {"seed", v[6]}};
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        if (XGBoosterSetParam((BoosterHandle)booster, kv[i][0], kv[i][1]))
            return mir_fail(err, "xgboost: %s = %s: %s", kv[i][0], kv[i][1], XGBGetLastError());
    return 0;
}

static void pbegin(const mir_clf_probe *pr, int fit) {
    if (pr && pr->probe) mir_probe_begin(pr->probe, fit ? pr->phase_fit : pr->phase_predict);
}
static void pend(const mir_clf_probe *pr, int fit) {
    if (pr && pr->probe) mir_probe_end(pr->probe, fit ? pr->phase_fit : pr->phase_predict);
}

static int xgb_fit_predict(const mir_clf_params *p, const float *Xtr, const int *ytr, int ntr, int d, int n_classes,
                           const float *Xte, int nte, uint64_t seed, float *proba, const mir_clf_probe *pr,
                           mir_error *err) {
    int in_fit = 0, in_pred = 0;
    int rc = 0;
    DMatrixHandle dtr = NULL, dte = NULL;
    BoosterHandle b = NULL;
    float *label = mir_malloc((size_t)ntr * sizeof *label);
    for (int i = 0; i < ntr; i++) label[i] = (float)ytr[i];
    pbegin(pr, 1);
    in_fit = 1;
    XGB_TRY(XGDMatrixCreateFromMat(Xtr, (bst_ulong)ntr, (bst_ulong)d, NAN, &dtr));
    XGB_TRY(XGDMatrixSetFloatInfo(dtr, "label", label, (bst_ulong)ntr));
    XGB_TRY(XGBoosterCreate(&dtr, 1, &b));
    char v[64];
    const int binary = n_classes == 2;
    if (binary) {
        XGB_TRY(XGBoosterSetParam(b, "objective", "binary:logistic"));
    } else {
        XGB_TRY(XGBoosterSetParam(b, "objective", "multi:softprob"));
        snprintf(v, sizeof v, "%d", n_classes);
        XGB_TRY(XGBoosterSetParam(b, "num_class", v));
    }
    if ((rc = mir_xgb_set_params(b, p, "colsample_bytree", seed, err))) goto done;
    for (int it = 0; it < p->xgb_rounds; it++) XGB_TRY(XGBoosterUpdateOneIter(b, it, dtr));
    pend(pr, 1);
    in_fit = 0;
    pbegin(pr, 0);
    in_pred = 1;
    XGB_TRY(XGDMatrixCreateFromMat(Xte, (bst_ulong)nte, (bst_ulong)d, NAN, &dte));
    bst_ulong len = 0;
    const float *out = NULL;
    XGB_TRY(XGBoosterPredict(b, dte, 0, 0, 0, &len, &out));
    if (len != (bst_ulong)nte * (bst_ulong)(binary ? 1 : n_classes)) {
        rc = mir_fail(err, "xgboost: %llu predictions for %d rows of %d classes", (unsigned long long)len, nte,
                      n_classes);
        goto done;
    }
    if (binary)
        for (int i = 0; i < nte; i++) {
            proba[2 * i] = 1.0f - out[i];
            proba[2 * i + 1] = out[i];
        }
    else
        memcpy(proba, out, (size_t)len * sizeof *proba);
done:
    if (in_fit) pend(pr, 1);
    if (in_pred) pend(pr, 0);
    if (b) XGBoosterFree(b);
    if (dte) XGDMatrixFree(dte);
    if (dtr) XGDMatrixFree(dtr);
    free(label);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* MLP: x (B,d) -> h = x W1 + b1 (B,H) -> a = gelu(h) -> logits = a W2 + b2 (B,C)                      */

typedef struct {
    int d, H, C;
    float *w; /* flat: W1 (d,H), b1 (H), W2 (H,C), b2 (C) */
    size_t n;
} mlp;

static float *W1(const mlp *m) { return m->w; }
static float *B1(const mlp *m) { return m->w + (size_t)m->d * m->H; }
static float *W2(const mlp *m) { return B1(m) + m->H; }
static float *B2(const mlp *m) { return W2(m) + (size_t)m->H * m->C; }

static void mlp_forward(const mlp *m, const float *x, int B, float *h, float *a, float *logits) {
    mir_linear_forward_f32(h, x, W1(m), B1(m), B, m->d, m->H);
    mir_gelu_forward_f32(a, h, (long)B * m->H);
    mir_linear_forward_f32(logits, a, W2(m), B2(m), B, m->H, m->C);
}

static int mlp_fit_predict(const mir_clf_params *p, const float *Xtr_raw, const int *ytr, int ntr, int d,
                           int n_classes, const float *Xte_raw, int nte, uint64_t seed, float *proba,
                           const mir_clf_probe *pr, mir_error *err) {
    (void)err;
    pbegin(pr, 1);
    const int H = p->mlp_hidden, C = n_classes;
    /* standardise with the training set's statistics (constant columns: deviation 1) */
    float *Xtr = mir_malloc((size_t)ntr * d * sizeof *Xtr), *Xte = mir_malloc((size_t)(nte ? nte : 1) * d * sizeof *Xte);
    for (int j = 0; j < d; j++) {
        double s = 0, s2 = 0;
        for (int i = 0; i < ntr; i++) s += Xtr_raw[(size_t)i * d + j];
        double mean = ntr ? s / ntr : 0;
        for (int i = 0; i < ntr; i++) {
            double t = Xtr_raw[(size_t)i * d + j] - mean;
            s2 += t * t;
        }
        double sd = ntr > 1 ? sqrt(s2 / ntr) : 0;
        if (!(sd > 1e-12)) sd = 1;
        for (int i = 0; i < ntr; i++) Xtr[(size_t)i * d + j] = (float)((Xtr_raw[(size_t)i * d + j] - mean) / sd);
        for (int i = 0; i < nte; i++) Xte[(size_t)i * d + j] = (float)((Xte_raw[(size_t)i * d + j] - mean) / sd);
    }
    mlp m = {d, H, C, NULL, 0};
    m.n = (size_t)d * H + H + (size_t)H * C + C;
    m.w = mir_calloc(m.n, sizeof *m.w);
    float *g = mir_calloc(m.n, sizeof *g), *mom = mir_calloc(m.n, sizeof *mom), *vel = mir_calloc(m.n, sizeof *vel);
    mir_rng r;
    mir_rng_seed(&r, seed, 0x6d6c70);
    for (size_t i = 0; i < (size_t)d * H; i++) W1(&m)[i] = (float)(mir_rng_normal(&r) / sqrt((double)d));
    for (size_t i = 0; i < (size_t)H * C; i++) W2(&m)[i] = (float)(mir_rng_normal(&r) / sqrt((double)H));
    const int Bmax = p->mlp_batch < ntr ? p->mlp_batch : ntr;
    float *xb = mir_malloc((size_t)Bmax * d * sizeof *xb), *h = mir_malloc((size_t)Bmax * H * sizeof *h);
    float *a = mir_malloc((size_t)Bmax * H * sizeof *a), *logits = mir_malloc((size_t)Bmax * C * sizeof *logits);
    float *probs = mir_malloc((size_t)Bmax * C * sizeof *probs), *dlog = mir_malloc((size_t)Bmax * C * sizeof *dlog);
    float *da = mir_malloc((size_t)Bmax * H * sizeof *da), *dh = mir_malloc((size_t)Bmax * H * sizeof *dh);
    int32_t *tb = mir_malloc((size_t)Bmax * sizeof *tb);
    int *order = mir_malloc((size_t)ntr * sizeof *order);
    for (int i = 0; i < ntr; i++) order[i] = i;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    long step = 0;
    for (int ep = 0; ep < p->mlp_epochs && ntr > 0; ep++) {
        for (int i = ntr - 1; i > 0; i--) {
            int j = (int)mir_rng_below(&r, (uint64_t)i + 1), t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        for (int s = 0; s < ntr; s += Bmax) {
            int B = ntr - s < Bmax ? ntr - s : Bmax;
            for (int i = 0; i < B; i++) {
                memcpy(xb + (size_t)i * d, Xtr + (size_t)order[s + i] * d, (size_t)d * sizeof *xb);
                tb[i] = ytr[order[s + i]];
            }
            mlp_forward(&m, xb, B, h, a, logits);
            int counted = 0;
            mir_xent_forward_f32(probs, logits, tb, B, C, &counted);
            memset(g, 0, m.n * sizeof *g);
            memset(dlog, 0, (size_t)B * C * sizeof *dlog);
            memset(da, 0, (size_t)B * H * sizeof *da);
            memset(dh, 0, (size_t)B * H * sizeof *dh);
            mir_xent_backward_f32(dlog, probs, tb, B, C, 1.0f / (float)B);
            mir_linear_backward_f32(da, g + (W2(&m) - m.w), g + (B2(&m) - m.w), dlog, a, W2(&m), B, H, C);
            mir_gelu_backward_f32(dh, h, da, (long)B * H);
            mir_linear_backward_f32(NULL, g, g + (B1(&m) - m.w), dh, xb, W1(&m), B, d, H);
            step++;
            double c1 = 1 - pow(b1, (double)step), c2 = 1 - pow(b2, (double)step);
            for (size_t k = 0; k < m.n; k++) {
                mom[k] = (float)(b1 * mom[k] + (1 - b1) * g[k]);
                vel[k] = (float)(b2 * vel[k] + (1 - b2) * (double)g[k] * g[k]);
                double upd = (mom[k] / c1) / (sqrt(vel[k] / c2) + eps);
                m.w[k] -= (float)(p->mlp_lr * (upd + p->mlp_weight_decay * m.w[k]));
            }
        }
    }
    pend(pr, 1);
    /* predict in chunks of Bmax rows (the standardisation of Xte above is charged to fitting) */
    pbegin(pr, 0);
    int32_t *none = mir_malloc((size_t)Bmax * sizeof *none);
    for (int i = 0; i < Bmax; i++) none[i] = -1;
    for (int s = 0; s < nte; s += Bmax) {
        int B = nte - s < Bmax ? nte - s : Bmax;
        mlp_forward(&m, Xte + (size_t)s * d, B, h, a, logits);
        mir_xent_forward_f32(proba + (size_t)s * C, logits, none, B, C, NULL);
    }
    pend(pr, 0);
    free(none); free(order); free(tb); free(dh); free(da); free(dlog); free(probs); free(logits); free(a); free(h);
    free(xb); free(vel); free(mom); free(g); free(m.w); free(Xte); free(Xtr);
    return 0;
}

int mir_clf_fit_predict(int kind, const mir_clf_params *p, const float *Xtr, const int *ytr, int ntr, int d,
                        int n_classes, const float *Xte, int nte, uint64_t seed, float *proba,
                        const mir_clf_probe *probe, mir_error *err) {
    if (ntr <= 0) return mir_fail(err, "%s: empty training set", mir_clf_name(kind));
    if (nte <= 0) return 0;
    for (int i = 0; i < ntr; i++)
        if (ytr[i] < 0 || ytr[i] >= n_classes)
            return mir_fail(err, "%s: training label %d outside [0, %d)", mir_clf_name(kind), ytr[i], n_classes);
    if (kind == MIR_CLF_XGB) return xgb_fit_predict(p, Xtr, ytr, ntr, d, n_classes, Xte, nte, seed, proba, probe, err);
    if (kind == MIR_CLF_MLP) return mlp_fit_predict(p, Xtr, ytr, ntr, d, n_classes, Xte, nte, seed, proba, probe, err);
    return mir_fail(err, "unknown classifier %d", kind);
}
