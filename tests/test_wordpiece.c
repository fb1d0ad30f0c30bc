/* test_wordpiece.c: word counter, pack/merge, deterministic vocabulary, WordPiece encoding. */
#include "wordpiece.h"

#include "mir_test.h"

#include <stdint.h>
#include <string.h>

static void add(mir_counter *c, const char *w, int64_t n) { mir_counter_add(c, w, strlen(w), n); }
static int64_t get(const mir_counter *c, const char *w) { return mir_counter_get(c, w, strlen(w)); }
static int32_t look(const mir_vocab *v, const char *t) { return mir_vocab_lookup(v, t, strlen(t)); }

/* Encode w and return its pieces joined by spaces. */
static const char *pieces(const mir_vocab *v, const char *w) {
    static char buf[1024];
    int32_t ids[64];
    size_t n = mir_vocab_encode_word(v, w, strlen(w), ids, 64);
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 64; i++) {
        const char *t = mir_vocab_token(v, ids[i]);
        if (!t) return "(bad id)";
        k += (size_t)snprintf(buf + k, sizeof buf - k, "%s%s", i ? " " : "", t);
    }
    return buf;
}

static void test_counter(void) {
    mir_counter *c = mir_counter_new();
    CHECK_EQ_INT(mir_counter_size(c), 0);
    CHECK_EQ_INT(get(c, "x"), 0);
    add(c, "load", 3);
    add(c, "store", 1);
    add(c, "load", 2);
    mir_counter_add(c, "ab\0cd", 5, 7); /* embedded NUL: words are byte strings */
    mir_counter_add(c, "", 0, 4);
    CHECK_EQ_INT(mir_counter_size(c), 4);
    CHECK_EQ_INT(get(c, "load"), 5);
    CHECK_EQ_INT(get(c, "store"), 1);
    CHECK_EQ_INT(mir_counter_get(c, "ab\0cd", 5), 7);
    CHECK_EQ_INT(get(c, "ab"), 0);
    CHECK_EQ_INT(mir_counter_get(c, "", 0), 4);
    CHECK_EQ_INT(mir_counter_get(c, "loadX", 4), 5); /* only len bytes are read */
    /* growth through many rehashes */
    char w[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(w, sizeof w, "w%d", i);
        add(c, w, i);
    }
    for (int i = 0; i < 20000; i += 7) {
        snprintf(w, sizeof w, "w%d", i);
        add(c, w, 1);
    }
    CHECK_EQ_INT(mir_counter_size(c), 20004);
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(w, sizeof w, "w%d", i);
        if (get(c, w) != i + (i % 7 == 0)) bad++;
    }
    CHECK_EQ_INT(bad, 0);
    /* saturation instead of overflow */
    add(c, "big", INT64_MAX);
    add(c, "big", 5);
    CHECK_EQ_INT(get(c, "big"), INT64_MAX);
    mir_counter_free(c);
    mir_counter_free(NULL);
}

static void test_pack(void) {
    mir_counter *a = mir_counter_new();
    add(a, "load", 5);
    add(a, "%ID", 100);
    add(a, "<int+2>", -3);
    mir_counter_add(a, "n\0l", 3, 2);
    char *buf;
    size_t bytes;
    mir_counter_pack(a, &buf, &bytes);
    CHECK_EQ_INT(bytes, 16 + 4 * 12 + 4 + 3 + 7 + 3);
    CHECK(memcmp(buf, "MIRC", 4) == 0);

    mir_counter *b = mir_counter_new();
    CHECK_EQ_INT(mir_counter_merge_packed(b, buf, bytes), 0);
    CHECK_EQ_INT(mir_counter_size(b), 4);
    CHECK_EQ_INT(get(b, "load"), 5);
    CHECK_EQ_INT(get(b, "%ID"), 100);
    CHECK_EQ_INT(get(b, "<int+2>"), -3);
    CHECK_EQ_INT(mir_counter_get(b, "n\0l", 3), 2);
    /* merging adds */
    add(b, "store", 1);
    CHECK_EQ_INT(mir_counter_merge_packed(b, buf, bytes), 0);
    CHECK_EQ_INT(get(b, "load"), 10);
    CHECK_EQ_INT(get(b, "store"), 1);
    CHECK_EQ_INT(mir_counter_size(b), 5);

    /* malformed: every truncation, trailing bytes, bad magic/version/count/length; b stays unchanged */
    int accepted = 0;
    for (size_t cut = 0; cut < bytes; cut++) accepted += mir_counter_merge_packed(b, buf, cut) == 0;
    CHECK_EQ_INT(accepted, 0);
    char *big = malloc(bytes + 1);
    memcpy(big, buf, bytes);
    big[bytes] = 'x';
    CHECK_EQ_INT(mir_counter_merge_packed(b, big, bytes + 1), -1);
    memcpy(big, buf, bytes);
    big[0] = 'X';
    CHECK_EQ_INT(mir_counter_merge_packed(b, big, bytes), -1);
    memcpy(big, buf, bytes);
    big[4] = 2; /* version */
    CHECK_EQ_INT(mir_counter_merge_packed(b, big, bytes), -1);
    memcpy(big, buf, bytes);
    big[8] = 5; /* 5 records claimed, 4 present */
    CHECK_EQ_INT(mir_counter_merge_packed(b, big, bytes), -1);
    memcpy(big, buf, bytes);
    big[15] = 0x7f; /* absurd record count */
    CHECK_EQ_INT(mir_counter_merge_packed(b, big, bytes), -1);
    memcpy(big, buf, bytes);
    big[16 + 3] = (char)0xff; /* first record length ~4 GiB */
    CHECK_EQ_INT(mir_counter_merge_packed(b, big, bytes), -1);
    memcpy(big, buf, bytes);
    big[16] = 3; /* first record one byte shorter: records no longer line up with the end */
    CHECK_EQ_INT(mir_counter_merge_packed(b, big, bytes), -1);
    CHECK_EQ_INT(mir_counter_merge_packed(b, NULL, 0), -1);
    CHECK_EQ_INT(get(b, "load"), 10);
    CHECK_EQ_INT(get(b, "%ID"), 200);
    CHECK_EQ_INT(mir_counter_size(b), 5);
    free(big);
    free(buf);

    /* an empty counter packs to a valid 16-byte buffer */
    mir_counter *e = mir_counter_new();
    mir_counter_pack(e, &buf, &bytes);
    CHECK_EQ_INT(bytes, 16);
    CHECK_EQ_INT(mir_counter_merge_packed(b, buf, bytes), 0);
    CHECK_EQ_INT(mir_counter_size(b), 5);
    free(buf);
    mir_counter_free(e);
    mir_counter_free(a);
    mir_counter_free(b);
}

/* The tiny corpus of the examples below. */
static const struct {
    const char *w;
    int64_t n;
} corpus[] = {
    {"load", 5}, {"store", 4}, {"@llvm.memcpy", 3}, {"@llvm.memset", 3}, {"i32", 6}, {"i64", 2}, {"x", 1},
};
enum { NCORPUS = sizeof corpus / sizeof corpus[0] };

static mir_vocab *tiny_vocab(int32_t max_size) {
    mir_counter *c = mir_counter_new();
    for (int i = 0; i < NCORPUS; i++) add(c, corpus[i].w, corpus[i].n);
    mir_vocab_options o;
    mir_vocab_options_default(&o);
    CHECK_EQ_INT(o.max_size, 8000);
    CHECK_EQ_INT(o.min_word_count, 2);
    CHECK_EQ_INT(o.min_piece_count, 2);
    if (max_size) o.max_size = max_size;
    mir_vocab *v = mir_vocab_build(c, &o);
    mir_counter_free(c);
    return v;
}

static void test_vocab_layout(void) {
    mir_vocab *v = tiny_vocab(0);
    /* specials, then 21 seen bytes (. 2 3 4 6 @ a c d e i l m o p r s t v x y) x 2, then 11 candidates */
    CHECK_EQ_INT(mir_vocab_size(v), 5 + 42 + 11);
    for (int t = 0; t < MIR_TOK_NSPECIAL; t++) CHECK_EQ_STR(mir_vocab_token(v, t), mir_special_tokens[t]);
    CHECK_EQ_STR(mir_vocab_token(v, 5), ".");
    CHECK_EQ_STR(mir_vocab_token(v, 6), "##.");
    CHECK_EQ_STR(mir_vocab_token(v, 7), "2");
    CHECK_EQ_STR(mir_vocab_token(v, 8), "##2");
    CHECK_EQ_STR(mir_vocab_token(v, 15), "@");
    CHECK_EQ_STR(mir_vocab_token(v, 43), "x");
    CHECK_EQ_STR(mir_vocab_token(v, 44), "##x");
    CHECK_EQ_STR(mir_vocab_token(v, 45), "y");
    CHECK_EQ_STR(mir_vocab_token(v, 46), "##y");
    /* candidates by count desc, ties by bytes: 6: ##32 ##llvm i32; 5: load; 4: store;
     * 3: ##memcpy ##memset @llvm.memcpy @llvm.memset; 2: ##64 i64. ("x" has count 1: not a word candidate;
     * "@", "i" and "##." are already characters.) */
    static const char *const want[] = {"##32",        "##llvm",       "i32",  "load", "store", "##memcpy",
                                       "##memset",    "@llvm.memcpy", "@llvm.memset", "##64", "i64"};
    for (int i = 0; i < 11; i++) CHECK_EQ_STR(mir_vocab_token(v, 47 + i), want[i]);
    CHECK_EQ_INT(mir_vocab_count(v, look(v, "i32")), 6);
    CHECK_EQ_INT(mir_vocab_count(v, look(v, "##llvm")), 6);
    CHECK_EQ_INT(mir_vocab_count(v, look(v, "##64")), 2);
    CHECK_EQ_INT(mir_vocab_count(v, look(v, "l")), 5);   /* starts "load" */
    CHECK_EQ_INT(mir_vocab_count(v, look(v, "##l")), 12); /* llvm twice in 6 words */
    CHECK_EQ_INT(mir_vocab_count(v, -1), 0);
    CHECK(mir_vocab_token(v, mir_vocab_size(v)) == NULL);
    CHECK_EQ_INT(look(v, "[MASK]"), MIR_TOK_MASK);
    CHECK_EQ_INT(look(v, "nothere"), -1);
    CHECK_EQ_INT(look(v, ""), -1);
    CHECK_EQ_INT(mir_vocab_max_token_len(v), 12);
    mir_vocab_free(v);
}

static void test_encode(void) {
    mir_vocab *v = tiny_vocab(0);
    /* known words are one token */
    CHECK_EQ_STR(pieces(v, "load"), "load");
    CHECK_EQ_STR(pieces(v, "@llvm.memcpy"), "@llvm.memcpy");
    CHECK_EQ_STR(pieces(v, "x"), "x");
    /* unseen words split into known pieces */
    CHECK_EQ_STR(pieces(v, "i3264"), "i32 ##64");
    CHECK_EQ_STR(pieces(v, "@llvm.memset.memcpy"), "@llvm.memset ##. ##memcpy");
    CHECK_EQ_STR(pieces(v, "storeload"), "store ##l ##o ##a ##d");
    CHECK_EQ_STR(pieces(v, "@llvm.ld"), "@ ##llvm ##. ##l ##d");
    CHECK_EQ_STR(pieces(v, "yy"), "y ##y");
    /* [UNK] only for a byte never seen: 'g', 'Z', a UTF-8 byte */
    CHECK_EQ_STR(pieces(v, "storage"), "[UNK]");
    CHECK_EQ_STR(pieces(v, "Z"), "[UNK]");
    CHECK_EQ_STR(pieces(v, "load\xc3\xa9"), "[UNK]");
    int32_t ids[8];
    CHECK_EQ_INT(mir_vocab_encode_word(v, "", 0, ids, 8), 0);
    CHECK_EQ_INT(mir_vocab_encode_word(v, "lo\0ad", 5, ids, 8), 1);
    CHECK_EQ_INT(ids[0], MIR_TOK_UNK);
    /* only len bytes are read */
    CHECK_EQ_INT(mir_vocab_encode_word(v, "loadXYZ", 4, ids, 8), 1);
    CHECK_EQ_INT(ids[0], look(v, "load"));
    /* too small a buffer: the needed count comes back, no write past cap */
    int32_t small[4] = {-7, -7, -7, -7};
    CHECK_EQ_INT(mir_vocab_encode_word(v, "storeload", 9, small, 2), 5);
    CHECK_EQ_INT(small[0], look(v, "store"));
    CHECK_EQ_INT(small[1], look(v, "##l"));
    CHECK_EQ_INT(small[2], -7);
    CHECK_EQ_INT(mir_vocab_encode_word(v, "storeload", 9, NULL, 0), 5);
    CHECK_EQ_INT(mir_vocab_encode_word(v, "i3264", 5, small, 1), 2);
    CHECK_EQ_INT(small[0], look(v, "i32"));
    CHECK_EQ_INT(small[1], look(v, "##l")); /* untouched */
    int32_t big[8];
    CHECK_EQ_INT(mir_vocab_encode_word(v, "storeload", 9, big, 8), 5);
    CHECK_EQ_INT(big[4], look(v, "##d"));
    /* an unseen byte after pieces were written: still one [UNK] */
    small[0] = small[1] = -7;
    CHECK_EQ_INT(mir_vocab_encode_word(v, "storeg", 6, small, 2), 1);
    CHECK_EQ_INT(small[0], MIR_TOK_UNK);
    /* word ids for graph nodes */
    CHECK_EQ_INT(mir_vocab_word_id(v, "store", 5), look(v, "store"));
    CHECK_EQ_INT(mir_vocab_word_id(v, "i3264", 5), look(v, "i32"));
    CHECK_EQ_INT(mir_vocab_word_id(v, "storage", 7), MIR_TOK_UNK);
    CHECK_EQ_INT(mir_vocab_word_id(v, "", 0), MIR_TOK_UNK);
    CHECK_EQ_INT(mir_vocab_word_id(v, "[CLS]", 5), MIR_TOK_CLS);
    mir_vocab_free(v);

    /* max_size cuts the candidate list (never the characters) */
    v = tiny_vocab(47 + 2);
    CHECK_EQ_INT(mir_vocab_size(v), 49);
    CHECK_EQ_STR(mir_vocab_token(v, 48), "##llvm");
    CHECK_EQ_INT(look(v, "i32"), -1);
    CHECK_EQ_STR(pieces(v, "i3264"), "i ##32 ##6 ##4");
    mir_vocab_free(v);
    v = tiny_vocab(3);
    CHECK_EQ_INT(mir_vocab_size(v), 47);
    CHECK_EQ_STR(pieces(v, "i32"), "i ##3 ##2");
    mir_vocab_free(v);
}

/* A larger pseudo-corpus: words from normalised IR with skewed counts. */
static void corpus_words(int i, char *w, size_t cap, int64_t *n) {
    static const char *const base[] = {"%ID",        "=",    "load",      "store", "i32",     "i64",
                                       "ptr",        "align", "getelementptr", "inbounds", "<int+2>", "@llvm.memcpy",
                                       "@llvm.fmuladd", "float", "<fp>", "call", "br", "label", "x86_fp80", "!MD"};
    int nb = (int)(sizeof base / sizeof base[0]);
    if (i < nb) snprintf(w, cap, "%s", base[i]);
    else snprintf(w, cap, "%s_%d.v%d", base[i % nb], i % 13, i % 5);
    *n = 1 + (i * 7919) % 97;
}

static int same_vocab(const mir_vocab *a, const mir_vocab *b) {
    if (mir_vocab_size(a) != mir_vocab_size(b)) return 0;
    for (int32_t i = 0; i < mir_vocab_size(a); i++) {
        if (strcmp(mir_vocab_token(a, i), mir_vocab_token(b, i)) != 0) return 0;
        if (mir_vocab_count(a, i) != mir_vocab_count(b, i)) return 0;
    }
    return 1;
}

static void test_order_independence(void) {
    enum { NW = 600 };
    char w[64];
    int64_t n;
    mir_vocab_options o;
    mir_vocab_options_default(&o);
    o.max_size = 150; /* so the cut falls inside tied counts */

    /* one rank, words added in order, each occurrence added separately */
    mir_counter *one = mir_counter_new();
    for (int i = 0; i < NW; i++) {
        corpus_words(i, w, sizeof w, &n);
        for (int64_t k = 0; k < n; k++) mir_counter_add(one, w, strlen(w), 1);
    }
    /* three ranks with a different partition, words added in reverse, merged into an empty counter in the
     * order 2, 0, 1 (and rank 1's buffer split over two packs) */
    mir_counter *rank[3] = {mir_counter_new(), mir_counter_new(), mir_counter_new()};
    for (int i = NW - 1; i >= 0; i--) {
        corpus_words(i, w, sizeof w, &n);
        int64_t part = n / 2;
        mir_counter_add(rank[(i * 5) % 3], w, strlen(w), part);
        mir_counter_add(rank[(i + 1) % 3], w, strlen(w), n - part);
    }
    mir_counter *merged = mir_counter_new();
    char *buf;
    size_t bytes;
    int order[3] = {2, 0, 1};
    for (int r = 0; r < 3; r++) {
        mir_counter_pack(rank[order[r]], &buf, &bytes);
        CHECK_EQ_INT(mir_counter_merge_packed(merged, buf, bytes), 0);
        free(buf);
    }
    CHECK_EQ_INT(mir_counter_size(merged), mir_counter_size(one));
    mir_vocab *a = mir_vocab_build(one, &o), *b = mir_vocab_build(merged, &o);
    CHECK_EQ_INT(mir_vocab_size(a), 150);
    CHECK(same_vocab(a, b));
    /* and a rebuild from the same counter is identical */
    mir_vocab *a2 = mir_vocab_build(one, &o);
    CHECK(same_vocab(a, a2));
    /* it is not vacuous: a different corpus differs */
    mir_counter_add(merged, "zzz_new", 7, 1000);
    mir_vocab *d = mir_vocab_build(merged, &o);
    CHECK(!same_vocab(a, d));
    mir_vocab_free(a);
    mir_vocab_free(a2);
    mir_vocab_free(b);
    mir_vocab_free(d);
    mir_counter_free(one);
    mir_counter_free(merged);
    for (int r = 0; r < 3; r++) mir_counter_free(rank[r]);
}

static void test_from_tokens(void) {
    mir_counter *c = mir_counter_new();
    char w[64];
    int64_t n;
    for (int i = 0; i < 300; i++) {
        corpus_words(i, w, sizeof w, &n);
        mir_counter_add(c, w, strlen(w), n);
    }
    mir_vocab_options o;
    mir_vocab_options_default(&o);
    o.max_size = 200;
    mir_vocab *v = mir_vocab_build(c, &o);
    int32_t nt = mir_vocab_size(v);
    const char **toks = malloc((size_t)nt * sizeof *toks);
    int64_t *counts = malloc((size_t)nt * sizeof *counts);
    for (int32_t i = 0; i < nt; i++) {
        toks[i] = mir_vocab_token(v, i);
        counts[i] = mir_vocab_count(v, i);
    }
    char err[128] = "";
    mir_vocab *r = mir_vocab_from_tokens(toks, counts, nt, err, sizeof err);
    CHECK_FATAL(r != NULL);
    CHECK(same_vocab(v, r));
    CHECK_EQ_INT(mir_vocab_max_token_len(r), mir_vocab_max_token_len(v));
    /* identical encodings of seen and unseen words */
    static const char *const probe[] = {"load",      "%ID_3.v1",   "@llvm.memcpy_9.v4", "storeload",
                                        "i32i64ptr", "<int+2>_12", "unseen-Q-word",     "x86_fp80_1.v2"};
    int diff = 0;
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
        int32_t e1[64], e2[64];
        size_t n1 = mir_vocab_encode_word(v, probe[i], strlen(probe[i]), e1, 64);
        size_t n2 = mir_vocab_encode_word(r, probe[i], strlen(probe[i]), e2, 64);
        if (n1 != n2 || memcmp(e1, e2, (n1 < 64 ? n1 : 64) * sizeof e1[0]) != 0) diff++;
        if (mir_vocab_word_id(v, probe[i], strlen(probe[i])) != mir_vocab_word_id(r, probe[i], strlen(probe[i])))
            diff++;
    }
    CHECK_EQ_INT(diff, 0);
    mir_vocab_free(r);
    /* counts may be NULL */
    r = mir_vocab_from_tokens(toks, NULL, nt, NULL, 0);
    CHECK_FATAL(r != NULL);
    CHECK_EQ_INT(mir_vocab_count(r, 10), 0);
    CHECK_EQ_INT(mir_vocab_lookup(r, toks[nt - 1], strlen(toks[nt - 1])), nt - 1);
    mir_vocab_free(r);
    /* rejected lists */
    const char *dup[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##a", "a"};
    err[0] = '\0';
    CHECK(mir_vocab_from_tokens(dup, NULL, 8, err, sizeof err) == NULL);
    CHECK(strstr(err, "duplicate") != NULL);
    const char *nospec[] = {"[PAD]", "[CLS]", "[UNK]", "[SEP]", "[MASK]", "a"};
    err[0] = '\0';
    CHECK(mir_vocab_from_tokens(nospec, NULL, 6, err, sizeof err) == NULL);
    CHECK(err[0] != '\0');
    CHECK(mir_vocab_from_tokens(nospec, NULL, 3, NULL, 0) == NULL);
    const char *empty[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ""};
    CHECK(mir_vocab_from_tokens(empty, NULL, 6, err, 4) == NULL);
    CHECK(strlen(err) <= 3);
    /* just the specials: every word is [UNK] */
    r = mir_vocab_from_tokens(mir_special_tokens, NULL, 5, err, sizeof err);
    CHECK_FATAL(r != NULL);
    CHECK_EQ_STR(pieces(r, "load"), "[UNK]");
    mir_vocab_free(r);
    free(toks);
    free(counts);
    mir_vocab_free(v);
    mir_counter_free(c);
}

static void test_build_edge_cases(void) {
    /* empty counter: specials only */
    mir_counter *c = mir_counter_new();
    mir_vocab *v = mir_vocab_build(c, NULL);
    CHECK_EQ_INT(mir_vocab_size(v), 5);
    CHECK_EQ_STR(pieces(v, "a"), "[UNK]");
    mir_vocab_free(v);
    /* non-positive counts are not seen; NULL options are the defaults */
    add(c, "ab", 0);
    add(c, "cd", -4);
    add(c, "ef", 2);
    v = mir_vocab_build(c, NULL);
    CHECK_EQ_INT(mir_vocab_size(v), 5 + 4 + 1);
    CHECK_EQ_INT(look(v, "ef"), 9);
    CHECK_EQ_STR(pieces(v, "fe"), "f ##e");
    CHECK_EQ_STR(pieces(v, "ab"), "[UNK]");
    mir_vocab_free(v);
    /* segment cuts: class changes and before . _ - */
    mir_counter_free(c);
    c = mir_counter_new();
    add(c, "a_.b-9x", 2);
    mir_vocab_options o;
    mir_vocab_options_default(&o);
    o.min_word_count = 3; /* the whole word is not a candidate */
    v = mir_vocab_build(c, &o);
    /* segments: a ##_ ##. ##b ##- ##9 ##x, all single characters already */
    CHECK_EQ_INT(mir_vocab_size(v), 5 + 2 * 7);
    mir_vocab_free(v);
    mir_counter_free(c);
    c = mir_counter_new();
    add(c, "ab12cd..ef", 2);
    v = mir_vocab_build(c, &o);
    CHECK(look(v, "ab") >= 0);
    CHECK(look(v, "##12") >= 0);
    CHECK(look(v, "##cd") >= 0);
    CHECK(look(v, "##ef") >= 0);
    CHECK(look(v, "##.") >= 0);
    CHECK(look(v, "##..") < 0);
    CHECK(look(v, "ab12cd..ef") < 0);
    CHECK_EQ_STR(pieces(v, "ab12cd..ef"), "ab ##12 ##cd ##. ##. ##ef");
    mir_vocab_free(v);
    /* a word that is also a segment elsewhere gets the larger count */
    mir_counter_free(c);
    c = mir_counter_new();
    add(c, "mul", 2);
    add(c, "mul.x", 5);
    v = mir_vocab_build(c, NULL);
    CHECK_EQ_INT(mir_vocab_count(v, look(v, "mul")), 7);
    mir_vocab_free(v);
    mir_counter_free(c);
}

/* A full counter leaves words out and counts them (issue 17: once an abort()); words it holds still count. */
static void test_counter_full(void) {
    mir_counter *c = mir_counter_new();
    mir_counter_set_max(c, 3);
    const char *w[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) mir_counter_add(c, w[i], 1, 2);
    mir_counter_add(c, "a", 1, 5);
    CHECK_EQ_INT(mir_counter_size(c), 3);
    CHECK_EQ_INT(mir_counter_dropped(c), 2);
    CHECK_EQ_INT(mir_counter_get(c, "a", 1), 7);
    CHECK_EQ_INT(mir_counter_get(c, "d", 1), 0);
    mir_counter_free(c);
}

int main(void) {
    test_counter();
    test_counter_full();
    test_pack();
    test_vocab_layout();
    test_encode();
    test_order_independence();
    test_from_tokens();
    test_build_edge_cases();
    return mir_test_finish("test_wordpiece");
}
