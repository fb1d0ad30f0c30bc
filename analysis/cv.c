/* cv.c: outer folds with an inner cross-validation that picks the classifier (see cv.h). */
#include "cv.h"

#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "protocol.h"

uint64_t mir_seed_mix(uint64_t a, uint64_t b) {
    uint64_t z = a * 0x9e3779b97f4a7c15ULL + b + 0x632be59bd9b4e019ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Fit on rows tr (ntr), predict rows te (nte) into pred (nte). */
static int fit_predict_rows(const mir_cv_task *t, int kind, const int *tr, int ntr, const int *te, int nte,
                            uint64_t seed, int *pred, int64_t *n_fits, int64_t *n_predicted, mir_error *err) {
    const int d = t->d, C = t->n_classes;
    float *Xtr = mir_malloc((size_t)ntr * d * sizeof *Xtr), *Xte = mir_malloc((size_t)(nte ? nte : 1) * d * sizeof *Xte);
    int *ytr = mir_malloc((size_t)ntr * sizeof *ytr);
    float *proba = mir_malloc((size_t)(nte ? nte : 1) * C * sizeof *proba);
    for (int i = 0; i < ntr; i++) {
        memcpy(Xtr + (size_t)i * d, t->X + (size_t)tr[i] * d, (size_t)d * sizeof *Xtr);
        ytr[i] = t->y[tr[i]];
    }
    for (int i = 0; i < nte; i++) memcpy(Xte + (size_t)i * d, t->X + (size_t)te[i] * d, (size_t)d * sizeof *Xte);
    mir_clf_probe pr = {t->probe, t->phase_fit + kind, t->phase_predict + kind};
    int rc = mir_clf_fit_predict(kind, t->params, Xtr, ytr, ntr, d, C, Xte, nte, seed, proba, &pr, err);
    if (n_fits) n_fits[kind]++;
    if (n_predicted) n_predicted[kind] += nte;
    if (!rc)
        for (int i = 0; i < nte; i++) {
            pred[i] = mir_argmax_allowed(proba + (size_t)i * C, t->allowed ? t->allowed + (size_t)te[i] * C : NULL, C);
            if (pred[i] < 0) pred[i] = 0;
        }
    free(proba); free(ytr); free(Xte); free(Xtr);
    return rc;
}

int mir_cv_run(const mir_cv_task *t, const int *fold, int k, uint64_t seed, int *pred[MIR_CLF_N + 1], int *chosen,
               int64_t *n_fits, int64_t *n_predicted, mir_error *err) {
    const int n = t->n;
    int *tr = mir_malloc((size_t)n * sizeof *tr), *te = mir_malloc((size_t)n * sizeof *te);
    int *itr = mir_malloc((size_t)n * sizeof *itr), *ite = mir_malloc((size_t)n * sizeof *ite);
    int *inner = mir_malloc((size_t)n * sizeof *inner), *sub = mir_malloc((size_t)n * sizeof *sub);
    int *ipred = mir_malloc((size_t)n * sizeof *ipred), *pooled = mir_malloc((size_t)n * sizeof *pooled);
    int *tmp = mir_malloc((size_t)n * sizeof *tmp);
    int rc = 0;
    for (int f = 0; f < k && !rc; f++) {
        int ntr = 0, nte = 0;
        for (int i = 0; i < n; i++) {
            if (fold[i] == f) te[nte++] = i;
            else tr[ntr++] = i;
        }
        chosen[f] = -1;
        if (nte == 0 || ntr == 0) {
            for (int i = 0; i < nte; i++)
                for (int c = 0; c <= MIR_CLF_N; c++) pred[c][te[i]] = 0;
            continue;
        }
        /* inner folds over the training rows (their labels / groups, local indices) */
        mir_rng r;
        mir_rng_seed(&r, mir_seed_mix(seed, (uint64_t)f), 0x696e6e6572);
        int ik = t->inner_k < ntr ? t->inner_k : ntr;
        if (t->inner == MIR_INNER_STRATIFIED) {
            for (int i = 0; i < ntr; i++) sub[i] = t->y[tr[i]];
            mir_folds_stratified(sub, ntr, t->n_classes, ik, &r, inner);
        } else if (t->inner == MIR_INNER_GROUPED && t->group) {
            for (int i = 0; i < ntr; i++) sub[i] = t->group[tr[i]];
            mir_folds_grouped(sub, ntr, ik, &r, inner);
        } else {
            mir_folds_random(ntr, ik, &r, inner);
        }
        double best_score = 0;
        int best = MIR_CLF_XGB;
        for (int kind = 0; kind < MIR_CLF_N && !rc; kind++) {
            if (ik < 2) break; /* too few rows to choose: XGBoost */
            for (int g = 0; g < ik && !rc; g++) {
                int nitr = 0, nite = 0;
                for (int i = 0; i < ntr; i++) {
                    if (inner[i] == g) ite[nite++] = i;
                    else itr[nitr++] = i;
                }
                if (!nite || !nitr) continue;
                for (int i = 0; i < nitr; i++) tmp[i] = tr[itr[i]];
                int *gte = sub; /* reuse: global ids of the inner test rows */
                for (int i = 0; i < nite; i++) gte[i] = tr[ite[i]];
                rc = fit_predict_rows(t, kind, tmp, nitr, gte, nite,
                                      mir_seed_mix(mir_seed_mix(seed, (uint64_t)f), (uint64_t)(100 + g * MIR_CLF_N + kind)),
                                      ipred, n_fits, n_predicted, err);
                for (int i = 0; i < nite; i++) pooled[ite[i]] = ipred[i];
            }
            if (rc) break;
            double s = t->score(t->ctx, tr, pooled, ntr);
            if (kind == 0 || s > best_score) {
                best_score = s;
                best = kind;
            }
        }
        chosen[f] = best;
        for (int kind = 0; kind < MIR_CLF_N && !rc; kind++) {
            rc = fit_predict_rows(t, kind, tr, ntr, te, nte, mir_seed_mix(mir_seed_mix(seed, (uint64_t)f), (uint64_t)kind),
                                  ipred, n_fits, n_predicted, err);
            for (int i = 0; i < nte; i++) pred[kind][te[i]] = ipred[i];
        }
        for (int i = 0; i < nte; i++) pred[MIR_CLF_N][te[i]] = pred[best][te[i]];
    }
    free(tmp); free(pooled); free(ipred); free(sub); free(inner); free(ite); free(itr); free(te); free(tr);
    return rc;
}
