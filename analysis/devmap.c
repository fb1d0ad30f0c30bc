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

typedef struct {
    const mir_devmap *d;
    run_id *runs;
    int n_runs, n_metrics, max_k;
    int *pred;      /* (n_runs, 3, n) */
    int *fold;      /* (n_runs, n) */
    int *chosen;    /* (n_runs, max_k): classifier per fold, -1 empty */
    double *metric; /* (n_runs, 3, n_metrics) */
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

static char versus_hash[64]; /* model hash of --versus, for summary.json */

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

static void pm(FILE *f, double mean, double sd, int n, const char *fmt) {
    if (isnan(mean)) { fprintf(f, " — |"); return; }
    fprintf(f, " ");
    fprintf(f, fmt, mean);
    if (n > 1) { fprintf(f, " ± "); fprintf(f, fmt, sd); }
    fprintf(f, " |");
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int write_outputs(const mir_analyze_options *o, const char *dir, const results *R, const int *fs_on,
                         const double *oracle, int emb_failed, int opc_failed, const char *kernels_dir,
                         const mir_devmap_cl *cl, const char *model_hash, int D, double seconds,
                         const mir_ft_summary *fts, mir_error *err) {
    const mir_devmap *d = R->d;
    const int n = d->n, S = d->n_suites;
    char path[4096];
    /* predictions.csv: per row, for each feature set and protocol: the first seed's run, and how many
     * seeds predicted GPU */
    snprintf(path, sizeof path, "%s/predictions.csv", dir);
    FILE *f = fopen(path, "w");
    if (!f) return mir_fail(err, "%s: cannot write", path);
    fprintf(f, "platform,protocol,features,row,benchmark,dataset,suite,kernel,oracle,runtime_cpu,runtime_gpu,"
               "fold,classifier,predicted,speedup,gpu_votes,seeds\n");
    for (int fs = 0; fs < FS_N; fs++) {
        if (!fs_on[fs]) continue;
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
    if (fclose(f)) return mir_fail(err, "%s: write error", path);

    /* metrics.csv: every aggregate */
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    f = fopen(path, "w");
    if (!f) return mir_fail(err, "%s: cannot write", path);
    fprintf(f, "features,protocol,platform,classifier,metric,mean,sd,seeds\n");
    for (int fs = 0; fs < FS_N; fs++) {
        if (!fs_on[fs]) continue;
        for (int pr = 0; pr < P_N; pr++)
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++)
                for (int v = 0; v <= MIR_CLF_N; v++)
                    for (int m = 0; m < R->n_metrics; m++) {
                        double mean, sd;
                        int ns = agg(R, fs, plat, pr, v, m, &mean, &sd);
                        char mname[300];
                        if (m == M_ACC) snprintf(mname, sizeof mname, "accuracy");
                        else if (m == M_F1) snprintf(mname, sizeof mname, "f1_macro");
                        else if (m == M_SPM) snprintf(mname, sizeof mname, "speedup_mean");
                        else if (m == M_SPG) snprintf(mname, sizeof mname, "speedup_geomean");
                        else if (m < M_FIXED + S) snprintf(mname, sizeof mname, "accuracy[%s]", d->suite_name[m - M_FIXED]);
                        else snprintf(mname, sizeof mname, "speedup_mean[%s]", d->suite_name[m - M_FIXED - S]);
                        fprintf(f, "%s,%s,%s,%s,%s,%.6g,%.6g,%d\n", fs_name[fs], proto_name[pr],
                                mir_devmap_platform_name[plat], variant_name[v], mname, mean, sd, ns);
                    }
    }
    if (fclose(f)) return mir_fail(err, "%s: write error", path);

    /* summary.json: the shape */
    snprintf(path, sizeof path, "%s/summary.json", dir);
    f = fopen(path, "w");
    if (!f) return mir_fail(err, "%s: cannot write", path);
    fprintf(f, "{\n");
    for (int b = 0; b < 2; b++) {
        int fs = b ? FS_OPC : FS_EMB;
        const char *ind = b ? "    " : "  ";
        if (b) fprintf(f, ",\n  \"baseline\": {\n");
        for (int pr = 0; pr < P_N; pr++) {
            fprintf(f, "%s\"%s\": {", ind, proto_name[pr]);
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                double acc, sp, sd;
                agg(R, fs, plat, pr, MIR_CLF_N, M_ACC, &acc, &sd);
                agg(R, fs, plat, pr, MIR_CLF_N, M_SPM, &sp, &sd);
                fprintf(f, "%s\"%s\": {\"accuracy\": ", plat ? ", " : "", mir_devmap_platform_name[plat]);
                mir_json_number(f, acc);
                fprintf(f, ", \"speedup\": ");
                mir_json_number(f, sp);
                fprintf(f, "}");
            }
            fprintf(f, "}%s", pr + 1 < P_N ? ",\n" : "");
        }
        if (b) fprintf(f, "\n  }");
    }
    if (fs_on[FS_VERSUS]) {
        fprintf(f, ",\n  \"versus\": {\"model\": \"%s\", \"hash\": \"%s\"", o->versus, versus_hash);
        for (int pr = 0; pr < P_N; pr++) {
            fprintf(f, ", \"%s\": {", proto_name[pr]);
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                double acc, sd;
                agg(R, FS_VERSUS, plat, pr, MIR_CLF_N, M_ACC, &acc, &sd);
                fprintf(f, "%s\"%s\": {\"accuracy\": ", plat ? ", " : "", mir_devmap_platform_name[plat]);
                mir_json_number(f, acc);
                fprintf(f, "}");
            }
            fprintf(f, "}");
        }
        fprintf(f, "}");
    }
    if (fts) {
        fprintf(f, ",\n  \"finetune\": {");
        for (int b = 0; b < 2; b++) {
            fprintf(f, "%s\"%s\": {", b ? ", " : "", b ? "random" : "pretrained");
            for (int pr = 0; pr < P_N; pr++) {
                fprintf(f, "%s\"%s\": {", pr ? ", " : "", proto_name[pr]);
                for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                    double acc, sd;
                    agg(R, b ? FS_FT_RND : FS_FT_PRE, plat, pr, MIR_CLF_N, M_ACC, &acc, &sd);
                    fprintf(f, "%s\"%s\": {\"accuracy\": ", plat ? ", " : "", mir_devmap_platform_name[plat]);
                    mir_json_number(f, acc);
                    fprintf(f, "}");
                }
                fprintf(f, "}");
            }
            fprintf(f, "}");
        }
        fprintf(f, ", \"epochs\": %d, \"window\": %d, \"max_nodes\": %d, \"train_loss\": {", fts->epochs, fts->window,
                fts->max_nodes);
        for (int b = 0; b < 2; b++) {
            fprintf(f, "%s\"%s\": {\"heads_first_epoch\": ", b ? ", " : "", b ? "random" : "pretrained");
            mir_json_number(f, fts->head_loss[b][0]);
            fprintf(f, ", \"heads_last_epoch\": ");
            mir_json_number(f, fts->head_loss[b][1]);
            fprintf(f, ", \"first_epoch\": ");
            mir_json_number(f, fts->loss_first[b]);
            fprintf(f, ", \"last_epoch\": ");
            mir_json_number(f, fts->loss_last[b]);
            fprintf(f, "}");
        }
        fprintf(f, "}}");
    }
    fprintf(f, ",\n  \"paired\": {");
    int first = 1;
    for (int c = 0; c < N_PAIRS; c++) {
        if (!fs_on[pairs[c].a] || !fs_on[pairs[c].b]) continue;
        for (int pr = 0; pr < P_N; pr++)
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                mir_paired p;
                char name[160];
                paired_acc(R, pairs[c].a, pairs[c].b, plat, pr, &p);
                snprintf(name, sizeof name, "%s.%s.%s", pairs[c].name, proto_name[pr], mir_devmap_platform_name[plat]);
                fprintf(f, "%s\n    ", first ? "" : ",");
                mir_paired_json(f, name, &p, 1);
                first = 0;
            }
    }
    fprintf(f, "\n  }\n}\n");
    if (fclose(f)) return mir_fail(err, "%s: write error", path);

    /* plots */
    static const int plot_fs[] = {FS_EMB, FS_OPC, FS_RANDOM, FS_AUX};
    for (int which = 0; which < 2; which++) {
        snprintf(path, sizeof path, "%s/%s.dat", dir, which ? "speedup" : "accuracy");
        f = fopen(path, "w");
        if (!f) return mir_fail(err, "%s: cannot write", path);
        for (int pr = 0; pr < P_N; pr++)
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                fprintf(f, "\"%s %s\"", proto_name[pr], mir_devmap_platform_name[plat]);
                for (size_t q = 0; q < sizeof plot_fs / sizeof *plot_fs; q++) {
                    double mean = NAN, sd = 0;
                    if (fs_on[plot_fs[q]]) agg(R, plot_fs[q], plat, pr, MIR_CLF_N, which ? M_SPM : M_ACC, &mean, &sd);
                    fprintf(f, " %.6g %.6g", isnan(mean) ? 0.0 : mean, sd);
                }
                fprintf(f, "\n");
            }
        fclose(f);
        snprintf(path, sizeof path, "%s/%s.gp", dir, which ? "speedup" : "accuracy");
        f = fopen(path, "w");
        if (!f) return mir_fail(err, "%s: cannot write", path);
        fprintf(f, "set terminal pngcairo size 1100,520 font 'sans,10'\nset output '%s.png'\n", which ? "speedup" : "accuracy");
        fprintf(f, "set title 'Device mapping: %s (mean and deviation over seeds; classifier picked by inner CV)'\n",
                which ? "speedup over static mapping, arithmetic mean over rows" : "accuracy");
        fprintf(f, "set style data histogram\nset style histogram errorbars gap 1 lw 1\nset style fill solid 0.85 border -1\n"
                   "set key below\nset grid ytics\nset xtics nomirror\n");
        if (which) fprintf(f, "set ylabel 'speedup over static mapping'\nset yrange [0:*]\n");
        else fprintf(f, "set ylabel 'accuracy (%%)'\nset yrange [0:100]\n");
        fprintf(f, "plot ");
        int first = 1;
        for (size_t q = 0; q < sizeof plot_fs / sizeof *plot_fs; q++) {
            if (!fs_on[plot_fs[q]]) continue;
            fprintf(f, "%s'%s.dat' using %zu:%zu%s title \"%s\"", first ? "" : ", ", which ? "speedup" : "accuracy",
                    2 + 2 * q, 3 + 2 * q, first ? ":xtic(1)" : "", fs_label[plot_fs[q]]);
            first = 0;
        }
        fprintf(f, "\n");
        fclose(f);
        snprintf(path, sizeof path, "%s.gp", which ? "speedup" : "accuracy");
        mir_run_gnuplot(dir, path);
    }

    /* summary.md (the cost section is appended by the caller: it is collective) */
    snprintf(path, sizeof path, "%s/summary.md", dir);
    f = fopen(path, "w");
    if (!f) return mir_fail(err, "%s: cannot write", path);
    char machine[512];
    mir_machine_string(machine, sizeof machine);
    fprintf(f, "# Device mapping: MIREncoder embeddings against the opcode-count baseline\n\n");
    if (o->command_line) fprintf(f, "Command: `%s`  \n", o->command_line);
    fprintf(f, "Model: `%s` (hash %s, embedding %d floats). Data: `%s/devmap` (%d rows per platform, %d kernel files"
               " in `%s`, %d suites). Seeds: %d (ablations: %d), base seed %llu. Machine: %s. Time: %.0f s.\n\n",
            o->model, model_hash, D, o->data_dir, n, d->n_kernels, kernels_dir, S, o->n_seeds,
            o->ablations ? o->ablation_seeds : 0, (unsigned long long)o->seed, machine, seconds);
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
    if (emb_failed || opc_failed)
        fprintf(f, "**%d kernel file(s) could not be embedded and %d not counted**: their rows use zero features "
                   "(see the log).\n\n", emb_failed, opc_failed);
    fprintf(f, "Features: the kernel's features plus log2(1 + transfer) and log2(1 + wgsize) of the row. "
               "Classifiers: XGBoost (gradient-boosted trees) and an MLP on the project's layers; in every outer fold "
               "the one with the better inner 3-fold cross-validation accuracy on the training rows is used "
               "(\"selected\"). Figures are the mean ± sample deviation over the seeds. Speedup: runtime of the "
               "static mapping (CPU on AMD, GPU on NVIDIA) over the runtime of the predicted device, arithmetic "
               "mean over rows (geometric mean beside it). F1: macro average over the two classes.\n\n");
    for (int pr = 0; pr < P_N; pr++) {
        fprintf(f, "## %s: %s\n\n", proto_name[pr], proto_label[pr]);
        fprintf(f, "| features | AMD accuracy %% | AMD F1 %% | AMD speedup | AMD geo. speedup | NVIDIA accuracy %% | "
                   "NVIDIA F1 %% | NVIDIA speedup | NVIDIA geo. speedup |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int fs = 0; fs < FS_N; fs++) {
            if (!fs_on[fs]) continue;
            fprintf(f, "| %s%s%s |", fs <= FS_OPC ? "**" : "", fs_label[fs], fs <= FS_OPC ? "**" : "");
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                double mean, sd;
                int ns = agg(R, fs, plat, pr, MIR_CLF_N, M_ACC, &mean, &sd);
                pm(f, mean, sd, ns, "%.1f");
                ns = agg(R, fs, plat, pr, MIR_CLF_N, M_F1, &mean, &sd);
                pm(f, mean, sd, ns, "%.1f");
                ns = agg(R, fs, plat, pr, MIR_CLF_N, M_SPM, &mean, &sd);
                pm(f, mean, sd, ns, "%.3f");
                ns = agg(R, fs, plat, pr, MIR_CLF_N, M_SPG, &mean, &sd);
                pm(f, mean, sd, ns, "%.3f");
            }
            fprintf(f, "\n");
        }
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
    fprintf(f, "## Classifiers: XGBoost, MLP and the one picked by inner cross-validation (accuracy %%)\n\n");
    fprintf(f, "| features | protocol | AMD xgboost | AMD mlp | AMD selected | AMD folds picking xgboost | NVIDIA xgboost | "
               "NVIDIA mlp | NVIDIA selected | NVIDIA folds picking xgboost |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int fs = 0; fs < FS_N; fs++) {
        if (!fs_on[fs] || fs == FS_FT_PRE || fs == FS_FT_RND) continue; /* no classifier to pick */
        for (int pr = 0; pr < P_N; pr++) {
            fprintf(f, "| %s | %s |", fs_name[fs], proto_name[pr]);
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                for (int v = 0; v <= MIR_CLF_N; v++) {
                    double mean, sd;
                    int ns = agg(R, fs, plat, pr, v, M_ACC, &mean, &sd);
                    pm(f, mean, sd, ns, "%.1f");
                }
                fprintf(f, " %.0f %% |", xgb_share(R, fs, plat, pr));
            }
            fprintf(f, "\n");
        }
    }
    if (fts) {
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
        fprintf(f, "| start | protocol | AMD accuracy %% | NVIDIA accuracy %% | frozen AMD | frozen NVIDIA |\n"
                   "|---|---|---:|---:|---:|---:|\n");
        for (int b = 0; b < 2; b++)
            for (int pr = 0; pr < P_N; pr++) {
                fprintf(f, "| %s | %s |", b ? "random weights" : "pre-trained", proto_name[pr]);
                for (int q = 0; q < 2; q++)
                    for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                        double mean, sd;
                        int fs = q ? (b ? FS_RANDOM : FS_EMB) : (b ? FS_FT_RND : FS_FT_PRE);
                        int ns = fs_on[fs] ? agg(R, fs, plat, pr, MIR_CLF_N, M_ACC, &mean, &sd) : 0;
                        if (!ns) mean = NAN;
                        pm(f, mean, sd, ns, "%.1f");
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
    fprintf(f, "\n## Paired verdicts\n\nSelected classifier's accuracy, A against B on the same folds and seeds: the "
               "mean difference in points with its 95 %% interval, a cluster-robust paired t interval over the "
               "benchmarks (each benchmark's rows, averaged over the seeds both ran, are one unit weighted by its rows: "
               "a benchmark's input sizes are not independent tests). The verdict is read from the interval: "
               "\"better\" when it lies above 0, \"worse\" below, else \"no measurable difference\".\n\n");
    for (int c = 0; c < N_PAIRS; c++) {
        if (!fs_on[pairs[c].a] || !fs_on[pairs[c].b]) continue;
        fprintf(f, "**%s** (%s against %s):\n\n", pairs[c].name, fs_label[pairs[c].a], fs_label[pairs[c].b]);
        for (int pr = 0; pr < P_N; pr++)
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                mir_paired p;
                int ns = paired_acc(R, pairs[c].a, pairs[c].b, plat, pr, &p);
                double ma, mb, sd;
                agg(R, pairs[c].a, plat, pr, MIR_CLF_N, M_ACC, &ma, &sd);
                agg(R, pairs[c].b, plat, pr, MIR_CLF_N, M_ACC, &mb, &sd);
                fprintf(f, "- %s, %s: %.1f against %.1f %%, difference %+.2f points [%+.2f, %+.2f] (%d benchmarks, %d "
                           "seeds): **%s**\n", proto_name[pr], mir_devmap_platform_name[plat], ma, mb, p.diff, p.lo,
                        p.hi, p.n, ns, p.verdict);
            }
        fprintf(f, "\n");
    }
    for (int pr = 0; pr < P_N; pr++) {
        fprintf(f, "\n## Per suite, %s (selected classifier; accuracy %% and mean speedup)\n\n", proto_name[pr]);
        fprintf(f, "| suite | rows | AMD MIREncoder | AMD opcodes | AMD speedup MIREncoder | AMD speedup opcodes | "
                   "NVIDIA MIREncoder | NVIDIA opcodes | NVIDIA speedup MIREncoder | NVIDIA speedup opcodes |\n"
                   "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int s = 0; s < S; s++) {
            int rows = 0;
            for (int j = 0; j < n; j++) rows += d->suite[j] == s;
            fprintf(f, "| %s | %d |", d->suite_name[s], rows);
            for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) {
                double mean, sd;
                int ns;
                ns = agg(R, FS_EMB, plat, pr, MIR_CLF_N, M_FIXED + s, &mean, &sd); pm(f, mean, sd, ns, "%.1f");
                ns = agg(R, FS_OPC, plat, pr, MIR_CLF_N, M_FIXED + s, &mean, &sd); pm(f, mean, sd, ns, "%.1f");
                ns = agg(R, FS_EMB, plat, pr, MIR_CLF_N, M_FIXED + S + s, &mean, &sd); pm(f, mean, sd, ns, "%.3f");
                ns = agg(R, FS_OPC, plat, pr, MIR_CLF_N, M_FIXED + S + s, &mean, &sd); pm(f, mean, sd, ns, "%.3f");
            }
            fprintf(f, "\n");
        }
    }
    fprintf(f, "\nPlots: [accuracy.png](accuracy.png), [speedup.png](speedup.png). Per-row predictions: predictions.csv "
               "(first seed; gpu_votes = seeds that predicted GPU). Every aggregate: metrics.csv.\n");
    if (fclose(f)) return mir_fail(err, "%s: write error", path);
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */

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

int mir_analyze_devmap(const mir_analyze_options *o, MPI_Comm comm, mir_error *err) {
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    double t0 = mir_wall_seconds();
    char dir[4096], kdir[4096];
    if (mir_task_dir(o, "devmap", comm, dir, sizeof dir, err)) return -1;
    int rc = 0;
    mir_devmap d;
    mir_devmap_cl cl_store, *cl = NULL;
    if (o->kernels_cl) {
        /* the rows first, then their kernels compiled from the OpenCL sources (devmap_cl.h) */
        if (mir_devmap_load(&d, o->data_dir, NULL, o->limit, err)) return -1;
        cl = &cl_store;
        if (mir_devmap_cl_kernels(&d, o, comm, cl, err)) { mir_devmap_free(&d); return -1; }
        snprintf(kdir, sizeof kdir, "%s", cl->cache_dir);
    } else {
        if (mir_kernels_dir(o, "devmap", "task_devmap", "kernels_ir", comm, kdir, sizeof kdir, err)) return -1;
        if (mir_devmap_load(&d, o->data_dir, kdir, o->limit, err)) return -1;
    }
    mir_model *model = mir_analyze_model_load(o, o->model, err);
    if (!model) {
        if (cl) mir_devmap_cl_free(cl);
        mir_devmap_free(&d);
        return -1;
    }
    const int D = (int)mir_embedding_dim(model), n = d.n;
    if (rank == 0 && !o->quiet)
        mir_log(MIR_LOG_INFO, "devmap: %d rows, %d kernel files, %d suites, %d benchmarks; model %s (%d floats)", n,
                d.n_kernels, d.n_suites, d.n_groups, o->model, D);
    mir_probe *probe = mir_probe_create("mir_analyze", phase_names, PH_N, NULL, 0, rank != 0 || o->quiet);

    /* features of every kernel file */
    float *emb = mir_malloc((size_t)d.n_kernels * D * sizeof *emb), *rnd = NULL, *vs = NULL;
    int Dv = 0; /* the --versus model's embedding length */
    int vs_failed = 0;
    double *opc = mir_malloc((size_t)d.n_kernels * MIR_N_OPCODES * sizeof *opc);
    uint8_t *ok = mir_malloc((size_t)d.n_kernels);
    int opc_failed = mir_opcode_counts_mpi(d.kernel_file, d.n_kernels, opc, ok, comm, probe, PH_OPCODES);
    int emb_failed = mir_embed_files_mpi(model, d.kernel_file, d.n_kernels, emb, ok, comm, probe, PH_EMBED);
    if (rank == 0 && !o->quiet)
        mir_log(MIR_LOG_INFO, "devmap: features of %d kernels (%d failed to embed) in %.1f s", d.n_kernels, emb_failed,
                mir_wall_seconds() - t0);
    if (o->ablations) {
        char rpath[4200];
        snprintf(rpath, sizeof rpath, "%s/random-weights.h5", dir);
        rc = rank == 0 ? mir_model_file_write_random(mir_model_config(model), mir_model_vocab(model), rpath, o->seed,
                                                     err)
                       : 0;
        MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
        mir_model *rm = NULL;
        if (!rc) rm = mir_analyze_model_load(o, rpath, err);
        if (mir_mpi_agree(comm, rm == NULL, err)) {
            mir_fail(err, "%s: cannot write or read the random-weight model", rpath);
            mir_model_free(rm);
            rc = -1;
            goto out_features;
        }
        rnd = mir_malloc((size_t)d.n_kernels * D * sizeof *rnd);
        mir_embed_files_mpi(rm, d.kernel_file, d.n_kernels, rnd, ok, comm, probe, PH_EMBED_RANDOM);
        mir_model_free(rm);
    }
    if (o->versus) {
        mir_model *vm = mir_analyze_model_load(o, o->versus, err);
        if (mir_mpi_agree(comm, vm == NULL, err)) {
            mir_model_free(vm);
            rc = -1;
            goto out_features;
        }
        Dv = (int)mir_embedding_dim(vm);
        vs = mir_malloc((size_t)d.n_kernels * Dv * sizeof *vs);
        vs_failed = mir_embed_files_mpi(vm, d.kernel_file, d.n_kernels, vs, ok, comm, probe, PH_EMBED_RANDOM);
        snprintf(versus_hash, sizeof versus_hash, "%s", mir_model_hash(vm));
        mir_model_free(vm);
    }
    const char *model_hash = mir_model_hash(model);

    /* the runs */
    int fs_on[FS_N] = {1, 1, o->ablations, o->ablations, o->ablations, o->ablations, o->ablations, o->ablations,
                       o->versus != NULL, o->finetune, o->finetune};
    results R = {0};
    R.d = &d;
    R.max_k = d.n_suites > 10 ? d.n_suites : 10;
    R.n_metrics = M_FIXED + 2 * d.n_suites;
    R.runs = mir_malloc(sizeof *R.runs * FS_N * MIR_DEVMAP_N_PLATFORMS * P_N * (size_t)(o->n_seeds > o->ablation_seeds ? o->n_seeds : o->ablation_seeds));
    for (int fs = 0; fs < FS_N; fs++) {
        if (!fs_on[fs]) continue;
        int ns = fs_seeds(o, fs);
        for (int s = 0; s < ns; s++)
            for (int pr = 0; pr < P_N; pr++)
                for (int plat = 0; plat < MIR_DEVMAP_N_PLATFORMS; plat++) R.runs[R.n_runs++] = (run_id){fs, plat, pr, s};
    }
    R.pred = mir_calloc((size_t)R.n_runs * 3 * n, sizeof *R.pred);
    R.fold = mir_calloc((size_t)R.n_runs * n, sizeof *R.fold);
    R.chosen = mir_calloc((size_t)R.n_runs * R.max_k, sizeof *R.chosen);
    R.metric = mir_calloc((size_t)R.n_runs * 3 * R.n_metrics, sizeof *R.metric);
    feature_src F = {&d, D, emb, rnd, opc, Dv, vs};
    int max_dim = fs_dim(FS_BOTH, D); /* the widest feature set */
    if (Dv + 2 > max_dim) max_dim = Dv + 2;
    float *X = mir_malloc((size_t)n * max_dim * sizeof *X);
    int *fold = mir_malloc((size_t)n * sizeof *fold);
    int *pred[3];
    for (int v = 0; v < 3; v++) pred[v] = mir_malloc((size_t)n * sizeof **pred);
    int *chosen = mir_malloc((size_t)R.max_k * sizeof *chosen);
    int64_t n_fits[MIR_CLF_N] = {0}, n_pred_rows[MIR_CLF_N] = {0};
    double t_runs = mir_wall_seconds(), next_log = t_runs + 30;
    rc = 0;
    for (int r = rank; r < R.n_runs && !rc; r += size) {
        const run_id *id = &R.runs[r];
        if (id->fs == FS_FT_PRE || id->fs == FS_FT_RND) continue; /* run_finetune's */
        build_features(&F, id->fs, id->plat, X);
        mir_cv_task t = {n, fs_dim_of(&F, id->fs), 2, X, d.label[id->plat], d.group, NULL, score_accuracy,
                         d.label[id->plat], MIR_INNER_GROUPED, 3, &o->clf, probe, PH_FIT, PH_PREDICT};
        int k = outer_folds(o, &d, id->plat, id->proto, id->seed, fold);
        if (id->proto == P_STRAT) t.inner = MIR_INNER_STRATIFIED;
        uint64_t cv_seed = mir_seed_mix(mir_seed_mix(o->seed, (uint64_t)id->seed), (uint64_t)(id->proto * 2 + id->plat));
        rc = mir_cv_run(&t, fold, k, cv_seed, pred, chosen, n_fits, n_pred_rows, err);
        for (int v = 0; v < 3; v++) {
            for (int j = 0; j < n; j++) R.pred[((size_t)r * 3 + v) * n + j] = pred[v][j];
            devmap_metrics(&d, id->plat, pred[v], R.metric + ((size_t)r * 3 + v) * R.n_metrics);
        }
        memcpy(R.fold + (size_t)r * n, fold, (size_t)n * sizeof *fold);
        for (int f = 0; f < R.max_k; f++) R.chosen[(size_t)r * R.max_k + f] = f < k ? chosen[f] + 1 : 0;
        if (rank == 0 && !o->quiet && mir_wall_seconds() > next_log) {
            mir_log(MIR_LOG_INFO, "devmap: run %d of %d (%s, %s, %s, seed %d), %.0f s", r + 1, R.n_runs, fs_name[id->fs],
                    proto_name[id->proto], mir_devmap_platform_name[id->plat], id->seed, mir_wall_seconds() - t_runs);
            next_log = mir_wall_seconds() + 30;
        }
    }
    if ((rc = mir_mpi_agree(comm, rc, err))) goto out_runs;
    /* gather: every run was done by exactly one rank, the others hold zeros */
    MPI_Allreduce(MPI_IN_PLACE, R.pred, (int)((size_t)R.n_runs * 3 * n), MPI_INT, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, R.fold, (int)((size_t)R.n_runs * n), MPI_INT, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, R.chosen, (int)((size_t)R.n_runs * R.max_k), MPI_INT, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, R.metric, (int)((size_t)R.n_runs * 3 * R.n_metrics), MPI_DOUBLE, MPI_SUM, comm);
    for (size_t i = 0; i < (size_t)R.n_runs * R.max_k; i++) R.chosen[i] -= 1;
    mir_ft_summary fts = {0};
    if (o->finetune && (rc = run_finetune(o, &d, model, ok, &R, comm, &fts, err))) goto out_runs;
    int64_t tot[4] = {n_fits[0], n_fits[1], n_pred_rows[0], n_pred_rows[1]};
    MPI_Allreduce(MPI_IN_PLACE, tot, 4, MPI_INT64_T, MPI_SUM, comm);
    double items[PH_N] = {(double)(d.n_kernels - emb_failed), o->ablations ? (double)d.n_kernels : 0,
                          (double)(d.n_kernels - opc_failed), (double)tot[0], (double)tot[1], (double)tot[2],
                          (double)tot[3]};
    static const char *const item_names[PH_N] = {"kernel", "kernel", "kernel", "fit", "fit", "predicted row",
                                                 "predicted row"};
    if (rank == 0) {
        double oracle[4];
        for (int plat = 0; plat < 2; plat++) {
            double *sp = mir_malloc((size_t)n * sizeof *sp);
            for (int j = 0; j < n; j++)
                sp[j] = mir_devmap_speedup(&d, plat, j, d.label[plat][j]);
            oracle[2 * plat] = mir_mean(sp, n);
            oracle[2 * plat + 1] = mir_geomean(sp, n);
            free(sp);
        }
        rc = write_outputs(o, dir, &R, fs_on, oracle, emb_failed, opc_failed, kdir, cl, model_hash, D,
                           mir_wall_seconds() - t0, o->finetune ? &fts : NULL, err);
    }
    MPI_Bcast(&rc, 1, MPI_INT, 0, comm);
    if (rc) {
        MPI_Bcast(err->msg, sizeof err->msg, MPI_CHAR, 0, comm);
        goto out_runs;
    }
    {
        FILE *f = NULL;
        char path[4200];
        snprintf(path, sizeof path, "%s/summary.md", dir);
        if (rank == 0) {
            f = fopen(path, "a");
            if (f) fprintf(f, "\n## Cost (PAPI probe, common/probe.h)\n\n");
        }
        mir_probe_markdown(probe, comm, f, phase_names, PH_N, item_names, items);
        if (f) {
            fprintf(f, "A fit trains one classifier on one training set (%lld fits of each classifier, inner cross-"
                       "validation included); a predicted row is one row's class probabilities from a fitted "
                       "classifier. Total wall time of the task: %.1f s on %d rank(s).\n", (long long)tot[0],
                    mir_wall_seconds() - t0, size);
            fclose(f);
        }
        if (rank == 0 && !o->quiet) {
            double acc[2][2], sd;
            for (int b = 0; b < 2; b++)
                for (int plat = 0; plat < 2; plat++)
                    agg(&R, b ? FS_OPC : FS_EMB, plat, P_STRAT, MIR_CLF_N, M_ACC, &acc[b][plat], &sd);
            mir_log(MIR_LOG_INFO, "devmap: stratified accuracy AMD %.1f %% (opcodes %.1f), NVIDIA %.1f %% (opcodes %.1f); "
                    "wrote %s/summary.md in %.0f s", acc[0][0], acc[1][0], acc[0][1], acc[1][1], dir, mir_wall_seconds() - t0);
        }
    }
    if (!rc && (emb_failed || opc_failed || vs_failed || (cl && cl->n_failed))) {
        mir_fail(err, "devmap: %d kernel(s) not embedded, %d not counted, %d not embedded by --versus, %d not compiled: "
                 "their rows use zero features (summary.md)", emb_failed, opc_failed, vs_failed, cl ? cl->n_failed : 0);
        rc = MIR_ANALYZE_INCOMPLETE;
    }
out_runs:
    free(chosen);
    for (int v = 0; v < 3; v++) free(pred[v]);
    free(fold); free(X);
    free(R.runs); free(R.pred); free(R.fold); free(R.chosen); free(R.metric);
out_features:
    free(ok); free(opc); free(emb); free(rnd); free(vs);
    mir_probe_free(probe);
    mir_model_free(model);
    if (cl) mir_devmap_cl_free(cl);
    mir_devmap_free(&d);
    return rc;
}
