/*
 * dist.h: the model's wide weight matrices distributed block-cyclically over a P x Q grid (grid.h), their
 * products through ScaLAPACK's PSGEMM.
 *
 * Which tensors: the token layers' w_qkv, w_proj, w_fc, w_fc2, the vocabulary projections w_mlm and w_node,
 * and, when d_model >= MIR_DIST_GRAPH_MIN_WIDTH, the graph layers' w_self and w_rel. Everything else is
 * replicated on every rank of a group and computed redundantly (LayerNorm, attention, GELU, sparse
 * aggregation, losses), so the activations are replicated too.
 *
 * A weight W (C, OC), row-major as in the layers, is stored as its column-major transpose W^T (OC x C) in
 * ScaLAPACK's 2-D block-cyclic layout with square blocks of nb: rank (prow, pcol) keeps the blocks of rows
 * prow, prow+P, ... and columns pcol, pcol+Q, ... So are its gradient and its two AdamW moments: memory
 * per rank for these tensors is about 1/(P*Q) of the whole.
 *
 *   forward   Y^T (OC x N) = W^T (OC x C) . X^T (C x N)               PSGEMM N,N
 *   backward  dX^T (C x N) = (W^T)^T . dY^T                           PSGEMM T,N
 *             dW^T (OC x C) += dY^T . (X^T)^T                         PSGEMM N,T (into the local gradient piece)
 * X and dY are replicated: each rank takes its blocks of them without communication; a distributed result
 * is made whole on every rank by one MPI_Allreduce over the group of a zero-filled matrix in which each rank
 * wrote its own blocks (every element has exactly one owner, so the sum is exact).
 *
 * The flat buffers (parameters, gradients, moments) keep the order of mir_params_table; a distributed
 * tensor occupies only its local piece. mir_dist_scatter / mir_dist_gather convert between that local
 * layout and the full layout of the checkpoints, which are therefore the same whatever the grid.
 */
#ifndef MIR_DIST_H
#define MIR_DIST_H
#include <stddef.h>

#include "grid.h"
#include "model.h"

#define MIR_DIST_GRAPH_MIN_WIDTH 512

typedef struct mir_dist_tensor {
    int distributed;        /* 1: block-cyclic over the grid; 0: replicated */
    int rows, cols;         /* global shape (C, OC), row-major */
    int mloc, nloc;         /* local piece of W^T: mloc of its OC rows, nloc of its C columns */
    size_t off, n;          /* local offset and element count in the local flat buffers */
    size_t goff, gn;        /* offset and count in the full layout */
    int desc[9];            /* ScaLAPACK descriptor of W^T */
} mir_dist_tensor;

typedef struct mir_dist {
    const mir_grid *grid;
    mir_config cfg;
    int n_tensors;
    mir_dist_tensor *t;
    mir_tensor_info *table; /* mir_params_table with local offsets: for mir_model_create_layout_f32 */
    size_t n_local, n_full, n_dist_local; /* elements: local buffers, full layout, local distributed part */
    const float *params;    /* the local parameter buffer whose pointers the hook recognises */
    mir_linear_hook hook;
    float *ws;              /* workspace */
    size_t ws_cap;
    double t_gemm, t_comm;  /* seconds spent in PSGEMM and in the group's allreduces (cumulative) */
    long n_gemm;
} mir_dist;

/* Plan the distribution of a model's tensors over the grid. Not collective. */
void mir_dist_init(mir_dist *d, const mir_grid *g, const mir_config *cfg);
void mir_dist_free(mir_dist *d);
/* Attach to a model created with mir_model_create_layout_f32(m, cfg, d->table, d->n_local). */
void mir_dist_attach(mir_dist *d, mir_model_f32 *m);

/* local (n_local) <- full (n_full): every rank takes its pieces of a full buffer. */
void mir_dist_scatter(const mir_dist *d, const float *full, float *local);
/* full (n_full, on group rank 0 only; may be NULL elsewhere) <- local pieces of the group. Collective
 * over the group. */
void mir_dist_gather(mir_dist *d, const float *local, float *full);
/* Squared norm of a local gradient buffer over the whole model (replicated part counted once). Collective
 * over the group. */
double mir_dist_norm2(const mir_dist *d, const float *local);

/* The distributed product alone, for tests and benchmarks: Y (N,OC) = X (N,C) @ W (C,OC) with W given by
 * its local piece wloc of a tensor laid out like t (see mir_dist_tensor_plan). Collective over the group. */
void mir_dist_tensor_plan(const mir_grid *g, int C, int OC, mir_dist_tensor *t);
void mir_dist_forward(mir_dist *d, const mir_dist_tensor *t, float *out, const float *inp, const float *wloc, int N,
                      int accumulate);
void mir_dist_backward(mir_dist *d, const mir_dist_tensor *t, float *dinp, float *dwloc, const float *dout,
                       const float *inp, const float *wloc, int N);
/* Local piece of a full row-major W (C,OC), and back (into a zeroed full W). */
void mir_dist_take(const mir_grid *g, const mir_dist_tensor *t, const float *w, float *wloc);
void mir_dist_put(const mir_grid *g, const mir_dist_tensor *t, const float *wloc, float *w);

#endif
