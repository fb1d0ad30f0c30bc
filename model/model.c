/*
 * model.c: the type-independent half of the model: configurations, the parameter table, and building
 * micro-batches (windows, masking, graph windows, edge and matching pairs) from corpus modules.
 */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "mir_common.h"

int mir_config_preset(mir_config *c, const char *name, int32_t vocab_size) {
    memset(c, 0, sizeof *c);
    c->vocab_size = vocab_size;
    if (!strcmp(name, "tiny")) {
        *c = (mir_config){vocab_size, 16, 16, 2, 1, 32, 2, 32, 0, 0, 0};
    } else if (!strcmp(name, "small")) {
        *c = (mir_config){vocab_size, 256, 128, 4, 4, 512, 4, 256, 0, 0, 0};
    } else if (!strcmp(name, "base")) {
        *c = (mir_config){vocab_size, 512, 256, 4, 4, 1024, 4, 512, 0, 0, 0};
    } else {
        return -1;
    }
    return 0;
}

int mir_config_check(const mir_config *c, char *msg, size_t cap) {
    if (c->vocab_size <= MIR_TOK_NSPECIAL) return snprintf(msg, cap, "vocab_size %d too small", c->vocab_size), -1;
    if (c->max_seq < 2 || c->max_seq > 8192) return snprintf(msg, cap, "max_seq %d out of [2, 8192]", c->max_seq), -1;
    if (c->d_model < 2 || c->n_heads < 1 || c->d_model % c->n_heads)
        return snprintf(msg, cap, "d_model %d must be a positive multiple of n_heads %d", c->d_model, c->n_heads), -1;
    if (c->n_layers < 0 || c->n_graph_layers < 0 || c->d_ff < 1)
        return snprintf(msg, cap, "layer counts must be >= 0 and d_ff >= 1"), -1;
    if (c->max_nodes < 4) return snprintf(msg, cap, "max_nodes %d too small", c->max_nodes), -1;
    if (c->stats < 0 || c->stats > 2) return snprintf(msg, cap, "stats %d must be 0, 1 or 2", c->stats), -1;
    if (c->contrastive != 0 && c->contrastive != 1)
        return snprintf(msg, cap, "contrastive %d must be 0 or 1", c->contrastive), -1;
    if (c->statements != 0 && c->statements != 1)
        return snprintf(msg, cap, "statements %d must be 0 or 1", c->statements), -1;
    return 0;
}

static void put(mir_tensor_info *info, int *k, size_t *off, const char *name, int32_t rows, int32_t cols) {
    if (info) {
        snprintf(info[*k].name, sizeof info[*k].name, "%s", name);
        info[*k].rows = rows;
        info[*k].cols = cols;
        info[*k].offset = *off;
    }
    (*k)++;
    *off += (size_t)rows * (size_t)cols;
}

mir_tensor_info *mir_params_table_new(const mir_config *c, int *n_tensors, size_t *n_elements) {
    *n_tensors = mir_params_table(c, NULL, n_elements);
    mir_tensor_info *t = mir_malloc((size_t)*n_tensors * sizeof *t);
    mir_params_table(c, t, NULL);
    return t;
}

int mir_params_table(const mir_config *c, mir_tensor_info *info, size_t *n_elements) {
    int k = 0;
    size_t off = 0;
    const int V = c->vocab_size, T = c->max_seq, C = c->d_model, F = c->d_ff;
    char n[48];
    put(info, &k, &off, "tok/wte", V, C);
    put(info, &k, &off, "tok/wpe", T, C);
    for (int l = 0; l < c->n_layers; l++) {
#define P(name, r, cl) (snprintf(n, sizeof n, "tok/h%d/" name, l), put(info, &k, &off, n, r, cl))
        P("ln1_g", 1, C); P("ln1_b", 1, C); P("w_qkv", C, 3 * C); P("b_qkv", 1, 3 * C);
        P("w_proj", C, C); P("b_proj", 1, C); P("ln2_g", 1, C); P("ln2_b", 1, C);
        P("w_fc", C, F); P("b_fc", 1, F); P("w_fc2", F, C); P("b_fc2", 1, C);
#undef P
    }
    put(info, &k, &off, "tok/lnf_g", 1, C);
    put(info, &k, &off, "tok/lnf_b", 1, C);
    put(info, &k, &off, "head/w_mlm", C, V);
    put(info, &k, &off, "head/b_mlm", 1, V);
    put(info, &k, &off, "graph/wne", V, C);
    put(info, &k, &off, "graph/wkind", MIR_N_NODE_KINDS, C);
    for (int g = 0; g < c->n_graph_layers; g++) {
#define P(name, r, cl) (snprintf(n, sizeof n, "graph/l%d/" name, g), put(info, &k, &off, n, r, cl))
        P("ln_g", 1, C); P("ln_b", 1, C); P("w_self", C, C); P("b", 1, C);
        for (int r = 0; r < MIR_N_RELATIONS; r++) {
            snprintf(n, sizeof n, "graph/l%d/w_rel%d", g, r);
            put(info, &k, &off, n, C, C);
        }
#undef P
    }
    put(info, &k, &off, "graph/lnf_g", 1, C);
    put(info, &k, &off, "graph/lnf_b", 1, C);
    put(info, &k, &off, "head/w_node", C, V);
    put(info, &k, &off, "head/b_node", 1, V);
    put(info, &k, &off, "head/w_edge", C, C);
    put(info, &k, &off, "head/w_match", 3 * C, 1);
    put(info, &k, &off, "head/b_match", 1, 1);
    if (c->stats) { /* last, so that a model without the head keeps the layout it always had */
        put(info, &k, &off, "head/w_stat", 2 * C, V);
        put(info, &k, &off, "head/b_stat", 1, V);
    }
    if (n_elements) *n_elements = off;
    return k;
}

/* ------------------------------------------------------------------------------------------------ */
/* batches                                                                                          */

void mir_batch_init(mir_batch *b) { memset(b, 0, sizeof *b); }

void mir_batch_free(mir_batch *b) {
    free(b->tok_in);
    free(b->tok_target);
    free(b->tok_valid);
    free(b->node_in);
    free(b->node_kind);
    free(b->node_target);
    free(b->node_offset);
    for (int r = 0; r < MIR_N_RELATIONS; r++) mir_csr_free(&b->rel[r]);
    free(b->pair_a);
    free(b->pair_b);
    free(b->pair_label);
    free(b->match_tok);
    free(b->match_graph);
    free(b->match_label);
    free(b->stat_target);
    free(b->stat_ids);
    free(b->node_depth);
    free(b->partner);
    free(b->stmt_off);
    free(b->stmt_piece);
    free(b->stmt_tgt_off);
    free(b->stmt_target);
    memset(b, 0, sizeof *b);
}

void mir_batch_options_default(mir_batch_options *o) {
    o->mask_prob = 0.15f;
    o->max_pairs = 32;
    o->train = 1;
}

static void ensure(void **p, size_t *cap, size_t need, size_t elem) {
    if (need > *cap) {
        *p = mir_realloc(*p, need * elem);
        *cap = need;
    }
}

int64_t mir_window_start(double f, int64_t n, int64_t w) {
    if (n <= w) return 0;
    int64_t s = (int64_t)floor(f * (double)(n - w + 1));
    return s < 0 ? 0 : s > n - w ? n - w : s;
}

/* A random word's id, never a special token's: BERT's random replacement of a masked position. */
static int32_t random_word(const mir_config *c, mir_rng *rng) {
    return MIR_TOK_NSPECIAL + (int32_t)mir_rng_below(rng, (uint64_t)(c->vocab_size - MIR_TOK_NSPECIAL));
}

/* Token window + BERT masking (80 % [MASK], 10 % random, 10 % unchanged) of sequence b. frac >= 0: the window
 * starts at that fraction of the module (aligned with a partner's) when training, instead of a drawn start. */
static void build_tokens(mir_batch *bt, int b, const mir_module_view *mv, const mir_config *c,
                         const mir_batch_options *o, double frac, mir_rng *rng) {
    int T = bt->T;
    int64_t n = mv->n_tokens, len = n < T ? n : T, start = 0;
    if (n > T && o->train)
        start = frac >= 0 ? mir_window_start(frac, n, T) : (int64_t)mir_rng_below(rng, (uint64_t)(n - T + 1));
    int32_t *in = bt->tok_in + (size_t)b * T, *tg = bt->tok_target + (size_t)b * T;
    uint8_t *va = bt->tok_valid + (size_t)b * T;
    int n_masked = 0;
    for (int t = 0; t < T; t++) {
        tg[t] = -1;
        if (t >= len) {
            in[t] = MIR_TOK_PAD;
            va[t] = 0;
            continue;
        }
        int32_t id = mv->tokens[start + t];
        in[t] = id;
        va[t] = 1;
        if (o->mask_prob > 0 && mir_rng_uniformf(rng) < o->mask_prob) {
            tg[t] = id;
            n_masked++;
            float u = mir_rng_uniformf(rng);
            if (u < 0.8f) in[t] = MIR_TOK_MASK;
            else if (u < 0.9f) in[t] = random_word(c, rng);
        }
    }
    if (o->mask_prob > 0 && n_masked == 0 && len > 0) { /* every sequence predicts at least one token */
        int t = (int)mir_rng_below(rng, (uint64_t)len);
        tg[t] = in[t];
        in[t] = MIR_TOK_MASK;
    }
}

/* ---- statement positions (cfg.statements) ---- */

/* The non-empty statements of a module view: tokens separated by MIR_TOK_SEP (a missing final SEP ends the last
 * statement; two SEPs in a row make no statement). Returns their number; first/len (may be NULL) receive each one's
 * first token and its number of pieces, capped at MIR_STMT_MAX_PIECES. */
static int64_t list_statements(const mir_module_view *mv, int64_t *first, int32_t *len) {
    int64_t n = 0, begin = 0;
    for (int64_t i = 0; i <= mv->n_tokens; i++) {
        if (i < mv->n_tokens && mv->tokens[i] != MIR_TOK_SEP) continue;
        if (i > begin) {
            if (first) first[n] = begin;
            if (len) len[n] = (int32_t)(i - begin < MIR_STMT_MAX_PIECES ? i - begin : MIR_STMT_MAX_PIECES);
            n++;
        }
        begin = i + 1;
    }
    return n;
}

/* Append n ids to one of the batch's growing id arrays (*arr of capacity *cap, *used in use). */
static void push_ids(int32_t **arr, size_t *cap, int *used, const int32_t *ids, int n) {
    size_t need = (size_t)*used + (size_t)n;
    if (need > *cap) {
        size_t c = *cap ? *cap : 1024;
        while (c < need) c *= 2;
        *arr = mir_realloc(*arr, c * sizeof **arr);
        *cap = c;
    }
    memcpy(*arr + *used, ids, (size_t)n * sizeof **arr);
    *used += n;
}

/* Statement window + masking of sequence b (cfg.statements): positions b*T .. b*T+T-1 of the CSR arrays, appended
 * after the pieces of sequences 0..b-1. The window: at most T statements, from a random start when training (at the
 * fraction frac >= 0 of the module's statements when aligned with a partner), else from the first. Masking, in the
 * random stream: per statement u < mask_prob chooses it, then v < 0.8 [MASK] alone, v < 0.9 the pieces of another
 * statement of the window (uniform; a random piece 5..V-1 when the window has one statement), else unchanged; a
 * sequence with none chosen gets one [MASK]ed statement. */
enum { STMT_KEEP = 0, STMT_MASK = 1, STMT_OTHER = 2, STMT_RANDOM = 3, STMT_SAME = 4 };
static void build_statements(mir_batch *bt, int b, const mir_module_view *mv, const mir_config *c,
                             const mir_batch_options *o, double frac, mir_rng *rng) {
    const int T = bt->T;
    const int64_t n = list_statements(mv, NULL, NULL);
    int64_t *first = mir_malloc((size_t)(n + 1) * sizeof *first);
    int32_t *len = mir_malloc((size_t)(n + 1) * sizeof *len);
    list_statements(mv, first, len);
    int64_t w = n < T ? n : T, start = 0;
    if (n > T && o->train)
        start = frac >= 0 ? mir_window_start(frac, n, T) : (int64_t)mir_rng_below(rng, (uint64_t)(n - T + 1));
    /* decisions first (mode, and the other statement or random piece), so that the fallback can still mask */
    int8_t *mode = mir_malloc((size_t)T * sizeof *mode);
    int32_t *arg = mir_malloc((size_t)T * sizeof *arg);
    int n_masked = 0;
    for (int t = 0; t < w; t++) {
        mode[t] = STMT_KEEP;
        if (!(o->mask_prob > 0 && mir_rng_uniformf(rng) < o->mask_prob)) continue;
        n_masked++;
        float u = mir_rng_uniformf(rng);
        if (u < 0.8f) {
            mode[t] = STMT_MASK;
        } else if (u < 0.9f) {
            if (w > 1) {
                int j = (int)mir_rng_below(rng, (uint64_t)(w - 1));
                mode[t] = STMT_OTHER;
                arg[t] = j >= t ? j + 1 : j;
            } else {
                mode[t] = STMT_RANDOM;
                arg[t] = random_word(c, rng);
            }
        } else {
            mode[t] = STMT_SAME;
        }
    }
    if (o->mask_prob > 0 && n_masked == 0 && w > 0) /* every sequence predicts at least one statement */
        mode[mir_rng_below(rng, (uint64_t)w)] = STMT_MASK;
    /* the CSR rows */
    const int32_t mask_id = MIR_TOK_MASK;
    for (int t = 0; t < T; t++) {
        const size_t i = (size_t)b * T + (size_t)t;
        bt->stmt_off[i] = bt->n_piece;
        bt->stmt_tgt_off[i] = bt->n_stmt_target;
        bt->tok_target[i] = -1;
        if (t >= w) { /* padding: no pieces */
            bt->tok_in[i] = 0;
            bt->tok_valid[i] = 0;
            continue;
        }
        const int32_t *own = mv->tokens + first[start + t];
        const int own_n = len[start + t];
        bt->tok_valid[i] = 1;
        if (mode[t] != STMT_KEEP) {
            push_ids(&bt->stmt_target, &bt->cap_stmt_target, &bt->n_stmt_target, own, own_n);
            bt->n_stmt_masked++;
        }
        if (mode[t] == STMT_MASK) push_ids(&bt->stmt_piece, &bt->cap_piece, &bt->n_piece, &mask_id, 1);
        else if (mode[t] == STMT_RANDOM) push_ids(&bt->stmt_piece, &bt->cap_piece, &bt->n_piece, &arg[t], 1);
        else if (mode[t] == STMT_OTHER)
            push_ids(&bt->stmt_piece, &bt->cap_piece, &bt->n_piece, mv->tokens + first[start + arg[t]],
                     len[start + arg[t]]);
        else push_ids(&bt->stmt_piece, &bt->cap_piece, &bt->n_piece, own, own_n);
        bt->tok_in[i] = bt->stmt_piece[bt->stmt_off[i]];
    }
    free(mode);
    free(arg);
    free(first);
    free(len);
}

typedef struct edge_list {
    int32_t *src, *dst;
    int8_t *flow;
    size_t n, cap;
} edge_list;

static void edge_push(edge_list *e, int32_t s, int32_t d, int8_t f) {
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 1024;
        e->src = mir_realloc(e->src, e->cap * sizeof *e->src);
        e->dst = mir_realloc(e->dst, e->cap * sizeof *e->dst);
        e->flow = mir_realloc(e->flow, e->cap * sizeof *e->flow);
    }
    e->src[e->n] = s;
    e->dst[e->n] = d;
    e->flow[e->n] = f;
    e->n++;
}

static int is_inst(const mir_module_view *mv, int32_t i) { return mv->node_kind[i] == MIR_NODE_INSTRUCTION; }

/* Graph window of module mv appended to the batch (nodes from *N on); edges appended to el with batch ids.
 * A graph with more than max_nodes nodes keeps the root, a run of max_nodes/2 consecutive instruction
 * nodes (random start when training, or at the fraction frac >= 0 of the instructions, aligned with a partner's)
 * and the variable/constant nodes they touch, up to max_nodes. */
static void build_graph(mir_batch *bt, const mir_module_view *mv, const mir_config *c, const mir_batch_options *o,
                        double frac, mir_rng *rng, edge_list *el) {
    int64_t nn = mv->n_nodes;
    int32_t base = bt->N;
    int32_t *map = mir_malloc((size_t)(nn + 1) * sizeof *map);
    int32_t kept = 0;
    if (nn <= c->max_nodes) {
        for (int64_t i = 0; i < nn; i++) map[i] = kept++;
    } else {
        for (int64_t i = 0; i < nn; i++) map[i] = -1;
        int64_t n_inst = 0;
        while (1 + n_inst < nn && mv->node_kind[1 + n_inst] == MIR_NODE_INSTRUCTION) n_inst++;
        int64_t K = c->max_nodes / 2, start = 1;
        if (K > n_inst) K = n_inst;
        if (o->train && n_inst > K)
            start = 1 + (frac >= 0 ? mir_window_start(frac, n_inst, K)
                                   : (int64_t)mir_rng_below(rng, (uint64_t)(n_inst - K + 1)));
        map[0] = kept++;
        for (int64_t i = start; i < start + K; i++) map[i] = kept++;
        for (int64_t e = 0; e < mv->n_edges && kept < c->max_nodes; e++) {
            int32_t s = mv->edge_src[e], d = mv->edge_dst[e];
            if (s < 0 || d < 0 || s >= nn || d >= nn) continue;
            if (map[s] >= 0 && is_inst(mv, s) && map[d] < 0 && !is_inst(mv, d)) map[d] = kept++;
            else if (map[d] >= 0 && is_inst(mv, d) && map[s] < 0 && !is_inst(mv, s) && kept < c->max_nodes)
                map[s] = kept++;
        }
    }
    uint8_t *depth = NULL; /* stats = 2: loop depths over the whole module, before the window cuts its loops */
    if (c->stats == 2) {
        depth = mir_malloc((size_t)nn + 1);
        mir_loop_depth(mv, depth);
    }
    /* nodes, in original order */
    for (int64_t i = 0; i < nn; i++) {
        if (map[i] < 0) continue;
        int32_t id = base + map[i];
        if (depth) bt->node_depth[id] = depth[i];
        bt->node_kind[id] = mv->node_kind[i];
        int32_t text = mv->node_text[i];
        bt->node_in[id] = text;
        bt->node_target[id] = -1;
        if (i > 0 && o->mask_prob > 0 && mir_rng_uniformf(rng) < o->mask_prob) {
            bt->node_target[id] = text;
            bt->node_in[id] = MIR_TOK_MASK;
        }
    }
    for (int64_t e = 0; e < mv->n_edges; e++) {
        int32_t s = mv->edge_src[e], d = mv->edge_dst[e];
        if (s < 0 || d < 0 || s >= nn || d >= nn || map[s] < 0 || map[d] < 0) continue;
        edge_push(el, base + map[s], base + map[d], mv->edge_flow[e]);
    }
    bt->N += kept;
    free(depth);
    free(map);
}

/* Statistics targets of the batch's graphs (after build_graph): per graph, log(1 + count) of each text among
 * its instruction nodes (root excepted), with the original text of masked nodes; the regressed slots are the
 * texts that occur in some graph of the batch. stats = 2: a node counts MIR_STAT_LOOP_WEIGHT^depth times. */
static void build_stat_targets(mir_batch *b, const mir_config *c) {
    const int V = c->vocab_size;
    ensure((void **)&b->stat_target, &b->cap_stat, (size_t)b->B * V, sizeof(float));
    if (!b->stat_ids) b->stat_ids = mir_malloc((size_t)V * sizeof *b->stat_ids); /* V is the model's, fixed */
    memset(b->stat_target, 0, (size_t)b->B * V * sizeof(float));
    for (int g = 0; g < b->B; g++) {
        float *t = b->stat_target + (size_t)g * V;
        for (int64_t i = b->node_offset[g] + 1; i < b->node_offset[g + 1]; i++) {
            if (b->node_kind[i] != MIR_NODE_INSTRUCTION) continue;
            int32_t text = b->node_target[i] >= 0 ? b->node_target[i] : b->node_in[i];
            float w = 1.0f;
            for (int d = 0; c->stats == 2 && d < b->node_depth[i] && d < MIR_STAT_LOOP_MAX_DEPTH; d++)
                w *= (float)MIR_STAT_LOOP_WEIGHT;
            if (text >= 0 && text < V) t[text] += w;
        }
    }
    b->n_stat = 0;
    for (int32_t v = 0; v < V; v++) {
        int any = 0;
        for (int g = 0; g < b->B && !any; g++) any = b->stat_target[(size_t)g * V + v] > 0;
        if (any) b->stat_ids[b->n_stat++] = v;
    }
    for (size_t i = 0; i < (size_t)b->B * V; i++) b->stat_target[i] = log1pf(b->stat_target[i]);
}

/* The batch's sizes (T: the longest window; an upper bound of the nodes) and its arrays reserved for them;
 * the node offsets allocated and the relations freed. Returns B*T. */
static size_t batch_reserve(mir_batch *b, const mir_module_view *mods, int m, const mir_config *c) {
    /* sizes */
    int T = 1;
    int64_t nodes = 0;
    for (int i = 0; i < m; i++) {
        int64_t n = c->statements ? list_statements(&mods[i], NULL, NULL) : mods[i].n_tokens;
        int64_t len = n < c->max_seq ? n : c->max_seq;
        if (len > T) T = (int)len;
        nodes += mods[i].n_nodes < c->max_nodes ? mods[i].n_nodes : c->max_nodes;
    }
    b->B = m;
    b->T = T;
    size_t bt = (size_t)m * (size_t)T;
    size_t cap = b->cap_bt;
    ensure((void **)&b->tok_in, &cap, bt, sizeof(int32_t));
    cap = b->cap_bt;
    ensure((void **)&b->tok_target, &cap, bt, sizeof(int32_t));
    cap = b->cap_bt;
    ensure((void **)&b->tok_valid, &cap, bt, 1);
    b->cap_bt = cap;
    if (c->statements) {
        cap = b->cap_stmt_off;
        ensure((void **)&b->stmt_off, &cap, bt + 1, sizeof(int32_t));
        cap = b->cap_stmt_off;
        ensure((void **)&b->stmt_tgt_off, &cap, bt + 1, sizeof(int32_t));
        b->cap_stmt_off = cap;
        b->n_piece = b->n_stmt_target = b->n_stmt_masked = 0;
    }
    cap = b->cap_n;
    ensure((void **)&b->node_in, &cap, (size_t)nodes + 1, sizeof(int32_t));
    cap = b->cap_n;
    ensure((void **)&b->node_kind, &cap, (size_t)nodes + 1, 1);
    cap = b->cap_n;
    ensure((void **)&b->node_target, &cap, (size_t)nodes + 1, sizeof(int32_t));
    b->cap_n = cap;
    if (c->stats == 2) b->node_depth = mir_realloc(b->node_depth, (size_t)nodes + 1);
    free(b->node_offset);
    b->node_offset = mir_malloc((size_t)(m + 1) * sizeof *b->node_offset);
    for (int r = 0; r < MIR_N_RELATIONS; r++) mir_csr_free(&b->rel[r]);
    return bt;
}

/* partners (cfg.contrastive): the first two sequences of each source; when training, one window fraction per
 * pair, drawn here (only with the switch, so that the stream without it is unchanged). Returns the fractions
 * (m + 1, -1 where none; the caller frees them). */
static double *batch_partners(mir_batch *b, const mir_module_view *mods, int m, const mir_config *c,
                              const mir_batch_options *o, mir_rng *rng) {
    free(b->partner);
    b->partner = mir_malloc((size_t)(m + 1) * sizeof *b->partner);
    double *frac = mir_malloc((size_t)(m + 1) * sizeof *frac);
    for (int i = 0; i < m; i++) b->partner[i] = -1, frac[i] = -1;
    for (int i = 0; i < m && c->contrastive; i++) {
        if (mods[i].source < 0 || b->partner[i] >= 0) continue;
        int taken = 0; /* an earlier sequence of this source already paired: i stays without */
        for (int j = 0; j < i && !taken; j++) taken = mods[j].source == mods[i].source;
        for (int j = i + 1; j < m && !taken; j++)
            if (mods[j].source == mods[i].source) {
                b->partner[i] = j;
                b->partner[j] = i;
                if (o->train) frac[i] = frac[j] = mir_rng_uniform(rng);
                break;
            }
    }
    return frac;
}

/* edge reconstruction pairs: per graph up to max_pairs positive edges and as many sampled non-edges (the edges of
 * graph i are el's [edge_first[i], edge_first[i + 1])) */
static void build_pairs(mir_batch *b, int m, const edge_list *el, const int64_t *edge_first,
                        const mir_batch_options *o, mir_rng *rng) {
    int maxp = o->max_pairs;
    size_t pcap = b->cap_pairs;
    size_t need = (size_t)m * (size_t)(2 * (maxp > 0 ? maxp : 0)) + 1;
    ensure((void **)&b->pair_a, &pcap, need, sizeof(int32_t));
    pcap = b->cap_pairs;
    ensure((void **)&b->pair_b, &pcap, need, sizeof(int32_t));
    pcap = b->cap_pairs;
    ensure((void **)&b->pair_label, &pcap, need, sizeof(float));
    b->cap_pairs = pcap;
    b->n_pairs = 0;
    for (int i = 0; i < m && maxp > 0; i++) {
        int64_t ne = edge_first[i + 1] - edge_first[i];
        if (ne == 0) continue;
        int k = ne < maxp ? (int)ne : maxp;
        int first = b->n_pairs;
        for (int j = 0; j < k; j++) {
            int64_t e = edge_first[i] + (ne <= maxp ? j : (int64_t)mir_rng_below(rng, (uint64_t)ne));
            b->pair_a[b->n_pairs] = el->src[e];
            b->pair_b[b->n_pairs] = el->dst[e];
            b->pair_label[b->n_pairs] = 1.0f;
            b->n_pairs++;
        }
        mir_sample_non_edges(b->pair_b + b->n_pairs, b->pair_a + first, k, (int32_t)b->node_offset[i],
                             (int32_t)b->node_offset[i + 1], b->rel, rng);
        for (int j = 0; j < k; j++) {
            b->pair_a[b->n_pairs] = b->pair_a[first + j];
            b->pair_label[b->n_pairs] = 0.0f;
            b->n_pairs++;
        }
    }
}

/* matching: each sequence with its own graph (1) and with the next module's graph (0) */
static void build_matching(mir_batch *b, int m) {
    size_t mcap = b->cap_match;
    ensure((void **)&b->match_tok, &mcap, (size_t)(2 * m), sizeof(int32_t));
    mcap = b->cap_match;
    ensure((void **)&b->match_graph, &mcap, (size_t)(2 * m), sizeof(int32_t));
    mcap = b->cap_match;
    ensure((void **)&b->match_label, &mcap, (size_t)(2 * m), sizeof(float));
    b->cap_match = mcap;
    b->n_match = 0;
    for (int i = 0; i < m; i++) {
        b->match_tok[b->n_match] = i;
        b->match_graph[b->n_match] = i;
        b->match_label[b->n_match++] = 1.0f;
        if (m > 1) {
            b->match_tok[b->n_match] = i;
            b->match_graph[b->n_match] = (i + 1) % m;
            b->match_label[b->n_match++] = 0.0f;
        }
    }
}

void mir_batch_build(mir_batch *b, const mir_module_view *mods, int m, const mir_config *c,
                     const mir_batch_options *o, mir_rng *rng) {
    size_t bt = batch_reserve(b, mods, m, c);
    double *frac = batch_partners(b, mods, m, c, o, rng);

    /* the sequences and graph windows, module by module; then the statistics targets and the relations */
    edge_list el = {0};
    int64_t *edge_first = mir_malloc((size_t)(m + 1) * sizeof *edge_first);
    b->N = 0;
    for (int i = 0; i < m; i++) {
        if (c->statements) build_statements(b, i, &mods[i], c, o, frac[i], rng);
        else build_tokens(b, i, &mods[i], c, o, frac[i], rng);
        b->node_offset[i] = b->N;
        edge_first[i] = (int64_t)el.n;
        build_graph(b, &mods[i], c, o, frac[i], rng, &el);
    }
    free(frac);
    if (c->statements) {
        b->stmt_off[bt] = b->n_piece;
        b->stmt_tgt_off[bt] = b->n_stmt_target;
    }
    b->node_offset[m] = b->N;
    edge_first[m] = (int64_t)el.n;
    if (c->stats) build_stat_targets(b, c);
    mir_relations_build(b->rel, el.src, el.dst, el.flow, (int64_t)el.n, b->N);

    build_pairs(b, m, &el, edge_first, o, rng);
    build_matching(b, m);
    free(edge_first);
    free(el.src);
    free(el.dst);
    free(el.flow);
}

double mir_model_flops(const mir_config *c, const mir_batch *b) {
    const double B = b->B, T = b->T, C = c->d_model, F = c->d_ff, V = c->vocab_size, N = b->N;
    double Mt = 0, Mn = 0;
    for (int i = 0; i < b->B * b->T; i++) Mt += b->tok_target[i] >= 0;
    if (c->statements) Mt = b->n_stmt_masked; /* T counts statements: the blocks below cost what they cost at T */
    for (int i = 0; i < b->N; i++) Mn += b->node_target[i] >= 0;
    double BT = B * T;
    double block = 2 * BT * C * 3 * C + 2 * 2 * B * T * T * C + 2 * BT * C * C + 2 * 2 * BT * C * F;
    double rows = N; /* w_self on every node, w_rel[r] on the rows that receive messages through r */
    for (int r = 0; r < MIR_N_RELATIONS; r++) rows += b->rel[r].n_rows;
    double graph = 2 * rows * C * C;
    double fwd = c->n_layers * block + c->n_graph_layers * graph + 2 * Mt * C * V + 2 * Mn * C * V +
                 (b->n_pairs ? 2 * N * C * C : 0) + 2 * b->n_match * 3 * C;
    int anchors = 0; /* contrastive: the similarities of the normalised embeddings, (B,2C) @ (2C,B) */
    for (int i = 0; c->contrastive && b->partner && i < b->B; i++) anchors += b->partner[i] >= 0;
    if (anchors) fwd += 2 * B * B * 2 * C;
    if (c->statements) fwd += (double)b->n_piece * C; /* the statement embedding, a sum of piece rows (negligible) */
    return 3 * fwd;
}
