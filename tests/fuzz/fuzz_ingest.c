/*
 * fuzz_ingest.c: a libFuzzer target over the ingestion path of untrusted IR, in one process, no MPI.
 *
 *   bytes -> mir_parse_ir (LLVM-C: text .ll or bitcode .bc)
 *         -> mir_extract_module (statements -> normalised words, the ProGraML-style graph)
 *         -> mir_extract_pack / mir_extract_unpack (the worker's reply, isolate.h)
 *         -> mir_extract_module_limited (the embedding path's first-window read, infer/embed.c)
 *         -> word counter -> pack / merge (as ranks do) -> vocabulary -> WordPiece encoding of every word
 *            and of every node's text (preprocess/vocab.c mir_pp_encode_records, infer/embed.c)
 *
 * This is what a worker does per module (isolate.c extract_here, a fresh LLVM context per input, disposed
 * after), followed by what the supervisor and the corpus writer do with the reply. Besides the sanitizers,
 * the target checks the documented contracts it can check cheaply and traps when one fails:
 *   - every edge's ends are node indices, every node has a kind and a flow-typed edge list;
 *   - unpack(pack(x)) gives back x;
 *   - the word-limited extraction's words are a prefix of the whole extraction's (irmodule.h);
 *   - every token id is inside the vocabulary, and a word made of seen characters (not byte 0) has no [UNK].
 *
 * Built only with -DMIR_FUZZ=ON under clang 16 (tests/fuzz/README.md). Crashes inside libLLVM's readers are
 * expected (that is why the tools parse in a supervised worker) and are not this project's defects.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Core.h>

#include "irmodule.h"
#include "isolate.h"
#include "mir_common.h"
#include "wordpiece.h"

/* A violated contract: print it and trap, so libFuzzer records the input with a stack in our code. */
#define FUZZ_CHECK(cond)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "fuzz_ingest: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            __builtin_trap();                                                               \
        }                                                                                   \
    } while (0)

/* Kept for the process's life, reused by every input, as the worker keeps its extraction. */
static mir_extract g_whole, g_back, g_limited;
static mir_wbuf g_wire;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    mir_extract_init(&g_whole);
    mir_extract_init(&g_back);
    mir_extract_init(&g_limited);
    return 0;
}

static int words_equal(const mir_words *a, const mir_words *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a->len[i] != b->len[i] || memcmp(mir_words_get(a, i), mir_words_get(b, i), a->len[i]) != 0) return 0;
    return 1;
}

static void check_graph(const mir_graph *g) {
    FUZZ_CHECK(g->node_text.n == g->n_nodes);
    for (size_t i = 0; i < g->n_nodes; i++)
        FUZZ_CHECK(g->node_kind[i] >= MIR_NODE_INSTRUCTION && g->node_kind[i] <= MIR_NODE_CONSTANT);
    for (size_t e = 0; e < g->n_edges; e++) {
        FUZZ_CHECK(g->edge_src[e] >= 0 && (size_t)g->edge_src[e] < g->n_nodes);
        FUZZ_CHECK(g->edge_dst[e] >= 0 && (size_t)g->edge_dst[e] < g->n_nodes);
        FUZZ_CHECK(g->edge_flow[e] >= MIR_FLOW_CONTROL && g->edge_flow[e] <= MIR_FLOW_CALL);
    }
}

static void check_round_trip(const mir_extract *x, mir_extract *back) {
    g_wire.n = 0;
    mir_extract_pack(x, &g_wire);
    mir_rbuf r = {g_wire.p, g_wire.n, 0};
    mir_error err = {{0}};
    FUZZ_CHECK(mir_extract_unpack(&r, back, &err) == 0);
    FUZZ_CHECK(back->n_functions == x->n_functions && back->n_instructions == x->n_instructions);
    FUZZ_CHECK(back->words_cut == x->words_cut && back->words.n == x->words.n);
    FUZZ_CHECK(words_equal(&back->words, &x->words, x->words.n));
    const mir_graph *a = &x->graph, *b = &back->graph;
    FUZZ_CHECK(a->n_nodes == b->n_nodes && a->n_edges == b->n_edges);
    FUZZ_CHECK(words_equal(&a->node_text, &b->node_text, a->n_nodes));
    FUZZ_CHECK(memcmp(a->node_kind, b->node_kind, a->n_nodes) == 0);
    FUZZ_CHECK(memcmp(a->node_function, b->node_function, a->n_nodes * sizeof(int32_t)) == 0);
    FUZZ_CHECK(memcmp(a->edge_src, b->edge_src, a->n_edges * sizeof(int32_t)) == 0);
    FUZZ_CHECK(memcmp(a->edge_dst, b->edge_dst, a->n_edges * sizeof(int32_t)) == 0);
    FUZZ_CHECK(memcmp(a->edge_flow, b->edge_flow, a->n_edges) == 0);
    FUZZ_CHECK(memcmp(a->edge_position, b->edge_position, a->n_edges * sizeof(int32_t)) == 0);
}

/* Count, pack and merge (as ranks do), build a small vocabulary (so that the size limit cuts), encode. */
static void encode(const mir_extract *x) {
    mir_counter *c = mir_counter_new();
    for (size_t i = 0; i < x->words.n; i++) mir_counter_add(c, mir_words_get(&x->words, i), x->words.len[i], 1);
    for (size_t i = 0; i < x->graph.n_nodes; i++)
        mir_counter_add(c, mir_words_get(&x->graph.node_text, i), x->graph.node_text.len[i], 2);
    char *buf = NULL;
    size_t bytes = 0;
    mir_counter_pack(c, &buf, &bytes);
    mir_counter *m = mir_counter_new();
    FUZZ_CHECK(mir_counter_merge_packed(m, buf, bytes) == 0);
    FUZZ_CHECK(mir_counter_size(m) == mir_counter_size(c));
    free(buf);
    mir_counter_free(c);
    mir_vocab_options o;
    mir_vocab_options_default(&o);
    o.max_size = 600;
    mir_vocab *v = mir_vocab_build(m, &o);
    mir_counter_free(m);
    int32_t nv = mir_vocab_size(v);
    int32_t tmp[16], *big = NULL;
    for (size_t i = 0; i < x->words.n; i++) {
        const char *w = mir_words_get(&x->words, i);
        size_t len = x->words.len[i];
        size_t need = mir_vocab_encode_word(v, w, len, tmp, 16);
        const int32_t *ids = tmp;
        if (need > 16) {
            big = mir_realloc(big, need * sizeof *big);
            FUZZ_CHECK(mir_vocab_encode_word(v, w, len, big, need) == need);
            ids = big;
        }
        FUZZ_CHECK(len == 0 ? need == 0 : need >= 1);
        for (size_t k = 0; k < need; k++) {
            FUZZ_CHECK(ids[k] >= 0 && ids[k] < nv);
            /* every character of the corpus is in the vocabulary, except byte 0 (tokens are C strings) */
            FUZZ_CHECK(ids[k] != MIR_TOK_UNK || memchr(w, 0, len) != NULL);
        }
    }
    free(big);
    for (size_t i = 0; i < x->graph.n_nodes; i++) {
        int32_t id = mir_vocab_word_id(v, mir_words_get(&x->graph.node_text, i), x->graph.node_text.len[i]);
        FUZZ_CHECK(id >= 0 && id < nv);
    }
    mir_vocab_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* mir_parse_ir needs data[bytes] == '\0' (the files it reads carry one after their end) */
    char *bytes = mir_malloc(size + 1);
    if (size) memcpy(bytes, data, size);
    bytes[size] = '\0';

    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = NULL;
    mir_error err = {{0}};
    if (mir_parse_ir(ctx, bytes, size, "fuzz", &m, &err) == 0) {
        FUZZ_CHECK(err.msg[0] == '\0');
        if (mir_extract_module(m, &g_whole, NULL, &err) == 0) {
            check_graph(&g_whole.graph);
            FUZZ_CHECK(!g_whole.words_cut);
            check_round_trip(&g_whole, &g_back);
            /* the first window's read (infer/embed.c): a prefix of the whole words, the same graph */
            int64_t limit = 1 + (int64_t)(size % 61);
            if (mir_extract_module_limited(m, limit, &g_limited, NULL, &err) == 0) {
                FUZZ_CHECK(g_limited.words.n <= g_whole.words.n);
                FUZZ_CHECK(words_equal(&g_limited.words, &g_whole.words, g_limited.words.n));
                FUZZ_CHECK(g_limited.graph.n_nodes == g_whole.graph.n_nodes);
                FUZZ_CHECK(g_limited.graph.n_edges == g_whole.graph.n_edges);
                FUZZ_CHECK(g_limited.n_instructions == g_whole.n_instructions);
            }
            encode(&g_whole);
        } else {
            FUZZ_CHECK(err.msg[0] != '\0'); /* a failure always says why */
        }
        LLVMDisposeModule(m);
    } else {
        FUZZ_CHECK(err.msg[0] != '\0');
    }
    LLVMContextDispose(ctx);
    free(bytes);
    return 0;
}
