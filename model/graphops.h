/*
 * graphops.h: graph batching and the sparse kernels of the relational graph encoder.
 *
 * Relations: each of the corpus's three flows (control, data, call) in both directions, so 6 relations:
 * r = 2*flow + 0 for src->dst ("forward") and 2*flow + 1 for dst->src ("backward").
 */
#ifndef MIR_GRAPHOPS_H
#define MIR_GRAPHOPS_H
#include <stdint.h>

#include "schema.h" /* the flows MIR_FLOW_*, MIR_N_FLOWS */

#define MIR_N_RELATIONS (2 * MIR_N_FLOWS)

/* One relation of a batched graph, CSR by destination. */
typedef struct mir_csr {
    int n_nodes;          /* N */
    int64_t n_edges;      /* nnz */
    int64_t *row_ptr;     /* (N+1) */
    int32_t *src;         /* (nnz) message sources of each destination row, in edge order */
    int64_t *col_ptr;     /* (N+1) CSC of the same matrix (by source), for backward */
    int32_t *col_dst;     /* (nnz) */
    int n_rows;           /* destinations with at least one message: the rows the mean aggregation fills */
    int32_t *rows;        /* (n_rows) those rows, increasing */
} mir_csr;

/* Build the 6 relations from an edge list of n_edges edges over n_nodes nodes (flow in 0..2; edges with
 * endpoints out of range are skipped and counted in the return value). rel[0..5] are filled and must be
 * released with mir_csr_free. Deterministic: rows keep the edges' order. */
int64_t mir_relations_build(mir_csr rel[MIR_N_RELATIONS], const int32_t *src, const int32_t *dst,
                            const int8_t *flow, int64_t n_edges, int n_nodes);
void mir_csr_free(mir_csr *c);

/* Negative sampling for edge reconstruction: for each of the n positive (a, b) pairs of graph g (nodes
 * [lo, hi)), draw b' uniformly in [lo, hi) such that (a, b') is not an edge of any flow, from the rng
 * state (splitmix64/xoshiro, see common/rng.h); up to 8 tries, then accept. out_b (n). */
struct mir_rng;
void mir_sample_non_edges(int32_t *out_b, const int32_t *a, int n, int32_t lo, int32_t hi,
                          const mir_csr rel[MIR_N_RELATIONS], struct mir_rng *rng);

#define MIR_REAL_DOUBLE 0
#include "real.h"
#include "graphops_decl.h"
#undef MIR_REAL_DOUBLE
#define MIR_REAL_DOUBLE 1
#include "real.h"
#include "graphops_decl.h"
#undef MIR_REAL_DOUBLE
#undef real
#undef R
#endif
