/*
 * trainer.h: MPI data-parallel pre-training (the library behind mir-train).
 *
 * Layout (grid.h, dist.h): the ranks form D data-parallel groups of P x Q ranks; inside a group the wide
 * weight matrices are block-cyclic and multiplied with PSGEMM, every rank of the group working on the same
 * micro-batches; P = Q = 1 (the default while the model fits in memory) is plain data parallelism.
 *
 * A step consumes a global batch of `global_batch` modules from a deterministic stream (a permutation of
 * the training modules per epoch, drawn from the seed), cut into micro-batches of `micro_batch` modules.
 * Micro-batch k of step s is built with its own random stream seeded by (seed, s, k), and group g takes
 * micro-batches g, g+D, g+2D, ...: so what a step computes does not depend on the number of ranks or the
 * layout, only the order in which float gradients are summed does. Gradients (one flat buffer) are summed with one
 * MPI_Allreduce per step; AdamW with linear warm-up and cosine decay, global-norm clipping.
 *
 * 5 % of the modules (by content hash) are held out; their metrics (masked-token accuracy against the
 * most-frequent-token baseline, node-text accuracy, edge AUC, matching accuracy) are measured every
 * eval_every steps and at the end.
 */
#ifndef MIR_TRAINER_H
#define MIR_TRAINER_H
#include <mpi.h>
#include <stdint.h>

#include "model_file.h"
#include "mir_common.h"
#include "model.h"

typedef struct mir_train_options {
    const char *corpus;
    const char *output;           /* model.h5 */
    const char *config;           /* "tiny", "small", "base" or a FILE of key = value lines */
    int resume;
    int64_t steps;
    int32_t global_batch, micro_batch;
    double lr, lr_min, weight_decay, clip;
    int32_t warmup;
    uint64_t seed;
    int64_t checkpoint_every;     /* steps; 0: only at the end */
    int64_t eval_every;           /* steps; 0: only at the end */
    int32_t eval_modules;         /* held-out modules used per evaluation (0: all) */
    int64_t max_graph_nodes;      /* modules with larger graphs are not used for training */
    const char *metrics;          /* CSV path (default OUTPUT with .metrics.csv) */
    double progress_interval_s;
    int quiet;
    int64_t stop_after;           /* testing: behave as if SIGTERM arrived after this many steps (0: never) */
    int grid_p, grid_q;           /* model-parallel grid P x Q (0 x 0: chosen by mir_train_choose_grid) */
    int block;                    /* block size of the block-cyclic weights */
} mir_train_options;

void mir_train_options_default(mir_train_options *o);

typedef struct mir_train_result {
    int64_t steps_done;
    int interrupted;              /* stopped by a signal after checkpointing */
    double final_loss;
    double heldout_mlm_acc, heldout_mlm_baseline, heldout_node_acc, heldout_edge_auc, heldout_match_acc;
    double tokens_per_s;
    double allreduce_s;           /* seconds in the gradient sums over the groups */
    double pgemm_s, grid_comm_s;  /* seconds in PSGEMM and in the group's allreduces (model parallelism) */
    int grid_p, grid_q;
    size_t n_local_params;
    int64_t first_step;           /* step the run started from (0, or the resumed checkpoint's) */
    double seconds;               /* wall time of the training loop */        /* parameter elements held by this rank */
} mir_train_result;

/* Collective. Returns 0 on success (also when interrupted by SIGTERM/SIGUSR1 after a checkpoint), -1 with
 * err filled on every rank otherwise. */
int mir_train_run(const mir_train_options *o, MPI_Comm comm, mir_train_result *res, mir_error *err);

/* The default layout for n ranks (memory_per_rank bytes each): 1 x 1 (data parallelism) while the whole
 * model with its gradients and AdamW moments, plus room for activations, fits in a rank's share of memory,
 * else the smallest 1 x Q (Q dividing n) whose share fits. why receives the explanation for the log. */
void mir_train_choose_grid(const mir_config *c, int n, double memory_per_rank, int *P, int *Q, char *why,
                           size_t why_size);

/* Parse a configuration name or file into c (vocab_size left as given). */
int mir_config_parse(const char *spec, mir_config *c, mir_error *err);

#endif
