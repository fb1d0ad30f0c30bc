/*
 * test_regress.c: the per-configuration regression and the safe margin rule (analysis/regress.h) on synthetic
 * tasks whose answer is known:
 *  - the decision rule by hand (argmax, margin against the default's predicted gain or 0 outside the grid);
 *  - learnable: each unit's best configuration is a function of its first feature; regression must find it
 *    for most held-out units, and safe must not do worse than the default;
 *  - features that carry nothing (gains drawn at random, below the default on average, as a good compiler
 *    default is): safe must keep the default (a margin of inf picked) for essentially every unit;
 *  - the same seed gives the same choices;
 *  - harm the features cannot see (one device of two loses with every configuration, and the rows do not say
 *    which device): the group (kernel) means stay positive, so MIR_REG_RULE_NO_HARM moves and loses on that
 *    device; MIR_REG_RULE_NO_LOSS sees the losing inner units, keeps the default and loses nowhere.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "mir_test.h"
#include "regress.h"
#include "rng.h"

enum { G = 20, PER = 2, N = G * PER, C = 6, D = 3 };

typedef struct {
    double x[N][2]; /* features of the units */
    double gain[N * C];
    int group[N];
} synth;

static void row(const void *ctx, int u, int c, float *x) {
    const synth *s = ctx;
    x[0] = (float)s->x[u][0];
    x[1] = (float)s->x[u][1];
    x[2] = (float)c;
}

/* learnable: best configuration b(u) = 1 + floor(5 x0) in 1..5, gain 0.5 - 0.2 |c - b| (config 0: the
 * default, gain 0). random: every gain of configs 1..5 drawn from N(-0.15, 0.25), whatever the features. */
static void make(synth *s, int learnable, uint64_t seed, int default_in_grid) {
    mir_rng r;
    mir_rng_seed(&r, seed, 1);
    for (int u = 0; u < N; u++) {
        s->group[u] = u / PER;
        s->x[u][0] = mir_rng_uniform(&r);
        s->x[u][1] = mir_rng_uniform(&r);
        int b = 1 + (int)(5 * s->x[u][0]);
        for (int c = 0; c < C; c++) {
            double g = learnable ? 0.5 - 0.2 * fabs((double)(c - b)) : -0.15 + 0.25 * mir_rng_normal(&r);
            s->gain[u * C + c] = c == 0 && default_in_grid ? 0.0 : g;
        }
    }
}

/* hidden harm: group g = one kernel on two devices, units 2g (device 0) and 2g + 1 (device 1), the same features.
 * Device 0 gains as in the learnable task; on device 1 every configuration but the default loses 0.1. */
static void make_hidden_harm(synth *s, uint64_t seed) {
    make(s, 1, seed, 1);
    for (int u = 0; u < N; u++) {
        if (u % PER == 0) continue;
        s->x[u][0] = s->x[u - 1][0];
        s->x[u][1] = s->x[u - 1][1];
        for (int c = 1; c < C; c++) s->gain[u * C + c] = -0.1;
    }
}

static int rule = MIR_REG_RULE_MEAN;

static mir_reg_task task_of(const synth *s, const mir_clf_params *p, int default_cfg) {
    return (mir_reg_task){N, C, D, row, s, s->gain, default_cfg, s->group, G, 4, p, rule};
}

static void test_decide(void) {
    const double pg[4] = {0.1, 0.3, NAN, 0.25};
    CHECK_EQ_INT(mir_reg_decide(pg, 4, 0, 0.0), 1);        /* 0.3 - 0.1 > 0 */
    CHECK_EQ_INT(mir_reg_decide(pg, 4, 0, 0.2), 0);        /* 0.2 is not above 0.2: the default */
    CHECK_EQ_INT(mir_reg_decide(pg, 4, -1, 0.25), 1);      /* outside the grid: 0.3 - 0 > 0.25 */
    CHECK_EQ_INT(mir_reg_decide(pg, 4, -1, 0.3), MIR_REG_DEFAULT);
    CHECK_EQ_INT(mir_reg_decide(pg, 4, 0, INFINITY), 0);
    const double none[2] = {NAN, NAN};
    CHECK_EQ_INT(mir_reg_decide(none, 2, -1, 0.0), MIR_REG_DEFAULT);
}

/* fraction of units whose choice is the best measured configuration; mean realised log speedup */
static void score(const mir_reg_task *t, const int *choice, double *hit, double *mean_log) {
    int h = 0;
    double l = 0;
    for (int u = 0; u < N; u++) {
        int b = 0;
        for (int c = 1; c < C; c++)
            if (t->gain[u * C + c] > t->gain[u * C + b]) b = c;
        h += choice[u] == b;
        l += mir_reg_log_speedup(t, u, choice[u]);
    }
    *hit = (double)h / N;
    *mean_log = l / N;
}

static void test_learnable(const mir_clf_params *p, int default_in_grid) {
    synth s;
    make(&s, 1, 11, default_in_grid);
    mir_reg_task t = task_of(&s, p, default_in_grid ? 0 : -1);
    int reg[N], safe[N], reg2[N], safe2[N];
    double margin[G], hit, lg, shit, slg;
    int64_t fits = 0;
    mir_error err = {{0}};
    CHECK_FATAL(mir_reg_run(&t, 5, reg, safe, margin, &fits, &err) == 0);
    CHECK_EQ_INT((int)fits, G * 5); /* 4 inner + 1 outer per fold */
    score(&t, reg, &hit, &lg);
    score(&t, safe, &shit, &slg);
    printf("rule %d, learnable (default %s the grid): regression finds the best for %.0f %% (mean log speedup %.3f), "
           "safe %.0f %% (%.3f)\n", rule, default_in_grid ? "in" : "outside", 100 * hit, lg, 100 * shit, slg);
    CHECK(hit >= 0.75);
    CHECK(lg > 0.3);
    CHECK(slg >= 0.0);
    CHECK(shit >= 0.6);
    CHECK_FATAL(mir_reg_run(&t, 5, reg2, safe2, NULL, NULL, &err) == 0);
    int same = 1;
    for (int u = 0; u < N; u++) same &= reg[u] == reg2[u] && safe[u] == safe2[u];
    CHECK(same);
}

static void test_random(const mir_clf_params *p, int default_in_grid) {
    int kept = 0, units = 0, inf_folds = 0;
    double lsum = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        synth s;
        make(&s, 0, 100 + seed, default_in_grid);
        mir_reg_task t = task_of(&s, p, default_in_grid ? 0 : -1);
        int reg[N], safe[N];
        double margin[G];
        mir_error err = {{0}};
        CHECK_FATAL(mir_reg_run(&t, seed, reg, safe, margin, NULL, &err) == 0);
        for (int u = 0; u < N; u++) {
            kept += safe[u] == (default_in_grid ? 0 : MIR_REG_DEFAULT);
            lsum += mir_reg_log_speedup(&t, u, safe[u]);
            units++;
        }
        for (int f = 0; f < G; f++) inf_folds += isinf(margin[f]);
    }
    printf("rule %d, random (default %s the grid): safe keeps the default for %d of %d units (margin inf in %d of %d folds), "
           "mean log speedup %.4f\n", rule, default_in_grid ? "in" : "outside", kept, units, inf_folds, 3 * G, lsum / units);
    CHECK(kept >= (int)(0.9 * units));
    CHECK(lsum / units > -0.02);
}

/* The old rule (no group below the default) against the new (no unit below it) on hidden harm. */
static void test_hidden_harm(const mir_clf_params *p) {
    synth s;
    make_hidden_harm(&s, 21);
    double dev_log[2][2] = {{0}}; /* [rule: NO_HARM, NO_LOSS][device]: mean realised log speedup of safe */
    int lost[2] = {0}, finite[2] = {0};
    const int rules[2] = {MIR_REG_RULE_NO_HARM, MIR_REG_RULE_NO_LOSS};
    for (int q = 0; q < 2; q++) {
        rule = rules[q];
        mir_reg_task t = task_of(&s, p, 0);
        int reg[N], safe[N];
        double margin[G];
        mir_error err = {{0}};
        CHECK_FATAL(mir_reg_run(&t, 7, reg, safe, margin, NULL, &err) == 0);
        for (int u = 0; u < N; u++) {
            double l = mir_reg_log_speedup(&t, u, safe[u]);
            dev_log[q][u % PER] += l / G;
            lost[q] += l < 0;
        }
        for (int f = 0; f < G; f++) finite[q] += !isinf(margin[f]);
    }
    printf("hidden harm: no-harm rule: device means %.3f / %.3f, %d losses, finite margin in %d of %d folds; "
           "no-loss rule: %.3f / %.3f, %d losses, finite margin in %d folds\n", dev_log[0][0], dev_log[0][1], lost[0],
           finite[0], G, dev_log[1][0], dev_log[1][1], lost[1], finite[1]);
    CHECK(finite[0] >= G / 2); /* the group means are positive: the old rule trusts a margin ... */
    CHECK(lost[0] > 0 && dev_log[0][1] < -0.02); /* ... and device 1 pays for it (the bar per device fails) */
    CHECK(dev_log[0][0] > 0.2); /* while device 0 gains */
    CHECK_EQ_INT(finite[1], 0); /* the new rule sees the losing inner units */
    CHECK_EQ_INT(lost[1], 0);
    CHECK(dev_log[1][1] >= 0 && dev_log[1][0] >= 0);
}

int main(void) {
    mir_clf_params p;
    mir_clf_params_default(&p);
    test_decide();
    /* the earlier rules once each way (learnable with the default in the grid, random with it outside); the
     * rule the analyses use in every case (the test's cost: one XGBoost cross-validation per case) */
    for (rule = MIR_REG_RULE_MEAN; rule <= MIR_REG_RULE_NO_HARM; rule++) {
        test_learnable(&p, 1);
        test_random(&p, 0);
    }
    rule = MIR_REG_RULE_NO_LOSS; /* the rule the analyses use: every case */
    test_learnable(&p, 1);
    test_learnable(&p, 0);
    test_random(&p, 1);
    test_random(&p, 0);
    test_hidden_harm(&p);
    printf("test_regress: %d checks, %d failed\n", mir_test_checks, mir_test_failures);
    return mir_test_failures != 0;
}
