/*
 * devmap.c: heterogeneous device mapping (CPU or GPU for an OpenCL kernel at an input size) on the
 * Grewe et al. / DeepTune data, with the pre-trained embeddings against the opcode-count baseline.
 *
 * Runs: feature set x platform x protocol x seed, shared out over the ranks (run j on rank j mod size).
 * Each run assigns its outer folds from (seed, protocol) only, so every feature set sees the same folds,
 * and runs mir_cv_run (cv.h: the classifier picked by inner cross-validation on the training folds).
 * With --finetune, two more "feature sets" are the encoder fine-tuned end to end (finetune.h) from the
 * pre-trained and from random weights, on the same outer folds.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "cv.h"
#include "data.h"
#include "devmap_cl.h"
#include "embed.h"
#include "finetune.h"
#include "kernel_features.h"
#include "model_file.h"
#include "mpi_util.h"
#include "paired.h"
#include "probe.h"
#include "protocol.h"
#include "report.h"

enum { FS_EMB, FS_OPC, FS_TOK, FS_GRAPH, FS_RANDOM, FS_AUX, FS_BOTH, FS_PROP, FS_VERSUS, FS_FT_PRE, FS_FT_RND, FS_N };
static const char *const fs_name[FS_N] = {"mirencoder", "opcodes", "tokens-only", "graph-only", "random-weights",
                                          "aux-only", "mirencoder+opcodes", "opcode-shares", "versus-model",
                                          "finetuned-pretrained", "finetuned-random"};
static const char *const fs_label[FS_N] = {"MIREncoder embedding (pre-trained)", "opcode counts (baseline)",
                                           "token half of the embedding", "graph half of the embedding",
                                           "encoder with random weights", "transfer + wgsize only",
                                           "embedding and opcode counts together",
                                           "opcode shares (counts / instructions)",
                                           "embedding of the --versus model",
                                           "encoder fine-tuned from the pre-trained weights",
                                           "encoder fine-tuned from random weights"};
enum { P_STRAT, P_GROUP, P_SUITE, P_N };
static const char *const proto_name[P_N] = {"stratified", "grouped", "suite"};
static const char *const proto_label[P_N] = {
    "stratified 10-fold over rows (the literature's protocol)",
    "10 folds grouped by benchmark (no kernel on both sides)",
    "leave one suite out (train on six suites, test on the seventh)"};
static const char *const variant_name[MIR_CLF_N + 1] = {"xgboost", "mlp", "selected"};
enum { M_ACC, M_F1, M_SPM, M_SPG, M_FIXED };

/* published accuracies (AMD, NVIDIA), stratified 10-fold: ../shared/DESIGN.md */
static const struct { const char *name; double amd, nvidia; } published[] = {
    {"static mapping", 58.8, 56.9}, {"Grewe et al. (CGO'13)", 73.4, 72.9}, {"DeepTune (PACT'17)", 83.7, 80.3},
    {"inst2vec (NeurIPS'18)", 82.8, 81.8}, {"IR2Vec flow-aware (TACO'20)", 92.8, 89.7}, {"PERFOGRAPH (NeurIPS'23)", 94.0, 90.0}};
/* the plain-script opcode-count + GBT reference, per protocol (AMD, NVIDIA) */
static const double script_baseline[P_N][2] = {{92.5, 90.0}, {88.4, 85.1}, {68.1, 42.5}};

typedef struct { int fs, plat, proto, seed; } run_id;

typedef struct {
    const mir_devmap *d;
    int D;               /* embedding length */
    const float *emb;    /* (n_kernels, D) */
    const float *rnd;    /* (n_kernels, D) or NULL */
    const double *opc;   /* (n_kernels, MIR_N_OPCODES) */
    int Dv;              /* embedding length of the --versus model */
    const float *vs;     /* (n_kernels, Dv) or NULL */
} feature_src;

/* seeds of a feature set: the main sets (and the --versus model, compared with them) get --seeds */
static int fs_seeds(const mir_analyze_options *o, int fs) {
    if (fs == FS_FT_PRE || fs == FS_FT_RND) return 1; /* fine-tuning: the first seed's folds (its cost) */
    return fs <= FS_OPC || fs == FS_VERSUS ? o->n_seeds : o->ablation_seeds;
}

static int fs_dim(int fs, int D) {
    switch (fs) {
    case FS_EMB: case FS_RANDOM: return D + 2;
    case FS_OPC: case FS_PROP: return MIR_N_OPCODES + 2;
    case FS_TOK: case FS_GRAPH: return D / 2 + 2;
    case FS_BOTH: return D + MIR_N_OPCODES + 2;
    default: return 2;
    }
}

static int fs_dim_of(const feature_src *F, int fs) { return fs == FS_VERSUS ? F->Dv + 2 : fs_dim(fs, F->D); }

/* X (n, fs_dim): the kernel's features, then log2(1 + transfer), log2(1 + wgsize) of the row. */
static void build_features(const feature_src *F, int fs, int plat, float *X) {
    const mir_devmap *d = F->d;
    const int dim = fs_dim_of(F, fs), D = F->D;
    for (int j = 0; j < d->n; j++) {
        float *x = X + (size_t)j * dim;
        int k = d->kernel[j], m = dim - 2;
        if (fs == FS_EMB) memcpy(x, F->emb + (size_t)k * D, (size_t)D * sizeof *x);
        else if (fs == FS_VERSUS) memcpy(x, F->vs + (size_t)k * F->Dv, (size_t)F->Dv * sizeof *x);
        else if (fs == FS_RANDOM) memcpy(x, F->rnd + (size_t)k * D, (size_t)D * sizeof *x);
        else if (fs == FS_TOK) memcpy(x, F->emb + (size_t)k * D, (size_t)(D / 2) * sizeof *x);
        else if (fs == FS_GRAPH) memcpy(x, F->emb + (size_t)k * D + D / 2, (size_t)(D / 2) * sizeof *x);
        else if (fs == FS_OPC)
            for (int o = 0; o < MIR_N_OPCODES; o++) x[o] = (float)F->opc[(size_t)k * MIR_N_OPCODES + o];
        else if (fs == FS_PROP)
            mir_opcode_shares(F->opc + (size_t)k * MIR_N_OPCODES, x);
        else if (fs == FS_BOTH) {
            memcpy(x, F->emb + (size_t)k * D, (size_t)D * sizeof *x);
            for (int o = 0; o < MIR_N_OPCODES; o++) x[D + o] = (float)F->opc[(size_t)k * MIR_N_OPCODES + o];
        }
        x[m] = (float)log2(1.0 + d->transfer[plat][j]);
        x[m + 1] = (float)log2(1.0 + d->wgsize[plat][j]);
    }
}

static double score_accuracy(void *ctx, const int *rows, const int *pred, int m) {
    const int *y = ctx;
    int ok = 0;
    for (int i = 0; i < m; i++) ok += pred[i] == y[rows[i]];
    return m ? (double)ok / m : 0.0;
}


/* metrics of predictions pred (n) on platform plat: out[M_FIXED + 2 * n_suites] */
static void devmap_metrics(const mir_devmap *d, int plat, const int *pred, double *out) {
    const int n = d->n, S = d->n_suites;
    double *sp = mir_malloc((size_t)n * sizeof *sp);
    for (int j = 0; j < n; j++)
        sp[j] = mir_devmap_speedup(d, plat, j, pred[j]);
    out[M_ACC] = mir_accuracy(pred, d->label[plat], n);
    out[M_F1] = mir_f1_macro(pred, d->label[plat], n, 2);
    out[M_SPM] = mir_mean(sp, n);
    out[M_SPG] = mir_geomean(sp, n);
    for (int s = 0; s < S; s++) {
        int ok = 0, m = 0;
        double sum = 0;
        for (int j = 0; j < n; j++)
            if (d->suite[j] == s) {
                m++;
                ok += pred[j] == d->label[plat][j];
                sum += sp[j];
            }
        out[M_FIXED + s] = m ? 100.0 * ok / m : NAN;
        out[M_FIXED + S + s] = m ? sum / m : NAN;
    }
    free(sp);
}

/* ------------------------------------------------------------------------------------------------ */

/* What the task computed, and what its report says of the inputs: filled by mir_analyze_devmap's steps, read by the
 * writers (rank 0) and the cost section. */
typedef struct {
    const mir_analyze_options *o;
    const mir_devmap *d;
    int fs_on[FS_N];
    run_id *runs;
    int n_runs, n_metrics, max_k;
    int *pred;      /* (n_runs, 3, n) */
    int *fold;      /* (n_runs, n) */
    int *chosen;    /* (n_runs, max_k): classifier per fold, -1 empty */
    double *metric; /* (n_runs, 3, n_metrics) */
    double oracle[4];       /* AMD mean and geometric-mean speedup of the best device, then NVIDIA's */
    mir_ft_summary fts;     /* --finetune */
    int64_t tot[4];         /* fits xgboost, mlp; predicted rows xgboost, mlp (over the ranks) */
    /* the inputs */
    int D, emb_failed, opc_failed, vs_failed;
    const char *kernels_dir, *model_hash;
    const mir_devmap_cl *cl; /* --kernels-from cl, else NULL */
    char versus_hash[64];    /* model hash of --versus */
    double t0;               /* the task's start (mir_wall_seconds) */
} results;

static int find_run(const results *R, int fs, int plat, int proto, int seed) {
    for (int r = 0; r < R->n_runs; r++)
        if (R->runs[r].fs == fs && R->runs[r].plat == plat && R->runs[r].proto == proto && R->runs[r].seed == seed) return r;
    return -1;
}

/* mean and sample deviation over seeds of metric m of (fs, plat, proto, variant); n: seeds found */
static int agg(const results *R, int fs, int plat, int proto, int variant, int m, double *mean, double *sd) {
    double v[256];
    int n = 0;
    for (int r = 0; r < R->n_runs && n < 256; r++) {
        const run_id *id = &R->runs[r];
        if (id->fs != fs || id->plat != plat || id->proto != proto) continue;
        double x = R->metric[((size_t)r * (MIR_CLF_N + 1) + variant) * R->n_metrics + m];
        if (!isnan(x)) v[n++] = x;
    }
    *mean = n ? mir_mean(v, n) : NAN;
    *sd = mir_stddev(v, n);
    return n;
}

/* the mean over seeds of metric m of the selected classifier */
static double sel_mean(const results *R, int fs, int plat, int proto, int m) {
    double mean, sd;
    agg(R, fs, plat, proto, MIR_CLF_N, m, &mean, &sd);
    return mean;
}

/* a summary.md cell: metric m of (fs, plat, proto, variant), mean ± deviation over seeds */
static void pm_agg(FILE *f, const results *R, int fs, int plat, int proto, int variant, int m, const char *fmt) {
    double mean, sd;
    int ns = agg(R, fs, plat, proto, variant, m, &mean, &sd);
    mir_md_pm(f, mean, sd, ns, fmt);
}

static double xgb_share(const results *R, int fs, int plat, int proto) {
    int x = 0, t = 0;
    for (int r = 0; r < R->n_runs; r++) {
        const run_id *id = &R->runs[r];
        if (id->fs != fs || id->plat != plat || id->proto != proto) continue;
        for (int f = 0; f < R->max_k; f++) {
            int c = R->chosen[(size_t)r * R->max_k + f];
            if (c < 0) continue;
            t++;
            x += c == MIR_CLF_XGB;
        }
    }
    return t ? 100.0 * x / t : NAN;
}

/* The paired comparisons of the reports: A against B. */
static const struct { const char *name; int a, b; } pairs[] = {
    {"embedding_vs_opcodes", FS_EMB, FS_OPC},       {"pretrained_vs_random", FS_EMB, FS_RANDOM},
    {"model_vs_versus", FS_EMB, FS_VERSUS},         {"versus_vs_opcodes", FS_VERSUS, FS_OPC},
    {"both_vs_opcodes", FS_BOTH, FS_OPC},           {"opcodes_vs_shares", FS_OPC, FS_PROP},
    {"random_vs_opcodes", FS_RANDOM, FS_OPC},
    {"finetuned_vs_frozen", FS_FT_PRE, FS_EMB},     {"finetuned_pretrained_vs_random", FS_FT_PRE, FS_FT_RND},
    {"finetuned_random_vs_frozen_random", FS_FT_RND, FS_RANDOM}, {"finetuned_vs_opcodes", FS_FT_PRE, FS_OPC}};
enum { N_PAIRS = sizeof pairs / sizeof *pairs };

/* Paired accuracy of feature set fa against fb on (plat, proto), selected classifier, in points: per benchmark,
 * the share of its rows predicted right over the seeds both ran (the same outer folds), a unit weighted by its
 * rows (paired.h, mir_paired_t_weighted). Returns the number of seeds paired. */
static int paired_acc(const results *R, int fa, int fb, int plat, int proto, mir_paired *out) {
    const mir_devmap *d = R->d;
    const int n = d->n, G = d->n_groups;
    double *ca = mir_calloc((size_t)G, sizeof *ca), *cb = mir_calloc((size_t)G, sizeof *cb),
           *w = mir_calloc((size_t)G, sizeof *w);
    int ns = 0;
    for (;; ns++) {
        int ra = find_run(R, fa, plat, proto, ns), rb = find_run(R, fb, plat, proto, ns);
        if (ra < 0 || rb < 0) break;
        const int *pa = R->pred + ((size_t)ra * 3 + MIR_CLF_N) * n, *pb = R->pred + ((size_t)rb * 3 + MIR_CLF_N) * n;
        for (int j = 0; j < n; j++) {
            ca[d->group[j]] += pa[j] == d->label[plat][j];
            cb[d->group[j]] += pb[j] == d->label[plat][j];
        }
    }
    for (int j = 0; j < n; j++) w[d->group[j]] += 1;
    for (int g = 0; g < G; g++) {
        double k = w[g] * (ns ? ns : 1);
        ca[g] = w[g] > 0 && ns ? 100.0 * ca[g] / k : NAN;
        cb[g] = w[g] > 0 && ns ? 100.0 * cb[g] / k : NAN;
    }
    mir_paired_t_weighted(ca, cb, w, G, out);
    free(ca); free(cb); free(w);
    return ns;
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ---------------- the outputs (rank 0) ---------------- */

/* predictions.csv: per row, for each feature set and protocol: the first seed's run, and how many seeds
 * predicted GPU */
static int write_predictions(const results *R, const char *dir, mir_error *err) {
    const mir_devmap *d = R->d;
    const int n = d->n;
    FILE *f = mir_csv_open(dir, "predictions.csv", "platform,protocol,features,row,benchmark,dataset,suite,kernel,oracle,"
                           "runtime_cpu,runtime_gpu,fold,classifier,predicted,speedup,gpu_votes,seeds", err);
    if (!f) return -1;
    for (int fs = 0; fs < FS_N; fs++) {
        if (!R->fs_on[fs]) continue;
        for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++)
            for (int pr = 0; pr < P_N; pr++) {
                int r0 = find_run(R, fs, plat, pr, 0);
                if (r0 < 0) continue;
                for (int j = 0; j < n; j++) {
                    int votes = 0, ns = 0;
                    for (int r = 0; r < R->n_runs; r++) {
                        const run_id *id = &R->runs[r];
                        if (id->fs != fs || id->plat != plat || id->proto != pr) continue;
                        ns++;
                        votes += R->pred[((size_t)r * 3 + MIR_CLF_N) * n + j] == MIR_GPU;
                    }
                    int p = R->pred[((size_t)r0 * 3 + MIR_CLF_N) * n + j], fo = R->fold[(size_t)r0 * n + j];
                    int c = R->chosen[(size_t)r0 * R->max_k + fo];
                    double sp = mir_devmap_speedup(d, plat, j, p);
                    fprintf(f, "%s,%s,%s,%d,%s,%s,%s,%s,%s,%.9g,%.9g,%d,%s,%s,%.6g,%d,%d\n",
                            mir_devmap_platform_name[plat], proto_name[pr], fs_name[fs], d->csv_row[j], d->benchmark[j],
                            d->dataset[j], d->suite_name[d->suite[j]], base_name(d->kernel_file[d->kernel[j]]),
                            d->label[plat][j] ? "GPU" : "CPU", d->runtime_cpu[plat][j], d->runtime_gpu[plat][j], fo,
                            c >= 0 ? mir_clf_name(c) : "", p ? "GPU" : "CPU", sp, votes, ns);
                }
            }
    }
    return mir_report_close(f, dir, "predictions.csv", err);
}

/* the name of metric m in metrics.csv */
static void metric_name(const mir_devmap *d, int m, char *out, size_t cap) {
    static const char *const fixed[M_FIXED] = {"accuracy", "f1_macro", "speedup_mean", "speedup_geomean"};
    if (m < M_FIXED) snprintf(out, cap, "%s", fixed[m]);
    else if (m < M_FIXED + d->n_suites) snprintf(out, cap, "accuracy[%s]", d->suite_name[m - M_FIXED]);
    else snprintf(out, cap, "speedup_mean[%s]", d->suite_name[m - M_FIXED - d->n_suites]);
}

/* metrics.csv: every aggregate */
static int write_metrics(const results *R, const char *dir, mir_error *err) {
    FILE *f = mir_csv_open(dir, "metrics.csv", "features,protocol,platform,classifier,metric,mean,sd,seeds", err);
    if (!f) return -1;
    for (int fs = 0; fs < FS_N; fs++) {
        if (!R->fs_on[fs]) continue;
        for (int pr = 0; pr < P_N; pr++)
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++)
                for (int v = 0; v <= MIR_CLF_N; v++) {
                    char keys[256], mname[300];
                    snprintf(keys, sizeof keys, "%s,%s,%s,%s", fs_name[fs], proto_name[pr],
                             mir_devmap_platform_name[plat], variant_name[v]);
                    for (int m = 0; m < R->n_metrics; m++) {
                        double mean, sd;
                        int ns = agg(R, fs, plat, pr, v, m, &mean, &sd);
                        metric_name(R->d, m, mname, sizeof mname);
                        mir_csv_metric(f, keys, mname, mean, sd, ns);
                    }
                }
    }
    return mir_report_close(f, dir, "metrics.csv", err);
}

/* {"amd": {"accuracy": .., "speedup": ..}, "nvidia": ..} of feature set fs (selected classifier) */
static void json_platforms(mir_json *j, const results *R, const char *key, int fs, int pr, int speedup) {
    mir_json_object(j, key, 0);
    for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
        mir_json_object(j, mir_devmap_platform_name[plat], 0);
        mir_json_num(j, "accuracy", sel_mean(R, fs, plat, pr, M_ACC));
        if (speedup) mir_json_num(j, "speedup", sel_mean(R, fs, plat, pr, M_SPM));
        mir_json_close(j);
    }
    mir_json_close(j);
}

/* summary.json's "finetune": the accuracies of both starts, the budget, the training losses */
static void json_finetune(mir_json *j, const results *R) {
    const mir_ft_summary *fts = &R->fts;
    mir_json_object(j, "finetune", 0);
    for (int b = 0; b < 2; b++) {
        mir_json_object(j, b ? "random" : "pretrained", 0);
        for (int pr = 0; pr < P_N; pr++) json_platforms(j, R, proto_name[pr], b ? FS_FT_RND : FS_FT_PRE, pr, 0);
        mir_json_close(j);
    }
    mir_json_int(j, "epochs", fts->epochs);
    mir_json_int(j, "window", fts->window);
    mir_json_int(j, "max_nodes", fts->max_nodes);
    mir_json_object(j, "train_loss", 0);
    for (int b = 0; b < 2; b++) {
        mir_json_object(j, b ? "random" : "pretrained", 0);
        mir_json_num(j, "heads_first_epoch", fts->head_loss[b][0]);
        mir_json_num(j, "heads_last_epoch", fts->head_loss[b][1]);
        mir_json_num(j, "first_epoch", fts->loss_first[b]);
        mir_json_num(j, "last_epoch", fts->loss_last[b]);
        mir_json_close(j);
    }
    mir_json_close(j);
    mir_json_close(j);
}

/* summary.json: the shape */
static int write_json(const results *R, const char *dir, mir_error *err) {
    mir_json j;
    if (mir_json_open(&j, dir, "summary.json", 1, err)) return -1;
    for (int pr = 0; pr < P_N; pr++) json_platforms(&j, R, proto_name[pr], FS_EMB, pr, 1);
    mir_json_object(&j, "baseline", 1);
    for (int pr = 0; pr < P_N; pr++) json_platforms(&j, R, proto_name[pr], FS_OPC, pr, 1);
    mir_json_close(&j);
    if (R->fs_on[FS_VERSUS]) {
        mir_json_object(&j, "versus", 0);
        mir_json_str(&j, "model", R->o->versus);
        mir_json_str(&j, "hash", R->versus_hash);
        for (int pr = 0; pr < P_N; pr++) json_platforms(&j, R, proto_name[pr], FS_VERSUS, pr, 0);
        mir_json_close(&j);
    }
    if (R->o->finetune) json_finetune(&j, R);
    mir_json_object(&j, "paired", 1);
    for (int c = 0; c < N_PAIRS; c++) {
        if (!R->fs_on[pairs[c].a] || !R->fs_on[pairs[c].b]) continue;
        for (int pr = 0; pr < P_N; pr++)
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                mir_paired p;
                char name[160];
                paired_acc(R, pairs[c].a, pairs[c].b, plat, pr, &p);
                snprintf(name, sizeof name, "%s.%s.%s", pairs[c].name, proto_name[pr], mir_devmap_platform_name[plat]);
                mir_json_paired(&j, name, &p);
            }
    }
    return mir_json_finish(&j, dir, "summary.json", err);
}

/* accuracy.dat/.gp/.png and speedup.*: per protocol and platform, the main feature sets */
static int write_plots(const results *R, const char *dir, mir_error *err) {
    static const int plot_fs[] = {FS_EMB, FS_OPC, FS_RANDOM, FS_AUX};
    for (int which = 0; which < 2; which++) {
        const char *stem = which ? "speedup" : "accuracy";
        char name[64], title[256], plot[2048];
        snprintf(name, sizeof name, "%s.dat", stem);
        FILE *f = mir_report_open(dir, name, "w", err);
        if (!f) return -1;
        for (int pr = 0; pr < P_N; pr++)
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                fprintf(f, "\"%s %s\"", proto_name[pr], mir_devmap_platform_name[plat]);
                for (size_t q = 0; q < sizeof plot_fs / sizeof *plot_fs; q++) {
                    double mean = NAN, sd = 0;
                    if (R->fs_on[plot_fs[q]]) agg(R, plot_fs[q], plat, pr, MIR_CLF_N, which ? M_SPM : M_ACC, &mean, &sd);
                    fprintf(f, " %.6g %.6g", isnan(mean) ? 0.0 : mean, sd);
                }
                fprintf(f, "\n");
            }
        fclose(f);
        snprintf(title, sizeof title, "Device mapping: %s (mean and deviation over seeds; classifier picked by inner CV)",
                 which ? "speedup over static mapping, arithmetic mean over rows" : "accuracy");
        size_t len = 0;
        for (size_t q = 0, first = 1; q < sizeof plot_fs / sizeof *plot_fs; q++) {
            if (!R->fs_on[plot_fs[q]]) continue;
            len += (size_t)snprintf(plot + len, sizeof plot - len, "%s'%s' using %zu:%zu%s title \"%s\"", first ? "" : ", ",
                                    name, 2 + 2 * q, 3 + 2 * q, first ? ":xtic(1)" : "", fs_label[plot_fs[q]]);
            first = 0;
        }
        mir_plot p = {stem, 1100, title, 1, "nomirror", which ? "speedup over static mapping" : "accuracy (%)",
                      which ? "[0:*]" : "[0:100]", plot};
        if (mir_plot_write(dir, &p, err)) return -1;
    }
    return 0;
}

/* summary.md's head: the inputs, the kernels that failed, what the figures are */
static void md_inputs(FILE *f, const results *R) {
    const mir_analyze_options *o = R->o;
    const mir_devmap *d = R->d;
    const mir_devmap_cl *cl = R->cl;
    const int n = d->n;
    char machine[512];
    mir_machine_string(machine, sizeof machine);
    mir_md_title(f, "Device mapping: MIREncoder embeddings against the opcode-count baseline", o->command_line);
    fprintf(f, "Model: `%s` (hash %s, embedding %d floats). Data: `%s/devmap` (%d rows per platform, %d kernel files"
               " in `%s`, %d suites). Seeds: %d (ablations: %d), base seed %llu. Machine: %s. Time: %.0f s.\n\n",
            o->model, R->model_hash, R->D, o->data_dir, n, d->n_kernels, R->kernels_dir, d->n_suites, o->n_seeds,
            o->ablations ? o->ablation_seeds : 0, (unsigned long long)o->seed, machine, mir_wall_seconds() - R->t0);
    if (!cl) {
        fprintf(f, "Kernel IR: the data set's pre-built `kernels_ir/` (`--kernels-from ir`, the default: the files the "
                   "published results used, written by an old LLVM and read by LLVM 16).\n\n");
    } else {
        int rows_ok = n - cl->rows_failed;
        fprintf(f, "Kernel IR: compiled here from the OpenCL sources in `%s` by clang 16 (`--kernels-from cl`: `-x cl "
                   "-cl-std=CL1.2 -Xclang -finclude-default-header -target spir64 -O1` with the -D flags of the host "
                   "programs, docs/analysis.md) into `%s`: %d kernels (distinct source and flags) for %d rows; %d "
                   "compiled now, %d reused from the cache, %d failed; %d of %d rows have a compiled kernel (%.1f s).\n\n",
                cl->src_dir, cl->cache_dir, cl->n_kernels, n, cl->n_compiled, cl->n_cached, cl->n_failed, rows_ok, n,
                cl->seconds);
        if (cl->n_failed) {
            fprintf(f, "**%d kernel(s) did not compile** (%d row%s: zero features):\n\n", cl->n_failed, cl->rows_failed,
                    cl->rows_failed == 1 ? "" : "s");
            for (int k = 0; k < cl->n_kernels; k++) {
                if (!cl->error[k]) continue;
                int rows = 0;
                for (int j = 0; j < n; j++) rows += d->kernel[j] == k;
                fprintf(f, "- `%s`%s%s%s (%d row%s): %s\n", cl->source[k][0] ? cl->source[k] : "(no source)",
                        cl->flags[k][0] ? " `" : "", cl->flags[k], cl->flags[k][0] ? "`" : "", rows, rows == 1 ? "" : "s",
                        cl->error[k]);
            }
            fprintf(f, "\n");
        }
    }
    if (R->emb_failed || R->opc_failed)
        fprintf(f, "**%d kernel file(s) could not be embedded and %d not counted**: their rows use zero features "
                   "(see the log).\n\n", R->emb_failed, R->opc_failed);
    fprintf(f, "Features: the kernel's features plus log2(1 + transfer) and log2(1 + wgsize) of the row. "
               "Classifiers: XGBoost (gradient-boosted trees) and an MLP on the project's layers; in every outer fold "
               "the one with the better inner 3-fold cross-validation accuracy on the training rows is used "
               "(\"selected\"). Figures are the mean ± sample deviation over the seeds. Speedup: runtime of the "
               "static mapping (CPU on AMD, GPU on NVIDIA) over the runtime of the predicted device, arithmetic "
               "mean over rows (geometric mean beside it). F1: macro average over the two classes.\n\n");
}

/* one table per protocol: every feature set, the oracle, the plain script, the published figures */
static void md_protocols(FILE *f, const results *R) {
    for (int pr = 0; pr < P_N; pr++) {
        fprintf(f, "## %s: %s\n\n", proto_name[pr], proto_label[pr]);
        mir_md_table_head(f, 1, "| features | AMD accuracy %% | AMD F1 %% | AMD speedup | AMD geo. speedup | NVIDIA "
                          "accuracy %% | NVIDIA F1 %% | NVIDIA speedup | NVIDIA geo. speedup |");
        for (int fs = 0; fs < FS_N; fs++) {
            if (!R->fs_on[fs]) continue;
            mir_md_label(f, fs_label[fs], fs <= FS_OPC);
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                pm_agg(f, R, fs, plat, pr, MIR_CLF_N, M_ACC, "%.1f");
                pm_agg(f, R, fs, plat, pr, MIR_CLF_N, M_F1, "%.1f");
                pm_agg(f, R, fs, plat, pr, MIR_CLF_N, M_SPM, "%.3f");
                pm_agg(f, R, fs, plat, pr, MIR_CLF_N, M_SPG, "%.3f");
            }
            fprintf(f, "\n");
        }
        const double *oracle = R->oracle;
        fprintf(f, "| oracle | 100 | 100 | %.3f | %.3f | 100 | 100 | %.3f | %.3f |\n", oracle[0], oracle[1], oracle[2],
                oracle[3]);
        fprintf(f, "| opcode counts + GBT, the issue's plain script | %.1f | | | | %.1f | | | |\n",
                script_baseline[pr][0], script_baseline[pr][1]);
        if (pr == P_STRAT)
            for (size_t q = 0; q < sizeof published / sizeof *published; q++)
                fprintf(f, "| published: %s | %.1f | | %s | | %.1f | | %s | |\n", published[q].name, published[q].amd,
                        q == 0 ? "1.000" : "", published[q].nvidia, q == 0 ? "1.000" : "");
        fprintf(f, "\n");
    }
}

/* XGBoost, MLP and the selected one, with the share of folds that picked XGBoost */
static void md_classifiers(FILE *f, const results *R) {
    fprintf(f, "## Classifiers: XGBoost, MLP and the one picked by inner cross-validation (accuracy %%)\n\n");
    mir_md_table_head(f, 2, "| features | protocol | AMD xgboost | AMD mlp | AMD selected | AMD folds picking xgboost | "
                      "NVIDIA xgboost | NVIDIA mlp | NVIDIA selected | NVIDIA folds picking xgboost |");
    for (int fs = 0; fs < FS_N; fs++) {
        if (!R->fs_on[fs] || fs == FS_FT_PRE || fs == FS_FT_RND) continue; /* no classifier to pick */
        for (int pr = 0; pr < P_N; pr++) {
            fprintf(f, "| %s | %s |", fs_name[fs], proto_name[pr]);
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                for (int v = 0; v <= MIR_CLF_N; v++) pm_agg(f, R, fs, plat, pr, v, M_ACC, "%.1f");
                fprintf(f, " %.0f %% |", xgb_share(R, fs, plat, pr));
            }
            fprintf(f, "\n");
        }
    }
}

/* --finetune: the method, the accuracies beside the frozen ones, the training losses and the cost */
static void md_finetune(FILE *f, const results *R) {
    const mir_ft_summary *fts = &R->fts;
    fprintf(f, "\n## Fine-tuning (--finetune)\n\nThe encoder trained end to end with two heads (AMD and NVIDIA "
               "labels; each an MLP, width %d, on [standardised embedding, log2(1 + transfer), log2(1 + wgsize)] "
               "of the row) in every outer fold of the first seed (the frozen runs' folds; under stratified, each "
               "platform's), by AdamW on mini-batches of 8 kernels, from the pre-trained weights and from random "
               "weights (the random-weights encoder) at the same budget: the heads alone for %d epochs on the "
               "starting encoder's embeddings, then at most %d epochs end to end; the epoch kept (0: the heads' "
               "warm-up on the starting encoder) is the one with the best accuracy (ties: the lower loss) on 20 %% "
               "of the training benchmarks held out (never the test fold). A kernel is read as the fast mode reads it: its first "
               "%d tokens and a graph window of %d nodes (analysis/finetune.h).\n\n", fts->hidden,
            fts->head_epochs, fts->epochs, fts->window, fts->max_nodes);
    mir_md_table_head(f, 2, "| start | protocol | AMD accuracy %% | NVIDIA accuracy %% | frozen AMD | frozen NVIDIA |");
    for (int b = 0; b < 2; b++)
        for (int pr = 0; pr < P_N; pr++) {
            fprintf(f, "| %s | %s |", b ? "random weights" : "pre-trained", proto_name[pr]);
            for (int q = 0; q < 2; q++)
                for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                    double mean, sd;
                    int fs = q ? (b ? FS_RANDOM : FS_EMB) : (b ? FS_FT_RND : FS_FT_PRE);
                    int ns = R->fs_on[fs] ? agg(R, fs, plat, pr, MIR_CLF_N, M_ACC, &mean, &sd) : 0;
                    if (!ns) mean = NAN;
                    mir_md_pm(f, mean, sd, ns, "%.1f");
                }
            fprintf(f, "\n");
        }
    for (int b = 0; b < 2; b++)
        fprintf(f, "%s From the %s weights: training loss (both heads' BCE summed, mean over folds) %.3f -> %.3f "
                   "with the heads alone, then %.3f in the first end-to-end epoch and %.3f in the last; epoch kept "
                   "%.1f on average, the heads' warm-up (frozen encoder) in %.0f %% of the folds.",
                b ? "" : "\nTraining.", b ? "random" : "pre-trained", fts->head_loss[b][0], fts->head_loss[b][1],
                fts->loss_first[b], fts->loss_last[b], fts->mean_best_epoch[b], 100.0 * fts->kept_warmup[b]);
    fprintf(f, "\n\n**Cost: %.0f s of wall time** on %d rank(s) for %d folds (%.0f s summed over the folds, %.1f ms "
               "per kernel for forward, backward and update; %d kernels encoded, %d unreadable and read as "
               "empty).\n", fts->seconds, fts->n_ranks, fts->n_jobs, fts->cpu_seconds, fts->ms_per_kernel_step,
            fts->n_encoded, fts->n_unreadable);
}

/* the paired verdicts of every comparison whose two sides ran */
static void md_paired(FILE *f, const results *R) {
    fprintf(f, "\n## Paired verdicts\n\nSelected classifier's accuracy, A against B on the same folds and seeds: the "
               "mean difference in points with its 95 %% interval, a cluster-robust paired t interval over the "
               "benchmarks (each benchmark's rows, averaged over the seeds both ran, are one unit weighted by its rows: "
               "a benchmark's input sizes are not independent tests). The verdict is read from the interval: "
               "\"better\" when it lies above 0, \"worse\" below, else \"no measurable difference\".\n\n");
    for (int c = 0; c < N_PAIRS; c++) {
        if (!R->fs_on[pairs[c].a] || !R->fs_on[pairs[c].b]) continue;
        fprintf(f, "**%s** (%s against %s):\n\n", pairs[c].name, fs_label[pairs[c].a], fs_label[pairs[c].b]);
        for (int pr = 0; pr < P_N; pr++)
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                mir_paired p;
                int ns = paired_acc(R, pairs[c].a, pairs[c].b, plat, pr, &p);
                fprintf(f, "- %s, %s: %.1f against %.1f %%, difference %+.2f points [%+.2f, %+.2f] (%d benchmarks, %d "
                           "seeds): **%s**\n", proto_name[pr], mir_devmap_platform_name[plat],
                        sel_mean(R, pairs[c].a, plat, pr, M_ACC), sel_mean(R, pairs[c].b, plat, pr, M_ACC), p.diff, p.lo,
                        p.hi, p.n, ns, p.verdict);
            }
        fprintf(f, "\n");
    }
}

/* per suite and protocol: the embedding against the opcode counts */
static void md_suites(FILE *f, const results *R) {
    const mir_devmap *d = R->d;
    const int S = d->n_suites;
    for (int pr = 0; pr < P_N; pr++) {
        fprintf(f, "\n## Per suite, %s (selected classifier; accuracy %% and mean speedup)\n\n", proto_name[pr]);
        mir_md_table_head(f, 1, "| suite | rows | AMD MIREncoder | AMD opcodes | AMD speedup MIREncoder | AMD speedup "
                          "opcodes | NVIDIA MIREncoder | NVIDIA opcodes | NVIDIA speedup MIREncoder | NVIDIA speedup "
                          "opcodes |");
        for (int s = 0; s < S; s++) {
            int rows = 0;
            for (int j = 0; j < d->n; j++) rows += d->suite[j] == s;
            fprintf(f, "| %s | %d |", d->suite_name[s], rows);
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                pm_agg(f, R, FS_EMB, plat, pr, MIR_CLF_N, M_FIXED + s, "%.1f");
                pm_agg(f, R, FS_OPC, plat, pr, MIR_CLF_N, M_FIXED + s, "%.1f");
                pm_agg(f, R, FS_EMB, plat, pr, MIR_CLF_N, M_FIXED + S + s, "%.3f");
                pm_agg(f, R, FS_OPC, plat, pr, MIR_CLF_N, M_FIXED + S + s, "%.3f");
            }
            fprintf(f, "\n");
        }
    }
}

/* summary.md (the cost section is appended by report: it is collective) */
static int write_md(const results *R, const char *dir, mir_error *err) {
    FILE *f = mir_report_open(dir, "summary.md", "w", err);
    if (!f) return -1;
    md_inputs(f, R);
    md_protocols(f, R);
    md_classifiers(f, R);
    if (R->o->finetune) md_finetune(f, R);
    md_paired(f, R);
    md_suites(f, R);
    fprintf(f, "\nPlots: [accuracy.png](accuracy.png), [speedup.png](speedup.png). Per-row predictions: predictions.csv "
               "(first seed; gpu_votes = seeds that predicted GPU). Every aggregate: metrics.csv.\n");
    return mir_report_close(f, dir, "summary.md", err);
}

/* every output but the cost section (rank 0) */
static int write_outputs(const results *R, const char *dir, mir_error *err) {
    if (write_predictions(R, dir, err) || write_metrics(R, dir, err) || write_json(R, dir, err) ||
        write_plots(R, dir, err) || write_md(R, dir, err))
        return -1;
    return 0;
}

/* ---------------- the computation ---------------- */

/* The outer folds of (platform, protocol, seed), the same for every feature set: fold (n); returns k. */
static int outer_folds(const mir_analyze_options *o, const mir_devmap *d, int plat, int proto, int seed, int *fold) {
    mir_rng rng;
    mir_rng_seed(&rng, mir_seed_mix(o->seed, (uint64_t)seed), 0x666f6c64 + (uint64_t)proto);
    if (proto == P_STRAT) {
        mir_folds_stratified(d->label[plat], d->n, 2, 10, &rng, fold);
        return 10;
    }
    if (proto == P_GROUP) {
        mir_folds_grouped(d->group, d->n, 10, &rng, fold);
        return 10;
    }
    memcpy(fold, d->suite, (size_t)d->n * sizeof *fold);
    return d->n_suites;
}

/* --finetune (finetune.h): the splits are the frozen runs' outer folds of the first seed, one per protocol, and
 * under stratified one per platform (its folds follow the platform's labels; each keeps its platform's head);
 * the folds go over the ranks; the FS_FT_* runs receive the predictions and metrics on every rank. Collective. */
static int run_finetune(const mir_analyze_options *o, const mir_devmap *d, const mir_model *model, const uint8_t *ok,
                        results *R, MPI_Comm comm, mir_ft_summary *sum, mir_error *err) {
    const int n = d->n;
    mir_ft_options fo;
    mir_ft_options_default(&fo);
    if (o->finetune_epochs) fo.epochs = o->finetune_epochs;
    mir_ft_split sp[P_N * MIR_DEVMAP_N_PLATFORMS];
    int split_of[P_N][MIR_DEVMAP_N_PLATFORMS], ns = 0;
    int *folds = mir_malloc((size_t)P_N * MIR_DEVMAP_N_PLATFORMS * n * sizeof *folds);
    for (int pr = 0; pr < P_N; pr++)
        for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
            if (pr != P_STRAT && plat > 0) { /* grouped, suite: the same folds for both platforms */
                split_of[pr][plat] = split_of[pr][0];
                continue;
            }
            int *f = folds + (size_t)ns * n;
            int k = outer_folds(o, d, plat, pr, 0, f);
            sp[ns] = (mir_ft_split){k, f, {pr != P_STRAT || plat == 0, pr != P_STRAT || plat == 1},
                                    (uint64_t)(pr * MIR_DEVMAP_N_PLATFORMS + plat)};
            split_of[pr][plat] = ns++;
        }
    int *pred = mir_malloc((size_t)MIR_FT_N_INITS * ns * MIR_FT_HEADS * n * sizeof *pred);
    int rc = mir_devmap_finetune(d, model, o->model, ok, &fo, o->seed, sp, ns, comm, o->quiet, pred, sum, err);
    for (int r = 0; r < R->n_runs && !rc; r++) {
        const run_id *id = &R->runs[r];
        if (id->fs != FS_FT_PRE && id->fs != FS_FT_RND) continue;
        const int s = split_of[id->proto][id->plat], init = id->fs == FS_FT_PRE ? MIR_FT_PRETRAINED : MIR_FT_RANDOM;
        const int *p = pred + (((size_t)init * ns + s) * MIR_FT_HEADS + id->plat) * n;
        for (int v = 0; v < 3; v++) {
            memcpy(R->pred + ((size_t)r * 3 + v) * n, p, (size_t)n * sizeof *p);
            devmap_metrics(d, id->plat, p, R->metric + ((size_t)r * 3 + v) * R->n_metrics);
        }
        memcpy(R->fold + (size_t)r * n, sp[s].fold, (size_t)n * sizeof *R->fold);
    }
    free(pred);
    free(folds);
    return rc;
}

enum { PH_EMBED, PH_EMBED_RANDOM, PH_OPCODES, PH_FIT, PH_PREDICT = PH_FIT + MIR_CLF_N, PH_N = PH_PREDICT + MIR_CLF_N };
static const char *const phase_names[PH_N] = {"embed", "embed-random", "opcodes", "fit xgboost", "fit mlp",
                                              "predict xgboost", "predict mlp"};

/* The task's inputs: the rows, their kernels, the model, and the kernels' features. */
typedef struct {
    const mir_analyze_options *o;
    MPI_Comm comm;
    int rank, size;
    char dir[4096], kdir[4096];
    mir_devmap d;
    mir_devmap_cl cl_store, *cl; /* --kernels-from cl */
    mir_model *model;
    mir_probe *probe;
    float *emb, *rnd, *vs;       /* (n_kernels, D), random weights (n_kernels, D) or NULL, --versus (n_kernels, Dv) */
    int Dv;                      /* the --versus model's embedding length */
    double *opc;                 /* (n_kernels, MIR_N_OPCODES) */
    uint8_t *ok;                 /* (n_kernels) */
} devmap_inputs;

static void inputs_free(devmap_inputs *in) {
    free(in->ok); free(in->opc); free(in->emb); free(in->rnd); free(in->vs);
    mir_probe_free(in->probe);
    mir_model_free(in->model);
    if (in->cl) mir_devmap_cl_free(in->cl);
    mir_devmap_free(&in->d);
}

/* The task folder, the rows with their kernel IR (the data set's, or compiled from the OpenCL sources, devmap_cl.h)
 * and the model. Collective; on failure nothing is left to free. */
static int load_inputs(devmap_inputs *in, mir_error *err) {
    const mir_analyze_options *o = in->o;
    if (mir_task_dir(o, "devmap", in->comm, in->dir, sizeof in->dir, err)) return -1;
    if (o->kernels_cl) {
        /* the rows first, then their kernels compiled from the OpenCL sources (devmap_cl.h) */
        if (mir_devmap_load(&in->d, o->data_dir, NULL, o->limit, err)) return -1;
        in->cl = &in->cl_store;
        if (mir_devmap_cl_kernels(&in->d, o, in->comm, in->cl, err)) { mir_devmap_free(&in->d); return -1; }
        snprintf(in->kdir, sizeof in->kdir, "%s", in->cl->cache_dir);
    } else {
        if (mir_kernels_dir(o, "devmap", "task_devmap", "kernels_ir", in->comm, in->kdir, sizeof in->kdir, err)) return -1;
        if (mir_devmap_load(&in->d, o->data_dir, in->kdir, o->limit, err)) return -1;
    }
    in->model = mir_analyze_model_load(o, o->model, err);
    if (!in->model) {
        if (in->cl) mir_devmap_cl_free(in->cl);
        mir_devmap_free(&in->d);
        return -1;
    }
    return 0;
}

/* The random-weight model's embeddings (ablations) into in->rnd. Collective. */
static int embed_random(devmap_inputs *in, mir_error *err) {
    const mir_devmap *d = &in->d;
    char rpath[4200];
    snprintf(rpath, sizeof rpath, "%s/random-weights.h5", in->dir);
    const mir_model *m = in->model;
    int rc = in->rank == 0
                 ? mir_model_file_write_random(mir_model_config(m), mir_model_vocab(m), rpath, in->o->seed, err)
                 : 0;
    rc = mir_mpi_root_rc(in->comm, rc, err);
    mir_model *rm = NULL;
    if (!rc) rm = mir_analyze_model_load(in->o, rpath, err);
    if (mir_mpi_agree(in->comm, rm == NULL, err)) {
        mir_fail(err, "%s: cannot write or read the random-weight model", rpath);
        mir_model_free(rm);
        return -1;
    }
    in->rnd = mir_malloc((size_t)d->n_kernels * mir_embedding_dim(in->model) * sizeof *in->rnd);
    mir_embed_files_mpi(rm, d->kernel_file, d->n_kernels, in->rnd, in->ok, in->comm, in->probe, PH_EMBED_RANDOM);
    mir_model_free(rm);
    return 0;
}

/* The --versus model's embeddings into in->vs, its hash into R. Collective. */
static int embed_versus(devmap_inputs *in, results *R, mir_error *err) {
    const mir_devmap *d = &in->d;
    mir_model *vm = mir_analyze_model_load(in->o, in->o->versus, err);
    if (mir_mpi_agree(in->comm, vm == NULL, err)) {
        mir_model_free(vm);
        return -1;
    }
    in->Dv = (int)mir_embedding_dim(vm);
    in->vs = mir_malloc((size_t)d->n_kernels * in->Dv * sizeof *in->vs);
    R->vs_failed = mir_embed_files_mpi(vm, d->kernel_file, d->n_kernels, in->vs, in->ok, in->comm, in->probe,
                                       PH_EMBED_RANDOM);
    snprintf(R->versus_hash, sizeof R->versus_hash, "%s", mir_model_hash(vm));
    mir_model_free(vm);
    return 0;
}

/* Every kernel file's features: opcode counts, embeddings, and those of the ablations and --versus. Collective. */
static int compute_features(devmap_inputs *in, results *R, mir_error *err) {
    const mir_analyze_options *o = in->o;
    const mir_devmap *d = &in->d;
    const int D = R->D;
    in->emb = mir_malloc((size_t)d->n_kernels * D * sizeof *in->emb);
    in->opc = mir_malloc((size_t)d->n_kernels * MIR_N_OPCODES * sizeof *in->opc);
    in->ok = mir_malloc((size_t)d->n_kernels);
    R->opc_failed = mir_opcode_counts_mpi(d->kernel_file, d->n_kernels, in->opc, in->ok, in->comm, in->probe, PH_OPCODES);
    R->emb_failed = mir_embed_files_mpi(in->model, d->kernel_file, d->n_kernels, in->emb, in->ok, in->comm, in->probe,
                                        PH_EMBED);
    if (in->rank == 0 && !o->quiet)
        mir_log(MIR_LOG_INFO, "devmap: features of %d kernels (%d failed to embed) in %.1f s", d->n_kernels,
                R->emb_failed, mir_wall_seconds() - R->t0);
    if (o->ablations && embed_random(in, err)) return -1;
    if (o->versus && embed_versus(in, R, err)) return -1;
    return 0;
}

/* The runs (feature set x seed x protocol x platform) and their result arrays, zeroed. */
static void plan_runs(const mir_analyze_options *o, results *R) {
    const int n = R->d->n, fs_on[FS_N] = {1, 1, o->ablations, o->ablations, o->ablations, o->ablations, o->ablations,
                                          o->ablations, o->versus != NULL, o->finetune, o->finetune};
    memcpy(R->fs_on, fs_on, sizeof fs_on);
    R->max_k = R->d->n_suites > 10 ? R->d->n_suites : 10;
    R->n_metrics = M_FIXED + 2 * R->d->n_suites;
    R->runs = mir_malloc(sizeof *R->runs * FS_N * MIR_DEVMAP_N_PLATFORMS * P_N *
                         (size_t)(o->n_seeds > o->ablation_seeds ? o->n_seeds : o->ablation_seeds));
    for (int fs = 0; fs < FS_N; fs++) {
        if (!fs_on[fs]) continue;
        int ns = fs_seeds(o, fs);
        for (int s = 0; s < ns; s++)
            for (int pr = 0; pr < P_N; pr++)
                for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) R->runs[R->n_runs++] = (run_id){fs, plat, pr, s};
    }
    R->pred = mir_calloc((size_t)R->n_runs * 3 * n, sizeof *R->pred);
    R->fold = mir_calloc((size_t)R->n_runs * n, sizeof *R->fold);
    R->chosen = mir_calloc((size_t)R->n_runs * R->max_k, sizeof *R->chosen);
    R->metric = mir_calloc((size_t)R->n_runs * 3 * R->n_metrics, sizeof *R->metric);
}

static void results_free(results *R) {
    free(R->runs); free(R->pred); free(R->fold); free(R->chosen); free(R->metric);
}

/* Scratch of one rank's runs. */
typedef struct {
    float *X;     /* (n, widest feature set) */
    int *fold;    /* (n) */
    int *pred[3]; /* (n) per variant */
    int *chosen;  /* (max_k) */
    int64_t n_fits[MIR_CLF_N], n_pred_rows[MIR_CLF_N];
} run_scratch;

/* Run r: the outer folds, mir_cv_run (the classifier picked by inner cross-validation), its predictions and metrics
 * into R (rank r's share: the other ranks leave zeros there; chosen stored + 1). */
static int run_one(const devmap_inputs *in, const feature_src *F, results *R, int r, run_scratch *s, mir_error *err) {
    const mir_analyze_options *o = in->o;
    const mir_devmap *d = &in->d;
    const run_id *id = &R->runs[r];
    const int n = d->n;
    build_features(F, id->fs, id->plat, s->X);
    mir_cv_task t = {n, fs_dim_of(F, id->fs), 2, s->X, d->label[id->plat], d->group, NULL, score_accuracy,
                     d->label[id->plat], MIR_INNER_GROUPED, 3, &o->clf, in->probe, PH_FIT, PH_PREDICT};
    int k = outer_folds(o, d, id->plat, id->proto, id->seed, s->fold);
    if (id->proto == P_STRAT) t.inner = MIR_INNER_STRATIFIED;
    uint64_t cv_seed = mir_seed_mix(mir_seed_mix(o->seed, (uint64_t)id->seed), (uint64_t)(id->proto * 2 + id->plat));
    int rc = mir_cv_run(&t, s->fold, k, cv_seed, s->pred, s->chosen, s->n_fits, s->n_pred_rows, err);
    for (int v = 0; v < 3; v++) {
        for (int j = 0; j < n; j++) R->pred[((size_t)r * 3 + v) * n + j] = s->pred[v][j];
        devmap_metrics(d, id->plat, s->pred[v], R->metric + ((size_t)r * 3 + v) * R->n_metrics);
    }
    memcpy(R->fold + (size_t)r * n, s->fold, (size_t)n * sizeof *s->fold);
    for (int f = 0; f < R->max_k; f++) R->chosen[(size_t)r * R->max_k + f] = f < k ? s->chosen[f] + 1 : 0;
    return rc;
}

/* The frozen feature sets' runs, shared out over the ranks (run r on rank r mod size), then summed over the ranks
 * (every run was done by exactly one rank, the others hold zeros); fits and predictions counted into R->tot after
 * --finetune. Collective. */
static int run_frozen(const devmap_inputs *in, results *R, mir_error *err) {
    const mir_devmap *d = &in->d;
    const int n = d->n;
    feature_src F = {d, R->D, in->emb, in->rnd, in->opc, in->Dv, in->vs};
    int max_dim = fs_dim(FS_BOTH, R->D); /* the widest feature set */
    if (in->Dv + 2 > max_dim) max_dim = in->Dv + 2;
    run_scratch s = {mir_malloc((size_t)n * max_dim * sizeof *s.X), mir_malloc((size_t)n * sizeof *s.fold), {NULL},
                     mir_malloc((size_t)R->max_k * sizeof *s.chosen), {0}, {0}};
    for (int v = 0; v < 3; v++) s.pred[v] = mir_malloc((size_t)n * sizeof **s.pred);
    double t_runs = mir_wall_seconds(), next_log = t_runs + 30;
    int rc = 0;
    for (int r = in->rank; r < R->n_runs && !rc; r += in->size) {
        const run_id *id = &R->runs[r];
        if (id->fs == FS_FT_PRE || id->fs == FS_FT_RND) continue; /* run_finetune's */
        rc = run_one(in, &F, R, r, &s, err);
        if (in->rank == 0 && !in->o->quiet && mir_wall_seconds() > next_log) {
            mir_log(MIR_LOG_INFO, "devmap: run %d of %d (%s, %s, %s, seed %d), %.0f s", r + 1, R->n_runs, fs_name[id->fs],
                    proto_name[id->proto], mir_devmap_platform_name[id->plat], id->seed, mir_wall_seconds() - t_runs);
            next_log = mir_wall_seconds() + 30;
        }
    }
    for (int v = 0; v < 3; v++) free(s.pred[v]);
    free(s.chosen); free(s.fold); free(s.X);
    if ((rc = mir_mpi_agree(in->comm, rc, err))) return rc;
    MPI_Allreduce(MPI_IN_PLACE, R->pred, (int)((size_t)R->n_runs * 3 * n), MPI_INT, MPI_SUM, in->comm);
    MPI_Allreduce(MPI_IN_PLACE, R->fold, (int)((size_t)R->n_runs * n), MPI_INT, MPI_SUM, in->comm);
    MPI_Allreduce(MPI_IN_PLACE, R->chosen, (int)((size_t)R->n_runs * R->max_k), MPI_INT, MPI_SUM, in->comm);
    MPI_Allreduce(MPI_IN_PLACE, R->metric, (int)((size_t)R->n_runs * 3 * R->n_metrics), MPI_DOUBLE, MPI_SUM, in->comm);
    for (size_t i = 0; i < (size_t)R->n_runs * R->max_k; i++) R->chosen[i] -= 1;
    memcpy(R->tot, s.n_fits, sizeof s.n_fits);
    memcpy(R->tot + 2, s.n_pred_rows, sizeof s.n_pred_rows);
    return 0;
}

/* The oracle's speedups: per platform the mean and geometric mean over rows of the best device. */
static void compute_oracle(const mir_devmap *d, double oracle[4]) {
    const int n = d->n;
    for (int plat = 0; plat < 2; plat++) {
        double *sp = mir_malloc((size_t)n * sizeof *sp);
        for (int j = 0; j < n; j++)
            sp[j] = mir_devmap_speedup(d, plat, j, d->label[plat][j]);
        oracle[2 * plat] = mir_mean(sp, n);
        oracle[2 * plat + 1] = mir_geomean(sp, n);
        free(sp);
    }
}

/* Rank 0 writes the outputs, every rank the cost section (collective); the headline into the log. */
static int report(const devmap_inputs *in, const results *R, mir_error *err) {
    const mir_devmap *d = &in->d;
    int rc = in->rank == 0 ? write_outputs(R, in->dir, err) : 0;
    if (mir_mpi_root_rc(in->comm, rc, err)) return rc;
    static const char *const item_names[PH_N] = {"kernel", "kernel", "kernel", "fit", "fit", "predicted row",
                                                 "predicted row"};
    const int64_t *tot = R->tot;
    double items[PH_N] = {(double)(d->n_kernels - R->emb_failed), in->o->ablations ? (double)d->n_kernels : 0,
                          (double)(d->n_kernels - R->opc_failed), (double)tot[0], (double)tot[1], (double)tot[2],
                          (double)tot[3]};
    mir_report_cost(in->dir, in->probe, in->comm, phase_names, PH_N, item_names, items,
                    "A fit trains one classifier on one training set (%lld fits of each classifier, inner cross-"
                    "validation included); a predicted row is one row's class probabilities from a fitted "
                    "classifier. Total wall time of the task: %.1f s on %d rank(s).\n", (long long)tot[0],
                    mir_wall_seconds() - R->t0, in->size);
    if (in->rank == 0 && !in->o->quiet)
        mir_log(MIR_LOG_INFO, "devmap: stratified accuracy AMD %.1f %% (opcodes %.1f), NVIDIA %.1f %% (opcodes %.1f); "
                "wrote %s/summary.md in %.0f s", sel_mean(R, FS_EMB, 0, P_STRAT, M_ACC),
                sel_mean(R, FS_OPC, 0, P_STRAT, M_ACC), sel_mean(R, FS_EMB, 1, P_STRAT, M_ACC),
                sel_mean(R, FS_OPC, 1, P_STRAT, M_ACC), in->dir, mir_wall_seconds() - R->t0);
    return 0;
}

int mir_analyze_devmap(const mir_analyze_options *o, MPI_Comm comm, mir_error *err) {
    devmap_inputs in = {.o = o, .comm = comm};
    results R = {.o = o, .t0 = mir_wall_seconds()};
    MPI_Comm_rank(comm, &in.rank);
    MPI_Comm_size(comm, &in.size);
    if (load_inputs(&in, err)) return -1;
    const mir_devmap *d = &in.d;
    R.d = d;
    R.D = (int)mir_embedding_dim(in.model);
    R.kernels_dir = in.kdir;
    R.cl = in.cl;
    R.model_hash = mir_model_hash(in.model);
    if (in.rank == 0 && !o->quiet)
        mir_log(MIR_LOG_INFO, "devmap: %d rows, %d kernel files, %d suites, %d benchmarks; model %s (%d floats)", d->n,
                d->n_kernels, d->n_suites, d->n_groups, o->model, R.D);
    in.probe = mir_probe_create("mir_analyze", phase_names, PH_N, NULL, 0, in.rank != 0 || o->quiet);
    int rc = compute_features(&in, &R, err);
    if (!rc) {
        plan_runs(o, &R);
        rc = run_frozen(&in, &R, err);
    }
    if (!rc && o->finetune) rc = run_finetune(o, d, in.model, in.ok, &R, comm, &R.fts, err);
    if (!rc) {
        MPI_Allreduce(MPI_IN_PLACE, R.tot, 4, MPI_INT64_T, MPI_SUM, comm);
        compute_oracle(d, R.oracle);
        rc = report(&in, &R, err);
    }
    if (!rc && (R.emb_failed || R.opc_failed || R.vs_failed || (in.cl && in.cl->n_failed))) {
        mir_fail(err, "devmap: %d kernel(s) not embedded, %d not counted, %d not embedded by --versus, %d not compiled: "
                 "their rows use zero features (summary.md)", R.emb_failed, R.opc_failed, R.vs_failed,
                 in.cl ? in.cl->n_failed : 0);
        rc = MIR_ANALYZE_INCOMPLETE;
    }
    results_free(&R);
    inputs_free(&in);
    return rc;
}
