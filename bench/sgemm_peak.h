/* sgemm_peak.h: the reference the model benchmarks divide by, measured in their own run: cblas_sgemm on
 * n x n matrices, best of 5, with the OpenBLAS threads in force. Returns GFLOP/s. Warns first when OpenBLAS
 * runs kernels older than the CPU (blascheck.h). */
#ifndef MIR_BENCH_SGEMM_PEAK_H
#define MIR_BENCH_SGEMM_PEAK_H
#include <cblas.h>
#include <stdlib.h>

#include "blascheck.h"
#include "mir_common.h"

static inline double sgemm_peak(int n) {
    mir_blas_check(); /* says so when the kernel is far below the CPU */
    float *a = malloc((size_t)n * n * 4), *b = malloc((size_t)n * n * 4), *c = malloc((size_t)n * n * 4);
    for (size_t i = 0; i < (size_t)n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.2f;
    }
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = mir_wall_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double t = mir_wall_seconds() - t0;
        if (t < best) best = t;
    }
    free(a);
    free(b);
    free(c);
    return 2.0 * n * n * (double)n / best / 1e9;
}
#endif
