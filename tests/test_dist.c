/*
 * test_dist: the block-cyclic linear layer (train/dist.h) against plain cblas_sgemm, under mpirun.
 *   mpirun -np 4 test_dist
 * For every grid P x Q that divides the number of ranks, block sizes 2, 3 and 64, and shapes that are not
 * multiples of the block size: forward Y = X W (and Y += X W), backward dX = dY W^T and dW = X^T dY,
 * each compared with cblas_sgemm on the full matrices (relative error under 1e-5 of the result's largest
 * element). Then the model layout: scatter + gather of a full parameter buffer gives it back bit for
 * bit, the distributed tensors' pieces add up to the whole, and the squared norm matches the full one.
 */
#include <cblas.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "dist.h"
#include "mir_test.h"
#include "rng.h"

static void fill(float *a, size_t n, uint64_t seed) {
    mir_rng r;
    mir_rng_seed(&r, seed, 7);
    for (size_t i = 0; i < n; i++) a[i] = (float)(mir_rng_uniform(&r) * 2.0 - 1.0);
}

static double rel_err(const float *a, const float *b, size_t n) {
    double worst = 0, scale = 1e-30;
    for (size_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    return worst / scale;
}

static double check_shape(const mir_grid *g, int N, int C, int OC) {
    mir_dist d;
    memset(&d, 0, sizeof d);
    d.grid = g;
    mir_dist_tensor t;
    mir_dist_tensor_plan(g, C, OC, &t);
    float *X = malloc((size_t)N * C * 4), *W = malloc((size_t)C * OC * 4), *dY = malloc((size_t)N * OC * 4);
    fill(X, (size_t)N * C, 1 + N);
    fill(W, (size_t)C * OC, 2 + C);
    fill(dY, (size_t)N * OC, 3 + OC);
    float *wloc = calloc(t.n + 1, 4), *dwloc = calloc(t.n + 1, 4);
    mir_dist_take(g, &t, W, wloc);
    /* references */
    float *Y = calloc((size_t)N * OC, 4), *dX = calloc((size_t)N * C, 4), *dW = calloc((size_t)C * OC, 4);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, OC, C, 1, X, C, W, OC, 0, Y, OC);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, OC, 1, dY, OC, W, OC, 0, dX, C);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, OC, N, 1, X, C, dY, OC, 0, dW, OC);
    /* distributed */
    float *y = malloc((size_t)N * OC * 4), *dx = calloc((size_t)N * C, 4), *dw = calloc((size_t)C * OC, 4);
    mir_dist_forward(&d, &t, y, X, wloc, N, 0);
    double worst = rel_err(y, Y, (size_t)N * OC);
    mir_dist_forward(&d, &t, y, X, wloc, N, 1); /* y = 2 X W */
    for (size_t i = 0; i < (size_t)N * OC; i++) y[i] *= 0.5f;
    worst = fmax(worst, rel_err(y, Y, (size_t)N * OC));
    mir_dist_backward(&d, &t, dx, dwloc, dY, X, wloc, N);
    worst = fmax(worst, rel_err(dx, dX, (size_t)N * C));
    mir_dist_put(g, &t, dwloc, dw);
    MPI_Allreduce(MPI_IN_PLACE, dw, C * OC, MPI_FLOAT, MPI_SUM, g->group);
    worst = fmax(worst, rel_err(dw, dW, (size_t)C * OC));
    free(X); free(W); free(dY); free(wloc); free(dwloc); free(Y); free(dX); free(dW); free(y); free(dx); free(dw);
    free(d.ws);
    return worst;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    static const int grids[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}, {1, 4}, {4, 1}, {1, 3}, {3, 1}};
    static const int shapes[][3] = {{7, 5, 11}, {33, 17, 9}, {100, 64, 130}, {1, 3, 1}, {257, 96, 384}};
    static const int blocks[] = {2, 3, 64};
    for (size_t gi = 0; gi < sizeof grids / sizeof *grids; gi++) {
        int P = grids[gi][0], Q = grids[gi][1];
        if (size % (P * Q)) continue;
        for (size_t bi = 0; bi < sizeof blocks / sizeof *blocks; bi++) {
            mir_grid g;
            mir_error err;
            CHECK_FATAL(mir_grid_init(&g, MPI_COMM_WORLD, P, Q, blocks[bi], &err) == 0);
            double worst = 0;
            for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
                worst = fmax(worst, check_shape(&g, shapes[si][0], shapes[si][1], shapes[si][2]));
            MPI_Allreduce(MPI_IN_PLACE, &worst, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
            if (rank == 0) printf("grid %dx%d (%d groups), block %d: worst relative error %.2e\n", P, Q, g.n_groups,
                                  blocks[bi], worst);
            CHECK(worst < 1e-5);
            mir_grid_free(&g);
        }
    }
    /* the model's layout: a 2-rank grid, a tiny model widened so that graph weights are distributed too */
    int P = size >= 2 ? 2 : 1;
    mir_grid g;
    mir_error err;
    CHECK_FATAL(mir_grid_init(&g, MPI_COMM_WORLD, 1, P, 3, &err) == 0);
    mir_config cfg = {50, 16, MIR_DIST_GRAPH_MIN_WIDTH, 2, 1, 40, 1, 32, 0, 0, 0};
    mir_dist d;
    mir_dist_init(&d, &g, &cfg);
    float *full = malloc(d.n_full * 4), *local = malloc(d.n_local * 4), *back = calloc(d.n_full, 4);
    fill(full, d.n_full, 99);
    mir_dist_scatter(&d, full, local);
    mir_dist_gather(&d, local, back);
    int me;
    MPI_Comm_rank(g.group, &me);
    if (me == 0) CHECK(memcmp(full, back, d.n_full * 4) == 0);
    long long dist_local = (long long)d.n_dist_local, dist_sum = 0, dist_full = 0, rep = (long long)(d.n_local - d.n_dist_local);
    MPI_Allreduce(&dist_local, &dist_sum, 1, MPI_LONG_LONG, MPI_SUM, g.group);
    for (int i = 0; i < d.n_tensors; i++)
        if (d.t[i].distributed) dist_full += (long long)d.t[i].gn;
    CHECK_EQ_INT(dist_sum, dist_full);
    CHECK_EQ_INT(rep + dist_full, (long long)d.n_full);
    int graph_dist = 0;
    for (int i = 0; i < d.n_tensors; i++) graph_dist += d.t[i].distributed && !strncmp(d.table[i].name, "graph/l", 7);
    CHECK(P == 1 || graph_dist == 7); /* w_self and 6 w_rel of the one graph layer */
    double n2 = mir_dist_norm2(&d, local), ref = 0;
    for (size_t i = 0; i < d.n_full; i++) ref += (double)full[i] * full[i];
    CHECK(fabs(n2 - ref) <= 1e-9 * ref);
    if (rank == 0) printf("model layout: %zu of %zu elements local on rank 0 (%lld distributed in all)\n", d.n_local,
                          d.n_full, dist_full);
    free(full); free(local); free(back);
    mir_dist_free(&d);
    mir_grid_free(&g);
    int fails = mir_test_failures, all = 0;
    MPI_Allreduce(&fails, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    mir_test_failures = rank == 0 ? all : 0;
    int rc = rank == 0 ? mir_test_finish("test_dist") : (all ? 1 : 0);
    MPI_Finalize();
    return rc;
}
