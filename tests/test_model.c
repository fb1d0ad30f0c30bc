/*
 * test_model.c: the whole model's gradient against finite differences, in double precision, on a tiny
 * configuration and a batch of synthetic modules (tokens and small graphs of all three flows); the float
 * model's forward against the double one; the parameter table. The backward from an external gradient of the
 * embedding (fine-tuning) against finite differences of sum(G * embed), the pre-training heads left out. The
 * contrastive objective: its gradient in the whole-model check, its loss recomputed by hand from the embeddings,
 * the partners, aligned windows, and batches unchanged by sources while the switch is off. Statement positions
 * (cfg.statements): the whole-model gradient with every objective on (tests/test_stmt.c checks the rest).
 */
#include <stdlib.h>
#include <string.h>

#include "fd.h"
#include "mir_test.h"
#include "model_loss.h"
#include "model.h"

enum { NMOD = 3, NMOD_MAX = 5 };

/* A synthetic module: n_tok random tokens, a chain graph of n_nodes with extra data and call edges. */
typedef struct synth {
    int32_t tokens[128];
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
    s->view = (mir_module_view){s->tokens, n_tok, s->kind, s->text, n_nodes, s->src, s->dst, s->flow, ne, -1};
}

/* The n (3 or 5) synthetic modules of the checks (a window on the longest, graph windows on the largest), drawn
 * from a stream seeded with seed; rng continues that stream. Sources -1 (no partners). */
static void make_modules(synth *mods, mir_module_view *views, int n, int V, uint64_t seed, mir_rng *rng) {
    static const int size[NMOD_MAX][2] = {{12, 14}, {5, 6}, {7, 9}, {10, 12}, {6, 8}}; /* tokens, nodes */
    mir_rng_seed(rng, seed, 0);
    for (int i = 0; i < n; i++) {
        make_module(&mods[i], size[i][0], size[i][1], V, rng);
        views[i] = mods[i].view;
    }
}

static void check_model(int stats, int contrastive, int statements);
static void check_backward_embed(int stats, int statements);


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
    mir_module_view v = {tokens, 4, kind, text, 8, src, dst, flow, 3, -1};
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

/* Loop depths of a control-flow graph drawn by hand, and the stats = 2 targets they weight. Instruction nodes:
 *   f: 1 -> 2 (outer header) -> 3 (inner header) -> 4 -> 3 (inner back edge); 3 -> 5 -> 2 (outer back edge);
 *      2 -> 6 -> 7 (exit);
 *   g: 8 -> 9 (header) -> 10 -> 9; 10 -> 11 -> 11 (a self-loop) -> 12;
 *   h: 13 <-> 14, reached from 15 -> 13 and 16 -> 14 (an irreducible cycle with two entries: no loop);
 * plus node 0 (the root, no control edge), a variable node 17 with a data edge 7 -> 17 -> 2 (a cycle that is
 * not control flow) and a call edge 5 -> 8. Depths: 2, 5: 1; 3, 4: 2; 9, 10, 11: 1; every other node 0. */
static void check_loop_depth(void) {
    enum { NN = 18 };
    int8_t kind[NN] = {0};
    kind[17] = 1;
    int32_t src[] = {1, 2, 3, 4, 3, 5, 2, 6, 8, 9, 10, 10, 11, 11, 13, 14, 15, 16, 7, 17, 5};
    int32_t dst[] = {2, 3, 4, 3, 5, 2, 6, 7, 9, 10, 9, 11, 11, 12, 14, 13, 13, 14, 17, 2, 8};
    int8_t flow[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2};
    int32_t text[NN];
    for (int i = 0; i < NN; i++) text[i] = 5 + i; /* every node its own text, so each target reads one weight */
    int32_t tokens[4] = {5, 6, 7, 8};
    const int ne = (int)(sizeof src / sizeof *src);
    mir_module_view v = {tokens, 4, kind, text, NN, src, dst, flow, ne, -1};
    const int want[NN] = {0, 0, 1, 2, 2, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0};
    uint8_t depth[NN];
    mir_loop_depth(&v, depth);
    for (int i = 0; i < NN; i++) {
        if (depth[i] != want[i]) fprintf(stderr, "  node %d: depth %d, want %d\n", i, depth[i], want[i]);
        CHECK_EQ_INT(depth[i], want[i]);
    }
    /* the edges listed in another order give the same depths */
    int32_t rs[sizeof src / sizeof *src], rd[sizeof src / sizeof *src];
    int8_t rf[sizeof src / sizeof *src];
    for (int e = 0; e < ne; e++) rs[e] = src[ne - 1 - e], rd[e] = dst[ne - 1 - e], rf[e] = flow[ne - 1 - e];
    mir_module_view r = {tokens, 4, kind, text, NN, rs, rd, rf, ne, -1};
    uint8_t depth2[NN];
    mir_loop_depth(&r, depth2);
    CHECK(memcmp(depth, depth2, NN) == 0);

    /* the stats = 2 targets: log(1 + 10^depth) for each instruction's own text (the root and the variable: 0) */
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 32) == 0);
    c.stats = 2;
    c.max_nodes = 64;
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = 0.3f; /* masking must not change the targets */
    mir_rng rng;
    mir_rng_seed(&rng, 5, 0);
    mir_batch_build(&b, &v, 1, &c, &o, &rng);
    CHECK_FATAL(b.stat_target != NULL);
    CHECK_EQ_INT(b.n_stat, 16);
    for (int i = 0; i < NN; i++) {
        double w = want[i] == 2 ? 100 : want[i] == 1 ? 10 : 1;
        double t = i == 0 || i == 17 ? 0 : log(1 + w);
        CHECK_NEAR(b.stat_target[text[i]], t, 1e-6);
    }
    /* stats = 1 counts every instruction once */
    c.stats = 1;
    mir_batch_build(&b, &v, 1, &c, &o, &rng);
    for (int i = 1; i < 17; i++) CHECK_NEAR(b.stat_target[text[i]], log(2.0), 1e-6);
    mir_batch_free(&b);
    char msg[128];
    c.stats = 3;
    CHECK(mir_config_check(&c, msg, sizeof msg) != 0);
}

static void check_partners(void);
static void check_contrast_loss(void);
static void check_switch_off(void);
static void check_aligned_windows(void);

int main(void) {
    check_stat_targets();
    check_loop_depth();
    check_partners();
    check_switch_off();
    check_aligned_windows();
    check_contrast_loss();
    check_model(0, 0, 0);
    check_model(1, 0, 0);
    check_model(0, 1, 0);
    check_model(1, 1, 0);
    check_model(0, 0, 1);
    check_model(1, 1, 1);
    check_backward_embed(0, 0);
    check_backward_embed(1, 0);
    check_backward_embed(0, 1);
    return mir_test_finish("test_model");
}

/* Module i's tokens replaced by n_stmt[i] statements of 1 to 6 pieces, each ended by [SEP] (MIR_TOK_SEP), with an
 * empty statement (two SEPs) after the second and no final SEP on the odd modules; pieces from a small range, so
 * that some repeat within a statement. Drawn from a stream of their own (the modules' graphs are unchanged). */
static void make_statements(synth *mods, mir_module_view *views, int n) {
    static const int n_stmt[NMOD_MAX] = {12, 4, 6, 10, 5};
    mir_rng r;
    mir_rng_seed(&r, 99, 0);
    for (int i = 0; i < n; i++) {
        int nt = 0;
        for (int s = 0; s < n_stmt[i]; s++) {
            int np = 1 + (int)mir_rng_below(&r, 6);
            for (int k = 0; k < np; k++) mods[i].tokens[nt++] = 5 + (int32_t)mir_rng_below(&r, 8);
            if (s + 1 < n_stmt[i] || i % 2 == 0) mods[i].tokens[nt++] = MIR_TOK_SEP;
            if (s == 1) mods[i].tokens[nt++] = MIR_TOK_SEP;
        }
        views[i].tokens = mods[i].tokens;
        views[i].n_tokens = nt;
    }
}

/* The gradient of the whole loss against finite differences; the float model against the double one. stats:
 * with the statistics auto-encoding head; contrastive: with the contrastive objective, on five modules of sources
 * 0, 0, 1, 1 and none (two pairs, one module alone; the first and fourth windowed); statements: positions are
 * statements (make_statements: the first and fourth modules have more than max_seq of them). */
static void check_model(int stats, int contrastive, int statements) {
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    c.max_seq = 8;     /* forces a window on the longest module */
    c.max_nodes = 10;  /* and a graph window on the largest graph */
    c.stats = stats;
    c.contrastive = contrastive;
    c.statements = statements;
    const int nmod = contrastive ? NMOD_MAX : NMOD;
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
    synth mods[NMOD_MAX];
    mir_module_view views[NMOD_MAX];
    make_modules(mods, views, nmod, c.vocab_size, 42, &rng);
    if (statements) make_statements(mods, views, nmod);
    if (contrastive) {
        static const int64_t source[NMOD_MAX] = {0, 0, 1, 1, -1};
        for (int i = 0; i < nmod; i++) views[i].source = source[i];
    }
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = 0.3f;
    o.max_pairs = 4;
    mir_batch_build(&b, views, nmod, &c, &o, &rng);
    CHECK_EQ_INT(b.B, nmod);
    CHECK_EQ_INT(b.T, 8);
    CHECK(b.N <= nmod * c.max_nodes && b.N > 0);
    CHECK(b.n_pairs > 0 && b.n_match == 2 * nmod);
    if (statements) CHECK(b.n_stmt_masked > 0 && b.n_piece > b.n_stmt_masked);

    mir_model_f64 m;
    CHECK_FATAL(mir_model_create_f64(&m, &c) == 0);
    mir_rng init;
    mir_rng_seed(&init, 7, 0);
    mir_model_init_params_f64(&m, &init);
    /* larger weights than the 0.02 default make every path of the loss matter to the check */
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 4;

    mir_losses l;
    mir_model_forward_f64(&m, &b, &l);
    printf("losses: mlm %.4f (%d) node %.4f (%d) edge %.4f (%d) match %.4f (%d) stat %.4f contrast %.4f (%d) "
           "total %.4f\n", l.mlm, l.n_mlm, l.node, l.n_node, l.edge, l.n_pairs, l.match, l.n_match, l.stat, l.contrast,
           l.n_contrast, l.total);
    CHECK(l.n_mlm > 0 && l.n_node > 0 && l.n_pairs > 0 && l.n_match > 0);
    CHECK(stats ? l.stat > 0 && b.n_stat > 0 : l.stat == 0);
    CHECK(contrastive ? l.contrast > 0 && l.n_contrast == 4 : l.contrast == 0 && l.n_contrast == 0);
    CHECK_NEAR(l.total, l.mlm + l.node + l.edge + l.match + l.stat + l.contrast, 1e-12 * fabs(l.total));
    CHECK_EQ_INT(nt, stats ? 2 + mir_params_table(&(mir_config){.vocab_size = c.vocab_size, .max_seq = c.max_seq,
                                                                  .d_model = c.d_model, .n_heads = c.n_heads,
                                                                  .n_layers = c.n_layers, .d_ff = c.d_ff,
                                                                  .n_graph_layers = c.n_graph_layers,
                                                                  .max_nodes = c.max_nodes}, NULL, NULL)
                               : nt);
    mir_config c0 = c;
    c0.contrastive = 0;
    CHECK_EQ_INT(mir_params_table(&c0, NULL, NULL), nt); /* the contrastive objective has no parameters */
    memset(m.grads, 0, m.n_params * sizeof(double));
    mir_model_backward_f64(&m, &b, 1.0);

    /* finite differences: every element of small tensors, a sample of large ones; floor 1e-5: exact zeros (the
     * key biases) against the finite differences' rounding noise, which grows with the total (~2e-10 with every
     * objective on) */
    mir_fd fd = mir_fd_init(1e-5, 1e-5, 1e-4);
    loss_ctx lc = {&m, &b};
    for (int k = 0; k < nt; k++) {
        long n = (long)t[k].rows * t[k].cols;
        mir_fd_check(&fd, t[k].name, m.params + t[k].offset, n, NULL, 0, n > 64 ? n / 29 + 1 : 1,
                     m.grads + t[k].offset, loss_of, &lc);
    }
    printf("finite differences (stats %d, contrastive %d, statements %d): %ld parameters checked, worst relative error "
           "%.2e\n", stats, contrastive, statements, fd.checked, fd.worst);
    CHECK_EQ_INT(fd.bad, 0);

    /* the float model on the same parameters gives the same losses */
    mir_model_f32 mf;
    CHECK_FATAL(mir_model_create_f32(&mf, &c) == 0);
    for (size_t i = 0; i < m.n_params; i++) mf.params[i] = (float)m.params[i];
    mir_losses lf;
    mir_model_forward_f32(&mf, &b, &lf);
    CHECK_NEAR(lf.total, l.total, 1e-4 * fabs(l.total) + 1e-5);
    CHECK_NEAR(lf.mlm, l.mlm, 1e-4 * fabs(l.mlm) + 1e-5);
    CHECK_NEAR(lf.stat, l.stat, 1e-4 * fabs(l.stat) + 1e-5);
    CHECK_NEAR(lf.contrast, l.contrast, 1e-4 * fabs(l.contrast) + 1e-5);
    CHECK_EQ_INT(lf.n_contrast, l.n_contrast);
    /* embeddings: (B, 2C), the same in both precisions */
    mir_batch e;
    mir_batch_init(&e);
    mir_batch_options eo = {0.0f, 0, 0};
    mir_batch_build(&e, views, nmod, &c, &eo, &rng);
    CHECK_EQ_INT(e.n_pairs, 0);
    float *emb = calloc((size_t)nmod * 2 * c.d_model, sizeof *emb);
    double *embd = calloc((size_t)nmod * 2 * c.d_model, sizeof *embd);
    mir_model_embed_f32(&mf, &e, emb);
    mir_model_embed_f64(&m, &e, embd);
    double maxdiff = 0;
    for (int i = 0; i < nmod * 2 * c.d_model; i++) maxdiff = fmax(maxdiff, fabs(emb[i] - embd[i]));
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
typedef struct embed_ctx {
    mir_model_f64 *m;
    const mir_batch *b;
    const double *G;
    double *emb;
    int n;
} embed_ctx;
static double embed_of(void *p) {
    embed_ctx *c = p;
    return embed_dot(c->m, c->b, c->G, c->emb, c->n);
}

/* The fine-tuning gradient: d sum(G * [u, v]) / d params through both encoders, against finite differences on a
 * batch built with train = 0 (windows from the start, nothing masked); the pre-training heads get no gradient,
 * even where the batch carries statistics targets (stats = 1); scale multiplies the gradient. statements: positions
 * are statements (make_statements). */
static void check_backward_embed(int stats, int statements) {
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    c.max_seq = 8;
    c.max_nodes = 10;
    c.stats = stats;
    c.statements = statements;
    int nt = mir_params_table(&c, NULL, NULL);
    mir_tensor_info *t = calloc((size_t)nt, sizeof *t);
    mir_params_table(&c, t, NULL);
    mir_rng rng;
    synth mods[NMOD];
    mir_module_view views[NMOD];
    make_modules(mods, views, NMOD, c.vocab_size, 43, &rng);
    if (statements) make_statements(mods, views, NMOD);
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
    /* floor 1e-4: exact zeros (the key biases, to which the softmax is blind) differ from the finite differences'
     * rounding noise (~1e-9 here) only relatively; the differences are of sum(G * embed), times the scale */
    mir_fd fd = mir_fd_init(1e-5, 1e-4, 1e-4);
    fd.scale = 2.0;
    embed_ctx ec = {&m, &b, G, emb, n};
    int head_nonzero = 0;
    for (int k = 0; k < nt; k++) {
        long nk = (long)t[k].rows * t[k].cols;
        if (!strncmp(t[k].name, "head/", 5)) {
            for (long i = 0; i < nk; i++) head_nonzero += m.grads[t[k].offset + i] != 0;
            continue;
        }
        mir_fd_check(&fd, t[k].name, m.params + t[k].offset, nk, NULL, 0, nk > 64 ? nk / 29 + 1 : 1,
                     m.grads + t[k].offset, embed_of, &ec);
    }
    printf("embedding backward (stats %d, statements %d): %ld parameters checked, worst relative error %.2e\n", stats,
           statements, fd.checked, fd.worst);
    CHECK(fd.checked > 100);
    CHECK_EQ_INT(fd.bad, 0);
    CHECK_EQ_INT(head_nonzero, 0);
    free(G);
    free(emb);
    mir_model_free_f64(&m);
    mir_batch_free(&b);
    free(t);
}

/* ------------------------------------------------------------------------------------------------ */
/* the contrastive objective                                                                        */

/* Six views of the synthetic modules with sources 3, 7, 3, 7, 7, -1: pairs (0,2) and (1,3); the third module of
 * source 7 and the one without a source stay alone. */
static void contrast_views(synth mods[NMOD_MAX], mir_module_view views[NMOD_MAX + 1], int V, mir_rng *rng) {
    static const int64_t source[NMOD_MAX + 1] = {3, 7, 3, 7, 7, -1};
    make_modules(mods, views, NMOD_MAX, V, 44, rng);
    views[NMOD_MAX] = views[0];
    for (int i = 0; i <= NMOD_MAX; i++) views[i].source = source[i];
}

/* partner[]: the first two of a source pair up, the others and contrastive = 0 give -1; train or not. */
static void check_partners(void) {
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    CHECK_EQ_INT(c.contrastive, 0); /* off in every preset */
    mir_rng rng;
    synth mods[NMOD_MAX];
    mir_module_view views[NMOD_MAX + 1];
    contrast_views(mods, views, c.vocab_size, &rng);
    static const int want[NMOD_MAX + 1] = {2, 3, 0, 1, -1, -1};
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_options o;
    mir_batch_options_default(&o);
    for (int contrastive = 0; contrastive < 2; contrastive++)
        for (int train = 0; train < 2; train++) {
            c.contrastive = contrastive;
            o.train = train;
            mir_batch_build(&b, views, NMOD_MAX + 1, &c, &o, &rng);
            CHECK_FATAL(b.partner != NULL);
            for (int i = 0; i <= NMOD_MAX; i++) CHECK_EQ_INT(b.partner[i], contrastive ? want[i] : -1);
        }
    char msg[128];
    c.contrastive = 2;
    CHECK(mir_config_check(&c, msg, sizeof msg) != 0);
    mir_batch_free(&b);
}

/* With contrastive = 0, sources change nothing: the batch built from views with sources (pairs among them) is the
 * one built from views without, and the random stream ends in the same state. */
static void check_switch_off(void) {
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    c.max_seq = 8;
    c.max_nodes = 10;
    c.stats = 1;
    mir_rng rng;
    synth mods[NMOD_MAX];
    mir_module_view with[NMOD_MAX + 1], without[NMOD_MAX + 1];
    contrast_views(mods, with, c.vocab_size, &rng);
    for (int i = 0; i <= NMOD_MAX; i++) without[i] = with[i], without[i].source = -1;
    for (int train = 0; train < 2; train++) {
        mir_batch_options o;
        mir_batch_options_default(&o);
        o.train = train;
        mir_batch x, y;
        mir_batch_init(&x);
        mir_batch_init(&y);
        mir_rng rx, ry;
        mir_rng_seed(&rx, 11, 0);
        mir_rng_seed(&ry, 11, 0);
        mir_batch_build(&x, with, NMOD_MAX + 1, &c, &o, &rx);
        mir_batch_build(&y, without, NMOD_MAX + 1, &c, &o, &ry);
        CHECK(memcmp(rx.s, ry.s, sizeof rx.s) == 0);
        CHECK_FATAL(x.B == y.B && x.T == y.T && x.N == y.N && x.n_pairs == y.n_pairs && x.n_match == y.n_match &&
                    x.n_stat == y.n_stat);
        const size_t bt = (size_t)x.B * x.T, n = (size_t)x.N;
        CHECK(memcmp(x.tok_in, y.tok_in, bt * sizeof *x.tok_in) == 0);
        CHECK(memcmp(x.tok_target, y.tok_target, bt * sizeof *x.tok_target) == 0);
        CHECK(memcmp(x.tok_valid, y.tok_valid, bt) == 0);
        CHECK(memcmp(x.node_in, y.node_in, n * sizeof *x.node_in) == 0);
        CHECK(memcmp(x.node_kind, y.node_kind, n) == 0);
        CHECK(memcmp(x.node_target, y.node_target, n * sizeof *x.node_target) == 0);
        CHECK(memcmp(x.node_offset, y.node_offset, (size_t)(x.B + 1) * sizeof *x.node_offset) == 0);
        CHECK(memcmp(x.pair_a, y.pair_a, (size_t)x.n_pairs * sizeof *x.pair_a) == 0);
        CHECK(memcmp(x.pair_b, y.pair_b, (size_t)x.n_pairs * sizeof *x.pair_b) == 0);
        CHECK(memcmp(x.pair_label, y.pair_label, (size_t)x.n_pairs * sizeof *x.pair_label) == 0);
        CHECK(memcmp(x.match_graph, y.match_graph, (size_t)x.n_match * sizeof *x.match_graph) == 0);
        CHECK(memcmp(x.stat_target, y.stat_target, (size_t)x.B * c.vocab_size * sizeof *x.stat_target) == 0);
        for (int r = 0; r < MIR_N_RELATIONS; r++) CHECK_EQ_INT(x.rel[r].n_rows, y.rel[r].n_rows);
        for (int i = 0; i < x.B; i++) CHECK(x.partner[i] == -1 && y.partner[i] == -1);
        mir_batch_free(&x);
        mir_batch_free(&y);
    }
}

/* With contrastive = 1, two partners of different lengths read their token windows and their graph windows
 * (the run of instruction nodes) at the same relative position: one fraction f, drawn first in the batch, gives
 * floor(f * (n - w + 1)) for both; a module alone keeps a window of its own. Tokens and node texts are 5 + their
 * index, so a window's start is read off the batch (nothing masked). */
static void check_aligned_windows(void) {
    enum { NT0 = 40, NT1 = 100, NI0 = 30, NI1 = 60, NV = 6 }; /* tokens, instruction nodes, variable nodes */
    static int32_t tok[NT1], text[1 + NI1 + NV];
    static int8_t kind[1 + NI1 + NV];
    static int32_t src[NI1 + NV], dst[NI1 + NV];
    static int8_t flow[NI1 + NV];
    for (int i = 0; i < NT1; i++) tok[i] = 5 + i;
    for (int i = 0; i < 1 + NI1 + NV; i++) {
        text[i] = 5 + i;
        kind[i] = i <= NI1 ? 0 : 1;
    }
    int ne = 0;
    for (int i = 1; i < NI1; i++) src[ne] = i, dst[ne] = i + 1, flow[ne++] = 0;
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 256) == 0);
    c.max_seq = 8;
    c.max_nodes = 10; /* K = 5 instruction nodes */
    c.contrastive = 1;
    const int T = c.max_seq, K = c.max_nodes / 2;
    /* module 0 and 2 partners (the graph of 0: its first NI0 instructions, then the variables, as a view of the
     * same arrays cannot skip nodes: NI0 + 1 nodes, all root or instruction); module 1 alone */
    mir_module_view v[3] = {{tok, NT0, kind, text, 1 + NI0, src, dst, flow, NI0 - 1, 5},
                            {tok, NT1, kind, text, 1 + NI1 + NV, src, dst, flow, ne, -1},
                            {tok, NT1, kind, text, 1 + NI1 + NV, src, dst, flow, ne, 5}};
    const int64_t n_tok[3] = {NT0, NT1, NT1}, n_inst[3] = {NI0, NI1, NI1};
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = 0;
    mir_batch b;
    mir_batch_init(&b);
    int differ = 0; /* draws where the module alone starts elsewhere than its twin in the pair */
    for (uint64_t seed = 1; seed <= 40; seed++) {
        mir_rng rng, first;
        mir_rng_seed(&rng, seed, 0);
        first = rng;
        const double f = mir_rng_uniform(&first);
        mir_batch_build(&b, v, 3, &c, &o, &rng);
        CHECK_FATAL(b.T == T && b.partner[0] == 2 && b.partner[2] == 0 && b.partner[1] == -1);
        int64_t ts[3], gs[3];
        for (int i = 0; i < 3; i++) {
            ts[i] = b.tok_in[(size_t)i * T] - 5;
            gs[i] = b.node_in[b.node_offset[i] + 1] - 5;
            CHECK_EQ_INT(b.node_in[b.node_offset[i]], 5); /* the root first */
        }
        for (int k = 0; k < 3; k += 2) {
            CHECK_EQ_INT(ts[k], mir_window_start(f, n_tok[k], T));
            CHECK_EQ_INT(gs[k], 1 + mir_window_start(f, n_inst[k], K));
        }
        /* the same relative position: the intervals of f that give each start overlap */
        double lo0 = (double)ts[0] / (NT0 - T + 1), hi0 = (double)(ts[0] + 1) / (NT0 - T + 1);
        double lo2 = (double)ts[2] / (NT1 - T + 1), hi2 = (double)(ts[2] + 1) / (NT1 - T + 1);
        CHECK(fmax(lo0, lo2) < fmin(hi0, hi2));
        lo0 = (double)(gs[0] - 1) / (NI0 - K + 1), hi0 = (double)gs[0] / (NI0 - K + 1);
        lo2 = (double)(gs[2] - 1) / (NI1 - K + 1), hi2 = (double)gs[2] / (NI1 - K + 1);
        CHECK(fmax(lo0, lo2) < fmin(hi0, hi2));
        differ += ts[1] != ts[2];
    }
    CHECK(differ > 30);
    CHECK_EQ_INT(mir_window_start(0.999999, 10, 8), 2);
    CHECK_EQ_INT(mir_window_start(0.0, 10, 8), 0);
    CHECK_EQ_INT(mir_window_start(0.5, 5, 8), 0);
    mir_batch_free(&b);
}

/* The contrastive loss recomputed by hand from the embeddings [u, v] of the batch (mir_model_embed): cosines / tau,
 * -s_ap + log sum_{b != a} exp(s_ab) per anchor, the mean over the four anchors, and the accuracy; the float model
 * agrees. A batch without anchors adds nothing: loss 0 and the gradient of the model without the objective. */
static void check_contrast_loss(void) {
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    c.max_seq = 8;
    c.max_nodes = 10;
    c.contrastive = 1;
    const int B = NMOD_MAX + 1, D = 2 * c.d_model;
    mir_rng rng;
    synth mods[NMOD_MAX];
    mir_module_view views[NMOD_MAX + 1];
    contrast_views(mods, views, c.vocab_size, &rng);
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_options o;
    mir_batch_options_default(&o);
    mir_batch_build(&b, views, B, &c, &o, &rng);
    mir_model_f64 m;
    CHECK_FATAL(mir_model_create_f64(&m, &c) == 0);
    mir_rng init;
    mir_rng_seed(&init, 9, 0);
    mir_model_init_params_f64(&m, &init);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 4;
    mir_losses l;
    mir_model_forward_f64(&m, &b, &l);
    double *e = calloc((size_t)B * D, sizeof *e);
    mir_model_embed_f64(&m, &b, e);
    for (int i = 0; i < B; i++) {
        double n2 = 0;
        for (int t = 0; t < D; t++) n2 += e[(size_t)i * D + t] * e[(size_t)i * D + t];
        for (int t = 0; t < D; t++) e[(size_t)i * D + t] /= sqrt(n2);
    }
    double sum = 0;
    int anchors = 0, hits = 0;
    for (int a = 0; a < B; a++) {
        if (b.partner[a] < 0) continue;
        double s[NMOD_MAX + 1], z = 0;
        int best = -1;
        for (int j = 0; j < B; j++) {
            s[j] = 0;
            for (int t = 0; t < D; t++) s[j] += e[(size_t)a * D + t] * e[(size_t)j * D + t];
            s[j] /= MIR_CONTRAST_TAU;
            if (j == a) continue;
            z += exp(s[j]);
            if (best < 0 || s[j] > s[best]) best = j;
        }
        sum += -s[b.partner[a]] + log(z);
        hits += best == b.partner[a];
        anchors++;
    }
    printf("contrastive: loss %.6f (by hand %.6f), accuracy %.2f over %d anchors\n", l.contrast, sum / anchors,
           l.contrast_acc, l.n_contrast);
    CHECK_EQ_INT(anchors, 4);
    CHECK_EQ_INT(l.n_contrast, 4);
    CHECK_NEAR(l.contrast, sum / anchors, 1e-10);
    CHECK_NEAR(l.contrast_acc, (double)hits / anchors, 1e-12);
    CHECK(l.contrast > 0);
    mir_model_f32 mf;
    CHECK_FATAL(mir_model_create_f32(&mf, &c) == 0);
    for (size_t i = 0; i < m.n_params; i++) mf.params[i] = (float)m.params[i];
    mir_losses lf;
    mir_model_forward_f32(&mf, &b, &lf);
    CHECK_NEAR(lf.contrast, l.contrast, 1e-4 * l.contrast);
    /* the flops count the similarity product */
    mir_config c0 = c;
    c0.contrastive = 0;
    CHECK_NEAR(mir_model_flops(&c, &b) - mir_model_flops(&c0, &b), 3.0 * 2 * B * B * D, 1e-6);

    /* no anchors: nothing added, the gradient of the model without the objective */
    for (int i = 0; i < B; i++) views[i].source = -1;
    mir_batch_build(&b, views, B, &c, &o, &rng);
    mir_model_forward_f64(&m, &b, &l);
    CHECK(l.contrast == 0 && l.n_contrast == 0 && l.contrast_acc == 0);
    memset(m.grads, 0, m.n_params * sizeof(double));
    mir_model_backward_f64(&m, &b, 1.0);
    mir_model_f64 m0;
    CHECK_FATAL(mir_model_create_f64(&m0, &c0) == 0);
    memcpy(m0.params, m.params, m.n_params * sizeof(double));
    mir_losses l0;
    mir_model_forward_f64(&m0, &b, &l0);
    CHECK(l0.total == l.total);
    mir_model_backward_f64(&m0, &b, 1.0);
    CHECK(memcmp(m0.grads, m.grads, m.n_params * sizeof(double)) == 0);
    mir_model_free_f64(&m0);
    mir_model_free_f32(&mf);
    mir_model_free_f64(&m);
    mir_batch_free(&b);
    free(e);
}
