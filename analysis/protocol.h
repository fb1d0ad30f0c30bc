/*
 * protocol.h: the evaluation arithmetic of the analyses, pure C (no MPI, LLVM or HDF5), so the unit tests
 * can check it by hand (tests/test_analysis.c).
 *
 * Fold assignment: every function writes fold[i] in [0, k) for the n rows and is deterministic given the
 * random stream. Rows with fold[i] == f form the test set of fold f; the others its training set.
 *   stratified: each class's rows are shuffled and dealt round-robin, the deal continuing from class to
 *               class, so every fold holds each class's rows in the data set's ratio (to within one row).
 *   grouped:    groups (e.g. benchmarks) are shuffled, then sorted by size (largest first, stable), and
 *               each goes whole to the fold with the fewest rows so far: no group is split.
 *   by key:     one fold per distinct key (leave one suite / kernel out): fold[i] = key[i] (keys 0..k-1).
 *
 * Metrics: accuracy in percent; F1 of one class and macro F1 (mean over classes of the per-class F1,
 * in percent; a class never predicted nor present counts as F1 = 0 only when it occurs); arithmetic and
 * geometric means; sample standard deviation (n - 1; 0 for n < 2).
 */
#ifndef MIR_PROTOCOL_H
#define MIR_PROTOCOL_H
#include <stdint.h>

#include "rng.h"

/* Shuffle idx[0..n) in place (Fisher-Yates with r). */
void mir_shuffle_int(int *idx, int n, mir_rng *r);

/* labels y[i] in [0, n_classes). Returns the number of non-empty folds (k when n >= k). */
int mir_folds_stratified(const int *y, int n, int n_classes, int k, mir_rng *r, int *fold);
/* group[i] >= 0 any integer id. Returns the number of non-empty folds (<= k). */
int mir_folds_grouped(const int *group, int n, int k, mir_rng *r, int *fold);
/* plain shuffled k-fold (no labels, no groups) */
int mir_folds_random(int n, int k, mir_rng *r, int *fold);

/* Accuracy (percent) of pred against y over n rows; 0 for n = 0. */
double mir_accuracy(const int *pred, const int *y, int n);
/* F1 (percent) of class c: 2 tp / (2 tp + fp + fn); 0 when the class is neither present nor predicted. */
double mir_f1_class(const int *pred, const int *y, int n, int c);
/* Mean of per-class F1 over the classes that occur in y or pred (percent). */
double mir_f1_macro(const int *pred, const int *y, int n, int n_classes);

double mir_mean(const double *x, int n);
/* exp(mean(log x)); every x must be > 0 (returns NaN otherwise) */
double mir_geomean(const double *x, int n);
double mir_stddev(const double *x, int n);

/* Index of the largest p[c] among the classes with allowed[c] != 0 (allowed may be NULL: all);
 * ties go to the lowest index; -1 when nothing is allowed. */
int mir_argmax_allowed(const float *p, const uint8_t *allowed, int n_classes);

#endif
