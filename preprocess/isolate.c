/* isolate.c: extraction in a supervised worker or in-process (see isolate.h). */
#include "isolate.h"

#include <stdlib.h>
#include <string.h>

#include "probe.h"
#include "schema.h"

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

/* n elements of elem bytes from r into *dst (grown to *cap elements when short); -1 if r is short. */
static int take_into(mir_rbuf *r, uint64_t n, size_t elem, void **dst, size_t cap) {
    if (n > r->n / elem) return -1;
    const void *p = mir_rbuf_take(r, n * elem);
    if (!p) return -1;
    if (n > cap || !*dst) *dst = mir_realloc(*dst, n * elem + 1);
    memcpy(*dst, p, n * elem);
    return 0;
}

/* Into x, reusing its arrays (the caller keeps one extraction for all modules, as in-process). */
int mir_extract_unpack(mir_rbuf *r, mir_extract *x, mir_error *err) {
    uint64_t nf, ni, cut, nn, ne;
    mir_graph *g = &x->graph;
    g->n_nodes = g->n_edges = 0;
    if (mir_rbuf_get(r, &nf, 8) || mir_rbuf_get(r, &ni, 8) || mir_rbuf_get(r, &cut, 8) || unpack_words(r, &x->words) ||
        mir_rbuf_get(r, &nn, 8) || mir_rbuf_get(r, &ne, 8))
        return mir_fail(err, "malformed reply from the worker");
    x->n_functions = (int64_t)nf;
    x->n_instructions = (int64_t)ni;
    x->words_cut = (int)cut;
    size_t nc = g->node_cap, ec = g->edge_cap;
    int ok = !take_into(r, nn, 1, (void **)&g->node_kind, nc) && !take_into(r, nn, 4, (void **)&g->node_function, nc);
    if (ok && nn > g->node_cap) g->node_cap = nn;
    ok = ok && !unpack_words(r, &g->node_text) && g->node_text.n == nn;
    ok = ok && !take_into(r, ne, 4, (void **)&g->edge_src, ec) && !take_into(r, ne, 4, (void **)&g->edge_dst, ec) &&
         !take_into(r, ne, 1, (void **)&g->edge_flow, ec) && !take_into(r, ne, 4, (void **)&g->edge_position, ec);
    if (ok && ne > g->edge_cap) g->edge_cap = ne;
    for (uint64_t e = 0; ok && e < ne; e++)
        ok = (uint64_t)g->edge_src[e] < nn && (uint64_t)g->edge_dst[e] < nn;
    if (!ok || r->at != r->n) return mir_fail(err, "malformed reply from the worker");
    g->n_nodes = nn;
    g->n_edges = ne;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */

/* Parse and extract here. */
static int extract_here(const char *name, const char *data, size_t bytes, const mir_extract_options *xo,
                        mir_extract *x, const mir_extract_probe *probe, int phase_parse, int *status, mir_error *err) {
    struct mir_probe *p = probe ? probe->probe : NULL;
    if (p) mir_probe_begin(p, phase_parse);
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef m = NULL;
    int rc = mir_parse_ir(ctx, data, bytes, name, &m, err);
    if (p) mir_probe_end(p, phase_parse);
    if (rc) {
        *status = MIR_STATUS_PARSE_ERROR;
    } else {
        rc = mir_extract_module_opts(m, xo, x, probe, err);
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
    /* one extraction for the child's life, its arrays reused (fresh ones per module cost page faults) */
    static mir_extract x;
    static int ready;
    if (!ready) mir_extract_init(&x);
    ready = 1;
    int rc = extract_here(name, data, bytes, (const mir_extract_options *)arg, &x, NULL, 0, status, err);
    if (!rc) mir_extract_pack(&x, reply);
    return rc;
}

void mir_extract_submit(mir_worker *w, const char *name, const char *data, size_t bytes) {
    mir_worker_submit(w, name, data, bytes);
}

int mir_extract_collect(mir_worker *w, const char *name, mir_extract *x, const mir_extract_probe *probe,
                        int phase_parse, int *status, mir_error *err) {
    struct mir_probe *p = probe ? probe->probe : NULL;
    mir_wbuf *reply = mir_worker_reply_buffer(w);
    if (p) mir_probe_begin(p, phase_parse);
    int rc = mir_worker_collect(w, reply, status, err);
    if (p) mir_probe_end(p, phase_parse);
    if (rc == MIR_WORKER_OK) {
        mir_rbuf r = {reply->p, reply->n, 0};
        if (mir_extract_unpack(&r, x, err)) {
            mir_error_prefix(err, name);
            *status = MIR_STATUS_EXTRACT_ERROR;
            rc = MIR_WORKER_FAILED;
        }
    } else if (rc == MIR_WORKER_CRASHED) {
        *status = MIR_STATUS_CRASHED;
    }
    return rc == MIR_WORKER_OK ? 0 : -1;
}

int mir_extract_bytes(mir_worker *w, const char *name, const char *data, size_t bytes,
                      const mir_extract_options *xo, mir_extract *x, const mir_extract_probe *probe, int phase_parse,
                      int *status, mir_error *err) {
    *status = 0;
    if (!w) return extract_here(name, data, bytes, xo, x, probe, phase_parse, status, err);
    mir_extract_submit(w, name, data, bytes);
    return mir_extract_collect(w, name, x, probe, phase_parse, status, err);
}
