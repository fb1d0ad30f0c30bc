/*
 * test_layers.c: the dense layers (model/layers_decl.h).
 *
 * For every forward/backward pair, in double precision (_f64) on tiny random shapes:
 *  - finite differences: L = sum(out * g) for a fixed random g (the scaled loss itself for xent/bce);
 *    the analytic gradient is backward with dout = g; the numeric one is (L(x+h) - L(x-h)) / 2h,
 *    h = 1e-6, for EVERY element of every input and parameter. Error measure:
 *        err = |a - n| / max(|a|, |n|, FD_FLOOR)        must be < FD_TOL = 1e-6
 *    i.e. relative for gradients above FD_FLOOR = 1e-3 and absolute (< 1e-9) below it, where central
 *    differences carry ~1e-10 of rounding noise (eps * |out| / h) and a relative measure means nothing.
 *    The one larger shape (attention, T = 33: each input moves ~1500 outputs, ~1e-9 of noise) is checked
 *    on 400 random elements with FD_FLOOR_LARGE = 1e-2.
 *  - backward accumulates: starting from random gradient buffers r, two calls give r + 2 * (one call).
 *  - the float build (_f32) matches the double build on the same inputs: forward within 1e-5 relative
 *    (|f - d| <= 1e-5 * max(|d|, 1)), backward within 1e-4.
 *  - forward values against plain references written out here.
 */
#include <stdint.h>

#include "layers.h"
#include "mir_common.h"
#include "fd.h"
#include "mir_test.h"
#include "rng.h"

#define FD_H 1e-6
#define FD_TOL 1e-6
#define FD_FLOOR 1e-3
#define FD_FLOOR_LARGE 1e-2
#define F32_FWD_TOL 1e-5
#define F32_BWD_TOL 1e-4
#ifndef TEST_SEED
#define TEST_SEED 20240611
#endif

static mir_rng rng;

/* ---- allocation: every buffer of a test goes on a list freed at the end of the test ---- */
static void *allocs[512];
static int nallocs;
static void *talloc(size_t bytes) {
    CHECK_FATAL(nallocs < 512);
    void *p = mir_calloc(1, bytes ? bytes : 1);
    allocs[nallocs++] = p;
    return p;
}
static void tfree_all(void) {
    for (int i = 0; i < nallocs; i++) free(allocs[i]);
    nallocs = 0;
}
static double *zeros(long n) { return talloc((size_t)n * sizeof(double)); }
static double *randn(long n, double scale) {
    double *x = zeros(n);
    for (long i = 0; i < n; i++) x[i] = scale * mir_rng_normal(&rng);
    return x;
}
static double *copyd(const double *x, long n) {
    double *y = zeros(n);
    memcpy(y, x, (size_t)n * sizeof(double));
    return y;
}
static float *tof(const double *x, long n) {
    float *y = talloc((size_t)n * sizeof(float));
    for (long i = 0; i < n; i++) y[i] = (float)x[i];
    return y;
}
static float *zerosf(long n) { return talloc((size_t)n * sizeof(float)); }

/* ---- summary of the worst FD error per function ---- */
static const char *sum_name[32];
static double sum_err[32];
static long sum_n[32];
static int nsum;
static void record(const char *fn, double err, long n) {
    for (int i = 0; i < nsum; i++)
        if (strcmp(sum_name[i], fn) == 0) {
            if (err > sum_err[i]) sum_err[i] = err;
            sum_n[i] += n;
            return;
        }
    sum_name[nsum] = fn;
    sum_err[nsum] = err;
    sum_n[nsum++] = n;
}

/* ---- finite differences ----
 * A loss is L = sum_j g_j out_j over a forward's outputs (g NULL: weights 1). The numeric derivative is
 * sum_j g_j (out_j(x+h) - out_j(x-h)) / (step), differencing each output before summing, so outputs that do
 * not depend on x cancel exactly and the rounding of the large sum does not enter; step is the exact
 * floating-point distance between x+h and x-h. */
typedef void (*fwd_fn)(void *ctx);
typedef struct {
    fwd_fn fwd;
    void *ctx;
    double *out; /* written by fwd */
    long nout;
    const double *g;
} fd_loss;

/* Check analytic[i] against central differences in x[i], for i in idx (all if idx is NULL): fd.h on the
 * forward's outputs, a printed line and the summary's row. */
static void fd_check_idx(const char *fn, const char *what, double *x, long n, const long *idx, long nidx,
                         double floor, const double *analytic, const fd_loss *L) {
    mir_fd r = mir_fd_init(FD_H, floor, FD_TOL);
    double *work = mir_malloc((size_t)L->nout * sizeof(double));
    mir_fd_check_outputs(&r, what, x, n, idx, nidx, 1, analytic, L->fwd, L->ctx, L->out, L->nout, L->g, work);
    free(work);
    printf("  %-12s %-10s %4ld elements  worst err %.2e (analytic %.3g)\n", fn, what, r.checked, r.worst,
           r.worst_i >= 0 ? r.worst_an : 0.0);
    if (!(r.worst < FD_TOL))
        fprintf(stderr, "  FD mismatch %s/%s at %ld: analytic %.12g\n", fn, what, r.worst_i, r.worst_an);
    CHECK(r.worst < FD_TOL);
    record(fn, r.worst, r.checked);
}
static void fd_check(const char *fn, const char *what, double *x, long n, const double *analytic,
                     const fd_loss *L) {
    fd_check_idx(fn, what, x, n, NULL, 0, FD_FLOOR, analytic, L);
}

/* twice == base + 2 * once (gradient accumulation) */
static void check_accum(const char *what, const double *base, const double *once, const double *twice, long n) {
    double worst = 0;
    for (long i = 0; i < n; i++) {
        double expect = base[i] + 2 * once[i];
        double e = fabs(twice[i] - expect) / fmax(fabs(expect), 1);
        if (!(e <= worst)) worst = e;
    }
    if (!(worst < 1e-12)) fprintf(stderr, "  accumulation %s: err %.3g\n", what, worst);
    CHECK(worst < 1e-12);
}

/* float result vs double result */
static void check_f32(const char *what, const float *f, const double *d, long n, double tol) {
    double worst = 0;
    for (long i = 0; i < n; i++) {
        double e = fabs((double)f[i] - d[i]) / fmax(fabs(d[i]), 1);
        if (!(e <= worst)) worst = e;
    }
    if (!(worst < tol)) fprintf(stderr, "  f32 vs f64 %s: err %.3g > %g\n", what, worst, tol);
    CHECK(worst < tol);
}

/* two double arrays agree within tol (relative to max(|b|,1)) */
static void check_close(const char *what, const double *a, const double *b, long n, double tol) {
    double worst = 0;
    for (long i = 0; i < n; i++) {
        double e = fabs(a[i] - b[i]) / fmax(fabs(b[i]), 1);
        if (!(e <= worst)) worst = e;
    }
    if (!(worst <= tol)) fprintf(stderr, "  %s: err %.3g > %g\n", what, worst, tol);
    CHECK(worst <= tol);
}

/* ================================================================================================ */
/* linear */

typedef struct {
    int N, C, OC;
    double *inp, *w, *b, *out, *g;
} lin_ctx;
static void lin_fwd(void *p) {
    lin_ctx *c = p;
    mir_linear_forward_f64(c->out, c->inp, c->w, c->b, c->N, c->C, c->OC);
}

static void naive_linear(double *out, const double *inp, const double *w, const double *b, int N, int C, int OC) {
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OC; o++) {
            double s = b ? b[o] : 0;
            for (int k = 0; k < C; k++) s += inp[i * C + k] * w[k * OC + o];
            out[i * OC + o] = s;
        }
}

static void test_linear_shape(int N, int C, int OC, int fd) {
    long ni = (long)N * C, nw = (long)C * OC, no = (long)N * OC;
    lin_ctx c = {N, C, OC, randn(ni, 1), randn(nw, 1), randn(OC, 1), zeros(no), randn(no, 1)};
    double *ref = zeros(no);
    /* forward vs a triple loop, with and without bias */
    lin_fwd(&c);
    fd_loss L = {lin_fwd, &c, c.out, no, c.g};
    naive_linear(ref, c.inp, c.w, c.b, N, C, OC);
    check_close("linear forward", c.out, ref, no, 1e-13);
    double *out_nb = zeros(no);
    mir_linear_forward_f64(out_nb, c.inp, c.w, NULL, N, C, OC);
    naive_linear(ref, c.inp, c.w, NULL, N, C, OC);
    check_close("linear forward, no bias", out_nb, ref, no, 1e-13);

    /* analytic gradients */
    double *di = zeros(ni), *dw = zeros(nw), *db = zeros(OC);
    mir_linear_backward_f64(di, dw, db, c.g, c.inp, c.w, N, C, OC);
    if (fd) {
        fd_check("linear", "inp", c.inp, ni, di, &L);
        fd_check("linear", "weight", c.w, nw, dw, &L);
        fd_check("linear", "bias", c.b, OC, db, &L);
    } else {
        /* gradients against plain loops */
        double *ri = zeros(ni), *rw = zeros(nw), *rb = zeros(OC);
        for (int i = 0; i < N; i++)
            for (int o = 0; o < OC; o++) {
                double d = c.g[i * OC + o];
                rb[o] += d;
                for (int k = 0; k < C; k++) {
                    ri[i * C + k] += d * c.w[k * OC + o];
                    rw[k * OC + o] += d * c.inp[i * C + k];
                }
            }
        check_close("linear dinp vs loops", di, ri, ni, 1e-12);
        check_close("linear dw vs loops", dw, rw, nw, 1e-12);
        check_close("linear dbias vs loops", db, rb, OC, 1e-12);
    }

    /* accumulation */
    double *bi = randn(ni, 1), *bw = randn(nw, 1), *bb = randn(OC, 1);
    double *ti = copyd(bi, ni), *tw = copyd(bw, nw), *tb = copyd(bb, OC);
    for (int r = 0; r < 2; r++) mir_linear_backward_f64(ti, tw, tb, c.g, c.inp, c.w, N, C, OC);
    check_accum("linear dinp", bi, di, ti, ni);
    check_accum("linear dw", bw, dw, tw, nw);
    check_accum("linear dbias", bb, db, tb, OC);
    /* NULL gradients are skipped, the others unchanged */
    double *oi = zeros(ni);
    mir_linear_backward_f64(oi, NULL, NULL, c.g, c.inp, c.w, N, C, OC);
    check_close("linear dinp alone", oi, di, ni, 0);
    double *ow = zeros(nw);
    mir_linear_backward_f64(NULL, ow, NULL, c.g, c.inp, c.w, N, C, OC);
    check_close("linear dw alone", ow, dw, nw, 0);

    /* float build */
    float *fo = zerosf(no), *fi = zerosf(ni), *fw = zerosf(nw), *fb = zerosf(OC);
    float *finp = tof(c.inp, ni), *fwt = tof(c.w, nw);
    mir_linear_forward_f32(fo, finp, fwt, tof(c.b, OC), N, C, OC);
    check_f32("linear forward", fo, c.out, no, F32_FWD_TOL);
    mir_linear_backward_f32(fi, fw, fb, tof(c.g, no), finp, fwt, N, C, OC);
    check_f32("linear dinp", fi, di, ni, F32_BWD_TOL);
    check_f32("linear dw", fw, dw, nw, F32_BWD_TOL);
    check_f32("linear dbias", fb, db, OC, F32_BWD_TOL);
    tfree_all();
}

static void test_linear(void) {
    test_linear_shape(3, 4, 5, 1);
    test_linear_shape(37, 19, 23, 0); /* a larger, odd shape through the same GEMM calls */
}

/* ================================================================================================ */
/* layer norm */

#define LN_EPS 1e-5 /* the epsilon layers.inc.c adds to the variance */

typedef struct {
    int N, C;
    double *inp, *gamma, *beta, *out, *mean, *rstd, *g;
} ln_ctx;
static void ln_fwd(void *p) {
    ln_ctx *c = p;
    mir_layernorm_forward_f64(c->out, c->mean, c->rstd, c->inp, c->gamma, c->beta, c->N, c->C);
}

static void test_layernorm(void) {
    const int N = 3, C = 8;
    const long n = (long)N * C;
    ln_ctx c = {N, C, randn(n, 1.5), randn(C, 1), randn(C, 1), zeros(n), zeros(N), zeros(N), randn(n, 1)};
    for (int i = 0; i < N; i++)
        for (int k = 0; k < C; k++) c.inp[i * C + k] += 2.0 * (i - 1); /* rows with nonzero means */

    /* normalized values (gamma 1, beta 0): mean 0, variance v / (v + eps) ~ 1 per row */
    double *ones = zeros(C), *zc = zeros(C), *nrm = zeros(n);
    for (int k = 0; k < C; k++) ones[k] = 1;
    mir_layernorm_forward_f64(nrm, c.mean, c.rstd, c.inp, ones, zc, N, C);
    for (int i = 0; i < N; i++) {
        double m = 0, v = 0, mo = 0, vo = 0;
        for (int k = 0; k < C; k++) m += c.inp[i * C + k] / C;
        for (int k = 0; k < C; k++) v += (c.inp[i * C + k] - m) * (c.inp[i * C + k] - m) / C;
        for (int k = 0; k < C; k++) mo += nrm[i * C + k] / C;
        for (int k = 0; k < C; k++) vo += (nrm[i * C + k] - mo) * (nrm[i * C + k] - mo) / C;
        CHECK_NEAR(mo, 0, 1e-14);
        CHECK_NEAR(vo, v / (v + LN_EPS), 1e-13);
        CHECK_NEAR(vo, 1, 1e-4);
        CHECK_NEAR(c.mean[i], m, 1e-13);
        CHECK_NEAR(c.rstd[i], 1 / sqrt(v + LN_EPS), 1e-12);
    }
    /* with gamma and beta: norm * gamma + beta */
    ln_fwd(&c);
    fd_loss L = {ln_fwd, &c, c.out, n, c.g};
    double *ref = zeros(n);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < C; k++) ref[i * C + k] = nrm[i * C + k] * c.gamma[k] + c.beta[k];
    check_close("layernorm forward", c.out, ref, n, 1e-13);

    double *di = zeros(n), *dg = zeros(C), *db = zeros(C);
    mir_layernorm_backward_f64(di, dg, db, c.g, c.inp, c.gamma, c.mean, c.rstd, N, C);
    fd_check("layernorm", "inp", c.inp, n, di, &L);
    fd_check("layernorm", "gamma", c.gamma, C, dg, &L);
    fd_check("layernorm", "beta", c.beta, C, db, &L);

    double *bi = randn(n, 1), *bg = randn(C, 1), *bb = randn(C, 1);
    double *ti = copyd(bi, n), *tg = copyd(bg, C), *tb = copyd(bb, C);
    for (int r = 0; r < 2; r++) mir_layernorm_backward_f64(ti, tg, tb, c.g, c.inp, c.gamma, c.mean, c.rstd, N, C);
    check_accum("layernorm dinp", bi, di, ti, n);
    check_accum("layernorm dgamma", bg, dg, tg, C);
    check_accum("layernorm dbeta", bb, db, tb, C);
    double *oi = zeros(n);
    mir_layernorm_backward_f64(oi, NULL, NULL, c.g, c.inp, c.gamma, c.mean, c.rstd, N, C);
    check_close("layernorm dinp alone", oi, di, n, 0);

    float *fo = zerosf(n), *fm = zerosf(N), *fr = zerosf(N), *finp = tof(c.inp, n), *fg = tof(c.gamma, C);
    mir_layernorm_forward_f32(fo, fm, fr, finp, fg, tof(c.beta, C), N, C);
    check_f32("layernorm forward", fo, c.out, n, F32_FWD_TOL);
    check_f32("layernorm mean", fm, c.mean, N, F32_FWD_TOL);
    check_f32("layernorm rstd", fr, c.rstd, N, F32_FWD_TOL);
    float *fdi = zerosf(n), *fdg = zerosf(C), *fdb = zerosf(C);
    mir_layernorm_backward_f32(fdi, fdg, fdb, tof(c.g, n), finp, fg, fm, fr, N, C);
    check_f32("layernorm dinp", fdi, di, n, F32_BWD_TOL);
    check_f32("layernorm dgamma", fdg, dg, C, F32_BWD_TOL);
    check_f32("layernorm dbeta", fdb, db, C, F32_BWD_TOL);
    tfree_all();
}

/* ================================================================================================ */
/* GELU */

typedef struct {
    long n;
    double *inp, *out, *g;
} gelu_ctx;
static void gelu_fwd(void *p) {
    gelu_ctx *c = p;
    mir_gelu_forward_f64(c->out, c->inp, c->n);
}

static void test_gelu(void) {
    const long n = 13;
    gelu_ctx c = {n, randn(n, 2), zeros(n), randn(n, 1)};
    c.inp[0] = 0;
    c.inp[1] = -4.5;
    c.inp[2] = 5.5;
    gelu_fwd(&c);
    fd_loss L = {gelu_fwd, &c, c.out, n, c.g};
    for (long i = 0; i < n; i++) {
        double x = c.inp[i];
        double ref = 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
        CHECK_NEAR(c.out[i], ref, 1e-14);
    }
    CHECK(c.out[0] == 0);
    CHECK_NEAR(c.out[2], 5.5, 1e-6);
    CHECK_NEAR(c.out[1], 0, 1e-4);

    double *di = zeros(n);
    mir_gelu_backward_f64(di, c.inp, c.g, n);
    fd_check("gelu", "inp", c.inp, n, di, &L);
    double *bi = randn(n, 1), *ti = copyd(bi, n);
    for (int r = 0; r < 2; r++) mir_gelu_backward_f64(ti, c.inp, c.g, n);
    check_accum("gelu dinp", bi, di, ti, n);

    float *fo = zerosf(n), *fi = tof(c.inp, n), *fdi = zerosf(n);
    mir_gelu_forward_f32(fo, fi, n);
    check_f32("gelu forward", fo, c.out, n, F32_FWD_TOL);
    mir_gelu_backward_f32(fdi, fi, tof(c.g, n), n);
    check_f32("gelu dinp", fdi, di, n, F32_BWD_TOL);
    tfree_all();
}

/* ================================================================================================ */
/* embedding */

typedef struct {
    int N, T, C;
    const int32_t *ids;
    double *table, *pos, *out, *g;
} emb_ctx;
static void emb_fwd(void *p) {
    emb_ctx *c = p;
    mir_embedding_forward_f64(c->out, c->ids, c->table, c->pos, c->N, c->T, c->C);
}

static void test_embedding(void) {
    const int V = 7, N = 6, T = 3, C = 4;
    static const int32_t ids[6] = {2, 5, 2, 0, 6, 2}; /* repeats: rows accumulate within one call */
    const long n = (long)N * C;
    emb_ctx c = {N, T, C, ids, randn((long)V * C, 1), randn((long)T * C, 1), zeros(n), randn(n, 1)};
    emb_fwd(&c);
    fd_loss L = {emb_fwd, &c, c.out, n, c.g};
    for (int i = 0; i < N; i++)
        for (int k = 0; k < C; k++) CHECK(c.out[i * C + k] == c.table[ids[i] * C + k] + c.pos[(i % T) * C + k]);
    double *onp = zeros(n);
    mir_embedding_forward_f64(onp, ids, c.table, NULL, N, T, C);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < C; k++) CHECK(onp[i * C + k] == c.table[ids[i] * C + k]);

    double *dt = zeros((long)V * C), *dp = zeros((long)T * C);
    mir_embedding_backward_f64(dt, dp, c.g, ids, N, T, C);
    fd_check("embedding", "table", c.table, (long)V * C, dt, &L);
    fd_check("embedding", "pos", c.pos, (long)T * C, dp, &L);
    for (int k = 0; k < C; k++) CHECK(dt[1 * C + k] == 0 && dt[3 * C + k] == 0); /* unused ids */

    double *bt = randn((long)V * C, 1), *bp = randn((long)T * C, 1);
    double *tt = copyd(bt, (long)V * C), *tp = copyd(bp, (long)T * C);
    for (int r = 0; r < 2; r++) mir_embedding_backward_f64(tt, tp, c.g, ids, N, T, C);
    check_accum("embedding dtable", bt, dt, tt, (long)V * C);
    check_accum("embedding dpos", bp, dp, tp, (long)T * C);
    double *ot = zeros((long)V * C);
    mir_embedding_backward_f64(ot, NULL, c.g, ids, N, T, C);
    check_close("embedding dtable alone", ot, dt, (long)V * C, 0);

    float *fo = zerosf(n), *fdt = zerosf((long)V * C), *fdp = zerosf((long)T * C);
    mir_embedding_forward_f32(fo, ids, tof(c.table, (long)V * C), tof(c.pos, (long)T * C), N, T, C);
    check_f32("embedding forward", fo, c.out, n, F32_FWD_TOL);
    mir_embedding_backward_f32(fdt, fdp, tof(c.g, n), ids, N, T, C);
    check_f32("embedding dtable", fdt, dt, (long)V * C, F32_BWD_TOL);
    check_f32("embedding dpos", fdp, dp, (long)T * C, F32_BWD_TOL);
    tfree_all();
}

/* ================================================================================================ */
/* bag embedding (statement positions): the mean of a bag's rows + position */

typedef struct {
    int N, T, C;
    const int32_t *off, *ids;
    double *table, *pos, *out, *g;
} bag_ctx;
static void bag_fwd(void *p) {
    bag_ctx *c = p;
    mir_bag_embedding_forward_f64(c->out, c->off, c->ids, c->table, c->pos, c->N, c->T, c->C);
}

static void test_bag_embedding(void) {
    const int V = 7, N = 6, T = 3, C = 4;
    /* bags {2, 5, 2} (a repeat), {0}, {} (padding), {6, 1}, {3}, {} */
    static const int32_t off[7] = {0, 3, 4, 4, 6, 7, 7}, ids[7] = {2, 5, 2, 0, 6, 1, 3};
    const long n = (long)N * C;
    bag_ctx c = {N, T, C, off, ids, randn((long)V * C, 1), randn((long)T * C, 1), zeros(n), randn(n, 1)};
    bag_fwd(&c);
    fd_loss L = {bag_fwd, &c, c.out, n, c.g};
    for (int i = 0; i < N; i++)
        for (int k = 0; k < C; k++) {
            double m = 0;
            for (int j = off[i]; j < off[i + 1]; j++) m += c.table[ids[j] * C + k];
            if (off[i + 1] > off[i]) m /= off[i + 1] - off[i];
            CHECK_NEAR(c.out[i * C + k], m + c.pos[(i % T) * C + k], 1e-15);
        }
    double *dt = zeros((long)V * C), *dp = zeros((long)T * C);
    mir_bag_embedding_backward_f64(dt, dp, c.g, off, ids, N, T, C);
    fd_check("bag_embed", "table", c.table, (long)V * C, dt, &L);
    fd_check("bag_embed", "pos", c.pos, (long)T * C, dp, &L);
    for (int k = 0; k < C; k++) CHECK(dt[4 * C + k] == 0); /* an id in no bag */

    double *bt = randn((long)V * C, 1), *bp = randn((long)T * C, 1);
    double *tt = copyd(bt, (long)V * C), *tp = copyd(bp, (long)T * C);
    for (int r = 0; r < 2; r++) mir_bag_embedding_backward_f64(tt, tp, c.g, off, ids, N, T, C);
    check_accum("bag_embed dtable", bt, dt, tt, (long)V * C);
    check_accum("bag_embed dpos", bp, dp, tp, (long)T * C);

    float *fo = zerosf(n), *fdt = zerosf((long)V * C), *fdp = zerosf((long)T * C);
    mir_bag_embedding_forward_f32(fo, off, ids, tof(c.table, (long)V * C), tof(c.pos, (long)T * C), N, T, C);
    check_f32("bag_embed forward", fo, c.out, n, F32_FWD_TOL);
    mir_bag_embedding_backward_f32(fdt, fdp, tof(c.g, n), off, ids, N, T, C);
    check_f32("bag_embed dtable", fdt, dt, (long)V * C, F32_BWD_TOL);
    check_f32("bag_embed dpos", fdp, dp, (long)T * C, F32_BWD_TOL);
    tfree_all();
}

/* ================================================================================================ */
/* attention */

typedef struct {
    int B, T, C, NH;
    const uint8_t *valid;
    double *qkv, *out, *att, *g;
} att_ctx;
static void att_fwd(void *p) {
    att_ctx *c = p;
    mir_attention_forward_f64(c->out, c->att, c->qkv, c->valid, c->B, c->T, c->C, c->NH);
}

/* softmax(q k^T / sqrt(hs)) v over the valid keys, written out plainly; padded queries output zeros */
static void naive_attention(double *out, double *att, const double *qkv, const uint8_t *valid, int B, int T, int C,
                            int NH) {
    int hs = C / NH;
    double *s = malloc((size_t)T * sizeof(double));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                double *o = out + ((long)b * T + t) * C + h * hs;
                double *a = att + (((long)b * NH + h) * T + t) * T;
                for (int k = 0; k < hs; k++) o[k] = 0;
                for (int u = 0; u < T; u++) a[u] = 0;
                if (!valid[b * T + t]) continue;
                const double *q = qkv + ((long)b * T + t) * 3 * C + h * hs;
                double denom = 0;
                for (int u = 0; u < T; u++) {
                    if (!valid[b * T + u]) continue;
                    const double *kk = qkv + ((long)b * T + u) * 3 * C + C + h * hs;
                    double d = 0;
                    for (int k = 0; k < hs; k++) d += q[k] * kk[k];
                    s[u] = exp(d / sqrt((double)hs));
                    denom += s[u];
                }
                for (int u = 0; u < T; u++) {
                    if (!valid[b * T + u]) continue;
                    a[u] = s[u] / denom;
                    const double *v = qkv + ((long)b * T + u) * 3 * C + 2 * C + h * hs;
                    for (int k = 0; k < hs; k++) o[k] += a[u] * v[k];
                }
            }
    free(s);
}

/* fd: 0 none, 1 every element, 2 a random subset of elements */
static void test_attention_shape(int B, int T, int C, int NH, const uint8_t *valid, int fd) {
    const long nq = (long)B * T * 3 * C, no = (long)B * T * C, na = (long)B * NH * T * T;
    att_ctx c = {B, T, C, NH, valid, randn(nq, 1), zeros(no), zeros(na), randn(no, 1)};
    att_fwd(&c);
    fd_loss L = {att_fwd, &c, c.out, no, c.g};
    double *ro = zeros(no), *ra = zeros(na);
    naive_attention(ro, ra, c.qkv, valid, B, T, C, NH);
    check_close("attention forward vs naive", c.out, ro, no, 1e-13);
    check_close("attention probabilities vs naive", c.att, ra, na, 1e-13);
    /* probability rows sum to 1 for real queries, 0 (all zero) for padding; padded queries output 0 */
    for (int b = 0; b < B; b++)
        for (int h = 0; h < NH; h++)
            for (int t = 0; t < T; t++) {
                const double *a = c.att + (((long)b * NH + h) * T + t) * T;
                double s = 0;
                int zero_on_pad = 1;
                for (int u = 0; u < T; u++) {
                    s += a[u];
                    if (!valid[b * T + u] && a[u] != 0) zero_on_pad = 0;
                }
                CHECK(zero_on_pad);
                CHECK_NEAR(s, valid[b * T + t] ? 1 : 0, 1e-14);
            }
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            if (!valid[b * T + t])
                for (int k = 0; k < C; k++) CHECK(c.out[((long)b * T + t) * C + k] == 0);

    /* gradients: dout (= g) is nonzero on padded rows too, and must be ignored there */
    double *dq = zeros(nq), *scratch = zeros(na);
    mir_attention_backward_f64(dq, scratch, c.g, c.qkv, c.att, valid, B, T, C, NH);
    if (fd == 1) {
        fd_check("attention", "qkv", c.qkv, nq, dq, &L);
    } else if (fd == 2) {
        long nidx = 400 < nq ? 400 : nq;
        long *idx = talloc((size_t)nidx * sizeof(long));
        for (long k = 0; k < nidx; k++) idx[k] = (long)mir_rng_below(&rng, (uint64_t)nq);
        fd_check_idx("attention", "qkv(some)", c.qkv, nq, idx, nidx, FD_FLOOR_LARGE, dq, &L);
    }
    /* a padded token gets no gradient at all: not as a query, a key or a value */
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            if (!valid[b * T + t])
                for (int k = 0; k < 3 * C; k++) CHECK(dq[((long)b * T + t) * 3 * C + k] == 0);

    double *bq = randn(nq, 1), *tq = copyd(bq, nq);
    for (int r = 0; r < 2; r++) mir_attention_backward_f64(tq, scratch, c.g, c.qkv, c.att, valid, B, T, C, NH);
    check_accum("attention dqkv", bq, dq, tq, nq);

    float *fo = zerosf(no), *fa = zerosf(na), *fq = tof(c.qkv, nq), *fdq = zerosf(nq), *fs = zerosf(na);
    mir_attention_forward_f32(fo, fa, fq, valid, B, T, C, NH);
    check_f32("attention forward", fo, c.out, no, F32_FWD_TOL);
    check_f32("attention probabilities", fa, c.att, na, F32_FWD_TOL);
    mir_attention_backward_f32(fdq, fs, tof(c.g, no), fq, fa, valid, B, T, C, NH);
    check_f32("attention dqkv", fdq, dq, nq, F32_BWD_TOL);
    tfree_all();
}

static void test_attention(void) {
    /* three sequences of 4: one padded at the end, one half padded, one all padding */
    static const uint8_t valid[12] = {1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0};
    test_attention_shape(3, 4, 8, 2, valid, 1);
    /* padding in the middle, a single valid token */
    static const uint8_t valid2[10] = {1, 0, 1, 1, 0, 0, 0, 1, 0, 0};
    test_attention_shape(2, 5, 6, 3, valid2, 1);
    /* one head, T = 1 */
    static const uint8_t valid3[2] = {1, 1};
    test_attention_shape(2, 1, 4, 1, valid3, 1);
    /* larger: random padding, FD on a random subset */
    enum { B = 2, T = 33, C = 48, NH = 3 };
    static uint8_t valid4[B * T];
    for (int i = 0; i < B * T; i++) valid4[i] = mir_rng_uniform(&rng) < 0.8;
    valid4[0] = 1;
    test_attention_shape(B, T, C, NH, valid4, 2);
}

/* ================================================================================================ */
/* softmax cross-entropy */

typedef struct {
    int N, V;
    const int32_t *targets;
    double *logits, *probs, scale, *loss;
} xent_ctx;
/* one call per row, so each row's loss is an output of its own (the sum is checked separately) */
static void xent_fwd(void *p) {
    xent_ctx *c = p;
    int n;
    for (int i = 0; i < c->N; i++)
        c->loss[i] = c->scale * mir_xent_forward_f64(c->probs + (long)i * c->V, c->logits + (long)i * c->V,
                                                     c->targets + i, 1, c->V, &n);
}

static void test_xent(void) {
    const int N = 4, V = 7;
    static const int32_t targets[4] = {3, -1, 0, 6}; /* row 1 ignored */
    const long n = (long)N * V;
    xent_ctx c = {N, V, targets, randn(n, 2), zeros(n), 0.37, zeros(N)};
    fd_loss L = {xent_fwd, &c, c.loss, N, NULL};
    int counted = -1;
    double loss = mir_xent_forward_f64(c.probs, c.logits, targets, N, V, &counted);
    CHECK_EQ_INT(counted, 3);
    double ref = 0;
    for (int i = 0; i < N; i++) {
        double s = 0, ps = 0;
        for (int v = 0; v < V; v++) s += exp(c.logits[i * V + v]);
        for (int v = 0; v < V; v++) {
            CHECK_NEAR(c.probs[i * V + v], exp(c.logits[i * V + v]) / s, 1e-15);
            ps += c.probs[i * V + v];
        }
        CHECK_NEAR(ps, 1, 1e-14);
        if (targets[i] >= 0) ref += -log(exp(c.logits[i * V + targets[i]]) / s);
    }
    CHECK_NEAR(loss, ref, 1e-13);
    /* huge logits: shifting every logit by 1000 changes nothing (and stays finite) */
    double *big = copyd(c.logits, n), *pbig = zeros(n);
    for (long i = 0; i < n; i++) big[i] += 1000;
    double lbig = mir_xent_forward_f64(pbig, big, targets, N, V, NULL);
    CHECK(isfinite(lbig));
    CHECK_NEAR(lbig, ref, 1e-9);
    /* a far-off-target logit gives a large finite loss */
    double ext[3] = {-800, 800, 0}, pext[3];
    static const int32_t t0[1] = {0};
    double lext = mir_xent_forward_f64(pext, ext, t0, 1, 3, NULL);
    CHECK_NEAR(lext, 1600, 1e-9);

    double *dl = zeros(n);
    mir_xent_backward_f64(dl, c.probs, targets, N, V, c.scale);
    fd_check("xent", "logits", c.logits, n, dl, &L);
    for (int v = 0; v < V; v++) CHECK(dl[1 * V + v] == 0); /* ignored row */

    double *bl = randn(n, 1), *tl = copyd(bl, n);
    for (int r = 0; r < 2; r++) mir_xent_backward_f64(tl, c.probs, targets, N, V, c.scale);
    check_accum("xent dlogits", bl, dl, tl, n);

    float *fp = zerosf(n), *fdl = zerosf(n);
    int fcount = -1;
    float fl = mir_xent_forward_f32(fp, tof(c.logits, n), targets, N, V, &fcount);
    CHECK_EQ_INT(fcount, 3);
    check_f32("xent loss", &fl, &loss, 1, F32_FWD_TOL);
    check_f32("xent probs", fp, c.probs, n, F32_FWD_TOL);
    mir_xent_backward_f32(fdl, fp, targets, N, V, (float)c.scale);
    check_f32("xent dlogits", fdl, dl, n, F32_BWD_TOL);
    tfree_all();
}

/* ================================================================================================ */
/* bag cross-entropy (masked statements): -(1/n) sum over the bag's ids of log softmax */

typedef struct {
    int N, V;
    const int32_t *off, *targets;
    double *logits, *probs, scale, *loss;
} bagx_ctx;
/* one call per row (its bag re-based), so each row's loss is an output of its own */
static void bagx_fwd(void *p) {
    bagx_ctx *c = p;
    int n;
    for (int i = 0; i < c->N; i++) {
        const int32_t o[2] = {0, c->off[i + 1] - c->off[i]};
        c->loss[i] = c->scale * mir_bag_xent_forward_f64(c->probs + (long)i * c->V, c->logits + (long)i * c->V, o,
                                                         c->targets + c->off[i], 1, c->V, &n);
    }
}

static void test_bag_xent(void) {
    const int N = 4, V = 7;
    /* bags {3, 3, 5} (a repeat), {} (ignored), {0}, {6, 1} */
    static const int32_t off[5] = {0, 3, 3, 4, 6}, targets[6] = {3, 3, 5, 0, 6, 1};
    const long n = (long)N * V;
    bagx_ctx c = {N, V, off, targets, randn(n, 2), zeros(n), 0.37, zeros(N)};
    fd_loss L = {bagx_fwd, &c, c.loss, N, NULL};
    int counted = -1;
    double loss = mir_bag_xent_forward_f64(c.probs, c.logits, off, targets, N, V, &counted);
    CHECK_EQ_INT(counted, 3);
    double ref = 0;
    for (int i = 0; i < N; i++) {
        double s = 0, ls = 0;
        for (int v = 0; v < V; v++) s += exp(c.logits[i * V + v]);
        for (int v = 0; v < V; v++) CHECK_NEAR(c.probs[i * V + v], exp(c.logits[i * V + v]) / s, 1e-15);
        for (int j = off[i]; j < off[i + 1]; j++) ls += -log(exp(c.logits[i * V + targets[j]]) / s);
        if (off[i + 1] > off[i]) ref += ls / (off[i + 1] - off[i]);
    }
    CHECK_NEAR(loss, ref, 1e-13);
    /* a bag of one id is the cross-entropy */
    double one = mir_bag_xent_forward_f64(c.probs + 2 * V, c.logits + 2 * V, (const int32_t[]){0, 1}, targets + 3, 1, V,
                                          NULL);
    double xe = mir_xent_forward_f64(zeros(V), c.logits + 2 * V, targets + 3, 1, V, NULL);
    CHECK_NEAR(one, xe, 1e-14);
    mir_bag_xent_forward_f64(c.probs, c.logits, off, targets, N, V, NULL);

    double *dl = zeros(n);
    mir_bag_xent_backward_f64(dl, c.probs, off, targets, N, V, c.scale);
    fd_check("bag_xent", "logits", c.logits, n, dl, &L);
    for (int v = 0; v < V; v++) CHECK(dl[1 * V + v] == 0); /* ignored row */

    double *bl = randn(n, 1), *tl = copyd(bl, n);
    for (int r = 0; r < 2; r++) mir_bag_xent_backward_f64(tl, c.probs, off, targets, N, V, c.scale);
    check_accum("bag_xent dlogits", bl, dl, tl, n);

    float *fp = zerosf(n), *fdl = zerosf(n);
    int fcount = -1;
    float fl = mir_bag_xent_forward_f32(fp, tof(c.logits, n), off, targets, N, V, &fcount);
    CHECK_EQ_INT(fcount, 3);
    check_f32("bag_xent loss", &fl, &loss, 1, F32_FWD_TOL);
    mir_bag_xent_backward_f32(fdl, fp, off, targets, N, V, (float)c.scale);
    check_f32("bag_xent dlogits", fdl, dl, n, F32_BWD_TOL);
    tfree_all();
}

/* ================================================================================================ */
/* binary cross-entropy */

typedef struct {
    int n;
    double *logits, *targets, scale, *loss;
} bce_ctx;
/* one call per element, so each loss is an output of its own (the sum is checked separately) */
static void bce_fwd(void *p) {
    bce_ctx *c = p;
    for (int i = 0; i < c->n; i++) c->loss[i] = c->scale * mir_bce_forward_f64(c->logits + i, c->targets + i, 1);
}

static void test_bce(void) {
    const int n = 9;
    bce_ctx c = {n, randn(n, 3), zeros(n), 0.61, zeros(n)};
    fd_loss L = {bce_fwd, &c, c.loss, n, NULL};
    for (int i = 0; i < n; i++) c.targets[i] = i < 3 ? 0 : i < 6 ? 1 : mir_rng_uniform(&rng); /* hard and soft */
    double loss = mir_bce_forward_f64(c.logits, c.targets, n);
    double ref = 0;
    for (int i = 0; i < n; i++) ref += log(1 + exp(c.logits[i])) - c.targets[i] * c.logits[i];
    CHECK_NEAR(loss, ref, 1e-13);
    /* huge logits stay finite and exact */
    double xl[4] = {800, -800, 800, -800}, yl[4] = {1, 0, 0, 1};
    CHECK_NEAR(mir_bce_forward_f64(xl, yl, 2), 0, 1e-300);
    CHECK_NEAR(mir_bce_forward_f64(xl + 2, yl + 2, 2), 1600, 1e-9);
    double dxl[4] = {0, 0, 0, 0};
    mir_bce_backward_f64(dxl, xl, yl, 4, 1);
    CHECK(dxl[0] == 0 && dxl[1] == 0 && dxl[2] == 1 && dxl[3] == -1);

    double *dl = zeros(n);
    mir_bce_backward_f64(dl, c.logits, c.targets, n, c.scale);
    fd_check("bce", "logits", c.logits, n, dl, &L);
    double *bl = randn(n, 1), *tl = copyd(bl, n);
    for (int r = 0; r < 2; r++) mir_bce_backward_f64(tl, c.logits, c.targets, n, c.scale);
    check_accum("bce dlogits", bl, dl, tl, n);

    float *fx = tof(c.logits, n), *fy = tof(c.targets, n), *fdl = zerosf(n);
    float fl = mir_bce_forward_f32(fx, fy, n);
    check_f32("bce loss", &fl, &loss, 1, F32_FWD_TOL);
    mir_bce_backward_f32(fdl, fx, fy, n, (float)c.scale);
    check_f32("bce dlogits", fdl, dl, n, F32_BWD_TOL);
    tfree_all();
}

/* ================================================================================================ */
/* masked mean pooling */

typedef struct {
    int B, T, C;
    const uint8_t *valid;
    double *inp, *out, *g;
} pool_ctx;
static void pool_fwd(void *p) {
    pool_ctx *c = p;
    mir_pool_forward_f64(c->out, c->inp, c->valid, c->B, c->T, c->C);
}

static void test_pool(void) {
    const int B = 3, T = 4, C = 5;
    static const uint8_t valid[12] = {1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0};
    const long ni = (long)B * T * C, no = (long)B * C;
    pool_ctx c = {B, T, C, valid, randn(ni, 1), zeros(no), randn(no, 1)};
    pool_fwd(&c);
    fd_loss L = {pool_fwd, &c, c.out, no, c.g};
    for (int b = 0; b < B; b++)
        for (int k = 0; k < C; k++) {
            double s = 0;
            int cnt = 0;
            for (int t = 0; t < T; t++)
                if (valid[b * T + t]) s += c.inp[(b * T + t) * C + k], cnt++;
            CHECK_NEAR(c.out[b * C + k], cnt ? s / cnt : 0, 1e-15);
        }
    for (int k = 0; k < C; k++) CHECK(c.out[1 * C + k] == 0); /* all padding */

    double *di = zeros(ni);
    mir_pool_backward_f64(di, c.g, valid, B, T, C);
    fd_check("pool", "inp", c.inp, ni, di, &L);
    double *bi = randn(ni, 1), *ti = copyd(bi, ni);
    for (int r = 0; r < 2; r++) mir_pool_backward_f64(ti, c.g, valid, B, T, C);
    check_accum("pool dinp", bi, di, ti, ni);

    float *fo = zerosf(no), *fdi = zerosf(ni);
    mir_pool_forward_f32(fo, tof(c.inp, ni), valid, B, T, C);
    check_f32("pool forward", fo, c.out, no, F32_FWD_TOL);
    mir_pool_backward_f32(fdi, tof(c.g, no), valid, B, T, C);
    check_f32("pool dinp", fdi, di, ni, F32_BWD_TOL);
    tfree_all();
}

int main(void) {
    mir_rng_seed(&rng, TEST_SEED, 0);
    printf("finite differences (h = %g, err = |a-n|/max(|a|,|n|,%g), tolerance %g):\n", FD_H, FD_FLOOR, FD_TOL);
    test_linear();
    test_layernorm();
    test_gelu();
    test_embedding();
    test_bag_embedding();
    test_attention();
    test_xent();
    test_bag_xent();
    test_bce();
    test_pool();
    printf("worst finite-difference error per function:\n");
    for (int i = 0; i < nsum; i++) printf("  %-12s %.2e over %ld elements\n", sum_name[i], sum_err[i], sum_n[i]);
    return mir_test_finish("test_layers");
}
