/* isolate.c: extraction in a supervised worker or in-process (see isolate.h). */
#include "isolate.h"

#include <stdlib.h>
#include <string.h>

#include "preprocess.h"
#include "probe.h"

/* ------------------------------------------------------------------------------------------------ */
/* wire format: counts as uint64, then arrays back to back; words as (n, lengths, text)              */

static void put_u64(mir_wbuf *b, uint64_t v) { mir_wbuf_put(b, &v, sizeof v); }

static void pack_words(const mir_words *w, mir_wbuf *b) {
    put_u64(b, w->n);
    put_u64(b, w->text_bytes);
    mir_wbuf_put(b, w->len, w->n * sizeof *w->len);
    mir_wbuf_put(b, w->text, w->text_bytes);
}

void mir_extract_pack(const mir_extract *x, mir_wbuf *b) {
    put_u64(b, (uint64_t)x->n_functions);
    put_u64(b, (uint64_t)x->n_instructions);
    put_u64(b, (uint64_t)x->words_cut);
    pack_words(&x->words, b);
    const mir_graph *g = &x->graph;
    put_u64(b, g->n_nodes);
    put_u64(b, g->n_edges);
    mir_wbuf_put(b, g->node_kind, g->n_nodes);
    mir_wbuf_put(b, g->node_function, g->n_nodes * sizeof(int32_t));
    pack_words(&g->node_text, b);
    mir_wbuf_put(b, g->edge_src, g->n_edges * sizeof(int32_t));
    mir_wbuf_put(b, g->edge_dst, g->n_edges * sizeof(int32_t));
    mir_wbuf_put(b, g->edge_flow, g->n_edges);
    mir_wbuf_put(b, g->edge_position, g->n_edges * sizeof(int32_t));
}

/* Words from (n, text bytes, lengths, text): each word is followed by its NUL in the text. */
static int unpack_words(mir_rbuf *r, mir_words *w) {
    uint64_t n, tb;
    if (mir_rbuf_get(r, &n, 8) || mir_rbuf_get(r, &tb, 8) || n > r->n / 4) return -1;
    const uint32_t *len = mir_rbuf_take(r, n * 4);
    const char *text = mir_rbuf_take(r, tb);
    if (!len || !text) return -1;
    mir_words_clear(w);
    uint64_t at = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t l;
        memcpy(&l, len + i, 4);
        if (at + l + 1 > tb) return -1;
        mir_words_push(w, text + at, l);
        at += (uint64_t)l + 1;
    }
    return at == tb ? 0 : -1;
}

static void *take_copy(mir_rbuf *r, uint64_t n, size_t elem) {
    if (n > r->n / elem) return NULL;
    const void *p = mir_rbuf_take(r, n * elem);
    if (!p) return NULL;
    void *out = mir_malloc(n * elem + 1);
    memcpy(out, p, n * elem);
    return out;
}

int mir_extract_unpack(mir_rbuf *r, mir_extract *x, mir_error *err) {
    uint64_t nf, ni, cut, nn, ne;
    mir_graph *g = &x->graph;
    mir_graph_free(g);
    mir_graph_init(g);
    if (mir_rbuf_get(r, &nf, 8) || mir_rbuf_get(r, &ni, 8) || mir_rbuf_get(r, &cut, 8) || unpack_words(r, &x->words) ||
        mir_rbuf_get(r, &nn, 8) || mir_rbuf_get(r, &ne, 8))
        return mir_fail(err, "malformed reply from the worker");
    x->n_functions = (int64_t)nf;
    x->n_instructions = (int64_t)ni;
    x->words_cut = (int)cut;
    g->node_kind = take_copy(r, nn, 1);
    g->node_function = g->node_kind ? take_copy(r, nn, 4) : NULL;
    int ok = g->node_function && !unpack_words(r, &g->node_text) && g->node_text.n == nn;
    if (ok) {
        g->n_nodes = g->node_cap = nn;
        g->edge_src = take_copy(r, ne, 4);
        g->edge_dst = g->edge_src ? take_copy(r, ne, 4) : NULL;
        g->edge_flow = g->edge_dst ? take_copy(r, ne, 1) : NULL;
        g->edge_position = g->edge_flow ? take_copy(r, ne, 4) : NULL;
        ok = g->edge_position != NULL;
        if (ok) g->n_edges = g->edge_cap = ne;
    }
    for (uint64_t e = 0; ok && e < ne; e++)
        ok = (uint64_t)g->edge_src[e] < nn && (uint64_t)g->edge_dst[e] < nn;
    if (!ok || r->at != r->n) return mir_fail(err, "malformed reply from the worker");
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */

/* Parse and extract here. */
static int extract_here(const char *name, const char *data, size_t bytes, int64_t max_words, mir_extract *x,
                        const mir_extract_probe *probe, int phase_parse, int *status, mir_error *err) {
    struct mir_probe *p = probe ? probe->probe : NULL;
    if (p) mir_probe_begin(p, phase_parse);
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = NULL;
    int rc = mir_parse_ir(ctx, data, bytes, name, &m, err);
    if (p) mir_probe_end(p, phase_parse);
    if (rc) {
        *status = MIR_STATUS_PARSE_ERROR;
    } else {
        rc = mir_extract_module_limited(m, max_words, x, probe, err);
        if (rc) {
            *status = MIR_STATUS_EXTRACT_ERROR;
            mir_error_prefix(err, name);
        }
        LLVMDisposeModule(m);
    }
    LLVMContextDispose(ctx);
    return rc;
}

int mir_extract_job(void *arg, const char *name, const char *data, size_t bytes, mir_wbuf *reply, int *status,
                    mir_error *err) {
    mir_extract x;
    mir_extract_init(&x);
    int rc = extract_here(name, data, bytes, *(const int64_t *)arg, &x, NULL, 0, status, err);
    if (!rc) mir_extract_pack(&x, reply);
    mir_extract_free(&x);
    return rc;
}

int mir_extract_bytes(mir_worker *w, const char *name, const char *data, size_t bytes, int64_t max_words,
                      mir_extract *x, const mir_extract_probe *probe, int phase_parse, int *status, mir_error *err) {
    *status = 0;
    if (!w) return extract_here(name, data, bytes, max_words, x, probe, phase_parse, status, err);
    struct mir_probe *p = probe ? probe->probe : NULL;
    mir_wbuf reply = {0};
    if (p) mir_probe_begin(p, phase_parse);
    int rc = mir_worker_call(w, name, data, bytes, &reply, status, err);
    if (p) mir_probe_end(p, phase_parse);
    if (rc == MIR_WORKER_OK) {
        mir_rbuf r = {reply.p, reply.n, 0};
        if (mir_extract_unpack(&r, x, err)) {
            mir_error_prefix(err, name);
            *status = MIR_STATUS_EXTRACT_ERROR;
            rc = MIR_WORKER_FAILED;
        }
    } else if (rc == MIR_WORKER_CRASHED) {
        *status = MIR_STATUS_CRASHED;
    }
    mir_wbuf_free(&reply);
    return rc == MIR_WORKER_OK ? 0 : -1;
}
