/*
 * progress.h: mir-preprocess's progress messages in pass 1 (private to preprocess/): workers send their count
 * to rank 0 (tiny eager messages); rank 0 drains and prints modules done, rate and ETA.
 */
#ifndef MIR_PP_PROGRESS_H
#define MIR_PP_PROGRESS_H

#include <mpi.h>
#include <stdint.h>

typedef struct progress {
    MPI_Comm comm;     /* a private duplicate */
    int rank, nranks;
    int64_t total, mine, *seen; /* seen[r]: last count rank r reported (rank 0 only) */
    int n_done;        /* ranks that reported their final count */
    double t0, last_print, last_send, interval;
    int enabled;
} progress;

/* Collective over comm (duplicated into p): total modules, seconds between messages, printing on or off. */
void mir_pp_progress_init(progress *p, MPI_Comm comm, int64_t total, double interval, int enabled);
/* This rank finished one more module. */
void mir_pp_progress_step(progress *p);
/* This rank is done (rank 0 waits for every rank's final count); frees p's resources. */
void mir_pp_progress_finish(progress *p);

#endif
