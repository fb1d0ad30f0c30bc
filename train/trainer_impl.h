/*
 * trainer_impl.h: the state of one pre-training run, shared by the trainer's files (private to train/):
 * trainer.c (configuration, set-up of the model, checkpoints, the loop), datastream.c (units, held-out split,
 * stream, micro-batches), eval.c (held-out evaluation); optim.c takes the model and its moments alone.
 */
#ifndef MIR_TRAINER_IMPL_H
#define MIR_TRAINER_IMPL_H
#include <stdio.h>

#include "corpus.h"
#include "datastream.h"
#include "dist.h"
#include "grid.h"
#include "mpi_util.h"
#include "trainer.h"

typedef struct trainer {
    const mir_train_options *o;
    MPI_Comm comm;
    int rank, nranks;
    mir_corpus corpus;
    mir_config cfg;
    mir_train_state st;
    mir_grid grid;              /* data-parallel groups x P x Q grid */
    mir_dist dist;              /* which tensors are distributed, and the local layout of the flat buffers */
    int have_grid;
    mir_model_f32 model;        /* local layout: n_params = dist.n_local */
    float *m1, *m2;             /* AdamW moments (n_params, local layout) */
    int64_t *train_ids, n_train, *eval_ids, n_eval;
    /* units: a module alone, or the two modules of one source (a pair: /modules/source, mir-preprocess
     * --opt-levels); held-out is decided per unit, so a pair is never split between training and held-out */
    int64_t *unit_a, *unit_b, n_units;   /* unit_b -1: alone */
    int64_t *train_units, n_train_units;
    int64_t *pair_key;                   /* (corpus n) the unit of a paired module, -1 for any other */
    stream data;                         /* over train_ids (today's stream), or over train_units (contrastive) */
    mir_module_buf *bufs;       /* (micro_batch) */
    mir_module_view *views;
    int64_t *starts;            /* statement offsets of the module being read (cfg.statements) */
    size_t cap_starts;
    mir_batch batch;
    FILE *metrics, *evalcsv;
    FILE *trace;                         /* $MIR_TRACE_BATCHES.RANK: "step k module..." per micro-batch (tests) */
} trainer;

#endif
