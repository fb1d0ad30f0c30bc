/*
 * test_finetune.c: the fine-tuning of analysis/finetune.h on a tiny encoder and synthetic kernels:
 *  - the gradient of a mini-batch's loss (two MLP heads on [embedding, sizes], the embedding's gradient
 *    through both encoders) against central finite differences;
 *  - one fold trained on a task whose answer is known (GPU exactly when the row's transfer is above the
 *    median, per platform with its own size) predicts the held-out fold nearly perfectly, its training loss
 *    falls, and a second run with the same seed gives the same predictions.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "finetune.h"
#include "mir_test.h"

enum { NK = 12, ROWS_PER_K = 16, N = NK * ROWS_PER_K, V = 24 };

typedef struct synth {
    int32_t tokens[40];
    int8_t kind[16];
    int32_t text[16];
    int32_t src[40], dst[40];
    int8_t flow[40];
} synth;

/* a module of n_tok random tokens and a chain graph of n_nodes with data edges */
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
    int kernel[N], group[N], label[2][N], fold[N];
    float aux[2 * N * 2];
    for (int j = 0; j < N; j++) {
        kernel[j] = j / ROWS_PER_K;
        group[j] = kernel[j];
        fold[j] = kernel[j] % 4;
        for (int h = 0; h < 2; h++) {
            float t = (float)(10 + 4 * mir_rng_normal(&rng)), w = (float)(5 + 2 * mir_rng_normal(&rng));
            aux[((size_t)h * N + j) * 2] = t;
            aux[((size_t)h * N + j) * 2 + 1] = w;
            label[h][j] = h == 0 ? t > 10 : w > 5;
        }
    }
    mir_ft_data d = {&c, c.max_seq, c.max_nodes, NK, views, N, kernel, group, aux, {label[0], label[1]},
                     MIR_FT_CLASSIFY, 0, NULL, NULL, NULL, 0};
    mir_model_f32 m;
    CHECK_FATAL(mir_model_create_f32(&m, &c) == 0);
    mir_rng init;
    mir_rng_seed(&init, 9, 0);
    mir_model_init_params_f32(&m, &init);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 4; /* every path of the encoder matters */

    /* the gradient */
    mir_ft_options o;
    mir_ft_options_default(&o);
    o.batch = 5;
    double worst;
    int checked;
    mir_error err = {{0}};
    CHECK_FATAL(mir_ft_check_gradient(&d, m.params, &o, 3, 3e-3, 1e-2, &worst, &checked, &err) == 0);
    printf("fine-tuning gradient: %d parameters against finite differences, worst relative error %.2e\n", checked,
           worst);
    CHECK(checked > 50);
    CHECK(worst < 1e-2);

    /* a known task: one fold */
    for (size_t i = 0; i < m.n_params; i++) m.params[i] /= 4;
    o.batch = 2;
    o.epochs = 25;
    o.head_epochs = 0; /* end to end from the first step: the encoder's part of the training is under test */
    o.lr_head = 1e-2;
    int pred[2][2 * N];
    mir_ft_stats st[2];
    for (int rep = 0; rep < 2; rep++) {
        for (int i = 0; i < 2 * N; i++) pred[rep][i] = -1;
        CHECK_FATAL(mir_ft_fold(&d, m.params, fold, 1, &o, 77, pred[rep], &st[rep], &err) == 0);
    }
    int ok = 0, tested = 0;
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < N; j++) {
            if (fold[j] != 1) {
                CHECK(pred[0][h * N + j] == -1); /* only the test fold is written */
                continue;
            }
            tested++;
            ok += pred[0][h * N + j] == label[h][j];
        }
    printf("known task: %d of %d held-out predictions right; loss %.4f -> %.4f over %d epochs, epoch %d kept, %d train "
           "/ %d held-out / %d test rows\n", ok, tested, st[0].train_loss[0], st[0].train_loss[st[0].epochs - 1],
           st[0].epochs, st[0].best_epoch, st[0].n_train_rows, st[0].n_val_rows, st[0].n_test_rows);
    CHECK_EQ_INT(tested, 2 * ROWS_PER_K * 3);
    CHECK(ok >= (int)(0.85 * tested));
    CHECK(st[0].train_loss[st[0].epochs - 1] < 0.6 * st[0].train_loss[0]);
    CHECK(st[0].n_val_rows > 0 && st[0].best_epoch >= 1);
    CHECK(memcmp(pred[0], pred[1], sizeof pred[0]) == 0);
    CHECK(st[0].train_loss[st[0].epochs - 1] == st[1].train_loss[st[1].epochs - 1]);
    /* the default: the heads alone first (their loss falls), then end to end; epoch 0 is a candidate */
    mir_ft_options_default(&o);
    o.batch = 2;
    o.epochs = 2;
    CHECK_FATAL(mir_ft_fold(&d, m.params, fold, 1, &o, 77, pred[0], &st[0], &err) == 0);
    printf("heads first: loss %.4f -> %.4f over %d epochs, then %.4f -> %.4f end to end, epoch %d kept\n",
           st[0].head_loss_first, st[0].head_loss_last, o.head_epochs, st[0].train_loss[0], st[0].train_loss[1],
           st[0].best_epoch);
    CHECK(st[0].head_loss_last < 0.8 * st[0].head_loss_first);
    CHECK(st[0].best_epoch >= 0 && st[0].best_epoch <= 2);
    mir_model_free_f32(&m);
    return mir_test_finish("test_finetune");
}
