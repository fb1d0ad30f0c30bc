/*
 * trainer.c: data-parallel pre-training (see trainer.h for the scheme).
 */
#include "trainer.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corpus.h"
#include "dist.h"
#include "grid.h"
#include "mpi_util.h"
#include "wordpiece.h"

void mir_train_options_default(mir_train_options *o) {
    memset(o, 0, sizeof *o);
    o->config = NULL; /* "small" for a new model; a resumed one keeps its own */
    o->steps = 1000;
    o->global_batch = 16;
    o->micro_batch = 4;
    o->lr = 1e-3;
    o->lr_min = 1e-4;
    o->weight_decay = 0.01;
    o->clip = 1.0;
    o->warmup = 50;
    o->seed = 1234;
    o->checkpoint_every = 200;
    o->block = 64;
    o->eval_every = 0;
    o->eval_modules = 256;
    o->max_graph_nodes = 200000;
    o->progress_interval_s = 10.0;
}

/* ------------------------------------------------------------------------------------------------ */
/* configuration files: "key = value" lines, '#' comments; keys as in mir_config                      */

int mir_config_parse(const char *spec, mir_config *c, mir_error *err) {
    int32_t V = c->vocab_size;
    if (mir_config_preset(c, spec, V) == 0) return 0;
    FILE *f = fopen(spec, "r");
    if (!f) return mir_fail(err, "--config %s: not a preset (tiny, small, base) and not a readable file", spec);
    mir_config_preset(c, "small", V);
    char line[256];
    int ln = 0, rc = 0;
    while (!rc && fgets(line, sizeof line, f)) {
        ln++;
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char key[64];
        long val;
        if (sscanf(line, " %63[a-z_] = %ld", key, &val) != 2) {
            char *s = line;
            while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
            if (*s) rc = mir_fail(err, "%s:%d: expected \"key = integer\"", spec, ln);
            continue;
        }
        int32_t *field = !strcmp(key, "max_seq")          ? &c->max_seq
                         : !strcmp(key, "d_model")        ? &c->d_model
                         : !strcmp(key, "n_heads")        ? &c->n_heads
                         : !strcmp(key, "n_layers")       ? &c->n_layers
                         : !strcmp(key, "d_ff")           ? &c->d_ff
                         : !strcmp(key, "n_graph_layers") ? &c->n_graph_layers
                         : !strcmp(key, "max_nodes")      ? &c->max_nodes
                         : !strcmp(key, "stats")          ? &c->stats
                         : !strcmp(key, "contrastive")    ? &c->contrastive
                         : !strcmp(key, "statements")     ? &c->statements
                                                          : NULL;
        if (!field) rc = mir_fail(err, "%s:%d: unknown key %s", spec, ln, key);
        else *field = (int32_t)val;
    }
    fclose(f);
    return rc;
}

/* ------------------------------------------------------------------------------------------------ */

static volatile sig_atomic_t g_stop = 0;
static void on_signal(int sig) { g_stop = sig; }

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* A module is held out when its content hash says so: 1 in 20, stable across runs and rank counts. */
static int held_out(uint64_t hash) { return mix64(hash ^ 0x5eedULL) % 20 == 0; }

typedef struct stream {
    const int64_t *ids;  /* training modules */
    int64_t n;
    uint64_t seed;
    int64_t epoch;       /* epoch of perm */
    int64_t *perm;
} stream;

/* The module at position pos of the infinite stream: epoch pos / n is a permutation drawn from the seed. */
static int64_t stream_at(stream *s, int64_t pos) {
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

typedef struct trainer {
    const mir_train_options *o;
    MPI_Comm comm;
    int rank, nranks;
    mir_corpus corpus;
    mir_config cfg;
    mir_train_state st;
    mir_grid grid;              /* data-parallel groups x P x Q grid */
    mir_dist dist;              /* which tensors are distributed, and the local layout of the flat buffers */
    int have_grid;
    mir_model_f32 model;        /* local layout: n_params = dist.n_local */
    float *m1, *m2;             /* AdamW moments (n_params, local layout) */
    int64_t *train_ids, n_train, *eval_ids, n_eval;
    /* units: a module alone, or the two modules of one source (a pair: /modules/source, mir-preprocess
     * --opt-levels); held-out is decided per unit, so a pair is never split between training and held-out */
    int64_t *unit_a, *unit_b, n_units;   /* unit_b -1: alone */
    int64_t *train_units, n_train_units;
    int64_t *pair_key;                   /* (corpus n) the unit of a paired module, -1 for any other */
    stream data;                         /* over train_ids (today's stream), or over train_units (contrastive) */
    mir_module_buf *bufs;       /* (micro_batch) */
    mir_module_view *views;
    int64_t *starts;            /* statement offsets of the module being read (cfg.statements) */
    size_t cap_starts;
    mir_batch batch;
    FILE *metrics, *evalcsv;
    FILE *trace;                         /* $MIR_TRACE_BATCHES.RANK: "step k module..." per micro-batch (tests) */
} trainer;

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
static int load_micro(trainer *t, const int64_t *ids, int m, mir_rng *rng, const mir_batch_options *bo,
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

static double lr_at(const mir_train_state *st, int64_t step) {
    if (step < st->warmup) return st->lr * (double)(step + 1) / (double)st->warmup;
    double span = (double)(st->total_steps - st->warmup);
    double prog = span > 0 ? (double)(step - st->warmup) / span : 1.0;
    if (prog > 1) prog = 1;
    return st->lr_min + 0.5 * (st->lr - st->lr_min) * (1.0 + cos(3.141592653589793 * prog));
}

/* AdamW on the flat buffers; LayerNorm gains, biases and embeddings' rows are decayed alike (simple). */
static void adamw(trainer *t, double lr, int64_t step) {
    const mir_train_state *st = &t->st;
    float *p = t->model.params, *g = t->model.grads;
    double b1 = st->beta1, b2 = st->beta2;
    double c1 = 1.0 - pow(b1, (double)(step + 1)), c2 = 1.0 - pow(b2, (double)(step + 1));
    float fb1 = (float)b1, fb2 = (float)b2, flr = (float)lr, feps = (float)st->eps, fwd = (float)st->weight_decay;
    float fc1 = (float)(1.0 / c1), fc2 = (float)(1.0 / c2);
    for (size_t i = 0; i < t->model.n_params; i++) {
        float gi = g[i];
        t->m1[i] = fb1 * t->m1[i] + (1 - fb1) * gi;
        t->m2[i] = fb2 * t->m2[i] + (1 - fb2) * gi * gi;
        float mh = t->m1[i] * fc1, vh = t->m2[i] * fc2;
        p[i] -= flr * (mh / (sqrtf(vh) + feps) + fwd * p[i]);
    }
}

/* The checkpoint holds full tensors whatever the layout: group 0 gathers them on world rank 0. */
static int save(trainer *t, mir_error *err) {
    int rc = 0;
    float *full[3] = {NULL, NULL, NULL};
    const float *local[3] = {t->model.params, t->m1, t->m2};
    if (t->grid.group_id == 0)
        for (int i = 0; i < 3; i++) {
            if (t->rank == 0) full[i] = mir_malloc(t->dist.n_full * sizeof(float));
            mir_dist_gather(&t->dist, local[i], full[i]);
        }
    if (t->rank == 0)
        rc = mir_checkpoint_save(t->o->output, &t->cfg, t->corpus.vocab, t->corpus.vocab_count, full[0], full[1],
                                 full[2], &t->st, t->o->corpus, err);
    for (int i = 0; i < 3; i++) free(full[i]);
    MPI_Bcast(&rc, 1, MPI_INT, 0, t->comm);
    if (rc) MPI_Bcast(err->msg, MIR_ERROR_MAX, MPI_CHAR, 0, t->comm);
    return rc;
}

/* ---- held-out evaluation ---- */

typedef struct eval_result {
    double mlm_acc, mlm_baseline, node_acc, edge_auc, match_acc, loss;
    double stat_mse; /* statistics auto-encoding: mean squared error per (module, slot); 0 without the head */
    double contrast_acc; /* contrastive: anchors whose most similar other module is the partner; 0 without */
} eval_result;

typedef struct scored {
    float s, y;
} scored;
static int cmp_scored(const void *a, const void *b) {
    float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

/* Area under the ROC curve by the rank-sum formula (ties get the mean rank). */
static double auc(scored *v, int64_t n) {
    qsort(v, (size_t)n, sizeof *v, cmp_scored);
    double pos = 0, neg = 0, ranksum = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && v[j].s == v[i].s) j++;
        double r = 0.5 * (double)(i + 1 + j);
        for (int64_t k = i; k < j; k++)
            if (v[k].y > 0.5f) ranksum += r;
        i = j;
    }
    for (int64_t i = 0; i < n; i++) {
        if (v[i].y > 0.5f) pos += 1;
        else neg += 1;
    }
    if (pos == 0 || neg == 0) return 0.5;
    return (ranksum - pos * (pos + 1) / 2) / (pos * neg);
}

static int evaluate(trainer *t, eval_result *er, mir_error *err) {
    const int m = t->st.micro_batch, V = t->cfg.vocab_size;
    int64_t n = t->n_eval;
    if (t->o->eval_modules > 0 && n > t->o->eval_modules) n = t->o->eval_modules;
    int64_t G = (n + m - 1) / m;
    double sums[11] = {0}; /* mlm hits, mlm n, node hits, node n, match hits, match n, loss sum, micro count, stat sum,
                              contrastive hits, contrastive anchors */
    int64_t *tcount = mir_calloc((size_t)V, sizeof *tcount);
    scored *sc = NULL;
    size_t nsc = 0, csc = 0;
    mir_batch_options bo;
    mir_batch_options_default(&bo);
    bo.train = 0;
    const int D = t->grid.n_groups;
    MPI_Comm across = t->grid.across;
    /* rounds of D micro-batches, one per data-parallel group: every rank takes part in every round's agreement
     * on the reading, also a group without a micro-batch in the last round (G need not be a multiple of D) */
    for (int64_t round = 0; round < (G + D - 1) / D; round++) {
        int64_t k = round * D + t->grid.group_id;
        int mm = k < G ? (int)((k + 1) * m <= n ? m : n - k * m) : 0;
        mir_rng rng;
        mir_rng_seed(&rng, t->st.seed ^ 0xE7A1ULL, (uint64_t)k);
        if (mir_mpi_agree(t->comm, mm ? load_micro(t, t->eval_ids + k * m, mm, &rng, &bo, err) : 0, err)) {
            free(tcount);
            free(sc);
            return -1;
        }
        if (!mm) continue;
        mir_losses l;
        mir_model_forward_f32(&t->model, &t->batch, &l);
        sums[0] += l.mlm_acc * l.n_mlm;
        sums[1] += l.n_mlm;
        sums[2] += l.node_acc * l.n_node;
        sums[3] += l.n_node;
        sums[4] += l.match_acc * l.n_match;
        sums[5] += l.n_match;
        sums[6] += l.total;
        sums[7] += 1;
        sums[8] += l.stat;
        sums[9] += l.contrast_acc * l.n_contrast;
        sums[10] += l.n_contrast;
        for (int i = 0; i < t->batch.B * t->batch.T; i++)
            if (t->batch.tok_target[i] >= 0) tcount[t->batch.tok_target[i]]++;
        if (t->cfg.statements) /* per masked statement, each of its distinct pieces once (mlm_acc's hit) */
            for (int i = 0; i < t->batch.B * t->batch.T; i++) {
                const int32_t *tg = t->batch.stmt_target;
                const int32_t lo = t->batch.stmt_tgt_off[i], hi = t->batch.stmt_tgt_off[i + 1];
                for (int32_t j = lo; j < hi; j++) {
                    int seen = 0;
                    for (int32_t k = lo; k < j && !seen; k++) seen = tg[k] == tg[j];
                    if (!seen) tcount[tg[j]]++;
                }
            }
        int np;
        const float *s = mir_model_last_edge_scores_f32(&t->model, &np);
        MIR_GROW(sc, csc, nsc + (size_t)np + 1);
        for (int i = 0; i < np; i++) sc[nsc++] = (scored){s[i], t->batch.pair_label[i]};
    }
    /* every rank of a group computed the same; sum over the groups */
    MPI_Allreduce(MPI_IN_PLACE, sums, 11, MPI_DOUBLE, MPI_SUM, across);
    MPI_Allreduce(MPI_IN_PLACE, tcount, V, MPI_INT64_T, MPI_SUM, across);
    /* edge scores to every rank for the AUC */
    int mine = (int)(nsc * 2);
    int *sizes = mir_malloc((size_t)D * sizeof(int)), *displs = mir_malloc((size_t)D * sizeof(int));
    MPI_Allgather(&mine, 1, MPI_INT, sizes, 1, MPI_INT, across);
    int64_t tot = 0;
    for (int r = 0; r < D; r++) {
        displs[r] = (int)tot;
        tot += sizes[r];
    }
    scored *all = mir_malloc((size_t)tot / 2 * sizeof *all + sizeof *all);
    MPI_Allgatherv(sc, mine, MPI_FLOAT, all, sizes, displs, MPI_FLOAT, across);
    int64_t best = 0, total = 0;
    for (int32_t i = 0; i < V; i++) {
        total += tcount[i];
        if (tcount[i] > best) best = tcount[i];
    }
    if (t->cfg.statements) total = (int64_t)sums[1]; /* masked statements: best / total is the accuracy of always
                                                         predicting the piece found in most of them */
    er->mlm_acc = sums[1] ? sums[0] / sums[1] : 0;
    er->mlm_baseline = total ? (double)best / (double)total : 0;
    er->node_acc = sums[3] ? sums[2] / sums[3] : 0;
    er->match_acc = sums[5] ? sums[4] / sums[5] : 0;
    er->loss = sums[7] ? sums[6] / sums[7] : 0;
    er->stat_mse = sums[7] ? sums[8] / sums[7] : 0;
    er->contrast_acc = sums[10] ? sums[9] / sums[10] : 0;
    er->edge_auc = auc(all, tot / 2);
    free(all);
    free(sizes);
    free(displs);
    free(sc);
    free(tcount);
    return 0;
}

/* ---- setup ---- */

static int setup_data(trainer *t, mir_error *err) {
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

static int setup_model(trainer *t, mir_error *err) {
    const mir_train_options *o = t->o;
    struct stat sb;
    int have = o->resume && stat(o->output, &sb) == 0;
    mir_train_state st = {0};
    if (have) {
        if (mir_checkpoint_read_config(o->output, &t->cfg, &st, err)) return -1;
        if (t->cfg.vocab_size != t->corpus.vocab_size)
            return mir_fail(err, "%s: vocabulary of %d tokens, but corpus %s has %d: not the corpus it was trained on",
                            o->output, t->cfg.vocab_size, o->corpus, t->corpus.vocab_size);
        mir_config want = {.vocab_size = t->corpus.vocab_size};
        if (o->config && mir_config_parse(o->config, &want, err) == 0 && memcmp(&want, &t->cfg, sizeof want) != 0)
            return mir_fail(err, "%s: saved with another configuration than --config %s (d_model %d vs %d, layers %d vs %d)",
                            o->output, o->config, t->cfg.d_model, want.d_model, t->cfg.n_layers, want.n_layers);
        t->st = st;
        t->st.total_steps = o->steps > st.total_steps ? o->steps : st.total_steps;
    } else {
        t->cfg.vocab_size = t->corpus.vocab_size;
        if (mir_config_parse(o->config ? o->config : "small", &t->cfg, err)) return -1;
        t->cfg.vocab_size = t->corpus.vocab_size;
        t->st = (mir_train_state){0, o->steps, o->seed, 0, o->global_batch, o->micro_batch, o->lr, o->lr_min,
                                  o->weight_decay, 0.9, 0.999, 1e-8, o->clip, o->warmup};
    }
    char msg[256];
    if (mir_config_check(&t->cfg, msg, sizeof msg))
        return mir_fail(err, "%s%sconfiguration: %s", have ? o->output : "", have ? ": " : "", msg);
    /* a statement-level model needs the corpus's statement boundaries, and only such a model reads them */
    if (mir_corpus_check_config(&t->corpus, &t->cfg, err)) return -1;
    /* a model file edited or corrupted into an absurd size is refused before anything is allocated for it */
    size_t n_full = 0;
    mir_params_table(&t->cfg, NULL, &n_full);
    double need = (double)n_full * 16.0, avail = (double)mir_available_memory_bytes() * t->nranks;
    if (avail > 0 && need > avail)
        return mir_fail(err, "%s%sd_model %d, %d layers, d_ff %d, vocabulary %d: %.3g parameters need %.3g GiB with "
                        "gradients and AdamW moments, more than the %.3g GiB of all ranks together",
                        have ? o->output : "", have ? ": " : "", t->cfg.d_model, t->cfg.n_layers, t->cfg.d_ff,
                        t->cfg.vocab_size, (double)n_full, need / 1073741824.0, avail / 1073741824.0);
    /* the layout */
    int P = o->grid_p, Q = o->grid_q;
    char why[512] = "";
    if (P == 0 || Q == 0) {
        MPI_Comm node;
        MPI_Comm_split_type(t->comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
        int per_node = 1;
        MPI_Comm_size(node, &per_node);
        MPI_Comm_free(&node);
        double avail = (double)mir_available_memory_bytes();
        MPI_Allreduce(MPI_IN_PLACE, &avail, 1, MPI_DOUBLE, MPI_MIN, t->comm);
        mir_train_choose_grid(&t->cfg, t->nranks, avail / per_node, &P, &Q, why, sizeof why);
    } else {
        snprintf(why, sizeof why, "as --grid asked");
    }
    if (mir_grid_init(&t->grid, t->comm, P, Q, o->block, err)) return -1;
    t->have_grid = 1;
    const int D = t->grid.n_groups;
    if (t->st.micro_batch < 1 || t->st.global_batch % (t->st.micro_batch * D) != 0)
        return mir_fail(err, "--batch %d must be a multiple of --micro-batch %d times the number of data-parallel "
                        "groups %d (%d ranks / grid %dx%d)%s", t->st.global_batch, t->st.micro_batch, D, t->nranks, P, Q,
                        have ? "; these are the batch sizes stored in the checkpoint, which a resumed run keeps "
                               "whatever --batch says: resume on a rank count that divides them" : "");
    mir_dist_init(&t->dist, &t->grid, &t->cfg);
    if (t->rank == 0 && !o->quiet)
        mir_log(MIR_LOG_INFO, "layout: %d data-parallel group%s x grid %dx%d (block %d): %s; rank 0 holds %zu of "
                "the %zu parameters (%.1f of %.1f MiB with gradients and AdamW moments)", D, D > 1 ? "s" : "", P, Q,
                o->block, why, t->dist.n_local, t->dist.n_full, t->dist.n_local * 16.0 / 1048576.0,
                t->dist.n_full * 16.0 / 1048576.0);
    if (mir_model_create_layout_f32(&t->model, &t->cfg, t->dist.table, t->dist.n_local))
        return mir_fail(err, "cannot create the model");
    mir_dist_attach(&t->dist, &t->model);
    t->m1 = mir_calloc(t->model.n_params, sizeof(float));
    t->m2 = mir_calloc(t->model.n_params, sizeof(float));
    /* parameters (and moments) in the full layout first, then each rank keeps its pieces */
    float *full = mir_malloc(t->dist.n_full * sizeof(float));
    if (have) {
        float *fm = mir_malloc(t->dist.n_full * sizeof(float)), *fv = mir_malloc(t->dist.n_full * sizeof(float));
        int lrc = mir_checkpoint_load(o->output, &t->cfg, full, fm, fv, err);
        if (!lrc) {
            mir_dist_scatter(&t->dist, fm, t->m1);
            mir_dist_scatter(&t->dist, fv, t->m2);
        }
        /* a resumed run must not train on a damaged checkpoint: every value finite, else name the tensor */
        if (!lrc) lrc = mir_model_params_check(o->output, &t->cfg, full, err);
        if (!lrc) lrc = mir_model_tensors_check(o->output, &t->cfg, "/optim/m", fm, err);
        if (!lrc) lrc = mir_model_tensors_check(o->output, &t->cfg, "/optim/v", fv, err);
        free(fm);
        free(fv);
        if (lrc) {
            free(full);
            return -1;
        }
        if (t->rank == 0 && !o->quiet)
            mir_log(MIR_LOG_INFO, "resuming %s at step %lld of %lld", o->output, (long long)t->st.step,
                    (long long)t->st.total_steps);
    } else {
        mir_model_f32 tmp;
        if (mir_model_create_f32(&tmp, &t->cfg)) {
            free(full);
            return mir_fail(err, "cannot create the model");
        }
        mir_rng r;
        mir_rng_seed(&r, t->st.seed, 0x1417ULL);
        mir_model_init_params_f32(&tmp, &r);
        memcpy(full, tmp.params, t->dist.n_full * sizeof(float));
        mir_model_free_f32(&tmp);
    }
    mir_dist_scatter(&t->dist, full, t->model.params);
    free(full);
    return 0;
}

int mir_train_run(const mir_train_options *o, MPI_Comm comm, mir_train_result *res, mir_error *err) {
    trainer t = {.o = o, .comm = comm};
    MPI_Comm_rank(comm, &t.rank);
    MPI_Comm_size(comm, &t.nranks);
    memset(res, 0, sizeof *res);
    /* first, so that a signal during set-up (reading a large corpus) also ends in a checkpoint, not a kill */
    signal(SIGTERM, on_signal);
    signal(SIGUSR1, on_signal);
    int rc = mir_corpus_open(&t.corpus, o->corpus, comm, err);
    if (!rc) rc = setup_data(&t, err);
    if (!rc) rc = setup_model(&t, err);
    if (!rc && t.cfg.contrastive && t.st.micro_batch % 2)
        rc = mir_fail(err, "--micro-batch %d: the contrastive objective takes pairs, so it must be even", t.st.micro_batch);
    /* today's stream over modules; with the contrastive objective a stream over units (pairs and lone modules),
     * micro-batch k of a step taking m/2 of them, so both modules of a source always meet in one micro-batch
     * whatever the number of ranks */
    if (!rc && !t.cfg.contrastive)
        t.data = (stream){t.train_ids, t.n_train, t.st.seed, -1, mir_malloc((size_t)t.n_train * sizeof(int64_t))};
    else if (!rc)
        t.data = (stream){t.train_units, t.n_train_units, t.st.seed, -1,
                          mir_malloc((size_t)t.n_train_units * sizeof(int64_t))};
    if ((rc = mir_mpi_agree(t.comm, rc, err))) goto out;
    const int m = t.st.micro_batch, G = t.st.global_batch / m;
    t.bufs = mir_calloc((size_t)m, sizeof *t.bufs);
    t.views = mir_calloc((size_t)m, sizeof *t.views);
    mir_batch_init(&t.batch);
    if (t.rank == 0) {
        char path[4096];
        const char *mode = t.st.step > 0 ? "a" : "w";
        snprintf(path, sizeof path, "%s", o->metrics ? o->metrics : o->output);
        if (!o->metrics) snprintf(path + strlen(path), sizeof path - strlen(path), ".metrics.csv");
        t.metrics = fopen(path, mode);
        if (t.metrics && t.st.step == 0)
            fprintf(t.metrics, "step,lr,loss,mlm,node,edge,match,mlm_acc,node_acc,match_acc,grad_norm,tokens_per_s,elapsed_s,stat,contrast,contrast_acc\n");
        /* OUTPUT.eval.csv beside OUTPUT.metrics.csv, or METRICS.eval.csv beside --metrics METRICS */
        snprintf(path, sizeof path, "%s.eval.csv", o->metrics ? o->metrics : o->output);
        t.evalcsv = fopen(path, mode);
        if (t.evalcsv && t.st.step == 0)
            fprintf(t.evalcsv, "step,heldout_loss,mlm_acc,mlm_baseline,node_acc,edge_auc,match_acc,stat_mse,contrast_acc\n");
        if (!o->quiet) {
            mir_log(MIR_LOG_INFO,
                    "model: d_model %d, %d heads, %d layers, d_ff %d, %d graph layers, window %d, vocabulary %d: "
                    "%.2f M parameters; batch %d = %d micro-batches of %d on %d data-parallel group%s",
                    t.cfg.d_model, t.cfg.n_heads, t.cfg.n_layers, t.cfg.d_ff, t.cfg.n_graph_layers, t.cfg.max_seq,
                    t.cfg.vocab_size, t.dist.n_full / 1e6, t.st.global_batch, G, m, t.grid.n_groups,
                    t.grid.n_groups > 1 ? "s" : "");
        }
    }
    mir_batch_options bo;
    mir_batch_options_default(&bo);
    int64_t *ids = mir_malloc((size_t)m * sizeof *ids);
    const char *trace = getenv("MIR_TRACE_BATCHES");
    if (trace && *trace) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%d", trace, t.rank);
        t.trace = fopen(path, "w");
    }
    double t0 = mir_wall_seconds(), last_print = t0, tokens_window = 0, window_t0 = t0;
    int64_t start_step = t.st.step;
    res->first_step = start_step;
    double loss_sum[12]; /* the 8 losses and accuracies, tokens, stat, contrast, contrast_acc */
    while (t.st.step < t.st.total_steps) {
        int64_t step = t.st.step;
        memset(t.model.grads, 0, t.model.n_params * sizeof(float));
        memset(loss_sum, 0, sizeof loss_sum);
        for (int k = t.grid.group_id; k < G; k += t.grid.n_groups) {
            int mm = m;
            if (!t.cfg.contrastive)
                for (int j = 0; j < m; j++) ids[j] = stream_at(&t.data, step * t.st.global_batch + (int64_t)k * m + j);
            else
                for (int j = mm = 0; j < m / 2; j++) {
                    int64_t u = stream_at(&t.data, (step * G + k) * (m / 2) + j);
                    ids[mm++] = t.unit_a[u];
                    if (t.unit_b[u] >= 0) ids[mm++] = t.unit_b[u];
                }
            mir_rng rng;
            mir_rng_seed(&rng, t.st.seed ^ mix64((uint64_t)step), (uint64_t)k);
            /* every rank agrees before the forward: ranks of a grid meet in its collective products */
            if ((rc = mir_mpi_agree(t.comm, load_micro(&t, ids, mm, &rng, &bo, err), err))) break;
            if (t.trace) {
                fprintf(t.trace, "%lld %d", (long long)step, k);
                for (int j = 0; j < mm; j++) fprintf(t.trace, " %lld", (long long)ids[j]);
                fprintf(t.trace, " |");
                for (int j = 0; j < t.batch.B; j++) fprintf(t.trace, " %d", t.batch.partner ? t.batch.partner[j] : -1);
                fprintf(t.trace, "\n");
            }
            mir_losses l;
            mir_model_forward_f32(&t.model, &t.batch, &l);
            mir_model_backward_f32(&t.model, &t.batch, 1.0f / (float)G);
            double parts[12] = {l.total,   l.mlm,      l.node,         l.edge, l.match, l.mlm_acc, l.node_acc,
                                l.match_acc, 0 /* tokens */, l.stat, l.contrast, l.contrast_acc};
            for (int i = 0; i < t.batch.B * t.batch.T; i++) parts[8] += t.batch.tok_valid[i];
            for (int i = 0; i < 12; i++) loss_sum[i] += parts[i];
        }
        if (rc) break; /* a micro-batch could not be read: every rank stops here with its message */
        /* ranks at one grid position hold the same pieces: sum them over the groups */
        double c0 = mir_wall_seconds();
        MPI_Allreduce(MPI_IN_PLACE, t.model.grads, (int)t.model.n_params, MPI_FLOAT, MPI_SUM, t.grid.across);
        MPI_Allreduce(MPI_IN_PLACE, loss_sum, 12, MPI_DOUBLE, MPI_SUM, t.grid.across);
        double norm = sqrt(mir_dist_norm2(&t.dist, t.model.grads));
        res->allreduce_s += mir_wall_seconds() - c0;
        if (t.st.clip > 0 && norm > t.st.clip) {
            float s = (float)(t.st.clip / norm);
            for (size_t i = 0; i < t.model.n_params; i++) t.model.grads[i] *= s;
        }
        double lr = lr_at(&t.st, step);
        adamw(&t, lr, step);
        t.st.step++;
        t.st.cursor = t.st.step * t.st.global_batch;
        for (int i = 0; i < 12; i++)
            if (i != 8) loss_sum[i] /= G;
        res->final_loss = loss_sum[0];
        tokens_window += loss_sum[8];
        double now = mir_wall_seconds();
        double tps = tokens_window / (now - window_t0 > 1e-9 ? now - window_t0 : 1e-9);
        if (t.rank == 0) {
            if (t.metrics)
                fprintf(t.metrics, "%lld,%.6g,%.5f,%.5f,%.5f,%.5f,%.5f,%.4f,%.4f,%.4f,%.4g,%.0f,%.2f,%.5f,%.5f,%.4f\n",
                        (long long)t.st.step, lr, loss_sum[0], loss_sum[1], loss_sum[2], loss_sum[3], loss_sum[4],
                        loss_sum[5], loss_sum[6], loss_sum[7], norm, tps, now - t0, loss_sum[9], loss_sum[10],
                        loss_sum[11]);
            if (!o->quiet && (now - last_print >= o->progress_interval_s || t.st.step == t.st.total_steps ||
                              t.st.step == start_step + 1)) {
                double per = (now - t0) / (double)(t.st.step - start_step);
                mir_log(MIR_LOG_INFO,
                        "step %lld/%lld  loss %.4f (mlm %.3f node %.3f edge %.3f match %.3f)  mlm acc %.3f  "
                        "lr %.2e  %.0f tokens/s  ETA %.0f s",
                        (long long)t.st.step, (long long)t.st.total_steps, loss_sum[0], loss_sum[1], loss_sum[2],
                        loss_sum[3], loss_sum[4], loss_sum[5], lr, tps, per * (double)(t.st.total_steps - t.st.step));
                last_print = now;
            }
        }
        res->tokens_per_s = tps;
        /* a signal (or --stop-after) on any rank: checkpoint and leave */
        int stop = g_stop != 0 || (o->stop_after > 0 && t.st.step - start_step >= o->stop_after), any = 0;
        MPI_Allreduce(&stop, &any, 1, MPI_INT, MPI_MAX, comm);
        if (any) {
            if (t.rank == 0 && !o->quiet)
                mir_log(MIR_LOG_INFO, "stop requested: checkpointing at step %lld and exiting", (long long)t.st.step);
            rc = save(&t, err);
            res->interrupted = 1;
            break;
        }
        if (o->checkpoint_every > 0 && t.st.step % o->checkpoint_every == 0 && t.st.step < t.st.total_steps &&
            (rc = save(&t, err)))
            break;
        if (o->eval_every > 0 && t.st.step % o->eval_every == 0 && t.n_eval > 0 && t.st.step < t.st.total_steps) {
            eval_result er;
            if ((rc = evaluate(&t, &er, err))) break;
            if (t.rank == 0 && t.evalcsv)
                fprintf(t.evalcsv, "%lld,%.5f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", (long long)t.st.step, er.loss,
                        er.mlm_acc, er.mlm_baseline, er.node_acc, er.edge_auc, er.match_acc, er.stat_mse,
                        er.contrast_acc);
        }
        if (t.metrics) fflush(t.metrics);
        if (t.evalcsv) fflush(t.evalcsv);
    }
    res->steps_done = t.st.step;
    res->seconds = mir_wall_seconds() - t0;
    if (!rc && !res->interrupted) {
        rc = save(&t, err);
        if (!rc && t.n_eval > 0) {
            eval_result er;
            rc = evaluate(&t, &er, err);
            if (!rc) {
                res->heldout_mlm_acc = er.mlm_acc;
                res->heldout_mlm_baseline = er.mlm_baseline;
                res->heldout_node_acc = er.node_acc;
                res->heldout_edge_auc = er.edge_auc;
                res->heldout_match_acc = er.match_acc;
                if (t.rank == 0 && t.evalcsv)
                    fprintf(t.evalcsv, "%lld,%.5f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f\n", (long long)t.st.step, er.loss,
                            er.mlm_acc, er.mlm_baseline, er.node_acc, er.edge_auc, er.match_acc, er.stat_mse,
                            er.contrast_acc);
                if (t.rank == 0 && !o->quiet) {
                    char extra[128] = ""; /* the optional objectives' figures, only when they are on */
                    int k = t.cfg.stats ? snprintf(extra, sizeof extra, ", opcode-statistics MSE %.4f", er.stat_mse) : 0;
                    if (t.cfg.contrastive)
                        snprintf(extra + k, sizeof extra - (size_t)k, ", pair retrieval accuracy %.3f", er.contrast_acc);
                    mir_log(MIR_LOG_INFO,
                            "held out (%lld modules): masked-%s accuracy %.3f (most-frequent-token baseline %.3f), "
                            "node-text accuracy %.3f, edge AUC %.3f, matching accuracy %.3f%s",
                            (long long)(t.n_eval < o->eval_modules || !o->eval_modules ? t.n_eval : o->eval_modules),
                            t.cfg.statements ? "statement" : "token", er.mlm_acc, er.mlm_baseline, er.node_acc,
                            er.edge_auc, er.match_acc, extra);
                }
            }
        }
    }
    free(ids);
out:
    if (t.metrics) fclose(t.metrics);
    if (t.evalcsv) fclose(t.evalcsv);
    if (t.bufs)
        for (int j = 0; j < t.st.micro_batch; j++) mir_module_buf_free(&t.bufs[j]);
    free(t.bufs);
    free(t.views);
    free(t.starts);
    mir_batch_free(&t.batch);
    if (t.model.params) mir_model_free_f32(&t.model);
    res->pgemm_s = t.dist.t_gemm;
    res->grid_comm_s = t.dist.t_comm;
    res->grid_p = t.grid.P;
    res->grid_q = t.grid.Q;
    res->n_local_params = t.dist.n_local;
    mir_dist_free(&t.dist);
    if (t.have_grid) mir_grid_free(&t.grid);
    free(t.m1);
    free(t.m2);
    free(t.train_ids);
    free(t.eval_ids);
    free(t.unit_a);
    free(t.unit_b);
    free(t.train_units);
    free(t.pair_key);
    free(t.data.perm);
    if (t.trace) fclose(t.trace);
    mir_corpus_close(&t.corpus);
    return rc;
}

void mir_train_choose_grid(const mir_config *c, int n, double memory_per_rank, int *P, int *Q, char *why,
                           size_t why_size) {
    size_t n_params = 0;
    mir_params_table(c, NULL, &n_params);
    /* parameters, gradients, two moments, and as much again for activations and buffers */
    double need = 2.0 * 16.0 * (double)n_params;
    *P = *Q = 1;
    if (memory_per_rank <= 0 || need <= 0.5 * memory_per_rank) {
        snprintf(why, why_size,
                 "data parallelism, since the model with its optimiser state (%.0f MiB with room for activations) "
                 "fits in half a rank's share of memory (%.0f MiB), and data parallelism is the faster layout on "
                 "the machines measured (docs/performance.md); --grid PxQ overrides",
                 need / 1048576.0, memory_per_rank / 1048576.0);
        return;
    }
    for (int q = 2; q <= n; q++) {
        if (n % q) continue;
        if (need / q <= 0.5 * memory_per_rank || q == n) {
            *Q = q;
            snprintf(why, why_size,
                     "the model with its optimiser state (%.0f MiB with room for activations) does not fit in half "
                     "a rank's share of memory (%.0f MiB): its wide matrices are split over %d ranks%s",
                     need / 1048576.0, memory_per_rank / 1048576.0, q,
                     need / q <= 0.5 * memory_per_rank ? "" : " (all of them, and it may still not fit)");
            return;
        }
    }
}
