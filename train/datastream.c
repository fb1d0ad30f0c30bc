/*
 * datastream.c: the units, the held-out split, the epoch stream and the reading of micro-batches (see
 * datastream.h).
 */
#include "datastream.h"

#include <stdlib.h>

#include "trainer_impl.h"

uint64_t mir_mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* A module is held out when its content hash says so: 1 in 20, stable across runs and rank counts. */
static int held_out(uint64_t hash) { return mir_mix64(hash ^ 0x5eedULL) % 20 == 0; }

/* The module at position pos of the infinite stream: epoch pos / n is a permutation drawn from the seed. */
int64_t mir_stream_at(stream *s, int64_t pos) {
    int64_t e = pos / s->n;
    if (e != s->epoch) {
        mir_rng r;
        mir_rng_seed(&r, s->seed ^ 0xE90C4ULL, (uint64_t)e);
        for (int64_t i = 0; i < s->n; i++) s->perm[i] = i;
        for (int64_t i = s->n - 1; i > 0; i--) {
            int64_t j = (int64_t)mir_rng_below(&r, (uint64_t)(i + 1));
            int64_t t = s->perm[i];
            s->perm[i] = s->perm[j];
            s->perm[j] = t;
        }
        s->epoch = e;
    }
    return s->ids[s->perm[pos % s->n]];
}

/* today's stream over modules; with the contrastive objective a stream over units (pairs and lone modules),
 * micro-batch k of a step taking m/2 of them, so both modules of a source always meet in one micro-batch
 * whatever the number of ranks */
void mir_setup_stream(trainer *t) {
    if (!t->cfg.contrastive)
        t->data = (stream){t->train_ids, t->n_train, t->st.seed, -1, mir_malloc((size_t)t->n_train * sizeof(int64_t))};
    else
        t->data = (stream){t->train_units, t->n_train_units, t->st.seed, -1,
                           mir_malloc((size_t)t->n_train_units * sizeof(int64_t))};
}

int mir_micro_ids(trainer *t, int64_t step, int k, int G, int64_t *ids) {
    const int m = t->st.micro_batch;
    int mm = m;
    if (!t->cfg.contrastive)
        for (int j = 0; j < m; j++) ids[j] = mir_stream_at(&t->data, step * t->st.global_batch + (int64_t)k * m + j);
    else
        for (int j = mm = 0; j < m / 2; j++) {
            int64_t u = mir_stream_at(&t->data, (step * G + k) * (m / 2) + j);
            ids[mm++] = t->unit_a[u];
            if (t->unit_b[u] >= 0) ids[mm++] = t->unit_b[u];
        }
    return mm;
}

/* 1: modules i and k are the two modules of one source and the objective pairs them (cfg.contrastive) */
static int partners(const trainer *t, int64_t i, int64_t k) {
    return t->cfg.contrastive && t->pair_key[i] >= 0 && t->pair_key[i] == t->pair_key[k];
}

/* A statement-level model's view of module i (cfg.statements): the module read whole, then a window of
 * `window` statements from a statement boundary, drawn as load_micro draws token windows (paired: at frac). */
static int read_statements(trainer *t, int j, int64_t i, int64_t window, int paired, double frac, int train,
                           mir_rng *rng, mir_error *err) {
    mir_module_view *v = &t->views[j];
    if (mir_corpus_read_module(&t->corpus, i, 0, -1, &t->bufs[j], v, err)) return -1;
    int64_t S = mir_statement_starts(v->tokens, v->n_tokens, NULL), first = 0;
    MIR_GROW(t->starts, t->cap_starts, (size_t)S + 1);
    mir_statement_starts(v->tokens, v->n_tokens, t->starts);
    if (S > window && train)
        first = paired ? (int64_t)(frac * (double)(S - window + 1))
                       : (int64_t)mir_rng_below(rng, (uint64_t)(S - window + 1));
    int64_t end = first + window < S ? first + window : S;
    v->tokens += t->starts[first];
    v->n_tokens = t->starts[end] - t->starts[first];
    return 0;
}

/* Read the m modules of micro-batch k of step `step` and build it. With the contrastive objective, two
 * partners side by side read windows at the same relative position of their modules (one draw for both).
 * A window is 4 T tokens, or for a statement-level model 4 T statements from a statement's start. */
int mir_load_micro(trainer *t, const int64_t *ids, int m, mir_rng *rng, const mir_batch_options *bo,
                   mir_error *err) {
    int T = t->cfg.max_seq;
    double frac = -1; /* the pair's relative window position, drawn at its first module */
    for (int j = 0; j < m; j++) {
        int64_t i = ids[j], nt = t->corpus.tok_off[i + 1] - t->corpus.tok_off[i];
        int64_t first = 0, window = 4 * (int64_t)T;
        int head = j + 1 < m && partners(t, i, ids[j + 1]), tail = j > 0 && partners(t, ids[j - 1], i);
        if (head && bo->train) frac = (double)mir_rng_below(rng, 1u << 24) / (double)(1u << 24);
        if (t->cfg.statements) {
            if (read_statements(t, j, i, window, head || tail, frac, bo->train, rng, err)) return -1;
        } else {
            if (nt > window && bo->train)
                first = (head || tail) ? (int64_t)(frac * (double)(nt - window + 1))
                                       : (int64_t)mir_rng_below(rng, (uint64_t)(nt - window + 1));
            if (mir_corpus_read_module(&t->corpus, i, first, window, &t->bufs[j], &t->views[j], err)) return -1;
        }
        t->views[j].source = (head || tail) ? t->pair_key[i] : -1;
    }
    mir_batch_build(&t->batch, t->views, m, &t->cfg, bo, rng);
    return 0;
}

int mir_setup_data(trainer *t, mir_error *err) {
    mir_corpus *c = &t->corpus;
    t->train_ids = mir_malloc((size_t)(c->n + 1) * sizeof(int64_t));
    t->eval_ids = mir_malloc((size_t)(c->n + 1) * sizeof(int64_t));
    t->unit_a = mir_malloc((size_t)(c->n + 1) * sizeof(int64_t));
    t->unit_b = mir_malloc((size_t)(c->n + 1) * sizeof(int64_t));
    t->train_units = mir_malloc((size_t)(c->n + 1) * sizeof(int64_t));
    t->pair_key = mir_malloc((size_t)(c->n + 1) * sizeof(int64_t));
    int64_t *unit_of_source = mir_malloc((size_t)(c->n + 1) * sizeof(int64_t)), n_pairs = 0;
    for (int64_t i = 0; i < c->n; i++) unit_of_source[i] = t->pair_key[i] = -1;
    int64_t too_big = 0;
    for (int64_t i = 0; i < c->n; i++) {
        if (c->status[i] != 0 || c->tok_off[i + 1] == c->tok_off[i] || c->node_off[i + 1] == c->node_off[i]) continue;
        if (c->node_off[i + 1] - c->node_off[i] > t->o->max_graph_nodes) {
            too_big++;
            continue;
        }
        int64_t s = c->source[i] >= 0 && c->source[i] < c->n ? c->source[i] : i, u = unit_of_source[s];
        if (u >= 0 && t->unit_b[u] < 0) { /* the second usable module of its source: a pair */
            t->unit_b[u] = i;
            t->pair_key[t->unit_a[u]] = t->pair_key[i] = u;
            n_pairs++;
            continue;
        }
        u = t->n_units++; /* alone (a third module of one source starts a unit of its own) */
        t->unit_a[u] = i;
        t->unit_b[u] = -1;
        if (unit_of_source[s] < 0) unit_of_source[s] = u;
    }
    free(unit_of_source);
    /* held-out units in a fixed random order: corpus order puts near-identical modules side by side, which
     * would make every matching negative (the next module of a micro-batch) a near copy; a pair stays together */
    int64_t *eval_units = mir_malloc((size_t)(t->n_units + 1) * sizeof(int64_t)), n_eval_units = 0;
    for (int64_t u = 0; u < t->n_units; u++) {
        if (held_out(c->hash[t->unit_a[u]])) eval_units[n_eval_units++] = u;
        else {
            t->train_units[t->n_train_units++] = u;
            t->train_ids[t->n_train++] = t->unit_a[u];
            if (t->unit_b[u] >= 0) t->train_ids[t->n_train++] = t->unit_b[u];
        }
    }
    mir_rng er;
    mir_rng_seed(&er, 0xE7A1ULL, 0x5eedULL);
    for (int64_t i = n_eval_units - 1; i > 0; i--) {
        int64_t j = (int64_t)mir_rng_below(&er, (uint64_t)(i + 1)), tmp = eval_units[i];
        eval_units[i] = eval_units[j];
        eval_units[j] = tmp;
    }
    for (int64_t k = 0; k < n_eval_units; k++) {
        t->eval_ids[t->n_eval++] = t->unit_a[eval_units[k]];
        if (t->unit_b[eval_units[k]] >= 0) t->eval_ids[t->n_eval++] = t->unit_b[eval_units[k]];
    }
    free(eval_units);
    if (t->n_train == 0)
        return mir_fail(err, "%s: no usable modules (of %lld: none with status ok, tokens and a graph%s)", c->path,
                        (long long)c->n, too_big ? ", within --max-graph-nodes" : "");
    if (t->rank == 0 && !t->o->quiet)
        mir_log(MIR_LOG_INFO, "%s: %lld modules, %lld for training, %lld held out%s; %lld pairs of one source",
                c->path, (long long)c->n, (long long)t->n_train, (long long)t->n_eval,
                too_big ? " (some skipped: graph over --max-graph-nodes)" : "", (long long)n_pairs);
    if (too_big && t->rank == 0)
        mir_log(MIR_LOG_WARN, "%lld modules skipped: more than %lld graph nodes (--max-graph-nodes)",
                (long long)too_big, (long long)t->o->max_graph_nodes);
    return 0;
}
