/*
 * bench_train: training throughput of the model against this machine's SGEMM peak, in one run.
 *
 *   bench_train [--corpus corpus.h5] [--config small] [--micro-batch 4] [--iters 10]
 *
 * Reference: cblas_sgemm on 2048 x 2048 matrices (best of 5), with the OpenBLAS threads in force.
 * Measured: forward + backward of the model on micro-batches (from the corpus, or synthetic modules of
 * full windows when none is given), best and mean of --iters iterations after one warm-up. Prints
 * tokens/s, the achieved GFLOP/s of the matrix products (mir_model_flops), its fraction of the SGEMM
 * peak (target: >= 40 % for the default configuration), the time split and the memory.
 */
#include <cblas.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corpus.h"
#include "sgemm_peak.h"
#include "model.h"
#include "trainer.h"

extern int openblas_get_num_threads(void);

typedef struct bench_args {
    const char *corpus, *config;
    int micro, iters;
} bench_args;

/* --corpus, --config, --micro-batch, --iters; 0, or -1 on a usage error. */
static int parse_args(int argc, char **argv, bench_args *a) {
    *a = (bench_args){NULL, "small", 4, 10};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--corpus")) a->corpus = argv[i + 1];
        else if (!strcmp(argv[i], "--config")) a->config = argv[i + 1];
        else if (!strcmp(argv[i], "--micro-batch")) a->micro = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--iters")) a->iters = atoi(argv[i + 1]);
        else return -1;
    }
    return 0;
}

/* The reference: prints the BLAS in force and measures the SGEMM peak (GFLOP/s). */
static double reference_peak(void) {
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("OpenBLAS core %s, %d threads%s%s\n", mir_blas_core(), openblas_get_num_threads(),
           ct ? ", OPENBLAS_CORETYPE=" : "", ct ? ct : "");
    double peak = sgemm_peak(2048);
    printf("SGEMM 2048^3 peak: %.1f GFLOP/s\n", peak);
    return peak;
}

/* The micro-batch's modules: read from the corpus (bufs) or synthetic (the arrays below, shared by every view). */
typedef struct modules {
    mir_module_buf *bufs;
    mir_module_view *views;
    int32_t *tok;
    int8_t *kind;
    int32_t *text, *es, *ed;
    int8_t *ef;
} modules;

/* The first usable corpus modules with full token windows; 0, or 1 (message printed) if fewer than micro. */
static int corpus_modules(mir_corpus *cp, const mir_config *c, int micro, const char *corpus, modules *ms,
                          mir_error *err) {
    int got = 0;
    for (int64_t i = 0; i < cp->n && got < micro; i++)
        if (cp->status[i] == 0 && cp->tok_off[i + 1] - cp->tok_off[i] >= c->max_seq)
            if (mir_corpus_read_module(cp, i, 0, c->max_seq, &ms->bufs[got], &ms->views[got], err) == 0) got++;
    if (got < micro) {
        fprintf(stderr, "bench_train: fewer than %d modules with %d tokens in %s\n", micro, c->max_seq, corpus);
        return 1;
    }
    return 0;
}

/* One synthetic module of a full window and max_nodes nodes, random tokens and edges, viewed micro times. */
static void synthetic_modules(const mir_config *c, int micro, mir_rng *rng, modules *ms) {
    int nn = c->max_nodes, ne = 2 * nn;
    ms->tok = malloc((size_t)c->max_seq * 4);
    ms->kind = calloc((size_t)nn, 1);
    ms->text = malloc((size_t)nn * 4);
    ms->es = malloc((size_t)ne * 4);
    ms->ed = malloc((size_t)ne * 4);
    ms->ef = malloc((size_t)ne);
    for (int i = 0; i < c->max_seq; i++) ms->tok[i] = 5 + (int32_t)mir_rng_below(rng, (uint64_t)c->vocab_size - 5);
    for (int i = 0; i < nn; i++) {
        ms->kind[i] = i < nn / 2 ? 0 : 1;
        ms->text[i] = 5 + (int32_t)mir_rng_below(rng, 100);
    }
    for (int e = 0; e < ne; e++) {
        ms->es[e] = (int32_t)mir_rng_below(rng, (uint64_t)nn);
        ms->ed[e] = (int32_t)mir_rng_below(rng, (uint64_t)nn);
        ms->ef[e] = (int8_t)(e % 3);
    }
    for (int j = 0; j < micro; j++)
        ms->views[j] = (mir_module_view){ms->tok, c->max_seq, ms->kind, ms->text, nn, ms->es, ms->ed, ms->ef, ne, -1};
}

static void modules_free(modules *ms, int micro) {
    for (int j = 0; j < micro; j++) mir_module_buf_free(&ms->bufs[j]);
    free(ms->bufs);
    free(ms->views);
    free(ms->tok);
    free(ms->kind);
    free(ms->text);
    free(ms->es);
    free(ms->ed);
    free(ms->ef);
}

/* Step times over iters iterations after one warm-up: best, sum, and the sums of forward and backward. */
typedef struct step_times {
    double best, sum, tf, tb;
} step_times;

static step_times time_steps(mir_model_f32 *m, const mir_batch *b, int iters) {
    step_times st = {1e30, 0, 0, 0};
    mir_losses l;
    for (int it = 0; it <= iters; it++) {
        memset(m->grads, 0, m->n_params * sizeof(float));
        double t0 = mir_wall_seconds();
        mir_model_forward_f32(m, b, &l);
        double t1 = mir_wall_seconds();
        mir_model_backward_f32(m, b, 1.0f);
        double t2 = mir_wall_seconds();
        if (it == 0) continue; /* warm-up */
        double t = t2 - t0;
        st.sum += t;
        st.tf += t1 - t0;
        st.tb += t2 - t1;
        if (t < st.best) st.best = t;
    }
    return st;
}

static void report(const bench_args *a, const mir_config *c, const mir_model_f32 *m, const mir_batch *b, int have,
                   double flops, double peak, const step_times *st) {
    const double best = st->best, sum = st->sum;
    const int iters = a->iters;
    int tokens = 0;
    for (int i = 0; i < b->B * b->T; i++) tokens += b->tok_valid[i];
    printf("model: config %s, d_model %d, %d layers, window %d, %d graph layers, vocabulary %d, %.2f M parameters\n",
           a->config, c->d_model, c->n_layers, c->max_seq, c->n_graph_layers, c->vocab_size, m->n_params / 1e6);
    printf("micro-batch: %d modules, %d tokens, %d graph nodes (%s)\n", a->micro, tokens, b->N,
           have ? a->corpus : "synthetic");
    printf("step (forward + backward): best %.1f ms, mean %.1f ms (forward %.0f %%, backward %.0f %%)\n", 1e3 * best,
           1e3 * sum / iters, 100 * st->tf / sum, 100 * st->tb / sum);
    printf("tokens/s: %.0f (best), %.0f (mean)\n", tokens / best, tokens * iters / sum);
    printf("matrix-product GFLOP/s: %.1f (best) = %.0f %% of the SGEMM peak measured above (target >= 40 %%)\n",
           flops / best / 1e9, 100 * flops / best / 1e9 / peak);
    printf("peak memory: %.1f MiB\n", mir_peak_rss_bytes() / 1048576.0);
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    mir_log_init("bench_train", 0, 1, MIR_LOG_INFO);
    bench_args a;
    if (parse_args(argc, argv, &a)) {
        fprintf(stderr, "usage: bench_train [--corpus FILE] [--config NAME] [--micro-batch M] [--iters N]\n");
        return 2;
    }
    const double peak = reference_peak();

    mir_error err = {{0}};
    mir_config c = {.vocab_size = 8000};
    mir_corpus cp;
    int have = 0;
    if (a.corpus) {
        if (mir_corpus_open(&cp, a.corpus, MPI_COMM_SELF, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        have = 1;
        c.vocab_size = cp.vocab_size;
    }
    if (mir_config_parse(a.config, &c, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    mir_model_f32 m;
    if (mir_model_create_f32(&m, &c)) return 1;
    mir_rng rng;
    mir_rng_seed(&rng, 1, 2);
    mir_model_init_params_f32(&m, &rng);
    /* modules: the first usable corpus modules with long token sequences, or synthetic ones */
    modules ms = {.bufs = calloc((size_t)a.micro, sizeof *ms.bufs), .views = calloc((size_t)a.micro, sizeof *ms.views)};
    if (have) {
        if (corpus_modules(&cp, &c, a.micro, a.corpus, &ms, &err)) return 1;
    } else {
        synthetic_modules(&c, a.micro, &rng, &ms);
    }
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_options bo;
    mir_batch_options_default(&bo);
    mir_batch_build(&b, ms.views, a.micro, &c, &bo, &rng);
    const double flops = mir_model_flops(&c, &b);
    const step_times st = time_steps(&m, &b, a.iters);
    report(&a, &c, &m, &b, have, flops, peak, &st);
    mir_batch_free(&b);
    mir_model_free_f32(&m);
    modules_free(&ms, a.micro);
    if (have) mir_corpus_close(&cp);
    MPI_Finalize();
    return 0;
}
