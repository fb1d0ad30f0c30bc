/*
 * vectorize.c: mir-analyze vectorize: (VF, IF) of the kernel loop of NeuroVectorizer's programs, predicted
 * from the program's embedding, against the labels vectorize-label measured (see vectorize.h).
 *
 * Features: the program's embedding (mir_embed_file on its IR: clang -O1 -emit-llvm, as mir-preprocess
 * --compile makes the pre-training corpus, through the same mir_compile_source) or its opcode counts (the
 * baseline). Label: the fastest config of the grid. Protocols: leave one loop family out (the 20 families of
 * the data set), and leave one base family out (s6/s6n, s12/s12n/s12nn ... together: the n variants are the
 * same loop unrolled by hand). Inner folds grouped as the outer ones; the inner criterion is the geometric-mean
 * speedup. Classifiers as the other tasks (classifier.h, cv.h). Runs (feature set x protocol x seed) are
 * shared out over the ranks; results do not depend on their number.
 *
 * Speedup of a choice = time at plain -O3 / time at the chosen config; fraction of the oracle = time at
 * the best config / time at the chosen one; both aggregated by the geometric mean over programs (the
 * arithmetic mean of the speedup too).
 */
#include <llvm-c/Core.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "compile.h"
#include "cv.h"
#include "irmodule.h"
#include "kernel_features.h"
#include "mpi_util.h"
#include "probe.h"
#include "paired.h"
#include "protocol.h"
#include "regress.h"
#include "report.h"
#include "vectorize.h"

enum { FS_EMB, FS_OPC, FS_N };
static const char *const fs_name[FS_N] = {"mirencoder", "opcodes"};
static const char *const fs_label[FS_N] = {"MIREncoder embedding", "opcode counts (baseline)"};
enum { PR_FAMILY, PR_BASE, PR_N };
static const char *const pr_name[PR_N] = {"family", "base-family"};
static const char *const variant_name[MIR_CLF_N + 1] = {"xgboost", "mlp", "selected"};

enum { PH_IR, PH_EMBED, PH_OPCODES, PH_FIT, PH_PREDICT = PH_FIT + MIR_CLF_N, PH_N = PH_PREDICT + MIR_CLF_N };
static const char *const phase_names[PH_N] = {"compile IR", "embed", "opcodes", "fit xgboost", "fit mlp",
                                              "predict xgboost", "predict mlp"};

typedef struct { int fs, pr, seed; } run_id;

static double score_log_speedup(void *ctx, const int *rows, const int *pred, int m) {
    mir_vec_stats s;
    mir_vec_stats_of(ctx, rows, pred, m, &s);
    return m ? log(s.geomean) : 0;
}

/* The module as text into ll, whole or not at all. */
static int write_ll(LLVMModuleRef m, const char *ll, mir_error *err) {
    mir_atomic_file out;
    if (mir_atomic_begin(&out, ll, err)) return -1;
    char *msg = NULL;
    int rc = 0;
    if (LLVMPrintModuleToFile(m, out.tmp, &msg)) {
        rc = mir_fail(err, "%s: cannot write: %s", out.tmp, msg ? msg : "?");
        mir_atomic_abort(&out);
    } else {
        rc = mir_atomic_commit(&out, err);
    }
    if (msg) LLVMDisposeMessage(msg);
    return rc;
}

/* IR of program i into OUT/vectorize/ir/NAME.ll (kept: a rerun reuses it). */
static int compile_ir(const char *loops, const char *program, const char *ll, mir_error *err) {
    struct stat st;
    if (stat(ll, &st) == 0 && st.st_size > 0) return 0;
    mir_compile_options co;
    mir_compile_options_default(&co);
    const char *flags[] = {"-I", loops};
    co.user_flags = flags;
    co.n_user_flags = 2;
    char src[4300];
    snprintf(src, sizeof src, "%s/%s", loops, program);
    char *bc = NULL;
    size_t bytes = 0;
    if (mir_compile_source(src, MIR_SRC_C, &co, &bc, &bytes, err)) return -1;
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = NULL;
    int rc = mir_parse_ir(ctx, bc, bytes, src, &m, err);
    free(bc);
    if (!rc) {
        rc = write_ll(m, ll, err);
        LLVMDisposeModule(m);
    }
    LLVMContextDispose(ctx);
    return rc;
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *cfg_str(const mir_vec_table *t, int c, char *buf, size_t cap) {
    if (c < 0) snprintf(buf, cap, "-");
    else snprintf(buf, cap, "VF%d/IF%d", t->vf[c], t->ifc[c]);
    return buf;
}

/* ---------------- regression and the safe rule (regress.h, issue 15), leave one family out ---------------- */

enum { VP_CLF, VP_REG, VP_SAFE, VP_N };
static const char *const vp_name[VP_N] = {"selected", "regression", "safe"};
static const char *const vp_label[VP_N] = {"classification (selected)", "regression", "safe (regression, margin)"};

typedef struct {
    const float *X; /* (n, dim) the programs' features */
    int dim;
    const mir_vec_table *t;
} vreg_ctx;

/* Row of program u at config c: the program's features (dim), log2(VF), log2(IF). */
static void vreg_row(const void *ctx, int u, int c, float *x) {
    const vreg_ctx *r = ctx;
    memcpy(x, r->X + (size_t)u * r->dim, (size_t)r->dim * sizeof *x);
    x[r->dim] = (float)log2(r->t->vf[c]);
    x[r->dim + 1] = (float)log2(r->t->ifc[c]);
}

/* Regression runs (feature set x seed, protocol "family"), shared out over the ranks. choice (FS_N * S, 2, n):
 * config (or MIR_REG_DEFAULT: plain -O3) of regression [0] and safe [1]; margin (FS_N * S, n_families). */
static int vec_regress(const mir_vec_table *t, const mir_analyze_options *o, int D, const float *emb, const double *opc,
                       MPI_Comm comm, int *choice, double *margin, int64_t *fits, mir_error *err) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const int n = t->n, C = t->n_cfg, S = o->n_seeds, dmax = D > MIR_N_OPCODES ? D : MIR_N_OPCODES;
    double *gain = mir_malloc((size_t)n * C * sizeof *gain);
    for (int i = 0; i < n * C; i++) gain[i] = log(mir_vec_speedup(t, i / C, i % C)); /* NaN where invalid */
    float *X = mir_malloc((size_t)n * dmax * sizeof *X);
    int *reg = mir_malloc((size_t)n * sizeof *reg), *safe = mir_malloc((size_t)n * sizeof *safe), rc = 0;
    for (int r = rank; r < FS_N * S && !rc; r += size) {
        int fs = r / S, s = r % S, dim = fs == FS_EMB ? D : MIR_N_OPCODES;
        for (int i = 0; i < n; i++)
            for (int q = 0; q < dim; q++)
                X[(size_t)i * dim + q] = fs == FS_EMB ? emb[(size_t)i * D + q] : (float)opc[(size_t)i * MIR_N_OPCODES + q];
        vreg_ctx ctx = {X, dim, t};
        mir_reg_task task = {n, C, dim + 2, vreg_row, &ctx, gain, -1, t->family_id, t->n_families, 3, &o->clf,
                             MIR_REG_RULE_NO_LOSS};
        uint64_t seed = mir_seed_mix(mir_seed_mix(o->seed, (uint64_t)s), 0x7e9ec000u);
        rc = mir_reg_run(&task, seed, reg, safe, margin + (size_t)r * t->n_families, fits, err);
        for (int i = 0; i < n && !rc; i++) {
            choice[((size_t)r * 2 + 0) * n + i] = reg[i] + 2;
            choice[((size_t)r * 2 + 1) * n + i] = safe[i] + 2;
        }
    }
    free(safe); free(reg); free(X); free(gain);
    return mir_reg_runs_combine(comm, rc, choice, FS_N * S * 2 * n, margin, FS_N * S * t->n_families, fits, err);
}

typedef struct vec_agg {
    double speedup, fraction;  /* geometric means over the programs (mean over seeds): vs -O3, of the oracle */
    double sd_speedup;         /* deviation over seeds of the speedup */
    double losses, worst;      /* share of the S * n predictions slower than -O3; the smallest speedup */
    double *unit_log;          /* (n) log speedup over -O3 of each program, mean over seeds */
} vec_agg;

/* From lsp (S, n): log speedups over -O3 of one predictor. */
static void vec_agg_of(const mir_vec_table *t, const double *lsp, int S, vec_agg *a) {
    const int n = t->n, C = t->n_cfg;
    double *g = mir_malloc((size_t)S * sizeof *g), fr = 0;
    int lost = 0;
    a->worst = INFINITY;
    a->unit_log = mir_calloc((size_t)n, sizeof *a->unit_log);
    for (int s = 0; s < S; s++) {
        double l = 0;
        for (int i = 0; i < n; i++) {
            double v = lsp[(size_t)s * n + i];
            l += v;
            a->unit_log[i] += v / S;
            lost += v < 0;
            if (exp(v) < a->worst) a->worst = exp(v);
            fr += log(t->t_o3[i] / t->t[(size_t)i * C + t->best[i]]) - v; /* log(t_pred / t_best) */
        }
        g[s] = exp(l / n);
    }
    a->speedup = mir_mean(g, S);
    a->sd_speedup = mir_stddev(g, S);
    a->fraction = exp(-fr / ((double)S * n));
    a->losses = (double)lost / ((double)S * n);
    free(g);
}

/* The three predictors of each feature set (protocol family): agg[fs][VP_*]. */
static void vec_reg_aggregate(const mir_vec_table *t, const int *pred_all, const int *choice, int S, vec_agg agg[FS_N][VP_N]) {
    const int n = t->n;
    double *lsp = mir_malloc((size_t)S * n * sizeof *lsp);
    for (int fs = 0; fs < FS_N; fs++)
        for (int p = 0; p < VP_N; p++) {
            for (int s = 0; s < S; s++)
                for (int i = 0; i < n; i++) {
                    if (p == VP_CLF) {
                        int r = (fs * PR_N + PR_FAMILY) * S + s, q = pred_all[((size_t)r * 3 + 2) * n + i];
                        mir_vec_stats st;
                        mir_vec_stats_of(t, &i, &q, 1, &st);
                        lsp[(size_t)s * n + i] = log(st.geomean);
                    } else {
                        int c = choice[(((size_t)fs * S + s) * 2 + p - VP_REG) * n + i];
                        lsp[(size_t)s * n + i] = c == MIR_REG_DEFAULT ? 0.0 : log(mir_vec_speedup(t, i, c));
                    }
                }
            vec_agg_of(t, lsp, S, &agg[fs][p]);
        }
    free(lsp);
}

static const struct {
    const char *name, *what;
    int fa, pa, fb, pb; /* fb < 0: plain -O3 */
} vpaired_def[] = {
    {"embedding_vs_opcodes", "embedding against opcode counts (classification)", FS_EMB, VP_CLF, FS_OPC, VP_CLF},
    {"safe_vs_classification", "safe against classification (embedding)", FS_EMB, VP_SAFE, FS_EMB, VP_CLF},
    {"regression_vs_classification", "regression against classification (embedding)", FS_EMB, VP_REG, FS_EMB, VP_CLF},
    {"safe_vs_regression", "safe against regression (embedding)", FS_EMB, VP_SAFE, FS_EMB, VP_REG},
    {"regression_embedding_vs_opcodes", "embedding against opcode counts (regression)", FS_EMB, VP_REG, FS_OPC, VP_REG},
    {"safe_embedding_vs_opcodes", "embedding against opcode counts (safe)", FS_EMB, VP_SAFE, FS_OPC, VP_SAFE},
    {"safe_vs_default", "safe (embedding) against clang -O3", FS_EMB, VP_SAFE, -1, 0},
    {"safe_opcodes_vs_default", "safe (opcode counts) against clang -O3", FS_OPC, VP_SAFE, -1, 0},
    {"classification_vs_default", "classification (embedding) against clang -O3", FS_EMB, VP_CLF, -1, 0},
};
#define N_VPAIRED ((int)(sizeof vpaired_def / sizeof *vpaired_def))

static void vec_paired(vec_agg agg[FS_N][VP_N], int n, mir_paired *res) {
    double *zero = mir_calloc((size_t)n, sizeof *zero);
    for (int i = 0; i < N_VPAIRED; i++)
        mir_paired_t(agg[vpaired_def[i].fa][vpaired_def[i].pa].unit_log,
                     vpaired_def[i].fb < 0 ? zero : agg[vpaired_def[i].fb][vpaired_def[i].pb].unit_log, n, &res[i]);
    free(zero);
}

/* ---------------- the results ---------------- */

/* metrics of a choice over the programs (mir_vec_stats), per run and variant */
enum { M_GEO, M_MEAN, M_FRAC, M_ACC, M_W5, M_N };
static const char *const m_name[M_N] = {"speedup_geomean", "speedup_mean", "fraction_of_oracle", "accuracy",
                                        "within_5pct"};

/* What the task computed: filled by mir_analyze_vectorize's steps, read by the writers (rank 0) and the cost
 * section. Run r = (fs * PR_N + pr) * S + seed. */
typedef struct {
    const mir_analyze_options *o;
    const mir_vec_table *t;
    int S, n_runs;
    run_id *runs;
    int *pred_all;      /* (n_runs, 3, n): config chosen per variant */
    int *chosen_all;    /* (n_runs, n): classifier picked in the program's outer fold, -1 none */
    int64_t tot[4];     /* fits xgboost, mlp; predictions xgboost, mlp (over the ranks) */
    int *rchoice;       /* (FS_N * S, 2, n): regression and safe (vec_regress) */
    double *rmargin;    /* (FS_N * S, n_families) */
    int64_t reg_fits;
    /* aggregates (rank 0) */
    int *rows;                   /* 0 .. n-1 */
    int *p_fixed[PR_N];          /* (n) per protocol: the best fixed config of the training families */
    int *p_scalar, c_scalar;     /* VF 1 / IF 1 everywhere (c_scalar < 0: not in the grid) */
    mir_vec_stats st_oracle, st_fixed[PR_N], st_scalar;
    double o3_fraction;          /* clang's own choice: geomean(t_best / t_o3) */
    int o3_is_best, o3_beats_grid;
    double agg[FS_N][PR_N][3][M_N], sd[FS_N][PR_N][3][M_N]; /* mean and deviation over seeds */
    double (*fam_sp)[FS_N + 3];  /* per family: MIREncoder, opcodes, fixed config, oracle, -O3's fraction */
    int *fam_n;                  /* programs per family */
    double sp_med, ag_med, ag_p90; /* noise: spread within jobs; the two -O3 measurements */
    int n_ag, n_close;
    vec_agg vagg[FS_N][VP_N];
    mir_paired vres[N_VPAIRED];
    /* the inputs */
    int D, ir_failed, emb_failed, opc_failed;
    const char *labels, *loops, *model_hash;
    double t0;
} results;

static void results_free(results *R) {
    for (int fs = 0; fs < FS_N; fs++)
        for (int p = 0; p < VP_N; p++) free(R->vagg[fs][p].unit_log);
    for (int pr = 0; pr < PR_N; pr++) free(R->p_fixed[pr]);
    free(R->p_scalar); free(R->fam_sp); free(R->fam_n); free(R->rows);
    free(R->rchoice); free(R->rmargin); free(R->runs); free(R->pred_all); free(R->chosen_all);
}

/* ---------------- the outputs (rank 0) ---------------- */

static void vec_reg_md(FILE *f, const results *R) {
    const int S = R->S, nfam = R->t->n_families;
    int inf = 0;
    for (int i = 0; i < FS_N * S * nfam; i++) inf += isinf(R->rmargin[i]);
    fprintf(f, "### Regression and the do-no-harm rule (leave one family out)\n\n"
               "`regression`: one XGBoost regressor per outer fold on every valid (program, config) row of the training "
               "families (features: the program's, log2 VF, log2 IF; target: log(-O3 time / time at the config)); the "
               "argmax over the configs valid for the held-out program. `safe`: plain -O3 unless the argmax's predicted "
               "gain exceeds a margin in {0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, inf} picked by inner 3-fold cross-"
               "validation grouped by family on the training families only, among the margins whose inner gain over "
               "-O3 is significant (95 %% paired t interval over the inner families above 0) and that made no inner program "
               "slower than -O3 (do no harm); none: inf. Margin inf "
               "in %.0f %% of the folds.\n\n", 100.0 * inf / (FS_N * S * nfam));
    mir_md_table_head(f, 1, "| features, predictor | speedup over -O3 (geomean) | fraction of oracle | losses | worst |");
    for (int fs = 0; fs < FS_N; fs++)
        for (int p = 0; p < VP_N; p++) {
            const vec_agg *a = &R->vagg[fs][p];
            char label[256];
            snprintf(label, sizeof label, "%s, %s", fs_label[fs], vp_label[p]);
            mir_md_label(f, label, p == VP_SAFE);
            mir_md_pm(f, a->speedup, a->sd_speedup, S, "%.3f");
            fprintf(f, " %.3f | %.1f %% | %.3f |\n", a->fraction, 100 * a->losses, a->worst);
        }
    fprintf(f, "\nPaired verdicts. Unit: a held-out program, its log speedup over -O3 averaged over the seeds first; "
               "95 %% Student-t interval of the mean paired difference (analysis/paired.h); a positive difference "
               "favours the first named.\n\n");
    for (int i = 0; i < N_VPAIRED; i++) mir_paired_md(f, vpaired_def[i].what, &R->vres[i], "programs");
    fprintf(f, "\n");
}

/* summary.json's keys of the regression: regression, safe (embedding), their opcode-count entries, paired */
static void vec_reg_json(mir_json *j, const results *R) {
    for (int p = VP_REG; p < VP_N; p++)
        for (int fs = 0; fs < FS_N; fs++) {
            const vec_agg *a = &R->vagg[fs][p];
            char key[64];
            snprintf(key, sizeof key, "%s_by_features", vp_name[p]);
            mir_json_object(j, fs == FS_EMB ? vp_name[p] : key, 0);
            if (fs != FS_EMB) mir_json_object(j, fs_name[fs], 0);
            mir_json_num(j, "speedup_vs_O3", a->speedup);
            mir_json_num(j, "fraction_of_oracle", a->fraction);
            mir_json_num(j, "losses", a->losses);
            mir_json_num(j, "worst", a->worst);
            if (fs != FS_EMB) mir_json_close(j);
            mir_json_close(j);
        }
    mir_json_object(j, "paired", 0);
    for (int i = 0; i < N_VPAIRED; i++) mir_json_paired(j, vpaired_def[i].name, &R->vres[i]);
    mir_json_close(j);
}

/* "KEY": {"speedup_vs_O3": .., ["speedup_vs_O3_mean": ..,] "fraction_of_oracle": ..} of the selected classifier */
static void json_selected(mir_json *j, const char *key, const double *m, int with_mean) {
    mir_json_object(j, key, 0);
    mir_json_num(j, "speedup_vs_O3", m[M_GEO]);
    if (with_mean) mir_json_num(j, "speedup_vs_O3_mean", m[M_MEAN]);
    mir_json_num(j, "fraction_of_oracle", m[M_FRAC]);
}

/* summary.json: the embedding's headline (leave one family out, selected classifier), the baselines, the other
 * protocol, the noise, the regression */
static int write_json(const results *R, const char *dir, mir_error *err) {
    const mir_vec_table *t = R->t;
    const double *emb = R->agg[FS_EMB][PR_FAMILY][2];
    mir_json j;
    if (mir_json_open(&j, dir, "summary.json", 0, err)) return -1;
    mir_json_num(&j, "speedup_vs_O3", emb[M_GEO]);
    mir_json_num(&j, "speedup_vs_O3_mean", emb[M_MEAN]);
    mir_json_num(&j, "fraction_of_oracle", emb[M_FRAC]);
    mir_json_num(&j, "accuracy", emb[M_ACC]);
    mir_json_num(&j, "oracle_speedup_vs_O3", R->st_oracle.geomean);
    mir_json_num(&j, "O3_fraction_of_oracle", R->o3_fraction);
    mir_json_int(&j, "O3_beats_grid", R->o3_beats_grid);
    mir_json_int(&j, "programs", t->n);
    mir_json_int(&j, "families", t->n_families);
    mir_json_int(&j, "configs", t->n_cfg);
    mir_json_int(&j, "seeds", R->S);
    mir_json_str(&j, "protocol", "leave one family out");
    json_selected(&j, "baseline", R->agg[FS_OPC][PR_FAMILY][2], 1);
    mir_json_close(&j);
    mir_json_object(&j, "fixed_config", 0);
    mir_json_num(&j, "speedup_vs_O3", R->st_fixed[PR_FAMILY].geomean);
    mir_json_num(&j, "fraction_of_oracle", R->st_fixed[PR_FAMILY].fraction);
    mir_json_close(&j);
    json_selected(&j, "base_family", R->agg[FS_EMB][PR_BASE][2], 0);
    json_selected(&j, "baseline", R->agg[FS_OPC][PR_BASE][2], 0);
    mir_json_close(&j);
    mir_json_close(&j);
    mir_json_object(&j, "noise", 0);
    mir_json_num(&j, "repeat_spread_median", R->sp_med);
    mir_json_num(&j, "O3_again_median", R->ag_med);
    mir_json_num(&j, "O3_again_p90", R->ag_p90);
    mir_json_close(&j);
    vec_reg_json(&j, R);
    return mir_json_finish(&j, dir, "summary.json", err);
}

/* metrics.csv: per feature set, protocol and variant the metrics; the trivial choices; the regression */
static int write_metrics(const results *R, const char *dir, mir_error *err) {
    FILE *f = mir_csv_open(dir, "metrics.csv", "features,protocol,classifier,metric,mean,sd,seeds", err);
    if (!f) return -1;
    char keys[256];
    for (int fs = 0; fs < FS_N; fs++)
        for (int pr = 0; pr < PR_N; pr++)
            for (int q = 0; q < 3; q++) {
                snprintf(keys, sizeof keys, "%s,%s,%s", fs_name[fs], pr_name[pr], variant_name[q]);
                for (int mm = 0; mm < M_N; mm++)
                    mir_csv_metric(f, keys, m_name[mm], R->agg[fs][pr][q][mm], R->sd[fs][pr][q][mm], R->S);
            }
    for (int pr = 0; pr < PR_N; pr++) {
        const mir_vec_stats *st = &R->st_fixed[pr];
        double vals[M_N] = {st->geomean, st->mean, st->fraction, st->accuracy, st->within5};
        snprintf(keys, sizeof keys, "fixed-config,%s,", pr_name[pr]);
        for (int mm = 0; mm < M_N; mm++) mir_csv_metric(f, keys, m_name[mm], vals[mm], 0, 1);
    }
    mir_csv_metric(f, "oracle,,", "speedup_geomean", R->st_oracle.geomean, 0, 1);
    mir_csv_metric(f, "oracle,,", "speedup_mean", R->st_oracle.mean, 0, 1);
    mir_csv_metric(f, "clang-O3,,", "fraction_of_oracle", R->o3_fraction, 0, 1);
    if (R->c_scalar >= 0) {
        mir_csv_metric(f, "VF1-IF1,,", "speedup_geomean", R->st_scalar.geomean, 0, 1);
        mir_csv_metric(f, "VF1-IF1,,", "fraction_of_oracle", R->st_scalar.fraction, 0, 1);
    }
    for (int fs = 0; fs < FS_N; fs++)
        for (int p = VP_REG; p < VP_N; p++) {
            const vec_agg *a = &R->vagg[fs][p];
            snprintf(keys, sizeof keys, "%s,family,%s", fs_name[fs], vp_name[p]);
            mir_csv_metric(f, keys, "speedup_geomean", a->speedup, a->sd_speedup, R->S);
            mir_csv_value(f, keys, "fraction_of_oracle", a->fraction, R->S);
            mir_csv_value(f, keys, "losses", a->losses, R->S);
            mir_csv_value(f, keys, "worst", a->worst, R->S);
        }
    fclose(f);
    return 0;
}

/* predictions.csv: per protocol, feature set and program the first seed's choice and the mean speedup over seeds;
 * then the best fixed config's */
static int write_predictions(const results *R, const char *dir, mir_error *err) {
    const mir_vec_table *t = R->t;
    const int n = t->n, S = R->S;
    char a[32], b2[32];
    FILE *f = mir_csv_open(dir, "predictions.csv", "protocol,features,program,family,o3_s,o3_vf,o3_if,oracle,"
                           "oracle_speedup,classifier,predicted,speedup,mean_speedup_over_seeds,seeds", err);
    if (!f) return -1;
    for (int pr = 0; pr < PR_N; pr++) {
        for (int fs = 0; fs < FS_N; fs++)
            for (int i = 0; i < n; i++) {
                int r0 = (fs * PR_N + pr) * S;
                int p = R->pred_all[((size_t)r0 * 3 + 2) * n + i], ch = R->chosen_all[(size_t)r0 * n + i];
                double ms = 0;
                for (int s = 0; s < S; s++) {
                    int q = R->pred_all[((size_t)(r0 + s) * 3 + 2) * n + i];
                    ms += mir_vec_valid(t, i, q) ? mir_vec_speedup(t, i, q) : 0;
                }
                fprintf(f, "%s,%s,%s,%s,%.6g,%d,%d,%s,%.6g,%s,%s,%.6g,%.6g,%d\n", pr_name[pr], fs_name[fs], t->program[i],
                        t->family[i], t->t_o3[i], t->o3_vf[i], t->o3_if[i], cfg_str(t, t->best[i], a, sizeof a),
                        mir_vec_speedup(t, i, t->best[i]), ch >= 0 ? mir_clf_name(ch) : "", cfg_str(t, p, b2, sizeof b2),
                        mir_vec_speedup(t, i, p), ms / S, S);
            }
        for (int i = 0; i < n; i++)
            fprintf(f, "%s,fixed-config,%s,%s,%.6g,%d,%d,%s,%.6g,,%s,%.6g,%.6g,1\n", pr_name[pr], t->program[i],
                    t->family[i], t->t_o3[i], t->o3_vf[i], t->o3_if[i], cfg_str(t, t->best[i], a, sizeof a),
                    mir_vec_speedup(t, i, t->best[i]), cfg_str(t, R->p_fixed[pr][i], b2, sizeof b2),
                    mir_vec_speedup(t, i, R->p_fixed[pr][i]), mir_vec_speedup(t, i, R->p_fixed[pr][i]));
    }
    return mir_report_close(f, dir, "predictions.csv", err);
}

/* speedup.dat/.gp/.png: per family, the geometric-mean speedup over -O3; optional (nothing is reported when it cannot
 * be written) */
static void write_plot(const results *R, const char *dir) {
    const mir_vec_table *t = R->t;
    mir_error e = {{0}};
    FILE *f = mir_report_open(dir, "speedup.dat", "w", &e);
    if (!f) return;
    for (int fam = 0; fam < t->n_families; fam++)
        fprintf(f, "%s %.6g %.6g %.6g %.6g\n", t->family_name[fam], R->fam_sp[fam][FS_EMB], R->fam_sp[fam][FS_OPC],
                R->fam_sp[fam][FS_N], R->fam_sp[fam][FS_N + 1]);
    fprintf(f, "all %.6g %.6g %.6g %.6g\n", R->agg[FS_EMB][PR_FAMILY][2][M_GEO], R->agg[FS_OPC][PR_FAMILY][2][M_GEO],
            R->st_fixed[PR_FAMILY].geomean, R->st_oracle.geomean);
    fclose(f);
    mir_plot p = {"speedup", 1200, "Loop vectorization: speedup over clang -O3 (geometric mean; leave one family out)", 0,
                  "rotate by -45", "speedup over -O3", "[0:*]",
                  "'speedup.dat' using 2:xtic(1) title 'MIREncoder', '' using 3 title 'opcode counts', '' using 4 title "
                  "'best fixed config', '' using 5 title 'oracle (brute force)', 1 notitle lc rgb 'black'"};
    mir_plot_write(dir, &p, &e);
}

/* summary.md's head: the inputs, what was left out, what the figures are */
static void md_inputs(FILE *f, const results *R) {
    const mir_analyze_options *o = R->o;
    const mir_vec_table *t = R->t;
    char machine[512], a[32];
    mir_machine_string(machine, sizeof machine);
    mir_md_title(f, "Loop vectorization: (VF, IF) from MIREncoder embeddings against the opcode-count baseline",
                 o->command_line);
    fprintf(f, "Model: `%s` (hash %s, embedding %d floats). Labels: `%s` (%d programs of %d families, %d configs: ",
            o->model, R->model_hash, R->D, R->labels, t->n, t->n_families, t->n_cfg);
    for (int c = 0; c < t->n_cfg; c++) fprintf(f, "%s%s", c ? ", " : "", cfg_str(t, c, a, sizeof a));
    fprintf(f, "). Programs: `%s`. Seeds: %d, base seed %llu. Machine: %s.\n\n", R->loops, R->S,
            (unsigned long long)o->seed, machine);
    if (t->n_dropped || t->n_failed || t->n_wrong_digest)
        fprintf(f, "Left out: %d program(s) (%d of them incomplete: not every config measured yet; the others without "
                   "a -O3 time or a valid config); %d config measurement(s) that failed to compile or run; %d whose "
                   "output digest differed from -O3's (a wrong result: never chosen).\n\n",
                t->n_dropped, t->n_incomplete, t->n_failed, t->n_wrong_digest);
    if (R->emb_failed || R->opc_failed || R->ir_failed)
        fprintf(f, "**%d program(s) could not be compiled to IR, %d embedded, %d counted** (zero features; see the log).\n\n",
                R->ir_failed, R->emb_failed, R->opc_failed);
    fprintf(f, "Label: the fastest config of the grid for the program (best of the runs). Features: the embedding of "
               "the program's IR (clang -O1, as the pre-training corpus), or its opcode counts. Protocols: leave one "
               "loop family out (%d folds), and leave one base family out (%d folds: s6/s6n, s7/s7n, s8/s8n, s9/s9n, "
               "s12/s12n/s12nn are the same loop, the n variants unrolled by hand). XGBoost or MLP, picked in each "
               "fold by inner 3-fold cross-validation grouped as the outer folds (by family, or base family) "
               "on the training programs (criterion: "
               "geometric-mean speedup); a prediction is restricted to the configs measured validly for the "
               "program. Speedup = -O3 time / time at the predicted config; fraction of the oracle = time at the "
               "best config / time at the predicted one; geometric means over the programs (and the arithmetic "
               "mean of the speedup), mean ± deviation over %d seeds.\n\n",
            t->n_families, t->n_bases, R->S);
}

/* one table per protocol: the classifiers of each feature set and the trivial choices */
static void md_protocols(FILE *f, const results *R) {
    static const char *const fmt[M_N] = {"%.3f", "%.3f", "%.3f", "%.1f", "%.1f"};
    for (int pr = 0; pr < PR_N; pr++) {
        fprintf(f, "### Protocol: leave one %s out\n\n", pr == PR_FAMILY ? "family" : "base family");
        mir_md_table_head(f, 1, "| method | speedup over -O3 (geomean) | arithmetic mean | fraction of oracle | best "
                          "config hit %% | within 5 %% of best |");
        for (int fs = 0; fs < FS_N; fs++)
            for (int q = 2; q >= 0; q--) {
                char label[256];
                snprintf(label, sizeof label, "%s, %s", fs_label[fs], variant_name[q]);
                mir_md_label(f, label, q == 2);
                for (int mm = 0; mm < M_N; mm++)
                    mir_md_pm(f, R->agg[fs][pr][q][mm], R->sd[fs][pr][q][mm], R->S, fmt[mm]);
                fprintf(f, "\n");
            }
        const mir_vec_stats *st = &R->st_fixed[pr], *sc = &R->st_scalar;
        fprintf(f, "| best fixed config of the training families | %.3f | %.3f | %.3f | %.1f | %.1f |\n", st->geomean,
                st->mean, st->fraction, st->accuracy, st->within5);
        if (pr == PR_FAMILY) {
            if (R->c_scalar >= 0)
                fprintf(f, "| always VF 1 / IF 1 (no vectorization) | %.3f | %.3f | %.3f | %.1f | %.1f |\n", sc->geomean,
                        sc->mean, sc->fraction, sc->accuracy, sc->within5);
            fprintf(f, "| clang -O3's own choice | 1 | 1 | %.3f | %.1f | |\n", R->o3_fraction,
                    100.0 * R->o3_is_best / R->t->n);
            fprintf(f, "| oracle (brute force over the grid) | %.3f | %.3f | 1 | 100 | 100 |\n", R->st_oracle.geomean,
                    R->st_oracle.mean);
        }
        fprintf(f, "\n");
    }
}

/* per family, and the noise of the labels */
static void md_families(FILE *f, const results *R) {
    const mir_vec_table *t = R->t;
    const int n = t->n;
    fprintf(f, "For %d of the %d programs plain -O3 is faster than every config of the grid (the oracle is the best "
               "config of the grid, so its speedup can be below 1 there).\n\n", R->o3_beats_grid, n);
    fprintf(f, "Published (NeuroVectorizer, CGO'20, its own machine and benchmarks): 1.29x-4.73x over the -O3 "
               "baseline, within 3 %% of brute force.\n\n");
    fprintf(f, "### Per family (leave one family out; geometric-mean speedup over -O3, selected classifier, mean over "
               "seeds)\n\n");
    mir_md_table_head(f, 1, "| family | programs | MIREncoder | opcode counts | best fixed config | oracle | -O3 as a "
                      "fraction of the oracle |");
    for (int fam = 0; fam < t->n_families; fam++)
        fprintf(f, "| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f |\n", t->family_name[fam], R->fam_n[fam],
                R->fam_sp[fam][FS_EMB], R->fam_sp[fam][FS_OPC], R->fam_sp[fam][FS_N], R->fam_sp[fam][FS_N + 1],
                R->fam_sp[fam][FS_N + 2]);
    fprintf(f, "\n### Noise of the labels\n\nWithin a job, (worst - best) / best of its runs: median %.2f %%. The two plain "
               "-O3 measurements of a program (before and after its grid): |difference| / smaller, median %.2f %%, 90th "
               "percentile %.2f %% over %d programs. For %d of the %d programs the brute-force best is less than the "
               "median -O3 difference faster than -O3: their label is a coin toss between near-equal configs.\n\n",
            100 * R->sp_med, 100 * R->ag_med, 100 * R->ag_p90, R->n_ag, R->n_close, n);
}

/* summary.md (the cost section is appended by the caller: it is collective) */
static int write_md(const results *R, const char *dir, mir_error *err) {
    FILE *f = mir_report_open(dir, "summary.md", "w", err);
    if (!f) return -1;
    md_inputs(f, R);
    md_protocols(f, R);
    vec_reg_md(f, R);
    md_families(f, R);
    fprintf(f, "Plot: [speedup.png](speedup.png). Per-program predictions: predictions.csv (first seed, and the mean speedup "
               "over seeds). Every aggregate: metrics.csv.\n");
    fclose(f);
    return 0;
}

/* every output but the cost section (rank 0) */
static int write_outputs(const results *R, const char *dir, mir_error *err) {
    if (write_predictions(R, dir, err) || write_metrics(R, dir, err) || write_json(R, dir, err)) return -1;
    write_plot(R, dir);
    return write_md(R, dir, err);
}

/* ---------------- the aggregates (rank 0) ---------------- */

/* The trivial choices: the oracle, clang's (speedup 1), VF 1 / IF 1, and the best fixed config of the training
 * families (per protocol fold), with their stats. */
static void aggregate_baselines(results *R) {
    const mir_vec_table *t = R->t;
    const int n = t->n, C = t->n_cfg;
    R->p_scalar = mir_malloc((size_t)n * sizeof *R->p_scalar);
    R->c_scalar = mir_vec_config_index(t, 1, 1);
    for (int i = 0; i < n; i++) R->p_scalar[i] = R->c_scalar;
    int *tr = mir_malloc((size_t)n * sizeof *tr);
    for (int pr = 0; pr < PR_N; pr++) {
        const int *fold = pr == PR_FAMILY ? t->family_id : t->base_id;
        int k = pr == PR_FAMILY ? t->n_families : t->n_bases;
        R->p_fixed[pr] = mir_malloc((size_t)n * sizeof **R->p_fixed);
        for (int f = 0; f < k; f++) {
            int m = 0;
            for (int i = 0; i < n; i++)
                if (fold[i] != f) tr[m++] = i;
            int c = mir_vec_best_fixed(t, tr, m);
            for (int i = 0; i < n; i++)
                if (fold[i] == f) R->p_fixed[pr][i] = c;
        }
    }
    free(tr);
    mir_vec_stats_of(t, R->rows, t->best, n, &R->st_oracle);
    for (int pr = 0; pr < PR_N; pr++) mir_vec_stats_of(t, R->rows, R->p_fixed[pr], n, &R->st_fixed[pr]);
    if (R->c_scalar >= 0) mir_vec_stats_of(t, R->rows, R->p_scalar, n, &R->st_scalar);
    /* clang's own choice against the oracle: fraction = geomean(t_best / t_o3) */
    double lfr = 0;
    for (int i = 0; i < n; i++) {
        lfr += log(t->t[(size_t)i * C + t->best[i]] / t->t_o3[i]);
        R->o3_is_best += t->o3_vf[i] == t->vf[t->best[i]] && t->o3_if[i] == t->ifc[t->best[i]];
    }
    R->o3_fraction = exp(lfr / n);
    for (int i = 0; i < n; i++) R->o3_beats_grid += t->t_o3[i] < t->t[(size_t)i * C + t->best[i]]; /* -O3 beats all */
}

/* Per run and variant the stats of its choices; their mean and deviation over seeds. */
static void aggregate_runs(results *R) {
    const mir_vec_table *t = R->t;
    const int n = t->n, S = R->S;
    double *per = mir_malloc((size_t)(S ? S : 1) * M_N * sizeof *per);
    for (int fs = 0; fs < FS_N; fs++)
        for (int pr = 0; pr < PR_N; pr++)
            for (int q = 0; q < 3; q++) {
                for (int s = 0; s < S; s++) {
                    int r = (fs * PR_N + pr) * S + s;
                    mir_vec_stats st;
                    mir_vec_stats_of(t, R->rows, R->pred_all + ((size_t)r * 3 + q) * n, n, &st);
                    double vals[M_N] = {st.geomean, st.mean, st.fraction, st.accuracy, st.within5};
                    for (int mm = 0; mm < M_N; mm++) per[mm * S + s] = vals[mm];
                }
                for (int mm = 0; mm < M_N; mm++) {
                    R->agg[fs][pr][q][mm] = mir_mean(per + mm * S, S);
                    R->sd[fs][pr][q][mm] = mir_stddev(per + mm * S, S);
                }
            }
    free(per);
}

/* Per family (protocol "family", selected classifier, mean over seeds): the geometric-mean speedups. */
static void aggregate_families(results *R) {
    const mir_vec_table *t = R->t;
    const int n = t->n, C = t->n_cfg, S = R->S;
    int *tr = mir_malloc((size_t)n * sizeof *tr);
    R->fam_sp = mir_calloc((size_t)t->n_families, sizeof *R->fam_sp);
    R->fam_n = mir_calloc((size_t)t->n_families, sizeof *R->fam_n);
    for (int f = 0; f < t->n_families; f++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (t->family_id[i] == f) tr[m++] = i;
        R->fam_n[f] = m;
        int *pp = mir_malloc((size_t)(m ? m : 1) * sizeof *pp);
        mir_vec_stats st;
        for (int fs = 0; fs < FS_N; fs++) {
            double l = 0;
            for (int s = 0; s < S; s++) {
                int r = (fs * PR_N + PR_FAMILY) * S + s;
                for (int j = 0; j < m; j++) pp[j] = R->pred_all[((size_t)r * 3 + 2) * n + tr[j]];
                mir_vec_stats_of(t, tr, pp, m, &st);
                l += st.geomean;
            }
            R->fam_sp[f][fs] = l / S;
        }
        for (int j = 0; j < m; j++) pp[j] = R->p_fixed[PR_FAMILY][tr[j]];
        mir_vec_stats_of(t, tr, pp, m, &st);
        R->fam_sp[f][FS_N] = st.geomean;
        for (int j = 0; j < m; j++) pp[j] = t->best[tr[j]];
        mir_vec_stats_of(t, tr, pp, m, &st);
        R->fam_sp[f][FS_N + 1] = st.geomean;
        double lo3 = 0;
        for (int j = 0; j < m; j++) lo3 += log(t->t[(size_t)tr[j] * C + t->best[tr[j]]] / t->t_o3[tr[j]]);
        R->fam_sp[f][FS_N + 2] = m ? exp(lo3 / m) : NAN;
        free(pp);
    }
    free(tr);
}

/* The noise of the labels: the spread within jobs, the two -O3 measurements, and the programs whose oracle gain
 * over -O3 is within the -O3 noise. */
static void aggregate_noise(results *R) {
    const mir_vec_table *t = R->t;
    const int n = t->n, C = t->n_cfg;
    int n_nz = 0;
    double *spv = mir_malloc((size_t)(n * C + 1) * sizeof *spv), *agv = mir_malloc((size_t)(n + 1) * sizeof *agv);
    for (int i = 0; i < n * C; i++)
        if (!isnan(t->spread[i])) spv[n_nz++] = t->spread[i];
    for (int i = 0; i < n; i++)
        if (!isnan(t->t_o3_again[i])) {
            double a = t->t_o3[i], b = t->t_o3_again[i];
            agv[R->n_ag++] = fabs(a - b) / (a < b ? a : b);
        }
    R->sp_med = R->ag_med = R->ag_p90 = NAN;
    qsort(spv, (size_t)n_nz, sizeof *spv, cmp_dbl);
    qsort(agv, (size_t)R->n_ag, sizeof *agv, cmp_dbl);
    if (n_nz) R->sp_med = spv[n_nz / 2];
    if (R->n_ag) {
        R->ag_med = agv[R->n_ag / 2];
        R->ag_p90 = agv[(int)(0.9 * (R->n_ag - 1) + 0.5)];
    }
    for (int i = 0; i < n; i++)
        if (!isnan(R->ag_med) && t->t_o3[i] / t->t[(size_t)i * C + t->best[i]] < 1 + R->ag_med) R->n_close++;
    free(spv);
    free(agv);
}

static void aggregate(results *R) {
    const int n = R->t->n;
    R->rows = mir_malloc((size_t)n * sizeof *R->rows);
    for (int i = 0; i < n; i++) R->rows[i] = i;
    aggregate_baselines(R);
    aggregate_runs(R);
    aggregate_families(R);
    aggregate_noise(R);
    vec_reg_aggregate(R->t, R->pred_all, R->rchoice, R->S, R->vagg);
    vec_paired(R->vagg, n, R->vres);
}

/* ---------------- the computation ---------------- */

/* The label table: rank 0 reads the labels (labels: cap bytes, their path), every rank builds the same table.
 * Collective; 0, or -1 with err (and nothing to free). */
static int load_labels(const mir_vec_options *v, MPI_Comm comm, char *labels, size_t cap, mir_vec_table *t,
                       mir_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (v->labels) snprintf(labels, cap, "%s", v->labels);
    else snprintf(labels, cap, "%s/vectorize-label/labels.h5", v->base->out_dir);
    mir_vec_result *rows = NULL;
    size_t n_rows = 0, rcap = 0;
    int rc = 0;
    char msg[MIR_ERROR_MAX] = "";
    if (rank == 0) {
        mir_error e = {{0}};
        rc = mir_vec_read_labels(labels, &rows, &n_rows, &rcap, &e);
        if (rc) snprintf(msg, sizeof msg, "%s (run mir-analyze vectorize-label first, or give --labels)", e.msg);
    }
    if (rc) mir_fail(err, "%s", msg); /* rank 0 */
    if (mir_mpi_root_rc(comm, rc, err)) {
        free(rows);
        return -1;
    }
    long nr = (long)n_rows;
    MPI_Bcast(&nr, 1, MPI_LONG, 0, comm);
    if (rank != 0) rows = mir_malloc((size_t)(nr ? nr : 1) * sizeof *rows);
    MPI_Bcast(rows, (int)((size_t)nr * sizeof *rows), MPI_BYTE, 0, comm);
    rc = mir_vec_table_build(rows, (size_t)nr, t, err);
    free(rows);
    if (rc) {
        mir_error_prefix(err, labels);
        return -1;
    }
    if (t->n_families < 2) {
        mir_vec_table_free(t);
        return mir_fail(err, "%s: programs of %d loop family only: cross-validation by family needs two or more", labels,
                        t->n_families);
    }
    return 0;
}

/* The task's inputs: the label table, the programs' IR, the model, and the programs' features. */
typedef struct {
    const mir_vec_options *v;
    MPI_Comm comm;
    int rank, size;
    char dir[4096], loops[4096], labels[4200];
    mir_vec_table t;
    mir_probe *probe;
    char **files;  /* (n) the programs' IR */
    mir_model *model;
    float *emb;    /* (n, D) */
    double *opc;   /* (n, MIR_N_OPCODES) */
    uint8_t *ok;   /* (n) */
    int *y;        /* (n) the label: the fastest config */
    uint8_t *allowed; /* (n, n_cfg) the configs measured validly for the program */
} vec_inputs;

static void inputs_free(vec_inputs *in) {
    free(in->allowed); free(in->y); free(in->ok); free(in->opc); free(in->emb);
    for (int i = 0; i < in->t.n && in->files; i++) free(in->files[i]);
    free(in->files);
    mir_model_free(in->model);
    mir_probe_free(in->probe);
    mir_vec_table_free(&in->t);
}

/* Every program's IR into OUT/vectorize/ir/ (shared out over the ranks; kept: a rerun reuses it); the number that
 * failed into *ir_failed. Collective. */
static int compile_all(vec_inputs *in, int *ir_failed, mir_error *err) {
    const int n = in->t.n;
    char irdir[4300];
    snprintf(irdir, sizeof irdir, "%s/ir", in->dir);
    int rc = in->rank == 0 ? mir_mkdir_p(irdir, err) : 0;
    if (mir_mpi_root_rc(in->comm, rc, err)) return -1;
    in->files = mir_malloc((size_t)n * sizeof *in->files);
    for (int i = 0; i < n; i++) {
        char path[4500];
        snprintf(path, sizeof path, "%s/%.*s.ll", irdir, (int)(strlen(in->t.program[i]) - 2), in->t.program[i]);
        in->files[i] = mir_strdup(path);
    }
    mir_probe_begin(in->probe, PH_IR);
    for (int i = in->rank; i < n; i += in->size) {
        mir_error e = {{0}};
        if (compile_ir(in->loops, in->t.program[i], in->files[i], &e)) {
            mir_log(MIR_LOG_WARN, "IR of %s: %s", in->t.program[i], e.msg);
            (*ir_failed)++;
        }
    }
    mir_probe_end(in->probe, PH_IR);
    MPI_Allreduce(MPI_IN_PLACE, ir_failed, 1, MPI_INT, MPI_SUM, in->comm); /* also: every IR file is written */
    return 0;
}

/* The model, and every program's opcode counts and embedding. Collective. */
static int compute_features(vec_inputs *in, results *R, mir_error *err) {
    const int n = in->t.n;
    in->model = mir_analyze_model_load(in->v->base, in->v->base->model, err);
    if (mir_mpi_agree(in->comm, in->model == NULL, err)) return -1;
    R->D = (int)mir_embedding_dim(in->model);
    R->model_hash = mir_model_hash(in->model);
    in->emb = mir_malloc((size_t)n * R->D * sizeof *in->emb);
    in->opc = mir_malloc((size_t)n * MIR_N_OPCODES * sizeof *in->opc);
    in->ok = mir_malloc((size_t)n);
    R->opc_failed = mir_opcode_counts_mpi(in->files, n, in->opc, in->ok, in->comm, in->probe, PH_OPCODES);
    R->emb_failed = mir_embed_files_mpi(in->model, in->files, n, in->emb, in->ok, in->comm, in->probe, PH_EMBED);
    return 0;
}

/* The labels, the allowed configs, the runs (feature set x protocol x seed) and the result arrays, zeroed. */
static void plan_runs(vec_inputs *in, results *R) {
    const mir_vec_table *t = &in->t;
    const int n = t->n, C = t->n_cfg, S = R->S = in->v->base->n_seeds;
    in->y = mir_malloc((size_t)n * sizeof *in->y);
    in->allowed = mir_malloc((size_t)n * C);
    for (int i = 0; i < n; i++) {
        in->y[i] = t->best[i];
        for (int c = 0; c < C; c++) in->allowed[(size_t)i * C + c] = (uint8_t)mir_vec_valid(t, i, c);
    }
    R->n_runs = FS_N * PR_N * S;
    R->runs = mir_malloc((size_t)R->n_runs * sizeof *R->runs);
    for (int fs = 0, r = 0; fs < FS_N; fs++)
        for (int pr = 0; pr < PR_N; pr++)
            for (int s = 0; s < S; s++) R->runs[r++] = (run_id){fs, pr, s};
    R->pred_all = mir_calloc((size_t)R->n_runs * 3 * n, sizeof *R->pred_all);
    R->chosen_all = mir_calloc((size_t)R->n_runs * n, sizeof *R->chosen_all);
    R->rchoice = mir_calloc((size_t)FS_N * S * 2 * n, sizeof *R->rchoice);
    R->rmargin = mir_calloc((size_t)FS_N * S * t->n_families, sizeof *R->rmargin);
}

/* The classification runs, shared out over the ranks (run r on rank r mod size), then combined over the ranks with
 * the fits and predictions counted into R->tot. Collective. */
static int run_classification(const vec_inputs *in, results *R, mir_error *err) {
    const mir_analyze_options *o = in->v->base;
    const mir_vec_table *t = &in->t;
    const int n = t->n, C = t->n_cfg, D = R->D, dmax = D > MIR_N_OPCODES ? D : MIR_N_OPCODES;
    float *X = mir_malloc((size_t)n * dmax * sizeof *X);
    int *pred[3], *chosen = mir_malloc((size_t)(t->n_families > t->n_bases ? t->n_families : t->n_bases) * sizeof *chosen);
    for (int k = 0; k < 3; k++) pred[k] = mir_malloc((size_t)n * sizeof **pred);
    int64_t n_fits[MIR_CLF_N] = {0}, n_pred[MIR_CLF_N] = {0};
    int rc = 0;
    for (int r = in->rank; r < R->n_runs && !rc; r += in->size) {
        const run_id *id = &R->runs[r];
        int dim = id->fs == FS_EMB ? D : MIR_N_OPCODES;
        for (int i = 0; i < n; i++) {
            float *x = X + (size_t)i * dim;
            if (id->fs == FS_EMB) memcpy(x, in->emb + (size_t)i * D, (size_t)D * sizeof *x);
            else for (int q = 0; q < MIR_N_OPCODES; q++) x[q] = (float)in->opc[(size_t)i * MIR_N_OPCODES + q];
        }
        const int *fold = id->pr == PR_FAMILY ? t->family_id : t->base_id;
        int k = id->pr == PR_FAMILY ? t->n_families : t->n_bases;
        mir_cv_task task = {n, dim, C, X, in->y, fold, in->allowed, score_log_speedup, (void *)t, MIR_INNER_GROUPED, 3,
                            &o->clf, in->probe, PH_FIT, PH_PREDICT};
        uint64_t seed = mir_seed_mix(mir_seed_mix(o->seed, (uint64_t)id->seed), 0x7ec70000u + (uint64_t)id->pr);
        rc = mir_cv_run(&task, fold, k, seed, pred, chosen, n_fits, n_pred, err);
        for (int q = 0; q < 3; q++)
            for (int i = 0; i < n; i++) R->pred_all[((size_t)r * 3 + q) * n + i] = pred[q][i];
        for (int i = 0; i < n; i++) R->chosen_all[(size_t)r * n + i] = chosen[fold[i]] + 1;
    }
    for (int k = 0; k < 3; k++) free(pred[k]);
    free(chosen); free(X);
    return mir_runs_combine(in->comm, rc, R->pred_all, R->chosen_all, R->n_runs, n, n_fits, n_pred, R->tot, err);
}

/* Rank 0 aggregates and writes the outputs, every rank the cost section (collective). */
static int report(const vec_inputs *in, results *R, mir_error *err) {
    const int n = in->t.n;
    int rc = 0;
    if (in->rank == 0) {
        aggregate(R);
        rc = write_outputs(R, in->dir, err);
        if (!rc && !in->v->base->quiet)
            mir_log(MIR_LOG_INFO, "vectorize: speedup over -O3 %.3f (opcodes %.3f, fixed config %.3f, oracle %.3f), "
                    "fraction of oracle %.3f (opcodes %.3f, -O3 %.3f); %d programs; wrote %s/summary.md",
                    R->agg[FS_EMB][PR_FAMILY][2][M_GEO], R->agg[FS_OPC][PR_FAMILY][2][M_GEO],
                    R->st_fixed[PR_FAMILY].geomean, R->st_oracle.geomean, R->agg[FS_EMB][PR_FAMILY][2][M_FRAC],
                    R->agg[FS_OPC][PR_FAMILY][2][M_FRAC], R->o3_fraction, n, in->dir);
    }
    if (mir_mpi_root_rc(in->comm, rc, err)) return rc;
    static const char *const item_names[PH_N] = {"program", "program", "program", "fit", "fit", "predicted row",
                                                 "predicted row"};
    const int64_t *tot = R->tot;
    double items[PH_N] = {(double)n, (double)(n - R->emb_failed), (double)(n - R->opc_failed), (double)tot[0],
                          (double)tot[1], (double)tot[2], (double)tot[3]};
    mir_report_cost(in->dir, in->probe, in->comm, phase_names, PH_N, item_names, items,
                    "%lld fits of each classifier (inner cross-validation included), %lld of the regressor. Total "
                    "wall time %.1f s on %d rank(s).\n", (long long)tot[0], (long long)R->reg_fits,
                    mir_wall_seconds() - R->t0, in->size);
    return 0;
}

int mir_analyze_vectorize(const mir_vec_options *v, MPI_Comm comm, mir_error *err) {
    const mir_analyze_options *o = v->base;
    vec_inputs in = {.v = v, .comm = comm};
    results R = {.o = o, .t0 = mir_wall_seconds(), .labels = in.labels, .loops = in.loops};
    MPI_Comm_rank(comm, &in.rank);
    MPI_Comm_size(comm, &in.size);
    if (mir_task_dir(o, "vectorize", comm, in.dir, sizeof in.dir, err)) return -1;
    if (load_labels(v, comm, in.labels, sizeof in.labels, &in.t, err)) return -1;
    R.t = &in.t;
    int rc = mir_vec_loops_dir(v, comm, in.loops, sizeof in.loops, err);
    if (!rc) {
        /* IR, embeddings and opcode counts */
        in.probe = mir_probe_create("mir_analyze_vectorize", phase_names, PH_N, NULL, 0, in.rank != 0 || o->quiet);
        rc = compile_all(&in, &R.ir_failed, err);
    }
    if (!rc) rc = compute_features(&in, &R, err);
    if (!rc) {
        plan_runs(&in, &R);
        rc = run_classification(&in, &R, err);
    }
    if (!rc) rc = vec_regress(&in.t, o, R.D, in.emb, in.opc, comm, R.rchoice, R.rmargin, &R.reg_fits, err);
    if (!rc) rc = report(&in, &R, err);
    results_free(&R);
    inputs_free(&in);
    return rc ? -1 : 0;
}
