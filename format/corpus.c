/* corpus.c: the corpus reader (see corpus.h). */
#include "corpus.h"

#include <stdlib.h>
#include <string.h>

#include "h5util_mpi.h"

static int need(mir_corpus *c, const char *ds, int64_t expect, mir_error *err) {
    mir_error e;
    int64_t n = mir_h5_length(c->file, ds, &e);
    if (n < 0) return mir_fail(err, "%s: dataset %s missing: not a corpus written by mir-preprocess", c->path, ds);
    if (expect >= 0 && n != expect)
        return mir_fail(err, "%s: dataset %s has %lld entries, expected %lld", c->path, ds, (long long)n,
                        (long long)expect);
    return 0;
}

/* The root's format and version, and the number of modules with every dataset present at its length. */
static int check_layout(mir_corpus *c, mir_error *err) {
    char fmt[64] = "";
    int64_t version = 0;
    mir_error e;
    if (mir_h5_read_attr_string(c->file, "format", fmt, sizeof fmt, &e) || strcmp(fmt, MIR_CORPUS_FORMAT) != 0)
        return mir_fail(err, "%s: not a MIREncoder corpus (attribute format is \"%s\")", c->path, fmt);
    if (mir_h5_read_attr_int64(c->file, "format_version", &version, &e) || version != MIR_CORPUS_VERSION)
        return mir_fail(err, "%s: corpus format_version %lld; this tool reads version %d (re-run mir-preprocess)",
                        c->path, (long long)version, MIR_CORPUS_VERSION);
    int64_t n = mir_h5_length(c->file, "/modules/status", &e);
    if (n < 0)
        return mir_fail(err, "%s: dataset /modules/status missing: not a corpus written by mir-preprocess", c->path);
    c->n = n;
    if (need(c, "/modules/hash", n, err) || need(c, "/modules/token_offset", n + 1, err) ||
        need(c, "/modules/node_offset", n + 1, err) || need(c, "/modules/edge_offset", n + 1, err) ||
        need(c, "/tokens", -1, err) || need(c, "/graph/node_kind", -1, err) || need(c, "/graph/node_text", -1, err) ||
        need(c, "/graph/edge_src", -1, err) || need(c, "/graph/edge_dst", -1, err) ||
        need(c, "/graph/edge_flow", -1, err) || need(c, "/vocab/token", -1, err))
        return -1;
    return 0;
}

/* The per-module columns: status, hash, offsets, names. */
static int read_modules(mir_corpus *c, mir_error *err) {
    const int64_t n = c->n;
    c->status = mir_malloc((size_t)(n + 1) * sizeof *c->status);
    c->hash = mir_malloc((size_t)(n + 1) * sizeof *c->hash);
    c->source = mir_malloc((size_t)(n + 1) * sizeof *c->source);
    c->tok_off = mir_malloc((size_t)(n + 1) * sizeof(int64_t));
    c->node_off = mir_malloc((size_t)(n + 1) * sizeof(int64_t));
    c->edge_off = mir_malloc((size_t)(n + 1) * sizeof(int64_t));
    int64_t nn = 0;
    if (mir_h5_read_slab(c->file, "/modules/status", H5T_NATIVE_INT32, 0, (uint64_t)n, c->status, err) ||
        mir_h5_read_slab(c->file, "/modules/hash", H5T_NATIVE_UINT64, 0, (uint64_t)n, c->hash, err) ||
        mir_h5_read_slab(c->file, "/modules/token_offset", H5T_NATIVE_INT64, 0, (uint64_t)n + 1, c->tok_off, err) ||
        mir_h5_read_slab(c->file, "/modules/node_offset", H5T_NATIVE_INT64, 0, (uint64_t)n + 1, c->node_off, err) ||
        mir_h5_read_slab(c->file, "/modules/edge_offset", H5T_NATIVE_INT64, 0, (uint64_t)n + 1, c->edge_off, err) ||
        mir_h5_read_strings(c->file, "/modules/name", &c->names, &nn, err)) {
        mir_error_prefix(err, c->path);
        return -1;
    }
    return 0;
}

/* /modules/source is optional (corpora written before --opt-levels lack it): then every module is its own. */
static int read_sources(mir_corpus *c, mir_error *err) {
    const int64_t n = c->n;
    mir_error e;
    if (mir_h5_length(c->file, "/modules/source", &e) != n) {
        for (int64_t i = 0; i < n; i++) c->source[i] = i;
        return 0;
    }
    if (mir_h5_read_slab(c->file, "/modules/source", H5T_NATIVE_INT64, 0, (uint64_t)n, c->source, err)) {
        mir_error_prefix(err, c->path);
        return -1;
    }
    for (int64_t i = 0; i < n; i++)
        if (c->source[i] < 0 || c->source[i] > i)
            return mir_fail(err, "%s: /modules/source[%lld] = %lld is not a module at or before it (damaged corpus)",
                            c->path, (long long)i, (long long)c->source[i]);
    return 0;
}

/* The vocabulary (its counts when present), which must start with the special tokens. */
static int read_vocab(mir_corpus *c, mir_error *err) {
    int64_t nv = 0;
    mir_error e;
    if (mir_h5_read_strings(c->file, "/vocab/token", &c->vocab, &nv, err)) {
        mir_error_prefix(err, c->path);
        return -1;
    }
    c->vocab_size = (int32_t)nv;
    c->vocab_count = mir_calloc((size_t)nv + 1, sizeof *c->vocab_count);
    if (mir_h5_length(c->file, "/vocab/count", &e) == nv)
        mir_h5_read_slab(c->file, "/vocab/count", H5T_NATIVE_INT64, 0, (uint64_t)nv, c->vocab_count, &e);
    if (nv < MIR_TOK_NSPECIAL || strcmp(c->vocab[MIR_TOK_MASK], mir_special_tokens[MIR_TOK_MASK]) != 0)
        return mir_fail(err, "%s: /vocab/token lacks the special tokens", c->path);
    return 0;
}

/* statement_sep is optional (written only with --statement-sep); the offsets must be prefix sums. */
static int check_rest(mir_corpus *c, mir_error *err) {
    int64_t sep = 0;
    mir_error e;
    if (H5Aexists(c->file, "statement_sep") > 0 &&
        (mir_h5_read_attr_int64(c->file, "statement_sep", &sep, &e) || (sep != 0 && sep != 1)))
        return mir_fail(err, "%s: attribute statement_sep is not 0 or 1 (damaged corpus)", c->path);
    c->statement_sep = (int)sep;
    for (int64_t i = 0; i < c->n; i++)
        if (c->tok_off[i + 1] < c->tok_off[i] || c->node_off[i + 1] < c->node_off[i] ||
            c->edge_off[i + 1] < c->edge_off[i])
            return mir_fail(err, "%s: offsets of module %lld are not increasing (damaged corpus)", c->path,
                            (long long)i);
    return 0;
}

int mir_corpus_open(mir_corpus *c, const char *path, MPI_Comm comm, mir_error *err) {
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    mir_h5_quiet();
    c->file = mir_h5_open_read(path, comm, err);
    if (c->file < 0) return -1;
    if (check_layout(c, err) || read_modules(c, err) || read_sources(c, err) || read_vocab(c, err) ||
        check_rest(c, err)) {
        mir_corpus_close(c);
        return -1;
    }
    return 0;
}

int mir_is_corpus_file(const char *path) {
    size_t n = strlen(path);
    if (n < 3 || strcmp(path + n - 3, ".h5") != 0) return 0;
    mir_error e;
    hid_t f = mir_h5_open_serial(path, &e);
    if (f < 0) return 0;
    char fmt[64] = "";
    int yes = mir_h5_read_attr_string(f, "format", fmt, sizeof fmt, &e) == 0 && !strcmp(fmt, MIR_CORPUS_FORMAT);
    H5Fclose(f);
    return yes;
}

int mir_corpus_check_config(const mir_corpus *c, const mir_config *cfg, mir_error *err) {
    if (cfg->statements && !c->statement_sep)
        return mir_fail(err, "%s: no statement boundaries (written without mir-preprocess --statement-sep), but the "
                        "model's configuration has statements = 1, whose positions are statements ended by [SEP]: "
                        "make the corpus with --statement-sep", c->path);
    if (!cfg->statements && c->statement_sep)
        return mir_fail(err, "%s: written with mir-preprocess --statement-sep, but the model's configuration has "
                        "statements = 0, which would read its [SEP] tokens as words: give statements = 1 or a "
                        "corpus made without --statement-sep", c->path);
    return 0;
}

void mir_corpus_close(mir_corpus *c) {
    if (c->file > 0) H5Fclose(c->file);
    mir_h5_free_strings(c->names, c->n);
    mir_h5_free_strings(c->vocab, c->vocab_size);
    free(c->status);
    free(c->hash);
    free(c->source);
    free(c->tok_off);
    free(c->node_off);
    free(c->edge_off);
    free(c->vocab_count);
    memset(c, 0, sizeof *c);
}

void mir_module_buf_free(mir_module_buf *b) {
    free(b->tokens);
    free(b->node_kind);
    free(b->node_text);
    free(b->edge_src);
    free(b->edge_dst);
    free(b->edge_flow);
    memset(b, 0, sizeof *b);
}

#define RESERVE(ptr, cap, n)                                     \
    do {                                                         \
        if ((size_t)(n) + 1 > (cap)) {                           \
            (cap) = (size_t)(n) + 1;                             \
            (ptr) = mir_realloc((ptr), (cap) * sizeof *(ptr));   \
        }                                                        \
    } while (0)

int mir_corpus_read_module(mir_corpus *c, int64_t i, int64_t tok_first, int64_t tok_max, mir_module_buf *b,
                           mir_module_view *v, mir_error *err) {
    if (i < 0 || i >= c->n) return mir_fail(err, "%s: module %lld out of range", c->path, (long long)i);
    int64_t nt = c->tok_off[i + 1] - c->tok_off[i];
    if (tok_first < 0) tok_first = 0;
    if (tok_first > nt) tok_first = nt;
    int64_t take = nt - tok_first;
    if (tok_max >= 0 && take > tok_max) take = tok_max;
    int64_t nn = c->node_off[i + 1] - c->node_off[i], ne = c->edge_off[i + 1] - c->edge_off[i];
    RESERVE(b->tokens, b->cap_tok, take);
    size_t cap = b->cap_node;
    RESERVE(b->node_kind, cap, nn);
    cap = b->cap_node;
    RESERVE(b->node_text, cap, nn);
    b->cap_node = cap;
    cap = b->cap_edge;
    RESERVE(b->edge_src, cap, ne);
    cap = b->cap_edge;
    RESERVE(b->edge_dst, cap, ne);
    cap = b->cap_edge;
    RESERVE(b->edge_flow, cap, ne);
    b->cap_edge = cap;
    uint64_t t0 = (uint64_t)(c->tok_off[i] + tok_first), n0 = (uint64_t)c->node_off[i], e0 = (uint64_t)c->edge_off[i];
    if (mir_h5_read_slab(c->file, "/tokens", H5T_NATIVE_INT32, t0, (uint64_t)take, b->tokens, err) ||
        mir_h5_read_slab(c->file, "/graph/node_kind", H5T_NATIVE_INT8, n0, (uint64_t)nn, b->node_kind, err) ||
        mir_h5_read_slab(c->file, "/graph/node_text", H5T_NATIVE_INT32, n0, (uint64_t)nn, b->node_text, err) ||
        mir_h5_read_slab(c->file, "/graph/edge_src", H5T_NATIVE_INT32, e0, (uint64_t)ne, b->edge_src, err) ||
        mir_h5_read_slab(c->file, "/graph/edge_dst", H5T_NATIVE_INT32, e0, (uint64_t)ne, b->edge_dst, err) ||
        mir_h5_read_slab(c->file, "/graph/edge_flow", H5T_NATIVE_INT8, e0, (uint64_t)ne, b->edge_flow, err)) {
        mir_error_prefix(err, c->path);
        return -1;
    }
    *v = (mir_module_view){b->tokens, take, b->node_kind, b->node_text, nn,
                           b->edge_src, b->edge_dst, b->edge_flow, ne, c->source[i]};
    return 0;
}
