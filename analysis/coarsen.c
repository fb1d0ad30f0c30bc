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
#include "report.h"

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

/* ---------------- the results ---------------- */

/* What the task computed: filled by mir_analyze_coarsen's steps, read by the writers (rank 0) and the cost section. */
typedef struct {
    const mir_analyze_options *o;
    const mir_coarsen *c;
    int fs_on[FS_N], nseeds[FS_N]; /* feature sets run, and their seeds (0: off) */
    run_id *runs;
    int n_runs;
    int *y[NG];                    /* (n) per GPU: the fastest factor of each kernel, the label */
    int *pred_all;                 /* (n_runs, 3, n) predicted factor index per variant */
    int *chosen_all;               /* (n_runs, n) classifier picked in each outer fold, -1 none */
    int64_t tot[4];                /* fits xgboost, mlp; predictions xgboost, mlp (over the ranks) */
    reg_runs rr;                   /* regression, safe and --finetune */
    /* aggregates (rank 0) */
    double *sp;                    /* (n_runs, 3, n) speedup of each prediction */
    double gmean[FS_N][3][NG], gsd[FS_N][3][NG]; /* per GPU: mean over kernels; mean and deviation over seeds */
    double geo[FS_N][3], geosd[FS_N][3];         /* geometric mean over the NG * n predictions, over seeds */
    double acc[FS_N][3][NG];                     /* % of kernels whose fastest factor was predicted */
    double orac[NG], orac_geo;                   /* the best measured factor */
    pred_agg agg[NRA][RP_N];
    mir_paired pres[N_PAIRED];
    int pok[N_PAIRED];
    /* the inputs */
    int D, emb_failed, opc_failed;
    const char *kernels_dir, *model_hash;
    double t0;
} results;

static void results_free(results *R) {
    reg_runs_free(&R->rr);
    for (int g = 0; g < NG; g++) free(R->y[g]);
    pred_agg_free(R->agg);
    free(R->sp); free(R->runs); free(R->pred_all); free(R->chosen_all);
}

/* ---------------- the outputs (rank 0) ---------------- */

/* summary.md: the predictors' table and the paired verdicts. */
static void coarsen_reg_md(FILE *f, const results *R) {
    const int n = R->c->n;
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
    mir_md_table_head(f, 1, "| features, predictor | Cypress | Tahiti | Fermi | Kepler | geomean (all %d) | losses | "
                      "worst | margin inf (%% of folds) |", NG * n);
    for (int j = 0; j < NRA; j++)
        for (int p = 0; p < RP_N; p++) {
            const pred_agg *a = &R->agg[j][p];
            if (!a->on) continue;
            char label[256];
            snprintf(label, sizeof label, "%s, %s", ra_label(j), rp_label[p]);
            mir_md_label(f, label, p == RP_SAFE);
            for (int g = 0; g < NG; g++) mir_md_pm(f, a->gmean[g], a->gsd[g], a->S, "%.3f");
            mir_md_pm(f, a->geo, a->geosd, a->S, "%.3f");
            fprintf(f, " %.1f %% | %.3f |", 100 * a->losses, a->worst);
            if (isnan(a->inf_share)) fprintf(f, " |\n");
            else fprintf(f, " %.0f |\n", 100 * a->inf_share);
        }
    if (R->rr.ft_on) {
        const mir_ft_summary *t = &R->rr.fts;
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
        if (R->pok[i]) mir_paired_md(f, paired_def[i].what, &R->pres[i], "kernel×GPU units");
    fprintf(f, "\n");
}

/* metrics.csv rows of the regression predictors (features,classifier,gpu,metric,mean,sd,seeds). */
static void coarsen_reg_metrics(FILE *f, const results *R) {
    for (int j = 0; j < NRA; j++)
        for (int p = RP_REG; p < RP_N; p++) {
            const pred_agg *a = &R->agg[j][p];
            if (!a->on) continue;
            char keys[256];
            for (int g = 0; g < NG; g++) {
                snprintf(keys, sizeof keys, "%s,%s,%s", ra_name[j], rp_name[p], mir_coarsen_gpu_name[g]);
                mir_csv_metric(f, keys, "speedup_mean", a->gmean[g], a->gsd[g], a->S);
            }
            snprintf(keys, sizeof keys, "%s,%s,all", ra_name[j], rp_name[p]);
            mir_csv_metric(f, keys, "speedup_geomean", a->geo, a->geosd, a->S);
            mir_csv_value(f, keys, "losses", a->losses, a->S);
            mir_csv_value(f, keys, "worst", a->worst, a->S);
            if (!isnan(a->inf_share)) mir_csv_value(f, keys, "margin_inf_share", a->inf_share, a->S);
        }
}

/* metrics.csv: the classification's aggregates, then the regression's */
static int write_metrics(const results *R, const char *dir, mir_error *err) {
    FILE *f = mir_csv_open(dir, "metrics.csv", "features,classifier,gpu,metric,mean,sd,seeds", err);
    if (!f) return -1;
    for (int fs = 0; fs < FS_N; fs++) {
        if (!R->fs_on[fs]) continue;
        for (int v = 0; v < 3; v++) {
            char keys[256];
            for (int g = 0; g < NG; g++) {
                snprintf(keys, sizeof keys, "%s,%s,%s", fs_name[fs], variant_name[v], mir_coarsen_gpu_name[g]);
                mir_csv_metric(f, keys, "speedup_mean", R->gmean[fs][v][g], R->gsd[fs][v][g], R->nseeds[fs]);
                mir_csv_value(f, keys, "factor_accuracy", R->acc[fs][v][g], R->nseeds[fs]);
            }
            snprintf(keys, sizeof keys, "%s,%s,all", fs_name[fs], variant_name[v]);
            mir_csv_metric(f, keys, "speedup_geomean", R->geo[fs][v], R->geosd[fs][v], R->nseeds[fs]);
        }
    }
    coarsen_reg_metrics(f, R);
    fclose(f);
    return 0;
}

/* "Cypress": {"speedup": ..}, ..., "geomean": .. */
static void json_gpus(mir_json *j, const double *gmean, double geo) {
    for (int g = 0; g < NG; g++) {
        mir_json_object(j, mir_coarsen_gpu_name[g], 0);
        mir_json_num(j, "speedup", gmean[g]);
        mir_json_close(j);
    }
    mir_json_num(j, "geomean", geo);
}

/* "KEY": {"Cypress": {"speedup": ..}, ..., "geomean": .., "losses": .., "worst": ..} */
static void agg_json(mir_json *j, const char *key, const pred_agg *a) {
    mir_json_object(j, key, 0);
    json_gpus(j, a->gmean, a->geo);
    mir_json_num(j, "losses", a->losses);
    mir_json_num(j, "worst", a->worst);
    mir_json_close(j);
}

/* summary.json's "finetune": {"pretrained": <as "regression">, "random": .., "safe": {"pretrained": .., "random": ..},
 * "train_loss": .., the budget} */
static void coarsen_ft_json(mir_json *j, const results *R) {
    static const char *const start[MIR_FT_N_INITS] = {"pretrained", "random"};
    const mir_ft_summary *t = &R->rr.fts;
    mir_json_object(j, "finetune", 0);
    for (int i = 0; i < MIR_FT_N_INITS; i++) agg_json(j, start[i], &R->agg[NRF + i][RP_REG]);
    mir_json_object(j, "safe", 0);
    for (int i = 0; i < MIR_FT_N_INITS; i++) agg_json(j, start[i], &R->agg[NRF + i][RP_SAFE]);
    mir_json_close(j);
    mir_json_object(j, "train_loss", 0);
    for (int i = 0; i < MIR_FT_N_INITS; i++) {
        mir_json_object(j, start[i], 0);
        mir_json_num(j, "head_first_epoch", t->head_loss[i][0]);
        mir_json_num(j, "head_last_epoch", t->head_loss[i][1]);
        mir_json_num(j, "first_epoch", t->loss_first[i]);
        mir_json_num(j, "last_epoch", t->loss_last[i]);
        mir_json_num(j, "mean_best_epoch", t->mean_best_epoch[i]);
        mir_json_close(j);
    }
    mir_json_close(j);
    /* no timings: the file is the same at any number of ranks (the cost is in summary.md) */
    mir_json_int(j, "epochs", t->epochs);
    mir_json_int(j, "head_epochs", t->head_epochs);
    mir_json_int(j, "hidden", t->hidden);
    mir_json_int(j, "window", t->window);
    mir_json_int(j, "max_nodes", t->max_nodes);
    mir_json_int(j, "trainings", t->n_jobs);
    mir_json_close(j);
}

/* summary.json: the selected classifier's speedups (embedding), then issue 15's keys: regression, safe, their
 * per-feature-set entries, finetune, paired. */
static int write_json(const results *R, const char *dir, mir_error *err) {
    mir_json j;
    if (mir_json_open(&j, dir, "summary.json", 0, err)) return -1;
    json_gpus(&j, R->gmean[FS_EMB][2], R->geo[FS_EMB][2]);
    mir_json_num(&j, "oracle_geomean", R->orac_geo);
    for (int p = RP_REG; p < RP_N; p++) agg_json(&j, rp_name[p], &R->agg[0][p]);
    for (int p = RP_REG; p < RP_N; p++) {
        char key[64];
        snprintf(key, sizeof key, "%s_by_features", rp_name[p]);
        mir_json_object(&j, key, 0);
        for (int k = 0; k < NRF; k++)
            if (R->agg[k][p].on) agg_json(&j, fs_name[reg_fs[k]], &R->agg[k][p]);
        mir_json_close(&j);
    }
    if (R->rr.ft_on) coarsen_ft_json(&j, R);
    mir_json_object(&j, "paired", 0);
    for (int i = 0; i < N_PAIRED; i++)
        if (R->pok[i]) mir_json_paired(&j, paired_def[i].name, &R->pres[i]);
    return mir_json_finish(&j, dir, "summary.json", err);
}

/* predictions-regression.csv's rows of one feature set (or fine-tuned start) name: choice (S, 2, NU), margin (S, n) */
static void reg_predictions(FILE *f, const mir_coarsen *c, const reg_runs *rr, const char *name, const int *choice,
                            const double *margin) {
    for (int p = 0; p < 2; p++)
        for (int s = 0; s < rr->S; s++)
            for (int u = 0; u < rr->NU; u++) {
                int fac = choice[((size_t)s * 2 + p) * rr->NU + u], k = u % rr->n, g = u / rr->n;
                fprintf(f, "%s,%s,%d,%s,%s,%d,%.6g,%g\n", name, rp_name[RP_REG + p], s, mir_coarsen_gpu_name[g],
                        c->kernel[k], mir_coarsen_factor[fac], mir_coarsen_speedup(c, g, k, fac),
                        margin[(size_t)s * rr->n + k]);
            }
}

/* predictions-regression.csv: every (features, predictor, seed, GPU, kernel) choice. */
static int coarsen_reg_predictions(const char *dir, const mir_coarsen *c, const reg_runs *rr, mir_error *err) {
    FILE *f = mir_csv_open(dir, "predictions-regression.csv",
                           "features,predictor,seed,gpu,kernel,predicted_factor,speedup,safe_margin", err);
    if (!f) return -1;
    const size_t per = (size_t)rr->S * 2 * rr->NU; /* choices of one feature set */
    for (int j = 0; j < NRF; j++)
        if (rr->on[j])
            reg_predictions(f, c, rr, fs_name[reg_fs[j]], rr->choice + j * per, rr->margin + (size_t)j * rr->S * rr->n);
    for (int i = 0; i < MIR_FT_N_INITS && rr->ft_on; i++)
        reg_predictions(f, c, rr, ra_name[NRF + i], rr->ft_choice + i * per, rr->ft_margin + (size_t)i * rr->S * rr->n);
    return mir_report_close(f, dir, "predictions-regression.csv", err);
}

/* predictions.csv: per GPU, kernel and feature set, the first seed's choice and the mean speedup over seeds */
static int write_predictions(const results *R, const char *dir, mir_error *err) {
    const mir_coarsen *c = R->c;
    const int n = c->n;
    FILE *f = mir_csv_open(dir, "predictions.csv", "gpu,kernel,features,oracle_factor,oracle_speedup,classifier,"
                           "predicted_factor,speedup,mean_speedup_over_seeds,seeds", err);
    if (!f) return -1;
    for (int fs = 0; fs < FS_N; fs++)
        for (int g = 0; g < NG && R->fs_on[fs]; g++)
            for (int k = 0; k < n; k++) {
                int r0 = find_run(R->runs, R->n_runs, fs, g, 0), ns = R->nseeds[fs];
                double s = 0;
                for (int q = 0; q < ns; q++) s += R->sp[((size_t)find_run(R->runs, R->n_runs, fs, g, q) * 3 + 2) * n + k];
                int p = R->pred_all[((size_t)r0 * 3 + 2) * n + k], ch = R->chosen_all[(size_t)r0 * n + k];
                fprintf(f, "%s,%s,%s,%d,%.6g,%s,%d,%.6g,%.6g,%d\n", mir_coarsen_gpu_name[g], c->kernel[k], fs_name[fs],
                        mir_coarsen_factor[R->y[g][k]], mir_coarsen_speedup(c, g, k, R->y[g][k]),
                        ch >= 0 ? mir_clf_name(ch) : "", mir_coarsen_factor[p], R->sp[((size_t)r0 * 3 + 2) * n + k],
                        s / ns, ns);
            }
    return mir_report_close(f, dir, "predictions.csv", err);
}

/* speedup.dat/.gp/.png: per GPU, the embedding, the opcode counts, the published figures and the oracle; optional
 * (nothing is reported when it cannot be written) */
static void write_plot(const results *R, const char *dir) {
    const size_t n_pub = sizeof published / sizeof *published;
    mir_error e = {{0}};
    FILE *f = mir_report_open(dir, "speedup.dat", "w", &e);
    if (!f) return;
    for (int g = 0; g < NG; g++) {
        fprintf(f, "%s %.6g %.6g %.6g %.6g", mir_coarsen_gpu_name[g], R->gmean[FS_EMB][2][g], R->gsd[FS_EMB][2][g],
                R->gmean[FS_OPC][2][g], R->gsd[FS_OPC][2][g]);
        for (size_t q = 0; q < n_pub; q++) fprintf(f, " %.3f 0", published[q].sp[g]);
        fprintf(f, " %.6g 0\n", R->orac[g]);
    }
    fclose(f);
    char plot[2048];
    size_t len = (size_t)snprintf(plot, sizeof plot, "'speedup.dat' using 2:3:xtic(1) title 'MIREncoder', '' using 4:5 "
                                  "title 'opcode counts'");
    for (size_t q = 0; q < n_pub; q++)
        len += (size_t)snprintf(plot + len, sizeof plot - len, ", '' using %zu:%zu title \"%s\"", 6 + 2 * q, 7 + 2 * q,
                                published[q].name);
    snprintf(plot + len, sizeof plot - len, ", '' using %zu:%zu title 'oracle'", 6 + 2 * n_pub, 7 + 2 * n_pub);
    mir_plot p = {"speedup", 1000, "Thread coarsening: speedup over factor 1 (arithmetic mean over 17 kernels)", 1,
                  NULL, "speedup", "[0:*]", plot};
    mir_plot_write(dir, &p, &e);
}

/* summary.md's head: the inputs and what the figures are */
static void md_inputs(FILE *f, const results *R) {
    const mir_analyze_options *o = R->o;
    const int n = R->c->n;
    char machine[512];
    mir_machine_string(machine, sizeof machine);
    mir_md_title(f, "Thread coarsening: MIREncoder embeddings against the opcode-count baseline", o->command_line);
    fprintf(f, "Model: `%s` (hash %s, embedding %d floats). Data: `%s/thread_coarsening` (%d kernels x 4 GPUs, IR "
               "in `%s`). Seeds: %d (ablations: %d), base seed %llu. Machine: %s.\n\n",
            o->model, R->model_hash, R->D, o->data_dir, n, R->kernels_dir, o->n_seeds,
            o->ablations ? o->ablation_seeds : 0, (unsigned long long)o->seed, machine);
    if (R->emb_failed || R->opc_failed)
        fprintf(f, "**%d kernel(s) could not be embedded, %d not counted** (zero features; see the log).\n\n",
                R->emb_failed, R->opc_failed);
    fprintf(f, "Leave one kernel out, per GPU: trained on the other %d kernels (features: the kernel's embedding "
               "or opcode counts alone; label: the fastest factor), the classifier predicts a factor among those "
               "measured for the held-out kernel on that GPU. XGBoost or MLP, picked in each fold by inner 4-fold "
               "cross-validation of the mean speedup on the training kernels. Speedup = runtime at factor 1 / "
               "runtime at the predicted factor. Per-GPU columns: arithmetic mean over the %d kernels (as the "
               "published figures); last column: geometric mean over all %d (kernel, GPU) predictions. Mean ± "
               "deviation over seeds. Note: mt and mtLocal have identical source, so each is in the other's "
               "training set.\n\n", n - 1, n, NG * n);
}

/* the classification table, the published figures, the oracle, the factor accuracy and the ablations' headlines */
static void md_classification(FILE *f, const results *R) {
    const int n = R->c->n;
    mir_md_table_head(f, 1, "| method | Cypress | Tahiti | Fermi | Kepler | geomean (all %d) |", NG * n);
    for (int fs = 0; fs < FS_N; fs++) {
        if (!R->fs_on[fs]) continue;
        for (int v = (fs <= FS_OPC ? 0 : 2); v < 3; v++) {
            char label[256];
            snprintf(label, sizeof label, "%s, %s", fs_label[fs], variant_name[v]);
            mir_md_label(f, label, v == 2 && fs <= FS_OPC);
            for (int g = 0; g < NG; g++) mir_md_pm(f, R->gmean[fs][v][g], R->gsd[fs][v][g], R->nseeds[fs], "%.3f");
            mir_md_pm(f, R->geo[fs][v], R->geosd[fs][v], R->nseeds[fs], "%.3f");
            fprintf(f, "\n");
        }
    }
    for (size_t q = 0; q < sizeof published / sizeof *published; q++)
        fprintf(f, "| published: %s | %.2f | %.2f | %.2f | %.2f | — |\n", published[q].name, published[q].sp[0],
                published[q].sp[1], published[q].sp[2], published[q].sp[3]);
    fprintf(f, "| oracle (best measured factor) | %.3f | %.3f | %.3f | %.3f | %.3f |\n\n", R->orac[0], R->orac[1],
            R->orac[2], R->orac[3], R->orac_geo);
    fprintf(f, "Factor accuracy (selected classifier, %% of kernels whose fastest factor was predicted):");
    for (int fs = 0; fs < FS_N; fs++) {
        if (!R->fs_on[fs]) continue;
        fprintf(f, " %s", fs_name[fs]);
        for (int g = 0; g < NG; g++) fprintf(f, "%s%.0f", g ? "/" : " ", R->acc[fs][2][g]);
        fprintf(f, ";");
    }
    fprintf(f, " (Cypress/Tahiti/Fermi/Kepler).\n\n");
    const double (*geo)[3] = R->geo;
    if (R->fs_on[FS_RANDOM])
        fprintf(f, "What the pre-training buys: geometric-mean speedup %.3f pre-trained, %.3f with random weights, "
                   "%.3f with opcode counts (classification; paired verdicts below).\n\n", geo[FS_EMB][2],
                geo[FS_RANDOM][2], geo[FS_OPC][2]);
    if (R->fs_on[FS_BOTH])
        fprintf(f, "The embedding and the opcode counts together: geometric-mean speedup %.3f (opcode counts alone "
                   "%.3f).\n\n", geo[FS_BOTH][2], geo[FS_OPC][2]);
    if (R->fs_on[FS_PROP])
        fprintf(f, "The opcode shares (counts / instructions, size-free like the embedding's means): geometric-mean "
                   "speedup %.3f (counts %.3f).\n\n", geo[FS_PROP][2], geo[FS_OPC][2]);
}

/* summary.md (the cost section is appended by the caller: it is collective) */
static int write_md(const results *R, const char *dir, mir_error *err) {
    FILE *f = mir_report_open(dir, "summary.md", "w", err);
    if (!f) return -1;
    md_inputs(f, R);
    md_classification(f, R);
    coarsen_reg_md(f, R);
    fprintf(f, "Plot: [speedup.png](speedup.png). Per-kernel predictions: predictions.csv (first seed, and the "
               "mean speedup over seeds), predictions-regression.csv (every seed). Every aggregate: metrics.csv.\n");
    fclose(f);
    return 0;
}

/* every output but the cost section (rank 0) */
static int write_outputs(const results *R, const char *dir, mir_error *err) {
    if (coarsen_reg_predictions(dir, R->c, &R->rr, err) || write_predictions(R, dir, err) ||
        write_metrics(R, dir, err) || write_json(R, dir, err))
        return -1;
    write_plot(R, dir);
    return write_md(R, dir, err);
}

/* ---------------- the computation ---------------- */

/* The classification's aggregates of feature set fs and variant v: per GPU the mean speedup over the kernels and the
 * factor accuracy, and the geometric mean over all the predictions, each over the seeds. */
static void aggregate_one(results *R, int fs, int v) {
    const int n = R->c->n, ns = R->nseeds[fs];
    double *per_seed = mir_calloc((size_t)(ns ? ns : 1), sizeof *per_seed);
    double *all = mir_malloc((size_t)NG * n * sizeof *all);
    for (int g = 0; g < NG; g++) {
        double *m = mir_calloc((size_t)(ns ? ns : 1), sizeof *m);
        double a = 0;
        for (int s = 0; s < ns; s++) {
            int r = find_run(R->runs, R->n_runs, fs, g, s);
            m[s] = mir_mean(R->sp + ((size_t)r * 3 + v) * n, n);
            for (int k = 0; k < n; k++) a += R->pred_all[((size_t)r * 3 + v) * n + k] == R->y[g][k];
        }
        R->gmean[fs][v][g] = ns ? mir_mean(m, ns) : NAN;
        R->gsd[fs][v][g] = mir_stddev(m, ns);
        R->acc[fs][v][g] = ns ? 100.0 * a / ((double)n * ns) : NAN;
        free(m);
    }
    for (int s = 0; s < ns; s++) {
        for (int g = 0; g < NG; g++) {
            int r = find_run(R->runs, R->n_runs, fs, g, s);
            memcpy(all + (size_t)g * n, R->sp + ((size_t)r * 3 + v) * n, (size_t)n * sizeof *all);
        }
        per_seed[s] = mir_geomean(all, NG * n);
    }
    R->geo[fs][v] = ns ? mir_mean(per_seed, ns) : NAN;
    R->geosd[fs][v] = mir_stddev(per_seed, ns);
    free(all);
    free(per_seed);
}

/* Rank 0: the speedup of every prediction, the aggregates, the oracle, the regression's predictors and the paired
 * verdicts. */
static void aggregate(results *R) {
    const mir_coarsen *c = R->c;
    const int n = c->n;
    R->sp = mir_malloc((size_t)R->n_runs * 3 * n * sizeof *R->sp);
    for (int r = 0; r < R->n_runs; r++)
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < n; k++) {
                int p = R->pred_all[((size_t)r * 3 + v) * n + k];
                R->sp[((size_t)r * 3 + v) * n + k] = mir_coarsen_speedup(c, R->runs[r].gpu, k, p);
            }
    for (int fs = 0; fs < FS_N; fs++)
        for (int v = 0; v < 3; v++) aggregate_one(R, fs, v);
    double *all = mir_malloc((size_t)NG * n * sizeof *all);
    for (int g = 0; g < NG; g++) {
        for (int k = 0; k < n; k++) all[(size_t)g * n + k] = mir_coarsen_speedup(c, g, k, R->y[g][k]);
        R->orac[g] = mir_mean(all + (size_t)g * n, n);
    }
    R->orac_geo = mir_geomean(all, NG * n);
    free(all);
    coarsen_reg_aggregate(c, &R->rr, R->sp, R->runs, R->n_runs, R->nseeds, R->agg);
    coarsen_paired(R->agg, NG * n, R->pres, R->pok);
}

/* The task's inputs: the kernels, the model, and the kernels' features. */
typedef struct {
    const mir_analyze_options *o;
    MPI_Comm comm;
    int rank, size;
    char dir[4096], kdir[4096];
    mir_coarsen c;
    mir_model *model;
    mir_probe *probe;
    float *emb, *rnd;  /* (n, D); random weights (n, D) or NULL */
    double *opc;       /* (n, MIR_N_OPCODES) */
    uint8_t *ok;       /* (n) */
    uint8_t *allowed[NG]; /* (n, NF) per GPU: the factors measured for the kernel */
} coarsen_inputs;

static void inputs_free(coarsen_inputs *in) {
    for (int g = 0; g < NG; g++) free(in->allowed[g]);
    free(in->ok); free(in->opc); free(in->emb); free(in->rnd);
    mir_probe_free(in->probe);
    mir_model_free(in->model);
    mir_coarsen_free(&in->c);
}

/* The task folder, the kernels with their runtimes, and the model. Collective; on failure nothing is left to free. */
static int load_inputs(coarsen_inputs *in, mir_error *err) {
    const mir_analyze_options *o = in->o;
    if (mir_task_dir(o, "coarsen", in->comm, in->dir, sizeof in->dir, err)) return -1;
    if (mir_kernels_dir(o, "thread_coarsening", "task_threadcoarsening", "kernels_ir", in->comm, in->kdir,
                        sizeof in->kdir, err))
        return -1;
    if (mir_coarsen_load(&in->c, o->data_dir, in->kdir, err)) return -1;
    in->model = mir_analyze_model_load(o, o->model, err);
    if (!in->model) { mir_coarsen_free(&in->c); return -1; }
    return 0;
}

/* Every kernel's features: opcode counts, embeddings, and the random-weight model's (ablations). Collective. */
static int compute_features(coarsen_inputs *in, results *R, mir_error *err) {
    const mir_analyze_options *o = in->o;
    const int n = in->c.n, D = R->D;
    in->emb = mir_malloc((size_t)n * D * sizeof *in->emb);
    in->opc = mir_malloc((size_t)n * MIR_N_OPCODES * sizeof *in->opc);
    in->ok = mir_malloc((size_t)n);
    R->opc_failed = mir_opcode_counts_mpi(in->c.kernel_file, n, in->opc, in->ok, in->comm, in->probe, PH_OPCODES);
    R->emb_failed = mir_embed_files_mpi(in->model, in->c.kernel_file, n, in->emb, in->ok, in->comm, in->probe, PH_EMBED);
    if (!o->ablations) return 0;
    char rpath[4200];
    snprintf(rpath, sizeof rpath, "%s/random-weights.h5", in->dir);
    const mir_model *m = in->model;
    int rc = in->rank == 0
                 ? mir_model_file_write_random(mir_model_config(m), mir_model_vocab(m), rpath, o->seed, err)
                 : 0;
    rc = mir_mpi_root_rc(in->comm, rc, err);
    mir_model *rm = rc ? NULL : mir_analyze_model_load(o, rpath, err);
    if (mir_mpi_agree(in->comm, rm == NULL, err)) {
        mir_fail(err, "%s: cannot write or read the random-weight model", rpath);
        mir_model_free(rm);
        return -1;
    }
    in->rnd = mir_malloc((size_t)n * D * sizeof *in->rnd);
    mir_embed_files_mpi(rm, in->c.kernel_file, n, in->rnd, in->ok, in->comm, in->probe, PH_EMBED_RANDOM);
    mir_model_free(rm);
    return 0;
}

/* The runs (feature set x seed x GPU), the labels and the factors allowed per GPU, the result arrays zeroed. */
static void plan_runs(coarsen_inputs *in, results *R) {
    const mir_analyze_options *o = in->o;
    const mir_coarsen *c = &in->c;
    const int n = c->n, on[FS_N] = {1, 1, o->ablations, o->ablations, o->ablations, o->ablations, o->ablations};
    int max_seeds = o->n_seeds > o->ablation_seeds ? o->n_seeds : o->ablation_seeds;
    R->runs = mir_malloc(sizeof *R->runs * FS_N * NG * (size_t)max_seeds);
    for (int fs = 0; fs < FS_N; fs++) {
        R->fs_on[fs] = on[fs];
        R->nseeds[fs] = on[fs] ? (fs <= FS_OPC ? o->n_seeds : o->ablation_seeds) : 0;
        for (int s = 0; s < R->nseeds[fs]; s++)
            for (int g = 0; g < NG; g++) R->runs[R->n_runs++] = (run_id){fs, g, s};
    }
    for (int g = 0; g < NG; g++) {
        R->y[g] = mir_malloc((size_t)n * sizeof **R->y);
        in->allowed[g] = mir_malloc((size_t)n * NF);
        for (int k = 0; k < n; k++) {
            int best = 0;
            for (int f = 0; f < NF; f++) {
                in->allowed[g][(size_t)k * NF + f] = !isnan(rt(c, g, k, f));
                if (in->allowed[g][(size_t)k * NF + f] && rt(c, g, k, f) < rt(c, g, k, best)) best = f;
            }
            R->y[g][k] = best;
        }
    }
    R->pred_all = mir_calloc((size_t)R->n_runs * 3 * n, sizeof *R->pred_all);
    R->chosen_all = mir_calloc((size_t)R->n_runs * n, sizeof *R->chosen_all);
}

/* The classification runs, leave one kernel out, shared out over the ranks (run r on rank r mod size), then
 * combined over the ranks with the fits and predictions counted into R->tot. Collective. */
static int run_classification(const coarsen_inputs *in, results *R, mir_error *err) {
    const mir_analyze_options *o = in->o;
    const int n = in->c.n, D = R->D;
    float *X = mir_malloc((size_t)n * (size_t)fs_dim(FS_BOTH, D) * sizeof *X); /* the widest feature set */
    int *fold = mir_malloc((size_t)n * sizeof *fold), *pred[3], *chosen = mir_malloc((size_t)n * sizeof *chosen);
    for (int v = 0; v < 3; v++) pred[v] = mir_malloc((size_t)n * sizeof **pred);
    for (int k = 0; k < n; k++) fold[k] = k;
    int64_t n_fits[MIR_CLF_N] = {0}, n_pred[MIR_CLF_N] = {0};
    int rc = 0;
    for (int r = in->rank; r < R->n_runs && !rc; r += in->size) {
        const run_id *id = &R->runs[r];
        int dim = fs_dim(id->fs, D);
        fill_features(id->fs, n, D, in->emb, in->rnd, in->opc, X);
        score_ctx sc = {&in->c, id->gpu};
        mir_cv_task t = {n, dim, NF, X, R->y[id->gpu], NULL, in->allowed[id->gpu], score_speedup, &sc, MIR_INNER_RANDOM,
                         4, &o->clf, in->probe, PH_FIT, PH_PREDICT};
        uint64_t cv_seed = mir_seed_mix(mir_seed_mix(o->seed, (uint64_t)id->seed), 0xc0a25e00u + (uint64_t)id->gpu);
        rc = mir_cv_run(&t, fold, n, cv_seed, pred, chosen, n_fits, n_pred, err);
        for (int v = 0; v < 3; v++)
            for (int k = 0; k < n; k++) R->pred_all[((size_t)r * 3 + v) * n + k] = pred[v][k];
        for (int k = 0; k < n; k++) R->chosen_all[(size_t)r * n + k] = chosen[k] + 1;
    }
    for (int v = 0; v < 3; v++) free(pred[v]);
    free(chosen); free(fold); free(X);
    return mir_runs_combine(in->comm, rc, R->pred_all, R->chosen_all, R->n_runs, n, n_fits, n_pred, R->tot, err);
}

/* Rank 0 aggregates and writes the outputs, every rank the cost section (collective). */
static int report(const coarsen_inputs *in, results *R, mir_error *err) {
    const int n = in->c.n;
    int rc = 0;
    if (in->rank == 0) {
        aggregate(R);
        rc = write_outputs(R, in->dir, err);
        if (!rc && !in->o->quiet)
            mir_log(MIR_LOG_INFO, "coarsen: speedup Cypress %.3f, Tahiti %.3f, Fermi %.3f, Kepler %.3f, geomean %.3f "
                    "(opcodes %.3f, oracle %.3f); wrote %s/summary.md", R->gmean[FS_EMB][2][0], R->gmean[FS_EMB][2][1],
                    R->gmean[FS_EMB][2][2], R->gmean[FS_EMB][2][3], R->geo[FS_EMB][2], R->geo[FS_OPC][2], R->orac_geo,
                    in->dir);
    }
    if (mir_mpi_root_rc(in->comm, rc, err)) return rc;
    static const char *const item_names[PH_N] = {"kernel", "kernel", "kernel", "fit", "fit", "predicted row", "predicted row"};
    const int64_t *tot = R->tot;
    double items[PH_N] = {(double)(n - R->emb_failed), in->o->ablations ? (double)n : 0, (double)(n - R->opc_failed),
                          (double)tot[0], (double)tot[1], (double)tot[2], (double)tot[3]};
    mir_report_cost(in->dir, in->probe, in->comm, phase_names, PH_N, item_names, items,
                    "%lld fits of each classifier (inner cross-validation included), %lld of the regressor. Total "
                    "wall time %.1f s on %d rank(s).\n", (long long)tot[0], (long long)R->rr.fits,
                    mir_wall_seconds() - R->t0, in->size);
    return 0;
}

int mir_analyze_coarsen(const mir_analyze_options *o, MPI_Comm comm, mir_error *err) {
    coarsen_inputs in = {.o = o, .comm = comm};
    results R = {.o = o, .t0 = mir_wall_seconds()};
    MPI_Comm_rank(comm, &in.rank);
    MPI_Comm_size(comm, &in.size);
    if (load_inputs(&in, err)) return -1;
    R.c = &in.c;
    R.D = (int)mir_embedding_dim(in.model);
    R.kernels_dir = in.kdir;
    R.model_hash = mir_model_hash(in.model);
    in.probe = mir_probe_create("mir_analyze", phase_names, PH_N, NULL, 0, in.rank != 0 || o->quiet);
    int rc = compute_features(&in, &R, err);
    if (!rc) {
        plan_runs(&in, &R);
        rc = run_classification(&in, &R, err);
    }
    if (!rc) rc = coarsen_regress(&in.c, o, R.fs_on, R.D, in.emb, in.rnd, in.opc, comm, &R.rr, err);
    if (!rc && o->finetune) rc = coarsen_finetune(&in.c, o, in.model, in.ok, comm, &R.rr, err);
    if (!rc) rc = report(&in, &R, err);
    if (!rc && (R.emb_failed || R.opc_failed)) {
        mir_fail(err, "coarsen: %d kernel(s) not embedded, %d not counted: they use zero features (summary.md)",
                 R.emb_failed, R.opc_failed);
        rc = MIR_ANALYZE_INCOMPLETE;
    }
    results_free(&R);
    inputs_free(&in);
    return rc;
}
