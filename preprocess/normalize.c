/*
 * normalize.c: a single-pass hand-written lexer over one LLVM 16 statement (see normalize.h for the rules).
 *
 * Words are written straight into the caller's arena (no per-word allocation). The only look-back is for
 * typed pointers ("i32*", "void (i8*)*", "float addrspace(1)*"): at a '*' the words of the pointee type
 * already written are found by bracket matching over the words of this statement and replaced by "ptr"
 * (plus "addrspace ( N )" when N is not 0). Everything else is decided from the bytes at hand.
 *
 * Details beyond the header's rules (also asserted in tests/test_normalize.c):
 *  - %name: the classify callback is asked only for non-numeric names (%0 is nearly always a value, and an
 *    unnamed type %0 cannot be told from it by name). MIR_SYM_TYPE -> "%struct"/"%class"/"%union" by prefix
 *    ("struct." ...), else "%type"; MIR_SYM_UNKNOWN (or no callback) -> the prefix rule, else "%ID"; any
 *    other answer -> "%ID". In mir_normalize_type every %name is a type ("%0" -> "%type").
 *  - @name: classify is asked for every name (quoted names unescaped: \XX and \\). Kept names are written
 *    as printed (quoted ones with their quotes); "llvm.*" names lose trailing dot-components that parse as
 *    intrinsic type manglings (i32, f64, p0, p0i8, v4f32, nxv4i32, a10i8, f_...f, bf16, ...), keeping at
 *    least one component after "llvm.".
 *  - integers: -1..16 and 2^k (k <= 20) kept as written; else "<int+N>"/"<int-N>", N = digits as written.
 *  - floats: decimal literals are compared exactly (decimal digits, no rounding): 0.0, 1.0, -1.0, 0.5,
 *    2.0 in any spelling (1.000000e+00, 1.0, 20.0e-1) -> that canonical word; -0.0 is not 0.0 -> "<fp>".
 *    Hex 0x + exactly 16 hex digits is read as IEEE double bits and treated the same way; any other hex
 *    (0xH/0xK/0xL/0xM/0xR prefixes, other digit counts) -> "<fp>".
 *  - after the word "asm", the next two quoted strings (asm text, constraints) each become "<asm>";
 *    other bare strings ("workgroup" in syncscope(...)) are kept as written.
 *  - metadata: "!name" not directly followed by '(' is an attachment kind and is dropped with the metadata
 *    operand after it (!12, !{...}, !"...", !DIThing(...)); !12, !{...}, !"..." and !DIThing(...)
 *    elsewhere -> "!MD". "#N" is dropped; "; ..." up to the end of line is dropped.
 *  - typed pointers: "T*" -> "ptr", "T addrspace(N)*" -> "ptr addrspace ( N )" ("ptr" for N = 0).
 *  - mir_normalize_type keeps commas (as "," words) so that "{ i32, ptr }" joins to "{i32,ptr}".
 *    It returns the length written (<= cap-1), not the untruncated length.
 */
#include "normalize.h"

#include "mir_common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- character classes */

enum { C_SPACE = 1, C_DIGIT = 2, C_NAME = 4, C_HEX = 8, C_ALPHA = 16 };
static const unsigned char g_cls[256] = {
    [' '] = C_SPACE, ['\t'] = C_SPACE, ['\n'] = C_SPACE, ['\r'] = C_SPACE, ['\f'] = C_SPACE, ['\v'] = C_SPACE,
    ['0' ... '9'] = C_DIGIT | C_NAME | C_HEX,
    ['a' ... 'f'] = C_NAME | C_ALPHA | C_HEX, ['g' ... 'z'] = C_NAME | C_ALPHA,
    ['A' ... 'F'] = C_NAME | C_ALPHA | C_HEX, ['G' ... 'Z'] = C_NAME | C_ALPHA,
    ['_'] = C_NAME, ['.'] = C_NAME, ['$'] = C_NAME, ['-'] = C_NAME,
    [0x80 ... 0xff] = C_NAME,
};
#define IS(c, k) (g_cls[(unsigned char)(c)] & (k))

/* ---------------------------------------------------------------- word arena */

/* Output sink: a mir_words whose buffers may be borrowed (stack) storage, copied to the heap on growth. */
typedef struct sink {
    mir_words *w;
    int borrowed_text, borrowed_idx;
} sink;

static void sink_reserve_slow(sink *s, size_t text_extra) {
    mir_words *w = s->w;
    size_t need = w->text_bytes + text_extra;
    if (need > w->text_cap) {
        size_t c = w->text_cap ? w->text_cap : 256;
        while (c < need) c *= 2;
        if (s->borrowed_text) {
            char *p = mir_malloc(c);
            if (w->text_bytes) memcpy(p, w->text, w->text_bytes);
            w->text = p;
            s->borrowed_text = 0;
        } else {
            w->text = mir_realloc(w->text, c);
        }
        w->text_cap = c;
    }
    if (w->n + 1 > w->cap) {
        size_t c = w->cap ? w->cap * 2 : 64;
        if (s->borrowed_idx) {
            uint32_t *o = mir_malloc(c * sizeof *o), *l = mir_malloc(c * sizeof *l);
            if (w->n) {
                memcpy(o, w->off, w->n * sizeof *o);
                memcpy(l, w->len, w->n * sizeof *l);
            }
            w->off = o;
            w->len = l;
            s->borrowed_idx = 0;
        } else {
            w->off = mir_realloc(w->off, c * sizeof *w->off);
            w->len = mir_realloc(w->len, c * sizeof *w->len);
        }
        w->cap = c;
    }
}

static inline void sink_reserve(sink *s, size_t text_extra) {
    mir_words *w = s->w;
    if (w->text_bytes + text_extra > w->text_cap || w->n + 1 > w->cap) sink_reserve_slow(s, text_extra);
}

/* Room for a word of up to maxlen bytes; returns where to write it. */
static inline char *sink_begin(sink *s, size_t maxlen) {
    sink_reserve(s, maxlen + 1);
    return s->w->text + s->w->text_bytes;
}
static inline void sink_commit(sink *s, size_t len) {
    mir_words *w = s->w;
    w->text[w->text_bytes + len] = '\0';
    w->off[w->n] = (uint32_t)w->text_bytes;
    w->len[w->n] = (uint32_t)len;
    w->n++;
    w->text_bytes += len + 1;
    /* past the 32-bit offsets' reach the words go on being stored (memory stays sound) but are marked invalid */
    if (w->text_bytes > (w->max_bytes ? w->max_bytes : (size_t)UINT32_MAX)) w->overflow = 1;
}
static inline void sink_push(sink *s, const char *str, size_t len) {
    char *d = sink_begin(s, len);
    memcpy(d, str, len);
    sink_commit(s, len);
}
#define PUSH_LIT(s, lit) sink_push((s), (lit), sizeof(lit) - 1)

/* Drop words from index k on. */
static void sink_truncate(sink *s, size_t k) {
    mir_words *w = s->w;
    if (k >= w->n) return;
    w->text_bytes = w->off[k];
    w->n = k;
}

void mir_words_init(mir_words *w) { memset(w, 0, sizeof *w); }
void mir_words_clear(mir_words *w) {
    w->n = 0;
    w->text_bytes = 0;
    w->overflow = 0;
}
void mir_words_free(mir_words *w) {
    free(w->text);
    free(w->off);
    free(w->len);
    memset(w, 0, sizeof *w);
}
void mir_words_push(mir_words *w, const char *s, size_t len) {
    sink k = {w, 0, 0};
    sink_push(&k, s, len);
}

static inline int word_is(const mir_words *w, size_t i, const char *lit, size_t n) {
    return w->len[i] == n && memcmp(w->text + w->off[i], lit, n) == 0;
}
static inline int word_char(const mir_words *w, size_t i) { /* the byte of a 1-byte word, else 0 */
    return w->len[i] == 1 ? (unsigned char)w->text[w->off[i]] : 0;
}

/* ---------------------------------------------------------------- lexer state */

typedef struct lexer {
    sink *s;
    size_t base; /* first word of this statement */
    mir_sym_classify_fn classify;
    void *ctx;
    int type_mode;
    int asm_pending; /* quoted strings still to read as inline asm */
    size_t ptr_start, ptr_end; /* words [ptr_start, ptr_end) are the last "ptr [addrspace(N)]" made at a '*' */
} lexer;

/* Skip a balanced group starting at p[i] (an opener), honouring quoted strings; returns the index after it. */
static size_t skip_balanced(const char *p, size_t n, size_t i) {
    int depth = 0;
    while (i < n) {
        char c = p[i];
        if (c == '"') {
            const char *q = memchr(p + i + 1, '"', n - i - 1);
            i = q ? (size_t)(q - p) + 1 : n;
            continue;
        }
        if (c == '(' || c == '[' || c == '{') depth++;
        else if (c == ')' || c == ']' || c == '}') {
            if (--depth <= 0) return i + 1;
        }
        i++;
    }
    return n;
}

/* ---------------------------------------------------------------- typed pointers */

static int is_opener(int c) { return c == '(' || c == '[' || c == '{' || c == '<'; }
static int is_closer(int c) { return c == ')' || c == ']' || c == '}' || c == '>'; }

/* Index of the word that opens the group closed by word e (e itself if e is not a closer or unmatched). */
static size_t opener_of(const mir_words *w, size_t base, size_t e) {
    if (!is_closer(word_char(w, e))) return e;
    long depth = 0;
    for (size_t i = e + 1; i-- > base;) {
        int c = word_char(w, i);
        if (is_closer(c)) depth++;
        else if (is_opener(c) && --depth == 0) return i;
    }
    return e;
}

/* First word of the type that ends at word e: a word, a bracketed group, "T addrspace ( N )", or a
 * function type "R ( params )". */
static size_t type_start(const mir_words *w, size_t base, size_t e) {
    for (;;) {
        size_t u = opener_of(w, base, e);
        if (word_char(w, u) == '(' && u > base) {
            if (word_is(w, u - 1, "addrspace", 9) && u - 1 > base) e = u - 2;
            else e = u - 1;
            continue;
        }
        return u;
    }
}

static void lex_star(lexer *L) {
    sink *s = L->s;
    mir_words *w = s->w;
    if (w->n <= L->base) {
        PUSH_LIT(s, "*");
        return;
    }
    if (L->ptr_end == w->n && L->ptr_end > L->ptr_start) { /* "T**": pointer to the pointer just made */
        sink_truncate(s, L->ptr_start);
        PUSH_LIT(s, "ptr");
        L->ptr_end = w->n;
        return;
    }
    size_t e = w->n - 1;
    char as[64];
    size_t as_len = 0;
    int have_as = 0;
    size_t u = opener_of(w, L->base, e);
    if (word_char(w, u) == '(' && u > L->base + 1 && word_is(w, u - 1, "addrspace", 9)) {
        /* the pointer's own address space: keep the words between the parens (normally one number) */
        have_as = 1;
        for (size_t i = u + 1; i < e; i++) {
            size_t l = w->len[i];
            if (as_len + l + 1 > sizeof as) {
                have_as = 0; /* absurdly long: drop it */
                break;
            }
            memcpy(as + as_len, w->text + w->off[i], l + 1);
            as_len += l + 1;
        }
        if (have_as && as_len == 2 && as[0] == '0') have_as = 0; /* addrspace(0) is plain "ptr" */
        e = u - 2;
    }
    size_t start = type_start(w, L->base, e);
    sink_truncate(s, start);
    PUSH_LIT(s, "ptr");
    if (have_as) {
        PUSH_LIT(s, "addrspace");
        PUSH_LIT(s, "(");
        for (size_t k = 0; k < as_len;) {
            size_t l = strlen(as + k);
            sink_push(s, as + k, l);
            k += l + 1;
        }
        PUSH_LIT(s, ")");
    }
    L->ptr_start = start;
    L->ptr_end = w->n;
}

/* ---------------------------------------------------------------- numbers */

static const char *canon_double(double d) {
    if (d == 0.0) return signbit(d) ? NULL : "0.0";
    if (d == 1.0) return "1.0";
    if (d == -1.0) return "-1.0";
    if (d == 0.5) return "0.5";
    if (d == 2.0) return "2.0";
    return NULL;
}

/* Exact decimal test. neg: sign; m: mantissa bytes (digits and at most one '.'); exp: decimal exponent.
 * The value is 0.D x 10^E; it is one of the kept values only if it has a single significant digit D. */
static const char *canon_decimal(int neg, const char *m, size_t mlen, long exp) {
    size_t intlen = 0;
    while (intlen < mlen && m[intlen] != '.') intlen++;
    long E = (long)intlen + exp;
    int nonzero = 0;
    char D = 0;
    for (size_t i = 0; i < mlen; i++) {
        char c = m[i];
        if (c == '.') continue;
        if (c != '0') {
            if (++nonzero > 1) return NULL;
            D = c;
        } else if (!nonzero) {
            E--; /* a leading zero */
        }
    }
    if (!nonzero) return neg ? NULL : "0.0";
    if (D == '1' && E == 1) return neg ? "-1.0" : "1.0";
    if (!neg && D == '2' && E == 1) return "2.0";
    if (!neg && D == '5' && E == 0) return "0.5";
    return NULL;
}

static void push_int_bucket(sink *s, int neg, size_t ndigits) {
    char buf[40];
    size_t k = 0;
    memcpy(buf, neg ? "<int-" : "<int+", 5);
    k = 5;
    char tmp[24];
    size_t t = 0;
    do {
        tmp[t++] = (char)('0' + ndigits % 10);
        ndigits /= 10;
    } while (ndigits);
    while (t) buf[k++] = tmp[--t];
    buf[k++] = '>';
    sink_push(s, buf, k);
}

/* A lexeme starting with a digit (or a sign then a digit). Returns the index after it, or 0 if it runs
 * into name characters (then the caller lexes a bare word instead). */
static size_t lex_number(lexer *L, const char *p, size_t n, size_t i) {
    size_t j = i;
    int neg = 0, sign = 0;
    if (p[j] == '-' || p[j] == '+') {
        neg = p[j] == '-';
        sign = 1;
        j++;
    }
    if (j + 1 < n && p[j] == '0' && p[j + 1] == 'x') {
        size_t k = j + 2;
        int kind = 0;
        if (k < n && (p[k] == 'H' || p[k] == 'K' || p[k] == 'L' || p[k] == 'M' || p[k] == 'R')) kind = p[k++];
        size_t h0 = k;
        while (k < n && IS(p[k], C_HEX)) k++;
        if (k < n && IS(p[k], C_NAME)) return 0;
        const char *word = NULL;
        if (!kind && !sign && k - h0 == 16) {
            uint64_t bits = 0;
            for (size_t q = h0; q < k; q++) {
                char c = p[q];
                unsigned v = c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
                bits = bits << 4 | v;
            }
            double d;
            memcpy(&d, &bits, sizeof d);
            word = canon_double(d);
        }
        if (word) sink_push(L->s, word, strlen(word));
        else PUSH_LIT(L->s, "<fp>");
        return k;
    }
    size_t d0 = j;
    while (j < n && IS(p[j], C_DIGIT)) j++;
    size_t d1 = j;
    int isfloat = 0;
    size_t m_end = d1;
    if (j < n && p[j] == '.') {
        isfloat = 1;
        j++;
        while (j < n && IS(p[j], C_DIGIT)) j++;
        m_end = j;
    }
    long exp = 0;
    if (j < n && (p[j] == 'e' || p[j] == 'E')) {
        size_t k = j + 1;
        int eneg = 0;
        if (k < n && (p[k] == '+' || p[k] == '-')) eneg = p[k++] == '-';
        if (k < n && IS(p[k], C_DIGIT)) {
            isfloat = 1;
            while (k < n && IS(p[k], C_DIGIT)) {
                if (exp < 100000) exp = exp * 10 + (p[k] - '0');
                k++;
            }
            if (eneg) exp = -exp;
            j = k;
        }
    }
    if (j < n && IS(p[j], C_NAME)) return 0;
    if (isfloat) {
        const char *word = canon_decimal(neg, p + d0, m_end - d0, exp);
        if (word) sink_push(L->s, word, strlen(word));
        else PUSH_LIT(L->s, "<fp>");
        return j;
    }
    size_t nd = d1 - d0;
    int keep = 0;
    if (nd <= 7) {
        long v = 0;
        for (size_t q = d0; q < d1; q++) v = v * 10 + (p[q] - '0');
        if (neg) keep = v <= 1;
        else keep = v <= 16 || (v <= (1L << 20) && (v & (v - 1)) == 0);
    }
    if (keep) sink_push(L->s, p + i, j - i);
    else push_int_bucket(L->s, neg, nd);
    return j;
}

/* ---------------------------------------------------------------- symbols */

/* Length of one intrinsic type mangling at the start of s (0 if none). */
static size_t mangled_type_d(const char *s, size_t n, int depth);

static size_t mangled_digits(const char *s, size_t n, size_t k) {
    size_t d = k;
    while (d < n && s[d] >= '0' && s[d] <= '9') d++;
    return d - k;
}

static inline int starts_n(const char *s, size_t n, const char *lit, size_t l) {
    return n >= l && memcmp(s, lit, l) == 0;
}
#define starts(s, n, lit) starts_n((s), (n), (lit), sizeof(lit) - 1)

static size_t mangled_type_d(const char *s, size_t n, int depth) {
    if (depth > 16) return 0;
    static const char *const fixed[] = {"f128", "f16", "f32", "f64", "f80", "bf16", "ppcf128",
                                        "x86mmx", "x86amx", "isVoid", "Metadata"};
    if (n == 0) return 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (starts_n(s, n, fixed[i], strlen(fixed[i]))) return strlen(fixed[i]);
    size_t d;
    switch (s[0]) {
    case 'i':
        d = mangled_digits(s, n, 1);
        return d ? 1 + d : 0;
    case 'p': /* p<AS> (opaque) or p<AS><pointee> (typed) */
        d = mangled_digits(s, n, 1);
        if (!d) return 0;
        return 1 + d + mangled_type_d(s + 1 + d, n - 1 - d, depth + 1);
    case 'v':
    case 'a': {
        d = mangled_digits(s, n, 1);
        if (!d) return 0;
        size_t t = mangled_type_d(s + 1 + d, n - 1 - d, depth + 1);
        return t ? 1 + d + t : 0;
    }
    case 'n':
        if (!starts(s, n, "nxv")) return 0;
        d = mangled_digits(s, n, 3);
        if (!d) return 0;
        {
            size_t t = mangled_type_d(s + 3 + d, n - 3 - d, depth + 1);
            return t ? 3 + d + t : 0;
        }
    case 'f': /* f_<ret><params...>[vararg]f */
        if (!starts(s, n, "f_")) return 0;
        {
            size_t k = 2;
            for (;;) {
                if (k < n && s[k] == 'f') return k + 1;
                if (starts(s + k, n - k, "vararg")) {
                    k += 6;
                    continue;
                }
                size_t t = mangled_type_d(s + k, n - k, depth + 1);
                if (!t) return 0;
                k += t;
            }
        }
    default:
        return 0;
    }
}

/* Length of an intrinsic name without its type-mangling suffix. */
static size_t strip_intrinsic(const char *name, size_t len) {
    if (len <= 5 || memcmp(name, "llvm.", 5) != 0) return len;
    size_t minkeep = 5;
    while (minkeep < len && name[minkeep] != '.') minkeep++;
    size_t keep = len;
    while (keep > minkeep) {
        size_t dot = keep;
        while (dot > minkeep && name[dot - 1] != '.') dot--;
        if (dot <= minkeep) break; /* dot-1 would be before the first component's end */
        dot--;                     /* name[dot] == '.' */
        const char *comp = name + dot + 1;
        size_t clen = keep - dot - 1;
        if (clen == 0 || mangled_type_d(comp, clen, 0) != clen) break;
        keep = dot;
    }
    return keep;
}

static mir_sym_kind classify_name(lexer *L, char sigil, const char *raw, size_t len, int quoted) {
    if (!L->classify) return MIR_SYM_UNKNOWN;
    if (!quoted || !memchr(raw, '\\', len)) return L->classify(L->ctx, sigil, raw, len);
    char stackbuf[256] = {0};
    char *buf = len <= sizeof stackbuf ? stackbuf : mir_malloc(len);
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        if (raw[i] == '\\' && i + 1 < len && raw[i + 1] == '\\') {
            buf[k++] = '\\';
            i++;
        } else if (raw[i] == '\\' && i + 2 < len && IS(raw[i + 1], C_HEX) && IS(raw[i + 2], C_HEX)) {
            int v = 0;
            for (int q = 1; q <= 2; q++) {
                char c = raw[i + q];
                v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
            }
            buf[k++] = (char)v;
            i += 2;
        } else {
            buf[k++] = raw[i];
        }
    }
    mir_sym_kind r = L->classify(L->ctx, sigil, buf, k);
    if (buf != stackbuf) free(buf);
    return r;
}

static void push_type_name(sink *s, const char *name, size_t len) {
    if (starts(name, len, "struct.")) PUSH_LIT(s, "%struct");
    else if (starts(name, len, "class.")) PUSH_LIT(s, "%class");
    else if (starts(name, len, "union.")) PUSH_LIT(s, "%union");
    else PUSH_LIT(s, "%type");
}

/* %name or @name at p[i]. Returns the index after it. */
static size_t lex_symbol(lexer *L, const char *p, size_t n, size_t i) {
    char sigil = p[i];
    size_t j = i + 1, end;
    const char *name;
    size_t len;
    int quoted = 0;
    if (j < n && p[j] == '"') {
        const char *q = memchr(p + j + 1, '"', n - j - 1);
        size_t qe = q ? (size_t)(q - p) : n;
        name = p + j + 1;
        len = qe - j - 1;
        end = q ? qe + 1 : n;
        quoted = 1;
    } else {
        while (j < n && IS(p[j], C_NAME)) j++;
        if (j == i + 1) { /* a bare sigil */
            sink_push(L->s, p + i, 1);
            return i + 1;
        }
        name = p + i + 1;
        len = j - i - 1;
        end = j;
    }
    if (sigil == '%') {
        int numeric = !quoted;
        for (size_t k = 0; numeric && k < len; k++) numeric = IS(name[k], C_DIGIT) != 0;
        if (L->type_mode) {
            push_type_name(L->s, name, len);
        } else if (numeric) {
            PUSH_LIT(L->s, "%ID");
        } else {
            mir_sym_kind k = classify_name(L, '%', name, len, quoted);
            if (k == MIR_SYM_TYPE) push_type_name(L->s, name, len);
            else if (k == MIR_SYM_UNKNOWN && (starts(name, len, "struct.") || starts(name, len, "class.") ||
                                              starts(name, len, "union.")))
                push_type_name(L->s, name, len);
            else PUSH_LIT(L->s, "%ID");
        }
        return end;
    }
    mir_sym_kind k = classify_name(L, '@', name, len, quoted);
    if (k == MIR_SYM_DEFINED_FN) PUSH_LIT(L->s, "@FN");
    else if (k == MIR_SYM_GLOBAL_VAR) PUSH_LIT(L->s, "@GV");
    else if (quoted) sink_push(L->s, p + i, end - i);
    else sink_push(L->s, p + i, 1 + strip_intrinsic(name, len));
    return end;
}

/* ---------------------------------------------------------------- metadata */

/* Skip one metadata operand at p[i] == '!'. */
static size_t skip_md_operand(const char *p, size_t n, size_t i) {
    size_t j = i + 1;
    if (j >= n) return n;
    if (p[j] == '{') return skip_balanced(p, n, j);
    if (p[j] == '"') {
        const char *q = memchr(p + j + 1, '"', n - j - 1);
        return q ? (size_t)(q - p) + 1 : n;
    }
    while (j < n && IS(p[j], C_NAME)) j++;
    if (j < n && p[j] == '(') return skip_balanced(p, n, j);
    return j;
}

static size_t lex_bang(lexer *L, const char *p, size_t n, size_t i) {
    size_t j = i + 1;
    if (j < n && (IS(p[j], C_DIGIT) || p[j] == '{' || p[j] == '"')) {
        PUSH_LIT(L->s, "!MD");
        return skip_md_operand(p, n, i);
    }
    if (j < n && IS(p[j], C_NAME)) {
        while (j < n && IS(p[j], C_NAME)) j++;
        if (j < n && p[j] == '(') { /* !DIExpression(...) */
            PUSH_LIT(L->s, "!MD");
            return skip_balanced(p, n, j);
        }
        /* attachment "!kind !operand": drop both */
        size_t k = j;
        while (k < n && IS(p[k], C_SPACE)) k++;
        if (k < n && p[k] == '!') return skip_md_operand(p, n, k);
        return j;
    }
    sink_push(L->s, p + i, 1);
    return i + 1;
}

/* ---------------------------------------------------------------- the lexer */

static void lex(lexer *L, const char *p, size_t n) {
    sink *s = L->s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)p[i];
        if (IS(c, C_SPACE)) {
            i++;
            continue;
        }
        switch (c) {
        case ';': {
            const char *nl = memchr(p + i, '\n', n - i);
            i = nl ? (size_t)(nl - p) + 1 : n;
            continue;
        }
        case ',':
            if (L->type_mode) PUSH_LIT(s, ",");
            i++;
            continue;
        case '(':
        case ')':
        case '[':
        case ']':
        case '{':
        case '}':
        case '<':
        case '>':
        case '=':
            sink_push(s, p + i, 1);
            i++;
            continue;
        case '*':
            lex_star(L);
            i++;
            continue;
        case '%':
        case '@':
            i = lex_symbol(L, p, n, i);
            continue;
        case '!':
            i = lex_bang(L, p, n, i);
            continue;
        case '#':
            if (i + 1 < n && IS(p[i + 1], C_DIGIT)) {
                i++;
                while (i < n && IS(p[i], C_DIGIT)) i++;
            } else {
                PUSH_LIT(s, "#");
                i++;
            }
            continue;
        case '"': {
            const char *q = memchr(p + i + 1, '"', n - i - 1);
            size_t e = q ? (size_t)(q - p) + 1 : n;
            if (L->asm_pending > 0) {
                PUSH_LIT(s, "<asm>");
                L->asm_pending--;
            } else {
                sink_push(s, p + i, e - i);
            }
            i = e;
            continue;
        }
        case 'c':
            if (i + 1 < n && p[i + 1] == '"') {
                const char *q = memchr(p + i + 2, '"', n - i - 2);
                PUSH_LIT(s, "c\"<str>\"");
                i = q ? (size_t)(q - p) + 1 : n;
                continue;
            }
            break;
        case '.':
            if (i + 2 < n && p[i + 1] == '.' && p[i + 2] == '.') {
                PUSH_LIT(s, "...");
                i += 3;
                continue;
            }
            break;
        default:
            break;
        }
        if (IS(c, C_DIGIT) || ((c == '-' || c == '+') && i + 1 < n && IS(p[i + 1], C_DIGIT))) {
            size_t e = lex_number(L, p, n, i);
            if (e) {
                i = e;
                continue;
            }
        }
        if (IS(c, C_NAME)) {
            size_t j = i + 1;
            while (j < n && IS(p[j], C_NAME)) j++;
            sink_push(s, p + i, j - i);
            if (j - i == 3 && memcmp(p + i, "asm", 3) == 0) L->asm_pending = 2;
            i = j;
            continue;
        }
        sink_push(s, p + i, 1); /* any other byte: a word of its own */
        i++;
    }
}

size_t mir_normalize_statement(const char *line, size_t len, mir_sym_classify_fn classify, void *ctx,
                               mir_words *out) {
    sink s = {out, 0, 0};
    lexer L = {&s, out->n, classify, ctx, 0, 0, 0, 0};
    lex(&L, line, len);
    return out->n - L.base;
}

size_t mir_normalize_type(const char *type_text, size_t len, mir_sym_classify_fn classify, void *ctx, char *out,
                          size_t cap) {
    char text[1024];
    uint32_t off[128], lens[128];
    mir_words w = {text, 0, sizeof text, off, lens, 0, 128, 0, 0};
    sink s = {&w, 1, 1};
    lexer L = {&s, 0, classify, ctx, 1, 0, 0, 0};
    lex(&L, type_text, len);
    size_t k = 0;
    if (cap > 0) {
        for (size_t i = 0; i < w.n && k < cap - 1; i++) {
            size_t l = w.len[i];
            if (l > cap - 1 - k) l = cap - 1 - k;
            memcpy(out + k, w.text + w.off[i], l);
            k += l;
        }
        out[k] = '\0';
    }
    if (!s.borrowed_text) free(w.text);
    if (!s.borrowed_idx) {
        free(w.off);
        free(w.len);
    }
    return k;
}
