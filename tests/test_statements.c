/*
 * test_statements.c: what feeds a statement-level model (mir_config.statements = 1), outside the model.
 *  (1) statement windows on hand-made token arrays: mir_statement_starts (statements end with [SEP]; tokens
 *      after the last [SEP] are one more) and mir_statement_window (window j = statements [j T, (j + 1) T),
 *      the last one partial, its weight its number of statements), against boundaries written out by hand;
 *      the windows tile the tokens and their weights add up to the statements, for every T;
 *  (2) extraction with statement_sep: one [SEP] word per statement (the define headers and the instructions,
 *      counted through the LLVM-C API, independently of the printed text; declarations and globals are not
 *      statements), the words without the separators are the extraction without them; the statement limit
 *      and the word limit give exact prefixes of the unlimited extraction;
 *  (3) the separator encodes to [SEP] = 3, one id, with a built vocabulary and through mir_encode_extract;
 *      no normalised IR word spells it;
 *  (4) the corpus/configuration check behind mir-train and mir-infer, both directions, with its messages.
 */
#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "embed.h"
#include "irmodule.h"
#include "mir_test.h"
#include "wordpiece.h"

enum { S = MIR_TOK_SEP };

/* ---- (1) windows ---- */

static void check_starts(const char *what, const int32_t *tok, int64_t n, const int64_t *want, int64_t n_want) {
    fprintf(stderr, "-- starts: %s\n", what);
    CHECK_EQ_INT(mir_statement_starts(tok, n, NULL), n_want);
    int64_t *got = malloc((size_t)(n_want + 2) * sizeof *got);
    CHECK_EQ_INT(mir_statement_starts(tok, n, got), n_want);
    for (int64_t k = 0; k <= n_want; k++) CHECK_EQ_INT(got[k], want[k]);
    free(got);
}

static void test_windows(void) {
    /* statements: [10 11 S] [12 S] [S] [13 14 15 S] [16 S] */
    const int32_t a[] = {10, 11, S, 12, S, S, 13, 14, 15, S, 16, S};
    const int64_t sa[] = {0, 3, 5, 6, 10, 12};
    check_starts("five statements, one empty", a, 12, sa, 5);
    /* T = 2: windows [0, 5) 2 statements, [5, 10) 2, [10, 12) 1 (the last, partial), then nothing */
    const mir_stmt_window want2[] = {{0, 5, 2}, {5, 5, 2}, {10, 2, 1}, {0, 0, 0}};
    for (int j = 0; j < 4; j++) {
        mir_stmt_window w = mir_statement_window(sa, 5, 2, j);
        CHECK_EQ_INT(w.first, want2[j].first);
        CHECK_EQ_INT(w.n_tokens, want2[j].n_tokens);
        CHECK_EQ_INT(w.n_statements, want2[j].n_statements);
    }
    /* T = 5: one window of everything; T = 7: the same, partial */
    for (int T = 5; T <= 7; T += 2) {
        mir_stmt_window w = mir_statement_window(sa, 5, T, 0);
        CHECK(w.first == 0 && w.n_tokens == 12 && w.n_statements == 5);
        CHECK_EQ_INT(mir_statement_window(sa, 5, T, 1).n_statements, 0);
    }
    /* every T: the windows tile the tokens in order, their weights add up to the statements */
    for (int T = 1; T <= 6; T++) {
        int64_t n_win = (5 + T - 1) / T, at = 0, stmts = 0;
        for (int64_t j = 0; j < n_win; j++) {
            mir_stmt_window w = mir_statement_window(sa, 5, T, j);
            CHECK_EQ_INT(w.first, at);
            CHECK(w.n_statements >= 1 && w.n_statements <= T);
            CHECK(w.n_tokens > 0 && a[w.first + w.n_tokens - 1] == S); /* ends with a statement's [SEP] */
            at += w.n_tokens;
            stmts += w.n_statements;
        }
        CHECK_EQ_INT(at, 12);
        CHECK_EQ_INT(stmts, 5);
        CHECK_EQ_INT(mir_statement_window(sa, 5, T, n_win).n_tokens, 0);
    }
    /* a view cut inside a statement: the tokens after the last [SEP] are one more statement */
    const int32_t b[] = {10, S, 11, 12};
    const int64_t sb[] = {0, 2, 4};
    check_starts("unterminated last statement", b, 4, sb, 2);
    mir_stmt_window w = mir_statement_window(sb, 2, 1, 1);
    CHECK(w.first == 2 && w.n_tokens == 2 && w.n_statements == 1);
    const int32_t c[] = {7, 8};
    const int64_t sc[] = {0, 2};
    check_starts("no [SEP] at all", c, 2, sc, 1);
    const int64_t s0[] = {0};
    check_starts("no tokens", NULL, 0, s0, 0);
    w = mir_statement_window(s0, 0, 4, 0);
    CHECK(w.first == 0 && w.n_tokens == 0 && w.n_statements == 0);
}

/* ---- (2) extraction ---- */

static const char *const IR =
    "@g = global i32 7\n"
    "declare float @ext(float)\n"
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
    "}\n"
    "define float @twice(float %x) {\n"
    "  %a = call float @ext(float %x)\n"
    "  %b = fadd float %a, %a\n"
    "  %v = load i32, ptr @g\n"
    "  switch i32 %v, label %d [ i32 0, label %d\n"
    "                           i32 1, label %d ]\n"
    "d:\n"
    "  ret float %b\n"
    "}\n";

static int64_t api_statements(LLVMModuleRef m) {
    int64_t n = 0;
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f)) continue;
        n++; /* its define header */
        for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(f); bb; bb = LLVMGetNextBasicBlock(bb))
            for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) n++;
    }
    return n;
}

static void extract(const mir_extract_options *o, mir_extract *x, int64_t *n_api) {
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = NULL;
    mir_error err = {{0}};
    CHECK_FATAL(mir_parse_ir(ctx, IR, strlen(IR), "stmt.ll", &m, &err) == 0);
    if (n_api) *n_api = api_statements(m);
    int rc = mir_extract_module_opts(m, o, x, NULL, &err);
    if (rc) fprintf(stderr, "extract: %s\n", err.msg);
    CHECK_FATAL(rc == 0);
    LLVMDisposeModule(m);
    LLVMContextDispose(ctx);
}

static size_t count_seps(const mir_words *w) {
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++) n += mir_is_sep_word(mir_words_get(w, i), w->len[i]);
    return n;
}

/* words a[0, n) equal b[0, n) */
static int same_prefix(const mir_words *a, const mir_words *b, size_t n) {
    if (a->n < n || b->n < n) return 0;
    for (size_t i = 0; i < n; i++)
        if (a->len[i] != b->len[i] || memcmp(mir_words_get(a, i), mir_words_get(b, i), a->len[i]) != 0) return 0;
    return 1;
}

static void test_extraction(void) {
    fprintf(stderr, "-- extraction with statement_sep\n");
    mir_extract plain, sep, lim;
    mir_extract_init(&plain);
    mir_extract_init(&sep);
    mir_extract_init(&lim);
    int64_t n_api = 0;
    extract(NULL, &plain, NULL);
    const mir_extract_options with = {.statement_sep = 1};
    extract(&with, &sep, &n_api);
    CHECK_EQ_INT(n_api, 2 + 6 + 5); /* two headers; br phi add icmp br ret; call fadd load switch ret */
    CHECK_EQ_INT(count_seps(&plain.words), 0);
    CHECK_EQ_INT(count_seps(&sep.words), n_api);
    CHECK_EQ_INT(sep.n_functions + sep.n_instructions, n_api);
    CHECK(!sep.words_cut);
    /* the last word is a separator; without the separators, the words are the plain extraction's */
    CHECK(mir_is_sep_word(mir_words_get(&sep.words, sep.words.n - 1), sep.words.len[sep.words.n - 1]));
    size_t k = 0, ok = 1;
    for (size_t i = 0; i < sep.words.n; i++) {
        const char *w = mir_words_get(&sep.words, i);
        if (mir_is_sep_word(w, sep.words.len[i])) continue;
        ok &= k < plain.words.n && plain.words.len[k] == sep.words.len[i] &&
              !memcmp(mir_words_get(&plain.words, k), w, sep.words.len[i]);
        k++;
    }
    CHECK(ok);
    CHECK_EQ_INT(k, plain.words.n);
    /* the graph does not change */
    CHECK_EQ_INT(sep.graph.n_nodes, plain.graph.n_nodes);
    CHECK_EQ_INT(sep.graph.n_edges, plain.graph.n_edges);
    /* statement limits: exactly the first N statements, with their separators, a prefix of the whole */
    for (int64_t N = 1; N <= n_api + 1; N++) {
        mir_extract_options o = {.max_statements = N, .statement_sep = 1};
        extract(&o, &lim, NULL);
        size_t end = 0, seen = 0; /* words up to the N-th separator of the unlimited extraction */
        for (; end < sep.words.n && seen < (size_t)N; end++)
            seen += mir_is_sep_word(mir_words_get(&sep.words, end), sep.words.len[end]);
        CHECK_EQ_INT(lim.words.n, end);
        CHECK_EQ_INT(count_seps(&lim.words), N < n_api ? N : n_api);
        CHECK(same_prefix(&lim.words, &sep.words, lim.words.n));
        CHECK_EQ_INT(lim.words_cut, N < n_api);
        CHECK_EQ_INT(lim.n_instructions, sep.n_instructions); /* counts are the whole module's */
        CHECK_EQ_INT(lim.graph.n_nodes, sep.graph.n_nodes);
    }
    /* the word limit with separators: a prefix too, and the separators are not counted as words */
    for (int64_t L = 1; L <= (int64_t)plain.words.n + 1; L += 3) {
        mir_extract_options o = {.max_words = L, .statement_sep = 1};
        extract(&o, &lim, NULL);
        CHECK(same_prefix(&lim.words, &sep.words, lim.words.n));
        int64_t words = (int64_t)(lim.words.n - count_seps(&lim.words)), all = (int64_t)plain.words.n;
        CHECK(words >= (L < all ? L : all));
        size_t last = lim.words.n - 1; /* a statement is finished with its separator */
        CHECK(lim.words.n > 0 && mir_is_sep_word(mir_words_get(&lim.words, last), lim.words.len[last]));
    }
    mir_extract_free(&plain);
    mir_extract_free(&sep);
    mir_extract_free(&lim);
}

/* ---- (3) encoding ---- */

static void test_encoding(void) {
    fprintf(stderr, "-- [SEP] encodes to id 3\n");
    /* a vocabulary built from words that contain its characters: still one id, the special token's */
    mir_counter *c = mir_counter_new();
    const char *words[] = {"[", "]", "SEP", "S", "E", "P", "add", "%ID", "i32"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) mir_counter_add(c, words[i], strlen(words[i]), 5);
    mir_vocab *v = mir_vocab_build(c, NULL);
    mir_counter_free(c);
    int32_t ids[8];
    CHECK_EQ_INT(mir_vocab_encode_word(v, MIR_SEP_WORD, strlen(MIR_SEP_WORD), ids, 8), 1);
    CHECK_EQ_INT(ids[0], MIR_TOK_SEP);
    CHECK_EQ_STR(mir_special_tokens[MIR_TOK_SEP], MIR_SEP_WORD);
    /* no IR statement normalises to the separator's spelling: brackets are words of their own */
    mir_words w;
    mir_words_init(&w);
    const char *stmts[] = {"[SEP]", "%x = load [SEP], ptr %p", "call void @\"[SEP]\"()", "%\"[SEP]\" = add i32 1, 2"};
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++) {
        mir_words_clear(&w);
        mir_normalize_statement(stmts[i], strlen(stmts[i]), NULL, NULL, &w);
        CHECK_EQ_INT(count_seps(&w), 0);
    }
    mir_words_free(&w);
    /* an extraction with separators, encoded: one 3 per statement, and the rest is the plain encoding */
    mir_extract plain, sep;
    mir_extract_init(&plain);
    mir_extract_init(&sep);
    int64_t n_api = 0;
    extract(NULL, &plain, NULL);
    const mir_extract_options with = {.statement_sep = 1};
    extract(&with, &sep, &n_api);
    mir_encoded ep, es;
    mir_encode_extract(v, &plain, &ep);
    mir_encode_extract(v, &sep, &es);
    int64_t n3 = 0, k = 0, ok = 1;
    for (int64_t i = 0; i < es.n_tokens; i++) {
        if (es.tokens[i] == MIR_TOK_SEP) {
            n3++;
            continue;
        }
        ok &= k < ep.n_tokens && es.tokens[i] == ep.tokens[k];
        k++;
    }
    CHECK_EQ_INT(n3, n_api);
    CHECK(ok);
    CHECK_EQ_INT(k, ep.n_tokens);
    CHECK_EQ_INT(mir_statement_starts(es.tokens, es.n_tokens, NULL), n_api);
    for (int64_t i = 0; i < ep.n_tokens; i++) CHECK(ep.tokens[i] != MIR_TOK_SEP);
    mir_encoded_free(&ep);
    mir_encoded_free(&es);
    mir_extract_free(&plain);
    mir_extract_free(&sep);
    mir_vocab_free(v);
}

/* ---- (4) corpus vs configuration ---- */

static void test_config_check(void) {
    fprintf(stderr, "-- corpus vs configuration\n");
    mir_corpus c;
    memset(&c, 0, sizeof c);
    snprintf(c.path, sizeof c.path, "plain.h5");
    mir_config cfg;
    memset(&cfg, 0, sizeof cfg);
    mir_error err = {{0}};
    CHECK_EQ_INT(mir_corpus_check_config(&c, &cfg, &err), 0);
    cfg.statements = 1;
    CHECK_EQ_INT(mir_corpus_check_config(&c, &cfg, &err), -1);
    fprintf(stderr, "   %s\n", err.msg);
    CHECK(strstr(err.msg, "plain.h5") && strstr(err.msg, "--statement-sep") && strstr(err.msg, "statements = 1"));
    c.statement_sep = 1;
    snprintf(c.path, sizeof c.path, "sep.h5");
    CHECK_EQ_INT(mir_corpus_check_config(&c, &cfg, &err), 0);
    cfg.statements = 0;
    CHECK_EQ_INT(mir_corpus_check_config(&c, &cfg, &err), -1);
    fprintf(stderr, "   %s\n", err.msg);
    CHECK(strstr(err.msg, "sep.h5") && strstr(err.msg, "statements = 0") && strstr(err.msg, "as words"));
}

int main(void) {
    test_windows();
    test_extraction();
    test_encoding();
    test_config_check();
    return mir_test_finish("test_statements");
}
