/* dist.c: block-cyclic weights and their PSGEMM products (dist.h). */
#include "dist.h"

#include <stdlib.h>
#include <string.h>

/* ScaLAPACK (Fortran interface) */
extern void descinit_(int *desc, const int *m, const int *n, const int *mb, const int *nb, const int *irsrc,
                      const int *icsrc, const int *ictxt, const int *lld, int *info);
extern void psgemm_(const char *transa, const char *transb, const int *m, const int *n, const int *k,
                    const float *alpha, const float *a, const int *ia, const int *ja, const int *desca, const float *b,
                    const int *ib, const int *jb, const int *descb, const float *beta, float *c, const int *ic,
                    const int *jc, const int *descc);

/* ------------------------------------------------------------------------------------------------ */
/* layout                                                                                           */

/* A global column-major matrix (M x N, leading dimension lda) and the local piece (mloc x nloc, leading
 * dimension lld) that this rank holds of it. take: piece <- global; put: global <- piece (only the
 * elements this rank owns are written). */
static void take_cm(const mir_grid *g, int mloc, int nloc, const float *A, size_t lda, float *loc, int lld) {
    for (int lj = 0; lj < nloc; lj++) {
        size_t gj = (size_t)mir_grid_l2g(lj, g->nb, g->pcol, g->Q);
        for (int li = 0; li < mloc; li++)
            loc[(size_t)lj * lld + li] = A[gj * lda + (size_t)mir_grid_l2g(li, g->nb, g->prow, g->P)];
    }
}

static void put_cm(const mir_grid *g, int mloc, int nloc, const float *loc, int lld, float *A, size_t lda) {
    for (int lj = 0; lj < nloc; lj++) {
        size_t gj = (size_t)mir_grid_l2g(lj, g->nb, g->pcol, g->Q);
        for (int li = 0; li < mloc; li++)
            A[gj * lda + (size_t)mir_grid_l2g(li, g->nb, g->prow, g->P)] = loc[(size_t)lj * lld + li];
    }
}

static void desc(const mir_grid *g, int *d, int M, int N, int mloc) {
    int zero = 0, info = 0, lld = mloc > 1 ? mloc : 1;
    descinit_(d, &M, &N, &g->nb, &g->nb, &zero, &zero, &g->ctxt, &lld, &info);
}

void mir_dist_tensor_plan(const mir_grid *g, int C, int OC, mir_dist_tensor *t) {
    memset(t, 0, sizeof *t);
    t->distributed = 1;
    t->rows = C;
    t->cols = OC;
    t->mloc = mir_grid_numroc(OC, g->nb, g->prow, g->P);
    t->nloc = mir_grid_numroc(C, g->nb, g->pcol, g->Q);
    t->n = (size_t)t->mloc * (size_t)t->nloc;
    t->gn = (size_t)C * (size_t)OC;
    desc(g, t->desc, OC, C, t->mloc);
}

void mir_dist_take(const mir_grid *g, const mir_dist_tensor *t, const float *w, float *wloc) {
    take_cm(g, t->mloc, t->nloc, w, (size_t)t->cols, wloc, t->mloc > 1 ? t->mloc : 1);
}

void mir_dist_put(const mir_grid *g, const mir_dist_tensor *t, const float *wloc, float *w) {
    put_cm(g, t->mloc, t->nloc, wloc, t->mloc > 1 ? t->mloc : 1, w, (size_t)t->cols);
}

static int is_distributed(const char *name, int C) {
    static const char *const tok[] = {"/w_qkv", "/w_proj", "/w_fc", "/w_fc2"};
    if (!strcmp(name, "head/w_mlm") || !strcmp(name, "head/w_node")) return 1;
    if (!strncmp(name, "tok/h", 5))
        for (size_t i = 0; i < sizeof tok / sizeof *tok; i++) {
            const char *s = strstr(name, tok[i]);
            if (s && s[strlen(tok[i])] == '\0') return 1;
        }
    if (!strncmp(name, "graph/l", 7) && C >= MIR_DIST_GRAPH_MIN_WIDTH)
        return strstr(name, "/w_self") != NULL || strstr(name, "/w_rel") != NULL;
    return 0;
}

void mir_dist_init(mir_dist *d, const mir_grid *g, const mir_config *cfg) {
    memset(d, 0, sizeof *d);
    d->grid = g;
    d->cfg = *cfg;
    d->table = mir_params_table_new(cfg, &d->n_tensors, &d->n_full);
    d->t = mir_calloc((size_t)d->n_tensors, sizeof *d->t);
    size_t off = 0;
    for (int i = 0; i < d->n_tensors; i++) {
        mir_dist_tensor *t = &d->t[i];
        const mir_tensor_info *ti = &d->table[i];
        if (g->P * g->Q > 1 && is_distributed(ti->name, cfg->d_model)) {
            mir_dist_tensor_plan(g, ti->rows, ti->cols, t);
            d->n_dist_local += t->n;
        } else {
            t->rows = ti->rows;
            t->cols = ti->cols;
            t->n = t->gn = (size_t)ti->rows * (size_t)ti->cols;
        }
        t->goff = ti->offset;
        t->off = off;
        d->table[i].offset = off;
        off += t->n;
    }
    d->n_local = off;
}

void mir_dist_free(mir_dist *d) {
    free(d->t);
    free(d->table);
    free(d->ws);
    memset(d, 0, sizeof *d);
}

void mir_dist_scatter(const mir_dist *d, const float *full, float *local) {
    for (int i = 0; i < d->n_tensors; i++) {
        const mir_dist_tensor *t = &d->t[i];
        if (t->distributed) mir_dist_take(d->grid, t, full + t->goff, local + t->off);
        else memcpy(local + t->off, full + t->goff, t->n * sizeof(float));
    }
}

void mir_dist_gather(mir_dist *d, const float *local, float *full) {
    int me;
    MPI_Comm_rank(d->grid->group, &me);
    size_t big = 0;
    for (int i = 0; i < d->n_tensors; i++)
        if (d->t[i].distributed && d->t[i].gn > big) big = d->t[i].gn;
    float *tmp = big ? mir_malloc(big * sizeof *tmp) : NULL;
    for (int i = 0; i < d->n_tensors; i++) {
        const mir_dist_tensor *t = &d->t[i];
        if (!t->distributed) {
            if (me == 0) memcpy(full + t->goff, local + t->off, t->n * sizeof(float));
            continue;
        }
        memset(tmp, 0, t->gn * sizeof *tmp);
        mir_dist_put(d->grid, t, local + t->off, tmp);
        MPI_Reduce(me == 0 ? MPI_IN_PLACE : tmp, tmp, (int)t->gn, MPI_FLOAT, MPI_SUM, 0, d->grid->group);
        if (me == 0) memcpy(full + t->goff, tmp, t->gn * sizeof(float));
    }
    free(tmp);
}

double mir_dist_norm2(const mir_dist *d, const float *local) {
    double rep = 0, dist = 0;
    for (int i = 0; i < d->n_tensors; i++) {
        const mir_dist_tensor *t = &d->t[i];
        double s = 0;
        for (size_t k = 0; k < t->n; k++) s += (double)local[t->off + k] * local[t->off + k];
        if (t->distributed) dist += s;
        else rep += s;
    }
    if (d->grid->P * d->grid->Q > 1) MPI_Allreduce(MPI_IN_PLACE, &dist, 1, MPI_DOUBLE, MPI_SUM, d->grid->group);
    return rep + dist;
}

/* ------------------------------------------------------------------------------------------------ */
/* products                                                                                         */

static float *workspace(mir_dist *d, size_t n) {
    if (n > d->ws_cap) {
        free(d->ws);
        d->ws = mir_malloc(n * sizeof(float));
        d->ws_cap = n;
    }
    return d->ws;
}

/* the full (rows x cols, row-major == column-major transpose) result from each rank's blocks */
static void assemble(mir_dist *d, const float *loc, int mloc, int nloc, float *full, int cols, int rows) {
    double t0 = mir_wall_seconds();
    memset(full, 0, (size_t)rows * cols * sizeof *full);
    put_cm(d->grid, mloc, nloc, loc, mloc > 1 ? mloc : 1, full, (size_t)cols);
    MPI_Allreduce(MPI_IN_PLACE, full, rows * cols, MPI_FLOAT, MPI_SUM, d->grid->group);
    d->t_comm += mir_wall_seconds() - t0;
}

/* Local extents of a product's replicated operands on this rank: X^T (C x N) is xm x nn, Y^T (OC x N) is
 * ym x nn; nx, ny their element counts with a leading dimension of at least 1. */
typedef struct pieces {
    int xm, ym, nn;
    size_t nx, ny;
} pieces;

static pieces local_pieces(const mir_grid *g, int C, int OC, int N) {
    pieces p;
    p.xm = mir_grid_numroc(C, g->nb, g->prow, g->P);
    p.ym = mir_grid_numroc(OC, g->nb, g->prow, g->P);
    p.nn = mir_grid_numroc(N, g->nb, g->pcol, g->Q);
    p.nx = (size_t)(p.xm > 1 ? p.xm : 1) * p.nn;
    p.ny = (size_t)(p.ym > 1 ? p.ym : 1) * p.nn;
    return p;
}

void mir_dist_forward(mir_dist *d, const mir_dist_tensor *t, float *out, const float *inp, const float *wloc, int N,
                      int accumulate) {
    const mir_grid *g = d->grid;
    const int C = t->rows, OC = t->cols, one_i = 1;
    if (N <= 0) return;
    const pieces pc = local_pieces(g, C, OC, N);
    const int xm = pc.xm, ym = pc.ym, nn = pc.nn;
    const size_t nx = pc.nx, ny = pc.ny;
    float *ws = workspace(d, nx + ny + (size_t)N * OC + 3);
    float *xl = ws, *yl = ws + nx + 1, *full = yl + ny + 1;
    int dx[9], dy[9];
    desc(g, dx, C, N, xm);
    desc(g, dy, OC, N, ym);
    take_cm(g, xm, nn, inp, (size_t)C, xl, xm > 1 ? xm : 1);
    const float one = 1, zero = 0;
    double t0 = mir_wall_seconds();
    psgemm_("N", "N", &OC, &N, &C, &one, wloc, &one_i, &one_i, t->desc, xl, &one_i, &one_i, dx, &zero, yl, &one_i,
            &one_i, dy);
    d->t_gemm += mir_wall_seconds() - t0;
    d->n_gemm++;
    assemble(d, yl, ym, nn, full, OC, N);
    size_t n = (size_t)N * OC;
    if (accumulate)
        for (size_t i = 0; i < n; i++) out[i] += full[i];
    else
        memcpy(out, full, n * sizeof *out);
}

void mir_dist_backward(mir_dist *d, const mir_dist_tensor *t, float *dinp, float *dwloc, const float *dout,
                       const float *inp, const float *wloc, int N) {
    const mir_grid *g = d->grid;
    const int C = t->rows, OC = t->cols, one_i = 1;
    if (N <= 0) return;
    const pieces pc = local_pieces(g, C, OC, N);
    const int xm = pc.xm, ym = pc.ym, nn = pc.nn;
    const size_t nx = pc.nx, ny = pc.ny;
    float *ws = workspace(d, 2 * nx + ny + (size_t)N * C + 4);
    float *xl = ws, *dyl = xl + nx + 1, *dxl = dyl + ny + 1, *full = dxl + nx + 1;
    int dx[9], dy[9];
    desc(g, dx, C, N, xm);
    desc(g, dy, OC, N, ym);
    take_cm(g, xm, nn, inp, (size_t)C, xl, xm > 1 ? xm : 1);
    take_cm(g, ym, nn, dout, (size_t)OC, dyl, ym > 1 ? ym : 1);
    const float one = 1, zero = 0;
    double t0 = mir_wall_seconds();
    /* dX^T (C x N) = (W^T)^T (C x OC) . dY^T (OC x N) */
    if (dinp)
        psgemm_("T", "N", &C, &N, &OC, &one, wloc, &one_i, &one_i, t->desc, dyl, &one_i, &one_i, dy, &zero, dxl, &one_i,
            &one_i, dx);
    /* dW^T (OC x C) += dY^T (OC x N) . X (N x C) */
    psgemm_("N", "T", &OC, &C, &N, &one, dyl, &one_i, &one_i, dy, xl, &one_i, &one_i, dx, &one, dwloc, &one_i, &one_i,
            t->desc);
    d->t_gemm += mir_wall_seconds() - t0;
    d->n_gemm += 2;
    if (!dinp) return;
    assemble(d, dxl, xm, nn, full, C, N);
    size_t n = (size_t)N * C;
    for (size_t i = 0; i < n; i++) dinp[i] += full[i];
}

/* ------------------------------------------------------------------------------------------------ */
/* the model's hook                                                                                 */

static const mir_dist_tensor *find(const mir_dist *d, const void *w) {
    for (int i = 0; i < d->n_tensors; i++)
        if (d->t[i].distributed && (const float *)w == d->params + d->t[i].off) return &d->t[i];
    return NULL;
}

static int hook_owns(void *ctx, const void *w) { return find(ctx, w) != NULL; }

static void hook_forward(void *ctx, void *out, const void *inp, const void *w, int N, int C, int OC, int acc) {
    mir_dist *d = ctx;
    const mir_dist_tensor *t = find(d, w);
    (void)C;
    (void)OC;
    mir_dist_forward(d, t, out, inp, w, N, acc);
}

static void hook_backward(void *ctx, void *dinp, void *dw, const void *dout, const void *inp, const void *w, int N,
                          int C, int OC) {
    mir_dist *d = ctx;
    const mir_dist_tensor *t = find(d, w);
    (void)C;
    (void)OC;
    mir_dist_backward(d, t, dinp, dw, dout, inp, w, N);
}

void mir_dist_attach(mir_dist *d, mir_model_f32 *m) {
    d->params = m->params;
    d->hook = (mir_linear_hook){d, hook_owns, hook_forward, hook_backward};
    m->hook = d->grid->P * d->grid->Q > 1 ? &d->hook : NULL;
}
