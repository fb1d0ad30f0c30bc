/* embed.c: model loading and the embedding of one module (see embed.h and include/mir/mir.h). */
#include "embed.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "irmodule.h"
#include "mir_common.h"
#include "model_file.h"
#include "schema.h"
#include "statements.h"

/* Working memory (a forward pass's activation arena) kept for reuse: a fresh arena per call costs more
 * in page faults than the tokens' matrix products (docs/performance.md). Arenas above POOL_KEEP_BYTES
 * (a huge graph's) are freed rather than kept. */
enum { POOL_MAX = 16 };
#define POOL_KEEP_BYTES ((size_t)512 << 20)

struct mir_model {
    mir_config cfg;
    mir_vocab *vocab;
    mir_model_f32 net;   /* parameters; activations are per call (shallow copies) */
    char hash[32];
    mir_embed_options opts;
    int n_stat_cols;               /* MIR_READOUT_STATS: the vocabulary ids of the opcodes the head reads out */
    int32_t stat_col[MIR_OPCODE_MAX + 1];
    const char *stat_name[MIR_OPCODE_MAX + 1];
    pthread_mutex_t lock; /* guards the pool */
    void *pool[POOL_MAX];
    int n_pool;
};

/* The statistics readout's columns: every LLVM opcode whose name (the text of its instruction nodes,
 * irmodule.c) is a word of the vocabulary, in opcode order; none without a statistics head. */
static void find_stat_columns(mir_model *m) {
    m->n_stat_cols = 0;
    if (!m->cfg.stats) return;
    for (int op = 0; op <= MIR_OPCODE_MAX; op++) {
        const char *name = mir_opcode_name((LLVMOpcode)op);
        if (!strcmp(name, "unknown")) continue;
        int32_t id = mir_vocab_lookup(m->vocab, name, strlen(name));
        int dup = 0;
        for (int k = 0; k < m->n_stat_cols; k++) dup |= m->stat_col[k] == id;
        if (id < 0 || dup) continue;
        m->stat_col[m->n_stat_cols] = id;
        m->stat_name[m->n_stat_cols++] = name;
    }
}

int mir_model_stat_columns(const mir_model *m) { return m->n_stat_cols; }
const char *mir_model_stat_column_name(const mir_model *m, int k) {
    return k >= 0 && k < m->n_stat_cols ? m->stat_name[k] : NULL;
}

mir_model *mir_model_load(const char *path, mir_error *err) {
    mir_model *m = mir_calloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    if (mir_checkpoint_read_config(path, &m->cfg, NULL, err)) goto fail;
    /* limits, tensors and vocabulary checked before anything is allocated (model_file.h); the check reads the
     * eight sizes only, so the switches read above (stats, contrastive, statements) are kept: a statement-level
     * model must read statements */
    mir_config sizes;
    if (mir_model_file_check(path, &sizes, err)) goto fail;
    char msg[256];
    if (mir_config_check(&m->cfg, msg, sizeof msg)) {
        mir_fail(err, "%s: invalid configuration: %s", path, msg);
        goto fail;
    }
    m->vocab = mir_vocab_load(path, err);
    if (!m->vocab) goto fail;
    if (mir_vocab_size(m->vocab) != m->cfg.vocab_size) {
        mir_fail(err, "%s: vocabulary has %d tokens, configuration says %d", path, mir_vocab_size(m->vocab),
                 m->cfg.vocab_size);
        goto fail;
    }
    if (mir_model_create_f32(&m->net, &m->cfg)) {
        mir_fail(err, "%s: cannot create the model", path);
        goto fail;
    }
    free(m->net.grads); /* inference needs no gradients */
    m->net.grads = NULL;
    if (mir_checkpoint_load(path, &m->cfg, m->net.params, NULL, NULL, err)) goto fail;
    if (mir_model_params_check(path, &m->cfg, m->net.params, err)) goto fail;
    snprintf(m->hash, sizeof m->hash, "%016llx", (unsigned long long)mir_params_hash(m->net.params, m->net.n_params));
    find_stat_columns(m);
    return m;
fail:
    mir_model_free(m);
    return NULL;
}

void mir_model_free(mir_model *m) {
    if (!m) return;
    if (m->vocab) mir_vocab_free(m->vocab);
    for (int i = 0; i < m->n_pool; i++) {
        mir_model_f32 tmp = m->net;
        tmp.acts = m->pool[i];
        mir_model_release_acts_f32(&tmp);
    }
    if (m->net.params) mir_model_free_f32(&m->net);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

mir_embed_options mir_embed_options_fast(const mir_model *m) {
    /* the readout is not a reading mode: the model's is kept */
    return (mir_embed_options){1, m->cfg.max_nodes, m->cfg.max_seq < MIR_FAST_WINDOW ? 0 : MIR_FAST_WINDOW,
                               m->opts.readout};
}

int mir_model_set_options(mir_model *m, const mir_embed_options *o, mir_error *err) {
    if (o->max_windows < 0) return mir_fail(err, "max_windows must be 0 (all) or positive, not %d", o->max_windows);
    if (o->max_nodes < 0 || o->max_nodes > MIR_INFER_MAX_NODES)
        return mir_fail(err, "max_nodes must be 0 (%d) or between 1 and %d, not %d", MIR_INFER_MAX_NODES,
                        MIR_INFER_MAX_NODES, o->max_nodes);
    if (o->window < 0 || o->window > m->cfg.max_seq)
        return mir_fail(err, "window must be 0 (the model's %d %s) or between 1 and %d, not %d", m->cfg.max_seq,
                        m->cfg.statements ? "statements" : "tokens", m->cfg.max_seq, o->window);
    if (o->readout < MIR_READOUT_EMBEDDING || o->readout > MIR_READOUT_STATS_ONLY)
        return mir_fail(err, "readout must be %d (embedding), %d (embedding and statistics) or %d (statistics), not %d",
                        MIR_READOUT_EMBEDDING, MIR_READOUT_STATS, MIR_READOUT_STATS_ONLY, o->readout);
    if (o->readout != MIR_READOUT_EMBEDDING && m->n_stat_cols == 0)
        return mir_fail(err, "the statistics readout needs a model pre-trained with statistics auto-encoding "
                             "(configuration stats = 1 or 2); this one has no statistics head");
    m->opts = *o;
    return 0;
}

mir_embed_options mir_model_options(const mir_model *m) { return m->opts; }

static void *pool_take(mir_model *m) {
    void *a = NULL;
    pthread_mutex_lock(&m->lock);
    if (m->n_pool > 0) a = m->pool[--m->n_pool];
    pthread_mutex_unlock(&m->lock);
    return a;
}

static void pool_give(mir_model *m, mir_model_f32 *net) {
    if (mir_model_acts_bytes_f32(net) <= POOL_KEEP_BYTES) {
        pthread_mutex_lock(&m->lock);
        if (m->n_pool < POOL_MAX) {
            m->pool[m->n_pool++] = net->acts;
            net->acts = NULL;
        }
        pthread_mutex_unlock(&m->lock);
    }
    mir_model_release_acts_f32(net);
}

size_t mir_embedding_dim(const mir_model *m) {
    const size_t C2 = (size_t)(2 * m->cfg.d_model), S = (size_t)m->n_stat_cols;
    return m->opts.readout == MIR_READOUT_STATS ? C2 + S : m->opts.readout == MIR_READOUT_STATS_ONLY ? S : C2;
}
const char *mir_model_hash(const mir_model *m) { return m->hash; }
const mir_config *mir_model_config(const mir_model *m) { return &m->cfg; }
const mir_vocab *mir_model_vocab(const mir_model *m) { return m->vocab; }

/* ------------------------------------------------------------------------------------------------ */

void mir_encoded_free(mir_encoded *e) {
    free(e->tokens);
    free(e->node_kind);
    free(e->node_text);
    free(e->edge_src);
    free(e->edge_dst);
    free(e->edge_flow);
    memset(e, 0, sizeof *e);
}

mir_module_view mir_encoded_view(const mir_encoded *e) {
    return (mir_module_view){e->tokens, e->n_tokens, e->node_kind, e->node_text, e->n_nodes,
                             e->edge_src, e->edge_dst, e->edge_flow, e->n_edges, -1};
}

void mir_encode_extract(const mir_vocab *v, const mir_extract *xp, mir_encoded *out) {
    const mir_extract *x = xp;
    memset(out, 0, sizeof *out);
    /* tokens: each word through the vocabulary, as mir-preprocess --vocab encodes */
    size_t cap = x->words.n + 16, n = 0;
    out->tokens = mir_malloc(cap * sizeof *out->tokens);
    for (size_t i = 0; i < x->words.n; i++) {
        int32_t tmp[64];
        const char *w = mir_words_get(&x->words, i);
        /* a statement separator is [SEP] itself, never pieces (as mir-preprocess --statement-sep writes it) */
        size_t need = mir_is_sep_word(w, x->words.len[i]) ? (tmp[0] = MIR_TOK_SEP, 1)
                                                          : mir_vocab_encode_word(v, w, x->words.len[i], tmp, 64);
        if (n + need > cap) {
            while (n + need > cap) cap *= 2;
            out->tokens = mir_realloc(out->tokens, cap * sizeof *out->tokens);
        }
        if (need <= 64) memcpy(out->tokens + n, tmp, need * sizeof *tmp);
        else mir_vocab_encode_word(v, w, x->words.len[i], out->tokens + n, need);
        for (size_t k = 0; k < need; k++) out->n_unk += out->tokens[n + k] == MIR_TOK_UNK;
        n += need;
    }
    out->n_tokens = (int64_t)n;
    const mir_graph *g = &x->graph;
    out->n_nodes = (int64_t)g->n_nodes;
    out->n_edges = (int64_t)g->n_edges;
    out->node_kind = mir_malloc(g->n_nodes + 1);
    out->node_text = mir_malloc((g->n_nodes + 1) * sizeof(int32_t));
    memcpy(out->node_kind, g->node_kind, g->n_nodes);
    for (size_t i = 0; i < g->n_nodes; i++)
        out->node_text[i] = mir_vocab_word_id(v, mir_words_get(&g->node_text, i), g->node_text.len[i]);
    out->edge_src = mir_malloc((g->n_edges + 1) * sizeof(int32_t));
    out->edge_dst = mir_malloc((g->n_edges + 1) * sizeof(int32_t));
    out->edge_flow = mir_malloc(g->n_edges + 1);
    memcpy(out->edge_src, g->edge_src, g->n_edges * sizeof(int32_t));
    memcpy(out->edge_dst, g->edge_dst, g->n_edges * sizeof(int32_t));
    memcpy(out->edge_flow, g->edge_flow, g->n_edges);
}

int mir_encode_module_opts(const mir_vocab *v, LLVMModuleRef mod, const mir_extract_options *xo, mir_encoded *out,
                           mir_error *err) {
    memset(out, 0, sizeof *out);
    mir_extract x;
    mir_extract_init(&x);
    int rc = mir_extract_module_opts(mod, xo, &x, NULL, err);
    if (!rc) mir_encode_extract(v, &x, out);
    mir_extract_free(&x);
    return rc;
}

int mir_encode_module(const mir_vocab *v, LLVMModuleRef mod, int64_t max_words, mir_encoded *out, mir_error *err) {
    mir_extract_options xo = {.max_words = max_words};
    return mir_encode_module_opts(v, mod, &xo, out, err);
}

/* ------------------------------------------------------------------------------------------------ */

enum { WINDOWS_PER_BATCH = 8 };

/* One window read is window 0 (mir_embed_window_index(0, 1, n) == 0) of min(n_tokens, T) tokens, and u is
 * its pooled state alone: T tokens (so T non-empty words) are all mir_embed_view uses of the tokens. */
int64_t mir_embed_word_limit(const mir_model *m) {
    if (m->opts.max_windows != 1 || m->cfg.statements) return 0;
    return m->opts.window ? m->opts.window : m->cfg.max_seq;
}

/* For a statement-level model, one window read is statements [0, T) of window 0: the first T statements
 * (with their [SEP]s) are all mir_embed_view uses, the limited extraction's exact prefix. */
mir_extract_options mir_embed_extract_options(const mir_model *m) {
    mir_extract_options xo = {.max_words = mir_embed_word_limit(m), .statement_sep = m->cfg.statements != 0};
    if (m->cfg.statements && m->opts.max_windows == 1)
        xo.max_statements = m->opts.window ? m->opts.window : m->cfg.max_seq;
    return xo;
}

/* The windows read (embed.h): all, or K spread evenly: window j of K is floor(j (n - 1) / (K - 1)). */
int64_t mir_embed_window_index(int64_t j, int64_t k, int64_t n) {
    if (k >= n) return j;
    return k == 1 ? 0 : j * (n - 1) / (k - 1);
}

/* MIR_READOUT_STATS: out[2C + k] = b_stat[t] + sum_j out[j] w_stat[j, t] for the k-th opcode's text t (the
 * statistics head of model.h applied to the module's embedding [u, v]). */
static void stat_readout(const mir_model *m, float *out) {
    const int C2 = 2 * m->cfg.d_model, V = m->cfg.vocab_size;
    for (int k = 0; k < m->n_stat_cols; k++) {
        const int32_t t = m->stat_col[k];
        double s = m->net.p.b_stat[t];
        for (int j = 0; j < C2; j++) s += (double)out[j] * (double)m->net.p.w_stat[(size_t)j * V + t];
        out[C2 + k] = (float)s;
    }
}

/* [u, v] of a module view into out (2C floats). */
static void embed_view(const mir_model *mc, const mir_module_view *v, float *out) {
    /* the pool is the only state a call changes; it has its own lock (mir.h: a loaded model is read-only) */
    mir_model *m = (mir_model *)mc;
    const int C = m->cfg.d_model, T = m->opts.window ? m->opts.window : m->cfg.max_seq;
    mir_config cfg = m->cfg;
    cfg.max_seq = T;
    cfg.max_nodes = m->opts.max_nodes ? m->opts.max_nodes : MIR_INFER_MAX_NODES;
    mir_model_f32 net = m->net; /* shallow copy: shared parameters, own activations */
    net.acts = pool_take(m);
    mir_batch b;
    mir_batch_init(&b);
    mir_batch_options bo = {0.0f, 0, 0}; /* no masking, no pairs, windows from the start */
    mir_rng rng;
    mir_rng_seed(&rng, 0, 0);
    float *tmp = mir_malloc((size_t)WINDOWS_PER_BATCH * 2 * C * sizeof *tmp);
    double *u = mir_calloc((size_t)C, sizeof *u);
    /* tokens, window by window; the units (window length, weights) are statements for a statement-level model */
    int64_t *starts = NULL, n_units = v->n_tokens;
    if (m->cfg.statements) {
        n_units = mir_statement_starts(v->tokens, v->n_tokens, NULL);
        starts = mir_malloc((size_t)(n_units + 1) * sizeof *starts);
        mir_statement_starts(v->tokens, v->n_tokens, starts);
    }
    int64_t n_all = (n_units + T - 1) / T;
    int64_t n_win = m->opts.max_windows && m->opts.max_windows < n_all ? m->opts.max_windows : n_all;
    int64_t n_read = 0; /* units read */
    mir_module_view wins[WINDOWS_PER_BATCH];
    int64_t weight[WINDOWS_PER_BATCH]; /* units of each window */
    for (int64_t w0 = 0; w0 < n_win; w0 += WINDOWS_PER_BATCH) {
        int k = (int)(n_win - w0 < WINDOWS_PER_BATCH ? n_win - w0 : WINDOWS_PER_BATCH);
        for (int j = 0; j < k; j++) {
            int64_t idx = mir_embed_window_index(w0 + j, n_win, n_all), first, len;
            if (starts) {
                mir_stmt_window sw = mir_statement_window(starts, n_units, T, idx);
                first = sw.first;
                len = sw.n_tokens;
                weight[j] = sw.n_statements;
            } else {
                first = idx * T;
                len = v->n_tokens - first < T ? v->n_tokens - first : T;
                weight[j] = len;
            }
            wins[j] = (mir_module_view){v->tokens + first, len, NULL, NULL, 0, NULL, NULL, NULL, 0, -1};
        }
        mir_batch_build(&b, wins, k, &cfg, &bo, &rng);
        mir_model_embed_f32(&net, &b, tmp);
        for (int j = 0; j < k; j++) {
            for (int c = 0; c < C; c++) u[c] += (double)tmp[(size_t)j * 2 * C + c] * (double)weight[j];
            n_read += weight[j];
        }
    }
    free(starts);
    for (int c = 0; c < C; c++) out[c] = n_read ? (float)(u[c] / (double)n_read) : 0.0f;
    /* graph, whole (or its first window) */
    mir_module_view g = *v;
    g.n_tokens = 0;
    mir_batch_build(&b, &g, 1, &cfg, &bo, &rng);
    mir_model_embed_f32(&net, &b, tmp);
    memcpy(out + C, tmp + C, (size_t)C * sizeof *out);
    pool_give(m, &net);
    mir_batch_free(&b);
    free(tmp);
    free(u);
}

int mir_embed_view(const mir_model *m, const mir_module_view *v, float *out, mir_error *err) {
    (void)err;
    const int C2 = 2 * m->cfg.d_model;
    if (m->opts.readout == MIR_READOUT_EMBEDDING) {
        embed_view(m, v, out);
        return 0;
    }
    float *e = m->opts.readout == MIR_READOUT_STATS ? out : mir_malloc((size_t)(C2 + m->n_stat_cols) * sizeof *e);
    embed_view(m, v, e);
    stat_readout(m, e);
    if (e != out) {
        memcpy(out, e + C2, (size_t)m->n_stat_cols * sizeof *out);
        free(e);
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* the public entry points                                                                          */

static int embed_parsed(const mir_model *m, LLVMModuleRef mod, float *out, mir_error *err) {
    mir_encoded e;
    mir_extract_options xo = mir_embed_extract_options(m);
    if (mir_encode_module_opts(m->vocab, mod, &xo, &e, err)) return -1;
    mir_module_view v = mir_encoded_view(&e);
    int rc = mir_embed_view(m, &v, out, err);
    mir_encoded_free(&e);
    return rc;
}

/* Parse (data[bytes] == '\0'), encode and embed; *status says which step failed (schema.h codes). */
static int embed_bytes(const mir_model *m, const char *data, size_t bytes, const char *name, float *out, int *status,
                       mir_error *err) {
    LLVMContextRef ctx = LLVMContextCreate();
    LLVMModuleRef mod = NULL;
    int rc = mir_parse_ir(ctx, data, bytes, name, &mod, err);
    if (rc) {
        *status = MIR_STATUS_PARSE_ERROR;
    } else {
        rc = embed_parsed(m, mod, out, err);
        if (rc) {
            *status = MIR_STATUS_EXTRACT_ERROR;
            mir_error_prefix(err, name);
        }
        LLVMDisposeModule(mod);
    }
    LLVMContextDispose(ctx);
    return rc;
}

int mir_embed_buffer(const mir_model *m, const char *data, size_t bytes, const char *name, float *out,
                     mir_error *err) {
    /* the IR reader needs a NUL after the text */
    char *copy = mir_malloc(bytes + 1);
    memcpy(copy, data, bytes);
    copy[bytes] = '\0';
    int status = 0;
    int rc = embed_bytes(m, copy, bytes, name, out, &status, err);
    free(copy);
    return rc;
}

int mir_embed_file(const mir_model *m, const char *path, float *out, mir_error *err) {
    char *data = NULL;
    size_t n = 0;
    if (mir_read_file(path, &data, &n, err)) return -1;
    int rc = mir_embed_buffer(m, data, n, path, out, err);
    free(data);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */
/* embedding in a supervised worker (worker.h)                                                      */

/* The job, in the child: the embedding's floats are the reply. */
static int embed_job(void *arg, const char *name, const char *data, size_t bytes, mir_wbuf *reply, int *status,
                     mir_error *err) {
    const mir_model *m = arg;
    size_t D = mir_embedding_dim(m);
    float *v = mir_malloc(D * sizeof *v);
    int rc = embed_bytes(m, data, bytes, name, v, status, err);
    if (!rc) mir_wbuf_put(reply, v, D * sizeof *v);
    free(v);
    return rc;
}

mir_worker *mir_embed_worker_create(const mir_model *m, const mir_worker_limits *limits) {
    return mir_worker_create(embed_job, (void *)m, limits);
}

int mir_embed_collect(mir_worker *w, const mir_model *m, const char *name, float *out, int *status, mir_error *err) {
    mir_wbuf *reply = mir_worker_reply_buffer(w);
    int rc = mir_worker_collect(w, reply, status, err);
    size_t want = mir_embedding_dim(m) * sizeof *out;
    if (rc == MIR_WORKER_OK && reply->n != want) {
        mir_fail(err, "%s: the worker replied %zu bytes, not %zu", name, reply->n, want);
        *status = MIR_STATUS_EXTRACT_ERROR;
        rc = MIR_WORKER_FAILED;
    }
    if (rc == MIR_WORKER_OK) memcpy(out, reply->p, want);
    if (rc == MIR_WORKER_CRASHED) *status = MIR_STATUS_CRASHED;
    return rc == MIR_WORKER_OK ? 0 : -1;
}

int mir_embed_bytes_supervised(mir_worker *w, const mir_model *m, const char *data, size_t bytes, const char *name,
                               float *out, int *status, mir_error *err) {
    *status = 0;
    if (!w) return embed_bytes(m, data, bytes, name, out, status, err);
    mir_worker_submit(w, name, data, bytes);
    return mir_embed_collect(w, m, name, out, status, err);
}

int mir_embed_file_supervised(mir_worker *w, const mir_model *m, const char *path, float *out, int *status,
                              mir_error *err) {
    char *data = NULL;
    size_t n = 0;
    *status = 0;
    if (mir_read_file(path, &data, &n, err)) {
        *status = MIR_STATUS_READ_ERROR;
        return -1;
    }
    int rc = mir_embed_bytes_supervised(w, m, data, n, path, out, status, err);
    free(data);
    return rc;
}

int mir_embed_file_isolated(const mir_model *m, const char *path, float *out, const mir_isolation *limits,
                            mir_error *err) {
    mir_worker_limits l = mir_worker_limits_default();
    if (limits && limits->memory_bytes) l.memory_bytes = limits->memory_bytes;
    if (limits && limits->timeout_s) l.timeout_s = limits->timeout_s;
    mir_worker *w = mir_embed_worker_create(m, &l);
    int status;
    int rc = mir_embed_file_supervised(w, m, path, out, &status, err);
    mir_worker_free(w);
    return rc;
}

int mir_embed_module(const mir_model *m, LLVMModuleRef module, float *out, mir_error *err) {
    if (!module) return mir_fail(err, "mir_embed_module: NULL module");
    LLVMModuleRef copy = LLVMCloneModule(module); /* extraction strips debug info: never from the caller's */
    int rc = embed_parsed(m, copy, out, err);
    LLVMDisposeModule(copy);
    return rc;
}
