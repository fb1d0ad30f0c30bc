/*
 * graphops.inc.c: the float/double kernels of graphops_decl.h, written once against `real` (see real.h).
 * Not compiled on its own: graphops_f32.c and graphops_f64.c include it after defining MIR_REAL_DOUBLE
 * and including real.h. Forward functions overwrite their output; backward functions accumulate (+=).
 * Except for mir_edge_score_backward and mir_spmm_mean_rows_backward (a scatter along the CSR rows), no
 * kernel writes to a row from two iterations of its outer loop, so those loops can be split over threads
 * as is (mir_spmm_mean_backward walks the CSC by source instead of scattering, so it needs no atomics).
 */
#ifndef R
#error "graphops.inc.c is included by graphops_f32.c / graphops_f64.c after real.h"
#endif

#include <stdint.h>
#include <string.h>

/* o = mean of inp[src] over the in-neighbours of node n (0 for a node without any). */
static void R(mean_row)(real *o, const real *inp, const mir_csr *rel, int n, int C) {
    const int64_t j0 = rel->row_ptr[n], j1 = rel->row_ptr[n + 1];
    for (int c = 0; c < C; c++) o[c] = 0;
    if (j1 == j0) return;
    for (int64_t j = j0; j < j1; j++) {
        const real *x = inp + (int64_t)rel->src[j] * C;
        for (int c = 0; c < C; c++) o[c] += x[c];
    }
    const real inv = (real)1 / (real)(j1 - j0);
    for (int c = 0; c < C; c++) o[c] *= inv;
}

void R(mir_spmm_mean_forward)(real *out, const real *inp, const mir_csr *rel, int C) {
    for (int n = 0; n < rel->n_nodes; n++) R(mean_row)(out + (int64_t)n * C, inp, rel, n, C);
}

/* dinp[s] += sum over the edges s->d of dout[d] / indeg(d): one pass over s's CSC column. */
void R(mir_spmm_mean_backward)(real *dinp, const real *dout, const mir_csr *rel, int C) {
    const int N = rel->n_nodes;
    for (int s = 0; s < N; s++) {
        real *g = dinp + (int64_t)s * C;
        for (int64_t j = rel->col_ptr[s]; j < rel->col_ptr[s + 1]; j++) {
            const int32_t d = rel->col_dst[j];
            const real inv = (real)1 / (real)(rel->row_ptr[d + 1] - rel->row_ptr[d]);
            const real *dy = dout + (int64_t)d * C;
            for (int c = 0; c < C; c++) g[c] += dy[c] * inv;
        }
    }
}

void R(mir_spmm_mean_rows_forward)(real *out, const real *inp, const mir_csr *rel, int C) {
    for (int k = 0; k < rel->n_rows; k++) R(mean_row)(out + (int64_t)k * C, inp, rel, rel->rows[k], C);
}

/* dinp[s] += dout[k] / indeg(d) for each edge s->d, d = rows[k]: a scatter along the CSR rows. */
void R(mir_spmm_mean_rows_backward)(real *dinp, const real *dout, const mir_csr *rel, int C) {
    for (int k = 0; k < rel->n_rows; k++) {
        const int64_t j0 = rel->row_ptr[rel->rows[k]], j1 = rel->row_ptr[rel->rows[k] + 1];
        const real inv = (real)1 / (real)(j1 - j0);
        const real *dy = dout + (int64_t)k * C;
        for (int64_t j = j0; j < j1; j++) {
            real *g = dinp + (int64_t)rel->src[j] * C;
            for (int c = 0; c < C; c++) g[c] += dy[c] * inv;
        }
    }
}

void R(mir_segment_mean_forward)(real *out, const real *inp, const int64_t *node_offset, int G, int C) {
    for (int g = 0; g < G; g++) {
        real *o = out + (int64_t)g * C;
        const int64_t n0 = node_offset[g], n1 = node_offset[g + 1];
        for (int c = 0; c < C; c++) o[c] = 0;
        if (n1 <= n0) continue;
        for (int64_t n = n0; n < n1; n++) {
            const real *x = inp + n * C;
            for (int c = 0; c < C; c++) o[c] += x[c];
        }
        const real inv = (real)1 / (real)(n1 - n0);
        for (int c = 0; c < C; c++) o[c] *= inv;
    }
}

void R(mir_segment_mean_backward)(real *dinp, const real *dout, const int64_t *node_offset, int G, int C) {
    for (int g = 0; g < G; g++) {
        const int64_t n0 = node_offset[g], n1 = node_offset[g + 1];
        if (n1 <= n0) continue;
        const real inv = (real)1 / (real)(n1 - n0);
        const real *dy = dout + (int64_t)g * C;
        for (int64_t n = n0; n < n1; n++) {
            real *gx = dinp + n * C;
            for (int c = 0; c < C; c++) gx[c] += dy[c] * inv;
        }
    }
}

void R(mir_edge_score_forward)(real *score, const real *h, const int32_t *a, const int32_t *b, int n, int C) {
    for (int k = 0; k < n; k++) {
        const real *x = h + (int64_t)a[k] * C, *y = h + (int64_t)b[k] * C;
        real s = 0;
        for (int c = 0; c < C; c++) s += x[c] * y[c];
        score[k] = s;
    }
}

/* Pairs may share nodes (and a[k] == b[k] gives 2 * dscore * h[a]), so this loop scatters: run it on one
 * thread, or split it by pair ranges into private buffers. */
void R(mir_edge_score_backward)(real *dh, const real *dscore, const real *h, const int32_t *a, const int32_t *b,
                                int n, int C) {
    for (int k = 0; k < n; k++) {
        const real ds = dscore[k];
        const real *x = h + (int64_t)a[k] * C, *y = h + (int64_t)b[k] * C;
        real *gx = dh + (int64_t)a[k] * C, *gy = dh + (int64_t)b[k] * C;
        for (int c = 0; c < C; c++) gx[c] += ds * y[c];
        for (int c = 0; c < C; c++) gy[c] += ds * x[c];
    }
}
