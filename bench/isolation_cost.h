/* isolation_cost.h: the cost of the supervised worker against in-process work, read as a paired comparison
 * (bench_preprocess, bench_infer). Each repeat runs both ways back to back, so a repeat is a pair; the cost
 * is the geometric mean of the R ratios worker / in-process with the 95 % t interval of the mean log
 * ratio (analysis/paired.h), and the verdict on the 10 % target is read from that interval: "met" when its
 * top is at most +10 %, "missed" when its bottom is above, "undecided" otherwise. Best-of-R ratios, which
 * the benches print too, swing with whatever else the machine runs; the interval says how far. */
#ifndef MIR_BENCH_ISOLATION_COST_H
#define MIR_BENCH_ISOLATION_COST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "paired.h"

/* Prints "LABEL: +x.x % [lo, hi] over R pairs (target <= 10 %: verdict)"; worker[r], inproc[r] > 0. */
static inline void print_isolation_cost(const char *label, const double *worker, const double *inproc, int r) {
    double *a = malloc((size_t)r * sizeof *a), *b = calloc((size_t)r, sizeof *b);
    for (int i = 0; i < r; i++) a[i] = log(worker[i] / inproc[i]);
    mir_paired p;
    mir_paired_t(a, b, r, &p);
    const double target = log(1.10);
    const char *verdict = p.hi <= target ? "met" : p.lo > target ? "missed" : "undecided";
    printf("%s: %+.1f %% [%+.1f, %+.1f] over %d pairs (geometric mean of worker / in-process; target <= 10 %%: "
           "%s)\n",
           label, 100.0 * (exp(p.diff) - 1.0), 100.0 * (exp(p.lo) - 1.0), 100.0 * (exp(p.hi) - 1.0), r, verdict);
    free(a);
    free(b);
}

#endif
