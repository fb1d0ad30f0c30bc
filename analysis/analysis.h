/*
 * analysis.h: mir-analyze's library. Each task is one collective call over an MPI communicator: the
 * kernels' features are computed once (shared out over the ranks), the evaluation runs (protocol,
 * platform or GPU, feature set, seed) are shared out too, and rank 0 writes OUT/TASK/: predictions.csv,
 * summary.md, summary.json, metrics.csv and the PNG plots (docs/analysis.md). Results do not depend on
 * the number of ranks: every run draws its randomness from --seed and its own indices only.
 */
#ifndef MIR_ANALYSIS_H
#define MIR_ANALYSIS_H
#include <mpi.h>
#include <stdint.h>

#include "classifier.h"
#include "mir/mir.h"
#include "mir_common.h"

typedef struct mir_analyze_options {
    const char *model;        /* model.h5 (required) */
    const char *data_dir;     /* raw data sets (devmap/, thread_coarsening/) */
    const char *out_dir;      /* OUT: results go to OUT/TASK/ */
    const char *kernels_dir;  /* IR of the kernels; NULL: OUT/data/... (scripts/prepare-data's layout), else
                                 the data set's zip unpacked there */
    uint64_t seed;
    int n_seeds;              /* repetitions of the randomised protocols (10) */
    int ablation_seeds;       /* repetitions for the ablation feature sets (3) */
    int ablations;            /* 1: token-only, graph-only, random-weight and aux-only feature sets too */
    const char *versus;       /* devmap: a second model (e.g. today's default), embedded and compared on the same
                                 folds and seeds as --model, with paired verdicts; NULL: none */
    int limit;                /* devmap: keep this many rows, spread evenly (0: all) */
    int kernels_cl;           /* devmap: 1 kernel IR compiled from the OpenCL sources by clang 16 (devmap_cl.h;
                                 kernels_dir then names the sources), 0 the data set's kernels_ir/ */
    int quiet;
    const char *command_line; /* recorded in summary.md */
    int embed_windows;        /* reading mode of the embeddings (mir.h mir_embed_options): 0 all windows; */
    int embed_max_nodes;      /* 0: whole graph; embed_windows = -1: the fast preset */
    int embed_window;         /* tokens per window; 0: the model's */
    int readout;              /* mir_embed_options.readout of --model (and of a model with a statistics head) */
    int finetune;             /* devmap, coarsen: 1 also fine-tune the encoder end to end (finetune.h), from the
                                 pre-trained and from random weights; finetune_epochs: their budget (0: the default) */
    int finetune_epochs;
    mir_clf_params clf;
} mir_analyze_options;

void mir_analyze_options_default(mir_analyze_options *o);

/* Collective. 0; MIR_ANALYZE_INCOMPLETE when every output was written but some kernels could not be read (not
 * compiled, not embedded or not counted: their rows use zero features, summary.md names them, err says how many);
 * or -1 with err filled on every rank. */
enum { MIR_ANALYZE_INCOMPLETE = 3 }; /* mir-analyze's exit status then, as mir-preprocess's for failed modules */
int mir_analyze_devmap(const mir_analyze_options *o, MPI_Comm comm, mir_error *err);
int mir_analyze_coarsen(const mir_analyze_options *o, MPI_Comm comm, mir_error *err);

/* ---- shared by the tasks (util.c) ---- */
/* After every rank ran its share of the evaluation runs (rc: its status): a failure anywhere becomes every
 * rank's error (the lowest failing rank's message, mir_mpi_agree); pred_all (n_runs * 3 * n: per run the 3 variants' predictions) and chosen_all (n_runs * n,
 * each rank's entries stored + 1 and 0 elsewhere) are summed over the ranks (chosen_all back to 0-based);
 * tot receives the summed fits and predictions {fits xgb, fits mlp, predictions xgb, predictions mlp}.
 * Collective. 0, or -1 with err filled. */
int mir_runs_combine(MPI_Comm comm, int rc, int *pred_all, int *chosen_all, int n_runs, int n, const int64_t *n_fits,
                     const int64_t *n_pred, int64_t tot[4], mir_error *err);
/* mir_model_load, then the reading mode of o (embed_windows, embed_max_nodes). */
mir_model *mir_analyze_model_load(const mir_analyze_options *o, const char *path, mir_error *err);
struct mir_probe;
/* mkdir -p */
int mir_mkdir_p(const char *path, mir_error *err);
/* OUT/TASK made by rank 0 and its path on every rank (dir, cap bytes); collective, the error everywhere. */
int mir_task_dir(const mir_analyze_options *o, const char *task, MPI_Comm comm, char *dir, size_t cap,
                 mir_error *err);
/* The kernels directory of a data set: o->kernels_dir if given, else OUT/data/SUB/STEM/FOLDER (kernels_ir,
 * kernels_cl) if it exists, else DATA/SUB/STEM.zip unpacked into OUT/data/SUB/STEM (rank 0, under a
 * temporary name then renamed; collective, the error on every rank). out: cap bytes. */
int mir_kernels_dir(const mir_analyze_options *o, const char *sub, const char *stem, const char *folder,
                    MPI_Comm comm, char *out, size_t cap, mir_error *err);
/* Run gnuplot on script (in dir). 0 ok; -1 when gnuplot is missing or fails (a warning is logged). */
int mir_run_gnuplot(const char *dir, const char *script);

/* ---- the regression predictors and the paired verdicts (regress.h, paired.h), shared by coarsen and vectorize ---- */
/* After every rank ran its share of the regression runs (rc: its status): a failure anywhere becomes every rank's
 * error (the lowest failing rank's message); choice (n_choice; each rank's entries stored + 2, 0 elsewhere) is summed over the ranks and shifted back,
 * margin (n_margin; 0 where not the rank's) and *fits summed. Collective. 0, or -1 with err. */
int mir_reg_runs_combine(MPI_Comm comm, int rc, int *choice, int n_choice, double *margin, int n_margin,
                         int64_t *fits, mir_error *err);

#endif
