/*
 * vectorize_source.c: the pure parts of the loop-vectorization study (see vectorize.h): families, program
 * selection, the pragma insertion (a small C statement parser), journal lines and the factor grid.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vectorize.h"

const char *const mir_vec_status_name[MIR_VEC_N_STATUS] = {"ok", "compile-failed", "run-failed", "timeout",
                                                           "no-result"};

void mir_vec_family(const char *name, char *out, size_t cap) {
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    size_t n = strcspn(base, "_.");
    if (n >= cap) n = cap - 1;
    memcpy(out, base, n);
    out[n] = '\0';
}

void mir_vec_base_family(const char *name, char *out, size_t cap) {
    mir_vec_family(name, out, cap);
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == 'n') out[--n] = '\0';
}

/* ---------------- selection ---------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void mir_vec_select(char *const *names, int n, int k, const char ***out, int *n_out) {
    char **sorted = mir_malloc((size_t)(n ? n : 1) * sizeof *sorted);
    if (n > 0) {
        memcpy(sorted, names, (size_t)n * sizeof *sorted);
        qsort(sorted, (size_t)n, sizeof *sorted, cmp_str);
    }
    /* families: runs of the same family in the sorted order are not contiguous ("s1_" < "s10_" < "s1n"...
     * is not an issue since '_' sorts after digits: group by family name explicitly) */
    char (*fam)[32] = mir_malloc((size_t)(n ? n : 1) * sizeof *fam);
    for (int i = 0; i < n; i++) mir_vec_family(sorted[i], fam[i], sizeof fam[i]);
    int *fam_of = mir_malloc((size_t)(n ? n : 1) * sizeof *fam_of), n_fam = 0;
    char (*fnames)[32] = mir_malloc((size_t)(n ? n : 1) * sizeof *fnames);
    for (int i = 0; i < n; i++) {
        int f = -1;
        for (int j = 0; j < n_fam; j++)
            if (!strcmp(fnames[j], fam[i])) { f = j; break; }
        if (f < 0) {
            f = n_fam++;
            memcpy(fnames[f], fam[i], sizeof fnames[f]);
        }
        fam_of[i] = f;
    }
    /* families in sorted order of their names */
    int *order = mir_malloc((size_t)(n_fam ? n_fam : 1) * sizeof *order);
    for (int j = 0; j < n_fam; j++) order[j] = j;
    for (int a = 1; a < n_fam; a++)
        for (int b = a; b > 0 && strcmp(fnames[order[b - 1]], fnames[order[b]]) > 0; b--) {
            int t = order[b];
            order[b] = order[b - 1];
            order[b - 1] = t;
        }
    /* members of each family (sorted) and the kept ones */
    int **mem = mir_calloc((size_t)(n_fam ? n_fam : 1), sizeof *mem), *m = mir_calloc((size_t)(n_fam ? n_fam : 1), sizeof *m);
    for (int j = 0; j < n_fam; j++) mem[j] = mir_malloc((size_t)n * sizeof **mem);
    for (int i = 0; i < n; i++) mem[fam_of[i]][m[fam_of[i]]++] = i;
    const char **res = mir_malloc((size_t)(n ? n : 1) * sizeof *res);
    int r = 0, kmax = 0;
    int *keep = mir_calloc((size_t)(n_fam ? n_fam : 1), sizeof *keep);
    for (int j = 0; j < n_fam; j++) {
        keep[j] = k <= 0 || k >= m[j] ? m[j] : k;
        if (keep[j] > kmax) kmax = keep[j];
    }
    for (int q = 0; q < kmax; q++)
        for (int jj = 0; jj < n_fam; jj++) {
            int j = order[jj];
            if (q >= keep[j]) continue;
            int idx = keep[j] == m[j] ? q : (int)((int64_t)q * m[j] / keep[j]);
            res[r++] = sorted[mem[j][idx]];
        }
    /* pointers into names, not into sorted (same strings) */
    *out = res;
    *n_out = r;
    for (int j = 0; j < n_fam; j++) free(mem[j]);
    free(keep); free(mem); free(m); free(order); free(fnames); free(fam_of); free(fam); free(sorted);
}

/* ---------------- a small C lexer and statement parser ---------------- */

enum { T_IDENT, T_PUNCT, T_OTHER };
typedef struct { int type; size_t off, len; char c; } tok;
typedef struct { tok *v; size_t n, cap; } toks;

static void push_tok(toks *t, int type, size_t off, size_t len, char c) {
    MIR_GROW(t->v, t->cap, t->n + 1);
    t->v[t->n++] = (tok){type, off, len, c};
}

/* Tokens of src, skipping comments, literals and preprocessor lines. -1 on an unterminated comment/literal. */
static int lex(const char *s, toks *t) {
    size_t i = 0;
    int line_start = 1; /* only blanks so far on this line */
    while (s[i]) {
        char c = s[i];
        if (c == '\n') { line_start = 1; i++; continue; }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') { i++; continue; }
        if (c == '\\' && s[i + 1] == '\n') { i += 2; continue; }
        if (c == '/' && s[i + 1] == '/') {
            while (s[i] && s[i] != '\n') i += s[i] == '\\' && s[i + 1] == '\n' ? 2 : 1;
            continue;
        }
        if (c == '/' && s[i + 1] == '*') {
            const char *e = strstr(s + i + 2, "*/");
            if (!e) return -1;
            i = (size_t)(e - s) + 2;
            continue;
        }
        if (c == '#' && line_start) { /* a directive, to its unescaped end of line (comments inside end it too) */
            while (s[i] && s[i] != '\n') {
                if (s[i] == '\\' && s[i + 1] == '\n') { i += 2; continue; }
                if (s[i] == '/' && s[i + 1] == '*') {
                    const char *e = strstr(s + i + 2, "*/");
                    if (!e) return -1;
                    i = (size_t)(e - s) + 2;
                    continue;
                }
                i++;
            }
            continue;
        }
        line_start = 0;
        if (c == '"' || c == '\'') {
            size_t j = i + 1;
            while (s[j] && s[j] != c && s[j] != '\n') j += s[j] == '\\' && s[j + 1] ? 2 : 1;
            if (s[j] != c) return -1;
            push_tok(t, T_OTHER, i, j + 1 - i, c);
            i = j + 1;
            continue;
        }
        if (isalpha((unsigned char)c) || c == '_') {
            size_t j = i;
            while (isalnum((unsigned char)s[j]) || s[j] == '_') j++;
            push_tok(t, T_IDENT, i, j - i, 0);
            i = j;
            continue;
        }
        if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)s[i + 1]))) {
            size_t j = i;
            while (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '.' ||
                   ((s[j] == '+' || s[j] == '-') && (s[j - 1] == 'e' || s[j - 1] == 'E' || s[j - 1] == 'p' || s[j - 1] == 'P')))
                j++;
            push_tok(t, T_OTHER, i, j - i, 0);
            i = j;
            continue;
        }
        push_tok(t, T_PUNCT, i, 1, c);
        i++;
    }
    return 0;
}

typedef struct {
    const char *s;
    const toks *t;
    size_t *loops;   /* token index of the keyword of each innermost loop */
    size_t n_loops, cap_loops;
    size_t n_seen;   /* loops of any depth seen so far */
    int bad;
} parser;

static int is_kw(const parser *p, size_t i, const char *kw) {
    if (i >= p->t->n || p->t->v[i].type != T_IDENT) return 0;
    size_t n = strlen(kw);
    return p->t->v[i].len == n && !memcmp(p->s + p->t->v[i].off, kw, n);
}
static int is_p(const parser *p, size_t i, char c) { return i < p->t->n && p->t->v[i].type == T_PUNCT && p->t->v[i].c == c; }

/* Index just past the bracket that matches the opening one at i ('(', '[' or '{'); sets bad if none. */
static size_t skip_group(parser *p, size_t i) {
    int depth = 0;
    for (; i < p->t->n; i++) {
        const tok *k = &p->t->v[i];
        if (k->type != T_PUNCT) continue;
        if (k->c == '(' || k->c == '[' || k->c == '{') depth++;
        else if (k->c == ')' || k->c == ']' || k->c == '}') {
            if (--depth == 0) return i + 1;
            if (depth < 0) break;
        }
    }
    p->bad = 1;
    return p->t->n;
}

static size_t parse_stmt(parser *p, size_t i);

/* A loop statement whose keyword is at i (for / while: header then body; do: body, while (...);). */
static size_t parse_loop(parser *p, size_t i) {
    size_t before = p->n_seen++, kw = i;
    if (is_kw(p, i, "do")) {
        i = parse_stmt(p, i + 1);
        if (!is_kw(p, i, "while") || !is_p(p, i + 1, '(')) { p->bad = 1; return p->t->n; }
        i = skip_group(p, i + 1);
        if (is_p(p, i, ';')) i++;
    } else {
        if (!is_p(p, i + 1, '(')) { p->bad = 1; return p->t->n; }
        i = parse_stmt(p, skip_group(p, i + 1));
    }
    if (p->n_seen == before + 1) { /* no loop inside: innermost */
        MIR_GROW(p->loops, p->cap_loops, p->n_loops + 1);
        p->loops[p->n_loops++] = kw;
    }
    return i;
}

static size_t parse_stmt(parser *p, size_t i) {
    if (p->bad || i >= p->t->n) { p->bad = 1; return p->t->n; }
    if (is_p(p, i, '{')) {
        i++;
        while (!p->bad && i < p->t->n && !is_p(p, i, '}')) i = parse_stmt(p, i);
        if (i >= p->t->n) { p->bad = 1; return i; }
        return i + 1;
    }
    if (is_p(p, i, ';')) return i + 1;
    if (is_kw(p, i, "for") || is_kw(p, i, "while") || is_kw(p, i, "do")) return parse_loop(p, i);
    if (is_kw(p, i, "if") || is_kw(p, i, "switch")) {
        int is_if = is_kw(p, i, "if");
        if (!is_p(p, i + 1, '(')) { p->bad = 1; return p->t->n; }
        i = parse_stmt(p, skip_group(p, i + 1));
        if (is_if && is_kw(p, i, "else")) i = parse_stmt(p, i + 1);
        return i;
    }
    if (is_kw(p, i, "else")) return parse_stmt(p, i + 1); /* stray else: be lenient */
    /* a label "x:" / "case ...:" / "default:" before a statement */
    if ((is_kw(p, i, "case") || is_kw(p, i, "default") || (p->t->v[i].type == T_IDENT && is_p(p, i + 1, ':') &&
                                                           !is_p(p, i + 2, ':')))) {
        size_t j = i;
        while (j < p->t->n && !is_p(p, j, ':') && !is_p(p, j, ';')) j++;
        if (is_p(p, j, ':')) return parse_stmt(p, j + 1);
    }
    /* an expression statement or a declaration, to its ';' at bracket depth 0 */
    while (i < p->t->n) {
        if (is_p(p, i, ';')) return i + 1;
        if (is_p(p, i, '(') || is_p(p, i, '[') || is_p(p, i, '{')) { i = skip_group(p, i); continue; }
        if (is_p(p, i, '}') || is_p(p, i, ')') || is_p(p, i, ']')) { p->bad = 1; return p->t->n; }
        i++;
    }
    p->bad = 1;
    return p->t->n;
}

/* Name token of the function whose body opens at token b ('{'), or (size_t)-1 when b opens no function body. */
static size_t function_name(const parser *p, size_t b) {
    size_t i = b;
    for (int guard = 0; guard < 8; guard++) {
        if (i == 0 || !is_p(p, i - 1, ')')) return (size_t)-1;
        /* matching '(' of the ')' at i - 1 */
        int depth = 0;
        size_t j = i - 1;
        for (;; j--) {
            if (is_p(p, j, ')')) depth++;
            else if (is_p(p, j, '(') && --depth == 0) break;
            if (j == 0) return (size_t)-1;
        }
        if (j == 0 || p->t->v[j - 1].type != T_IDENT) return (size_t)-1;
        if (is_kw(p, j - 1, "__attribute__") || is_kw(p, j - 1, "__declspec") || is_kw(p, j - 1, "asm") ||
            is_kw(p, j - 1, "__asm__")) {
            i = j - 1;
            continue;
        }
        if (is_kw(p, j - 1, "if") || is_kw(p, j - 1, "for") || is_kw(p, j - 1, "while") || is_kw(p, j - 1, "switch"))
            return (size_t)-1;
        return j - 1;
    }
    return (size_t)-1;
}

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int mir_vec_insert_pragma(const char *src, const char *name, int vf, int ifc, char **out, int *n_loops, int *line,
                          mir_error *err) {
    *out = NULL;
    *n_loops = 0;
    if (line) *line = 0;
    toks t = {0};
    if (lex(src, &t)) {
        free(t.v);
        return mir_fail(err, "%s: unterminated comment or literal", name);
    }
    parser p = {src, &t, NULL, 0, 0, 0, 0};
    int depth = 0;
    for (size_t i = 0; i < t.n && !p.bad; i++) {
        if (is_p(&p, i, '{')) {
            size_t fn = depth == 0 ? function_name(&p, i) : (size_t)-1;
            if (fn != (size_t)-1) {
                size_t before = p.n_loops;
                size_t end = parse_stmt(&p, i);
                if (is_kw(&p, fn, "main")) p.n_loops = before; /* the benchmark driver: not a kernel */
                if (p.bad) break;
                i = end - 1;
                continue;
            }
            depth++;
        } else if (is_p(&p, i, '}')) {
            if (--depth < 0) p.bad = 1;
        }
    }
    if (p.bad || depth != 0) {
        free(p.loops);
        free(t.v);
        return mir_fail(err, "%s: unbalanced brackets or a statement the loop finder cannot follow", name);
    }
    if (p.n_loops == 0) {
        free(p.loops);
        free(t.v);
        return mir_fail(err, "%s: no loop outside main()", name);
    }
    size_t *off = mir_malloc(p.n_loops * sizeof *off);
    for (size_t k = 0; k < p.n_loops; k++) off[k] = t.v[p.loops[k]].off;
    qsort(off, p.n_loops, sizeof *off, cmp_size);
    if (line) {
        int ln = 1;
        for (size_t i = 0; i < off[0]; i++) ln += src[i] == '\n';
        *line = ln;
    }
    size_t len = strlen(src);
    char pragma[128];
    int plen = vf > 0 ? snprintf(pragma, sizeof pragma, "#pragma clang loop vectorize_width(%d) interleave_count(%d)", vf,
                                 ifc > 0 ? ifc : 1)
                      : 0;
    size_t cap = len + 1 + p.n_loops * ((size_t)plen + 256);
    char *o = mir_malloc(cap), *w = o;
    size_t prev = 0;
    for (size_t k = 0; k < p.n_loops && vf > 0; k++) {
        size_t ls = off[k];
        while (ls > 0 && src[ls - 1] != '\n') ls--;
        int blank = 1;
        for (size_t i = ls; i < off[k]; i++)
            if (src[i] != ' ' && src[i] != '\t') blank = 0;
        size_t at = blank ? ls : off[k];
        if (at < prev) at = prev; /* two loops on one line: keep the order */
        memcpy(w, src + prev, at - prev);
        w += at - prev;
        if (blank) {
            size_t ind = off[k] - ls;
            if (ind > 200) ind = 200;
            memcpy(w, src + ls, ind);
            w += ind;
            memcpy(w, pragma, (size_t)plen);
            w += plen;
            *w++ = '\n';
        } else {
            *w++ = '\n';
            memcpy(w, pragma, (size_t)plen);
            w += plen;
            *w++ = '\n';
        }
        prev = at;
    }
    memcpy(w, src + prev, len - prev);
    w += len - prev;
    *w = '\0';
    *out = o;
    *n_loops = (int)p.n_loops;
    free(off);
    free(p.loops);
    free(t.v);
    return 0;
}

/* ---------------- journal lines ---------------- */

#define JOURNAL_TAG "mirvec1"

int mir_vec_result_format(const mir_vec_result *r, char *buf, size_t cap) {
    int n = snprintf(buf, cap,
                     JOURNAL_TAG ",%s,%d,%d,%d,%d,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.6g,%" PRIu32 ",%d,%d,%d,%d,%" PRId64
                                 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64,
                     r->program, r->kind, r->vf, r->ifc, r->status, r->repeats, r->best_s, r->mean_s, r->max_s,
                     r->loop_wall_s, r->wall_s, r->cpu_s, r->compile_s, r->digest, r->applied_vf, r->applied_if, r->pass_failed,
                     r->rank, r->unix_time, r->hw[0], r->hw[1], r->hw[2], r->hw[3]);
    if (n < 0 || (size_t)n + 20 >= cap) return -1;
    uint64_t h = mir_hash64(buf, (size_t)n);
    n += snprintf(buf + n, cap - (size_t)n, ",%016" PRIx64 "\n", h);
    return n;
}

int mir_vec_result_parse(const char *line, mir_vec_result *r) {
    size_t len = strcspn(line, "\n");
    if (len < 30 || len > 1000 || strncmp(line, JOURNAL_TAG ",", strlen(JOURNAL_TAG) + 1)) return -1;
    /* the checksum: the last field, 16 hex digits, over everything before its comma */
    if (line[len - 17] != ',') return -1;
    char hex[17];
    memcpy(hex, line + len - 16, 16);
    hex[16] = '\0';
    for (int i = 0; i < 16; i++)
        if (!isxdigit((unsigned char)hex[i])) return -1;
    if (strtoull(hex, NULL, 16) != mir_hash64(line, len - 17)) return -1;
    char buf[1024];
    memcpy(buf, line, len - 17);
    buf[len - 17] = '\0';
    memset(r, 0, sizeof *r);
    char *f[32];
    int nf = 0;
    for (char *s = buf, *c; nf < 32; s = c + 1) {
        f[nf++] = s;
        c = strchr(s, ',');
        if (!c) break;
        *c = '\0';
    }
    if (nf != 24) return -1;
    if (strlen(f[1]) >= MIR_VEC_NAME_MAX || !f[1][0]) return -1;
    snprintf(r->program, sizeof r->program, "%s", f[1]);
    r->kind = atoi(f[2]);
    r->vf = atoi(f[3]);
    r->ifc = atoi(f[4]);
    r->status = atoi(f[5]);
    r->repeats = atoi(f[6]);
    r->best_s = strtod(f[7], NULL);
    r->mean_s = strtod(f[8], NULL);
    r->max_s = strtod(f[9], NULL);
    r->loop_wall_s = strtod(f[10], NULL);
    r->wall_s = strtod(f[11], NULL);
    r->cpu_s = strtod(f[12], NULL);
    r->compile_s = strtod(f[13], NULL);
    r->digest = (uint32_t)strtoul(f[14], NULL, 10);
    r->applied_vf = atoi(f[15]);
    r->applied_if = atoi(f[16]);
    r->pass_failed = atoi(f[17]);
    r->rank = atoi(f[18]);
    r->unix_time = strtoll(f[19], NULL, 10);
    for (int k = 0; k < 4; k++) r->hw[k] = strtoll(f[20 + k], NULL, 10);
    if (r->kind < MIR_VEC_PRAGMA || r->kind > MIR_VEC_O3_AGAIN || r->status < 0 || r->status >= MIR_VEC_N_STATUS)
        return -1;
    return 0;
}

void mir_vec_journal_parse(const char *text, mir_vec_result **rows, size_t *n, size_t *cap, int *n_bad) {
    const char *s = text;
    while (*s) {
        const char *e = strchr(s, '\n');
        if (!e) { /* a torn last line: no newline */
            if (n_bad) (*n_bad)++;
            break;
        }
        if (e > s) {
            mir_vec_result r;
            if (mir_vec_result_parse(s, &r) == 0) {
                MIR_GROW(*rows, *cap, *n + 1);
                (*rows)[(*n)++] = r;
            } else if (n_bad) {
                (*n_bad)++;
            }
        }
        s = e + 1;
    }
}

int mir_vec_same_job(const mir_vec_result *a, const mir_vec_result *b) {
    return a->kind == b->kind && a->vf == b->vf && a->ifc == b->ifc && !strcmp(a->program, b->program);
}

typedef struct { const mir_vec_result *r; size_t i; } keyed;
static int cmp_keyed(const void *a, const void *b) {
    const keyed *x = a, *y = b;
    int c = strcmp(x->r->program, y->r->program);
    if (!c) c = x->r->kind - y->r->kind;
    if (!c) c = x->r->vf - y->r->vf;
    if (!c) c = x->r->ifc - y->r->ifc;
    if (!c) c = x->i < y->i ? -1 : x->i > y->i;
    return c;
}

size_t mir_vec_dedupe(mir_vec_result *rows, size_t n) {
    if (n < 2) return n;
    keyed *k = mir_malloc(n * sizeof *k);
    for (size_t i = 0; i < n; i++) k[i] = (keyed){&rows[i], i};
    qsort(k, n, sizeof *k, cmp_keyed);
    uint8_t *drop = mir_calloc(n, 1);
    for (size_t i = 1; i < n; i++)
        if (mir_vec_same_job(k[i].r, k[i - 1].r)) drop[k[i].i] = 1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!drop[i]) rows[m++] = rows[i];
    free(drop);
    free(k);
    return m;
}

/* ---------------- the grid ---------------- */

void mir_vec_grid(int vf_mask, int if_mask, int *vf, int *ifc, int *n) {
    *n = 0;
    for (int a = 0; a < MIR_VEC_N_VF; a++)
        for (int b = 0; b < MIR_VEC_N_IF; b++)
            if ((vf_mask >> a & 1) && (if_mask >> b & 1)) {
                vf[*n] = 1 << a;
                ifc[*n] = 1 << b;
                (*n)++;
            }
}

int mir_vec_parse_factors(const char *s, int max, int *mask) {
    *mask = 0;
    if (!s || !*s) return -1;
    for (const char *p = s; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > max || (v & (v - 1))) return -1;
        int k = 0;
        while ((1L << k) < v) k++;
        *mask |= 1 << k;
        p = end;
        if (*p == ',') p++;
        else if (*p) return -1;
    }
    return 0;
}
