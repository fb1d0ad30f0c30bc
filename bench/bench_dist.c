/*
 * bench_dist: the distributed linear layer (train/dist.h) against plain cblas_sgemm on one rank, in the
 * same run.
 *
 *   mpirun -np N bench_dist [-g PxQ] [-b NB] [-r REPS] ROWS C OC
 *
 * Reference: cblas_sgemm of the full (ROWS x C) @ (C x OC) product and its two backward products on rank 0
 * alone (best of REPS). Measured: mir_dist_forward + mir_dist_backward on the grid (every group runs the
 * same product), split into PSGEMM and assembly (the group's allreduce). Prints GFLOP/s of both and the
 * ratio; the OpenBLAS kernel in use.
 */
#include <cblas.h>
#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blascheck.h"
#include "dist.h"


int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank, size, P = 1, Q = 0, nb = 64, reps = 5, c;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    while ((c = getopt(argc, argv, "g:b:r:h")) != -1) {
        if (c == 'g' && mir_grid_parse(optarg, &P, &Q) == 0) continue;
        if (c == 'b' && (nb = atoi(optarg)) > 0) continue;
        if (c == 'r' && (reps = atoi(optarg)) > 0) continue;
        if (rank == 0) fprintf(stderr, "usage: mpirun -np N bench_dist [-g PxQ] [-b NB] [-r REPS] ROWS C OC\n");
        MPI_Finalize();
        return c == 'h' ? 0 : 2;
    }
    if (argc - optind != 3) {
        if (rank == 0) fprintf(stderr, "usage: mpirun -np N bench_dist [-g PxQ] [-b NB] [-r REPS] ROWS C OC\n");
        MPI_Finalize();
        return 2;
    }
    if (Q == 0) Q = size;
    int N = atoi(argv[optind]), C = atoi(argv[optind + 1]), OC = atoi(argv[optind + 2]);
    mir_grid g;
    mir_error err;
    if (mir_grid_init(&g, MPI_COMM_WORLD, P, Q, nb, &err)) {
        if (rank == 0) fprintf(stderr, "bench_dist: %s\n", err.msg);
        MPI_Finalize();
        return 1;
    }
    float *X = malloc((size_t)N * C * 4), *W = malloc((size_t)C * OC * 4), *Y = malloc((size_t)N * OC * 4);
    float *dX = malloc((size_t)N * C * 4), *dW = malloc((size_t)C * OC * 4);
    for (size_t i = 0; i < (size_t)N * C; i++) X[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < (size_t)C * OC; i++) W[i] = (float)((i * 104729) % 1000) / 1000.0f - 0.5f;
    double flops = 3.0 * 2.0 * N * (double)C * OC;
    /* reference on rank 0 */
    double ref = 1e30;
    if (rank == 0)
        for (int r = 0; r < reps; r++) {
            double t0 = mir_wall_seconds();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, OC, C, 1, X, C, W, OC, 0, Y, OC);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, OC, 1, Y, OC, W, OC, 0, dX, C);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, OC, N, 1, X, C, Y, OC, 0, dW, OC);
            double t = mir_wall_seconds() - t0;
            ref = t < ref ? t : ref;
        }
    MPI_Barrier(MPI_COMM_WORLD);
    mir_dist d;
    memset(&d, 0, sizeof d);
    d.grid = &g;
    mir_dist_tensor t;
    mir_dist_tensor_plan(&g, C, OC, &t);
    float *wloc = calloc(t.n + 1, 4), *dwloc = calloc(t.n + 1, 4);
    mir_dist_take(&g, &t, W, wloc);
    double best = 1e30, gemm = 0, comm = 0;
    for (int r = 0; r < reps; r++) {
        MPI_Barrier(MPI_COMM_WORLD);
        d.t_gemm = d.t_comm = 0;
        double t0 = mir_wall_seconds();
        mir_dist_forward(&d, &t, Y, X, wloc, N, 0);
        memset(dX, 0, (size_t)N * C * 4);
        mir_dist_backward(&d, &t, dX, dwloc, Y, X, wloc, N);
        double tt = mir_wall_seconds() - t0;
        MPI_Allreduce(MPI_IN_PLACE, &tt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (tt < best) {
            best = tt;
            gemm = d.t_gemm;
            comm = d.t_comm;
        }
    }
    if (rank == 0) {
        printf("bench_dist: %d x %d @ %d x %d (+ backward), grid %dx%d (%d groups), block %d, OpenBLAS %s\n", N, C, C, OC,
               P, Q, g.n_groups, nb, mir_blas_core());
        printf("cblas_sgemm on 1 rank: %.4f s, %.1f GFLOP/s\n", ref, flops / ref / 1e9);
        printf("distributed: %.4f s (PSGEMM %.4f s, assembly %.4f s), %.1f GFLOP/s; %.2fx the one-rank time\n", best,
               gemm, comm, flops / best / 1e9, ref / best);
    }
    free(X); free(W); free(Y); free(dX); free(dW); free(wloc); free(dwloc); free(d.ws);
    mir_grid_free(&g);
    MPI_Finalize();
    return 0;
}
