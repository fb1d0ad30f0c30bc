/* fd.h: the tests' one finite-difference check. A scalar loss of the values x[0..n) (the callback reads x where
 * the test put it: model parameters, a layer's input) is differenced centrally in each checked x[i]:
 *
 *   num = scale * (loss(x + h) - loss(x - h)) / (x+h - x-h)     (the exact floating-point step)
 *   err = |num - analytic[i]| / max(|num|, |analytic[i]|, floor)
 *
 * so the error is relative above the floor and absolute (times floor) below it, where central differences
 * only see rounding noise. Checked: the elements of idx (nidx of them) when idx is given, else every stride-th
 * from 0. Results accumulate into *r (several tensors, one verdict); the first few errors over tol are
 * printed with label. The caller's CHECK reads r->bad or r->worst. */
#ifndef MIR_TEST_FD_H
#define MIR_TEST_FD_H
#include <math.h>
#include <stdio.h>

typedef double (*mir_fd_loss)(void *ctx);

typedef struct mir_fd {
    double h, floor, tol, scale; /* step, error floor, error counted as bad above it, factor on num */
    double worst;                /* worst error so far (NaN counts as worst) */
    long worst_i, checked, bad;  /* worst_i: the index in the last call that set worst */
    double worst_an, worst_num;
} mir_fd;

static inline mir_fd mir_fd_init(double h, double floor, double tol) {
    return (mir_fd){h, floor, tol, 1.0, 0.0, -1, 0, 0, 0.0, 0.0};
}

static inline double mir_fd_err(double an, double num, double floor) {
    return fabs(num - an) / fmax(fmax(fabs(num), fabs(an)), floor);
}

static inline void mir_fd_record(mir_fd *r, const char *label, long i, double an, double num) {
    const double e = mir_fd_err(an, num, r->floor);
    if (!(e <= r->worst)) { /* also catches NaN */
        r->worst = e;
        r->worst_i = i;
        r->worst_an = an;
        r->worst_num = num;
    }
    r->checked++;
    if (!(e <= r->tol) && r->bad++ < 10)
        fprintf(stderr, "  %s[%ld]: analytic %.9g, finite difference %.9g\n", label, i, an, num);
}

static inline void mir_fd_check(mir_fd *r, const char *label, double *x, long n, const long *idx, long nidx,
                                long stride, const double *analytic, mir_fd_loss loss, void *ctx) {
    const long count = idx ? nidx : (n + stride - 1) / stride;
    for (long k = 0; k < count; k++) {
        const long i = idx ? idx[k] : k * stride;
        const double keep = x[i];
        volatile double xp = keep + r->h, xm = keep - r->h;
        x[i] = xp;
        const double lp = loss(ctx);
        x[i] = xm;
        const double lm = loss(ctx);
        x[i] = keep;
        mir_fd_record(r, label, i, analytic[i], r->scale * (lp - lm) / (xp - xm));
    }
}

/* The same for a loss sum_j g_j out_j over a forward's nout outputs (g NULL: weights 1), differencing each output
 * before summing: outputs that do not depend on x cancel exactly and the rounding of the large sum does not
 * enter. fwd(ctx) writes out; work holds nout values; the outputs are left as at x. */
typedef void (*mir_fd_forward)(void *ctx);
static inline void mir_fd_check_outputs(mir_fd *r, const char *label, double *x, long n, const long *idx, long nidx,
                                        long stride, const double *analytic, mir_fd_forward fwd, void *ctx,
                                        double *out, long nout, const double *g, double *work) {
    const long count = idx ? nidx : (n + stride - 1) / stride;
    for (long k = 0; k < count; k++) {
        const long i = idx ? idx[k] : k * stride;
        const double keep = x[i];
        volatile double xp = keep + r->h, xm = keep - r->h;
        x[i] = xp;
        fwd(ctx);
        for (long j = 0; j < nout; j++) work[j] = out[j];
        x[i] = xm;
        fwd(ctx);
        x[i] = keep;
        double diff = 0;
        for (long j = 0; j < nout; j++) diff += (g ? g[j] : 1) * (work[j] - out[j]);
        mir_fd_record(r, label, i, analytic[i], r->scale * diff / (xp - xm));
    }
    fwd(ctx);
}

#endif
