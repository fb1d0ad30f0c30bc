/*
 * graphops.c: the type-independent part of the graph kernels (see graphops.h): building the six CSR
 * relations of a (batched) program graph, and negative sampling for edge reconstruction. The float and
 * double kernels live in graphops.inc.c, compiled by graphops_f32.c and graphops_f64.c.
 *
 * Layout and order conventions (relied on by the tests and by the backward kernels):
 *   - relation 2*flow   ("forward",  src->dst): row = dst, row entries = src, CSC column = src, entries = dst;
 *   - relation 2*flow+1 ("backward", dst->src): row = src, row entries = dst, CSC column = dst, entries = src;
 *     i.e. relation 2f+1 is the transpose of relation 2f, its CSR is 2f's CSC and its CSC is 2f's CSR.
 *   - Rows are NOT sorted by neighbour id: the entries of every CSR row and of every CSC column appear in
 *     the order of the edges in the input edge list (a stable counting sort). So the build is
 *     deterministic and a row's order is the order in which the corpus lists the edges.
 *   - Repeated edges are kept (a multigraph): an edge listed twice is a neighbour twice, so it weighs
 *     twice in the mean aggregation, forward and backward alike.
 *   - Edges with an endpoint outside [0, n_nodes) or a flow outside [0, MIR_N_FLOWS) are skipped and counted.
 */
#include "graphops.h"

#include <stdlib.h>
#include <string.h>

#include "mir_common.h"
#include "rng.h"

static int64_t *alloc_ptr(int n) { return mir_calloc((size_t)n + 1, sizeof(int64_t)); }
static int32_t *alloc_idx(int64_t nnz) { return mir_malloc((size_t)(nnz > 0 ? nnz : 1) * sizeof(int32_t)); }

static void *dup_bytes(const void *p, size_t bytes) {
    void *q = mir_malloc(bytes > 0 ? bytes : 1);
    if (bytes) memcpy(q, p, bytes);
    return q;
}

static inline int edge_ok(int32_t s, int32_t d, int8_t f, int n) {
    return s >= 0 && s < n && d >= 0 && d < n && f >= 0 && f < MIR_N_FLOWS;
}

int64_t mir_relations_build(mir_csr rel[MIR_N_RELATIONS], const int32_t *src, const int32_t *dst,
                            const int8_t *flow, int64_t n_edges, int n_nodes) {
    const int N = n_nodes > 0 ? n_nodes : 0;
    const int64_t E = n_edges > 0 ? n_edges : 0;
    int64_t count[MIR_N_FLOWS] = {0};
    int64_t skipped = 0;

    /* pass 1: validity, edges per flow, degrees of the forward relation (rows by dst, columns by src),
     * counted at index node+1 so that a prefix sum turns them into row starts. */
    for (int f = 0; f < MIR_N_FLOWS; f++) {
        mir_csr *c = &rel[2 * f];
        memset(c, 0, sizeof(*c));
        c->n_nodes = N;
        c->row_ptr = alloc_ptr(N);
        c->col_ptr = alloc_ptr(N);
    }
    for (int64_t e = 0; e < E; e++) {
        if (!edge_ok(src[e], dst[e], flow[e], N)) {
            skipped++;
            continue;
        }
        mir_csr *c = &rel[2 * flow[e]];
        count[flow[e]]++;
        c->row_ptr[dst[e] + 1]++;
        c->col_ptr[src[e] + 1]++;
    }

    /* pass 2: prefix sums, then a stable fill (edge order) through cursors. */
    int64_t *cur_row = mir_malloc((size_t)(N > 0 ? N : 1) * sizeof(int64_t));
    int64_t *cur_col = mir_malloc((size_t)(N > 0 ? N : 1) * sizeof(int64_t));
    for (int f = 0; f < MIR_N_FLOWS; f++) {
        mir_csr *c = &rel[2 * f];
        c->n_edges = count[f];
        for (int n = 0; n < N; n++) {
            c->row_ptr[n + 1] += c->row_ptr[n];
            c->col_ptr[n + 1] += c->col_ptr[n];
        }
        c->src = alloc_idx(count[f]);
        c->col_dst = alloc_idx(count[f]);
        if (count[f] == 0) continue;
        memcpy(cur_row, c->row_ptr, (size_t)N * sizeof(int64_t));
        memcpy(cur_col, c->col_ptr, (size_t)N * sizeof(int64_t));
        for (int64_t e = 0; e < E; e++) {
            if (flow[e] != f || !edge_ok(src[e], dst[e], flow[e], N)) continue;
            c->src[cur_row[dst[e]]++] = src[e];
            c->col_dst[cur_col[src[e]]++] = dst[e];
        }
    }
    free(cur_row);
    free(cur_col);

    /* the reverse relations are the transposes: swap CSR and CSC. */
    for (int f = 0; f < MIR_N_FLOWS; f++) {
        const mir_csr *fw = &rel[2 * f];
        mir_csr *bw = &rel[2 * f + 1];
        const size_t ptr_bytes = ((size_t)N + 1) * sizeof(int64_t);
        const size_t idx_bytes = (size_t)fw->n_edges * sizeof(int32_t);
        bw->n_nodes = N;
        bw->n_edges = fw->n_edges;
        bw->row_ptr = dup_bytes(fw->col_ptr, ptr_bytes);
        bw->src = dup_bytes(fw->col_dst, idx_bytes);
        bw->col_ptr = dup_bytes(fw->row_ptr, ptr_bytes);
        bw->col_dst = dup_bytes(fw->src, idx_bytes);
    }
    /* the non-empty rows of each relation (the aggregations' compact form, graphops_decl.h) */
    for (int r = 0; r < MIR_N_RELATIONS; r++) {
        mir_csr *c = &rel[r];
        c->rows = alloc_idx(N);
        c->n_rows = 0;
        for (int n = 0; n < N; n++)
            if (c->row_ptr[n + 1] > c->row_ptr[n]) c->rows[c->n_rows++] = n;
    }
    return skipped;
}

void mir_csr_free(mir_csr *c) {
    if (!c) return;
    free(c->row_ptr);
    free(c->src);
    free(c->col_ptr);
    free(c->col_dst);
    free(c->rows);
    memset(c, 0, sizeof(*c));
}

/* Is there an edge between a and b, of any flow and in either direction? Row a of relation 2f lists the
 * sources of a's incoming f-edges and row a of relation 2f+1 the targets of its outgoing ones, so a
 * linear scan of row a in the six relations covers every neighbour. The edge score is symmetric
 * (dot(h[a], h[b])), so a reversed edge b->a must not be drawn as a negative either. */
static int adjacent(const mir_csr rel[MIR_N_RELATIONS], int32_t a, int32_t b) {
    for (int r = 0; r < MIR_N_RELATIONS; r++) {
        const mir_csr *c = &rel[r];
        if (a < 0 || a >= c->n_nodes) continue;
        for (int64_t j = c->row_ptr[a]; j < c->row_ptr[a + 1]; j++)
            if (c->src[j] == b) return 1;
    }
    return 0;
}

/*
 * Up to 8 uniform draws in [lo, hi), keeping the first that is not adjacent to a (rejection sampling).
 * When all 8 hit a neighbour, the non-neighbours of a in [lo, hi) are enumerated (a mark array) and one is
 * drawn uniformly among them, so a non-edge is always returned when one exists and the overall
 * distribution stays uniform over the non-edges. Only when a is adjacent to every node of [lo, hi) is the
 * last draw accepted as is. An empty range (hi <= lo) yields lo and consumes no random numbers.
 * "Edge" means an edge of any flow in either direction (see adjacent()). Deterministic for a given rng state.
 */
void mir_sample_non_edges(int32_t *out_b, const int32_t *a, int n, int32_t lo, int32_t hi,
                          const mir_csr rel[MIR_N_RELATIONS], struct mir_rng *rng) {
    if (n <= 0) return;
    if (hi <= lo) {
        for (int k = 0; k < n; k++) out_b[k] = lo;
        return;
    }
    const uint64_t span = (uint64_t)((int64_t)hi - (int64_t)lo);
    uint8_t *mark = NULL;
    for (int k = 0; k < n; k++) {
        const int32_t ak = a[k];
        int32_t b = lo;
        int found = 0;
        for (int t = 0; t < 8 && !found; t++) {
            b = (int32_t)((int64_t)lo + (int64_t)mir_rng_below(rng, span));
            found = !adjacent(rel, ak, b);
        }
        if (!found) {
            if (!mark) mark = mir_malloc((size_t)span);
            memset(mark, 0, (size_t)span);
            uint64_t taken = 0;
            for (int r = 0; r < MIR_N_RELATIONS; r++) {
                const mir_csr *c = &rel[r];
                if (ak < 0 || ak >= c->n_nodes) continue;
                for (int64_t j = c->row_ptr[ak]; j < c->row_ptr[ak + 1]; j++) {
                    const int32_t v = c->src[j];
                    if (v < lo || v >= hi || mark[v - lo]) continue;
                    mark[v - lo] = 1;
                    taken++;
                }
            }
            if (taken < span) {
                uint64_t pick = mir_rng_below(rng, span - taken);
                for (uint64_t i = 0; i < span; i++) {
                    if (mark[i]) continue;
                    if (pick-- == 0) {
                        b = (int32_t)((int64_t)lo + (int64_t)i);
                        break;
                    }
                }
            }
        }
        out_b[k] = b;
    }
    free(mark);
}
