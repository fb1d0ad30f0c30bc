/*
 * test_irgraph.c: the graph builder against graphs drawn by hand (docs/formats.md describes the rules):
 * a loop with a phi node, calls to a defined and to an external function, and a switch. Node ids follow
 * the documented construction order; edges are compared as sets of (src, dst, flow, position). Also the
 * word-limited extraction (mir_extract_module_limited) against the full one.
 */
#include <stdlib.h>
#include <string.h>

#include "irmodule.h"
#include "mir_test.h"

typedef struct { int src, dst, flow, pos; } edge;
enum { C = MIR_FLOW_CONTROL, D = MIR_FLOW_DATA, K = MIR_FLOW_CALL };
enum { I = MIR_NODE_INSTRUCTION, V = MIR_NODE_VARIABLE, N = MIR_NODE_CONSTANT };

static int cmp_edge(const void *a, const void *b) { return memcmp(a, b, sizeof(edge)); }

static void extract(const char *ir, LLVMContextRef ctx, mir_extract *x) {
    LLVMModuleRef m = NULL;
    mir_error err = {{0}};
    int rc = mir_parse_ir(ctx, ir, strlen(ir), "test.ll", &m, &err);
    if (rc) fprintf(stderr, "parse: %s\n", err.msg);
    CHECK_FATAL(rc == 0);
    rc = mir_extract_module(m, x, NULL, &err);
    if (rc) fprintf(stderr, "extract: %s\n", err.msg);
    CHECK_FATAL(rc == 0);
    LLVMDisposeModule(m);
}

static void check_graph(const char *what, const mir_graph *g, int n_nodes, const int *kinds, const char *const *texts,
                        const int *fns, const edge *want, int n_want) {
    fprintf(stderr, "-- %s\n", what);
    CHECK_EQ_INT(g->n_nodes, n_nodes);
    for (int i = 0; i < n_nodes && i < (int)g->n_nodes; i++) {
        CHECK_EQ_INT(g->node_kind[i], kinds[i]);
        CHECK_EQ_STR(mir_words_get(&g->node_text, (size_t)i), texts[i]);
        CHECK_EQ_INT(g->node_function[i], fns[i]);
    }
    CHECK_EQ_INT(g->n_edges, n_want);
    edge *got = calloc(g->n_edges + 1, sizeof *got);
    for (size_t e = 0; e < g->n_edges; e++)
        got[e] = (edge){g->edge_src[e], g->edge_dst[e], g->edge_flow[e], g->edge_position[e]};
    edge *exp = malloc((size_t)n_want * sizeof *exp);
    memcpy(exp, want, (size_t)n_want * sizeof *exp);
    qsort(got, g->n_edges, sizeof *got, cmp_edge);
    qsort(exp, (size_t)n_want, sizeof *exp, cmp_edge);
    for (int e = 0; e < n_want && e < (int)g->n_edges; e++) {
        if (memcmp(&got[e], &exp[e], sizeof(edge)) != 0)
            fprintf(stderr, "  edge %d: got (%d->%d flow %d pos %d), drawn (%d->%d flow %d pos %d)\n", e, got[e].src,
                    got[e].dst, got[e].flow, got[e].pos, exp[e].src, exp[e].dst, exp[e].flow, exp[e].pos);
        CHECK(memcmp(&got[e], &exp[e], sizeof(edge)) == 0);
    }
    free(got);
    free(exp);
}

static int has_word(const mir_words *w, const char *s) {
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(mir_words_get(w, i), s)) return 1;
    return 0;
}
static int count_word(const mir_words *w, const char *s) {
    int n = 0;
    for (size_t i = 0; i < w->n; i++) n += !strcmp(mir_words_get(w, i), s);
    return n;
}

static const char *LOOP =
    "define i32 @sum(i32 %n) {\n"
    "entry:\n"
    "  br label %loop\n"
    "loop:\n"
    "  %i = phi i32 [ 0, %entry ], [ %next, %loop ]\n"
    "  %next = add i32 %i, 1\n"
    "  %done = icmp eq i32 %next, %n\n"
    "  br i1 %done, label %exit, label %loop\n"
    "exit:\n"
    "  ret i32 %next\n"
    "}\n";

static void test_loop(LLVMContextRef ctx) {
    mir_extract x;
    mir_extract_init(&x);
    extract(LOOP, ctx, &x);
    /*  0 [external]   1 br  2 phi  3 add  4 icmp  5 br  6 ret        (instructions, function 0)
     *  7 const 0 (i32)   8 %next (i32)   9 %i (i32)   10 const 1 (i32)   11 %n (i32)   12 %done (i1)  */
    int kinds[] = {I, I, I, I, I, I, I, N, V, V, N, V, V};
    const char *texts[] = {"[external]", "br", "phi", "add", "icmp", "br", "ret", "i32", "i32", "i32", "i32", "i32", "i1"};
    int fns[] = {-1, 0, 0, 0, 0, 0, 0, -1, 0, 0, -1, 0, 0};
    edge want[] = {
        {0, 1, K, 0}, {6, 0, K, 0},                               /* root <-> function */
        {1, 2, C, 0}, {2, 3, C, 0}, {3, 4, C, 0}, {4, 5, C, 0},   /* control within and across blocks */
        {5, 6, C, 0}, {5, 2, C, 1},                               /* br: true -> exit (0), false -> loop (1) */
        {7, 2, D, 0}, {8, 2, D, 1}, {2, 9, D, 0},                 /* phi [0, entry], [%next, loop] -> %i */
        {9, 3, D, 0}, {10, 3, D, 1}, {3, 8, D, 0},                /* add %i, 1 -> %next */
        {8, 4, D, 0}, {11, 4, D, 1}, {4, 12, D, 0},               /* icmp %next, %n -> %done */
        {12, 5, D, 0}, {8, 6, D, 0},                              /* br %done; ret %next */
    };
    check_graph("loop with phi", &x.graph, 13, kinds, texts, fns, want, (int)(sizeof want / sizeof *want));
    CHECK_EQ_INT(x.n_functions, 1);
    CHECK_EQ_INT(x.n_instructions, 6);
    /* statements: define header + 6 instructions, names gone, opcodes kept */
    CHECK(has_word(&x.words, "define"));
    CHECK(has_word(&x.words, "phi"));
    CHECK(has_word(&x.words, "icmp"));
    CHECK_EQ_INT(count_word(&x.words, "br"), 2);
    CHECK(!has_word(&x.words, "%next") && !has_word(&x.words, "%i") && !has_word(&x.words, "@sum"));
    CHECK(has_word(&x.words, "%ID"));
    mir_extract_free(&x);
}

static const char *CALLS =
    "declare i32 @ext(i32)\n"
    "define internal i32 @callee(i32 %x) {\n"
    "  %y = add i32 %x, %x\n"
    "  ret i32 %y\n"
    "}\n"
    "define i32 @caller(i32 %a) {\n"
    "  %r = call i32 @callee(i32 %a)\n"
    "  %s = call i32 @ext(i32 %r)\n"
    "  ret i32 %s\n"
    "}\n";

static void test_calls(LLVMContextRef ctx) {
    mir_extract x;
    mir_extract_init(&x);
    extract(CALLS, ctx, &x);
    /* 0 root; callee (fn 0): 1 add, 2 ret; caller (fn 1): 3 call, 4 call, 5 ret;
     * 6 %x, 7 %y (fn 0); 8 %a, 9 %r, 10 %s (fn 1) */
    int kinds[] = {I, I, I, I, I, I, V, V, V, V, V};
    const char *texts[] = {"[external]", "add", "ret", "call", "call", "ret", "i32", "i32", "i32", "i32", "i32"};
    int fns[] = {-1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1};
    edge want[] = {
        {0, 1, K, 0}, {2, 0, K, 0}, {0, 3, K, 0}, {5, 0, K, 0},   /* root <-> both defined functions */
        {1, 2, C, 0}, {3, 4, C, 0}, {4, 5, C, 0},
        {6, 1, D, 0}, {6, 1, D, 1}, {1, 7, D, 0}, {7, 2, D, 0},   /* add %x, %x; ret %y */
        {8, 3, D, 0}, {3, 9, D, 0},                               /* call @callee(%a) -> %r */
        {3, 1, K, 0}, {2, 3, K, 0},                               /* into the callee and back from its ret */
        {9, 4, D, 0}, {4, 10, D, 0},                              /* call @ext(%r) -> %s */
        {4, 0, K, 0}, {0, 4, K, 0},                               /* external callee: through the root */
        {10, 5, D, 0},
    };
    check_graph("calls", &x.graph, 11, kinds, texts, fns, want, (int)(sizeof want / sizeof *want));
    CHECK(has_word(&x.words, "@ext"));  /* external callee keeps its name */
    CHECK(has_word(&x.words, "@FN"));   /* defined callee does not */
    CHECK(!has_word(&x.words, "@callee") && !has_word(&x.words, "@caller"));
    mir_extract_free(&x);
}

static const char *SWITCH =
    "define i32 @sw(i32 %x) {\n"
    "entry:\n"
    "  switch i32 %x, label %d [\n"
    "    i32 0, label %a\n"
    "    i32 7, label %b\n"
    "  ]\n"
    "a:\n"
    "  ret i32 1\n"
    "b:\n"
    "  ret i32 2\n"
    "d:\n"
    "  ret i32 3\n"
    "}\n";

static void test_switch(LLVMContextRef ctx) {
    mir_extract x;
    mir_extract_init(&x);
    extract(SWITCH, ctx, &x);
    /* 0 root; 1 switch, 2 ret (a), 3 ret (b), 4 ret (d); 5 %x; 6 const 0; 7 const 7; 8,9,10 consts 1,2,3 */
    int kinds[] = {I, I, I, I, I, V, N, N, N, N, N};
    const char *texts[] = {"[external]", "switch", "ret", "ret", "ret", "i32", "i32", "i32", "i32", "i32", "i32"};
    int fns[] = {-1, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1};
    edge want[] = {
        {0, 1, K, 0}, {2, 0, K, 0}, {3, 0, K, 0}, {4, 0, K, 0},
        {1, 4, C, 0}, {1, 2, C, 1}, {1, 3, C, 2},                 /* successor 0 is the default */
        {5, 1, D, 0}, {6, 1, D, 2}, {7, 1, D, 4},                 /* operands: %x, default, 0, a, 7, b */
        {8, 2, D, 0}, {9, 3, D, 0}, {10, 4, D, 0},
    };
    check_graph("switch", &x.graph, 11, kinds, texts, fns, want, (int)(sizeof want / sizeof *want));
    /* the multi-line switch is one statement: one "switch" word, and 2 + 4 statements' words in all */
    CHECK_EQ_INT(count_word(&x.words, "switch"), 1);
    CHECK_EQ_INT(count_word(&x.words, "ret"), 3);
    CHECK_EQ_INT(count_word(&x.words, "label"), 3);
    mir_extract_free(&x);
}

/* Two functions with what the module print and a function's own print number differently or not at all:
 * attribute groups, metadata, an unnamed global. */
static const char *ATTRS =
    "@0 = private constant [3 x i8] c\"ab\\00\"\n"
    "@g = global i32 0\n"
    "declare i32 @ext(i32) #1\n"
    "define i32 @first(ptr %p) #0 {\n"
    "  %v = load i32, ptr %p, !range !0\n"
    "  %w = call i32 @ext(i32 %v) #1\n"
    "  ret i32 %w\n"
    "}\n"
    "define void @second(ptr %q) #0 {\n"
    "  store i32 5, ptr @g, !tbaa !1\n"
    "  %c = load i8, ptr @0\n"
    "  store i8 %c, ptr %q, !tbaa !1\n"
    "  ret void\n"
    "}\n"
    "attributes #0 = { nounwind \"frame-pointer\"=\"none\" }\n"
    "attributes #1 = { nounwind memory(none) }\n"
    "!0 = !{i32 0, i32 10}\n"
    "!1 = !{!2, !2, i64 0}\n"
    "!2 = !{!\"int\", !3, i64 0}\n"
    "!3 = !{!\"omnipotent char\", !4, i64 0}\n"
    "!4 = !{!\"Simple C++ TBAA\"}\n";

/* mir_extract_module_limited: at every limit the words are a prefix of the full extraction's (the whole of
 * them once the limit passes the end, although then every function is printed on its own), with at least
 * that many words, and the graph and counts are the full extraction's. */
static void test_limited(LLVMContextRef ctx) {
    const char *const irs[] = {LOOP, CALLS, SWITCH, ATTRS};
    for (size_t k = 0; k < sizeof irs / sizeof *irs; k++) {
        mir_extract full, lim;
        mir_extract_init(&full);
        mir_extract_init(&lim);
        extract(irs[k], ctx, &full);
        CHECK(full.words.n > 5 && !full.words_cut);
        for (int64_t L = 1; L <= (int64_t)full.words.n + 2; L++) {
            LLVMModuleRef m = NULL;
            mir_error err = {{0}};
            CHECK_FATAL(mir_parse_ir(ctx, irs[k], strlen(irs[k]), "test.ll", &m, &err) == 0);
            int rc = mir_extract_module_limited(m, L, &lim, NULL, &err);
            if (rc) fprintf(stderr, "extract limited: %s\n", err.msg);
            CHECK_FATAL(rc == 0);
            LLVMDisposeModule(m);
            int prefix = lim.words.n <= full.words.n;
            for (size_t i = 0; prefix && i < lim.words.n; i++)
                prefix = !strcmp(mir_words_get(&lim.words, i), mir_words_get(&full.words, i));
            if (!prefix) fprintf(stderr, "  module %zu, limit %lld: not a prefix\n", k, (long long)L);
            CHECK(prefix);
            CHECK((int64_t)lim.words.n >= (L < (int64_t)full.words.n ? L : (int64_t)full.words.n));
            CHECK(lim.words_cut == (lim.words.n < full.words.n));
            CHECK_EQ_INT(lim.n_functions, full.n_functions);
            CHECK_EQ_INT(lim.n_instructions, full.n_instructions);
            CHECK(lim.graph.n_nodes == full.graph.n_nodes && lim.graph.n_edges == full.graph.n_edges);
            CHECK(!memcmp(lim.graph.node_text.text, full.graph.node_text.text, full.graph.node_text.text_bytes));
            CHECK(!memcmp(lim.graph.edge_src, full.graph.edge_src, full.graph.n_edges * sizeof(int32_t)) &&
                  !memcmp(lim.graph.edge_dst, full.graph.edge_dst, full.graph.n_edges * sizeof(int32_t)));
        }
        /* a limit inside the first of two functions skips the second one's statements */
        if (full.n_functions == 2) {
            LLVMModuleRef m = NULL;
            mir_error err = {{0}};
            CHECK_FATAL(mir_parse_ir(ctx, irs[k], strlen(irs[k]), "test.ll", &m, &err) == 0);
            CHECK(mir_extract_module_limited(m, 1, &lim, NULL, &err) == 0);
            LLVMDisposeModule(m);
            CHECK(lim.words_cut && lim.words.n < full.words.n && has_word(&lim.words, "define") &&
                  count_word(&lim.words, "define") == 1);
        }
        mir_extract_free(&full);
        mir_extract_free(&lim);
    }
}

static void test_bad_input(LLVMContextRef ctx) {
    LLVMModuleRef m = NULL;
    mir_error err = {{0}};
    const char *trunc = "define i32 @f(i32 %x) {\n  %y = add i32 %x,";
    CHECK(mir_parse_ir(ctx, trunc, strlen(trunc), "trunc.ll", &m, &err) != 0);
    CHECK(strstr(err.msg, "trunc.ll") != NULL);
    CHECK(mir_parse_ir(ctx, "", 0, "empty.ll", &m, &err) != 0);
    CHECK(strstr(err.msg, "empty") != NULL);
    const char bc[] = "BC\xC0\xDE\x01\x02\x03\x04garbage";
    CHECK(mir_parse_ir(ctx, bc, sizeof bc - 1, "bad.bc", &m, &err) != 0);
    CHECK(strstr(err.msg, "bad.bc") != NULL);
}

/* Words past the arena's 32-bit offsets (issue 17: once an abort()): the extraction fails with a message, and the
 * same mir_extract works again once the limit is back. The limit is lowered so that a small module reaches it. */
static void test_words_overflow(LLVMContextRef ctx) {
    const char *ir = "define i32 @f(i32 %x) {\n  %y = add i32 %x, 1\n  %z = mul i32 %y, %y\n  ret i32 %z\n}\n";
    mir_extract x;
    mir_extract_init(&x);
    mir_error err = {{0}};
    LLVMModuleRef m = NULL;
    CHECK_FATAL(mir_parse_ir(ctx, ir, strlen(ir), "small.ll", &m, &err) == 0);
    x.words.max_bytes = 24;
    CHECK(mir_extract_module(m, &x, NULL, &err) != 0);
    CHECK(strstr(err.msg, "4 GiB") != NULL);
    LLVMDisposeModule(m);
    x.words.max_bytes = 0;
    x.graph.node_text.max_bytes = 8;
    CHECK_FATAL(mir_parse_ir(ctx, ir, strlen(ir), "small.ll", &m, &err) == 0);
    CHECK(mir_extract_module(m, &x, NULL, &err) != 0);
    CHECK(strstr(err.msg, "node texts") != NULL);
    LLVMDisposeModule(m);
    x.graph.node_text.max_bytes = 0;
    CHECK_FATAL(mir_parse_ir(ctx, ir, strlen(ir), "small.ll", &m, &err) == 0);
    CHECK(mir_extract_module(m, &x, NULL, &err) == 0);
    CHECK(x.words.n > 8 && !x.words.overflow && !x.graph.node_text.overflow);
    LLVMDisposeModule(m);
    mir_extract_free(&x);
}

int main(void) {
    LLVMContextRef ctx = LLVMContextCreate();
    test_words_overflow(ctx);
    test_loop(ctx);
    test_calls(ctx);
    test_switch(ctx);
    test_limited(ctx);
    test_bad_input(ctx);
    LLVMContextDispose(ctx);
    return mir_test_finish("test_irgraph");
}
