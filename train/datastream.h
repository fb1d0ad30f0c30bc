/*
 * datastream.h: what pre-training reads (trainer.h): the corpus's modules grouped into units (a module
 * alone, or the two modules of one source), the held-out split by content hash, the deterministic epoch
 * stream over the training modules (or units), and the reading of one micro-batch's token windows.
 * The functions taking a trainer work on the state of trainer_impl.h.
 */
#ifndef MIR_DATASTREAM_H
#define MIR_DATASTREAM_H
#include <stdint.h>

#include "mir_common.h"
#include "model.h"

struct trainer;

/* A 64-bit mix (the finaliser of MurmurHash3): the held-out split and the micro-batches' seeds. */
uint64_t mir_mix64(uint64_t x);

typedef struct stream {
    const int64_t *ids;  /* training modules */
    int64_t n;
    uint64_t seed;
    int64_t epoch;       /* epoch of perm */
    int64_t *perm;
} stream;

/* The module at position pos of the infinite stream: epoch pos / n is a permutation drawn from the seed. */
int64_t mir_stream_at(stream *s, int64_t pos);

/* The units, the training and held-out modules of t's corpus (logged on rank 0); -1 with err when none is
 * usable for training. */
int mir_setup_data(struct trainer *t, mir_error *err);

/* t->data: the stream over the training modules, or over the training units (contrastive). */
void mir_setup_stream(struct trainer *t);

/* The modules of micro-batch k (of G) of step `step` into ids (micro_batch of them at most); returns how many. */
int mir_micro_ids(struct trainer *t, int64_t step, int k, int G, int64_t *ids);

/* Read the m modules ids into t->views and build t->batch (see datastream.c). */
int mir_load_micro(struct trainer *t, const int64_t *ids, int m, mir_rng *rng, const mir_batch_options *bo,
                   mir_error *err);

#endif
