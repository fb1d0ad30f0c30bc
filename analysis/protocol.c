/* protocol.c: fold assignment and metrics (see protocol.h). */
#include "protocol.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mir_common.h"

void mir_shuffle_int(int *idx, int n, mir_rng *r) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)mir_rng_below(r, (uint64_t)i + 1);
        int t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

static int count_nonempty(const int *fold, int n, int k) {
    int *seen = mir_calloc((size_t)k, sizeof *seen), m = 0;
    for (int i = 0; i < n; i++) seen[fold[i]] = 1;
    for (int f = 0; f < k; f++) m += seen[f];
    free(seen);
    return m;
}

int mir_folds_stratified(const int *y, int n, int n_classes, int k, mir_rng *r, int *fold) {
    int *idx = mir_malloc((size_t)(n ? n : 1) * sizeof *idx);
    int next = 0; /* the deal continues across classes, so fold sizes stay within one row */
    for (int c = 0; c < n_classes; c++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if (y[i] == c) idx[m++] = i;
        mir_shuffle_int(idx, m, r);
        for (int j = 0; j < m; j++) {
            fold[idx[j]] = next;
            next = (next + 1) % k;
        }
    }
    free(idx);
    return count_nonempty(fold, n, k);
}

typedef struct { int id, size, order; } group_info;

static int by_size_desc(const void *a, const void *b) {
    const group_info *x = a, *y = b;
    if (x->size != y->size) return y->size - x->size;
    return x->order - y->order; /* stable: the shuffled order breaks ties */
}

int mir_folds_grouped(const int *group, int n, int k, mir_rng *r, int *fold) {
    if (n == 0) return 0;
    int max_id = 0;
    for (int i = 0; i < n; i++)
        if (group[i] > max_id) max_id = group[i];
    int *size = mir_calloc((size_t)max_id + 1, sizeof *size);
    for (int i = 0; i < n; i++) size[group[i]]++;
    int ng = 0;
    for (int g = 0; g <= max_id; g++) ng += size[g] > 0;
    int *ids = mir_malloc((size_t)ng * sizeof *ids);
    ng = 0;
    for (int g = 0; g <= max_id; g++)
        if (size[g]) ids[ng++] = g;
    mir_shuffle_int(ids, ng, r);
    group_info *gi = mir_malloc((size_t)ng * sizeof *gi);
    for (int j = 0; j < ng; j++) gi[j] = (group_info){ids[j], size[ids[j]], j};
    qsort(gi, (size_t)ng, sizeof *gi, by_size_desc);
    int *fold_of = mir_malloc(((size_t)max_id + 1) * sizeof *fold_of);
    int *load = mir_calloc((size_t)k, sizeof *load);
    for (int j = 0; j < ng; j++) {
        int best = 0;
        for (int f = 1; f < k; f++)
            if (load[f] < load[best]) best = f;
        fold_of[gi[j].id] = best;
        load[best] += gi[j].size;
    }
    for (int i = 0; i < n; i++) fold[i] = fold_of[group[i]];
    free(size); free(ids); free(gi); free(fold_of); free(load);
    return count_nonempty(fold, n, k);
}

int mir_folds_random(int n, int k, mir_rng *r, int *fold) {
    int *idx = mir_malloc((size_t)(n ? n : 1) * sizeof *idx);
    for (int i = 0; i < n; i++) idx[i] = i;
    mir_shuffle_int(idx, n, r);
    for (int j = 0; j < n; j++) fold[idx[j]] = j % k;
    free(idx);
    return count_nonempty(fold, n, k);
}

double mir_accuracy(const int *pred, const int *y, int n) {
    if (n <= 0) return 0.0;
    int ok = 0;
    for (int i = 0; i < n; i++) ok += pred[i] == y[i];
    return 100.0 * ok / n;
}

double mir_f1_class(const int *pred, const int *y, int n, int c) {
    int tp = 0, fp = 0, fn = 0;
    for (int i = 0; i < n; i++) {
        if (pred[i] == c && y[i] == c) tp++;
        else if (pred[i] == c) fp++;
        else if (y[i] == c) fn++;
    }
    if (tp + fp + fn == 0) return 0.0;
    return 100.0 * 2.0 * tp / (2.0 * tp + fp + fn);
}

double mir_f1_macro(const int *pred, const int *y, int n, int n_classes) {
    double s = 0.0;
    int m = 0;
    for (int c = 0; c < n_classes; c++) {
        int occurs = 0;
        for (int i = 0; i < n && !occurs; i++) occurs = y[i] == c || pred[i] == c;
        if (!occurs) continue;
        s += mir_f1_class(pred, y, n, c);
        m++;
    }
    return m ? s / m : 0.0;
}

double mir_mean(const double *x, int n) {
    if (n <= 0) return NAN;
    double s = 0.0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

double mir_geomean(const double *x, int n) {
    if (n <= 0) return NAN;
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        if (!(x[i] > 0.0)) return NAN;
        s += log(x[i]);
    }
    return exp(s / n);
}

double mir_stddev(const double *x, int n) {
    if (n < 2) return 0.0;
    double m = mir_mean(x, n), s = 0.0;
    for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (n - 1));
}

int mir_argmax_allowed(const float *p, const uint8_t *allowed, int n_classes) {
    int best = -1;
    for (int c = 0; c < n_classes; c++) {
        if (allowed && !allowed[c]) continue;
        if (best < 0 || p[c] > p[best]) best = c;
    }
    return best;
}
