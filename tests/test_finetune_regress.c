/*
 * test_finetune_regress.c: the regression task of analysis/finetune.h (MIR_FT_REGRESS, coarsen --finetune) on a
 * tiny encoder and synthetic kernels:
 *  - the gradient of a mini-batch's squared error (one MLP head on [embedding, row features], the embedding's
 *    gradient through the encoder) against central finite differences;
 *  - one fold on a task whose answer is known (the best configuration of a unit depends on its "GPU": the
 *    largest factor on GPU 0, the default on GPU 1) finds it for every held-out unit, its training loss falls,
 *    the safe rule's choice is a row of the unit, and a second run with the same seed gives the same choices.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "finetune.h"
#include "mir_test.h"

enum { NK = 12, NGPU = 2, NFAC = 4, ROWS_PER_K = NGPU * NFAC, N = NK * ROWS_PER_K, V = 24, NAUX = NGPU + 1 };

typedef struct synth {
    int32_t tokens[40];
    int8_t kind[16];
    int32_t text[16];
    int32_t src[40], dst[40];
    int8_t flow[40];
} synth;

static mir_module_view make_module(synth *s, int n_tok, int n_nodes, mir_rng *rng) {
    for (int i = 0; i < n_tok; i++) s->tokens[i] = 5 + (int32_t)mir_rng_below(rng, V - 5);
    int ne = 0;
    for (int i = 0; i < n_nodes; i++) {
        s->kind[i] = i == 0 ? 0 : (int8_t)(i % 3 == 0 ? 1 : 0);
        s->text[i] = 5 + (int32_t)mir_rng_below(rng, V - 5);
        if (i > 0) {
            s->src[ne] = i - 1; s->dst[ne] = i; s->flow[ne++] = 0;
            s->src[ne] = (int32_t)mir_rng_below(rng, (uint64_t)i); s->dst[ne] = i; s->flow[ne++] = 1;
        }
    }
    return (mir_module_view){s->tokens, n_tok, s->kind, s->text, n_nodes, s->src, s->dst, s->flow, ne, -1};
}

int main(void) {
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", V) == 0);
    mir_rng rng;
    mir_rng_seed(&rng, 5, 0);
    static synth mods[NK];
    mir_module_view views[NK];
    for (int k = 0; k < NK; k++) views[k] = make_module(&mods[k], 10 + 2 * k, 6 + k % 7, &rng);
    int kernel[N], unit[N], fold[N], fac[N];
    uint8_t dflt[N];
    float aux[N * NAUX], target[N];
    for (int j = 0; j < N; j++) {
        const int k = j / ROWS_PER_K, g = (j % ROWS_PER_K) / NFAC, f = j % NFAC;
        kernel[j] = k;
        fold[j] = k % 4;
        unit[j] = g * NK + k;
        fac[j] = f;
        dflt[j] = f == 0;
        for (int q = 0; q < NGPU; q++) aux[(size_t)j * NAUX + q] = q == g ? 1.0f : 0.0f;
        aux[(size_t)j * NAUX + NGPU] = (float)f;
        /* GPU 0 gains with the factor, GPU 1 loses; a small kernel-specific wobble */
        target[j] = (float)((g == 0 ? 0.2 : -0.2) * f + 0.02 * sin(3.0 * k + f));
    }
    mir_ft_data d = {&c, c.max_seq, c.max_nodes, NK, views, N, kernel, kernel, aux, {NULL, NULL},
                     MIR_FT_REGRESS, NAUX, target, unit, dflt, NGPU * NK};
    mir_model_f32 m;
    CHECK_FATAL(mir_model_create_f32(&m, &c) == 0);
    mir_rng init;
    mir_rng_seed(&init, 9, 0);
    mir_model_init_params_f32(&m, &init);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 4; /* every path of the encoder matters */

    /* the gradient (step 1e-3: with the weights x4 the curvature makes 3e-3's central differences err by ~1 %,
     * 1e-2's by ~14 %; 1e-3 gives 0.4 %, so the error is the differences', not the backward's) */
    mir_ft_options o;
    mir_ft_options_default(&o);
    o.batch = 5;
    double worst;
    int checked;
    mir_error err = {{0}};
    CHECK_FATAL(mir_ft_check_gradient(&d, m.params, &o, 3, 1e-3, 2e-2, &worst, &checked, &err) == 0);
    printf("regression gradient: %d parameters against finite differences, worst relative error %.2e\n", checked, worst);
    CHECK(checked > 30);
    CHECK(worst < 1e-2);

    /* a known task: one fold, twice */
    for (size_t i = 0; i < m.n_params; i++) m.params[i] /= 4;
    mir_ft_options_default(&o);
    o.batch = 3;
    o.epochs = 3;
    int pred[2][N];
    mir_ft_stats st[2];
    for (int rep = 0; rep < 2; rep++) {
        for (int j = 0; j < N; j++) pred[rep][j] = -1;
        CHECK_FATAL(mir_ft_fold(&d, m.params, fold, 1, &o, 77, pred[rep], &st[rep], &err) == 0);
    }
    int units = 0, right = 0, safe_rows = 0;
    for (int j = 0; j < N; j++) {
        if (fold[j] != 1) {
            CHECK(pred[0][j] == -1); /* only the test fold is written */
            continue;
        }
        CHECK(pred[0][j] >= 0 && pred[0][j] <= 3);
        safe_rows += (pred[0][j] & 2) != 0;
        if (pred[0][j] & 1) {
            units++;
            const int g = (j % ROWS_PER_K) / NFAC;
            right += g == 0 ? fac[j] == NFAC - 1 : fac[j] == 0;
        }
    }
    printf("known task: %d of %d held-out units chose their best factor; loss %.4f -> %.4f (head alone), %.4f -> %.4f "
           "(end to end), epoch %d kept (held-out log speedup %.3f), margin %g\n", right, units, st[0].head_loss_first,
           st[0].head_loss_last, st[0].train_loss[0], st[0].train_loss[st[0].epochs - 1], st[0].best_epoch,
           st[0].val_acc, st[0].margin);
    CHECK_EQ_INT(units, NGPU * 3);
    CHECK_EQ_INT(safe_rows, NGPU * 3); /* one safe row per unit */
    CHECK(right == units);
    CHECK(st[0].head_loss_last < 0.5 * st[0].head_loss_first);
    CHECK(st[0].n_val_rows > 0 && !isnan(st[0].val_acc));
    CHECK(memcmp(pred[0], pred[1], sizeof pred[0]) == 0);
    CHECK(st[0].train_loss[st[0].epochs - 1] == st[1].train_loss[st[1].epochs - 1]);
    CHECK(st[0].margin == st[1].margin);
    /* end to end from the first step (no head warm-up): the encoder's part of the training lowers the loss */
    o.head_epochs = 0;
    o.epochs = 12;
    o.lr_head = 1e-2;
    CHECK_FATAL(mir_ft_fold(&d, m.params, fold, 1, &o, 78, pred[0], &st[0], &err) == 0);
    printf("end to end from the start: loss %.4f -> %.4f over %d epochs\n", st[0].train_loss[0],
           st[0].train_loss[st[0].epochs - 1], st[0].epochs);
    CHECK(st[0].train_loss[st[0].epochs - 1] < 0.5 * st[0].train_loss[0]);
    mir_model_free_f32(&m);
    return mir_test_finish("test_finetune_regress");
}
