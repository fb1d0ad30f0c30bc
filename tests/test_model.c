/*
 * test_model.c: the whole model's gradient against finite differences, in double precision, on a tiny
 * configuration and a batch of synthetic modules (tokens and small graphs of all three flows); the float
 * model's forward against the double one; the parameter table. The backward from an external gradient of the
 * embedding (fine-tuning) against finite differences of sum(G * embed), the pre-training heads left out.
 */
#include <stdlib.h>
#include <string.h>

#include "mir_test.h"
#include "model.h"

enum { NMOD = 3 };

/* A synthetic module: n_tok random tokens, a chain graph of n_nodes with extra data and call edges. */
typedef struct synth {
    int32_t tokens[64];
    int8_t kind[32];
    int32_t text[32];
    int32_t src[96], dst[96];
    int8_t flow[96];
    mir_module_view view;
} synth;

static void make_module(synth *s, int n_tok, int n_nodes, int V, mir_rng *rng) {
    for (int i = 0; i < n_tok; i++) s->tokens[i] = 5 + (int32_t)mir_rng_below(rng, (uint64_t)(V - 5));
    int ne = 0;
    for (int i = 0; i < n_nodes; i++) {
        s->kind[i] = i == 0 ? 0 : (int8_t)(i < n_nodes / 2 ? 0 : 1 + (int)mir_rng_below(rng, 2));
        s->text[i] = 5 + (int32_t)mir_rng_below(rng, (uint64_t)(V - 5));
        if (i > 0) {
            s->src[ne] = i - 1; s->dst[ne] = i; s->flow[ne++] = 0;
            s->src[ne] = (int32_t)mir_rng_below(rng, (uint64_t)i); s->dst[ne] = i; s->flow[ne++] = 1;
        }
    }
    s->src[ne] = 0; s->dst[ne] = 1; s->flow[ne++] = 2;
    s->src[ne] = n_nodes - 1; s->dst[ne] = 0; s->flow[ne++] = 2;
    s->view = (mir_module_view){s->tokens, n_tok, s->kind, s->text, n_nodes, s->src, s->dst, s->flow, ne};
}

/* The three synthetic modules of the checks (a window on the longest, a graph window on the largest), drawn
 * from a stream seeded with seed; rng continues that stream. */
static void make_modules(synth mods[NMOD], mir_module_view views[NMOD], int V, uint64_t seed, mir_rng *rng) {
    mir_rng_seed(rng, seed, 0);
    make_module(&mods[0], 12, 14, V, rng);
    make_module(&mods[1], 5, 6, V, rng);
    make_module(&mods[2], 7, 9, V, rng);
    for (int i = 0; i < NMOD; i++) views[i] = mods[i].view;
}

static void check_model(int stats);
static void check_backward_embed(int stats);

static double total_loss(mir_model_f64 *m, const mir_batch *b) {
    mir_losses l;
    mir_model_forward_f64(m, b, &l);
    return l.total;
}

/* The statistics targets of a graph drawn by hand: root, instruction nodes with texts 7, 7, 9, 7, 9 and
 * variable / constant nodes with texts 7 and 11 (not counted): log(1 + 3) for 7, log(1 + 2) for 9, 0 elsewhere,
 * and the regressed slots are exactly {7, 9}; masking does not change the targets. */
static void check_stat_targets(void) {
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    c.stats = 1;
    int32_t tokens[4] = {5, 6, 7, 8};
    int8_t kind[8] = {0, 0, 0, 0, 0, 0, 1, 2};
    int32_t text[8] = {13, 7, 7, 9, 7, 9, 7, 11};
    int32_t src[3] = {1, 2, 3}, dst[3] = {2, 3, 4};
    int8_t flow[3] = {0, 0, 0};
    mir_module_view v = {tokens, 4, kind, text, 8, src, dst, flow, 3};
    mir_module_view two[2] = {v, v};
    two[1].n_nodes = 3; /* root, 7, 7 */
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = 0.5f;
    mir_rng rng;
    mir_rng_seed(&rng, 3, 0);
    mir_batch_build(&b, two, 2, &c, &o, &rng);
    CHECK_FATAL(b.stat_target != NULL);
    CHECK_EQ_INT(b.n_stat, 2);
    CHECK_EQ_INT(b.stat_ids[0], 7);
    CHECK_EQ_INT(b.stat_ids[1], 9);
    const float *t0 = b.stat_target, *t1 = b.stat_target + c.vocab_size;
    CHECK_NEAR(t0[7], log(4.0), 1e-6);
    CHECK_NEAR(t0[9], log(3.0), 1e-6);
    CHECK_NEAR(t1[7], log(3.0), 1e-6);
    CHECK_NEAR(t1[9], 0.0, 1e-12);
    for (int k = 0; k < c.vocab_size; k++)
        if (k != 7 && k != 9) CHECK(t0[k] == 0 && t1[k] == 0);
    mir_batch_free(&b);
}

int main(void) {
    check_stat_targets();
    check_model(0);
    check_model(1);
    check_backward_embed(0);
    check_backward_embed(1);
    return mir_test_finish("test_model");
}

/* The gradient of the whole loss against finite differences; the float model against the double one. stats:
 * with the statistics auto-encoding head. */
static void check_model(int stats) {
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    c.max_seq = 8;     /* forces a window on the longest module */
    c.max_nodes = 10;  /* and a graph window on the largest graph */
    c.stats = stats;
    char msg[128];
    CHECK(mir_config_check(&c, msg, sizeof msg) == 0);

    /* parameter table: contiguous, names unique */
    size_t n_el = 0;
    int nt = mir_params_table(&c, NULL, &n_el);
    mir_tensor_info *t = calloc((size_t)nt, sizeof *t);
    mir_params_table(&c, t, NULL);
    size_t off = 0;
    for (int k = 0; k < nt; k++) {
        CHECK_EQ_INT(t[k].offset, off);
        off += (size_t)t[k].rows * t[k].cols;
        for (int j = 0; j < k; j++) CHECK(strcmp(t[j].name, t[k].name) != 0);
    }
    CHECK_EQ_INT(off, n_el);

    mir_rng rng;
    synth mods[NMOD];
    mir_module_view views[NMOD];
    make_modules(mods, views, c.vocab_size, 42, &rng);
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = 0.3f;
    o.max_pairs = 4;
    mir_batch_build(&b, views, NMOD, &c, &o, &rng);
    CHECK_EQ_INT(b.B, NMOD);
    CHECK_EQ_INT(b.T, 8);
    CHECK(b.N <= NMOD * c.max_nodes && b.N > 0);
    CHECK(b.n_pairs > 0 && b.n_match == 2 * NMOD);

    mir_model_f64 m;
    CHECK_FATAL(mir_model_create_f64(&m, &c) == 0);
    mir_rng init;
    mir_rng_seed(&init, 7, 0);
    mir_model_init_params_f64(&m, &init);
    /* larger weights than the 0.02 default make every path of the loss matter to the check */
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 4;

    mir_losses l;
    mir_model_forward_f64(&m, &b, &l);
    printf("losses: mlm %.4f (%d) node %.4f (%d) edge %.4f (%d) match %.4f (%d) stat %.4f total %.4f\n", l.mlm,
           l.n_mlm, l.node, l.n_node, l.edge, l.n_pairs, l.match, l.n_match, l.stat, l.total);
    CHECK(l.n_mlm > 0 && l.n_node > 0 && l.n_pairs > 0 && l.n_match > 0);
    CHECK(stats ? l.stat > 0 && b.n_stat > 0 : l.stat == 0);
    CHECK_EQ_INT(nt, stats ? 2 + mir_params_table(&(mir_config){.vocab_size = c.vocab_size, .max_seq = c.max_seq,
                                                                  .d_model = c.d_model, .n_heads = c.n_heads,
                                                                  .n_layers = c.n_layers, .d_ff = c.d_ff,
                                                                  .n_graph_layers = c.n_graph_layers,
                                                                  .max_nodes = c.max_nodes}, NULL, NULL)
                               : nt);
    memset(m.grads, 0, m.n_params * sizeof(double));
    mir_model_backward_f64(&m, &b, 1.0);

    /* finite differences: every element of small tensors, a sample of large ones */
    double worst = 0;
    int checked = 0, bad = 0;
    for (int k = 0; k < nt; k++) {
        size_t n = (size_t)t[k].rows * t[k].cols;
        size_t stride = n > 64 ? n / 29 + 1 : 1;
        double worst_k = 0;
        for (size_t i = 0; i < n; i += stride) {
            size_t idx = t[k].offset + i;
            double keep = m.params[idx], h = 1e-5;
            m.params[idx] = keep + h;
            double lp = total_loss(&m, &b);
            m.params[idx] = keep - h;
            double lm = total_loss(&m, &b);
            m.params[idx] = keep;
            double fd = (lp - lm) / (2 * h), an = m.grads[idx];
            double rel = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), 1e-6);
            if (rel > worst_k) worst_k = rel;
            checked++;
            if (rel > 1e-4) {
                if (bad++ < 10) fprintf(stderr, "  %s[%zu]: analytic %.9g, finite difference %.9g\n", t[k].name, i, an, fd);
            }
        }
        if (worst_k > worst) worst = worst_k;
    }
    printf("finite differences: %d parameters checked, worst relative error %.2e\n", checked, worst);
    CHECK_EQ_INT(bad, 0);

    /* the float model on the same parameters gives the same losses */
    mir_model_f32 mf;
    CHECK_FATAL(mir_model_create_f32(&mf, &c) == 0);
    for (size_t i = 0; i < m.n_params; i++) mf.params[i] = (float)m.params[i];
    mir_losses lf;
    mir_model_forward_f32(&mf, &b, &lf);
    CHECK_NEAR(lf.total, l.total, 1e-4 * fabs(l.total) + 1e-5);
    CHECK_NEAR(lf.mlm, l.mlm, 1e-4 * fabs(l.mlm) + 1e-5);
    CHECK_NEAR(lf.stat, l.stat, 1e-4 * fabs(l.stat) + 1e-5);
    /* embeddings: (B, 2C), the same in both precisions */
    mir_batch e;
    mir_batch_init(&e);
    mir_batch_options eo = {0.0f, 0, 0};
    mir_batch_build(&e, views, NMOD, &c, &eo, &rng);
    CHECK_EQ_INT(e.n_pairs, 0);
    float *emb = calloc((size_t)NMOD * 2 * c.d_model, sizeof *emb);
    double *embd = calloc((size_t)NMOD * 2 * c.d_model, sizeof *embd);
    mir_model_embed_f32(&mf, &e, emb);
    mir_model_embed_f64(&m, &e, embd);
    double maxdiff = 0;
    for (int i = 0; i < NMOD * 2 * c.d_model; i++) maxdiff = fmax(maxdiff, fabs(emb[i] - embd[i]));
    CHECK(maxdiff < 1e-4);
    free(emb);
    free(embd);
    mir_batch_free(&e);
    mir_model_free_f32(&mf);
    mir_model_free_f64(&m);
    mir_batch_free(&b);
    free(t);
}

/* sum over the batch of G * embed: the loss whose gradient mir_model_backward_embed accumulates (scale 1) */
static double embed_dot(mir_model_f64 *m, const mir_batch *b, const double *G, double *emb, int n) {
    mir_model_embed_f64(m, b, emb);
    double s = 0;
    for (int i = 0; i < n; i++) s += G[i] * emb[i];
    return s;
}

/* The fine-tuning gradient: d sum(G * [u, v]) / d params through both encoders, against finite differences on a
 * batch built with train = 0 (windows from the start, nothing masked); the pre-training heads get no gradient,
 * even where the batch carries statistics targets (stats = 1); scale multiplies the gradient. */
static void check_backward_embed(int stats) {
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    c.max_seq = 8;
    c.max_nodes = 10;
    c.stats = stats;
    int nt = mir_params_table(&c, NULL, NULL);
    mir_tensor_info *t = calloc((size_t)nt, sizeof *t);
    mir_params_table(&c, t, NULL);
    mir_rng rng;
    synth mods[NMOD];
    mir_module_view views[NMOD];
    make_modules(mods, views, c.vocab_size, 43, &rng);
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_options eo = {0.0f, 0, 0};
    mir_batch_build(&b, views, NMOD, &c, &eo, &rng);
    mir_model_f64 m;
    CHECK_FATAL(mir_model_create_f64(&m, &c) == 0);
    mir_rng init;
    mir_rng_seed(&init, 8, 0);
    mir_model_init_params_f64(&m, &init);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 4;
    const int n = NMOD * 2 * c.d_model;
    double *G = calloc((size_t)n, sizeof *G), *emb = calloc((size_t)n, sizeof *emb);
    for (int i = 0; i < n; i++) G[i] = mir_rng_normal(&rng);
    embed_dot(&m, &b, G, emb, n);
    memset(m.grads, 0, m.n_params * sizeof(double));
    mir_model_backward_embed_f64(&m, &b, G, 2.0); /* scale 2: twice the gradient */
    double worst = 0;
    int checked = 0, bad = 0, head_nonzero = 0;
    for (int k = 0; k < nt; k++) {
        size_t nk = (size_t)t[k].rows * t[k].cols;
        const char *name = t[k].name;
        if (!strncmp(name, "head/", 5)) {
            for (size_t i = 0; i < nk; i++) head_nonzero += m.grads[t[k].offset + i] != 0;
            continue;
        }
        size_t stride = nk > 64 ? nk / 29 + 1 : 1;
        for (size_t i = 0; i < nk; i += stride) {
            size_t idx = t[k].offset + i;
            double keep = m.params[idx], h = 1e-5;
            m.params[idx] = keep + h;
            double lp = embed_dot(&m, &b, G, emb, n);
            m.params[idx] = keep - h;
            double lm = embed_dot(&m, &b, G, emb, n);
            m.params[idx] = keep;
            double fd = 2.0 * (lp - lm) / (2 * h), an = m.grads[idx];
            /* floor 1e-4: exact zeros (the key biases, to which the softmax is blind) differ from the finite
             * differences' rounding noise (~1e-9 here) only relatively */
            double rel = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), 1e-4);
            if (rel > worst) worst = rel;
            checked++;
            if (rel > 1e-4 && bad++ < 10) fprintf(stderr, "  %s[%zu]: analytic %.9g, finite difference %.9g\n", name, i, an, fd);
        }
    }
    printf("embedding backward (stats %d): %d parameters checked, worst relative error %.2e\n", stats, checked, worst);
    CHECK(checked > 100);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(head_nonzero, 0);
    free(G);
    free(emb);
    mir_model_free_f64(&m);
    mir_batch_free(&b);
    free(t);
}
