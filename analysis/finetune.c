/*
 * finetune.c: the encoder and two small heads trained end to end on device mapping, or one regression head on
 * thread coarsening (see finetune.h).
 *
 * Sections: the head (forward / backward), AdamW, one fold's training (both tasks), the device-mapping driver
 * over MPI, the thread-coarsening driver over MPI.
 */
#include "finetune.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cv.h"
#include "embed.h"
#include "irmodule.h"
#include "layers.h"
#include "model_file.h"
#include "mpi_util.h"
#include "protocol.h"
#include "regress.h"

void mir_ft_options_default(mir_ft_options *o) {
    *o = (mir_ft_options){4, 15, 8, 32, 5e-6, 3e-3, 0.01, 1.0, 0.2};
}

/* ------------------------------------------------------------------------------------------------ */
/* the head: x (R,Din) -> linear (Din,H) -> GELU -> linear (H,1) -> logit (R)                         */

typedef struct ft_head {
    float *w1, *b1, *w2, *b2; /* (Din,H) (H) (H,1) (1) */
} ft_head;

static size_t head_size(int Din, int H) { return (size_t)Din * H + 2 * (size_t)H + 1; }

static void head_point(ft_head *h, float *base, int Din, int H) {
    h->w1 = base;
    h->b1 = h->w1 + (size_t)Din * H;
    h->w2 = h->b1 + H;
    h->b2 = h->w2 + H;
}

/* w ~ N(0, 1/fan_in), biases 0 */
static void head_init(ft_head *h, int Din, int H, mir_rng *r) {
    for (size_t i = 0; i < (size_t)Din * H; i++) h->w1[i] = (float)(mir_rng_normal(r) / sqrt((double)Din));
    for (int i = 0; i < H; i++) {
        h->b1[i] = 0;
        h->w2[i] = (float)(mir_rng_normal(r) / sqrt((double)H));
    }
    h->b2[0] = 0;
}

/* pre (R,H), act (R,H) saved for backward; logit (R) */
static void head_forward(const ft_head *p, const float *x, float *pre, float *act, float *logit, int R, int Din, int H) {
    mir_linear_forward_f32(pre, x, p->w1, p->b1, R, Din, H);
    mir_gelu_forward_f32(act, pre, (long)R * H);
    mir_linear_forward_f32(logit, act, p->w2, p->b2, R, H, 1);
}

/* head gradients g += ; dx (R,Din) += ; dact, dpre (R,H) scratch */
static void head_backward(ft_head *g, float *dx, const float *dlogit, const ft_head *p, const float *x,
                          const float *pre, const float *act, float *dact, float *dpre, int R, int Din, int H) {
    memset(dact, 0, (size_t)R * H * sizeof *dact);
    memset(dpre, 0, (size_t)R * H * sizeof *dpre);
    mir_linear_backward_f32(dact, g->w2, g->b2, dlogit, act, p->w2, R, H, 1);
    mir_gelu_backward_f32(dpre, pre, dact, (long)R * H);
    mir_linear_backward_f32(dx, g->w1, g->b1, dpre, x, p->w1, R, Din, H);
}

/* ------------------------------------------------------------------------------------------------ */
/* AdamW                                                                                            */

typedef struct ft_adam {
    float *m, *v; /* (n) moments */
    size_t n;
} ft_adam;

/* p -= lr * (mhat / (sqrt(vhat) + eps) + wd * p), g scaled by gscale (clipping) first; t: step, 1-based */
static void adamw_step(ft_adam *a, float *p, const float *g, double lr, double wd, int64_t t, double gscale) {
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const float c1 = (float)(1.0 / (1.0 - pow(b1, (double)t))), c2 = (float)(1.0 / (1.0 - pow(b2, (double)t)));
    const float fl = (float)lr, fw = (float)wd, fs = (float)gscale;
    for (size_t i = 0; i < a->n; i++) {
        float gi = g[i] * fs;
        a->m[i] = (float)b1 * a->m[i] + (float)(1 - b1) * gi;
        a->v[i] = (float)b2 * a->v[i] + (float)(1 - b2) * gi * gi;
        p[i] -= fl * (a->m[i] * c1 / (sqrtf(a->v[i] * c2) + (float)eps) + fw * p[i]);
    }
}

static double sumsq(const float *g, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return s;
}

/* ------------------------------------------------------------------------------------------------ */
/* one fold                                                                                         */

enum { ROLE_NONE = 0, ROLE_TRAIN, ROLE_VAL, ROLE_TEST };

/* Everything a fold's training holds. */
typedef struct ft_run {
    const mir_ft_data *d;
    const mir_ft_options *o;
    int C, D, Din, H;          /* d_model, embedding 2C, head input 2C + na, head width */
    int nh, na;                /* heads (MIR_FT_HEADS; 1 for MIR_FT_REGRESS), features of a row per head (2; n_aux) */
    mir_config bcfg;           /* the batches' configuration: the reading mode's window and graph window */
    mir_model_f32 net;         /* the encoder (its own copy of the parameters) */
    float *hp, *hg;            /* (nh * head_size) head parameters, gradients */
    ft_head head[MIR_FT_HEADS], dhead[MIR_FT_HEADS];
    ft_adam opt_enc, opt_head;
    uint8_t *role;             /* (n) ROLE_* of each row */
    int *krow_start, *krow;    /* rows of each kernel: krow[krow_start[k] .. krow_start[k+1]) */
    float aux_mean[MIR_FT_HEADS][MIR_FT_MAX_AUX], aux_sd[MIR_FT_HEADS][MIR_FT_MAX_AUX];
    float *value;              /* MIR_FT_REGRESS: (n) the head's latest prediction of each row evaluated */
    float *emb_mean, *emb_sd;  /* (D) standardisation of the embedding, from the starting encoder */
    float *cache;              /* (n_kernels, D) the starting encoder's embeddings (the heads' warm-up) */
    mir_batch batch;
    mir_rng batch_rng;         /* mir_batch_build's stream (nothing is drawn with train = 0) */
    /* per-batch scratch, sized for the largest batch of rows */
    int cap_rows;
    float *emb, *demb;         /* (batch, D) */
    float *x, *dx, *pre, *act, *dpre, *dact, *logit, *dlogit, *y; /* (rows, Din) (rows, Din) (rows, H) x4, (rows) x3 */
    int *slot, *rows;          /* (rows) kernel slot in the batch, row index */
} ft_run;

static void run_scratch(ft_run *r, int rows) {
    if (rows <= r->cap_rows) return;
    r->cap_rows = rows;
    free(r->x); free(r->dx); free(r->pre); free(r->act); free(r->dpre); free(r->dact);
    free(r->logit); free(r->dlogit); free(r->y); free(r->slot); free(r->rows);
    r->x = mir_malloc((size_t)rows * r->Din * sizeof(float));
    r->dx = mir_malloc((size_t)rows * r->Din * sizeof(float));
    r->pre = mir_malloc((size_t)rows * r->H * sizeof(float));
    r->act = mir_malloc((size_t)rows * r->H * sizeof(float));
    r->dpre = mir_malloc((size_t)rows * r->H * sizeof(float));
    r->dact = mir_malloc((size_t)rows * r->H * sizeof(float));
    r->logit = mir_malloc((size_t)rows * sizeof(float));
    r->dlogit = mir_malloc((size_t)rows * sizeof(float));
    r->y = mir_malloc((size_t)rows * sizeof(float));
    r->slot = mir_malloc((size_t)rows * sizeof(int));
    r->rows = mir_malloc((size_t)rows * sizeof(int));
}

/* The rows of role `role` of the batch's kernels ks[0..B): r->rows, r->slot; returns their number. */
static int batch_rows(ft_run *r, const int *ks, int B, int role) {
    int m = 0;
    for (int i = 0; i < B; i++)
        for (int q = r->krow_start[ks[i]]; q < r->krow_start[ks[i] + 1]; q++)
            if (r->role[r->krow[q]] == role) m++;
    run_scratch(r, m);
    m = 0;
    for (int i = 0; i < B; i++)
        for (int q = r->krow_start[ks[i]]; q < r->krow_start[ks[i] + 1]; q++)
            if (r->role[r->krow[q]] == role) {
                r->rows[m] = r->krow[q];
                r->slot[m++] = i;
            }
    return m;
}

/* Forward of the encoder over kernels ks[0..B): r->emb (B, D). */
static void encode(ft_run *r, const int *ks, int B) {
    mir_module_view v[64];
    for (int i = 0; i < B; i++) v[i] = r->d->kernel_view[ks[i]];
    const mir_batch_options bo = {0.0f, 0, 0}; /* no masking, no pairs, windows from the start */
    mir_batch_build(&r->batch, v, B, &r->bcfg, &bo, &r->batch_rng);
    mir_model_embed_f32(&r->net, &r->batch, r->emb);
}

/* Head h's inputs for the m rows gathered by batch_rows: x (m, Din) = [emb of the row's kernel, its standardised
 * sizes (features)]; y (m) the labels (targets). */
static void head_inputs(ft_run *r, int h, int m) {
    const mir_ft_data *d = r->d;
    for (int i = 0; i < m; i++) {
        float *x = r->x + (size_t)i * r->Din;
        const int j = r->rows[i];
        const float *e = r->emb + (size_t)r->slot[i] * r->D;
        for (int c = 0; c < r->D; c++) x[c] = (e[c] - r->emb_mean[c]) / r->emb_sd[c];
        for (int a = 0; a < r->na; a++)
            x[r->D + a] = (d->aux[((size_t)h * d->n + j) * r->na + a] - r->aux_mean[h][a]) / r->aux_sd[h][a];
        r->y[i] = d->task == MIR_FT_REGRESS ? d->target[j] : (float)d->label[h][j];
    }
}

/* Loss of the batch's m rows (sum over heads of the mean BCE; MIR_FT_REGRESS: the mean squared error), after
 * encode (or r->emb filled from the cache) and batch_rows. grad 1: also the gradients of that loss (heads into
 * r->hg, the embedding into r->demb, then through the encoder into r->net.grads; all accumulated); grad 2: the
 * heads' only. pred (may be NULL): pred[h * n + row] = logit > 0. hits: right predictions. MIR_FT_REGRESS: each
 * row's prediction into r->value (pred and hits unused). */
static double batch_loss(ft_run *r, int B, int m, int grad, int *pred, int *hits) {
    double loss = 0;
    if (grad) memset(r->demb, 0, (size_t)B * r->D * sizeof *r->demb);
    const int regress = r->d->task == MIR_FT_REGRESS;
    for (int h = 0; h < r->nh && m > 0; h++) {
        head_inputs(r, h, m);
        head_forward(&r->head[h], r->x, r->pre, r->act, r->logit, m, r->Din, r->H);
        if (regress) {
            double se = 0;
            for (int i = 0; i < m; i++) {
                const double e = (double)r->logit[i] - r->y[i];
                se += e * e;
                r->value[r->rows[i]] = r->logit[i];
            }
            loss += se / m;
        } else {
            loss += (double)mir_bce_forward_f32(r->logit, r->y, m) / m;
            for (int i = 0; i < m; i++) {
                int p = r->logit[i] > 0;
                if (pred) pred[(size_t)h * r->d->n + r->rows[i]] = p;
                if (hits) *hits += p == (int)r->y[i];
            }
        }
        if (!grad) continue;
        if (regress) {
            for (int i = 0; i < m; i++) r->dlogit[i] = 2.0f * (r->logit[i] - r->y[i]) / (float)m; /* d mean (p - y)^2 */
        } else {
            memset(r->dlogit, 0, (size_t)m * sizeof *r->dlogit);
            mir_bce_backward_f32(r->dlogit, r->logit, r->y, m, 1.0f / (float)m);
        }
        memset(r->dx, 0, (size_t)m * r->Din * sizeof *r->dx);
        head_backward(&r->dhead[h], r->dx, r->dlogit, &r->head[h], r->x, r->pre, r->act, r->dact, r->dpre, m, r->Din,
                      r->H);
        for (int i = 0; i < m; i++) {
            float *de = r->demb + (size_t)r->slot[i] * r->D;
            const float *g = r->dx + (size_t)i * r->Din;
            for (int c = 0; c < r->D; c++) de[c] += g[c] / r->emb_sd[c];
        }
    }
    if (grad == 1 && m > 0) mir_model_backward_embed_f32(&r->net, &r->batch, r->demb, 1.0f);
    return loss;
}

/* Loss (and right predictions) over every kernel with rows of role `role`, in batches, no gradient; pred as in
 * batch_loss. Returns the mean over batches weighted by rows. */
static double eval_role(ft_run *r, const int *kernels, int nk, int role, int *pred, int *n_rows, int *hits) {
    double sum = 0;
    int rows = 0;
    for (int k0 = 0; k0 < nk; k0 += r->o->batch) {
        int B = nk - k0 < r->o->batch ? nk - k0 : r->o->batch;
        int m = batch_rows(r, kernels + k0, B, role);
        if (m == 0) continue;
        encode(r, kernels + k0, B);
        sum += batch_loss(r, B, m, 0, pred, hits) * m;
        rows += m;
    }
    if (n_rows) *n_rows = rows;
    return rows ? sum / rows : NAN;
}

/* MIR_FT_REGRESS, after eval_role over role `role`: each unit with rows of that role, its chosen row (the
 * largest r->value; ties: the first) and its default row into best (n_units), dflt (n_units); -1 for the other
 * units. Returns the number of units. */
static int unit_choices(const ft_run *r, int role, int *best, int *dflt) {
    const mir_ft_data *d = r->d;
    int nu = 0;
    for (int u = 0; u < d->n_units; u++) best[u] = dflt[u] = -1;
    for (int j = 0; j < d->n; j++) {
        if (r->role[j] != role) continue;
        const int u = d->unit[j];
        if (best[u] < 0) nu++;
        if (best[u] < 0 || r->value[j] > r->value[best[u]]) best[u] = j;
        if (d->is_default[j]) dflt[u] = j;
    }
    return nu;
}

/* The row a unit's safe rule picks under margin m: its best row when the predicted gain over the default row's
 * prediction exceeds m (mir_reg_decide), else the default row (the best one when the unit has no default). */
static int safe_row(const ft_run *r, int best, int dflt, double m) {
    if (dflt < 0) return best;
    return (double)r->value[best] - (double)r->value[dflt] > m ? best : dflt;
}

/* The figure early stopping maximises, after eval_role over the held-out rows (rows, hits from it): the accuracy
 * of both heads; MIR_FT_REGRESS: the held-out units' mean realised target at their chosen rows. NaN without
 * held-out rows. */
static double val_score(const ft_run *r, int rows, int hits) {
    if (r->d->task != MIR_FT_REGRESS) return rows ? (double)hits / ((double)rows * MIR_FT_HEADS) : NAN;
    const mir_ft_data *d = r->d;
    int *best = mir_malloc(((size_t)d->n_units + 1) * sizeof *best), *dflt = mir_malloc(((size_t)d->n_units + 1) * sizeof *dflt);
    const int nu = unit_choices(r, ROLE_VAL, best, dflt);
    double s = 0;
    for (int u = 0; u < d->n_units; u++)
        if (best[u] >= 0) s += d->target[best[u]];
    free(best);
    free(dflt);
    return nu ? s / nu : NAN;
}

/* MIR_FT_REGRESS, after eval_role over the held-out rows: the safe rule's margin, picked among mir_reg_margins
 * by mir_reg_choose_margin (MIR_REG_RULE_NO_LOSS, grouped by benchmark) on the held-out units' realised targets;
 * inf without held-out units. */
static double val_margin(const ft_run *r) {
    const mir_ft_data *d = r->d;
    int *best = mir_malloc(((size_t)d->n_units + 1) * sizeof *best), *dflt = mir_malloc(((size_t)d->n_units + 1) * sizeof *dflt);
    const int nu = unit_choices(r, ROLE_VAL, best, dflt);
    double *lv = mir_calloc((size_t)MIR_REG_N_MARGINS * nu + 1, sizeof *lv);
    int *grp = mir_malloc(((size_t)nu + 1) * sizeof *grp), i = 0;
    for (int u = 0; u < d->n_units; u++) {
        if (best[u] < 0) continue;
        grp[i] = d->group[best[u]];
        for (int m = 0; m < MIR_REG_N_MARGINS; m++)
            lv[(size_t)m * nu + i] = d->target[safe_row(r, best[u], dflt[u], mir_reg_margins[m])];
        i++;
    }
    double margin = nu ? mir_reg_margins[mir_reg_choose_margin(lv, grp, nu, MIR_REG_RULE_NO_LOSS)] : INFINITY;
    free(grp); free(lv); free(best); free(dflt);
    return margin;
}

/* The kernels with at least one row of role `role`, in index order; returns their number. */
static int kernels_with(const ft_run *r, int role, int *out) {
    int nk = 0;
    for (int k = 0; k < r->d->n_kernels; k++)
        for (int q = r->krow_start[k]; q < r->krow_start[k + 1]; q++)
            if (r->role[r->krow[q]] == role) {
                out[nk++] = k;
                break;
            }
    return nk;
}

/* Roles: test rows from the fold; the training rows' benchmarks shuffled and inner_frac of them (at least one,
 * when there are two or more) held out as ROLE_VAL. */
static void assign_roles(ft_run *r, const int *fold, int test, mir_rng *rng) {
    const mir_ft_data *d = r->d;
    int G = 0;
    for (int j = 0; j < d->n; j++)
        if (d->group[j] + 1 > G) G = d->group[j] + 1;
    uint8_t *present = mir_calloc((size_t)G + 1, 1), *held = mir_calloc((size_t)G + 1, 1);
    int *groups = mir_malloc(((size_t)G + 1) * sizeof *groups), ng = 0;
    for (int j = 0; j < d->n; j++)
        if (fold[j] != test) present[d->group[j]] = 1;
    for (int g = 0; g < G; g++)
        if (present[g]) groups[ng++] = g;
    mir_shuffle_int(groups, ng, rng);
    int nv = ng >= 2 ? (int)ceil(r->o->inner_frac * ng) : 0;
    if (nv >= ng) nv = ng - 1;
    for (int i = 0; i < nv; i++) held[groups[i]] = 1;
    for (int j = 0; j < d->n; j++)
        r->role[j] = fold[j] == test ? ROLE_TEST : held[d->group[j]] ? ROLE_VAL : ROLE_TRAIN;
    free(present); free(held); free(groups);
}

/* Mean and deviation of each head's size features (MIR_FT_REGRESS: row features) over the training rows
 * (deviation floored at 1e-3). */
static void aux_stats(ft_run *r) {
    const mir_ft_data *d = r->d;
    for (int h = 0; h < r->nh; h++)
        for (int a = 0; a < r->na; a++) {
            double s = 0, s2 = 0;
            int m = 0;
            for (int j = 0; j < d->n; j++)
                if (r->role[j] == ROLE_TRAIN) {
                    double v = d->aux[((size_t)h * d->n + j) * r->na + a];
                    s += v;
                    s2 += v * v;
                    m++;
                }
            double mean = m ? s / m : 0, var = m ? s2 / m - mean * mean : 1;
            r->aux_mean[h][a] = (float)mean;
            r->aux_sd[h][a] = (float)(var > 1e-6 ? sqrt(var) : 1e-3);
        }
}

static void run_free(ft_run *r) {
    mir_model_free_f32(&r->net);
    free(r->hp); free(r->hg);
    free(r->opt_enc.m); free(r->opt_enc.v); free(r->opt_head.m); free(r->opt_head.v);
    free(r->role); free(r->krow_start); free(r->krow);
    mir_batch_free(&r->batch);
    free(r->emb); free(r->demb);
    free(r->emb_mean); free(r->emb_sd); free(r->cache);
    free(r->x); free(r->dx); free(r->pre); free(r->act); free(r->dpre); free(r->dact);
    free(r->logit); free(r->dlogit); free(r->y); free(r->slot); free(r->rows);
    free(r->value);
}

static int run_init(ft_run *r, const mir_ft_data *d, const float *init, const mir_ft_options *o, mir_rng *rng,
                    mir_error *err) {
    memset(r, 0, sizeof *r);
    r->d = d;
    r->o = o;
    if (o->batch < 1 || o->batch > 64 || o->epochs < 1 || o->epochs > MIR_FT_MAX_EPOCHS || o->hidden < 1 ||
        o->head_epochs < 0)
        return mir_fail(err, "fine-tuning: batch 1..64, epochs 1..%d, head epochs >= 0 and a positive head width are "
                        "required", MIR_FT_MAX_EPOCHS);
    const int regress = d->task == MIR_FT_REGRESS;
    if (regress && (d->n_aux < 1 || d->n_aux > MIR_FT_MAX_AUX || !d->target || !d->unit || !d->is_default))
        return mir_fail(err, "fine-tuning: a regression needs 1..%d row features, targets, units and defaults",
                        MIR_FT_MAX_AUX);
    r->nh = regress ? 1 : MIR_FT_HEADS;
    r->na = regress ? d->n_aux : 2;
    if (mir_model_create_f32(&r->net, d->cfg)) return mir_fail(err, "fine-tuning: cannot create the model");
    memcpy(r->net.params, init, r->net.n_params * sizeof *init);
    r->C = d->cfg->d_model;
    r->D = 2 * r->C;
    r->Din = r->D + r->na;
    r->H = o->hidden;
    r->bcfg = *d->cfg;
    r->bcfg.max_seq = d->window;
    r->bcfg.max_nodes = d->max_nodes;
    const size_t hs = head_size(r->Din, r->H);
    r->hp = mir_calloc(r->nh * hs, sizeof *r->hp);
    r->hg = mir_calloc(r->nh * hs, sizeof *r->hg);
    for (int h = 0; h < r->nh; h++) {
        head_point(&r->head[h], r->hp + h * hs, r->Din, r->H);
        head_point(&r->dhead[h], r->hg + h * hs, r->Din, r->H);
        head_init(&r->head[h], r->Din, r->H, rng);
    }
    r->opt_enc = (ft_adam){mir_calloc(r->net.n_params, sizeof(float)), mir_calloc(r->net.n_params, sizeof(float)),
                           r->net.n_params};
    r->opt_head = (ft_adam){mir_calloc(r->nh * hs, sizeof(float)), mir_calloc(r->nh * hs, sizeof(float)),
                            r->nh * hs};
    if (regress) r->value = mir_calloc((size_t)d->n + 1, sizeof *r->value);
    r->role = mir_calloc((size_t)d->n, 1);
    /* rows of each kernel (counting sort) */
    r->krow_start = mir_calloc((size_t)d->n_kernels + 1, sizeof *r->krow_start);
    r->krow = mir_malloc(((size_t)d->n + 1) * sizeof *r->krow);
    for (int j = 0; j < d->n; j++)
        if (d->kernel[j] >= 0) r->krow_start[d->kernel[j] + 1]++;
    for (int k = 0; k < d->n_kernels; k++) r->krow_start[k + 1] += r->krow_start[k];
    int *fill = mir_calloc((size_t)d->n_kernels + 1, sizeof *fill);
    for (int j = 0; j < d->n; j++)
        if (d->kernel[j] >= 0) r->krow[r->krow_start[d->kernel[j]] + fill[d->kernel[j]]++] = j;
    free(fill);
    mir_batch_init(&r->batch);
    mir_rng_seed(&r->batch_rng, 0, 0);
    r->emb = mir_malloc((size_t)o->batch * r->D * sizeof *r->emb);
    r->demb = mir_malloc((size_t)o->batch * r->D * sizeof *r->demb);
    r->emb_mean = mir_malloc((size_t)r->D * sizeof *r->emb_mean);
    r->emb_sd = mir_malloc((size_t)r->D * sizeof *r->emb_sd);
    for (int c = 0; c < r->D; c++) {
        r->emb_mean[c] = 0;
        r->emb_sd[c] = 1;
    }
    r->cache = mir_calloc((size_t)d->n_kernels * r->D + 1, sizeof *r->cache);
    return 0;
}

/* The starting encoder's embeddings of the training kernels into r->cache; the standardisation: each value's mean
 * over them, and one deviation for all (the root mean of the values' variances, floored at 1e-6). */
static void standardise(ft_run *r, const int *kernels, int nk) {
    double *s = mir_calloc((size_t)r->D, sizeof *s), *s2 = mir_calloc((size_t)r->D, sizeof *s2);
    for (int k0 = 0; k0 < nk; k0 += r->o->batch) {
        const int B = nk - k0 < r->o->batch ? nk - k0 : r->o->batch;
        encode(r, kernels + k0, B);
        for (int i = 0; i < B; i++) {
            const float *e = r->emb + (size_t)i * r->D;
            memcpy(r->cache + (size_t)kernels[k0 + i] * r->D, e, (size_t)r->D * sizeof *e);
            for (int c = 0; c < r->D; c++) {
                s[c] += e[c];
                s2[c] += (double)e[c] * e[c];
            }
        }
    }
    double var_sum = 0;
    for (int c = 0; c < r->D && nk > 0; c++) {
        double mean = s[c] / nk, var = s2[c] / nk - mean * mean;
        r->emb_mean[c] = (float)mean;
        var_sum += var > 0 ? var : 0;
    }
    /* one scale for all values: dividing each by its own deviation would magnify the values that hardly vary
     * between kernels, and with them every step of the encoder (measured: the loss of the trained heads rose
     * tenfold in the first end-to-end epoch) */
    double sd = nk > 0 ? sqrt(var_sum / r->D) : 1.0;
    for (int c = 0; c < r->D; c++) r->emb_sd[c] = (float)(sd > 1e-6 ? sd : 1e-6);
    free(s);
    free(s2);
}

/* The heads alone, head_epochs epochs over the training kernels' cached embeddings (shuffled by rng); *step
 * counts the heads' updates. Writes the first and last epoch's mean loss into st. */
static void head_warmup(ft_run *r, int *kernels, int nk, mir_rng *rng, int64_t *step, mir_ft_stats *st) {
    const mir_ft_options *o = r->o;
    for (int e = 0; e < o->head_epochs; e++) {
        mir_shuffle_int(kernels, nk, rng);
        double sum = 0;
        int nb = 0;
        for (int k0 = 0; k0 < nk; k0 += o->batch) {
            const int B = nk - k0 < o->batch ? nk - k0 : o->batch;
            for (int i = 0; i < B; i++)
                memcpy(r->emb + (size_t)i * r->D, r->cache + (size_t)kernels[k0 + i] * r->D, (size_t)r->D * sizeof *r->emb);
            memset(r->hg, 0, r->opt_head.n * sizeof *r->hg);
            int m = batch_rows(r, kernels + k0, B, ROLE_TRAIN);
            sum += batch_loss(r, B, m, 2, NULL, NULL);
            nb++;
            double norm = sqrt(sumsq(r->hg, r->opt_head.n));
            double gscale = o->clip > 0 && norm > o->clip ? o->clip / norm : 1.0;
            ++*step;
            adamw_step(&r->opt_head, r->hp, r->hg, o->lr_head, o->weight_decay, *step, gscale);
        }
        double mean = nb ? sum / nb : NAN;
        if (e == 0) st->head_loss_first = mean;
        st->head_loss_last = mean;
    }
}

/* One epoch over the training kernels (shuffled by rng); returns the mean batch loss. *step counts updates. */
static double train_epoch(ft_run *r, int *kernels, int nk, mir_rng *rng, int64_t *step, int64_t *head_step,
                          int64_t warmup, mir_ft_stats *st) {
    const mir_ft_options *o = r->o;
    mir_shuffle_int(kernels, nk, rng);
    double sum = 0;
    int nb = 0;
    for (int k0 = 0; k0 < nk; k0 += o->batch) {
        const int B = nk - k0 < o->batch ? nk - k0 : o->batch;
        double t0 = mir_wall_seconds();
        memset(r->net.grads, 0, r->net.n_params * sizeof *r->net.grads);
        memset(r->hg, 0, r->opt_head.n * sizeof *r->hg);
        encode(r, kernels + k0, B);
        int m = batch_rows(r, kernels + k0, B, ROLE_TRAIN);
        sum += batch_loss(r, B, m, 1, NULL, NULL);
        nb++;
        double norm = sqrt(sumsq(r->net.grads, r->net.n_params) + sumsq(r->hg, r->opt_head.n));
        double gscale = o->clip > 0 && norm > o->clip ? o->clip / norm : 1.0;
        ++*step;
        double lr_enc = o->lr_encoder * (*step < warmup ? (double)*step / (double)warmup : 1.0);
        adamw_step(&r->opt_enc, r->net.params, r->net.grads, lr_enc, o->weight_decay, *step, gscale);
        ++*head_step;
        adamw_step(&r->opt_head, r->hp, r->hg, o->lr_head, o->weight_decay, *head_step, gscale);
        st->kernel_steps += B;
        st->step_seconds += mir_wall_seconds() - t0;
    }
    return nb ? sum / nb : NAN;
}

int mir_ft_fold(const mir_ft_data *d, const float *init, const int *fold, int test, const mir_ft_options *o,
                uint64_t seed, int *pred, mir_ft_stats *st, mir_error *err) {
    double t0 = mir_wall_seconds();
    memset(st, 0, sizeof *st);
    mir_rng rng;
    mir_rng_seed(&rng, seed, 0x66696e65); /* heads, inner split, batch order: this stream only */
    ft_run r;
    if (run_init(&r, d, init, o, &rng, err)) {
        run_free(&r);
        return -1;
    }
    assign_roles(&r, fold, test, &rng);
    aux_stats(&r);
    for (int j = 0; j < d->n; j++) {
        st->n_train_rows += r.role[j] == ROLE_TRAIN;
        st->n_val_rows += r.role[j] == ROLE_VAL;
        st->n_test_rows += r.role[j] == ROLE_TEST;
    }
    int *tk = mir_malloc(((size_t)d->n_kernels + 1) * sizeof *tk), *vk = mir_malloc(((size_t)d->n_kernels + 1) * sizeof *vk);
    const int ntk = kernels_with(&r, ROLE_TRAIN, tk), nvk = kernels_with(&r, ROLE_VAL, vk);
    /* the best epoch's parameters */
    float *best_enc = mir_malloc(r.net.n_params * sizeof *best_enc), *best_head = mir_malloc(r.opt_head.n * sizeof *best_head);
    int64_t step = 0, head_step = 0, warmup = (ntk + o->batch - 1) / o->batch;
    standardise(&r, tk, ntk);
    head_warmup(&r, tk, ntk, &rng, &head_step, st);
    /* epoch 0: the starting encoder with trained heads; then end to end. Kept: the best held-out accuracy, ties to
     * the lower held-out loss (accuracy is the figure reported; the loss of an overfitted head is dominated by a
     * few confident mistakes); without held-out rows, the last epoch */
    int hits = 0, rows = 0;
    st->val_loss0 = nvk ? eval_role(&r, vk, nvk, ROLE_VAL, NULL, &rows, &hits) : NAN;
    st->val_acc0 = st->val_acc = val_score(&r, rows, hits);
    double best_loss = st->val_loss0;
    memcpy(best_enc, r.net.params, r.net.n_params * sizeof *best_enc);
    memcpy(best_head, r.hp, r.opt_head.n * sizeof *best_head);
    for (int e = 0; e < o->epochs; e++) {
        st->train_loss[e] = train_epoch(&r, tk, ntk, &rng, &step, &head_step, warmup, st);
        hits = 0;
        st->val_loss[e] = nvk ? eval_role(&r, vk, nvk, ROLE_VAL, NULL, &rows, &hits) : NAN;
        double acc = val_score(&r, rows, hits);
        st->epochs = e + 1;
        if (!nvk || acc > st->val_acc || (acc == st->val_acc && st->val_loss[e] < best_loss)) {
            st->val_acc = acc;
            best_loss = st->val_loss[e];
            st->best_epoch = e + 1;
            memcpy(best_enc, r.net.params, r.net.n_params * sizeof *best_enc);
            memcpy(best_head, r.hp, r.opt_head.n * sizeof *best_head);
        }
    }
    memcpy(r.net.params, best_enc, r.net.n_params * sizeof *best_enc);
    memcpy(r.hp, best_head, r.opt_head.n * sizeof *best_head);
    int *xk = mir_malloc(((size_t)d->n_kernels + 1) * sizeof *xk);
    int nxk = kernels_with(&r, ROLE_TEST, xk);
    if (d->task == MIR_FT_REGRESS) {
        /* the margin from the kept parameters' held-out predictions, then the test units' choices */
        if (nvk) eval_role(&r, vk, nvk, ROLE_VAL, NULL, NULL, NULL);
        st->margin = nvk ? val_margin(&r) : INFINITY;
        eval_role(&r, xk, nxk, ROLE_TEST, NULL, NULL, NULL);
        int *best = mir_malloc(((size_t)d->n_units + 1) * sizeof *best), *dflt = mir_malloc(((size_t)d->n_units + 1) * sizeof *dflt);
        unit_choices(&r, ROLE_TEST, best, dflt);
        for (int j = 0; j < d->n; j++)
            if (r.role[j] == ROLE_TEST) pred[j] = 0;
        for (int u = 0; u < d->n_units; u++)
            if (best[u] >= 0) {
                pred[best[u]] |= 1;
                pred[safe_row(&r, best[u], dflt[u], st->margin)] |= 2;
            }
        free(best);
        free(dflt);
    } else {
        eval_role(&r, xk, nxk, ROLE_TEST, pred, NULL, NULL);
    }
    free(xk); free(tk); free(vk); free(best_enc); free(best_head);
    run_free(&r);
    st->seconds = mir_wall_seconds() - t0;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* the gradient against finite differences (tests)                                                  */

static double loss_at(ft_run *r, const int *ks, int B) {
    encode(r, ks, B);
    int m = batch_rows(r, ks, B, ROLE_TRAIN);
    return batch_loss(r, B, m, 0, NULL, NULL);
}

/* Central difference of the loss in one parameter p (step h) against the analytic g; counts it when the
 * larger of the two exceeds min_grad (float finite differences resolve nothing smaller). */
static void fd_one(ft_run *r, const int *ks, int B, float *p, double g, double h, double min_grad, double *worst,
                   int *checked) {
    const float keep = *p;
    *p = keep + (float)h;
    double lp = loss_at(r, ks, B);
    *p = keep - (float)h;
    double lm = loss_at(r, ks, B);
    *p = keep;
    double fd = (lp - lm) / (2 * h), big = fmax(fabs(fd), fabs(g));
    if (big < min_grad) return;
    double rel = fabs(fd - g) / big;
    if (rel > *worst) *worst = rel;
    ++*checked;
}

int mir_ft_check_gradient(const mir_ft_data *d, const float *init, const mir_ft_options *o, uint64_t seed, double h,
                          double min_grad, double *worst, int *checked, mir_error *err) {
    mir_rng rng;
    mir_rng_seed(&rng, seed, 0x66696e65);
    ft_run r;
    *worst = 0;
    *checked = 0;
    if (run_init(&r, d, init, o, &rng, err)) {
        run_free(&r);
        return -1;
    }
    memset(r.role, ROLE_TRAIN, (size_t)d->n);
    aux_stats(&r);
    int ks[64], B = d->n_kernels < o->batch ? d->n_kernels : o->batch;
    for (int i = 0; i < B; i++) ks[i] = i;
    standardise(&r, ks, B);
    memset(r.net.grads, 0, r.net.n_params * sizeof *r.net.grads);
    memset(r.hg, 0, r.opt_head.n * sizeof *r.hg);
    encode(&r, ks, B);
    batch_loss(&r, B, batch_rows(&r, ks, B, ROLE_TRAIN), 1, NULL, NULL);
    float *ge = mir_malloc(r.net.n_params * sizeof *ge), *gh = mir_malloc(r.opt_head.n * sizeof *gh);
    memcpy(ge, r.net.grads, r.net.n_params * sizeof *ge);
    memcpy(gh, r.hg, r.opt_head.n * sizeof *gh);
    for (size_t i = 0; i < r.opt_head.n; i += 7) fd_one(&r, ks, B, r.hp + i, gh[i], h, min_grad, worst, checked);
    for (size_t i = 0; i < r.net.n_params; i += 13) fd_one(&r, ks, B, r.net.params + i, ge[i], h, min_grad, worst, checked);
    free(ge);
    free(gh);
    run_free(&r);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* device mapping over the ranks                                                                    */

/* Encode the kernel files with the model's vocabulary, as far as the reading mode reads them (the first
 * `window` words; the graph whole, windowed by mir_batch_build). Files that did not embed stay empty. */
static int encode_kernels(char *const *kernel_file, int n_kernels, const mir_model *model, const uint8_t *ok,
                          int window, mir_encoded *enc, int *n_bad) {
    const mir_vocab *v = mir_model_vocab(model);
    int encoded = 0;
    *n_bad = 0;
    for (int k = 0; k < n_kernels; k++) {
        memset(&enc[k], 0, sizeof enc[k]);
        if (!ok[k]) {
            ++*n_bad;
            continue;
        }
        mir_error e = {{0}};
        char *data = NULL;
        size_t bytes = 0;
        int rc = mir_read_file(kernel_file[k], &data, &bytes, &e);
        if (!rc) {
            LLVMContextRef ctx = LLVMContextCreate();
            LLVMModuleRef mod = NULL;
            rc = mir_parse_ir(ctx, data, bytes, kernel_file[k], &mod, &e);
            if (!rc) {
                rc = mir_encode_module(v, mod, window, &enc[k], &e);
                LLVMDisposeModule(mod);
            }
            LLVMContextDispose(ctx);
        }
        free(data);
        if (rc) {
            mir_log(MIR_LOG_WARN, "fine-tuning: %s: %s (read as an empty module)", kernel_file[k], e.msg);
            mir_encoded_free(&enc[k]);
            ++*n_bad;
        } else {
            encoded++;
        }
    }
    return encoded;
}

/* Totals of a task's trainings, summed over ranks: per start {folds, best epochs, first loss, last loss, warm-up
 * kept, head first, head last} (FT_PER each), then {kernel steps, step seconds, fold seconds}. */
enum { FT_PER = 7, FT_TOT = FT_PER * MIR_FT_N_INITS + 3 };

static void ft_tot_add(double *tot, int init, const mir_ft_stats *st) {
    double *t = tot + FT_PER * init;
    t[0] += 1;
    t[1] += st->best_epoch;
    t[2] += st->train_loss[0];
    t[3] += st->train_loss[st->epochs - 1];
    t[4] += st->best_epoch == 0;
    t[5] += st->head_loss_first;
    t[6] += st->head_loss_last;
    tot[FT_PER * MIR_FT_N_INITS] += (double)st->kernel_steps;
    tot[FT_PER * MIR_FT_N_INITS + 1] += st->step_seconds;
    tot[FT_PER * MIR_FT_N_INITS + 2] += st->seconds;
}

/* The summary's means from the (already all-reduced) totals. */
static void ft_tot_summarise(const double *tot, mir_ft_summary *sum) {
    for (int i = 0; i < MIR_FT_N_INITS; i++) {
        const double *t = tot + FT_PER * i;
        sum->n_jobs += (int)t[0];
        sum->mean_best_epoch[i] = t[0] ? t[1] / t[0] : NAN;
        sum->loss_first[i] = t[0] ? t[2] / t[0] : NAN;
        sum->loss_last[i] = t[0] ? t[3] / t[0] : NAN;
        sum->kept_warmup[i] = t[0] ? t[4] / t[0] : NAN;
        sum->head_loss[i][0] = t[0] ? t[5] / t[0] : NAN;
        sum->head_loss[i][1] = t[0] ? t[6] / t[0] : NAN;
    }
    const double ks = tot[FT_PER * MIR_FT_N_INITS];
    sum->ms_per_kernel_step = ks > 0 ? 1e3 * tot[FT_PER * MIR_FT_N_INITS + 1] / ks : NAN;
    sum->cpu_seconds = tot[FT_PER * MIR_FT_N_INITS + 2];
}

/* What both tasks do first: refuse a statement-level model, fill the summary's reading mode and budget, and make
 * the two starts (start[MIR_FT_PRETRAINED]: the checkpoint's weights; start[MIR_FT_RANDOM]: mir_model_file_write_random's
 * draw, the random-weights encoder), agreeing across ranks. 0, or -1 with err filled on every rank (starts freed). */
static int ft_prepare(const mir_model *model, const char *model_path, const char *task, const mir_ft_options *o,
                      uint64_t seed, MPI_Comm comm, mir_ft_summary *sum, mir_model_f32 start[MIR_FT_N_INITS],
                      mir_error *err) {
    const mir_config *cfg = mir_model_config(model);
    const mir_embed_options fast = mir_embed_options_fast(model);
    int size;
    MPI_Comm_size(comm, &size);
    memset(sum, 0, sizeof *sum);
    /* its batches are token windows of the kernels' words (encode_kernels): a statement-level model would need
     * statement windows and separators there */
    if (cfg->statements)
        return mir_fail(err, "%s: a statement-level model (statements = 1) cannot be fine-tuned yet; embed with it "
                        "(%s without --finetune) or fine-tune a token-level model", model_path, task);
    sum->window = fast.window ? fast.window : cfg->max_seq;
    sum->max_nodes = fast.max_nodes ? fast.max_nodes : cfg->max_nodes;
    sum->epochs = o->epochs;
    sum->hidden = o->hidden;
    sum->head_epochs = o->head_epochs;
    sum->n_ranks = size;
    for (int i = 0; i < MIR_FT_N_INITS; i++)
        if (mir_model_create_f32(&start[i], cfg)) {
            for (int j = 0; j < i; j++) mir_model_free_f32(&start[j]);
            return mir_fail(err, "fine-tuning: cannot create the model");
        }
    int rc = mir_checkpoint_load(model_path, cfg, start[MIR_FT_PRETRAINED].params, NULL, NULL, err);
    mir_rng rr;
    mir_rng_seed(&rr, seed, MIR_RANDOM_MODEL_STREAM); /* mir_model_file_write_random's draw: the random-weights encoder */
    mir_model_init_params_f32(&start[MIR_FT_RANDOM], &rr);
    if (mir_mpi_agree(comm, rc, err)) {
        for (int i = 0; i < MIR_FT_N_INITS; i++) mir_model_free_f32(&start[i]);
        return -1;
    }
    return 0;
}

int mir_devmap_finetune(const mir_devmap *d, const mir_model *model, const char *model_path, const uint8_t *ok,
                        const mir_ft_options *o, uint64_t seed, const mir_ft_split *splits, int n_splits,
                        MPI_Comm comm, int quiet, int *pred, mir_ft_summary *sum, mir_error *err) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const double t0 = mir_wall_seconds();
    const int n = d->n;
    const mir_config *cfg = mir_model_config(model);
    mir_model_f32 start[MIR_FT_N_INITS];
    if (ft_prepare(model, model_path, "devmap", o, seed, comm, sum, start, err)) return -1;
    int rc = 0;
    /* the kernels, as the fast mode reads them */
    mir_encoded *enc = mir_calloc((size_t)d->n_kernels + 1, sizeof *enc);
    mir_module_view *views = mir_calloc((size_t)d->n_kernels + 1, sizeof *views);
    sum->n_encoded = encode_kernels(d->kernel_file, d->n_kernels, model, ok, sum->window, enc, &sum->n_unreadable);
    for (int k = 0; k < d->n_kernels; k++) views[k] = mir_encoded_view(&enc[k]);
    float *aux = mir_malloc((size_t)MIR_FT_HEADS * n * 2 * sizeof *aux);
    for (int h = 0; h < MIR_FT_HEADS; h++)
        for (int j = 0; j < n; j++) {
            aux[((size_t)h * n + j) * 2] = (float)log2(1.0 + d->transfer[h][j]);
            aux[((size_t)h * n + j) * 2 + 1] = (float)log2(1.0 + d->wgsize[h][j]);
        }
    mir_ft_data data = {cfg, sum->window, sum->max_nodes, d->n_kernels, views, n, d->kernel, d->group, aux,
                        {d->label[MIR_DEVMAP_AMD], d->label[MIR_DEVMAP_NVIDIA]}, MIR_FT_CLASSIFY, 0, NULL, NULL, NULL, 0};
    /* the jobs: (start, split, fold) */
    int n_jobs = 0;
    for (int s = 0; s < n_splits; s++) n_jobs += MIR_FT_N_INITS * splits[s].k;
    const size_t per = (size_t)MIR_FT_HEADS * n;
    int *mine = mir_calloc((size_t)MIR_FT_N_INITS * n_splits * per, sizeof *mine); /* pred + 1 where this rank's */
    int *tmp = mir_malloc(per * sizeof *tmp);
    double tot[FT_TOT] = {0};
    int job = 0, done = 0;
    for (int s = 0; s < n_splits && !rc; s++)
        for (int init = 0; init < MIR_FT_N_INITS && !rc; init++)
            for (int f = 0; f < splits[s].k && !rc; f++, job++) {
                if (job % size != rank) continue;
                int has = 0;
                for (int j = 0; j < n && !has; j++) has = splits[s].fold[j] == f;
                if (!has) continue;
                for (size_t i = 0; i < per; i++) tmp[i] = -1;
                mir_ft_stats st;
                uint64_t js = mir_seed_mix(mir_seed_mix(seed, splits[s].tag), (uint64_t)f);
                rc = mir_ft_fold(&data, start[init].params, splits[s].fold, f, o, js, tmp, &st, err);
                if (rc) break;
                int *dst = mine + ((size_t)init * n_splits + s) * per;
                for (int h = 0; h < MIR_FT_HEADS; h++)
                    for (int j = 0; j < n; j++)
                        if (splits[s].fold[j] == f && splits[s].score[h]) dst[(size_t)h * n + j] = tmp[(size_t)h * n + j] + 1;
                ft_tot_add(tot, init, &st);
                done++;
                if (!quiet)
                    mir_log(rank == 0 ? MIR_LOG_INFO : MIR_LOG_DEBUG,
                            "fine-tuning: job %d of %d (%s start, split %d, fold %d): heads alone %.3f -> %.3f (held "
                            "out: %.1f %%), %d epochs, epoch %d kept (held out: %.1f %%), train loss %.3f -> %.3f, "
                            "%.0f s (%.1f ms per kernel step)", job + 1, n_jobs, init ? "random" : "pre-trained", s, f,
                            st.head_loss_first, st.head_loss_last, 100 * st.val_acc0, st.epochs, st.best_epoch,
                            100 * st.val_acc, st.train_loss[0],
                            st.train_loss[st.epochs - 1], st.seconds,
                            st.kernel_steps ? 1e3 * st.step_seconds / (double)st.kernel_steps : 0.0);
            }
    free(tmp);
    if ((rc = mir_mpi_agree(comm, rc, err)) == 0) {
        MPI_Allreduce(MPI_IN_PLACE, mine, (int)((size_t)MIR_FT_N_INITS * n_splits * per), MPI_INT, MPI_SUM, comm);
        MPI_Allreduce(MPI_IN_PLACE, tot, FT_TOT, MPI_DOUBLE, MPI_SUM, comm);
        for (size_t i = 0; i < (size_t)MIR_FT_N_INITS * n_splits * per; i++) pred[i] = mine[i] - 1;
        sum->n_jobs = 0;
        ft_tot_summarise(tot, sum);
    }
    (void)done;
    sum->seconds = mir_wall_seconds() - t0;
    free(mine);
    free(aux);
    for (int k = 0; k < d->n_kernels; k++) mir_encoded_free(&enc[k]);
    free(enc);
    free(views);
    for (int i = 0; i < MIR_FT_N_INITS; i++) mir_model_free_f32(&start[i]);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* thread coarsening over the ranks                                                                 */

enum { CF_NG = MIR_COARSEN_N_GPUS, CF_NF = MIR_COARSEN_N_FACTORS, CF_AUX = CF_NG + 1 };

int mir_coarsen_finetune(const mir_coarsen *c, const mir_model *model, const char *model_path, const uint8_t *ok,
                         const mir_ft_options *o, uint64_t seed, int n_seeds, MPI_Comm comm, int quiet, int *choice,
                         double *margin, mir_ft_summary *sum, mir_error *err) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const double t0 = mir_wall_seconds();
    const int nk = c->n, NU = CF_NG * nk;
    const mir_config *cfg = mir_model_config(model);
    mir_model_f32 start[MIR_FT_N_INITS];
    if (ft_prepare(model, model_path, "coarsen", o, seed, comm, sum, start, err)) return -1;
    int rc = 0;
    mir_encoded *enc = mir_calloc((size_t)nk + 1, sizeof *enc);
    mir_module_view *views = mir_calloc((size_t)nk + 1, sizeof *views);
    sum->n_encoded = encode_kernels(c->kernel_file, nk, model, ok, sum->window, enc, &sum->n_unreadable);
    for (int k = 0; k < nk; k++) views[k] = mir_encoded_view(&enc[k]);
    /* the rows: every measured (kernel, GPU, factor); features [one-hot GPU, log2(factor)], target the log
     * speedup over factor 1 (factor 1 is a row of its own, target 0: the default) */
    const size_t cap = (size_t)nk * CF_NG * CF_NF;
    int *kernel = mir_malloc(cap * sizeof *kernel), *unit = mir_malloc(cap * sizeof *unit);
    int *fac = mir_malloc(cap * sizeof *fac);
    float *aux = mir_malloc(cap * CF_AUX * sizeof *aux), *target = mir_malloc(cap * sizeof *target);
    uint8_t *dflt = mir_malloc(cap);
    int n = 0;
    for (int k = 0; k < nk; k++)
        for (int g = 0; g < CF_NG; g++)
            for (int f = 0; f < CF_NF; f++) {
                const double sp = mir_coarsen_speedup(c, g, k, f);
                if (isnan(sp)) continue;
                kernel[n] = k;
                unit[n] = g * nk + k;
                fac[n] = f;
                for (int q = 0; q < CF_NG; q++) aux[(size_t)n * CF_AUX + q] = q == g ? 1.0f : 0.0f;
                aux[(size_t)n * CF_AUX + CF_NG] = (float)f; /* log2(mir_coarsen_factor[f]) */
                target[n] = (float)log(sp);
                dflt[n] = f == 0;
                n++;
            }
    mir_ft_data data = {cfg, sum->window, sum->max_nodes, nk, views, n, kernel, kernel, aux, {NULL, NULL},
                        MIR_FT_REGRESS, CF_AUX, target, unit, dflt, NU};
    const int n_jobs = MIR_FT_N_INITS * n_seeds * nk;
    const size_t per = (size_t)2 * NU;
    /* choice + 1 where this rank's (summed over the ranks), margins likewise (0 elsewhere) */
    int *mine = mir_calloc((size_t)MIR_FT_N_INITS * n_seeds * per, sizeof *mine);
    double *mmine = mir_calloc((size_t)MIR_FT_N_INITS * n_seeds * nk, sizeof *mmine);
    int *tmp = mir_malloc(((size_t)n + 1) * sizeof *tmp);
    double tot[FT_TOT] = {0};
    int job = 0;
    for (int s = 0; s < n_seeds && !rc; s++)
        for (int init = 0; init < MIR_FT_N_INITS && !rc; init++)
            for (int f = 0; f < nk && !rc; f++, job++) {
                if (job % size != rank) continue;
                mir_ft_stats st;
                /* the frozen regression's seed of this seed index (coarsen.c), then the fold */
                const uint64_t js = mir_seed_mix(mir_seed_mix(mir_seed_mix(seed, (uint64_t)s), 0x7e9c0a25u), (uint64_t)f);
                for (int j = 0; j < n; j++) tmp[j] = -1;
                rc = mir_ft_fold(&data, start[init].params, kernel, f, o, js, tmp, &st, err);
                if (rc) break;
                int *dst = mine + ((size_t)init * n_seeds + s) * per;
                for (int j = 0; j < n; j++) {
                    if (kernel[j] != f || tmp[j] <= 0) continue;
                    if (tmp[j] & 1) dst[unit[j]] = fac[j] + 1;
                    if (tmp[j] & 2) dst[NU + unit[j]] = fac[j] + 1;
                }
                mmine[((size_t)init * n_seeds + s) * nk + f] = st.margin;
                ft_tot_add(tot, init, &st);
                if (!quiet)
                    mir_log(rank == 0 ? MIR_LOG_INFO : MIR_LOG_DEBUG,
                            "fine-tuning: job %d of %d (%s start, seed %d, kernel %s out): head alone %.4f -> %.4f, "
                            "%d epochs, epoch %d kept (held-out log speedup %.3f -> %.3f), train loss %.4f -> %.4f, "
                            "margin %g, %.0f s (%.1f ms per kernel step)", job + 1, n_jobs,
                            init ? "random" : "pre-trained", s, c->kernel[f], st.head_loss_first, st.head_loss_last,
                            st.epochs, st.best_epoch, st.val_acc0, st.val_acc, st.train_loss[0],
                            st.train_loss[st.epochs - 1], st.margin, st.seconds,
                            st.kernel_steps ? 1e3 * st.step_seconds / (double)st.kernel_steps : 0.0);
            }
    free(tmp);
    if ((rc = mir_mpi_agree(comm, rc, err)) == 0) {
        const size_t nc = (size_t)MIR_FT_N_INITS * n_seeds * per, nm = (size_t)MIR_FT_N_INITS * n_seeds * nk;
        MPI_Allreduce(MPI_IN_PLACE, mine, (int)nc, MPI_INT, MPI_SUM, comm);
        MPI_Allreduce(MPI_IN_PLACE, mmine, (int)nm, MPI_DOUBLE, MPI_SUM, comm);
        MPI_Allreduce(MPI_IN_PLACE, tot, FT_TOT, MPI_DOUBLE, MPI_SUM, comm);
        for (size_t i = 0; i < nc; i++) choice[i] = mine[i] - 1;
        memcpy(margin, mmine, nm * sizeof *margin);
        ft_tot_summarise(tot, sum);
    }
    sum->seconds = mir_wall_seconds() - t0;
    free(mine); free(mmine);
    free(kernel); free(unit); free(fac); free(aux); free(target); free(dflt);
    for (int k = 0; k < nk; k++) mir_encoded_free(&enc[k]);
    free(enc);
    free(views);
    for (int i = 0; i < MIR_FT_N_INITS; i++) mir_model_free_f32(&start[i]);
    return rc;
}
