/*
 * paired.h: paired comparisons of two methods measured on the same units (folds, kernels), and the verdict
 * read from the interval.
 *
 *   d_i = a_i - b_i for the n units; diff = mean(d); 95 % interval = diff ± t(0.975, n-1) * sd(d) / sqrt(n)
 *   (Student's t interval of the mean paired difference). verdict: "better" when lo > 0, "worse" when
 *   hi < 0, else "no measurable difference". Higher is better for whatever a and b measure; pass log
 *   speedups to compare geometric means.
 *
 * The unit of pairing is the caller's choice and the docs say which: the analyses average each outer fold
 * (devmap) or each held-out kernel and device (coarsen, vectorize) over the seeds first, so the units are
 * the independent test sets, not seeds that reuse the same folds.
 */
#ifndef MIR_PAIRED_H
#define MIR_PAIRED_H

typedef struct mir_paired {
    int n;                 /* units paired */
    double diff, lo, hi;   /* mean of a - b and its 95 % interval */
    const char *verdict;   /* "better", "worse", "no measurable difference" (a against b) */
} mir_paired;

/* Two-sided 97.5 % quantile of Student's t with df degrees of freedom (df >= 1). */
double mir_t975(int df);

/* Paired t interval of a - b over n units (n >= 1; n = 1 gives an infinite interval: no verdict). Units
 * where either value is NaN are left out (n counts those kept). */
void mir_paired_t(const double *a, const double *b, int n, mir_paired *out);

/* The same for clustered units: unit i has weight w[i] (e.g. its number of rows) and a[i], b[i] are its
 * means. diff = sum w (a - b) / sum w (so it equals the row-level mean difference), and the interval is the
 * cluster-robust one of that ratio: var = n / (n - 1) * sum w^2 (d_i - diff)^2 / (sum w)^2, t with n - 1
 * degrees of freedom. With equal weights it is mir_paired_t. */
void mir_paired_t_weighted(const double *a, const double *b, const double *w, int n, mir_paired *out);

#endif
