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

static void pm(FILE *f, double mean, double sd, int n, const char *fmt) {
    if (isnan(mean)) {
        fprintf(f, " — |");
        return;
    }
    fprintf(f, " ");
    fprintf(f, fmt, mean);
    if (n > 1) {
        fprintf(f, " ± ");
        fprintf(f, fmt, sd);
    }
    fprintf(f, " |");
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

static void vec_reg_md(FILE *f, vec_agg agg[FS_N][VP_N], const mir_paired *res, const double *margin, int S, int nfam,
                       int n) {
    int inf = 0;
    for (int i = 0; i < FS_N * S * nfam; i++) inf += isinf(margin[i]);
    fprintf(f, "### Regression and the do-no-harm rule (leave one family out)\n\n"
               "`regression`: one XGBoost regressor per outer fold on every valid (program, config) row of the training "
               "families (features: the program's, log2 VF, log2 IF; target: log(-O3 time / time at the config)); the "
               "argmax over the configs valid for the held-out program. `safe`: plain -O3 unless the argmax's predicted "
               "gain exceeds a margin in {0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, inf} picked by inner 3-fold cross-"
               "validation grouped by family on the training families only, among the margins whose inner gain over "
               "-O3 is significant (95 %% paired t interval over the inner families above 0) and that made no inner program "
               "slower than -O3 (do no harm); none: inf. Margin inf "
               "in %.0f %% of the folds.\n\n"
               "| features, predictor | speedup over -O3 (geomean) | fraction of oracle | losses | worst |\n"
               "|---|---:|---:|---:|---:|\n", 100.0 * inf / (FS_N * S * nfam));
    for (int fs = 0; fs < FS_N; fs++)
        for (int p = 0; p < VP_N; p++) {
            const vec_agg *a = &agg[fs][p];
            fprintf(f, "| %s%s, %s%s |", p == VP_SAFE ? "**" : "", fs_label[fs], vp_label[p], p == VP_SAFE ? "**" : "");
            pm(f, a->speedup, a->sd_speedup, S, "%.3f");
            fprintf(f, " %.3f | %.1f %% | %.3f |\n", a->fraction, 100 * a->losses, a->worst);
        }
    fprintf(f, "\nPaired verdicts. Unit: a held-out program, its log speedup over -O3 averaged over the seeds first; "
               "95 %% Student-t interval of the mean paired difference (analysis/paired.h); a positive difference "
               "favours the first named.\n\n");
    for (int i = 0; i < N_VPAIRED; i++) mir_paired_md(f, vpaired_def[i].what, &res[i], "programs");
    fprintf(f, "\n");
    (void)n;
}

static void vec_reg_json(FILE *f, vec_agg agg[FS_N][VP_N], const mir_paired *res) {
    for (int p = VP_REG; p < VP_N; p++)
        for (int fs = 0; fs < FS_N; fs++) {
            const vec_agg *a = &agg[fs][p];
            if (fs == FS_EMB) fprintf(f, ", \"%s\": {\"speedup_vs_O3\": ", vp_name[p]);
            else fprintf(f, ", \"%s_by_features\": {\"%s\": {\"speedup_vs_O3\": ", vp_name[p], fs_name[fs]);
            mir_json_number(f, a->speedup);
            fprintf(f, ", \"fraction_of_oracle\": ");
            mir_json_number(f, a->fraction);
            fprintf(f, ", \"losses\": ");
            mir_json_number(f, a->losses);
            fprintf(f, ", \"worst\": ");
            mir_json_number(f, a->worst);
            fprintf(f, fs == FS_EMB ? "}" : "}}");
        }
    fprintf(f, ", \"paired\": {");
    for (int i = 0; i < N_VPAIRED; i++) mir_paired_json(f, vpaired_def[i].name, &res[i], i == 0);
    fprintf(f, "}");
}

static void vec_reg_metrics(FILE *f, vec_agg agg[FS_N][VP_N], int S) {
    for (int fs = 0; fs < FS_N; fs++)
        for (int p = VP_REG; p < VP_N; p++) {
            const vec_agg *a = &agg[fs][p];
            fprintf(f, "%s,family,%s,speedup_geomean,%.6g,%.6g,%d\n", fs_name[fs], vp_name[p], a->speedup, a->sd_speedup, S);
            fprintf(f, "%s,family,%s,fraction_of_oracle,%.6g,,%d\n", fs_name[fs], vp_name[p], a->fraction, S);
            fprintf(f, "%s,family,%s,losses,%.6g,,%d\n", fs_name[fs], vp_name[p], a->losses, S);
            fprintf(f, "%s,family,%s,worst,%.6g,,%d\n", fs_name[fs], vp_name[p], a->worst, S);
        }
}

int mir_analyze_vectorize(const mir_vec_options *v, MPI_Comm comm, mir_error *err) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    const mir_analyze_options *o = v->base;
    double t0 = mir_wall_seconds();
    char dir[4096], loops[4096], labels[4200];
    if (mir_task_dir(o, "vectorize", comm, dir, sizeof dir, err)) return -1;
    if (v->labels) snprintf(labels, sizeof labels, "%s", v->labels);
    else snprintf(labels, sizeof labels, "%s/vectorize-label/labels.h5", o->out_dir);
    /* the labels: rank 0 reads them, every rank builds the same table */
    mir_vec_result *rows = NULL;
    size_t n_rows = 0, cap = 0;
    int rc = 0;
    char msg[MIR_ERROR_MAX] = "";
    if (rank == 0) {
        mir_error e = {{0}};
        rc = mir_vec_read_labels(labels, &rows, &n_rows, &cap, &e);
        if (rc) snprintf(msg, sizeof msg, "%s (run mir-analyze vectorize-label first, or give --labels)", e.msg);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    if (rc) {
        MPI_Bcast(msg, sizeof msg, MPI_CHAR, 0, comm);
        free(rows);
        return mir_fail(err, "%s", msg);
    }
    long nr = (long)n_rows;
    MPI_Bcast(&nr, 1, MPI_LONG, 0, comm);
    if (rank != 0) rows = mir_malloc((size_t)(nr ? nr : 1) * sizeof *rows);
    MPI_Bcast(rows, (int)((size_t)nr * sizeof *rows), MPI_BYTE, 0, comm);
    n_rows = (size_t)nr;
    mir_vec_table t;
    rc = mir_vec_table_build(rows, n_rows, &t, err);
    free(rows);
    if (rc) {
        mir_error_prefix(err, labels);
        return -1;
    }
    const int n = t.n, C = t.n_cfg;
    if (t.n_families < 2) {
        mir_vec_table_free(&t);
        return mir_fail(err, "%s: programs of %d loop family only: cross-validation by family needs two or more", labels,
                        t.n_families);
    }
    if (mir_vec_loops_dir(v, comm, loops, sizeof loops, err)) {
        mir_vec_table_free(&t);
        return -1;
    }
    /* IR, embeddings and opcode counts */
    mir_probe *probe = mir_probe_create("mir_analyze_vectorize", phase_names, PH_N, NULL, 0, rank != 0 || o->quiet);
    char irdir[4300];
    snprintf(irdir, sizeof irdir, "%s/ir", dir);
    rc = rank == 0 ? mir_mkdir_p(irdir, err) : 0;
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    if (rc) {
        MPI_Bcast(err->msg, sizeof err->msg, MPI_CHAR, 0, comm);
        mir_probe_free(probe);
        mir_vec_table_free(&t);
        return -1;
    }
    char **files = mir_malloc((size_t)n * sizeof *files);
    int ir_failed = 0;
    for (int i = 0; i < n; i++) {
        char path[4500];
        snprintf(path, sizeof path, "%s/%.*s.ll", irdir, (int)(strlen(t.program[i]) - 2), t.program[i]);
        files[i] = mir_strdup(path);
    }
    mir_probe_begin(probe, PH_IR);
    for (int i = rank; i < n; i += size) {
        mir_error e = {{0}};
        if (compile_ir(loops, t.program[i], files[i], &e)) {
            mir_log(MIR_LOG_WARN, "IR of %s: %s", t.program[i], e.msg);
            ir_failed++;
        }
    }
    mir_probe_end(probe, PH_IR);
    MPI_Allreduce(MPI_IN_PLACE, &ir_failed, 1, MPI_INT, MPI_SUM, comm); /* also: every IR file is written */
    mir_model *model = mir_analyze_model_load(o, o->model, err);
    if (mir_mpi_agree(comm, model == NULL, err)) {
        mir_model_free(model);
        for (int i = 0; i < n; i++) free(files[i]);
        free(files);
        mir_probe_free(probe);
        mir_vec_table_free(&t);
        return -1;
    }
    const int D = (int)mir_embedding_dim(model);
    float *emb = mir_malloc((size_t)n * D * sizeof *emb);
    double *opc = mir_malloc((size_t)n * MIR_N_OPCODES * sizeof *opc);
    uint8_t *ok = mir_malloc((size_t)n);
    int opc_failed = mir_opcode_counts_mpi(files, n, opc, ok, comm, probe, PH_OPCODES);
    int emb_failed = mir_embed_files_mpi(model, files, n, emb, ok, comm, probe, PH_EMBED);

    /* labels, allowed configs, runs */
    int *y = mir_malloc((size_t)n * sizeof *y);
    uint8_t *allowed = mir_malloc((size_t)n * C);
    for (int i = 0; i < n; i++) {
        y[i] = t.best[i];
        for (int c = 0; c < C; c++) allowed[(size_t)i * C + c] = (uint8_t)mir_vec_valid(&t, i, c);
    }
    const int S = o->n_seeds;
    int n_runs = FS_N * PR_N * S;
    run_id *runs = mir_malloc((size_t)n_runs * sizeof *runs);
    for (int fs = 0, r = 0; fs < FS_N; fs++)
        for (int pr = 0; pr < PR_N; pr++)
            for (int s = 0; s < S; s++) runs[r++] = (run_id){fs, pr, s};
    int *pred_all = mir_calloc((size_t)n_runs * 3 * n, sizeof *pred_all);
    int *chosen_all = mir_calloc((size_t)n_runs * n, sizeof *chosen_all);
    const int dmax = D > MIR_N_OPCODES ? D : MIR_N_OPCODES;
    float *X = mir_malloc((size_t)n * dmax * sizeof *X);
    int *pred[3], *chosen = mir_malloc((size_t)(t.n_families > t.n_bases ? t.n_families : t.n_bases) * sizeof *chosen);
    for (int k = 0; k < 3; k++) pred[k] = mir_malloc((size_t)n * sizeof **pred);
    int64_t n_fits[MIR_CLF_N] = {0}, n_pred[MIR_CLF_N] = {0}, reg_fits = 0;
    int *rchoice = mir_calloc((size_t)FS_N * S * 2 * n, sizeof *rchoice);
    double *rmargin = mir_calloc((size_t)FS_N * S * t.n_families, sizeof *rmargin);
    rc = 0;
    for (int r = rank; r < n_runs && !rc; r += size) {
        const run_id *id = &runs[r];
        int dim = id->fs == FS_EMB ? D : MIR_N_OPCODES;
        for (int i = 0; i < n; i++) {
            float *x = X + (size_t)i * dim;
            if (id->fs == FS_EMB) memcpy(x, emb + (size_t)i * D, (size_t)D * sizeof *x);
            else for (int q = 0; q < MIR_N_OPCODES; q++) x[q] = (float)opc[(size_t)i * MIR_N_OPCODES + q];
        }
        const int *fold = id->pr == PR_FAMILY ? t.family_id : t.base_id;
        int k = id->pr == PR_FAMILY ? t.n_families : t.n_bases;
        mir_cv_task task = {n, dim, C, X, y, fold, allowed, score_log_speedup, &t, MIR_INNER_GROUPED, 3,
                            &o->clf, probe, PH_FIT, PH_PREDICT};
        uint64_t seed = mir_seed_mix(mir_seed_mix(o->seed, (uint64_t)id->seed), 0x7ec70000u + (uint64_t)id->pr);
        rc = mir_cv_run(&task, fold, k, seed, pred, chosen, n_fits, n_pred, err);
        for (int q = 0; q < 3; q++)
            for (int i = 0; i < n; i++) pred_all[((size_t)r * 3 + q) * n + i] = pred[q][i];
        for (int i = 0; i < n; i++) chosen_all[(size_t)r * n + i] = chosen[fold[i]] + 1;
    }
    int64_t tot[4];
    if (mir_runs_combine(comm, rc, pred_all, chosen_all, n_runs, n, n_fits, n_pred, tot, err) ||
        vec_regress(&t, o, D, emb, opc, comm, rchoice, rmargin, &reg_fits, err)) {
        rc = -1;
        goto done;
    }

    if (rank == 0) {
        int *all_rows = mir_malloc((size_t)n * sizeof *all_rows);
        for (int i = 0; i < n; i++) all_rows[i] = i;
        /* trivial choices: the oracle, clang's (speedup 1), VF 1 / IF 1, and the best fixed config of the
         * training families (per protocol fold) */
        int *p_fixed[PR_N], *p_scalar = mir_malloc((size_t)n * sizeof *p_scalar);
        int c_scalar = mir_vec_config_index(&t, 1, 1);
        for (int i = 0; i < n; i++) p_scalar[i] = c_scalar;
        int *tr = mir_malloc((size_t)n * sizeof *tr);
        for (int pr = 0; pr < PR_N; pr++) {
            const int *fold = pr == PR_FAMILY ? t.family_id : t.base_id;
            int k = pr == PR_FAMILY ? t.n_families : t.n_bases;
            p_fixed[pr] = mir_malloc((size_t)n * sizeof **p_fixed);
            for (int f = 0; f < k; f++) {
                int m = 0;
                for (int i = 0; i < n; i++)
                    if (fold[i] != f) tr[m++] = i;
                int c = mir_vec_best_fixed(&t, tr, m);
                for (int i = 0; i < n; i++)
                    if (fold[i] == f) p_fixed[pr][i] = c;
            }
        }
        mir_vec_stats st_oracle, st_fixed[PR_N], st_scalar;
        mir_vec_stats_of(&t, all_rows, t.best, n, &st_oracle);
        for (int pr = 0; pr < PR_N; pr++) mir_vec_stats_of(&t, all_rows, p_fixed[pr], n, &st_fixed[pr]);
        if (c_scalar >= 0) mir_vec_stats_of(&t, all_rows, p_scalar, n, &st_scalar);
        /* clang's own choice against the oracle: fraction = geomean(t_best / t_o3) */
        double lfr = 0;
        int o3_is_best = 0;
        for (int i = 0; i < n; i++) {
            lfr += log(t.t[(size_t)i * C + t.best[i]] / t.t_o3[i]);
            o3_is_best += t.o3_vf[i] == t.vf[t.best[i]] && t.o3_if[i] == t.ifc[t.best[i]];
        }
        double o3_fraction = exp(lfr / n);
        int o3_beats_grid = 0; /* plain -O3 faster than every config of the grid */
        for (int i = 0; i < n; i++) o3_beats_grid += t.t_o3[i] < t.t[(size_t)i * C + t.best[i]];
        /* per run and variant: the stats; mean and deviation over seeds */
        enum { M_GEO, M_MEAN, M_FRAC, M_ACC, M_W5, M_N };
        static const char *const m_name[M_N] = {"speedup_geomean", "speedup_mean", "fraction_of_oracle", "accuracy",
                                                "within_5pct"};
        double agg[FS_N][PR_N][3][M_N], sd[FS_N][PR_N][3][M_N];
        double *per = mir_malloc((size_t)(S ? S : 1) * M_N * sizeof *per);
        for (int fs = 0; fs < FS_N; fs++)
            for (int pr = 0; pr < PR_N; pr++)
                for (int q = 0; q < 3; q++) {
                    for (int s = 0; s < S; s++) {
                        int r = (fs * PR_N + pr) * S + s;
                        mir_vec_stats st;
                        mir_vec_stats_of(&t, all_rows, pred_all + ((size_t)r * 3 + q) * n, n, &st);
                        double vals[M_N] = {st.geomean, st.mean, st.fraction, st.accuracy, st.within5};
                        for (int mm = 0; mm < M_N; mm++) per[mm * S + s] = vals[mm];
                    }
                    for (int mm = 0; mm < M_N; mm++) {
                        agg[fs][pr][q][mm] = mir_mean(per + mm * S, S);
                        sd[fs][pr][q][mm] = mir_stddev(per + mm * S, S);
                    }
                }
        free(per);
        /* per family (protocol "family", selected, first seed and mean over seeds) */
        double (*fam_sp)[FS_N + 3] = mir_calloc((size_t)t.n_families, sizeof *fam_sp);
        int *fam_n = mir_calloc((size_t)t.n_families, sizeof *fam_n);
        for (int f = 0; f < t.n_families; f++) {
            int m = 0;
            for (int i = 0; i < n; i++)
                if (t.family_id[i] == f) tr[m++] = i;
            fam_n[f] = m;
            int *pp = mir_malloc((size_t)(m ? m : 1) * sizeof *pp);
            mir_vec_stats st;
            for (int fs = 0; fs < FS_N; fs++) {
                double l = 0;
                for (int s = 0; s < S; s++) {
                    int r = (fs * PR_N + PR_FAMILY) * S + s;
                    for (int j = 0; j < m; j++) pp[j] = pred_all[((size_t)r * 3 + 2) * n + tr[j]];
                    mir_vec_stats_of(&t, tr, pp, m, &st);
                    l += st.geomean;
                }
                fam_sp[f][fs] = l / S;
            }
            for (int j = 0; j < m; j++) pp[j] = p_fixed[PR_FAMILY][tr[j]];
            mir_vec_stats_of(&t, tr, pp, m, &st);
            fam_sp[f][FS_N] = st.geomean;
            for (int j = 0; j < m; j++) pp[j] = t.best[tr[j]];
            mir_vec_stats_of(&t, tr, pp, m, &st);
            fam_sp[f][FS_N + 1] = st.geomean;
            double lo3 = 0;
            for (int j = 0; j < m; j++) lo3 += log(t.t[(size_t)tr[j] * C + t.best[tr[j]]] / t.t_o3[tr[j]]);
            fam_sp[f][FS_N + 2] = m ? exp(lo3 / m) : NAN;
            free(pp);
        }
        /* noise: spread within jobs, and the two -O3 measurements */
        int n_nz = 0, n_ag = 0, n_close = 0;
        double *spv = mir_malloc((size_t)(n * C + 1) * sizeof *spv), *agv = mir_malloc((size_t)(n + 1) * sizeof *agv);
        n_nz = 0;
        for (int i = 0; i < n * C; i++)
            if (!isnan(t.spread[i])) spv[n_nz++] = t.spread[i];
        for (int i = 0; i < n; i++)
            if (!isnan(t.t_o3_again[i])) {
                double a = t.t_o3[i], b = t.t_o3_again[i];
                agv[n_ag++] = fabs(a - b) / (a < b ? a : b);
            }
        double sp_med = NAN, ag_med = NAN, ag_p90 = NAN;
        qsort(spv, (size_t)n_nz, sizeof *spv, cmp_dbl);
        qsort(agv, (size_t)n_ag, sizeof *agv, cmp_dbl);
        if (n_nz) sp_med = spv[n_nz / 2];
        if (n_ag) {
            ag_med = agv[n_ag / 2];
            ag_p90 = agv[(int)(0.9 * (n_ag - 1) + 0.5)];
        }
        /* programs where the oracle's gain over -O3 is within the -O3 noise */
        for (int i = 0; i < n; i++)
            if (!isnan(ag_med) && t.t_o3[i] / t.t[(size_t)i * C + t.best[i]] < 1 + ag_med) n_close++;
        free(spv);
        free(agv);

        vec_agg vagg[FS_N][VP_N];
        mir_paired vres[N_VPAIRED];
        vec_reg_aggregate(&t, pred_all, rchoice, S, vagg);
        vec_paired(vagg, n, vres);
        char path[4300], a[32], b2[32];
        FILE *f;
        /* predictions.csv */
        snprintf(path, sizeof path, "%s/predictions.csv", dir);
        f = fopen(path, "w");
        if (!f) { rc = mir_fail(err, "%s: cannot write", path); goto written; }
        fprintf(f, "protocol,features,program,family,o3_s,o3_vf,o3_if,oracle,oracle_speedup,classifier,predicted,speedup,"
                   "mean_speedup_over_seeds,seeds\n");
        for (int pr = 0; pr < PR_N; pr++) {
            for (int fs = 0; fs < FS_N; fs++)
                for (int i = 0; i < n; i++) {
                    int r0 = (fs * PR_N + pr) * S;
                    int p = pred_all[((size_t)r0 * 3 + 2) * n + i], ch = chosen_all[(size_t)r0 * n + i];
                    double ms = 0;
                    for (int s = 0; s < S; s++) {
                        int q = pred_all[((size_t)(r0 + s) * 3 + 2) * n + i];
                        ms += mir_vec_valid(&t, i, q) ? mir_vec_speedup(&t, i, q) : 0;
                    }
                    fprintf(f, "%s,%s,%s,%s,%.6g,%d,%d,%s,%.6g,%s,%s,%.6g,%.6g,%d\n", pr_name[pr], fs_name[fs], t.program[i],
                            t.family[i], t.t_o3[i], t.o3_vf[i], t.o3_if[i], cfg_str(&t, t.best[i], a, sizeof a),
                            mir_vec_speedup(&t, i, t.best[i]), ch >= 0 ? mir_clf_name(ch) : "", cfg_str(&t, p, b2, sizeof b2),
                            mir_vec_speedup(&t, i, p), ms / S, S);
                }
            for (int i = 0; i < n; i++)
                fprintf(f, "%s,fixed-config,%s,%s,%.6g,%d,%d,%s,%.6g,,%s,%.6g,%.6g,1\n", pr_name[pr], t.program[i], t.family[i],
                        t.t_o3[i], t.o3_vf[i], t.o3_if[i], cfg_str(&t, t.best[i], a, sizeof a), mir_vec_speedup(&t, i, t.best[i]),
                        cfg_str(&t, p_fixed[pr][i], b2, sizeof b2), mir_vec_speedup(&t, i, p_fixed[pr][i]),
                        mir_vec_speedup(&t, i, p_fixed[pr][i]));
        }
        if (fclose(f)) { rc = mir_fail(err, "%s: write error", path); goto written; }
        /* metrics.csv */
        snprintf(path, sizeof path, "%s/metrics.csv", dir);
        f = fopen(path, "w");
        if (!f) { rc = mir_fail(err, "%s: cannot write", path); goto written; }
        fprintf(f, "features,protocol,classifier,metric,mean,sd,seeds\n");
        for (int fs = 0; fs < FS_N; fs++)
            for (int pr = 0; pr < PR_N; pr++)
                for (int q = 0; q < 3; q++)
                    for (int mm = 0; mm < M_N; mm++)
                        fprintf(f, "%s,%s,%s,%s,%.6g,%.6g,%d\n", fs_name[fs], pr_name[pr], variant_name[q], m_name[mm],
                                agg[fs][pr][q][mm], sd[fs][pr][q][mm], S);
        for (int pr = 0; pr < PR_N; pr++) {
            double vals[M_N] = {st_fixed[pr].geomean, st_fixed[pr].mean, st_fixed[pr].fraction, st_fixed[pr].accuracy,
                                st_fixed[pr].within5};
            for (int mm = 0; mm < M_N; mm++) fprintf(f, "fixed-config,%s,,%s,%.6g,0,1\n", pr_name[pr], m_name[mm], vals[mm]);
        }
        fprintf(f, "oracle,,,speedup_geomean,%.6g,0,1\noracle,,,speedup_mean,%.6g,0,1\n", st_oracle.geomean, st_oracle.mean);
        fprintf(f, "clang-O3,,,fraction_of_oracle,%.6g,0,1\n", o3_fraction);
        if (c_scalar >= 0)
            fprintf(f, "VF1-IF1,,,speedup_geomean,%.6g,0,1\nVF1-IF1,,,fraction_of_oracle,%.6g,0,1\n", st_scalar.geomean,
                    st_scalar.fraction);
        vec_reg_metrics(f, vagg, S);
        fclose(f);
        /* summary.json */
        snprintf(path, sizeof path, "%s/summary.json", dir);
        f = fopen(path, "w");
        if (!f) { rc = mir_fail(err, "%s: cannot write", path); goto written; }
#define JN(key, val) do { fprintf(f, "\"%s\": ", key); mir_json_number(f, val); } while (0)
        fprintf(f, "{");
        JN("speedup_vs_O3", agg[FS_EMB][PR_FAMILY][2][M_GEO]);
        fprintf(f, ", ");
        JN("speedup_vs_O3_mean", agg[FS_EMB][PR_FAMILY][2][M_MEAN]);
        fprintf(f, ", ");
        JN("fraction_of_oracle", agg[FS_EMB][PR_FAMILY][2][M_FRAC]);
        fprintf(f, ", ");
        JN("accuracy", agg[FS_EMB][PR_FAMILY][2][M_ACC]);
        fprintf(f, ", ");
        JN("oracle_speedup_vs_O3", st_oracle.geomean);
        fprintf(f, ", ");
        JN("O3_fraction_of_oracle", o3_fraction);
        fprintf(f, ", \"O3_beats_grid\": %d", o3_beats_grid);
        fprintf(f, ", \"programs\": %d, \"families\": %d, \"configs\": %d, \"seeds\": %d, \"protocol\": \"leave one family out\"", n,
                t.n_families, C, S);
        fprintf(f, ", \"baseline\": {");
        JN("speedup_vs_O3", agg[FS_OPC][PR_FAMILY][2][M_GEO]);
        fprintf(f, ", ");
        JN("speedup_vs_O3_mean", agg[FS_OPC][PR_FAMILY][2][M_MEAN]);
        fprintf(f, ", ");
        JN("fraction_of_oracle", agg[FS_OPC][PR_FAMILY][2][M_FRAC]);
        fprintf(f, "}, \"fixed_config\": {");
        JN("speedup_vs_O3", st_fixed[PR_FAMILY].geomean);
        fprintf(f, ", ");
        JN("fraction_of_oracle", st_fixed[PR_FAMILY].fraction);
        fprintf(f, "}, \"base_family\": {");
        JN("speedup_vs_O3", agg[FS_EMB][PR_BASE][2][M_GEO]);
        fprintf(f, ", ");
        JN("fraction_of_oracle", agg[FS_EMB][PR_BASE][2][M_FRAC]);
        fprintf(f, ", \"baseline\": {");
        JN("speedup_vs_O3", agg[FS_OPC][PR_BASE][2][M_GEO]);
        fprintf(f, ", ");
        JN("fraction_of_oracle", agg[FS_OPC][PR_BASE][2][M_FRAC]);
        fprintf(f, "}}, \"noise\": {");
        JN("repeat_spread_median", sp_med);
        fprintf(f, ", ");
        JN("O3_again_median", ag_med);
        fprintf(f, ", ");
        JN("O3_again_p90", ag_p90);
        fprintf(f, "}");
        vec_reg_json(f, vagg, vres);
        fprintf(f, "}\n");
#undef JN
        if (fclose(f)) { rc = mir_fail(err, "%s: write error", path); goto written; }
        /* plot: per family, geometric-mean speedup over -O3 */
        snprintf(path, sizeof path, "%s/speedup.dat", dir);
        f = fopen(path, "w");
        if (f) {
            for (int fam = 0; fam < t.n_families; fam++)
                fprintf(f, "%s %.6g %.6g %.6g %.6g\n", t.family_name[fam], fam_sp[fam][FS_EMB], fam_sp[fam][FS_OPC],
                        fam_sp[fam][FS_N], fam_sp[fam][FS_N + 1]);
            fprintf(f, "all %.6g %.6g %.6g %.6g\n", agg[FS_EMB][PR_FAMILY][2][M_GEO], agg[FS_OPC][PR_FAMILY][2][M_GEO],
                    st_fixed[PR_FAMILY].geomean, st_oracle.geomean);
            fclose(f);
            snprintf(path, sizeof path, "%s/speedup.gp", dir);
            f = fopen(path, "w");
            if (f) {
                fprintf(f, "set terminal pngcairo size 1200,520 font 'sans,10'\nset output 'speedup.png'\n"
                           "set title 'Loop vectorization: speedup over clang -O3 (geometric mean; leave one family out)'\n"
                           "set style data histogram\nset style histogram clustered gap 1\n"
                           "set style fill solid 0.85 border -1\nset key below\nset grid ytics\nset xtics rotate by -45\n"
                           "set ylabel 'speedup over -O3'\nset yrange [0:*]\n"
                           "plot 'speedup.dat' using 2:xtic(1) title 'MIREncoder', '' using 3 title 'opcode counts', "
                           "'' using 4 title 'best fixed config', '' using 5 title 'oracle (brute force)', 1 notitle lc rgb 'black'\n");
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
        fprintf(f, "# Loop vectorization: (VF, IF) from MIREncoder embeddings against the opcode-count baseline\n\n");
        if (o->command_line) fprintf(f, "Command: `%s`  \n", o->command_line);
        fprintf(f, "Model: `%s` (hash %s, embedding %d floats). Labels: `%s` (%d programs of %d families, %d configs: ",
                o->model, mir_model_hash(model), D, labels, n, t.n_families, C);
        for (int c = 0; c < C; c++) fprintf(f, "%s%s", c ? ", " : "", cfg_str(&t, c, a, sizeof a));
        fprintf(f, "). Programs: `%s`. Seeds: %d, base seed %llu. Machine: %s.\n\n", loops, S, (unsigned long long)o->seed,
                machine);
        if (t.n_dropped || t.n_failed || t.n_wrong_digest)
            fprintf(f, "Left out: %d program(s) (%d of them incomplete: not every config measured yet; the others without "
                       "a -O3 time or a valid config); %d config measurement(s) that failed to compile or run; %d whose "
                       "output digest differed from -O3's (a wrong result: never chosen).\n\n",
                    t.n_dropped, t.n_incomplete, t.n_failed, t.n_wrong_digest);
        if (emb_failed || opc_failed || ir_failed)
            fprintf(f, "**%d program(s) could not be compiled to IR, %d embedded, %d counted** (zero features; see the log).\n\n",
                    ir_failed, emb_failed, opc_failed);
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
                t.n_families, t.n_bases, S);
        for (int pr = 0; pr < PR_N; pr++) {
            fprintf(f, "### Protocol: leave one %s out\n\n", pr == PR_FAMILY ? "family" : "base family");
            fprintf(f, "| method | speedup over -O3 (geomean) | arithmetic mean | fraction of oracle | best config hit %% | within 5 %% of best |\n"
                       "|---|---:|---:|---:|---:|---:|\n");
            for (int fs = 0; fs < FS_N; fs++)
                for (int q = 2; q >= 0; q--) {
                    int bold = q == 2;
                    fprintf(f, "| %s%s, %s%s |", bold ? "**" : "", fs_label[fs], variant_name[q], bold ? "**" : "");
                    pm(f, agg[fs][pr][q][M_GEO], sd[fs][pr][q][M_GEO], S, "%.3f");
                    pm(f, agg[fs][pr][q][M_MEAN], sd[fs][pr][q][M_MEAN], S, "%.3f");
                    pm(f, agg[fs][pr][q][M_FRAC], sd[fs][pr][q][M_FRAC], S, "%.3f");
                    pm(f, agg[fs][pr][q][M_ACC], sd[fs][pr][q][M_ACC], S, "%.1f");
                    pm(f, agg[fs][pr][q][M_W5], sd[fs][pr][q][M_W5], S, "%.1f");
                    fprintf(f, "\n");
                }
            fprintf(f, "| best fixed config of the training families | %.3f | %.3f | %.3f | %.1f | %.1f |\n", st_fixed[pr].geomean,
                    st_fixed[pr].mean, st_fixed[pr].fraction, st_fixed[pr].accuracy, st_fixed[pr].within5);
            if (pr == PR_FAMILY) {
                if (c_scalar >= 0)
                    fprintf(f, "| always VF 1 / IF 1 (no vectorization) | %.3f | %.3f | %.3f | %.1f | %.1f |\n", st_scalar.geomean,
                            st_scalar.mean, st_scalar.fraction, st_scalar.accuracy, st_scalar.within5);
                fprintf(f, "| clang -O3's own choice | 1 | 1 | %.3f | %.1f | |\n", o3_fraction, 100.0 * o3_is_best / n);
                fprintf(f, "| oracle (brute force over the grid) | %.3f | %.3f | 1 | 100 | 100 |\n", st_oracle.geomean,
                        st_oracle.mean);
            }
            fprintf(f, "\n");
        }
        vec_reg_md(f, vagg, vres, rmargin, S, t.n_families, n);
        fprintf(f, "For %d of the %d programs plain -O3 is faster than every config of the grid (the oracle is the best "
                   "config of the grid, so its speedup can be below 1 there).\n\n", o3_beats_grid, n);
        fprintf(f, "Published (NeuroVectorizer, CGO'20, its own machine and benchmarks): 1.29x-4.73x over the -O3 "
                   "baseline, within 3 %% of brute force.\n\n");
        fprintf(f, "### Per family (leave one family out; geometric-mean speedup over -O3, selected classifier, mean over seeds)\n\n"
                   "| family | programs | MIREncoder | opcode counts | best fixed config | oracle | -O3 as a fraction of the oracle |\n"
                   "|---|---:|---:|---:|---:|---:|---:|\n");
        for (int fam = 0; fam < t.n_families; fam++)
            fprintf(f, "| %s | %d | %.3f | %.3f | %.3f | %.3f | %.3f |\n", t.family_name[fam], fam_n[fam], fam_sp[fam][FS_EMB],
                    fam_sp[fam][FS_OPC], fam_sp[fam][FS_N], fam_sp[fam][FS_N + 1], fam_sp[fam][FS_N + 2]);
        fprintf(f, "\n### Noise of the labels\n\nWithin a job, (worst - best) / best of its runs: median %.2f %%. The two plain "
                   "-O3 measurements of a program (before and after its grid): |difference| / smaller, median %.2f %%, 90th "
                   "percentile %.2f %% over %d programs. For %d of the %d programs the brute-force best is less than the "
                   "median -O3 difference faster than -O3: their label is a coin toss between near-equal configs.\n\n",
                100 * sp_med, 100 * ag_med, 100 * ag_p90, n_ag, n_close, n);
        fprintf(f, "Plot: [speedup.png](speedup.png). Per-program predictions: predictions.csv (first seed, and the mean speedup "
                   "over seeds). Every aggregate: metrics.csv.\n\n## Cost (PAPI probe, common/probe.h)\n\n");
        fclose(f);
        if (!o->quiet)
            mir_log(MIR_LOG_INFO, "vectorize: speedup over -O3 %.3f (opcodes %.3f, fixed config %.3f, oracle %.3f), fraction of "
                    "oracle %.3f (opcodes %.3f, -O3 %.3f); %d programs; wrote %s/summary.md",
                    agg[FS_EMB][PR_FAMILY][2][M_GEO], agg[FS_OPC][PR_FAMILY][2][M_GEO], st_fixed[PR_FAMILY].geomean,
                    st_oracle.geomean, agg[FS_EMB][PR_FAMILY][2][M_FRAC], agg[FS_OPC][PR_FAMILY][2][M_FRAC], o3_fraction, n, dir);
    written:
        for (int fs = 0; fs < FS_N; fs++)
            for (int p = 0; p < VP_N; p++) free(vagg[fs][p].unit_log);
        for (int pr = 0; pr < PR_N; pr++) free(p_fixed[pr]);
        free(p_scalar); free(tr); free(fam_sp); free(fam_n); free(all_rows);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    if (rc) {
        MPI_Bcast(err->msg, sizeof err->msg, MPI_CHAR, 0, comm);
        goto done;
    }
    {
        static const char *const item_names[PH_N] = {"program", "program", "program", "fit", "fit", "predicted row",
                                                     "predicted row"};
        double items[PH_N] = {(double)n, (double)(n - emb_failed), (double)(n - opc_failed), (double)tot[0],
                              (double)tot[1], (double)tot[2], (double)tot[3]};
        char path[4300];
        snprintf(path, sizeof path, "%s/summary.md", dir);
        FILE *f = rank == 0 ? fopen(path, "a") : NULL;
        mir_probe_markdown(probe, comm, f, phase_names, PH_N, item_names, items);
        if (f) {
            fprintf(f, "%lld fits of each classifier (inner cross-validation included), %lld of the regressor. Total "
                       "wall time %.1f s on %d rank(s).\n", (long long)tot[0], (long long)reg_fits,
                    mir_wall_seconds() - t0, size);
            fclose(f);
        }
    }
done:
    free(rchoice);
    free(rmargin);
    for (int k = 0; k < 3; k++) free(pred[k]);
    free(chosen); free(X); free(chosen_all); free(pred_all); free(runs); free(allowed); free(y);
    free(ok); free(opc); free(emb);
    for (int i = 0; i < n; i++) free(files[i]);
    free(files);
    mir_model_free(model);
    mir_probe_free(probe);
    mir_vec_table_free(&t);
    return rc;
}
