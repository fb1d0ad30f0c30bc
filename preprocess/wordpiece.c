/*
 * wordpiece.c: word counter, deterministic WordPiece vocabulary, greedy longest-match encoding
 * (see wordpiece.h).
 *
 * Counter: open addressing (linear probing, power-of-two table of uint32 entry indexes, load <= 1/2)
 * over an entry array in insertion order; word bytes are copied into one growing arena. Hash: mir_hash64.
 * Counts add with saturation at INT64_MAX / INT64_MIN (no overflow on hostile input).
 *
 * Pack format (all integers little-endian, independent of the host):
 *     bytes 0..3   magic "MIRC"
 *     bytes 4..7   u32 version = 1
 *     bytes 8..15  u64 number of records n
 *     n records:   u32 len, i64 count, len bytes of the word (no NUL)
 * and nothing after the last record. mir_counter_merge_packed validates the whole buffer before adding
 * anything, so a malformed buffer (-1) leaves the counter unchanged. A word may appear more than once
 * (its counts add).
 *
 * Vocabulary details beyond the header:
 *  - words with count <= 0 are ignored (they are not "seen"); thresholds below 1 act as 1.
 *  - byte 0 is never a character token (tokens are C strings), so a word containing it encodes as [UNK].
 *  - characters are listed by byte value, each as "c" then "##c"; their counts are the weighted number of
 *    times the byte starts a word ("c") or occurs later in a word ("##c").
 *  - specials and characters are always all present, even if that exceeds max_size (max_size <= 0: 8000).
 *  - a string that is both a whole-word candidate and a segment gets max(word count, segment count).
 *  - candidates equal to a special or character token are not repeated.
 *  - an empty word encodes to no tokens; mir_vocab_word_id gives [UNK] for it.
 *  - mir_vocab_from_tokens also rejects NULL or empty tokens.
 */
#include "wordpiece.h"

#include "mir_common.h"

#include <stdlib.h>
#include <string.h>

const char *const mir_special_tokens[MIR_TOK_NSPECIAL] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};

static int64_t sat_add(int64_t a, int64_t b) {
    if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
    return a + b;
}

/* ================================================================ counter */

typedef struct centry {
    uint64_t hash;
    size_t off;
    uint32_t len;
    int64_t count;
} centry;

struct mir_counter {
    char *arena;
    size_t arena_bytes, arena_cap;
    centry *e;
    size_t n, e_cap;
    uint32_t *slot; /* entry index + 1; 0 = empty */
    size_t mask;    /* table size - 1 */
    size_t max_n;   /* distinct words it holds at most (the slots are 32-bit); set lower only by tests */
    int64_t dropped; /* words not counted because the table was full or the word over 4 GiB */
};

mir_counter *mir_counter_new(void) {
    mir_counter *c = mir_calloc(1, sizeof *c);
    c->mask = 63;
    c->slot = mir_calloc(c->mask + 1, sizeof *c->slot);
    c->max_n = UINT32_MAX - 1;
    return c;
}

void mir_counter_free(mir_counter *c) {
    if (!c) return;
    free(c->arena);
    free(c->e);
    free(c->slot);
    free(c);
}

static size_t counter_find(const mir_counter *c, const char *w, size_t len, uint64_t h) {
    size_t i = (size_t)h & c->mask;
    for (;;) {
        uint32_t s = c->slot[i];
        if (!s) return i;
        const centry *e = &c->e[s - 1];
        if (e->hash == h && e->len == len && memcmp(c->arena + e->off, w, len) == 0) return i;
        i = (i + 1) & c->mask;
    }
}

static void counter_rehash(mir_counter *c) {
    size_t size = (c->mask + 1) * 2;
    free(c->slot);
    c->slot = mir_calloc(size, sizeof *c->slot);
    c->mask = size - 1;
    for (size_t k = 0; k < c->n; k++) {
        size_t i = (size_t)c->e[k].hash & c->mask;
        while (c->slot[i]) i = (i + 1) & c->mask;
        c->slot[i] = (uint32_t)(k + 1);
    }
}

static void counter_add_h(mir_counter *c, const char *word, size_t len, uint64_t h, int64_t n) {
    size_t i = counter_find(c, word, len, h);
    if (c->slot[i]) {
        centry *e = &c->e[c->slot[i] - 1];
        e->count = sat_add(e->count, n);
        return;
    }
    if (len > UINT32_MAX || c->n >= c->max_n) { /* left out, and said so by mir_counter_dropped */
        c->dropped++;
        return;
    }
    MIR_GROW(c->arena, c->arena_cap, c->arena_bytes + len + 1);
    memcpy(c->arena + c->arena_bytes, word, len);
    c->arena[c->arena_bytes + len] = '\0';
    MIR_GROW(c->e, c->e_cap, c->n + 1);
    c->e[c->n] = (centry){h, c->arena_bytes, (uint32_t)len, n};
    c->arena_bytes += len + 1;
    c->slot[i] = (uint32_t)(++c->n);
    if (c->n * 2 > c->mask + 1) counter_rehash(c);
}

void mir_counter_add(mir_counter *c, const char *word, size_t len, int64_t n) {
    counter_add_h(c, word, len, mir_hash64(word, len), n);
}

int64_t mir_counter_get(const mir_counter *c, const char *word, size_t len) {
    size_t i = counter_find(c, word, len, mir_hash64(word, len));
    return c->slot[i] ? c->e[c->slot[i] - 1].count : 0;
}

int64_t mir_counter_dropped(const mir_counter *c) { return c->dropped; }
void mir_counter_set_max(mir_counter *c, size_t max_n) { c->max_n = max_n < UINT32_MAX - 1 ? max_n : UINT32_MAX - 1; }

size_t mir_counter_size(const mir_counter *c) { return c->n; }

static void put_u32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

enum { PACK_HEADER = 16, PACK_RECORD = 12, PACK_VERSION = 1 };

void mir_counter_pack(const mir_counter *c, char **buf, size_t *bytes) {
    size_t total = PACK_HEADER;
    for (size_t k = 0; k < c->n; k++) total += PACK_RECORD + c->e[k].len;
    unsigned char *p = mir_malloc(total);
    memcpy(p, "MIRC", 4);
    put_u32(p + 4, PACK_VERSION);
    put_u64(p + 8, c->n);
    size_t at = PACK_HEADER;
    for (size_t k = 0; k < c->n; k++) {
        const centry *e = &c->e[k];
        put_u32(p + at, e->len);
        put_u64(p + at + 4, (uint64_t)e->count);
        memcpy(p + at + PACK_RECORD, c->arena + e->off, e->len);
        at += PACK_RECORD + e->len;
    }
    *buf = (char *)p;
    *bytes = total;
}

int mir_counter_merge_packed(mir_counter *c, const char *buf, size_t bytes) {
    const unsigned char *p = (const unsigned char *)buf;
    if (!p || bytes < PACK_HEADER || memcmp(p, "MIRC", 4) != 0 || get_u32(p + 4) != PACK_VERSION) return -1;
    uint64_t n = get_u64(p + 8);
    if (n > (bytes - PACK_HEADER) / PACK_RECORD) return -1;
    /* validate everything first: a bad buffer changes nothing */
    size_t at = PACK_HEADER;
    for (uint64_t k = 0; k < n; k++) {
        if (bytes - at < PACK_RECORD) return -1;
        uint32_t len = get_u32(p + at);
        if (bytes - at - PACK_RECORD < len) return -1;
        at += PACK_RECORD + len;
    }
    if (at != bytes) return -1;
    at = PACK_HEADER;
    for (uint64_t k = 0; k < n; k++) {
        uint32_t len = get_u32(p + at);
        int64_t cnt = (int64_t)get_u64(p + at + 4);
        mir_counter_add(c, (const char *)p + at + PACK_RECORD, len, cnt);
        at += PACK_RECORD + len;
    }
    return 0;
}

/* ================================================================ vocabulary */

struct mir_vocab {
    int32_t n, cap;
    char *arena;
    size_t arena_bytes, arena_cap;
    size_t *off;
    uint32_t *len;
    uint64_t *hash;
    int64_t *count;
    const char **tok; /* filled by vocab_finish */
    int32_t *slot;    /* token id; -1 = empty */
    size_t mask;
    size_t max_len;
    uint64_t h_cont; /* mir_hash64("##") */
};

static mir_vocab *vocab_new(void) {
    mir_vocab *v = mir_calloc(1, sizeof *v);
    v->mask = 255;
    v->slot = mir_malloc((v->mask + 1) * sizeof *v->slot);
    memset(v->slot, 0xff, (v->mask + 1) * sizeof *v->slot);
    v->h_cont = mir_hash64("##", 2);
    return v;
}

void mir_vocab_free(mir_vocab *v) {
    if (!v) return;
    free(v->arena);
    free(v->off);
    free(v->len);
    free(v->hash);
    free(v->count);
    free(v->tok);
    free(v->slot);
    free(v);
}

/* Slot for the token whose bytes are pre (plen bytes, 0 or "##") followed by s (len bytes), hash h. */
static size_t vocab_find(const mir_vocab *v, const char *pre, size_t plen, const char *s, size_t len, uint64_t h) {
    size_t i = (size_t)h & v->mask;
    for (;;) {
        int32_t id = v->slot[i];
        if (id < 0) return i;
        if (v->hash[id] == h && v->len[id] == plen + len) {
            const char *t = v->arena + v->off[id];
            if (memcmp(t, pre, plen) == 0 && memcmp(t + plen, s, len) == 0) return i;
        }
        i = (i + 1) & v->mask;
    }
}

/* Append token pre+s unless present; returns its new id, -1 if it was already there, -2 if the vocabulary has no
 * room for it (INT32_MAX tokens, or a token over 4 GiB). */
static int32_t vocab_add(mir_vocab *v, const char *pre, size_t plen, const char *s, size_t len, int64_t count) {
    uint64_t h = mir_hash64_continue(mir_hash64(pre, plen), s, len);
    size_t i = vocab_find(v, pre, plen, s, len, h);
    if (v->slot[i] >= 0) return -1;
    if (v->n == INT32_MAX || plen + len > UINT32_MAX) return -2; /* no room: the caller says so */
    if (v->n >= v->cap) {
        size_t cap = (size_t)v->cap;
        size_t c2 = cap;
        MIR_GROW(v->off, c2, (size_t)v->n + 1);
        c2 = cap;
        MIR_GROW(v->len, c2, (size_t)v->n + 1);
        c2 = cap;
        MIR_GROW(v->hash, c2, (size_t)v->n + 1);
        c2 = cap;
        MIR_GROW(v->count, c2, (size_t)v->n + 1);
        v->cap = (int32_t)(c2 > INT32_MAX ? INT32_MAX : c2);
    }
    MIR_GROW(v->arena, v->arena_cap, v->arena_bytes + plen + len + 1);
    char *d = v->arena + v->arena_bytes;
    memcpy(d, pre, plen);
    memcpy(d + plen, s, len);
    d[plen + len] = '\0';
    int32_t id = v->n++;
    v->off[id] = v->arena_bytes;
    v->len[id] = (uint32_t)(plen + len);
    v->hash[id] = h;
    v->count[id] = count;
    v->arena_bytes += plen + len + 1;
    if (plen + len > v->max_len) v->max_len = plen + len;
    v->slot[i] = id;
    if ((size_t)v->n * 2 > v->mask + 1) {
        size_t size = (v->mask + 1) * 2;
        free(v->slot);
        v->slot = mir_malloc(size * sizeof *v->slot);
        memset(v->slot, 0xff, size * sizeof *v->slot);
        v->mask = size - 1;
        for (int32_t k = 0; k < v->n; k++) {
            size_t j = (size_t)v->hash[k] & v->mask;
            while (v->slot[j] >= 0) j = (j + 1) & v->mask;
            v->slot[j] = k;
        }
    }
    return id;
}

static void vocab_finish(mir_vocab *v) {
    v->tok = mir_malloc(((size_t)v->n + 1) * sizeof *v->tok);
    for (int32_t k = 0; k < v->n; k++) v->tok[k] = v->arena + v->off[k];
}

void mir_vocab_options_default(mir_vocab_options *o) {
    o->max_size = 8000;
    o->min_word_count = 2;
    o->min_piece_count = 2;
}

static int byte_class(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 0;
    if (c >= '0' && c <= '9') return 1;
    return 2;
}

typedef struct cand {
    const char *s;
    uint32_t len;
    int64_t count;
} cand;

static int cand_cmp(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->count != y->count) return x->count > y->count ? -1 : 1;
    size_t m = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->s, y->s, m);
    if (r) return r;
    return x->len < y->len ? -1 : x->len > y->len;
}

mir_vocab *mir_vocab_build(const mir_counter *c, const mir_vocab_options *o) {
    mir_vocab_options opt;
    if (o) opt = *o;
    else mir_vocab_options_default(&opt);
    if (opt.max_size <= 0) opt.max_size = 8000;
    if (opt.min_word_count < 1) opt.min_word_count = 1;
    if (opt.min_piece_count < 1) opt.min_piece_count = 1;

    /* characters, and segments weighted by word counts */
    int64_t first[256] = {0}, later[256] = {0};
    mir_counter *seg = mir_counter_new();
    char *scratch = NULL;
    size_t scratch_cap = 0;
    for (size_t k = 0; k < c->n; k++) {
        const centry *e = &c->e[k];
        if (e->count <= 0 || e->len == 0) continue;
        const unsigned char *w = (const unsigned char *)c->arena + e->off;
        first[w[0]] = sat_add(first[w[0]], e->count);
        for (size_t i = 1; i < e->len; i++) later[w[i]] = sat_add(later[w[i]], e->count);
        size_t s0 = 0;
        for (size_t i = 1; i <= e->len; i++) {
            int cut = i == e->len || byte_class(w[i]) != byte_class(w[i - 1]) || w[i] == '.' || w[i] == '_' ||
                      w[i] == '-';
            if (!cut) continue;
            size_t l = i - s0;
            if (s0 == 0) {
                mir_counter_add(seg, (const char *)w, l, e->count);
            } else {
                MIR_GROW(scratch, scratch_cap, l + 2);
                scratch[0] = scratch[1] = '#';
                memcpy(scratch + 2, w + s0, l);
                mir_counter_add(seg, scratch, l + 2, e->count);
            }
            s0 = i;
        }
    }
    free(scratch);

    /* candidates: whole words, then segments not already taken as whole words */
    cand *cands = NULL;
    size_t nc = 0, cc = 0;
    for (size_t k = 0; k < c->n; k++) {
        const centry *e = &c->e[k];
        if (e->len == 0 || e->count < opt.min_word_count) continue;
        const char *w = c->arena + e->off;
        int64_t sc = mir_counter_get(seg, w, e->len);
        MIR_GROW(cands, cc, nc + 1);
        cands[nc++] = (cand){w, e->len, sc > e->count ? sc : e->count};
    }
    for (size_t k = 0; k < seg->n; k++) {
        const centry *e = &seg->e[k];
        if (e->count < opt.min_piece_count) continue;
        const char *w = seg->arena + e->off;
        if (mir_counter_get(c, w, e->len) >= opt.min_word_count) continue;
        MIR_GROW(cands, cc, nc + 1);
        cands[nc++] = (cand){w, e->len, e->count};
    }
    if (nc > 1) qsort(cands, nc, sizeof *cands, cand_cmp);

    mir_vocab *v = vocab_new();
    for (int t = 0; t < MIR_TOK_NSPECIAL; t++)
        vocab_add(v, "", 0, mir_special_tokens[t], strlen(mir_special_tokens[t]), 0);
    for (int b = 1; b < 256; b++) {
        if (!first[b] && !later[b]) continue;
        char ch = (char)b;
        vocab_add(v, "", 0, &ch, 1, first[b]);
        vocab_add(v, "##", 2, &ch, 1, later[b]);
    }
    for (size_t k = 0; k < nc && v->n < opt.max_size; k++) vocab_add(v, "", 0, cands[k].s, cands[k].len, cands[k].count);
    free(cands);
    mir_counter_free(seg);
    vocab_finish(v);
    return v;
}

mir_vocab *mir_vocab_from_tokens(const char *const *tokens, const int64_t *counts, int32_t n, char *err_msg,
                                 size_t err_cap) {
#define FAIL(...)                                                   \
    do {                                                            \
        if (err_msg && err_cap) snprintf(err_msg, err_cap, __VA_ARGS__); \
        mir_vocab_free(v);                                          \
        return NULL;                                                \
    } while (0)
    mir_vocab *v = NULL;
    if (!tokens || n < MIR_TOK_NSPECIAL) FAIL("vocabulary has %d tokens, fewer than the %d special tokens", (int)n,
                                             MIR_TOK_NSPECIAL);
    for (int t = 0; t < MIR_TOK_NSPECIAL; t++)
        if (!tokens[t] || strcmp(tokens[t], mir_special_tokens[t]) != 0)
            FAIL("token %d is \"%s\", expected the special token %s", t, tokens[t] ? tokens[t] : "(null)",
                 mir_special_tokens[t]);
    v = vocab_new();
    for (int32_t k = 0; k < n; k++) {
        if (!tokens[k] || !tokens[k][0]) FAIL("token %d is empty", (int)k);
        int32_t id = vocab_add(v, "", 0, tokens[k], strlen(tokens[k]), counts ? counts[k] : 0);
        if (id == -2) FAIL("token %d is over 4 GiB long", (int)k);
        if (id < 0) FAIL("token %d \"%s\" is a duplicate", (int)k, tokens[k]);
    }
    vocab_finish(v);
    return v;
#undef FAIL
}

int32_t mir_vocab_size(const mir_vocab *v) { return v->n; }
const char *mir_vocab_token(const mir_vocab *v, int32_t id) { return id >= 0 && id < v->n ? v->tok[id] : NULL; }
int64_t mir_vocab_count(const mir_vocab *v, int32_t id) { return id >= 0 && id < v->n ? v->count[id] : 0; }
size_t mir_vocab_max_token_len(const mir_vocab *v) { return v->max_len; }

int32_t mir_vocab_lookup(const mir_vocab *v, const char *tok, size_t len) {
    size_t i = vocab_find(v, "", 0, tok, len, mir_hash64(tok, len));
    return v->slot[i];
}

/* Longest vocabulary piece of word[pos..len): word-initial at pos 0, "##" after. Returns its length (0: none)
 * and its id in *id. The hashes of all candidate prefixes are made in one forward pass. */
static size_t longest_piece(const mir_vocab *v, const char *word, size_t len, size_t pos, int32_t *id) {
    size_t plen = pos ? 2 : 0;
    if (v->max_len <= plen) return 0;
    size_t maxl = len - pos;
    if (maxl > v->max_len - plen) maxl = v->max_len - plen;
    const char *s = word + pos;
    const char *pre = pos ? "##" : "";
    uint64_t h0 = pos ? v->h_cont : mir_hash64("", 0);
    uint64_t hs[128];
    if (maxl <= 128) {
        uint64_t h = h0;
        for (size_t l = 0; l < maxl; l++) hs[l] = h = mir_hash64_continue(h, s + l, 1);
    }
    for (size_t l = maxl; l >= 1; l--) {
        uint64_t h = maxl <= 128 ? hs[l - 1] : mir_hash64_continue(h0, s, l);
        size_t i = vocab_find(v, pre, plen, s, l, h);
        if (v->slot[i] >= 0) {
            *id = v->slot[i];
            return l;
        }
    }
    return 0;
}

size_t mir_vocab_encode_word(const mir_vocab *v, const char *word, size_t len, int32_t *out, size_t cap) {
    size_t n = 0, pos = 0;
    while (pos < len) {
        int32_t id;
        size_t l = longest_piece(v, word, len, pos, &id);
        if (!l) {
            if (cap) out[0] = MIR_TOK_UNK;
            return 1;
        }
        if (n < cap) out[n] = id;
        n++;
        pos += l;
    }
    return n;
}

int32_t mir_vocab_word_id(const mir_vocab *v, const char *word, size_t len) {
    int32_t id = mir_vocab_lookup(v, word, len);
    if (id >= 0) return id;
    if (!len) return MIR_TOK_UNK;
    int32_t first;
    size_t n = mir_vocab_encode_word(v, word, len, &first, 1);
    return n ? first : MIR_TOK_UNK;
}
