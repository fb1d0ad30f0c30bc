/*
 * coarsen.c: thread coarsening (Magni et al. PACT'14 data): for each of 4 GPUs, leave-one-kernel-out over
 * the 17 kernels; the classifier predicts the coarsening factor among those measured for the held-out
 * kernel on that GPU; speedup = runtime at factor 1 / runtime at the predicted factor.
 *
 * Runs: feature set x GPU x seed, shared out over the ranks. The outer folds are fixed (one per kernel);
 * the seed drives the inner 4-fold split and the classifiers. The inner criterion is the mean speedup.
 *
 * With --finetune, two more rows of the regression table: the encoder and the regression head trained end to end
 * in every outer fold of every seed (finetune.h, mir_coarsen_finetune), from the pre-trained and from random
 * weights, with paired verdicts against the frozen regression.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "cv.h"
#include "data.h"
#include "embed.h"
#include "finetune.h"
#include "kernel_features.h"
#include "model_file.h"
#include "mpi_util.h"
#include "paired.h"
#include "probe.h"
#include "protocol.h"
#include "regress.h"

enum { FS_EMB, FS_OPC, FS_TOK, FS_GRAPH, FS_RANDOM, FS_BOTH, FS_PROP, FS_N };
static const char *const fs_name[FS_N] = {"mirencoder", "opcodes", "tokens-only", "graph-only", "random-weights",
                                          "mirencoder+opcodes", "opcode-shares"};
static const char *const fs_label[FS_N] = {"MIREncoder embedding (pre-trained)", "opcode counts (baseline)",
                                           "token half of the embedding", "graph half of the embedding",
                                           "encoder with random weights", "embedding and opcode counts together",
                                           "opcode shares (counts / instructions)"};
static const char *const variant_name[MIR_CLF_N + 1] = {"xgboost", "mlp", "selected"};
#define NG MIR_COARSEN_N_GPUS
#define NF MIR_COARSEN_N_FACTORS

/* published per-GPU arithmetic means (Cypress, Tahiti, Fermi, Kepler): ../shared/DESIGN.md */
static const struct { const char *name; double sp[NG]; } published[] = {
    {"Magni et al. (PACT'14)", {1.21, 1.01, 0.86, 0.94}},
    {"DeepTune (PACT'17)", {1.10, 1.05, 1.10, 0.99}},
    {"inst2vec (NeurIPS'18)", {1.29, 1.07, 0.97, 1.01}},
    {"IR2Vec flow-aware (TACO'20)", {1.24, 1.30, 1.26, 1.16}}};

typedef struct { int fs, gpu, seed; } run_id;

typedef struct {
    const mir_coarsen *c;
    int gpu;
} score_ctx;

static double rt(const mir_coarsen *c, int g, int k, int f) { return c->runtime[g][(size_t)k * NF + f]; }

static double score_speedup(void *ctx, const int *rows, const int *pred, int m) {
    const score_ctx *s = ctx;
    double sum = 0;
    for (int i = 0; i < m; i++) sum += mir_coarsen_speedup(s->c, s->gpu, rows[i], pred[i]);
    return m ? sum / m : 0;
}

static int fs_dim(int fs, int D) {
    return fs == FS_OPC || fs == FS_PROP ? MIR_N_OPCODES : fs == FS_TOK || fs == FS_GRAPH ? D / 2 : fs == FS_BOTH ? D + MIR_N_OPCODES : D;
}

enum { PH_EMBED, PH_EMBED_RANDOM, PH_OPCODES, PH_FIT, PH_PREDICT = PH_FIT + MIR_CLF_N, PH_N = PH_PREDICT + MIR_CLF_N };
static const char *const phase_names[PH_N] = {"embed", "embed-random", "opcodes", "fit xgboost", "fit mlp",
                                              "predict xgboost", "predict mlp"};

static int find_run(const run_id *runs, int n_runs, int fs, int gpu, int seed) {
    for (int r = 0; r < n_runs; r++)
        if (runs[r].fs == fs && runs[r].gpu == gpu && runs[r].seed == seed) return r;
    return -1;
}

/* X (n, fs_dim(fs, D)): the kernels' features of feature set fs. emb, rnd (n, D); opc (n, MIR_N_OPCODES). */
static void fill_features(int fs, int n, int D, const float *emb, const float *rnd, const double *opc, float *X) {
    const int dim = fs_dim(fs, D);
    for (int k = 0; k < n; k++) {
        float *x = X + (size_t)k * dim;
        if (fs == FS_EMB) memcpy(x, emb + (size_t)k * D, (size_t)D * sizeof *x);
        else if (fs == FS_RANDOM) memcpy(x, rnd + (size_t)k * D, (size_t)D * sizeof *x);
        else if (fs == FS_TOK) memcpy(x, emb + (size_t)k * D, (size_t)(D / 2) * sizeof *x);
        else if (fs == FS_GRAPH) memcpy(x, emb + (size_t)k * D + D / 2, (size_t)(D / 2) * sizeof *x);
        else if (fs == FS_BOTH) {
            memcpy(x, emb + (size_t)k * D, (size_t)D * sizeof *x);
            for (int q = 0; q < MIR_N_OPCODES; q++) x[D + q] = (float)opc[(size_t)k * MIR_N_OPCODES + q];
        } else if (fs == FS_PROP) mir_opcode_shares(opc + (size_t)k * MIR_N_OPCODES, x);
        else for (int q = 0; q < MIR_N_OPCODES; q++) x[q] = (float)opc[(size_t)k * MIR_N_OPCODES + q];
    }
}

static void pm(FILE *f, double mean, double sd, int n) {
    if (isnan(mean)) fprintf(f, " — |");
    else if (n > 1) fprintf(f, " %.3f ± %.3f |", mean, sd);
    else fprintf(f, " %.3f |", mean);
}

/* ---------------- regression pooled over the GPUs, and the safe rule (regress.h, issue 15) ---------------- */

/* Predictors of the reports: classification (the selected classifier), regression, safe. */
enum { RP_CLF, RP_REG, RP_SAFE, RP_N };
static const char *const rp_name[RP_N] = {"selected", "regression", "safe"};
static const char *const rp_label[RP_N] = {"classification (selected)", "regression", "safe (regression, margin)"};
#define NRF 3 /* feature sets of the regression */
static const int reg_fs[NRF] = {FS_EMB, FS_OPC, FS_RANDOM};
/* rows of the regression aggregates: the NRF frozen feature sets, then the encoder fine-tuned (--finetune) from
 * the pre-trained and from random weights (row NRF + MIR_FT_PRETRAINED / MIR_FT_RANDOM) */
#define NRA (NRF + MIR_FT_N_INITS)
static const char *const ra_name[NRA] = {"mirencoder", "opcodes", "random-weights", "finetuned-pretrained",
                                         "finetuned-random"};
static const char *ra_label(int j) {
    return j < NRF ? fs_label[reg_fs[j]] : j == NRF + MIR_FT_PRETRAINED ? "encoder fine-tuned from the pre-trained weights"
                                                                        : "encoder fine-tuned from random weights";
}

typedef struct {
    const float *X; /* (n, dim) the kernels' features */
    int dim, n;
} reg_ctx;

/* Row of unit u = g * n + k at factor index f: the kernel's features (dim), the GPU one-hot (NG), log2(factor). */
static void reg_row(const void *ctx, int u, int f, float *x) {
    const reg_ctx *r = ctx;
    int k = u % r->n, g = u / r->n;
    memcpy(x, r->X + (size_t)k * r->dim, (size_t)r->dim * sizeof *x);
    for (int q = 0; q < NG; q++) x[r->dim + q] = q == g ? 1.0f : 0.0f;
    x[r->dim + NG] = (float)f; /* mir_coarsen_factor[f] = 2^f */
}

typedef struct reg_runs {
    int S, n, NU;   /* seeds, kernels, units (NG * n) */
    int on[NRF];    /* feature sets run */
    int *choice;    /* (NRF * S, 2, NU): factor index of regression [0] and safe [1], run j * S + s */
    double *margin; /* (NRF * S, n): the safe margin picked in each outer fold (leave kernel k out) */
    int64_t fits;
    /* --finetune (mir_coarsen_finetune): ft_choice (MIR_FT_N_INITS * S, 2, NU), ft_margin (MIR_FT_N_INITS * S, n) */
    int ft_on;
    int *ft_choice;
    double *ft_margin;
    mir_ft_summary fts;
} reg_runs;

static void reg_runs_free(reg_runs *rr) {
    free(rr->choice);
    free(rr->margin);
    free(rr->ft_choice);
    free(rr->ft_margin);
    rr->choice = rr->ft_choice = NULL;
    rr->margin = rr->ft_margin = NULL;
}

/* --finetune: the encoder and the regression head trained end to end in every outer fold of every seed, from both
 * starts, into rr->ft_*. Collective. */
static int coarsen_finetune(const mir_coarsen *c, const mir_analyze_options *o, const mir_model *model,
                            const uint8_t *ok, MPI_Comm comm, reg_runs *rr, mir_error *err) {
    mir_ft_options fo;
    mir_ft_options_default(&fo);
    /* the same number of head steps as device mapping's warm-up (15 epochs of ~84 batches of 8 kernels, ~1,260
     * steps): 13 training kernels in batches of 4 make 4 steps an epoch, so 300 epochs (on cached embeddings: cheap);
     * measured with devmap's 15 epochs of 2 batches (30 steps) the head learnt only the (GPU, factor) means and every
     * unit chose factor 1 */
    fo.batch = 4;
    fo.head_epochs = 300;
    if (o->finetune_epochs) fo.epochs = o->finetune_epochs;
    const int S = o->n_seeds, n = c->n;
    rr->ft_choice = mir_calloc((size_t)MIR_FT_N_INITS * S * 2 * NG * n, sizeof *rr->ft_choice);
    rr->ft_margin = mir_calloc((size_t)MIR_FT_N_INITS * S * n, sizeof *rr->ft_margin);
    if (mir_coarsen_finetune(c, model, o->model, ok, &fo, o->seed, S, comm, o->quiet, rr->ft_choice, rr->ft_margin,
                             &rr->fts, err))
        return -1;
    rr->ft_on = 1;
    return 0;
}

/* The regression runs (feature set x seed), shared out over the ranks; every rank gets all the choices. */
static int coarsen_regress(const mir_coarsen *c, const mir_analyze_options *o, const int *fs_on, int D,
                           const float *emb, const float *rnd, const double *opc, MPI_Comm comm, reg_runs *rr,
                           mir_error *err) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const int n = c->n, NU = NG * n, S = o->n_seeds;
    *rr = (reg_runs){S, n, NU, {0}, NULL, NULL, 0, 0, NULL, NULL, {0}};
    for (int j = 0; j < NRF; j++) rr->on[j] = fs_on[reg_fs[j]];
    rr->choice = mir_calloc((size_t)NRF * S * 2 * NU, sizeof *rr->choice);
    rr->margin = mir_calloc((size_t)NRF * S * n, sizeof *rr->margin);
    double *gain = mir_malloc((size_t)NU * NF * sizeof *gain);
    int *group = mir_malloc((size_t)NU * sizeof *group), *reg = mir_malloc((size_t)NU * sizeof *reg);
    int *safe = mir_malloc((size_t)NU * sizeof *safe);
    for (int u = 0; u < NU; u++) {
        group[u] = u % n;
        for (int f = 0; f < NF; f++) gain[(size_t)u * NF + f] = log(mir_coarsen_speedup(c, u / n, u % n, f));
    }
    float *X = mir_malloc((size_t)n * (size_t)fs_dim(FS_BOTH, D) * sizeof *X);
    int rc = 0;
    for (int r = rank; r < NRF * S && !rc; r += size) {
        int j = r / S, s = r % S;
        if (!rr->on[j]) continue;
        fill_features(reg_fs[j], n, D, emb, rnd, opc, X);
        reg_ctx ctx = {X, fs_dim(reg_fs[j], D), n};
        mir_reg_task t = {NU, NF, ctx.dim + NG + 1, reg_row, &ctx, gain, 0, group, n, 4, &o->clf, MIR_REG_RULE_NO_LOSS};
        uint64_t seed = mir_seed_mix(mir_seed_mix(o->seed, (uint64_t)s), 0x7e9c0a25u);
        rc = mir_reg_run(&t, seed, reg, safe, rr->margin + (size_t)r * n, &rr->fits, err);
        for (int u = 0; u < NU && !rc; u++) {
            rr->choice[((size_t)r * 2 + 0) * NU + u] = reg[u] + 2;
            rr->choice[((size_t)r * 2 + 1) * NU + u] = safe[u] + 2;
        }
    }
    free(X); free(safe); free(reg); free(group); free(gain);
    rc = mir_reg_runs_combine(comm, rc, rr->choice, NRF * S * 2 * NU, rr->margin, NRF * S * n, &rr->fits, err);
    if (rc) reg_runs_free(rr);
    return rc;
}

/* Aggregates of one predictor over seeds, from spd (S, NG, n) speedups. */
typedef struct pred_agg {
    int on, S;
    double gmean[NG], gsd[NG]; /* per GPU: arithmetic mean over the kernels; mean and deviation over seeds */
    double geo, geosd;         /* geometric mean over the NG * n predictions; mean and deviation over seeds */
    double losses, worst;      /* fraction of the S * NG * n predictions below 1.0; the smallest speedup */
    double inf_share;          /* safe: fraction of the outer folds whose margin was inf (NaN otherwise) */
    double *unit_log;          /* (NG * n) log speedup of each (kernel, GPU), mean over the seeds */
} pred_agg;

static void agg_of(const double *spd, int S, int n, pred_agg *a) {
    double *m = mir_malloc((size_t)S * sizeof *m);
    int lost = 0;
    a->worst = INFINITY;
    for (int g = 0; g < NG; g++) {
        for (int s = 0; s < S; s++) m[s] = mir_mean(spd + ((size_t)s * NG + g) * n, n);
        a->gmean[g] = mir_mean(m, S);
        a->gsd[g] = mir_stddev(m, S);
    }
    for (int s = 0; s < S; s++) m[s] = mir_geomean(spd + (size_t)s * NG * n, NG * n);
    a->geo = mir_mean(m, S);
    a->geosd = mir_stddev(m, S);
    a->unit_log = mir_calloc((size_t)NG * n, sizeof *a->unit_log);
    for (int s = 0; s < S; s++)
        for (int u = 0; u < NG * n; u++) {
            double v = spd[(size_t)s * NG * n + u];
            lost += v < 1.0;
            if (v < a->worst) a->worst = v;
            a->unit_log[u] += log(v) / S;
        }
    a->losses = (double)lost / ((double)S * NG * n);
    a->inf_share = NAN;
    a->on = 1;
    a->S = S;
    free(m);
}

/* The three predictors of each regression feature set: agg[j][RP_*]. sp (n_runs, 3, n): the classification's
 * speedups. */
static void coarsen_reg_aggregate(const mir_coarsen *c, const reg_runs *rr, const double *sp, const run_id *runs,
                                  int n_runs, const int *nseeds, pred_agg agg[NRA][RP_N]) {
    const int n = rr->n, S = rr->S;
    memset(agg, 0, sizeof(pred_agg) * NRA * RP_N);
    for (int i = 0; i < MIR_FT_N_INITS && rr->ft_on; i++) {
        double *spd = mir_malloc((size_t)S * NG * n * sizeof *spd);
        for (int p = 0; p < 2; p++) {
            for (int s = 0; s < S; s++)
                for (int u = 0; u < rr->NU; u++)
                    spd[(size_t)s * rr->NU + u] =
                        mir_coarsen_speedup(c, u / n, u % n, rr->ft_choice[(((size_t)i * S + s) * 2 + p) * rr->NU + u]);
            agg_of(spd, S, n, &agg[NRF + i][RP_REG + p]);
        }
        int inf = 0;
        for (int q = 0; q < S * n; q++) inf += isinf(rr->ft_margin[(size_t)i * S * n + q]);
        agg[NRF + i][RP_SAFE].inf_share = (double)inf / (S * n);
        free(spd);
    }
    for (int j = 0; j < NRF; j++) {
        if (!rr->on[j]) continue;
        int fs = reg_fs[j], Sc = nseeds[fs];
        double *spd = mir_malloc((size_t)(S > Sc ? S : Sc) * NG * n * sizeof *spd);
        for (int s = 0; s < Sc; s++)
            for (int g = 0; g < NG; g++)
                memcpy(spd + ((size_t)s * NG + g) * n, sp + ((size_t)find_run(runs, n_runs, fs, g, s) * 3 + 2) * n,
                       (size_t)n * sizeof *spd);
        agg_of(spd, Sc, n, &agg[j][RP_CLF]);
        for (int p = 0; p < 2; p++) {
            for (int s = 0; s < S; s++)
                for (int u = 0; u < rr->NU; u++)
                    spd[(size_t)s * rr->NU + u] =
                        mir_coarsen_speedup(c, u / n, u % n, rr->choice[(((size_t)j * S + s) * 2 + p) * rr->NU + u]);
            agg_of(spd, S, n, &agg[j][RP_REG + p]);
        }
        int inf = 0;
        for (int i = 0; i < S * n; i++) inf += isinf(rr->margin[(size_t)j * S * n + i]);
        agg[j][RP_SAFE].inf_share = (double)inf / (S * n);
        free(spd);
    }
}

static void pred_agg_free(pred_agg agg[NRA][RP_N]) {
    for (int j = 0; j < NRA; j++)
        for (int p = 0; p < RP_N; p++) free(agg[j][p].unit_log);
}

/* Paired comparisons: a = (feature set ja, predictor pa) against b (jb < 0: the default, log speedup 0). */
static const struct {
    const char *name, *what;
    int ja, pa, jb, pb;
} paired_def[] = {
    {"embedding_vs_opcodes", "embedding against opcode counts (classification)", 0, RP_CLF, 1, RP_CLF},
    {"pretrained_vs_random", "pre-trained against random weights (classification)", 0, RP_CLF, 2, RP_CLF},
    {"safe_vs_classification", "safe against classification (embedding)", 0, RP_SAFE, 0, RP_CLF},
    {"regression_vs_classification", "regression against classification (embedding)", 0, RP_REG, 0, RP_CLF},
    {"safe_vs_regression", "safe against regression (embedding)", 0, RP_SAFE, 0, RP_REG},
    {"regression_embedding_vs_opcodes", "embedding against opcode counts (regression)", 0, RP_REG, 1, RP_REG},
    {"regression_pretrained_vs_random", "pre-trained against random weights (regression)", 0, RP_REG, 2, RP_REG},
    {"safe_embedding_vs_opcodes", "embedding against opcode counts (safe)", 0, RP_SAFE, 1, RP_SAFE},
    {"safe_pretrained_vs_random", "pre-trained against random weights (safe)", 0, RP_SAFE, 2, RP_SAFE},
    {"safe_vs_default", "safe (embedding) against never coarsening", 0, RP_SAFE, -1, 0},
    {"safe_opcodes_vs_default", "safe (opcode counts) against never coarsening", 1, RP_SAFE, -1, 0},
    {"safe_random_vs_default", "safe (random weights) against never coarsening", 2, RP_SAFE, -1, 0},
    /* --finetune */
    {"finetuned_vs_frozen", "fine-tuned (pre-trained start) against the frozen embedding (regression)", NRF, RP_REG, 0,
     RP_REG},
    {"finetuned_pretrained_vs_random", "fine-tuned: pre-trained against random start (regression)", NRF, RP_REG,
     NRF + 1, RP_REG},
    {"finetuned_random_vs_frozen_random", "fine-tuned (random start) against the frozen random weights (regression)",
     NRF + 1, RP_REG, 2, RP_REG},
    {"finetuned_vs_opcodes", "fine-tuned (pre-trained start) against opcode counts (regression)", NRF, RP_REG, 1,
     RP_REG},
    {"finetuned_vs_default", "fine-tuned (pre-trained start, regression) against never coarsening", NRF, RP_REG, -1, 0},
    {"finetuned_safe_vs_frozen_safe", "fine-tuned (pre-trained start) against the frozen embedding (safe)", NRF, RP_SAFE,
     0, RP_SAFE},
    {"finetuned_safe_vs_default", "safe (fine-tuned, pre-trained start) against never coarsening", NRF, RP_SAFE, -1, 0},
};
#define N_PAIRED ((int)(sizeof paired_def / sizeof *paired_def))

/* ok[i]: comparison i could be made (both sides run); res[i] its interval. */
static void coarsen_paired(pred_agg agg[NRA][RP_N], int NU, mir_paired *res, int *ok) {
    double *zero = mir_calloc((size_t)NU, sizeof *zero);
    for (int i = 0; i < N_PAIRED; i++) {
        const pred_agg *a = &agg[paired_def[i].ja][paired_def[i].pa];
        const pred_agg *b = paired_def[i].jb < 0 ? NULL : &agg[paired_def[i].jb][paired_def[i].pb];
        ok[i] = a->on && (!b || b->on);
        if (ok[i]) mir_paired_t(a->unit_log, b ? b->unit_log : zero, NU, &res[i]);
    }
    free(zero);
}

/* summary.md: the predictors' table and the paired verdicts. */
static void coarsen_reg_md(FILE *f, pred_agg agg[NRA][RP_N], const reg_runs *rr, const mir_paired *res, const int *ok,
                           int n) {
    fprintf(f, "## Regression over the pooled GPUs, and the do-no-harm rule\n\n"
               "`regression`: ONE XGBoost regressor (reg:squarederror) per outer fold, trained on every measured (factor, "
               "GPU) row of the %d training kernels (features: the kernel's, the GPU one-hot, log2(factor); target: "
               "log(runtime at factor 1 / runtime at the factor)); it predicts every factor measured for the held-out "
               "kernel on each GPU and takes the argmax. `safe`: the same, but factor 1 unless the predicted gain over "
               "factor 1's own prediction exceeds a margin m in {0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, inf}, picked by inner "
               "4-fold cross-validation grouped by kernel on the training kernels only (criterion: geometric-mean "
               "speedup of the pooled inner predictions; ties: the larger margin; inf = never coarsen; a finite margin "
               "competes only when its inner gain over factor 1 is significant, a 95 %% paired t interval over the inner "
               "kernels above 0, and it made no inner (kernel, GPU) slower than factor 1: do no harm). Losses: share of "
               "the predictions (all seeds) slower than factor 1; worst: the smallest speedup.\n\n", n - 1);
    fprintf(f, "| features, predictor | Cypress | Tahiti | Fermi | Kepler | geomean (all %d) | losses | worst | "
               "margin inf (%% of folds) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n", NG * n);
    for (int j = 0; j < NRA; j++)
        for (int p = 0; p < RP_N; p++) {
            const pred_agg *a = &agg[j][p];
            if (!a->on) continue;
            fprintf(f, "| %s%s, %s%s |", p == RP_SAFE ? "**" : "", ra_label(j), rp_label[p], p == RP_SAFE ? "**" : "");
            for (int g = 0; g < NG; g++) pm(f, a->gmean[g], a->gsd[g], a->S);
            pm(f, a->geo, a->geosd, a->S);
            fprintf(f, " %.1f %% | %.3f |", 100 * a->losses, a->worst);
            if (isnan(a->inf_share)) fprintf(f, " |\n");
            else fprintf(f, " %.0f |\n", 100 * a->inf_share);
        }
    if (rr->ft_on) {
        const mir_ft_summary *t = &rr->fts;
        fprintf(f, "\n### Fine-tuning (--finetune)\n\nThe fine-tuned rows: in every outer fold of every seed (the same "
                   "leave-one-kernel-out folds), the encoder and ONE regression head (an MLP, width %d, on the "
                   "standardised embedding, the GPU one-hot and log2(factor); squared error against the log speedup "
                   "over factor 1; factor 1 is a row of its own, target 0) trained end to end on the training kernels' "
                   "rows: the head alone for %d epochs, then at most %d epochs end to end, the epoch kept by the mean "
                   "realised log speedup of a fifth of the training kernels held out (never the test kernel), from the "
                   "pre-trained and from random weights (analysis/finetune.h). `regression`: the argmax factor. `safe`: "
                   "factor 1 unless the predicted gain over factor 1's prediction exceeds a margin picked by the rule "
                   "above on the held-out training kernels' predictions (not inner cross-validation: one training per "
                   "fold). Reading mode: the first window of %d tokens and a graph window of %d nodes.\n\n"
                   "Training loss (mean squared error, mean over folds): pre-trained start %.4f -> %.4f (head alone), "
                   "%.4f -> %.4f (end to end; mean epoch kept %.2f); random start %.4f -> %.4f, %.4f -> %.4f (%.2f).\n\n"
                   "Cost: %d trainings in %.0f s of wall time on %d rank(s) (%.0f s summed over the trainings, %.1f ms "
                   "per kernel for forward, backward and update).\n",
                t->hidden, t->head_epochs, t->epochs, t->window, t->max_nodes, t->head_loss[0][0], t->head_loss[0][1],
                t->loss_first[0], t->loss_last[0], t->mean_best_epoch[0], t->head_loss[1][0], t->head_loss[1][1],
                t->loss_first[1], t->loss_last[1], t->mean_best_epoch[1], t->n_jobs, t->seconds, t->n_ranks,
                t->cpu_seconds, t->ms_per_kernel_step);
    }
    fprintf(f, "\nPaired verdicts. Unit: a held-out (kernel, GPU), its log speedup averaged over the seeds first (the "
               "seeds reuse the same folds, so they are not independent units); 95 %% Student-t interval of the mean "
               "paired difference (analysis/paired.h); a positive difference favours the first named.\n\n");
    for (int i = 0; i < N_PAIRED; i++)
        if (ok[i]) mir_paired_md(f, paired_def[i].what, &res[i], "kernel×GPU units");
    fprintf(f, "\n");
}

/* metrics.csv rows of the regression predictors (features,classifier,gpu,metric,mean,sd,seeds). */
static void coarsen_reg_metrics(FILE *f, pred_agg agg[NRA][RP_N]) {
    for (int j = 0; j < NRA; j++)
        for (int p = RP_REG; p < RP_N; p++) {
            const pred_agg *a = &agg[j][p];
            if (!a->on) continue;
            const char *fn = ra_name[j];
            for (int g = 0; g < NG; g++)
                fprintf(f, "%s,%s,%s,speedup_mean,%.6g,%.6g,%d\n", fn, rp_name[p], mir_coarsen_gpu_name[g], a->gmean[g],
                        a->gsd[g], a->S);
            fprintf(f, "%s,%s,all,speedup_geomean,%.6g,%.6g,%d\n", fn, rp_name[p], a->geo, a->geosd, a->S);
            fprintf(f, "%s,%s,all,losses,%.6g,,%d\n%s,%s,all,worst,%.6g,,%d\n", fn, rp_name[p], a->losses, a->S, fn,
                    rp_name[p], a->worst, a->S);
            if (!isnan(a->inf_share)) fprintf(f, "%s,%s,all,margin_inf_share,%.6g,,%d\n", fn, rp_name[p], a->inf_share, a->S);
        }
}

/* {"Cypress": {"speedup": ..}, ..., "geomean": .., "losses": .., "worst": ..} */
static void agg_json(FILE *f, const pred_agg *a) {
    fprintf(f, "{");
    for (int g = 0; g < NG; g++) {
        fprintf(f, "%s\"%s\": {\"speedup\": ", g ? ", " : "", mir_coarsen_gpu_name[g]);
        mir_json_number(f, a->gmean[g]);
        fprintf(f, "}");
    }
    fprintf(f, ", \"geomean\": ");
    mir_json_number(f, a->geo);
    fprintf(f, ", \"losses\": ");
    mir_json_number(f, a->losses);
    fprintf(f, ", \"worst\": ");
    mir_json_number(f, a->worst);
    fprintf(f, "}");
}

/* summary.json's keys of issue 15 (after the top-level ones): regression, safe, their per-feature-set entries,
 * paired. */
static void coarsen_reg_json(FILE *f, pred_agg agg[NRA][RP_N], const reg_runs *rr, const mir_paired *res,
                             const int *ok) {
    for (int p = RP_REG; p < RP_N; p++) {
        fprintf(f, ", \"%s\": ", rp_name[p]);
        agg_json(f, &agg[0][p]);
    }
    for (int p = RP_REG; p < RP_N; p++) {
        fprintf(f, ", \"%s_by_features\": {", rp_name[p]);
        for (int j = 0, first = 1; j < NRF; j++) {
            if (!agg[j][p].on) continue;
            fprintf(f, "%s\"%s\": ", first ? "" : ", ", fs_name[reg_fs[j]]);
            agg_json(f, &agg[j][p]);
            first = 0;
        }
        fprintf(f, "}");
    }
    if (rr->ft_on) {
        /* "finetune": {"pretrained": <as "regression">, "random": .., "safe": {"pretrained": .., "random": ..}, ..} */
        const mir_ft_summary *t = &rr->fts;
        static const char *const start[MIR_FT_N_INITS] = {"pretrained", "random"};
        fprintf(f, ", \"finetune\": {");
        for (int i = 0; i < MIR_FT_N_INITS; i++) {
            fprintf(f, "\"%s\": ", start[i]);
            agg_json(f, &agg[NRF + i][RP_REG]);
            fprintf(f, ", ");
        }
        fprintf(f, "\"safe\": {");
        for (int i = 0; i < MIR_FT_N_INITS; i++) {
            fprintf(f, "%s\"%s\": ", i ? ", " : "", start[i]);
            agg_json(f, &agg[NRF + i][RP_SAFE]);
        }
        fprintf(f, "}, \"train_loss\": {");
        for (int i = 0; i < MIR_FT_N_INITS; i++) {
            fprintf(f, "%s\"%s\": {\"head_first_epoch\": ", i ? ", " : "", start[i]);
            mir_json_number(f, t->head_loss[i][0]);
            fprintf(f, ", \"head_last_epoch\": ");
            mir_json_number(f, t->head_loss[i][1]);
            fprintf(f, ", \"first_epoch\": ");
            mir_json_number(f, t->loss_first[i]);
            fprintf(f, ", \"last_epoch\": ");
            mir_json_number(f, t->loss_last[i]);
            fprintf(f, ", \"mean_best_epoch\": ");
            mir_json_number(f, t->mean_best_epoch[i]);
            fprintf(f, "}");
        }
        /* no timings: the file is the same at any number of ranks (the cost is in summary.md) */
        fprintf(f, "}, \"epochs\": %d, \"head_epochs\": %d, \"hidden\": %d, \"window\": %d, \"max_nodes\": %d, "
                   "\"trainings\": %d}", t->epochs, t->head_epochs, t->hidden, t->window, t->max_nodes, t->n_jobs);
    }
    fprintf(f, ", \"paired\": {");
    for (int i = 0, first = 1; i < N_PAIRED; i++)
        if (ok[i]) {
            mir_paired_json(f, paired_def[i].name, &res[i], first);
            first = 0;
        }
    fprintf(f, "}");
}

/* predictions-regression.csv: every (features, predictor, seed, GPU, kernel) choice. */
static int coarsen_reg_predictions(const char *dir, const mir_coarsen *c, const reg_runs *rr, mir_error *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/predictions-regression.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f) return mir_fail(err, "%s: cannot write", path);
    fprintf(f, "features,predictor,seed,gpu,kernel,predicted_factor,speedup,safe_margin\n");
    for (int j = 0; j < NRF; j++)
        for (int p = 0; p < 2 && rr->on[j]; p++)
            for (int s = 0; s < rr->S; s++)
                for (int u = 0; u < rr->NU; u++) {
                    int fac = rr->choice[(((size_t)j * rr->S + s) * 2 + p) * rr->NU + u], k = u % rr->n, g = u / rr->n;
                    fprintf(f, "%s,%s,%d,%s,%s,%d,%.6g,%g\n", fs_name[reg_fs[j]], rp_name[RP_REG + p], s,
                            mir_coarsen_gpu_name[g], c->kernel[k], mir_coarsen_factor[fac],
                            mir_coarsen_speedup(c, g, k, fac), rr->margin[((size_t)j * rr->S + s) * rr->n + k]);
                }
    for (int i = 0; i < MIR_FT_N_INITS && rr->ft_on; i++)
        for (int p = 0; p < 2; p++)
            for (int s = 0; s < rr->S; s++)
                for (int u = 0; u < rr->NU; u++) {
                    int fac = rr->ft_choice[(((size_t)i * rr->S + s) * 2 + p) * rr->NU + u], k = u % rr->n, g = u / rr->n;
                    fprintf(f, "%s,%s,%d,%s,%s,%d,%.6g,%g\n", ra_name[NRF + i], rp_name[RP_REG + p], s,
                            mir_coarsen_gpu_name[g], c->kernel[k], mir_coarsen_factor[fac],
                            mir_coarsen_speedup(c, g, k, fac), rr->ft_margin[((size_t)i * rr->S + s) * rr->n + k]);
                }
    if (fclose(f)) return mir_fail(err, "%s: write error", path);
    return 0;
}

int mir_analyze_coarsen(const mir_analyze_options *o, MPI_Comm comm, mir_error *err) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    double t0 = mir_wall_seconds();
    char dir[4096], kdir[4096];
    if (mir_task_dir(o, "coarsen", comm, dir, sizeof dir, err)) return -1;
    int rc = 0;
    if (mir_kernels_dir(o, "thread_coarsening", "task_threadcoarsening", "kernels_ir", comm, kdir, sizeof kdir, err)) return -1;
    mir_coarsen c;
    if (mir_coarsen_load(&c, o->data_dir, kdir, err)) return -1;
    mir_model *model = mir_analyze_model_load(o, o->model, err);
    if (!model) { mir_coarsen_free(&c); return -1; }
    const int D = (int)mir_embedding_dim(model), n = c.n;
    mir_probe *probe = mir_probe_create("mir_analyze", phase_names, PH_N, NULL, 0, rank != 0 || o->quiet);
    float *emb = mir_malloc((size_t)n * D * sizeof *emb), *rnd = NULL;
    double *opc = mir_malloc((size_t)n * MIR_N_OPCODES * sizeof *opc);
    uint8_t *ok = mir_malloc((size_t)n);
    int opc_failed = mir_opcode_counts_mpi(c.kernel_file, n, opc, ok, comm, probe, PH_OPCODES);
    int emb_failed = mir_embed_files_mpi(model, c.kernel_file, n, emb, ok, comm, probe, PH_EMBED);
    if (o->ablations) {
        char rpath[4200];
        snprintf(rpath, sizeof rpath, "%s/random-weights.h5", dir);
        rc = rank == 0 ? mir_model_file_write_random(mir_model_config(model), mir_model_vocab(model), rpath, o->seed,
                                                     err)
                       : 0;
        MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
        mir_model *rm = rc ? NULL : mir_analyze_model_load(o, rpath, err);
        if (mir_mpi_agree(comm, rm == NULL, err)) {
            mir_fail(err, "%s: cannot write or read the random-weight model", rpath);
            mir_model_free(rm);
            free(ok); free(opc); free(emb);
            mir_probe_free(probe); mir_model_free(model); mir_coarsen_free(&c);
            return -1;
        }
        rnd = mir_malloc((size_t)n * D * sizeof *rnd);
        mir_embed_files_mpi(rm, c.kernel_file, n, rnd, ok, comm, probe, PH_EMBED_RANDOM);
        mir_model_free(rm);
    }
    int fs_on[FS_N] = {1, 1, o->ablations, o->ablations, o->ablations, o->ablations, o->ablations};
    int max_seeds = o->n_seeds > o->ablation_seeds ? o->n_seeds : o->ablation_seeds;
    run_id *runs = mir_malloc(sizeof *runs * FS_N * NG * (size_t)max_seeds);
    int n_runs = 0;
    for (int fs = 0; fs < FS_N; fs++) {
        if (!fs_on[fs]) continue;
        int ns = fs <= FS_OPC ? o->n_seeds : o->ablation_seeds;
        for (int s = 0; s < ns; s++)
            for (int g = 0; g < NG; g++) runs[n_runs++] = (run_id){fs, g, s};
    }
    /* labels and allowed factors per GPU */
    int *y[NG];
    uint8_t *allowed[NG];
    for (int g = 0; g < NG; g++) {
        y[g] = mir_malloc((size_t)n * sizeof **y);
        allowed[g] = mir_malloc((size_t)n * NF);
        for (int k = 0; k < n; k++) {
            int best = 0;
            for (int f = 0; f < NF; f++) {
                allowed[g][(size_t)k * NF + f] = !isnan(rt(&c, g, k, f));
                if (allowed[g][(size_t)k * NF + f] && rt(&c, g, k, f) < rt(&c, g, k, best)) best = f;
            }
            y[g][k] = best;
        }
    }
    int *pred_all = mir_calloc((size_t)n_runs * 3 * n, sizeof *pred_all);
    int *chosen_all = mir_calloc((size_t)n_runs * n, sizeof *chosen_all);
    float *X = mir_malloc((size_t)n * (size_t)fs_dim(FS_BOTH, D) * sizeof *X); /* the widest feature set */
    int *fold = mir_malloc((size_t)n * sizeof *fold), *pred[3], *chosen = mir_malloc((size_t)n * sizeof *chosen);
    for (int v = 0; v < 3; v++) pred[v] = mir_malloc((size_t)n * sizeof **pred);
    for (int k = 0; k < n; k++) fold[k] = k;
    int64_t n_fits[MIR_CLF_N] = {0}, n_pred[MIR_CLF_N] = {0};
    reg_runs rr = {0};
    rc = 0;
    for (int r = rank; r < n_runs && !rc; r += size) {
        const run_id *id = &runs[r];
        int dim = fs_dim(id->fs, D);
        fill_features(id->fs, n, D, emb, rnd, opc, X);
        score_ctx sc = {&c, id->gpu};
        mir_cv_task t = {n, dim, NF, X, y[id->gpu], NULL, allowed[id->gpu], score_speedup, &sc, MIR_INNER_RANDOM, 4,
                         &o->clf, probe, PH_FIT, PH_PREDICT};
        uint64_t cv_seed = mir_seed_mix(mir_seed_mix(o->seed, (uint64_t)id->seed), 0xc0a25e00u + (uint64_t)id->gpu);
        rc = mir_cv_run(&t, fold, n, cv_seed, pred, chosen, n_fits, n_pred, err);
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < n; k++) pred_all[((size_t)r * 3 + v) * n + k] = pred[v][k];
        for (int k = 0; k < n; k++) chosen_all[(size_t)r * n + k] = chosen[k] + 1;
    }
    int64_t tot[4];
    if (mir_runs_combine(comm, rc, pred_all, chosen_all, n_runs, n, n_fits, n_pred, tot, err)) {
        rc = -1;
        goto done;
    }
    if (coarsen_regress(&c, o, fs_on, D, emb, rnd, opc, comm, &rr, err)) {
        rc = -1;
        goto done;
    }
    if (o->finetune && coarsen_finetune(&c, o, model, ok, comm, &rr, err)) {
        rc = -1;
        goto done;
    }

    if (rank == 0) {
        /* speedups: per run and variant, per kernel */
        double *sp = mir_malloc((size_t)n_runs * 3 * n * sizeof *sp);
        for (int r = 0; r < n_runs; r++)
            for (int v = 0; v < 3; v++)
                for (int k = 0; k < n; k++) {
                    int p = pred_all[((size_t)r * 3 + v) * n + k];
                    sp[((size_t)r * 3 + v) * n + k] = mir_coarsen_speedup(&c, runs[r].gpu, k, p);
                }
        /* aggregates: per GPU mean over kernels (then mean/sd over seeds); geomean over all 4n per seed */
        double gmean[FS_N][3][NG], gsd[FS_N][3][NG], geo[FS_N][3], geosd[FS_N][3], acc[FS_N][3][NG];
        int nseeds[FS_N];
        for (int fs = 0; fs < FS_N; fs++) {
            nseeds[fs] = fs_on[fs] ? (fs <= FS_OPC ? o->n_seeds : o->ablation_seeds) : 0;
            for (int v = 0; v < 3; v++) {
                double *per_seed = mir_calloc((size_t)(nseeds[fs] ? nseeds[fs] : 1), sizeof *per_seed);
                double *all = mir_malloc((size_t)NG * n * sizeof *all);
                for (int g = 0; g < NG; g++) {
                    double *m = mir_calloc((size_t)(nseeds[fs] ? nseeds[fs] : 1), sizeof *m);
                    double a = 0;
                    for (int s = 0; s < nseeds[fs]; s++) {
                        int r = find_run(runs, n_runs, fs, g, s);
                        m[s] = mir_mean(sp + ((size_t)r * 3 + v) * n, n);
                        for (int k = 0; k < n; k++) a += pred_all[((size_t)r * 3 + v) * n + k] == y[g][k];
                    }
                    gmean[fs][v][g] = nseeds[fs] ? mir_mean(m, nseeds[fs]) : NAN;
                    gsd[fs][v][g] = mir_stddev(m, nseeds[fs]);
                    acc[fs][v][g] = nseeds[fs] ? 100.0 * a / ((double)n * nseeds[fs]) : NAN;
                    free(m);
                }
                for (int s = 0; s < nseeds[fs]; s++) {
                    for (int g = 0; g < NG; g++) {
                        int r = find_run(runs, n_runs, fs, g, s);
                        memcpy(all + (size_t)g * n, sp + ((size_t)r * 3 + v) * n, (size_t)n * sizeof *all);
                    }
                    per_seed[s] = mir_geomean(all, NG * n);
                }
                geo[fs][v] = nseeds[fs] ? mir_mean(per_seed, nseeds[fs]) : NAN;
                geosd[fs][v] = mir_stddev(per_seed, nseeds[fs]);
                free(all);
                free(per_seed);
            }
        }
        double orac[NG], orac_geo;
        {
            double *all = mir_malloc((size_t)NG * n * sizeof *all);
            for (int g = 0; g < NG; g++) {
                for (int k = 0; k < n; k++) all[(size_t)g * n + k] = mir_coarsen_speedup(&c, g, k, y[g][k]);
                orac[g] = mir_mean(all + (size_t)g * n, n);
            }
            orac_geo = mir_geomean(all, NG * n);
            free(all);
        }
        pred_agg agg[NRA][RP_N];
        mir_paired pres[N_PAIRED];
        int pok[N_PAIRED];
        coarsen_reg_aggregate(&c, &rr, sp, runs, n_runs, nseeds, agg);
        coarsen_paired(agg, NG * n, pres, pok);
        char path[4200];
        FILE *f;
        if ((rc = coarsen_reg_predictions(dir, &c, &rr, err))) goto written;
        /* predictions.csv */
        snprintf(path, sizeof path, "%s/predictions.csv", dir);
        f = fopen(path, "w");
        if (!f) { rc = mir_fail(err, "%s: cannot write", path); goto written; }
        fprintf(f, "gpu,kernel,features,oracle_factor,oracle_speedup,classifier,predicted_factor,speedup,"
                   "mean_speedup_over_seeds,seeds\n");
        for (int fs = 0; fs < FS_N; fs++)
            for (int g = 0; g < NG && fs_on[fs]; g++)
                for (int k = 0; k < n; k++) {
                    int r0 = find_run(runs, n_runs, fs, g, 0);
                    double s = 0;
                    for (int q = 0; q < nseeds[fs]; q++) s += sp[((size_t)find_run(runs, n_runs, fs, g, q) * 3 + 2) * n + k];
                    int p = pred_all[((size_t)r0 * 3 + 2) * n + k], ch = chosen_all[(size_t)r0 * n + k];
                    fprintf(f, "%s,%s,%s,%d,%.6g,%s,%d,%.6g,%.6g,%d\n", mir_coarsen_gpu_name[g], c.kernel[k], fs_name[fs],
                            mir_coarsen_factor[y[g][k]], mir_coarsen_speedup(&c, g, k, y[g][k]),
                            ch >= 0 ? mir_clf_name(ch) : "", mir_coarsen_factor[p], sp[((size_t)r0 * 3 + 2) * n + k],
                            s / nseeds[fs], nseeds[fs]);
                }
        if (fclose(f)) { rc = mir_fail(err, "%s: write error", path); goto written; }
        /* metrics.csv */
        snprintf(path, sizeof path, "%s/metrics.csv", dir);
        f = fopen(path, "w");
        if (!f) { rc = mir_fail(err, "%s: cannot write", path); goto written; }
        fprintf(f, "features,classifier,gpu,metric,mean,sd,seeds\n");
        for (int fs = 0; fs < FS_N; fs++) {
            if (!fs_on[fs]) continue;
            for (int v = 0; v < 3; v++) {
                for (int g = 0; g < NG; g++) {
                    fprintf(f, "%s,%s,%s,speedup_mean,%.6g,%.6g,%d\n", fs_name[fs], variant_name[v],
                            mir_coarsen_gpu_name[g], gmean[fs][v][g], gsd[fs][v][g], nseeds[fs]);
                    fprintf(f, "%s,%s,%s,factor_accuracy,%.6g,,%d\n", fs_name[fs], variant_name[v],
                            mir_coarsen_gpu_name[g], acc[fs][v][g], nseeds[fs]);
                }
                fprintf(f, "%s,%s,all,speedup_geomean,%.6g,%.6g,%d\n", fs_name[fs], variant_name[v], geo[fs][v],
                        geosd[fs][v], nseeds[fs]);
            }
        }
        coarsen_reg_metrics(f, agg);
        fclose(f);
        /* summary.json */
        snprintf(path, sizeof path, "%s/summary.json", dir);
        f = fopen(path, "w");
        if (!f) { rc = mir_fail(err, "%s: cannot write", path); goto written; }
        fprintf(f, "{");
        for (int g = 0; g < NG; g++) {
            fprintf(f, "%s\"%s\": {\"speedup\": ", g ? ", " : "", mir_coarsen_gpu_name[g]);
            mir_json_number(f, gmean[FS_EMB][2][g]);
            fprintf(f, "}");
        }
        fprintf(f, ", \"geomean\": ");
        mir_json_number(f, geo[FS_EMB][2]);
        fprintf(f, ", \"oracle_geomean\": ");
        mir_json_number(f, orac_geo);
        coarsen_reg_json(f, agg, &rr, pres, pok);
        fprintf(f, "}\n");
        if (fclose(f)) { rc = mir_fail(err, "%s: write error", path); goto written; }
        /* plot */
        snprintf(path, sizeof path, "%s/speedup.dat", dir);
        f = fopen(path, "w");
        if (f) {
            for (int g = 0; g < NG; g++) {
                fprintf(f, "%s %.6g %.6g %.6g %.6g", mir_coarsen_gpu_name[g], gmean[FS_EMB][2][g], gsd[FS_EMB][2][g],
                        gmean[FS_OPC][2][g], gsd[FS_OPC][2][g]);
                for (size_t q = 0; q < sizeof published / sizeof *published; q++) fprintf(f, " %.3f 0", published[q].sp[g]);
                fprintf(f, " %.6g 0\n", orac[g]);
            }
            fclose(f);
            snprintf(path, sizeof path, "%s/speedup.gp", dir);
            f = fopen(path, "w");
            if (f) {
                fprintf(f, "set terminal pngcairo size 1000,520 font 'sans,10'\nset output 'speedup.png'\n"
                           "set title 'Thread coarsening: speedup over factor 1 (arithmetic mean over 17 kernels)'\n"
                           "set style data histogram\nset style histogram errorbars gap 1 lw 1\n"
                           "set style fill solid 0.85 border -1\nset key below\nset grid ytics\n"
                           "set ylabel 'speedup'\nset yrange [0:*]\n");
                fprintf(f, "plot 'speedup.dat' using 2:3:xtic(1) title 'MIREncoder', '' using 4:5 title 'opcode counts'");
                for (size_t q = 0; q < sizeof published / sizeof *published; q++)
                    fprintf(f, ", '' using %zu:%zu title \"%s\"", 6 + 2 * q, 7 + 2 * q, published[q].name);
                fprintf(f, ", '' using %zu:%zu title 'oracle'\n", 6 + 2 * (sizeof published / sizeof *published),
                        7 + 2 * (sizeof published / sizeof *published));
                fclose(f);
                mir_run_gnuplot(dir, "speedup.gp");
            }
        }
        /* summary.md */
        snprintf(path, sizeof path, "%s/summary.md", dir);
        f = fopen(path, "w");
        if (!f) { rc = mir_fail(err, "%s: cannot write", path); goto written; }
        char machine[512];
        mir_machine_string(machine, sizeof machine);
        fprintf(f, "# Thread coarsening: MIREncoder embeddings against the opcode-count baseline\n\n");
        if (o->command_line) fprintf(f, "Command: `%s`  \n", o->command_line);
        fprintf(f, "Model: `%s` (hash %s, embedding %d floats). Data: `%s/thread_coarsening` (%d kernels x 4 GPUs, IR "
                   "in `%s`). Seeds: %d (ablations: %d), base seed %llu. Machine: %s.\n\n",
                o->model, mir_model_hash(model), D, o->data_dir, n, kdir, o->n_seeds, o->ablations ? o->ablation_seeds : 0,
                (unsigned long long)o->seed, machine);
        if (emb_failed || opc_failed)
            fprintf(f, "**%d kernel(s) could not be embedded, %d not counted** (zero features; see the log).\n\n",
                    emb_failed, opc_failed);
        fprintf(f, "Leave one kernel out, per GPU: trained on the other %d kernels (features: the kernel's embedding "
                   "or opcode counts alone; label: the fastest factor), the classifier predicts a factor among those "
                   "measured for the held-out kernel on that GPU. XGBoost or MLP, picked in each fold by inner 4-fold "
                   "cross-validation of the mean speedup on the training kernels. Speedup = runtime at factor 1 / "
                   "runtime at the predicted factor. Per-GPU columns: arithmetic mean over the %d kernels (as the "
                   "published figures); last column: geometric mean over all %d (kernel, GPU) predictions. Mean ± "
                   "deviation over seeds. Note: mt and mtLocal have identical source, so each is in the other's "
                   "training set.\n\n", n - 1, n, NG * n);
        fprintf(f, "| method | Cypress | Tahiti | Fermi | Kepler | geomean (all %d) |\n|---|---:|---:|---:|---:|---:|\n", NG * n);
        for (int fs = 0; fs < FS_N; fs++) {
            if (!fs_on[fs]) continue;
            for (int v = (fs <= FS_OPC ? 0 : 2); v < 3; v++) {
                int bold = v == 2 && fs <= FS_OPC;
                fprintf(f, "| %s%s, %s%s |", bold ? "**" : "", fs_label[fs], variant_name[v], bold ? "**" : "");
                for (int g = 0; g < NG; g++) pm(f, gmean[fs][v][g], gsd[fs][v][g], nseeds[fs]);
                pm(f, geo[fs][v], geosd[fs][v], nseeds[fs]);
                fprintf(f, "\n");
            }
        }
        for (size_t q = 0; q < sizeof published / sizeof *published; q++)
            fprintf(f, "| published: %s | %.2f | %.2f | %.2f | %.2f | — |\n", published[q].name, published[q].sp[0],
                    published[q].sp[1], published[q].sp[2], published[q].sp[3]);
        fprintf(f, "| oracle (best measured factor) | %.3f | %.3f | %.3f | %.3f | %.3f |\n\n", orac[0], orac[1], orac[2],
                orac[3], orac_geo);
        fprintf(f, "Factor accuracy (selected classifier, %% of kernels whose fastest factor was predicted):");
        for (int fs = 0; fs < FS_N; fs++) {
            if (!fs_on[fs]) continue;
            fprintf(f, " %s", fs_name[fs]);
            for (int g = 0; g < NG; g++) fprintf(f, "%s%.0f", g ? "/" : " ", acc[fs][2][g]);
            fprintf(f, ";");
        }
        fprintf(f, " (Cypress/Tahiti/Fermi/Kepler).\n\n");
        if (fs_on[FS_RANDOM])
            fprintf(f, "What the pre-training buys: geometric-mean speedup %.3f pre-trained, %.3f with random weights, "
                       "%.3f with opcode counts (classification; paired verdicts below).\n\n", geo[FS_EMB][2],
                    geo[FS_RANDOM][2], geo[FS_OPC][2]);
        if (fs_on[FS_BOTH])
            fprintf(f, "The embedding and the opcode counts together: geometric-mean speedup %.3f (opcode counts alone "
                       "%.3f).\n\n", geo[FS_BOTH][2], geo[FS_OPC][2]);
        if (fs_on[FS_PROP])
            fprintf(f, "The opcode shares (counts / instructions, size-free like the embedding's means): geometric-mean "
                       "speedup %.3f (counts %.3f).\n\n", geo[FS_PROP][2], geo[FS_OPC][2]);
        coarsen_reg_md(f, agg, &rr, pres, pok, n);
        fprintf(f, "Plot: [speedup.png](speedup.png). Per-kernel predictions: predictions.csv (first seed, and the "
                   "mean speedup over seeds), predictions-regression.csv (every seed). Every aggregate: metrics.csv."
                   "\n\n## Cost (PAPI probe, common/probe.h)\n\n");
        fclose(f);
        if (!o->quiet)
            mir_log(MIR_LOG_INFO, "coarsen: speedup Cypress %.3f, Tahiti %.3f, Fermi %.3f, Kepler %.3f, geomean %.3f "
                    "(opcodes %.3f, oracle %.3f); wrote %s/summary.md", gmean[FS_EMB][2][0], gmean[FS_EMB][2][1],
                    gmean[FS_EMB][2][2], gmean[FS_EMB][2][3], geo[FS_EMB][2], geo[FS_OPC][2], orac_geo, dir);
    written:
        pred_agg_free(agg);
        free(sp);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    if (rc) {
        MPI_Bcast(err->msg, sizeof err->msg, MPI_CHAR, 0, comm);
        goto done;
    }
    {
        static const char *const item_names[PH_N] = {"kernel", "kernel", "kernel", "fit", "fit", "predicted row", "predicted row"};
        double items[PH_N] = {(double)(n - emb_failed), o->ablations ? (double)n : 0, (double)(n - opc_failed),
                              (double)tot[0], (double)tot[1], (double)tot[2], (double)tot[3]};
        char path[4200];
        snprintf(path, sizeof path, "%s/summary.md", dir);
        FILE *f = rank == 0 ? fopen(path, "a") : NULL;
        mir_probe_markdown(probe, comm, f, phase_names, PH_N, item_names, items);
        if (f) {
            fprintf(f, "%lld fits of each classifier (inner cross-validation included), %lld of the regressor. Total "
                       "wall time %.1f s on %d rank(s).\n", (long long)tot[0], (long long)rr.fits,
                    mir_wall_seconds() - t0, size);
            fclose(f);
        }
    }
    if (!rc && (emb_failed || opc_failed)) {
        mir_fail(err, "coarsen: %d kernel(s) not embedded, %d not counted: they use zero features (summary.md)",
                 emb_failed, opc_failed);
        rc = MIR_ANALYZE_INCOMPLETE;
    }
done:
    reg_runs_free(&rr);
    for (int v = 0; v < 3; v++) free(pred[v]);
    free(chosen); free(fold); free(X); free(chosen_all); free(pred_all);
    for (int g = 0; g < NG; g++) { free(y[g]); free(allowed[g]); }
    free(runs); free(ok); free(opc); free(emb); free(rnd);
    mir_probe_free(probe);
    mir_model_free(model);
    mir_coarsen_free(&c);
    return rc;
}
