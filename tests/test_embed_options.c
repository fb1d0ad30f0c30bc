/*
 * test_embed_options: the reading modes of mir_embed_options (mir.h) against references built from the
 * exact mode, and the reuse of working memory.
 *   test_embed_options MODEL.h5 LONG.ll SMALL.ll
 * LONG.ll must span several token windows of the model and have more graph nodes than 8.
 *  (1) invalid options are refused with a message (a statistics readout too: the model has no statistics head);
 *  (2) K >= the number of windows, and max_nodes >= the number of nodes, give the exact embedding bit for bit;
 *  (3) K = 3 windows: the token half equals the length-weighted mean of the exact token halves of the three
 *      windows embedded on their own (window j of K at floor(j (n - 1) / (K - 1)));
 *  (4) a node cap changes the graph half only, and the fast preset is (1 window of MIR_FAST_WINDOW tokens
 *      or the model's window if shorter, the model's max_nodes);
 *  (5) pooled working memory: long, small, long again give the same vectors bit for bit;
 *  (6) windows of W < max_seq tokens: the token half equals the length-weighted mean of the exact token
 *      halves of the consecutive W-token pieces embedded on their own; W = max_seq is the exact embedding.
 *  (7) the limited extraction of one-window modes (mir_embed_word_limit), on LONG, SMALL and every MORE:
 *      for every limit, the limited words are a prefix of the full extraction's with at least that many
 *      words, the graph is the same; with one window of W tokens (several W, whole graph and node cap) the
 *      embedding from the limited encoding, and mir_embed_file's, equal bit for bit the one from the full
 *      encoding; a limit of W/4 words changes LONG's embedding (the check can fail); other modes: no limit.
 *   test_embed_options MODEL.h5 LONG.ll SMALL.ll [MORE.ll...]
 */
#include <llvm-c/Core.h>
#include <stdlib.h>
#include <string.h>

#include "embed.h"
#include "irmodule.h"
#include "mir_test.h"

/* A module read and parsed from path, in its own context (parsed_free releases all three). */
typedef struct parsed {
    char *data;
    LLVMContextRef ctx;
    LLVMModuleRef mod;
} parsed;

static parsed parse_file(const char *path) {
    parsed p = {NULL, LLVMContextCreate(), NULL};
    size_t n = 0;
    mir_error err;
    CHECK_FATAL(mir_read_file(path, &p.data, &n, &err) == 0);
    CHECK_FATAL(mir_parse_ir(p.ctx, p.data, n, path, &p.mod, &err) == 0);
    return p;
}

static void parsed_free(parsed *p) {
    LLVMDisposeModule(p->mod);
    LLVMContextDispose(p->ctx);
    free(p->data);
}

/* The module at path, encoded with the model's vocabulary: every statement (max_words 0) or limited. */
static mir_encoded encode_file(const mir_model *m, const char *path, int64_t max_words) {
    parsed p = parse_file(path);
    mir_error err;
    mir_encoded e;
    CHECK_FATAL(mir_encode_module(mir_model_vocab(m), p.mod, max_words, &e, &err) == 0);
    parsed_free(&p);
    return e;
}

/* The module at path, extracted with a word limit (0: all). */
static void extract_file(const char *path, int64_t max_words, mir_extract *x) {
    parsed p = parse_file(path);
    mir_error err;
    int rc = mir_extract_module_limited(p.mod, max_words, x, NULL, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CHECK_FATAL(rc == 0);
    parsed_free(&p);
}

static int same_graph(const mir_encoded *a, const mir_encoded *b) {
    return a->n_nodes == b->n_nodes && a->n_edges == b->n_edges &&
           !memcmp(a->node_kind, b->node_kind, (size_t)a->n_nodes) &&
           !memcmp(a->node_text, b->node_text, (size_t)a->n_nodes * sizeof(int32_t)) &&
           !memcmp(a->edge_src, b->edge_src, (size_t)a->n_edges * sizeof(int32_t)) &&
           !memcmp(a->edge_dst, b->edge_dst, (size_t)a->n_edges * sizeof(int32_t)) &&
           !memcmp(a->edge_flow, b->edge_flow, (size_t)a->n_edges);
}

/* (7) for one module: words prefix at every limit; one-window embeddings from the limited encoding equal
 * those from the full one, bit for bit. Returns the number of (W, node cap) cases checked. */
static int check_limited(mir_model *m, const char *path) {
    const mir_config *c = mir_model_config(m);
    const int T = c->max_seq;
    const size_t D = mir_embedding_dim(m);
    mir_error err;
    mir_extract full, lim;
    mir_extract_init(&full);
    mir_extract_init(&lim);
    extract_file(path, 0, &full);
    CHECK(!full.words_cut);
    for (int64_t L = 1; L <= (int64_t)full.words.n + 1; L++) {
        extract_file(path, L, &lim);
        int64_t nonempty = 0;
        int prefix = lim.words.n <= full.words.n;
        for (size_t i = 0; prefix && i < lim.words.n; i++) {
            prefix = lim.words.len[i] == full.words.len[i] &&
                     !memcmp(mir_words_get(&lim.words, i), mir_words_get(&full.words, i), lim.words.len[i]);
            nonempty += lim.words.len[i] > 0;
        }
        if (!prefix)
            fprintf(stderr, "%s: limit %lld: words are not a prefix of the full extraction's\n", path, (long long)L);
        CHECK(prefix);
        CHECK(nonempty >= L || lim.words.n == full.words.n);
        CHECK(lim.words_cut == (lim.words.n < full.words.n));
        CHECK(lim.n_functions == full.n_functions && lim.n_instructions == full.n_instructions);
        CHECK(lim.graph.n_nodes == full.graph.n_nodes && lim.graph.n_edges == full.graph.n_edges &&
              !memcmp(lim.graph.edge_src, full.graph.edge_src, full.graph.n_edges * sizeof(int32_t)) &&
              !memcmp(lim.graph.edge_dst, full.graph.edge_dst, full.graph.n_edges * sizeof(int32_t)));
    }
    mir_encoded ef = encode_file(m, path, 0);
    mir_module_view vf = mir_encoded_view(&ef);
    float *want = malloc(D * sizeof(float)), *got = malloc(D * sizeof(float));
    const int widths[] = {T, T / 2 + 1, 8, 3, 1};
    int cases = 0;
    for (size_t k = 0; k < sizeof widths / sizeof *widths; k++) {
        for (int capped = 0; capped < 2; capped++) {
            const int W = widths[k];
            mir_embed_options o = {1, capped ? 8 : 0, W == T ? 0 : W, 0};
            CHECK_FATAL(mir_model_set_options(m, &o, &err) == 0);
            CHECK_EQ_INT(mir_embed_word_limit(m), W);
            mir_encoded el = encode_file(m, path, mir_embed_word_limit(m));
            CHECK(el.n_tokens <= ef.n_tokens && el.n_tokens >= (ef.n_tokens < W ? ef.n_tokens : W));
            CHECK(memcmp(el.tokens, ef.tokens, (size_t)el.n_tokens * sizeof(int32_t)) == 0);
            CHECK(same_graph(&el, &ef));
            mir_module_view vl = mir_encoded_view(&el);
            CHECK(mir_embed_view(m, &vf, want, &err) == 0);
            CHECK(mir_embed_view(m, &vl, got, &err) == 0);
            int same = memcmp(got, want, D * sizeof(float)) == 0;
            if (!same) fprintf(stderr, "%s: one window of %d, node cap %d: limited encoding changes the embedding\n",
                               path, W, o.max_nodes);
            CHECK(same);
            CHECK(mir_embed_file(m, path, got, &err) == 0); /* embed_parsed: the limit chosen by the options */
            CHECK(memcmp(got, want, D * sizeof(float)) == 0);
            mir_encoded_free(&el);
            cases++;
        }
    }
    /* the limit applies to one-window modes only */
    mir_embed_options other[] = {{0, 0, 0, 0}, {2, 0, 0, 0}, {3, 8, T / 2 + 1, 0}};
    for (size_t k = 0; k < sizeof other / sizeof *other; k++) {
        CHECK_FATAL(mir_model_set_options(m, &other[k], &err) == 0);
        CHECK_EQ_INT(mir_embed_word_limit(m), 0);
    }
    free(want);
    free(got);
    mir_encoded_free(&ef);
    mir_extract_free(&full);
    mir_extract_free(&lim);
    return cases;
}

static void embed(mir_model *m, mir_embed_options o, const mir_module_view *v, float *out) {
    mir_error err;
    CHECK_FATAL(mir_model_set_options(m, &o, &err) == 0);
    CHECK_FATAL(mir_embed_view(m, v, out, &err) == 0);
}

int main(int argc, char **argv) {
    CHECK_FATAL(argc >= 4);
    mir_error err;
    mir_model *m = mir_model_load(argv[1], &err);
    if (!m) fprintf(stderr, "%s\n", err.msg);
    CHECK_FATAL(m != NULL);
    const mir_config *c = mir_model_config(m);
    const int C = c->d_model, T = c->max_seq;
    const size_t D = mir_embedding_dim(m);
    mir_encoded el = encode_file(m, argv[2], 0), es = encode_file(m, argv[3], 0);
    mir_module_view vl = mir_encoded_view(&el), vs = mir_encoded_view(&es);
    const int64_t n_win = (vl.n_tokens + T - 1) / T;
    printf("%s: %lld tokens (%lld windows of %d), %lld nodes\n", argv[2], (long long)vl.n_tokens,
           (long long)n_win, T, (long long)vl.n_nodes);
    CHECK_FATAL(n_win >= 4 && vl.n_nodes > 8);

    /* (1) */
    mir_embed_options bad = {-1, 0, 0, 0};
    CHECK(mir_model_set_options(m, &bad, &err) == -1 && strstr(err.msg, "max_windows"));
    bad = (mir_embed_options){0, MIR_INFER_MAX_NODES + 1, 0, 0};
    CHECK(mir_model_set_options(m, &bad, &err) == -1 && strstr(err.msg, "max_nodes"));
    bad = (mir_embed_options){0, 0, T + 1, 0};
    CHECK(mir_model_set_options(m, &bad, &err) == -1 && strstr(err.msg, "window"));
    bad = (mir_embed_options){0, 0, -1, 0};
    CHECK(mir_model_set_options(m, &bad, &err) == -1 && strstr(err.msg, "window"));
    bad = (mir_embed_options){0, 0, 0, 3};
    CHECK(mir_model_set_options(m, &bad, &err) == -1 && strstr(err.msg, "readout"));
    /* the model under test has no statistics head (stats = 0): no statistics readout, and the refused options left
     * the model's reading and its embedding length as they were */
    bad = (mir_embed_options){0, 0, 0, MIR_READOUT_STATS_ONLY};
    CHECK(mir_model_set_options(m, &bad, &err) == -1 && strstr(err.msg, "statistics head"));
    CHECK(mir_model_stat_columns(m) == 0 && mir_embedding_dim(m) == (size_t)D && mir_model_options(m).readout == 0);

    float *exact = malloc(D * sizeof(float)), *got = malloc(D * sizeof(float)), *tmp = malloc(D * sizeof(float));
    embed(m, (mir_embed_options){0, 0, 0, 0}, &vl, exact);
    /* (2) */
    embed(m, (mir_embed_options){(int)n_win, (int)vl.n_nodes, 0, 0}, &vl, got);
    CHECK(memcmp(got, exact, D * sizeof(float)) == 0);
    embed(m, (mir_embed_options){1000000, 0, 0, 0}, &vl, got);
    CHECK(memcmp(got, exact, D * sizeof(float)) == 0);

    /* (3) */
    const int K = 3;
    double *ref = calloc((size_t)C, sizeof *ref);
    int64_t read = 0;
    for (int j = 0; j < K; j++) {
        int64_t w = (int64_t)j * (n_win - 1) / (K - 1), first = w * T;
        int64_t len = vl.n_tokens - first < T ? vl.n_tokens - first : T;
        mir_module_view one = {vl.tokens + first, len, NULL, NULL, 0, NULL, NULL, NULL, 0, -1};
        embed(m, (mir_embed_options){0, 0, 0, 0}, &one, tmp);
        for (int k = 0; k < C; k++) ref[k] += (double)tmp[k] * (double)len;
        read += len;
    }
    embed(m, (mir_embed_options){K, 0, 0, 0}, &vl, got);
    double worst = 0, moved = 0;
    for (int k = 0; k < C; k++) {
        double r = ref[k] / (double)read;
        worst = fmax(worst, fabs(got[k] - r) / (fabs(r) + 1e-3));
        moved = fmax(moved, fabs(got[k] - exact[k]));
    }
    printf("3 windows vs their own embeddings: worst relative difference %.3g; vs exact %.3g\n", worst, moved);
    CHECK(worst < 1e-5);
    CHECK(moved > 1e-6); /* a real approximation: it is not the exact embedding */
    CHECK(memcmp(got + C, exact + C, (size_t)C * sizeof(float)) == 0); /* graph half untouched */

    /* (4) */
    embed(m, (mir_embed_options){0, 8, 0, 0}, &vl, got);
    CHECK(memcmp(got, exact, (size_t)C * sizeof(float)) == 0);
    double gdiff = 0;
    for (int k = C; k < 2 * C; k++) gdiff = fmax(gdiff, fabs(got[k] - exact[k]));
    CHECK(gdiff > 1e-6);
    mir_embed_options fast = mir_embed_options_fast(m);
    CHECK_EQ_INT(fast.max_windows, 1);
    CHECK_EQ_INT(fast.max_nodes, c->max_nodes);
    CHECK_EQ_INT(fast.window, T < MIR_FAST_WINDOW ? 0 : MIR_FAST_WINDOW);

    /* (5) */
    mir_model_set_options(m, &(mir_embed_options){0, 0, 0, 0}, &err);
    float *a = malloc(D * sizeof(float)), *b = malloc(D * sizeof(float)), *s1 = malloc(D * sizeof(float));
    CHECK(mir_embed_view(m, &vl, a, &err) == 0);
    CHECK(mir_embed_view(m, &vs, s1, &err) == 0);
    CHECK(mir_embed_view(m, &vl, b, &err) == 0);
    CHECK(memcmp(a, exact, D * sizeof(float)) == 0 && memcmp(b, exact, D * sizeof(float)) == 0);
    CHECK(mir_embed_view(m, &vs, a, &err) == 0);
    CHECK(memcmp(a, s1, D * sizeof(float)) == 0);

    /* (6) */
    embed(m, (mir_embed_options){0, 0, T, 0}, &vl, got);
    CHECK(memcmp(got, exact, D * sizeof(float)) == 0);
    const int W = T / 2 + 1;
    memset(ref, 0, (size_t)C * sizeof *ref);
    read = 0;
    for (int64_t first = 0; first < vl.n_tokens; first += W) {
        int64_t len = vl.n_tokens - first < W ? vl.n_tokens - first : W;
        mir_module_view one = {vl.tokens + first, len, NULL, NULL, 0, NULL, NULL, NULL, 0, -1};
        embed(m, (mir_embed_options){0, 0, 0, 0}, &one, tmp);
        for (int k = 0; k < C; k++) ref[k] += (double)tmp[k] * (double)len;
        read += len;
    }
    embed(m, (mir_embed_options){0, 0, W, 0}, &vl, got);
    worst = moved = 0;
    for (int k = 0; k < C; k++) {
        double r = ref[k] / (double)read;
        worst = fmax(worst, fabs(got[k] - r) / (fabs(r) + 1e-3));
        moved = fmax(moved, fabs(got[k] - exact[k]));
    }
    printf("windows of %d tokens vs their own embeddings: worst relative difference %.3g; vs exact %.3g\n", W, worst,
           moved);
    CHECK(read == vl.n_tokens && worst < 1e-5 && moved > 1e-6);
    CHECK(memcmp(got + C, exact + C, (size_t)C * sizeof(float)) == 0);

    /* (7) */
    int cases = 0;
    for (int i = 2; i < argc; i++) cases += check_limited(m, argv[i]);
    /* a wrong limit, a quarter of the window, changes a long module's embedding */
    CHECK_FATAL(mir_model_set_options(m, &(mir_embed_options){1, 0, 0, 0}, &err) == 0);
    mir_encoded eq = encode_file(m, argv[2], T / 4 > 0 ? T / 4 : 1);
    mir_module_view vq = mir_encoded_view(&eq);
    CHECK(eq.n_tokens < T);
    CHECK(mir_embed_view(m, &vl, a, &err) == 0);
    CHECK(mir_embed_view(m, &vq, b, &err) == 0);
    CHECK(memcmp(a, b, (size_t)C * sizeof(float)) != 0);
    CHECK(memcmp(a + C, b + C, (size_t)C * sizeof(float)) == 0);
    mir_encoded_free(&eq);
    printf("limited extraction: %d modules, %d one-window modes each, bit for bit; a quarter-window limit differs\n",
           argc - 2, cases / (argc - 2));

    free(a);
    free(b);
    free(s1);
    free(ref);
    free(exact);
    free(got);
    free(tmp);
    mir_encoded_free(&el);
    mir_encoded_free(&es);
    mir_model_free(m);
    return mir_test_finish("test_embed_options");
}
