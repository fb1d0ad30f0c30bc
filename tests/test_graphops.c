/*
 * test_graphops.c: the relation builder, the sparse kernels (float and double) and negative sampling.
 *   - a hand-built 5-node graph whose six CSR/CSC relations are written out below and checked exactly;
 *   - spmm forward/backward against a dense adjacency-matrix reference;
 *   - finite differences (double, central, h = 1e-6) of every backward; backward accumulates;
 *   - float forward/backward equals double within 1e-5;
 *   - non-edge sampling: in range, never an edge when a non-edge exists, deterministic per seed;
 *   - out-of-range endpoints and bad flows are skipped and counted.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graphops.h"
#include "mir_common.h"
#include "fd.h"
#include "mir_test.h"
#include "rng.h"

#define NR MIR_N_RELATIONS

static void free_rel(mir_csr rel[NR]) {
    for (int r = 0; r < NR; r++) mir_csr_free(&rel[r]);
}

static void check_i64(const int64_t *got, const int64_t *want, int n, const char *what, int r) {
    int ok = 1;
    for (int i = 0; i < n; i++) ok &= got[i] == want[i];
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "  relation %d %s:", r, what);
        for (int i = 0; i < n; i++) fprintf(stderr, " %lld", (long long)got[i]);
        fprintf(stderr, "\n");
    }
}

static void check_i32(const int32_t *got, const int32_t *want, int n, const char *what, int r) {
    int ok = 1;
    for (int i = 0; i < n; i++) ok &= got[i] == want[i];
    CHECK(ok);
    if (!ok) {
        fprintf(stderr, "  relation %d %s:", r, what);
        for (int i = 0; i < n; i++) fprintf(stderr, " %d", got[i]);
        fprintf(stderr, "\n");
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* The hand-built graph. 5 nodes; flows 0 control, 1 data, 2 call. Node 3 has no in-edges at all, the data
 * edge 3->1 is listed twice, and five edges are invalid (marked x) and must be skipped.
 *   e  0: 0->1 c     e  5: 3->2 d      e 10: 0->4 call
 *   e  1: 1->2 c     e  6: -1->2 d x   e 11: 4->0 call
 *   e  2: 5->0 c x   e  7: 3->1 d      e 12: 1->4 call
 *   e  3: 0->2 c     e  8: 2->4 d      e 13: 0->1 flow -1 x
 *   e  4: 3->1 d     e  9: 2->3 flow 3 x  e 14: 1->5 c x
 */
static const int32_t H_SRC[] = {0, 1, 5, 0, 3, 3, -1, 3, 2, 2, 0, 4, 1, 0, 1};
static const int32_t H_DST[] = {1, 2, 0, 2, 1, 2, 2, 1, 4, 3, 4, 0, 4, 1, 5};
static const int8_t H_FLOW[] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 3, 2, 2, 2, -1, 0};
#define H_E 15
#define H_N 5

/* Expected relations. Rows (and CSC columns) list their entries in edge order.
 * r0 control src->dst, row = dst:  row 1 {0}; row 2 {1, 0}            CSC by src: col 0 {1, 2}; col 1 {2}
 * r1 control dst->src, row = src:  row 0 {1, 2}; row 1 {2}            CSC by dst: col 1 {0}; col 2 {1, 0}
 * r2 data src->dst:   row 1 {3, 3}; row 2 {3}; row 4 {2}             CSC: col 2 {4}; col 3 {1, 2, 1}
 * r3 data dst->src:   row 2 {4}; row 3 {1, 2, 1}                     CSC: col 1 {3, 3}; col 2 {3}; col 4 {2}
 * r4 call src->dst:   row 0 {4}; row 4 {0, 1}                        CSC: col 0 {4}; col 1 {4}; col 4 {0}
 * r5 call dst->src:   row 0 {4}; row 1 {4}; row 4 {0}                CSC: col 0 {4}; col 4 {0, 1}        */
static const int64_t X_NNZ[NR] = {3, 3, 4, 4, 3, 3};
static const int64_t X_ROW_PTR[NR][H_N + 1] = {
    {0, 0, 1, 3, 3, 3}, {0, 2, 3, 3, 3, 3}, {0, 0, 2, 3, 3, 4},
    {0, 0, 0, 1, 4, 4}, {0, 1, 1, 1, 1, 3}, {0, 1, 2, 2, 2, 3},
};
static const int32_t X_SRC[NR][4] = {
    {0, 1, 0}, {1, 2, 2}, {3, 3, 3, 2}, {4, 1, 2, 1}, {4, 0, 1}, {4, 4, 0},
};
static const int64_t X_COL_PTR[NR][H_N + 1] = {
    {0, 2, 3, 3, 3, 3}, {0, 0, 1, 3, 3, 3}, {0, 0, 0, 1, 4, 4},
    {0, 0, 2, 3, 3, 4}, {0, 1, 2, 2, 2, 3}, {0, 1, 1, 1, 1, 3},
};
static const int32_t X_COL_DST[NR][4] = {
    {1, 2, 2}, {0, 1, 0}, {4, 1, 2, 1}, {3, 3, 3, 2}, {4, 4, 0}, {4, 0, 1},
};

static void test_hand_graph(void) {
    mir_csr rel[NR];
    int64_t skipped = mir_relations_build(rel, H_SRC, H_DST, H_FLOW, H_E, H_N);
    CHECK_EQ_INT(skipped, 5);
    for (int r = 0; r < NR; r++) {
        CHECK_EQ_INT(rel[r].n_nodes, H_N);
        CHECK_EQ_INT(rel[r].n_edges, X_NNZ[r]);
        check_i64(rel[r].row_ptr, X_ROW_PTR[r], H_N + 1, "row_ptr", r);
        check_i32(rel[r].src, X_SRC[r], (int)X_NNZ[r], "src", r);
        check_i64(rel[r].col_ptr, X_COL_PTR[r], H_N + 1, "col_ptr", r);
        check_i32(rel[r].col_dst, X_COL_DST[r], (int)X_NNZ[r], "col_dst", r);
    }

    /* spmm by hand on the data relation (r2), C = 2: x[n] = (2^n, -n) */
    double x[H_N * 2], y[H_N * 2], g[H_N * 2];
    for (int n = 0; n < H_N; n++) x[2 * n] = ldexp(1.0, n), x[2 * n + 1] = -n;
    mir_spmm_mean_forward_f64(y, x, &rel[2], 2);
    const double want_y[H_N * 2] = {0, 0, 8, -3, 8, -3, 0, 0, 4, -2};
    for (int i = 0; i < H_N * 2; i++) CHECK(y[i] == want_y[i]);
    /* backward with dout = 1 everywhere: node 3 gets 1/2 + 1/2 (row 1, twice) + 1 (row 2); node 2 gets 1 */
    for (int i = 0; i < H_N * 2; i++) y[i] = 1, g[i] = 0;
    mir_spmm_mean_backward_f64(g, y, &rel[2], 2);
    const double want_g[H_N * 2] = {0, 0, 0, 0, 1, 1, 2, 2, 0, 0};
    for (int i = 0; i < H_N * 2; i++) CHECK(g[i] == want_g[i]);
    /* call relation forward (r4): row 0 = x[4], row 4 = mean(x[0], x[1]) */
    mir_spmm_mean_forward_f64(y, x, &rel[4], 2);
    const double want_c[H_N * 2] = {16, -4, 0, 0, 0, 0, 0, 0, 1.5, -0.5};
    for (int i = 0; i < H_N * 2; i++) CHECK(y[i] == want_c[i]);

    /* rebuilding gives the same arrays (deterministic) */
    mir_csr rel2[NR];
    CHECK_EQ_INT(mir_relations_build(rel2, H_SRC, H_DST, H_FLOW, H_E, H_N), 5);
    for (int r = 0; r < NR; r++) {
        CHECK(memcmp(rel2[r].row_ptr, rel[r].row_ptr, sizeof(int64_t) * (H_N + 1)) == 0);
        CHECK(memcmp(rel2[r].src, rel[r].src, sizeof(int32_t) * rel[r].n_edges) == 0);
    }
    free_rel(rel2);
    free_rel(rel);
}

static void test_empty(void) {
    mir_csr rel[NR];
    CHECK_EQ_INT(mir_relations_build(rel, NULL, NULL, NULL, 0, 0), 0);
    for (int r = 0; r < NR; r++) {
        CHECK_EQ_INT(rel[r].n_edges, 0);
        CHECK_EQ_INT(rel[r].row_ptr[0], 0);
        CHECK_EQ_INT(rel[r].col_ptr[0], 0);
    }
    free_rel(rel);
    /* nodes but no edges: every output row is 0 */
    CHECK_EQ_INT(mir_relations_build(rel, NULL, NULL, NULL, 0, 3), 0);
    double x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {9, 9, 9, 9, 9, 9};
    mir_spmm_mean_forward_f64(y, x, &rel[0], 2);
    for (int i = 0; i < 6; i++) CHECK(y[i] == 0);
    free_rel(rel);
    mir_csr z;
    memset(&z, 0, sizeof(z));
    mir_csr_free(&z); /* freeing a zeroed relation is a no-op */
}

/* ---------------------------------------------------------------------------------------------------- */
/* Random graphs. bad > 0 makes about that fraction of edges invalid (endpoint out of range or bad flow). */
typedef struct graph {
    int N;
    int64_t E;
    int32_t *src, *dst;
    int8_t *flow;
    int64_t n_bad;
} graph;

static graph random_graph(mir_rng *rng, int N, int64_t E, double bad) {
    graph g = {N, E, mir_malloc(sizeof(int32_t) * E), mir_malloc(sizeof(int32_t) * E), mir_malloc(E), 0};
    for (int64_t e = 0; e < E; e++) {
        g.src[e] = (int32_t)mir_rng_below(rng, N);
        g.dst[e] = (int32_t)mir_rng_below(rng, N);
        g.flow[e] = (int8_t)mir_rng_below(rng, 3);
        if (mir_rng_uniform(rng) < bad) {
            switch (mir_rng_below(rng, 5)) {
            case 0: g.src[e] = -1 - (int32_t)mir_rng_below(rng, 3); break;
            case 1: g.src[e] = N + (int32_t)mir_rng_below(rng, 3); break;
            case 2: g.dst[e] = -1; break;
            case 3: g.dst[e] = N; break;
            default: g.flow[e] = (int8_t)(mir_rng_below(rng, 2) ? 3 : -2); break;
            }
            g.n_bad++;
        }
    }
    return g;
}

static void free_graph(graph *g) {
    free(g->src);
    free(g->dst);
    free(g->flow);
}

static int graph_edge_ok(const graph *g, int64_t e) {
    return g->src[e] >= 0 && g->src[e] < g->N && g->dst[e] >= 0 && g->dst[e] < g->N && g->flow[e] >= 0 &&
           g->flow[e] <= 2;
}

/* A[d*N + s] = number of messages s -> d in relation r, straight from the edge list. */
static double *dense_adj(const graph *g, int r) {
    double *A = mir_calloc((size_t)g->N * g->N, sizeof(double));
    for (int64_t e = 0; e < g->E; e++) {
        if (!graph_edge_ok(g, e) || g->flow[e] != r / 2) continue;
        int32_t s = g->src[e], d = g->dst[e];
        if (r % 2) s = g->dst[e], d = g->src[e];
        A[(int64_t)d * g->N + s] += 1;
    }
    return A;
}

static void fill_uniform(double *x, int64_t n, mir_rng *rng) {
    for (int64_t i = 0; i < n; i++) x[i] = 2 * mir_rng_uniform(rng) - 1;
}

static void test_dense_reference(void) {
    mir_rng rng;
    mir_rng_seed(&rng, 11, 0);
    for (int trial = 0; trial < 20; trial++) {
        const int N = 1 + (int)mir_rng_below(&rng, 12), C = 1 + (int)mir_rng_below(&rng, 5);
        const int64_t E = (int64_t)mir_rng_below(&rng, 4 * N + 1);
        graph g = random_graph(&rng, N, E, 0.1);
        mir_csr rel[NR];
        CHECK_EQ_INT(mir_relations_build(rel, g.src, g.dst, g.flow, g.E, g.N), g.n_bad);
        int64_t total = 0;
        for (int r = 0; r < NR; r++) total += rel[r].n_edges;
        CHECK_EQ_INT(total, 2 * (g.E - g.n_bad));

        double *x = mir_malloc(sizeof(double) * N * C), *y = mir_malloc(sizeof(double) * N * C);
        double *dy = mir_malloc(sizeof(double) * N * C), *dx = mir_malloc(sizeof(double) * N * C);
        double worst = 0;
        for (int r = 0; r < NR; r++) {
            double *A = dense_adj(&g, r);
            fill_uniform(x, (int64_t)N * C, &rng);
            fill_uniform(dy, (int64_t)N * C, &rng);
            mir_spmm_mean_forward_f64(y, x, &rel[r], C);
            memset(dx, 0, sizeof(double) * N * C);
            mir_spmm_mean_backward_f64(dx, dy, &rel[r], C);
            for (int d = 0; d < N; d++) {
                double deg = 0;
                for (int s = 0; s < N; s++) deg += A[(int64_t)d * N + s];
                CHECK_EQ_INT((int64_t)deg, rel[r].row_ptr[d + 1] - rel[r].row_ptr[d]);
                for (int c = 0; c < C; c++) {
                    double ref = 0;
                    for (int s = 0; s < N; s++) ref += A[(int64_t)d * N + s] * x[s * C + c];
                    if (deg > 0) ref /= deg;
                    worst = fmax(worst, fabs(ref - y[d * C + c]));
                }
            }
            for (int s = 0; s < N; s++) {
                double outdeg = 0;
                for (int d = 0; d < N; d++) outdeg += A[(int64_t)d * N + s];
                CHECK_EQ_INT((int64_t)outdeg, rel[r].col_ptr[s + 1] - rel[r].col_ptr[s]);
                for (int c = 0; c < C; c++) {
                    double ref = 0;
                    for (int d = 0; d < N; d++) {
                        double deg = 0;
                        for (int t = 0; t < N; t++) deg += A[(int64_t)d * N + t];
                        if (deg > 0) ref += A[(int64_t)d * N + s] / deg * dy[d * C + c];
                    }
                    worst = fmax(worst, fabs(ref - dx[s * C + c]));
                }
            }
            /* the compact form: rows lists exactly the destinations with messages, row k of the compact
             * result is the full result's row rows[k], and its backward (dy taken at those rows) matches
             * the full backward, whose dy rows without messages are never read */
            {
                int expect = 0;
                for (int d = 0; d < N; d++) {
                    if (rel[r].row_ptr[d + 1] == rel[r].row_ptr[d]) continue;
                    CHECK(expect < rel[r].n_rows);
                    if (expect < rel[r].n_rows) CHECK_EQ_INT(rel[r].rows[expect], d);
                    expect++;
                }
                CHECK_EQ_INT(rel[r].n_rows, expect);
                double *yc = mir_malloc(sizeof(double) * N * C + 1), *dyc = mir_malloc(sizeof(double) * N * C + 1);
                double *dxc = mir_calloc((size_t)N * C, sizeof(double));
                mir_spmm_mean_rows_forward_f64(yc, x, &rel[r], C);
                for (int k = 0; k < rel[r].n_rows; k++)
                    for (int c = 0; c < C; c++) {
                        worst = fmax(worst, fabs(yc[k * C + c] - y[rel[r].rows[k] * C + c]));
                        dyc[k * C + c] = dy[rel[r].rows[k] * C + c];
                    }
                mir_spmm_mean_rows_backward_f64(dxc, dyc, &rel[r], C);
                for (int i = 0; i < N * C; i++) worst = fmax(worst, fabs(dxc[i] - dx[i]));
                free(yc), free(dyc), free(dxc);
            }
            /* relation 2f+1 is the transpose of 2f */
            if (r % 2) {
                CHECK(memcmp(rel[r].row_ptr, rel[r - 1].col_ptr, sizeof(int64_t) * (N + 1)) == 0);
                CHECK(memcmp(rel[r].col_ptr, rel[r - 1].row_ptr, sizeof(int64_t) * (N + 1)) == 0);
            }
            free(A);
        }
        CHECK(worst < 1e-12);
        free(x), free(y), free(dy), free(dx);
        free_rel(rel);
        free_graph(&g);
    }
}

/* ---------------------------------------------------------------------------------------------------- */
/* Finite differences: loss(x) = sum(f(x) * gout); analytic dx = backward(gout) into zeros. */
typedef double (*loss_fn)(void *ctx, const double *x);

typedef struct fd_adapter {
    loss_fn f;
    void *ctx;
    const double *x;
} fd_adapter;
static double fd_adapted(void *p) {
    fd_adapter *a = p;
    return a->f(a->ctx, a->x);
}

/* The worst error of analytic against central differences (fd.h; h 1e-6, floor 1e-3: exact zeros compare
 * against rounding noise). */
static double fd_max_rel(loss_fn f, void *ctx, double *x, int64_t n, const double *analytic) {
    fd_adapter a = {f, ctx, x};
    mir_fd r = mir_fd_init(1e-6, 1e-3, INFINITY);
    mir_fd_check(&r, "x", x, (long)n, NULL, 0, 1, analytic, fd_adapted, &a);
    return r.worst;
}

typedef struct spmm_ctx {
    const mir_csr *rel;
    int N, C;
    const double *gout;
    double *out;
} spmm_ctx;

static double spmm_loss(void *p, const double *x) {
    spmm_ctx *c = p;
    mir_spmm_mean_forward_f64(c->out, x, c->rel, c->C);
    double l = 0;
    for (int64_t i = 0; i < (int64_t)c->N * c->C; i++) l += c->out[i] * c->gout[i];
    return l;
}

typedef struct seg_ctx {
    const int64_t *off;
    int G, C;
    const double *gout;
    double *out;
} seg_ctx;

static double seg_loss(void *p, const double *x) {
    seg_ctx *c = p;
    mir_segment_mean_forward_f64(c->out, x, c->off, c->G, c->C);
    double l = 0;
    for (int64_t i = 0; i < (int64_t)c->G * c->C; i++) l += c->out[i] * c->gout[i];
    return l;
}

typedef struct score_ctx {
    const int32_t *a, *b;
    int n, C;
    const double *gout;
    double *out;
} score_ctx;

static double score_loss(void *p, const double *x) {
    score_ctx *c = p;
    mir_edge_score_forward_f64(c->out, x, c->a, c->b, c->n, c->C);
    double l = 0;
    for (int k = 0; k < c->n; k++) l += c->out[k] * c->gout[k];
    return l;
}

static double worst_fd_spmm = 0, worst_fd_seg = 0, worst_fd_score = 0;

static void test_fd(void) {
    mir_rng rng;
    mir_rng_seed(&rng, 2024, 1);
    for (int trial = 0; trial < 10; trial++) {
        const int N = 2 + (int)mir_rng_below(&rng, 8), C = 1 + (int)mir_rng_below(&rng, 4);
        graph g = random_graph(&rng, N, 3 * N, 0.0);
        mir_csr rel[NR];
        CHECK_EQ_INT(mir_relations_build(rel, g.src, g.dst, g.flow, g.E, g.N), 0);
        const int64_t NC = (int64_t)N * C;
        double *x = mir_malloc(sizeof(double) * NC), *gout = mir_malloc(sizeof(double) * NC);
        double *out = mir_malloc(sizeof(double) * NC), *dx = mir_malloc(sizeof(double) * NC);
        double *dx2 = mir_malloc(sizeof(double) * NC), *base = mir_malloc(sizeof(double) * NC);

        /* spmm, every relation */
        for (int r = 0; r < NR; r++) {
            fill_uniform(x, NC, &rng);
            fill_uniform(gout, NC, &rng);
            memset(dx, 0, sizeof(double) * NC);
            mir_spmm_mean_backward_f64(dx, gout, &rel[r], C);
            spmm_ctx ctx = {&rel[r], N, C, gout, out};
            double e = fd_max_rel(spmm_loss, &ctx, x, NC, dx);
            worst_fd_spmm = fmax(worst_fd_spmm, e);
            CHECK(e < 1e-6);
            /* accumulation: a second call adds as much again; on top of a non-zero buffer too */
            mir_spmm_mean_backward_f64(dx, gout, &rel[r], C);
            fill_uniform(base, NC, &rng);
            memcpy(dx2, base, sizeof(double) * NC);
            mir_spmm_mean_backward_f64(dx2, gout, &rel[r], C);
            double dev = 0;
            for (int64_t i = 0; i < NC; i++) dev = fmax(dev, fabs(dx2[i] - base[i] - 0.5 * dx[i]));
            CHECK(dev < 1e-12);
        }

        /* segment mean over G graphs, one of them empty */
        {
            const int G = 3;
            int64_t off[4] = {0, N / 2, N / 2, N}; /* graph 1 is empty */
            double gg[3 * 4], pooled[3 * 4];
            fill_uniform(x, NC, &rng);
            fill_uniform(gg, (int64_t)G * C, &rng);
            memset(dx, 0, sizeof(double) * NC);
            mir_segment_mean_backward_f64(dx, gg, off, G, C);
            seg_ctx ctx = {off, G, C, gg, pooled};
            double e = fd_max_rel(seg_loss, &ctx, x, NC, dx);
            worst_fd_seg = fmax(worst_fd_seg, e);
            CHECK(e < 1e-6);
            mir_segment_mean_forward_f64(pooled, x, off, G, C);
            for (int c = 0; c < C; c++) CHECK(pooled[C + c] == 0);
            memcpy(dx2, dx, sizeof(double) * NC);
            mir_segment_mean_backward_f64(dx2, gg, off, G, C);
            double dev = 0;
            for (int64_t i = 0; i < NC; i++) dev = fmax(dev, fabs(dx2[i] - 2 * dx[i]));
            CHECK(dev < 1e-12);
        }

        /* edge scores, including a self pair and repeated nodes */
        {
            const int n = 6;
            int32_t a[6], b[6];
            double gs[6], sc[6];
            for (int k = 0; k < n; k++) a[k] = (int32_t)mir_rng_below(&rng, N), b[k] = (int32_t)mir_rng_below(&rng, N);
            b[0] = a[0];
            a[1] = a[2];
            fill_uniform(x, NC, &rng);
            fill_uniform(gs, n, &rng);
            memset(dx, 0, sizeof(double) * NC);
            mir_edge_score_backward_f64(dx, gs, x, a, b, n, C);
            score_ctx ctx = {a, b, n, C, gs, sc};
            double e = fd_max_rel(score_loss, &ctx, x, NC, dx);
            worst_fd_score = fmax(worst_fd_score, e);
            CHECK(e < 1e-6);
            memcpy(dx2, dx, sizeof(double) * NC);
            mir_edge_score_backward_f64(dx2, gs, x, a, b, n, C);
            double dev = 0;
            for (int64_t i = 0; i < NC; i++) dev = fmax(dev, fabs(dx2[i] - 2 * dx[i]));
            CHECK(dev < 1e-12);
        }
        free(x), free(gout), free(out), free(dx), free(dx2), free(base);
        free_rel(rel);
        free_graph(&g);
    }
    printf("worst FD relative error: spmm_mean %.3g, segment_mean %.3g, edge_score %.3g\n", worst_fd_spmm,
           worst_fd_seg, worst_fd_score);
}

/* ---------------------------------------------------------------------------------------------------- */
static double max_diff_fd(const float *f, const double *d, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs((double)f[i] - d[i]));
    return m;
}

static void to_float(float *f, const double *d, int64_t n) {
    for (int64_t i = 0; i < n; i++) f[i] = (float)d[i];
}

static void test_float_vs_double(void) {
    mir_rng rng;
    mir_rng_seed(&rng, 99, 3);
    double worst = 0;
    for (int trial = 0; trial < 10; trial++) {
        const int N = 1 + (int)mir_rng_below(&rng, 20), C = 1 + (int)mir_rng_below(&rng, 8);
        graph g = random_graph(&rng, N, 4 * N, 0.05);
        mir_csr rel[NR];
        mir_relations_build(rel, g.src, g.dst, g.flow, g.E, g.N);
        const int64_t NC = (int64_t)N * C;
        double *xd = mir_malloc(sizeof(double) * NC), *yd = mir_malloc(sizeof(double) * NC);
        double *gd = mir_calloc(NC, sizeof(double));
        float *xf = mir_malloc(sizeof(float) * NC), *yf = mir_malloc(sizeof(float) * NC);
        float *gf = mir_calloc(NC, sizeof(float));
        /* inputs rounded to float first, so both precisions see the same numbers */
        fill_uniform(xd, NC, &rng);
        to_float(xf, xd, NC);
        for (int64_t i = 0; i < NC; i++) xd[i] = xf[i];
        for (int r = 0; r < NR; r++) {
            mir_spmm_mean_forward_f64(yd, xd, &rel[r], C);
            mir_spmm_mean_forward_f32(yf, xf, &rel[r], C);
            worst = fmax(worst, max_diff_fd(yf, yd, NC));
            mir_spmm_mean_backward_f64(gd, xd, &rel[r], C);
            mir_spmm_mean_backward_f32(gf, xf, &rel[r], C);
            worst = fmax(worst, max_diff_fd(gf, gd, NC));
        }
        int64_t off[3] = {0, N / 3, N};
        double pd[2 * 8];
        float pf[2 * 8];
        mir_segment_mean_forward_f64(pd, xd, off, 2, C);
        mir_segment_mean_forward_f32(pf, xf, off, 2, C);
        worst = fmax(worst, max_diff_fd(pf, pd, 2 * C));
        mir_segment_mean_backward_f64(gd, pd, off, 2, C);
        mir_segment_mean_backward_f32(gf, pf, off, 2, C);
        worst = fmax(worst, max_diff_fd(gf, gd, NC));
        int32_t a[8], b[8];
        double sd[8];
        float sf[8];
        for (int k = 0; k < 8; k++) a[k] = (int32_t)mir_rng_below(&rng, N), b[k] = (int32_t)mir_rng_below(&rng, N);
        mir_edge_score_forward_f64(sd, xd, a, b, 8, C);
        mir_edge_score_forward_f32(sf, xf, a, b, 8, C);
        worst = fmax(worst, max_diff_fd(sf, sd, 8));
        mir_edge_score_backward_f64(gd, sd, xd, a, b, 8, C);
        mir_edge_score_backward_f32(gf, sf, xf, a, b, 8, C);
        worst = fmax(worst, max_diff_fd(gf, gd, NC));
        free(xd), free(yd), free(gd), free(xf), free(yf), free(gf);
        free_rel(rel);
        free_graph(&g);
    }
    printf("worst |float - double|: %.3g\n", worst);
    CHECK(worst < 1e-5);
}

/* ---------------------------------------------------------------------------------------------------- */
/* adjacency in either direction, any flow, from the edge list */
static int listed_edge(const int32_t *src, const int32_t *dst, const int8_t *flow, int64_t E, int N, int32_t a,
                       int32_t b) {
    for (int64_t e = 0; e < E; e++) {
        if (src[e] < 0 || src[e] >= N || dst[e] < 0 || dst[e] >= N || flow[e] < 0 || flow[e] > 2) continue;
        if ((src[e] == a && dst[e] == b) || (src[e] == b && dst[e] == a)) return 1;
    }
    return 0;
}

static void test_sampling_hand(void) {
    mir_csr rel[NR];
    mir_relations_build(rel, H_SRC, H_DST, H_FLOW, H_E, H_N);
    mir_rng rng;
    mir_rng_seed(&rng, 5, 0);
    enum { K = 4000 };
    int32_t *a = mir_malloc(sizeof(int32_t) * K), *b = mir_malloc(sizeof(int32_t) * K);

    /* node 2 is adjacent to 0, 1, 3 and 4: its only non-edge in [0, 5) is (2, 2) */
    for (int k = 0; k < K; k++) a[k] = 2;
    mir_sample_non_edges(b, a, K, 0, H_N, rel, &rng);
    int ok = 1;
    for (int k = 0; k < K; k++) ok &= b[k] == 2;
    CHECK(ok);

    /* node 0 is adjacent to 1, 2, 4: non-edges 0 and 3, each drawn about half of the time */
    for (int k = 0; k < K; k++) a[k] = 0;
    mir_sample_non_edges(b, a, K, 0, H_N, rel, &rng);
    int n0 = 0, n3 = 0;
    for (int k = 0; k < K; k++) n0 += b[k] == 0, n3 += b[k] == 3;
    CHECK_EQ_INT(n0 + n3, K);
    CHECK(n0 > 0.45 * K && n3 > 0.45 * K);

    /* node 0 in [1, 3): 1 and 2 are both neighbours, so any draw in range is accepted */
    mir_sample_non_edges(b, a, 100, 1, 3, rel, &rng);
    ok = 1;
    for (int k = 0; k < 100; k++) ok &= b[k] >= 1 && b[k] < 3;
    CHECK(ok);

    /* node 3 in [2, 5): 2 is a neighbour, 3 and 4 are not */
    for (int k = 0; k < K; k++) a[k] = 3;
    mir_sample_non_edges(b, a, K, 2, 5, rel, &rng);
    ok = 1;
    for (int k = 0; k < K; k++) ok &= b[k] == 3 || b[k] == 4;
    CHECK(ok);

    /* empty range: lo, no draws */
    mir_rng before = rng;
    mir_sample_non_edges(b, a, 3, 4, 4, rel, &rng);
    CHECK(b[0] == 4 && b[1] == 4 && b[2] == 4);
    CHECK(memcmp(&before, &rng, sizeof(rng)) == 0);

    free(a), free(b);
    free_rel(rel);
}

static void test_sampling_random(void) {
    mir_rng rng;
    mir_rng_seed(&rng, 77, 2);
    for (int trial = 0; trial < 30; trial++) {
        /* a batch of two graphs: nodes [0, n1) and [n1, N); dense enough that rejection often fails */
        const int n1 = 1 + (int)mir_rng_below(&rng, 8), N = n1 + 1 + (int)mir_rng_below(&rng, 8);
        const int64_t E = (int64_t)mir_rng_below(&rng, 4 * N + 1);
        graph g = random_graph(&rng, N, E, 0.05);
        /* keep edges inside their graph, as batching does */
        for (int64_t e = 0; e < E; e++)
            if (graph_edge_ok(&g, e) && ((g.src[e] < n1) != (g.dst[e] < n1))) g.flow[e] = 7;
        mir_csr rel[NR];
        mir_relations_build(rel, g.src, g.dst, g.flow, g.E, g.N);
        const int n = 200;
        int32_t a[200], b[200], b2[200];
        const int32_t lo = trial % 2 ? n1 : 0, hi = trial % 2 ? N : n1;
        for (int k = 0; k < n; k++) a[k] = lo + (int32_t)mir_rng_below(&rng, hi - lo);
        uint64_t seed = mir_rng_next(&rng);
        mir_rng r1, r2;
        mir_rng_seed(&r1, seed, 0);
        mir_rng_seed(&r2, seed, 0);
        mir_sample_non_edges(b, a, n, lo, hi, rel, &r1);
        mir_sample_non_edges(b2, a, n, lo, hi, rel, &r2);
        CHECK(memcmp(b, b2, sizeof(b)) == 0);
        int in_range = 1, non_edge = 1;
        for (int k = 0; k < n; k++) {
            in_range &= b[k] >= lo && b[k] < hi;
            int exists = 0;
            for (int32_t v = lo; v < hi && !exists; v++) exists = !listed_edge(g.src, g.dst, g.flow, g.E, N, a[k], v);
            if (exists && listed_edge(g.src, g.dst, g.flow, g.E, N, a[k], b[k])) non_edge = 0;
        }
        CHECK(in_range);
        CHECK(non_edge);
        free_rel(rel);
        free_graph(&g);
    }
}

int main(void) {
    test_hand_graph();
    test_empty();
    test_dense_reference();
    test_fd();
    test_float_vs_double();
    test_sampling_hand();
    test_sampling_random();
    return mir_test_finish("test_graphops");
}
