/*
 * grid.h: the process layout of model-parallel training, in the manner of HPL's grid struct.
 *
 * The world's N ranks form D = N / (P * Q) data-parallel groups of P * Q consecutive ranks; each group is
 * one P x Q BLACS process grid (row-major ranks: rank-in-group = prow * Q + pcol). Inside a group the wide
 * weight matrices are distributed block-cyclically (dist.h) and every rank of the group works on the same
 * micro-batches; across groups, ranks at the same grid position hold the same pieces and sum their
 * gradients. P = Q = 1 is plain data parallelism.
 */
#ifndef MIR_GRID_H
#define MIR_GRID_H
#include <mpi.h>

#include "mir_common.h"

typedef struct mir_grid {
    MPI_Comm world;      /* all ranks (not owned) */
    MPI_Comm group;      /* the P*Q ranks of my data-parallel group (owned) */
    MPI_Comm across;     /* the D ranks at my grid position, one per group (owned) */
    int world_rank, world_size;
    int P, Q;            /* grid shape: process rows, process columns */
    int prow, pcol;      /* my coordinates in the grid (0-based) */
    int group_id;        /* which data-parallel group I am in, 0 .. n_groups-1 */
    int n_groups;        /* D */
    int nb;              /* block size of the block-cyclic distribution (rows and columns) */
    int ctxt;            /* BLACS context of my group's grid (also for 1x1: PSGEMM on one rank) */
    int sys_handle;      /* BLACS system handle of `group` (when ctxt is valid) */
} mir_grid;

/* Collective over world. P*Q must divide the world's size. 0, or -1 with err filled on every rank. */
int mir_grid_init(mir_grid *g, MPI_Comm world, int P, int Q, int nb, mir_error *err);
void mir_grid_free(mir_grid *g);

/* Parse "PxQ" (e.g. "2x2"). 0 on success. */
int mir_grid_parse(const char *s, int *P, int *Q);

/* Elements of a dimension of n, in blocks of nb dealt cyclically over np processes, held by process p
 * (ScaLAPACK's NUMROC with the source process 0). */
int mir_grid_numroc(int n, int nb, int p, int np);
/* Global index of local index l (both 0-based). */
static inline int mir_grid_l2g(int l, int nb, int p, int np) { return (l / nb) * nb * np + p * nb + l % nb; }

#endif
