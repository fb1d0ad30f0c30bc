/* corpus_write.c: the collective corpus writer (see corpus.h): every rank writes its block of modules as one
 * slab of every dataset, rank 0 the vocabulary, all ranks the same root attributes. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corpus.h"
#include "h5util_mpi.h"

#ifndef MIR_VERSION_STRING
#define MIR_VERSION_STRING "0.0.0"
#endif

/* This rank's block [lo, hi) as the slabs of the datasets. */
typedef struct slabs {
    mir_corpus_totals mine, base, all;     /* this rank's tokens, nodes, edges; the ranks' before it; everyone's */
    int64_t nb, n_off;                      /* modules of the block; offsets written (nb, + 1 on the last rank) */
    int64_t *tok_off, *node_off, *edge_off; /* (n_off) */
    int32_t *status;                        /* (nb) */
    const char **errors;                    /* (nb) */
    uint64_t error_width, name_width;       /* fixed string widths, the same on every rank */
    int32_t *tokens, *node_text, *node_fn, *esrc, *edst, *epos;
    int8_t *node_kind, *edge_flow;
} slabs;

/* Where this rank's tokens, nodes and edges start: an exclusive scan of the blocks' sizes, and the totals. */
static void slab_bases(slabs *w, const mir_corpus_block *b, MPI_Comm comm) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    w->nb = b->hi - b->lo;
    for (int64_t i = 0; i < w->nb; i++) {
        w->mine.tokens += b->recs[i].n_tokens;
        w->mine.nodes += b->recs[i].n_nodes;
        w->mine.edges += b->recs[i].n_edges;
    }
    MPI_Exscan(&w->mine, &w->base, 3, MPI_INT64_T, MPI_SUM, comm);
    if (rank == 0) w->base = (mir_corpus_totals){0, 0, 0};
    MPI_Allreduce(&w->mine, &w->all, 3, MPI_INT64_T, MPI_SUM, comm);
}

/* The per-module columns of the block; the last rank also writes the closing offset. */
static void slab_modules(slabs *w, const mir_corpus_columns *cols, const mir_corpus_block *b, MPI_Comm comm) {
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    int last = rank == P - 1;
    const int64_t nb = w->nb;
    w->n_off = nb + (last ? 1 : 0);
    w->tok_off = mir_malloc((size_t)(w->n_off + 1) * 8);
    w->node_off = mir_malloc((size_t)(w->n_off + 1) * 8);
    w->edge_off = mir_malloc((size_t)(w->n_off + 1) * 8);
    w->status = mir_malloc((size_t)(nb + 1) * 4);
    w->errors = mir_malloc((size_t)(nb + 1) * sizeof *w->errors);
    int64_t t = w->base.tokens, nn = w->base.nodes, ne = w->base.edges;
    size_t err_width = 1;
    for (int64_t i = 0; i < nb; i++) {
        w->tok_off[i] = t;
        w->node_off[i] = nn;
        w->edge_off[i] = ne;
        t += b->recs[i].n_tokens;
        nn += b->recs[i].n_nodes;
        ne += b->recs[i].n_edges;
        w->status[i] = b->recs[i].status;
        w->errors[i] = b->recs[i].error ? b->recs[i].error : "";
        size_t l = strlen(w->errors[i]) + 1;
        if (l > err_width) err_width = l;
    }
    if (last) {
        w->tok_off[nb] = t;
        w->node_off[nb] = nn;
        w->edge_off[nb] = ne;
    }
    w->error_width = err_width;
    w->name_width = 1;
    for (int64_t i = 0; i < cols->n; i++)
        if (strlen(cols->names[i]) + 1 > w->name_width) w->name_width = strlen(cols->names[i]) + 1;
    MPI_Allreduce(MPI_IN_PLACE, &w->error_width, 1, MPI_UINT64_T, MPI_MAX, comm);
}

/* The block's tokens, nodes and edges, concatenated in module order. */
static void slab_arrays(slabs *w, const mir_corpus_block *b) {
    const mir_corpus_totals *m = &w->mine;
    w->tokens = mir_malloc((size_t)(m->tokens + 1) * 4);
    w->node_kind = mir_malloc((size_t)m->nodes + 1);
    w->edge_flow = mir_malloc((size_t)m->edges + 1);
    w->node_text = mir_malloc((size_t)(m->nodes + 1) * 4);
    w->node_fn = mir_malloc((size_t)(m->nodes + 1) * 4);
    w->esrc = mir_malloc((size_t)(m->edges + 1) * 4);
    w->edst = mir_malloc((size_t)(m->edges + 1) * 4);
    w->epos = mir_malloc((size_t)(m->edges + 1) * 4);
    int64_t ot = 0, on = 0, oe = 0;
    for (int64_t i = 0; i < w->nb; i++) {
        const mir_corpus_record *r = &b->recs[i];
        memcpy(w->tokens + ot, r->tokens, (size_t)r->n_tokens * 4);
        ot += r->n_tokens;
        for (int64_t j = 0; j < r->n_nodes; j++) {
            w->node_kind[on + j] = (int8_t)r->node_kind[j];
            w->node_text[on + j] = r->node_text[j];
            w->node_fn[on + j] = r->node_function[j];
        }
        on += r->n_nodes;
        for (int64_t j = 0; j < r->n_edges; j++) {
            w->esrc[oe + j] = r->edge_src[j];
            w->edst[oe + j] = r->edge_dst[j];
            w->edge_flow[oe + j] = (int8_t)r->edge_flow[j];
            w->epos[oe + j] = r->edge_position[j];
        }
        oe += r->n_edges;
    }
}

static void slabs_free(slabs *w) {
    free(w->tok_off);
    free(w->node_off);
    free(w->edge_off);
    free(w->status);
    free(w->errors);
    free(w->tokens);
    free(w->node_kind);
    free(w->edge_flow);
    free(w->node_text);
    free(w->node_fn);
    free(w->esrc);
    free(w->edst);
    free(w->epos);
}

#define W(call) \
    if (!rc) rc = (call)

/* /modules/...: hash and input size are known everywhere, each rank writes its block of them. */
static int write_modules(hid_t f, const slabs *w, const mir_corpus_columns *cols, int64_t lo, mir_error *err) {
    uint64_t M = (uint64_t)cols->n, l = (uint64_t)lo, cnt = (uint64_t)w->nb, no = (uint64_t)w->n_off;
    int rc = 0;
    W(mir_h5_write_strings(f, "/modules/name", M, l, cnt, (const char *const *)cols->names + lo, w->name_width, err));
    W(mir_h5_write_slab(f, "/modules/hash", H5T_NATIVE_UINT64, M, l, cnt, cols->hash + lo, err));
    W(mir_h5_write_slab(f, "/modules/bytes", H5T_NATIVE_INT64, M, l, cnt, cols->bytes + lo, err));
    W(mir_h5_write_slab(f, "/modules/status", H5T_NATIVE_INT32, M, l, cnt, w->status, err));
    W(mir_h5_write_slab(f, "/modules/duplicate_of", H5T_NATIVE_INT64, M, l, cnt, cols->duplicate_of + lo, err));
    W(mir_h5_write_slab(f, "/modules/source", H5T_NATIVE_INT64, M, l, cnt, cols->source + lo, err));
    W(mir_h5_write_strings(f, "/modules/error", M, l, cnt, w->errors, w->error_width, err));
    W(mir_h5_write_slab(f, "/modules/token_offset", H5T_NATIVE_INT64, M + 1, l, no, w->tok_off, err));
    W(mir_h5_write_slab(f, "/modules/node_offset", H5T_NATIVE_INT64, M + 1, l, no, w->node_off, err));
    W(mir_h5_write_slab(f, "/modules/edge_offset", H5T_NATIVE_INT64, M + 1, l, no, w->edge_off, err));
    return rc;
}

/* /tokens and /graph/...: each rank's slab at its base. */
static int write_arrays(hid_t f, const slabs *w, mir_error *err) {
    const uint64_t T = (uint64_t)w->all.tokens, t0 = (uint64_t)w->base.tokens, nt = (uint64_t)w->mine.tokens;
    const uint64_t N = (uint64_t)w->all.nodes, n0 = (uint64_t)w->base.nodes, nn = (uint64_t)w->mine.nodes;
    const uint64_t E = (uint64_t)w->all.edges, e0 = (uint64_t)w->base.edges, ne = (uint64_t)w->mine.edges;
    int rc = 0;
    W(mir_h5_write_slab(f, "/tokens", H5T_NATIVE_INT32, T, t0, nt, w->tokens, err));
    W(mir_h5_write_slab(f, "/graph/node_kind", H5T_NATIVE_INT8, N, n0, nn, w->node_kind, err));
    W(mir_h5_write_slab(f, "/graph/node_text", H5T_NATIVE_INT32, N, n0, nn, w->node_text, err));
    W(mir_h5_write_slab(f, "/graph/node_function", H5T_NATIVE_INT32, N, n0, nn, w->node_fn, err));
    W(mir_h5_write_slab(f, "/graph/edge_src", H5T_NATIVE_INT32, E, e0, ne, w->esrc, err));
    W(mir_h5_write_slab(f, "/graph/edge_dst", H5T_NATIVE_INT32, E, e0, ne, w->edst, err));
    W(mir_h5_write_slab(f, "/graph/edge_flow", H5T_NATIVE_INT8, E, e0, ne, w->edge_flow, err));
    W(mir_h5_write_slab(f, "/graph/edge_position", H5T_NATIVE_INT32, E, e0, ne, w->epos, err));
    return rc;
}

/* /vocab/token and /vocab/count: rank 0 writes them all. */
static int write_vocab(hid_t f, const mir_vocab *v, int rank, mir_error *err) {
    int32_t nv = mir_vocab_size(v);
    uint64_t vcount = rank == 0 ? (uint64_t)nv : 0;
    const char **vt = mir_malloc((size_t)nv * sizeof *vt);
    int64_t *vc = mir_malloc((size_t)nv * sizeof *vc);
    size_t vw = 1;
    for (int32_t i = 0; i < nv; i++) {
        vt[i] = mir_vocab_token(v, i);
        vc[i] = mir_vocab_count(v, i);
        if (strlen(vt[i]) + 1 > vw) vw = strlen(vt[i]) + 1;
    }
    int rc = 0;
    W(mir_h5_write_strings(f, "/vocab/token", (uint64_t)nv, 0, vcount, vt, vw, err));
    W(mir_h5_write_slab(f, "/vocab/count", H5T_NATIVE_INT64, (uint64_t)nv, 0, vcount, vc, err));
    free(vt);
    free(vc);
    return rc;
}

/* The root attributes (docs/formats.md), identical on every rank; created_at is rank 0's clock. */
static int write_root_attrs(hid_t f, const mir_corpus_attrs *a, const mir_corpus_totals *all, int64_t n_modules,
                            int32_t vocab_size, MPI_Comm comm, mir_error *err) {
    int nranks;
    MPI_Comm_size(comm, &nranks);
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    MPI_Bcast(when, sizeof when, MPI_CHAR, 0, comm);
    hid_t root = H5Gopen2(f, "/", H5P_DEFAULT);
    int rc = 0;
    W(mir_h5_attr_string(root, "format", MIR_CORPUS_FORMAT, err));
    W(mir_h5_attr_int64(root, "format_version", MIR_CORPUS_VERSION, err));
    W(mir_h5_attr_string(root, "tool_version", MIR_VERSION_STRING, err));
    W(mir_h5_attr_string(root, "llvm_version", a->llvm_version, err));
    W(mir_h5_attr_string(root, "options", a->options, err));
    W(mir_h5_attr_string(root, "vocab_source", a->vocab_source, err));
    W(mir_h5_attr_string(root, "created_at", when, err));
    W(mir_h5_attr_int64(root, "created_nranks", nranks, err));
    W(mir_h5_attr_int64(root, "n_modules", n_modules, err));
    W(mir_h5_attr_int64(root, "n_ok", a->n_ok, err));
    W(mir_h5_attr_int64(root, "n_failed", a->n_failed, err));
    W(mir_h5_attr_int64(root, "n_duplicates", a->n_duplicates, err));
    W(mir_h5_attr_int64(root, "n_tokens", all->tokens, err));
    W(mir_h5_attr_int64(root, "n_unk_tokens", a->n_unk, err));
    W(mir_h5_attr_double(root, "unk_rate", all->tokens ? (double)a->n_unk / (double)all->tokens : 0.0, err));
    W(mir_h5_attr_int64(root, "n_nodes", all->nodes, err));
    W(mir_h5_attr_int64(root, "n_edges", all->edges, err));
    W(mir_h5_attr_int64(root, "vocab_size", vocab_size, err));
    if (a->statement_sep) W(mir_h5_attr_int64(root, "statement_sep", 1, err));
    H5Gclose(root);
    return rc;
}

int mir_corpus_write(const char *path, MPI_Comm comm, const mir_corpus_columns *cols, const mir_corpus_block *b,
                     const mir_vocab *v, const mir_corpus_attrs *a, mir_corpus_totals *totals, mir_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    slabs w;
    memset(&w, 0, sizeof w);
    slab_bases(&w, b, comm);
    slab_modules(&w, cols, b, comm);
    slab_arrays(&w, b);
    *totals = w.all;
    int rc = 0;
    hid_t f = mir_h5_create(path, comm, err);
    if (f < 0) rc = -1;
    W(write_modules(f, &w, cols, b->lo, err));
    W(write_arrays(f, &w, err));
    W(write_vocab(f, v, rank, err));
    W(write_root_attrs(f, a, &w.all, cols->n, mir_vocab_size(v), comm, err));
    if (f >= 0 && H5Fclose(f) < 0 && !rc) rc = mir_fail(err, "%s: closing failed", path);
    slabs_free(&w);
    return rc;
}
#undef W
