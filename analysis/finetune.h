/*
 * finetune.h: fine-tuning the encoder end to end on device mapping (issue 15, item 2): `mir-analyze devmap
 * --finetune`; and on thread coarsening with a regression head (`coarsen --finetune`, MIR_FT_REGRESS and
 * mir_coarsen_finetune below: the same fold machinery, one head, squared error, choices per decision unit). The frozen embeddings (devmap.c) stay the default; this is the transfer learning the paper
 * argues for, run twice at the same budget: from the pre-trained weights and from random ones.
 *
 * One outer fold (mir_ft_fold), on the frozen runs' folds so that the verdicts pair:
 *   - the encoder's parameters are copied (pre-trained: the checkpoint; random: drawn as mir_model_file_write_random
 *     draws the random-weights feature set, so both starts are the frozen runs' encoders);
 *   - one encoder, two heads (AMD and NVIDIA labels), each an MLP on the row's
 *        x = [embedding (2C), log2(1 + transfer), log2(1 + wgsize)]   (the two sizes standardised on the
 *            training rows; one pair per platform)
 *        x (R, 2C+2) @ w1 (2C+2, H) + b1 -> GELU -> @ w2 (H, 1) + b2 -> logit (R), BCE against the label.
 *     An MLP, not a linear layer: with a linear head the slope of the logit in the sizes is the same for
 *     every kernel, so "GPU once the transfer exceeds a kernel-specific size" is the only rule it can learn;
 *     the frozen runs' classifiers (XGBoost, the MLP) both need kernel x size interactions to reach their
 *     figures. The head is small (H = 32) next to the encoder;
 *   - a kernel is read as the fast mode reads it (mir_embed_options_fast: its first window of `window` tokens
 *     and its first graph window of max_nodes), all of a mini-batch's kernels in one model batch; the rows
 *     of a kernel (its input sizes) share its embedding;
 *   - the embedding enters the heads standardised: each of its 2C values minus its mean over the training
 *     kernels, over one deviation for all of them (the root mean of their variances), measured once with the
 *     starting encoder and then fixed (the kernels' pooled states differ little from one another, the random
 *     encoder's least of all; one scale rather than one per value, which would magnify the values that hardly
 *     vary and with them every step of the encoder);
 *   - first the heads alone on the starting encoder's embeddings (head_epochs; the embeddings are computed
 *     once, so this costs a third of an epoch), then encoder and heads together: a fresh head's first
 *     gradients would otherwise be noise pushed into the encoder ("linear probing, then fine-tuning", Kumar
 *     et al., ICLR 2022);
 *   - AdamW; mini-batches of kernels in an order drawn from the seed; the loss of a batch is the two
 *     platforms' mean BCE over its training rows, summed; the encoder's step is warmed up linearly over the
 *     first end-to-end epoch;
 *   - early stopping: a share of the training benchmarks (inner_frac, grouped: no benchmark on both sides)
 *     is held out; after the heads' warm-up (epoch 0: the starting encoder, trained heads) and after each
 *     end-to-end epoch its accuracy (both heads) is measured, and the parameters of the best epoch are kept
 *     (ties: the lower held-out loss). They predict the test fold. The test fold is never seen before that.
 * Deterministic for a seed: the heads' draw, the inner split and the batch order come from the seed only,
 * so the result does not depend on the rank that runs a fold.
 */
#ifndef MIR_FINETUNE_H
#define MIR_FINETUNE_H
#include <mpi.h>
#include <stdint.h>

#include "data.h"
#include "mir/mir.h"
#include "mir_common.h"
#include "model.h"

enum { MIR_FT_HEADS = 2, MIR_FT_MAX_EPOCHS = 64, MIR_FT_MAX_AUX = 8 };

/* The task a fold trains for (mir_ft_data.task):
 *   MIR_FT_CLASSIFY  device mapping: MIR_FT_HEADS heads, each with 2 size features, BCE against 0 / 1 labels;
 *                    early stopping on the held-out accuracy (both heads);
 *   MIR_FT_REGRESS   one head, n_aux row features, squared error against a real target (coarsening: the log
 *                    speedup of the row's configuration over the default); the rows form decision units and a
 *                    unit's choice is its row of largest predicted target (the default is a row of its own,
 *                    target 0); early stopping on the held-out units' mean realised target (the log of their
 *                    geometric-mean speedup), ties to the lower held-out loss. */
enum { MIR_FT_CLASSIFY = 0, MIR_FT_REGRESS = 1 };

typedef struct mir_ft_options {
    int epochs;           /* maximum end-to-end epochs (default 4; at most MIR_FT_MAX_EPOCHS) */
    int head_epochs;      /* epochs of the heads alone first (15) */
    int batch;            /* kernels per mini-batch (8) */
    int hidden;           /* head width H (32) */
    double lr_encoder;    /* the encoder's AdamW step after warm-up (5e-6) */
    double lr_head;       /* the heads' AdamW step (3e-3) */
    double weight_decay;  /* 0.01 */
    double clip;          /* global gradient norm (1.0) */
    double inner_frac;    /* share of the training benchmarks held out for early stopping (0.2) */
} mir_ft_options;
void mir_ft_options_default(mir_ft_options *o);

/* The rows to learn from: n rows of n_kernels kernels. MIR_FT_CLASSIFY (task 0, the devmap layout): each row
 * with MIR_FT_HEADS binary labels and two size features per head. MIR_FT_REGRESS: one head; each row with n_aux
 * features, a target, its decision unit and whether it is its unit's default. The fields after label are
 * zero for device mapping. */
typedef struct mir_ft_data {
    const mir_config *cfg;               /* the encoder's configuration */
    int window, max_nodes;               /* reading mode: tokens of the one window read, nodes of the graph window */
    int n_kernels;
    const mir_module_view *kernel_view;  /* (n_kernels) encoded with the model's vocabulary */
    int n;
    const int *kernel, *group;           /* (n) kernel, benchmark of each row */
    const float *aux;                    /* (MIR_FT_HEADS, n, 2): log2(1 + transfer), log2(1 + wgsize) */
    const int *label[MIR_FT_HEADS];      /* (n) 0 / 1 */
    /* MIR_FT_REGRESS only (aux is then (n, n_aux), standardised on the training rows like the sizes) */
    int task;                            /* MIR_FT_CLASSIFY or MIR_FT_REGRESS */
    int n_aux;                           /* features of a row after the embedding (1..MIR_FT_MAX_AUX) */
    const float *target;                 /* (n) what the head predicts */
    const int *unit;                     /* (n) decision unit of each row, 0..n_units-1 (a unit's rows: one kernel) */
    const uint8_t *is_default;           /* (n) 1: the row is its unit's default configuration (one per unit) */
    int n_units;
} mir_ft_data;

/* What one fold's training did. */
typedef struct mir_ft_stats {
    int epochs, best_epoch;              /* end-to-end epochs run; the one kept (0: the heads' warm-up on the
                                            starting encoder; the last when no benchmark is held out) */
    double head_loss_first, head_loss_last; /* mean loss of the heads' first and last warm-up epoch */
    int n_train_rows, n_val_rows, n_test_rows;
    double train_loss[MIR_FT_MAX_EPOCHS];/* mean loss of the epoch's batches (sum over heads) */
    double val_loss[MIR_FT_MAX_EPOCHS];  /* on the held-out benchmarks after the epoch (NaN without) */
    double val_loss0;                    /* the same after the heads' warm-up */
    double val_acc0, val_acc;            /* held-out accuracy (both heads) after the warm-up, and of the epoch kept;
                                            MIR_FT_REGRESS: the held-out units' mean realised target instead */
    double margin;                       /* MIR_FT_REGRESS: the safe rule's margin, picked on the held-out units */
    int64_t kernel_steps;                /* kernels through forward + backward */
    double step_seconds;                 /* wall time of those forward + backward passes and updates */
    double seconds;                      /* wall time of the fold */
} mir_ft_stats;

/* One outer fold: a copy of the encoder init (cfg's n_params floats) and fresh heads, trained on the rows with
 * fold[j] != test, predict the rows with fold[j] == test: pred[h * n + j] = 0 / 1 for those rows (the others
 * untouched). MIR_FT_REGRESS: pred[j] (j < n) for the test rows: bit 0 set on the row each unit chooses (its
 * largest prediction), bit 1 on the row the safe rule chooses (that row when its predicted gain over the
 * default row's prediction exceeds st->margin, else the default row). The margin: among mir_reg_margins, by
 * the rule coarsen's frozen `safe` uses (MIR_REG_RULE_NO_LOSS), scored on the held-out training kernels' units
 * predicted by the kept epoch (the cheap stand-in for inner cross-validation; no held-out kernel: inf).
 * 0, or -1 with err. */
int mir_ft_fold(const mir_ft_data *d, const float *init, const int *fold, int test, const mir_ft_options *o,
                uint64_t seed, int *pred, mir_ft_stats *st, mir_error *err);

/* The gradient of one mini-batch's loss (its first `batch` kernels, every row a training row) with respect to
 * the heads and the encoder, against central differences of step h in float: every 7th head parameter and
 * every 13th encoder parameter whose gradient exceeds min_grad in magnitude; *worst: the largest relative
 * error, *checked: how many were compared (tests/test_finetune.c). 0, or -1 with err. */
int mir_ft_check_gradient(const mir_ft_data *d, const float *init, const mir_ft_options *o, uint64_t seed, double h,
                          double min_grad, double *worst, int *checked, mir_error *err);

/* ---- device mapping: every fold of every split, from both starts, over the ranks ---- */

enum { MIR_FT_PRETRAINED = 0, MIR_FT_RANDOM = 1, MIR_FT_N_INITS = 2 };

/* One outer cross-validation to fine-tune over (a protocol and seed): k folds, fold (n) as the frozen runs
 * assign them, and which heads' predictions are kept (score[h] != 0). tag: distinguishes the seeds. */
typedef struct mir_ft_split {
    int k;
    const int *fold;
    uint8_t score[MIR_FT_HEADS];
    uint64_t tag;
} mir_ft_split;

/* Totals over all folds (every rank holds them after the call). */
typedef struct mir_ft_summary {
    int n_jobs;                              /* folds trained, both starts */
    int window, max_nodes;                   /* the reading mode */
    int n_encoded, n_unreadable;             /* kernels encoded; kernels left empty (they failed to embed) */
    double seconds;                          /* wall time of the fine-tuning, encoding included */
    double cpu_seconds;                      /* sum over the folds of their wall time (the cost on one core) */
    double ms_per_kernel_step;               /* forward + backward + update per kernel, mean over folds */
    double mean_best_epoch[MIR_FT_N_INITS];      /* 0: the warm-up (frozen encoder) kept */
    double kept_warmup[MIR_FT_N_INITS];          /* share of the folds that kept epoch 0 */
    double head_loss[MIR_FT_N_INITS][2];         /* the heads' warm-up: first and last epoch's mean loss */
    double loss_first[MIR_FT_N_INITS], loss_last[MIR_FT_N_INITS]; /* mean training loss, first and last epoch */
    int epochs, head_epochs, hidden;         /* the budget, the heads' width */
    int n_ranks;
} mir_ft_summary;

/* Fine-tune on device mapping: for both starts (MIR_FT_PRETRAINED from model_path's weights, MIR_FT_RANDOM
 * drawn from seed as mir_model_file_write_random draws them), every non-empty fold of every split; the jobs (start,
 * split, fold) are dealt to the ranks of comm (job i to rank i mod size). files: d's kernel files; ok (n_kernels):
 * 1 where the file embedded (only those are parsed here, in-process; the others read as empty modules).
 * pred (MIR_FT_N_INITS, n_splits, MIR_FT_HEADS, n) receives 0 / 1 on every rank (-1 for heads not scored).
 * Collective. 0, or -1 with err on every rank. */
int mir_devmap_finetune(const mir_devmap *d, const mir_model *model, const char *model_path, const uint8_t *ok,
                        const mir_ft_options *o, uint64_t seed, const mir_ft_split *splits, int n_splits,
                        MPI_Comm comm, int quiet, int *pred, mir_ft_summary *sum, mir_error *err);

/* ---- thread coarsening: every leave-one-kernel-out fold of every seed, from both starts, over the ranks ---- */

/* Fine-tune on thread coarsening (MIR_FT_REGRESS): the rows are every measured (kernel, GPU, factor) of c, each
 * with x = [embedding, one-hot GPU (4), log2(factor)] and target log(runtime at factor 1 / runtime at the
 * factor); factor 1 is a row (target 0) and the default of its (kernel, GPU) unit. The outer folds are coarsen's
 * (leave one kernel out, kernels are their own groups); the fold of kernel k under seed index s trains from seed
 * mix(mix(mix(seed, s), 0x7e9c0a25), k), the frozen regression's seed of s (coarsen.c) mixed with the fold. Both
 * starts as mir_devmap_finetune draws them; the jobs (seed, start, kernel) dealt to the ranks of comm (job i to
 * rank i mod size). ok (c->n): 1 where the kernel's file embedded. On every rank: choice (MIR_FT_N_INITS,
 * n_seeds, 2, 4 * c->n) the factor index of the regression [0] and safe [1] choice of unit g * c->n + k, margin
 * (MIR_FT_N_INITS, n_seeds, c->n) the safe margin of each fold. Collective. 0, or -1 with err on every rank. */
int mir_coarsen_finetune(const mir_coarsen *c, const mir_model *model, const char *model_path, const uint8_t *ok,
                         const mir_ft_options *o, uint64_t seed, int n_seeds, MPI_Comm comm, int quiet, int *choice,
                         double *margin, mir_ft_summary *sum, mir_error *err);

#endif
