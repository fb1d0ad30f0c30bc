/* grid.c: data-parallel groups and their BLACS process grids (grid.h). */
#include "grid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* BLACS C interface (libscalapack-openmpi) */
extern void Cblacs_pinfo(int *mypnum, int *nprocs);
extern int Csys2blacs_handle(MPI_Comm comm);
extern void Cfree_blacs_system_handle(int handle);
extern void Cblacs_gridinit(int *ctxt, const char *order, int nprow, int npcol);
extern void Cblacs_gridinfo(int ctxt, int *nprow, int *npcol, int *myrow, int *mycol);
extern void Cblacs_gridexit(int ctxt);

int mir_grid_parse(const char *s, int *P, int *Q) {
    char x;
    char tail;
    if (sscanf(s, "%d%c%d%c", P, &x, Q, &tail) != 3 || (x != 'x' && x != 'X') || *P < 1 || *Q < 1) return -1;
    return 0;
}

int mir_grid_numroc(int n, int nb, int p, int np) {
    int nblocks = n / nb, mine = (nblocks / np) * nb, extra = nblocks % np;
    if (p < extra) mine += nb;
    else if (p == extra) mine += n % nb;
    return mine;
}

int mir_grid_init(mir_grid *g, MPI_Comm world, int P, int Q, int nb, mir_error *err) {
    memset(g, 0, sizeof *g);
    g->world = world;
    g->group = g->across = MPI_COMM_NULL;
    g->ctxt = -1;
    MPI_Comm_rank(world, &g->world_rank);
    MPI_Comm_size(world, &g->world_size);
    if (P < 1 || Q < 1 || nb < 1) return mir_fail(err, "invalid grid %dx%d, block %d", P, Q, nb);
    if (g->world_size % (P * Q) != 0)
        return mir_fail(err, "grid %dx%d needs a multiple of %d ranks, not %d", P, Q, P * Q, g->world_size);
    g->P = P;
    g->Q = Q;
    g->nb = nb;
    g->n_groups = g->world_size / (P * Q);
    g->group_id = g->world_rank / (P * Q);
    int pos = g->world_rank % (P * Q);
    g->prow = pos / Q;
    g->pcol = pos % Q;
    MPI_Comm_split(world, g->group_id, pos, &g->group);
    MPI_Comm_split(world, pos, g->group_id, &g->across);
    {
        int me, np;
        Cblacs_pinfo(&me, &np);
        g->sys_handle = Csys2blacs_handle(g->group);
        g->ctxt = g->sys_handle;
        Cblacs_gridinit(&g->ctxt, "Row", P, Q);
        int p, q, r, c;
        Cblacs_gridinfo(g->ctxt, &p, &q, &r, &c);
        if (p != P || q != Q || r != g->prow || c != g->pcol) {
            mir_fail(err, "BLACS grid %dx%d places rank %d at (%d,%d), expected (%d,%d)", p, q, g->world_rank, r, c,
                     g->prow, g->pcol);
            mir_grid_free(g);
            return -1;
        }
    }
    return 0;
}

void mir_grid_free(mir_grid *g) {
    if (g->ctxt >= 0) {
        Cblacs_gridexit(g->ctxt);
        Cfree_blacs_system_handle(g->sys_handle);
    }
    if (g->group != MPI_COMM_NULL) MPI_Comm_free(&g->group);
    if (g->across != MPI_COMM_NULL) MPI_Comm_free(&g->across);
    g->ctxt = -1;
}
