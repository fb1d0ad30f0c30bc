/*
 * test_stmt.c: statement positions (mir_config.statements). The batch's CSR from hand-made token arrays (statement
 * boundaries, empty statements skipped, a missing final [SEP], the piece cap, the window at train = 0 and at random
 * when training), the statement masking (targets, the 80/10/10 split, at least one per sequence), the masked-statement
 * loss recomputed by hand with plain loops, today's model unchanged with the switch off (batches and random stream
 * pinned, losses pinned to the values of the code before the switch existed), and the configuration key and
 * model-file attribute. The whole-model gradient with statements is in test_model.c.
 */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fd.h"
#include "model_file.h"
#include "mir_test.h"
#include "model_loss.h"
#include "model.h"
#include "trainer.h"

enum { SEP = MIR_TOK_SEP };

static mir_module_view tokens_view(const int32_t *tok, int64_t n) {
    static int8_t kind[2] = {0, 0};
    static int32_t text[2] = {5, 6}, src[1] = {0}, dst[1] = {1};
    static int8_t flow[1] = {0};
    return (mir_module_view){tok, n, kind, text, 2, src, dst, flow, 1, -1};
}

static void check_ids(const int32_t *got, const int32_t *want, int n, const char *what) {
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            fprintf(stderr, "  %s[%d]: %d, expected %d\n", what, i, got[i], want[i]);
            CHECK(got[i] == want[i]);
            return;
        }
}

/* Hand-made modules: A = 7 8 | 9 | (empty) | 10 11 12 (no final SEP), B = (empty) | 13 |, C = one statement of 70
 * pieces (kept: its first MIR_STMT_MAX_PIECES). Nothing masked, train = 0: the first max_seq statements. */
static void check_csr(void) {
    static const int32_t A[] = {7, 8, SEP, 9, SEP, SEP, 10, 11, 12}, Bm[] = {SEP, 13, SEP};
    int32_t Cm[71];
    for (int i = 0; i < 70; i++) Cm[i] = 5 + i % 19;
    Cm[70] = SEP;
    mir_module_view v[3] = {tokens_view(A, 9), tokens_view(Bm, 3), tokens_view(Cm, 71)};
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    CHECK_EQ_INT(c.statements, 0); /* off in the presets */
    c.statements = 1;
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = 0;
    o.train = 0;
    mir_rng rng;
    mir_rng_seed(&rng, 1, 0);
    mir_batch b;
    mir_batch_init(&b);

    /* max_seq 2: A's first two statements, B's one, C's one */
    c.max_seq = 2;
    mir_batch_build(&b, v, 3, &c, &o, &rng);
    CHECK_EQ_INT(b.B, 3);
    CHECK_EQ_INT(b.T, 2);
    static const int32_t off2[] = {0, 2, 3, 4, 4, 68, 68};
    check_ids(b.stmt_off, off2, 7, "stmt_off (max_seq 2)");
    static const int32_t piece2[] = {7, 8, 9, 13};
    check_ids(b.stmt_piece, piece2, 4, "stmt_piece (max_seq 2)");
    check_ids(b.stmt_piece + 4, Cm, MIR_STMT_MAX_PIECES, "stmt_piece (capped statement)");
    CHECK_EQ_INT(b.n_piece, 68);
    static const uint8_t valid2[] = {1, 1, 1, 0, 1, 0};
    CHECK(memcmp(b.tok_valid, valid2, 6) == 0);
    static const int32_t in2[] = {7, 9, 13, 0, 5, 0};
    check_ids(b.tok_in, in2, 6, "tok_in (max_seq 2)");
    for (int i = 0; i < 6; i++) CHECK(b.tok_target[i] == -1 && b.stmt_tgt_off[i] == 0);
    CHECK(b.stmt_tgt_off[6] == 0 && b.n_stmt_target == 0 && b.n_stmt_masked == 0);

    /* max_seq 8: A's three statements (the last without its SEP), the batch's T the longest, 3 */
    c.max_seq = 8;
    mir_batch_build(&b, v, 3, &c, &o, &rng);
    CHECK_EQ_INT(b.T, 3);
    static const int32_t off8[] = {0, 2, 3, 6, 7, 7, 7, 71, 71, 71};
    check_ids(b.stmt_off, off8, 10, "stmt_off (max_seq 8)");
    static const int32_t piece8[] = {7, 8, 9, 10, 11, 12, 13};
    check_ids(b.stmt_piece, piece8, 7, "stmt_piece (max_seq 8)");
    static const uint8_t valid8[] = {1, 1, 1, 1, 0, 0, 1, 0, 0};
    CHECK(memcmp(b.tok_valid, valid8, 9) == 0);

    /* a module of SEPs only has no statement: a sequence of padding */
    static const int32_t D[] = {SEP, SEP};
    mir_module_view w[2] = {tokens_view(A, 9), tokens_view(D, 2)};
    mir_batch_build(&b, w, 2, &c, &o, &rng);
    CHECK_EQ_INT(b.T, 3);
    for (int t = 0; t < 3; t++) CHECK(b.tok_valid[3 + t] == 0 && b.stmt_off[3 + t] == 6);
    mir_batch_free(&b);
}

/* Statement s of the windows below is 5+s repeated 1 + s % 3 times; a sequence's window read back from the batch
 * (nothing masked) is a run of consecutive statements: from the start at train = 0, from every possible start
 * when training, and, for contrastive partners, at the same relative position (mir_window_start). */
static void check_windows(void) {
    enum { NS = 20, NS2 = 50 };
    static int32_t tok[NS2 * 4];
    int n = 0;
    for (int s = 0; s < NS2; s++) {
        for (int k = 0; k <= s % 3; k++) tok[n++] = 5 + s;
        tok[n++] = SEP;
    }
    int n20 = 0; /* the tokens of the first NS statements */
    for (int s = 0; s < NS; s++) n20 += 2 + s % 3;
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 64) == 0);
    c.statements = 1;
    c.max_seq = 6;
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = 0;
    mir_batch b;
    mir_batch_init(&b);
    int seen[NS] = {0};
    for (uint64_t seed = 1; seed <= 200; seed++) {
        mir_rng rng;
        mir_rng_seed(&rng, seed, 0);
        mir_module_view v = tokens_view(tok, n20);
        o.train = seed > 1;
        mir_batch_build(&b, &v, 1, &c, &o, &rng);
        CHECK_FATAL(b.T == 6);
        const int start = b.stmt_piece[0] - 5;
        if (!o.train) CHECK_EQ_INT(start, 0);
        CHECK(start >= 0 && start <= NS - 6);
        if (start >= 0 && start < NS) seen[start]++;
        for (int t = 0; t < 6; t++) {
            const int s = start + t;
            CHECK_EQ_INT(b.stmt_off[t + 1] - b.stmt_off[t], 1 + s % 3);
            for (int j = b.stmt_off[t]; j < b.stmt_off[t + 1]; j++) CHECK_EQ_INT(b.stmt_piece[j], 5 + s);
        }
    }
    for (int s = 0; s <= NS - 6; s++) CHECK(seen[s] > 0);
    /* partners: the same relative position of their statements */
    c.contrastive = 1;
    mir_module_view p[2] = {tokens_view(tok, n20), tokens_view(tok, n)};
    p[0].source = p[1].source = 4;
    o.train = 1;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        mir_rng rng, first;
        mir_rng_seed(&rng, seed, 0);
        first = rng;
        const double f = mir_rng_uniform(&first);
        mir_batch_build(&b, p, 2, &c, &o, &rng);
        CHECK_EQ_INT(b.stmt_piece[b.stmt_off[0]] - 5, mir_window_start(f, NS, 6));
        CHECK_EQ_INT(b.stmt_piece[b.stmt_off[6]] - 5, mir_window_start(f, NS2, 6));
    }
    mir_batch_free(&b);
}

/* Masking: every masked statement's target is its own pieces; its input [MASK] alone (about 80 %), another statement
 * of the window (10 %) or itself (10 %); with mask_prob so small that nothing is chosen, exactly one statement per
 * sequence is, and replaced by [MASK]. A window of one statement replaced "by another" gets one random piece. */
static void check_masking(void) {
    enum { NS = 12 };
    static int32_t tok[NS * 4];
    int n = 0;
    for (int s = 0; s < NS; s++) {
        for (int k = 0; k <= s % 3; k++) tok[n++] = 5 + s;
        tok[n++] = SEP;
    }
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 64) == 0);
    c.statements = 1;
    c.max_seq = NS;
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = 1;
    mir_batch b;
    mir_batch_init(&b);
    int counts[3] = {0, 0, 0}; /* [MASK], other, same */
    for (uint64_t seed = 1; seed <= 200; seed++) {
        mir_rng rng;
        mir_rng_seed(&rng, seed, 0);
        mir_module_view v = tokens_view(tok, n);
        mir_batch_build(&b, &v, 1, &c, &o, &rng);
        CHECK_FATAL(b.T == NS && b.n_stmt_masked == NS);
        for (int t = 0; t < NS; t++) {
            const int *to = b.stmt_tgt_off, *io = b.stmt_off;
            CHECK_EQ_INT(to[t + 1] - to[t], 1 + t % 3);
            for (int j = to[t]; j < to[t + 1]; j++) CHECK_EQ_INT(b.stmt_target[j], 5 + t);
            const int first = b.stmt_piece[io[t]], len = io[t + 1] - io[t];
            CHECK_EQ_INT(b.tok_in[t], first);
            CHECK_EQ_INT(b.tok_target[t], -1);
            if (first == MIR_TOK_MASK) {
                CHECK_EQ_INT(len, 1);
                counts[0]++;
            } else {
                const int s = first - 5;
                CHECK_FATAL(s >= 0 && s < NS);
                CHECK_EQ_INT(len, 1 + s % 3);
                counts[s == t ? 2 : 1]++;
            }
        }
    }
    const double all = 200.0 * NS;
    printf("statement masking at mask_prob 1: [MASK] %.3f, another statement %.3f, unchanged %.3f\n", counts[0] / all,
           counts[1] / all, counts[2] / all);
    CHECK(fabs(counts[0] / all - 0.8) < 0.03);
    CHECK(fabs(counts[1] / all - 0.1) < 0.02);
    CHECK(fabs(counts[2] / all - 0.1) < 0.02);
    /* at least one per sequence */
    o.mask_prob = 1e-9f;
    mir_module_view two[2] = {tokens_view(tok, n), tokens_view(tok, 7)};
    for (uint64_t seed = 1; seed <= 20; seed++) {
        mir_rng rng;
        mir_rng_seed(&rng, seed, 0);
        mir_batch_build(&b, two, 2, &c, &o, &rng);
        CHECK_EQ_INT(b.n_stmt_masked, 2);
        for (int i = 0; i < 2; i++) {
            int masked = 0;
            for (int t = 0; t < NS; t++) {
                const int k = i * NS + t;
                if (b.stmt_tgt_off[k + 1] == b.stmt_tgt_off[k]) continue;
                masked++;
                CHECK(b.stmt_off[k + 1] - b.stmt_off[k] == 1 && b.stmt_piece[b.stmt_off[k]] == MIR_TOK_MASK);
            }
            CHECK_EQ_INT(masked, 1);
        }
    }
    /* one statement, replaced by "another": a random piece of the vocabulary */
    o.mask_prob = 1;
    int random_piece = 0;
    for (uint64_t seed = 1; seed <= 100; seed++) {
        mir_rng rng;
        mir_rng_seed(&rng, seed, 0);
        mir_module_view one = tokens_view(tok, 2); /* the statement "5" */
        mir_batch_build(&b, &one, 1, &c, &o, &rng);
        CHECK_FATAL(b.T == 1 && b.n_stmt_masked == 1 && b.n_piece == 1);
        const int p = b.stmt_piece[0];
        CHECK(p == MIR_TOK_MASK || (p >= 5 && p < c.vocab_size));
        random_piece += p != MIR_TOK_MASK && p != 5;
    }
    CHECK(random_piece > 0);
    mir_batch_free(&b);
}

/* The masked-statement loss by hand on a model without transformer blocks (n_layers 0: xf = LN(x), x = mean of the
 * statement's wte rows + wpe[s]), plain loops: logits = xf @ w_mlm + b_mlm, -(1/n_s) sum over the statement's pieces of
 * log softmax, mean over masked statements; the accuracy (arg-max among the statement's pieces) and the count. Once
 * with a fraction of the statements masked, once with all masked and b_mlm favouring piece 7: exactly the two
 * statements with a 7 (one of them 7 8 8, a repeated piece) are hits. */
static void mlm_by_hand(float mask_prob, int favour7);
static void check_mlm_by_hand(void) {
    mlm_by_hand(0.6f, 0);
    mlm_by_hand(1.0f, 1);
}

static void mlm_by_hand(float mask_prob, int favour7) {
    static const int32_t A[] = {7, 8, 8, SEP, 9, SEP, 10, 11, 12, SEP, 13, SEP, 7, 14}, Bm[] = {15, SEP, 16, 17};
    mir_module_view v[2] = {tokens_view(A, 14), tokens_view(Bm, 4)};
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    c.statements = 1;
    c.n_layers = 0;
    c.max_seq = 8;
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = mask_prob;
    mir_rng rng;
    mir_rng_seed(&rng, 5, 0);
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_build(&b, v, 2, &c, &o, &rng);
    CHECK_FATAL(b.T == 5 && b.n_stmt_masked >= 2);
    mir_model_f64 m;
    CHECK_FATAL(mir_model_create_f64(&m, &c) == 0);
    mir_rng init;
    mir_rng_seed(&init, 12, 0);
    mir_model_init_params_f64(&m, &init);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 20;
    for (int k = 0; k < c.d_model; k++) m.p.lnf_g[k] = 1 + 0.1 * k, m.p.lnf_b[k] = 0.01 * k; /* not the identity */
    if (favour7) m.p.b_mlm[7] = 50;
    mir_losses l;
    mir_model_forward_f64(&m, &b, &l);
    const int C = c.d_model, V = c.vocab_size, T = b.T;
    double sum = 0;
    int masked = 0, hits = 0;
    for (int i = 0; i < b.B * T; i++) {
        const int t0 = b.stmt_tgt_off[i], t1 = b.stmt_tgt_off[i + 1];
        if (t1 == t0) continue;
        double x[64], xf[64], logit[64];
        const int n = b.stmt_off[i + 1] - b.stmt_off[i];
        for (int k = 0; k < C; k++) {
            x[k] = 0;
            for (int j = b.stmt_off[i]; j < b.stmt_off[i + 1]; j++) x[k] += m.p.wte[b.stmt_piece[j] * C + k];
            x[k] = x[k] / n + m.p.wpe[(i % T) * C + k];
        }
        double mean = 0, var = 0;
        for (int k = 0; k < C; k++) mean += x[k] / C;
        for (int k = 0; k < C; k++) var += (x[k] - mean) * (x[k] - mean) / C;
        for (int k = 0; k < C; k++) xf[k] = (x[k] - mean) / sqrt(var + 1e-5) * m.p.lnf_g[k] + m.p.lnf_b[k];
        double mx = -1e300;
        int best = 0;
        for (int j = 0; j < V; j++) {
            logit[j] = m.p.b_mlm[j];
            for (int k = 0; k < C; k++) logit[j] += xf[k] * m.p.w_mlm[k * V + j];
            if (logit[j] > mx) mx = logit[j], best = j;
        }
        double z = 0;
        for (int j = 0; j < V; j++) z += exp(logit[j] - mx);
        double ls = 0;
        int hit = 0;
        for (int j = t0; j < t1; j++) {
            ls += -(logit[b.stmt_target[j]] - mx - log(z));
            hit |= b.stmt_target[j] == best;
        }
        sum += ls / (t1 - t0);
        hits += hit;
        masked++;
    }
    printf("masked-statement loss %.9f (by hand %.9f), accuracy %.3f (by hand %.3f), %d statements\n", l.mlm,
           sum / masked, l.mlm_acc, (double)hits / masked, l.n_mlm);
    CHECK_EQ_INT(l.n_mlm, masked);
    CHECK_EQ_INT(masked, b.n_stmt_masked);
    CHECK_NEAR(l.mlm, sum / masked, 1e-10 * fabs(l.mlm));
    CHECK_NEAR(l.mlm_acc, (double)hits / masked, 1e-12);
    if (favour7) CHECK(masked == 7 && hits == 2);
    /* the float model agrees */
    mir_model_f32 mf;
    CHECK_FATAL(mir_model_create_f32(&mf, &c) == 0);
    for (size_t i = 0; i < m.n_params; i++) mf.params[i] = (float)m.params[i];
    mir_losses lf;
    mir_model_forward_f32(&mf, &b, &lf);
    CHECK_NEAR(lf.mlm, l.mlm, 1e-4 * fabs(l.mlm));
    /* the flops count T statements and the masked statements' head */
    mir_config c0 = c;
    c0.statements = 0;
    CHECK_NEAR(mir_model_flops(&c, &b) - mir_model_flops(&c0, &b), 3.0 * (2.0 * masked * C * V + (double)b.n_piece * C),
               1e-6);
    mir_model_free_f32(&mf);
    mir_model_free_f64(&m);
    mir_batch_free(&b);
}

/* The gradient of the statement embedding against finite differences on EVERY element of tok/wte and tok/wpe (the
 * whole-model check in test_model samples large tensors): statements with repeated pieces, a masked one replaced
 * by another's pieces, padding; the other tensors' worst error too. */

static void check_embedding_fd(void) {
    static const int32_t A[] = {7, 8, 8, SEP, 9, SEP, 10, 11, 12, SEP, 13, SEP, 7, 14, SEP, 20, 20, 20, 21},
                         Bm[] = {15, SEP, 16, 17};
    mir_module_view v[2] = {tokens_view(A, 19), tokens_view(Bm, 4)};
    mir_config c;
    CHECK_FATAL(mir_config_preset(&c, "tiny", 24) == 0);
    c.statements = 1;
    c.max_seq = 8;
    c.stats = 1;
    mir_batch_options o;
    mir_batch_options_default(&o);
    o.mask_prob = 0.5f;
    mir_rng rng;
    mir_rng_seed(&rng, 21, 0);
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_build(&b, v, 2, &c, &o, &rng);
    mir_model_f64 m;
    CHECK_FATAL(mir_model_create_f64(&m, &c) == 0);
    mir_rng init;
    mir_rng_seed(&init, 13, 0);
    mir_model_init_params_f64(&m, &init);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 4;
    total_loss(&m, &b);
    memset(m.grads, 0, m.n_params * sizeof(double));
    mir_model_backward_f64(&m, &b, 1.0);
    const int nt = mir_params_table(&c, NULL, NULL);
    mir_tensor_info *t = calloc((size_t)nt, sizeof *t);
    mir_params_table(&c, t, NULL);
    /* every element of the two embedding tables to 1e-6; the other tensors sampled, to 1e-4 as in test_model (the
     * key biases' exact zeros against ~2e-10 of rounding noise); floor 1e-5 */
    mir_fd emb = mir_fd_init(1e-5, 1e-5, 1e-6), other = mir_fd_init(1e-5, 1e-5, 1e-4);
    loss_ctx lc = {&m, &b};
    for (int k = 0; k < nt; k++) {
        const int is_emb = !strcmp(t[k].name, "tok/wte") || !strcmp(t[k].name, "tok/wpe");
        const long n = (long)t[k].rows * t[k].cols, stride = is_emb || n <= 64 ? 1 : n / 17 + 1;
        mir_fd_check(is_emb ? &emb : &other, t[k].name, m.params + t[k].offset, n, NULL, 0, stride,
                     m.grads + t[k].offset, loss_of, &lc);
    }
    printf("statement embedding finite differences: %ld parameters checked (all of tok/wte and tok/wpe), worst relative "
           "error %.2e there, %.2e elsewhere\n", emb.checked + other.checked, emb.worst, other.worst);
    CHECK(b.n_stmt_masked > 0);
    CHECK_EQ_INT(emb.bad + other.bad, 0);
    free(t);
    mir_model_free_f64(&m);
    mir_batch_free(&b);
}

/* ------------------------------------------------------------------------------------------------ */
/* the switch off: today's model                                                                    */

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ULL;
    return h;
}

/* With statements = 0, the batches (their integer arrays, edge labels and the random stream after them) of six
 * synthetic modules, with stats and contrastive off and on, training or not, hash to the values the code before the
 * switch existed gave (commit 8138d65, where the whole batch, losses and gradients of the double and float models were
 * checked bit-identical); the total losses of the double model agree with that code's to 1e-12 (a tolerance only for
 * BLAS builds that round differently), and the flops exactly. */
static void check_switch_off(void) {
    static const uint64_t want_batch[4][2] = {{0x94b94ba467068220ULL, 0x209979fae4bd467eULL},
                                              {0xeaaae2171f4f23f3ULL, 0xb27daaedfd454767ULL},
                                              {0xede256a33f2fe2b6ULL, 0xbdfc26e3a6a83b72ULL},
                                              {0xfc56e407f66d4ec7ULL, 0xc131cfe6e5f1bb18ULL}};
    static const double want_total[4][2] = {{6.8593765648584011, 15.253447240975635},
                                            {8.3444288673683182, 15.464267804923107},
                                            {8.7097462529622529, 18.796844377560191},
                                            {10.670465413325635, 17.465092693360177}};
    static const double want_flops[4][2] = {{4576128, 4690176}, {4576128, 4678464}, {4583040, 4673664},
                                            {4583040, 4695360}};
    mir_rng rng;
    mir_rng_seed(&rng, 5, 0);
    enum { M = 6, V = 30 };
    static int32_t tok[M][300], text[M][40], src[M][80], dst[M][80];
    static int8_t kind[M][40], flow[M][80];
    mir_module_view v[M];
    for (int i = 0; i < M; i++) {
        int nt = 5 + 37 * i, nn = 6 + 5 * i, ne = 0;
        for (int t = 0; t < nt; t++) tok[i][t] = 5 + (int32_t)mir_rng_below(&rng, V - 5);
        for (int k = 0; k < nn; k++) {
            kind[i][k] = k == 0 ? 0 : k < nn / 2 ? 0 : (int8_t)(1 + mir_rng_below(&rng, 2));
            text[i][k] = 5 + (int32_t)mir_rng_below(&rng, V - 5);
            if (k > 0) {
                src[i][ne] = k - 1, dst[i][ne] = k, flow[i][ne++] = 0;
                src[i][ne] = (int32_t)mir_rng_below(&rng, (uint64_t)k), dst[i][ne] = k, flow[i][ne++] = 1;
            }
        }
        v[i] = (mir_module_view){tok[i], nt, kind[i], text[i], nn, src[i], dst[i], flow[i], ne, i / 2};
    }
    for (int variant = 0; variant < 4; variant++)
        for (int train = 0; train < 2; train++) {
            mir_config c;
            CHECK_FATAL(mir_config_preset(&c, "tiny", V) == 0);
            c.max_seq = 32;
            c.max_nodes = 16;
            c.stats = variant & 1;
            c.contrastive = variant >> 1;
            mir_batch b;
            mir_batch_init(&b);
            mir_batch_options o;
            mir_batch_options_default(&o);
            o.train = train;
            if (!train) o.mask_prob = 0;
            mir_rng r;
            mir_rng_seed(&r, 77 + (uint64_t)variant, 0);
            mir_batch_build(&b, v, M, &c, &o, &r);
            CHECK(b.stmt_off == NULL && b.stmt_piece == NULL && b.n_piece == 0 && b.n_stmt_masked == 0);
            const size_t bt = (size_t)b.B * b.T;
            uint64_t h = 1469598103934665603ULL;
            h = fnv(h, &b.B, 4), h = fnv(h, &b.T, 4), h = fnv(h, &b.N, 4);
            h = fnv(h, b.tok_in, bt * 4), h = fnv(h, b.tok_target, bt * 4), h = fnv(h, b.tok_valid, bt);
            h = fnv(h, b.node_in, (size_t)b.N * 4), h = fnv(h, b.node_target, (size_t)b.N * 4);
            h = fnv(h, b.node_kind, (size_t)b.N), h = fnv(h, b.pair_a, (size_t)b.n_pairs * 4);
            h = fnv(h, b.pair_b, (size_t)b.n_pairs * 4), h = fnv(h, b.pair_label, (size_t)b.n_pairs * 4);
            h = fnv(h, b.partner, M * 4), h = fnv(h, r.s, sizeof r.s);
            mir_model_f64 m;
            CHECK_FATAL(mir_model_create_f64(&m, &c) == 0);
            mir_rng ri;
            mir_rng_seed(&ri, 9, 0);
            mir_model_init_params_f64(&m, &ri);
            for (size_t i = 0; i < m.n_params; i++) m.params[i] *= 4;
            mir_losses l;
            mir_model_forward_f64(&m, &b, &l);
            printf("switch off (stats %d, contrastive %d, train %d): batch %016llx, total %.17g, flops %.0f\n",
                   c.stats, c.contrastive, train, (unsigned long long)h, l.total, mir_model_flops(&c, &b));
            CHECK(h == want_batch[variant][train]);
            CHECK_NEAR(l.total, want_total[variant][train], 1e-12 * want_total[variant][train]);
            CHECK(mir_model_flops(&c, &b) == want_flops[variant][train]);
            mir_model_free_f64(&m);
            mir_batch_free(&b);
        }
}

/* ------------------------------------------------------------------------------------------------ */
/* configuration file and model file                                                                */

/* "statements = 1" in a configuration file reaches mir_config, is checked (0 or 1), and round-trips through a model
 * file; a model file without the attribute (written before it existed) reads statements = 0. */
static void check_config_file(void) {
    char dir[] = "/tmp/test_stmt.XXXXXX";
    CHECK_FATAL(mkdtemp(dir) != NULL);
    char cfg_path[256], model_path[256];
    snprintf(cfg_path, sizeof cfg_path, "%s/stmt.cfg", dir);
    snprintf(model_path, sizeof model_path, "%s/model.h5", dir);
    FILE *f = fopen(cfg_path, "w");
    CHECK_FATAL(f != NULL);
    fprintf(f, "max_seq = 16\nd_model = 16\nn_heads = 2\nn_layers = 1\nd_ff = 32\nn_graph_layers = 1\n"
               "max_nodes = 32\nstatements = 1  # positions are statements\n");
    fclose(f);
    mir_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = 24;
    mir_error err = {{0}};
    CHECK_FATAL(mir_config_parse(cfg_path, &c, &err) == 0);
    CHECK_EQ_INT(c.statements, 1);
    char msg[128];
    CHECK(mir_config_check(&c, msg, sizeof msg) == 0);
    mir_config bad = c;
    bad.statements = 2;
    CHECK(mir_config_check(&bad, msg, sizeof msg) != 0);
    CHECK(strstr(msg, "statements") != NULL);

    size_t n = 0;
    mir_params_table(&c, NULL, &n);
    float *params = calloc(n, sizeof *params);
    char **vocab = calloc((size_t)c.vocab_size, sizeof *vocab);
    char words[24][16];
    for (int i = 0; i < c.vocab_size; i++) snprintf(words[i], sizeof words[i], "w%d", i), vocab[i] = words[i];
    CHECK_FATAL(mir_checkpoint_save(model_path, &c, vocab, NULL, params, NULL, NULL, NULL, "none", &err) == 0);
    mir_config r;
    CHECK_FATAL(mir_checkpoint_read_config(model_path, &r, NULL, &err) == 0);
    CHECK_EQ_INT(r.statements, 1);
    CHECK(memcmp(&r, &c, sizeof c) == 0);
    /* the same file without the attribute: as written before it existed */
    hid_t h = H5Fopen(model_path, H5F_ACC_RDWR, H5P_DEFAULT);
    CHECK_FATAL(h >= 0);
    CHECK(H5Adelete(h, "statements") >= 0);
    H5Fclose(h);
    CHECK_FATAL(mir_checkpoint_read_config(model_path, &r, NULL, &err) == 0);
    CHECK_EQ_INT(r.statements, 0);
    CHECK_EQ_INT(r.max_seq, 16);
    free(params);
    free(vocab);
    unlink(cfg_path);
    unlink(model_path);
    rmdir(dir);
}

int main(void) {
    check_csr();
    check_windows();
    check_masking();
    check_mlm_by_hand();
    check_embedding_fd();
    check_switch_off();
    check_config_file();
    return mir_test_finish("test_stmt");
}
