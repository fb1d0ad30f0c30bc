/*
 * preprocess.c: the collective corpus builder (see preprocess.h for the passes).
 */
#include "preprocess.h"

#include <llvm-c/Core.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "corpus.h"
#include "h5util.h"
#include "inputs.h"
#include "irmodule.h"
#include "isolate.h"
#include "model_file.h"
#include "mpi_util.h"
#include "probe.h"

#ifndef MIR_VERSION_STRING
#define MIR_VERSION_STRING "0.0.0"
#endif

enum { PH_READ, PH_COMPILE, PH_PARSE, PH_TOKENS, PH_GRAPH, PH_ENCODE, PH_WRITE, N_PHASES };
static const char *const phase_names[N_PHASES] = {"read", "compile", "parse", "tokens", "graph", "encode", "write"};
enum { CT_MODULES, CT_FAILURES, CT_DUPLICATES, CT_WORDS, CT_TOKENS, CT_UNK, CT_NODES, CT_EDGES, N_COUNTS };
static const char *const count_names[N_COUNTS] = {"modules", "failures", "duplicates", "words",
                                                  "tokens",  "unk_tokens", "nodes", "edges"};

static int is_failure(int status) { return status != MIR_STATUS_OK && status != MIR_STATUS_DUPLICATE; }

void mir_pp_options_default(mir_pp_options *o) {
    memset(o, 0, sizeof *o);
    mir_vocab_options_default(&o->vocab);
    mir_compile_options_default(&o->cc);
    o->max_module_bytes = (int64_t)256 << 20;
    o->progress = 1;
    o->progress_interval_s = 2.0;
    o->options_text = "";
    o->isolation = 1;
    o->limits = mir_worker_limits_default();
}

/* ------------------------------------------------------------------------------------------------ */
/* per-rank word interning: word -> local id, with counts                                           */

typedef struct strtab {
    char *text;
    size_t text_bytes, text_cap;
    uint32_t *off, *len; /* (n) */
    int64_t *count;      /* (n) */
    uint8_t *node_text;  /* (n) 1 if the word is some graph node's text */
    size_t n, cap;
    int32_t *slots;      /* open addressing, -1 empty */
    size_t n_slots;
} strtab;

static void strtab_init(strtab *t) {
    memset(t, 0, sizeof *t);
    t->n_slots = 1024;
    t->slots = mir_malloc(t->n_slots * sizeof *t->slots);
    memset(t->slots, 0xff, t->n_slots * sizeof *t->slots);
}

static void strtab_free(strtab *t) {
    free(t->text);
    free(t->off);
    free(t->len);
    free(t->count);
    free(t->node_text);
    free(t->slots);
}

static inline const char *strtab_get(const strtab *t, int32_t id) { return t->text + t->off[id]; }

static void strtab_rehash(strtab *t) {
    free(t->slots);
    t->n_slots *= 2;
    t->slots = mir_malloc(t->n_slots * sizeof *t->slots);
    memset(t->slots, 0xff, t->n_slots * sizeof *t->slots);
    for (size_t id = 0; id < t->n; id++) {
        size_t h = mir_hash64(t->text + t->off[id], t->len[id]) & (t->n_slots - 1);
        while (t->slots[h] >= 0) h = (h + 1) & (t->n_slots - 1);
        t->slots[h] = (int32_t)id;
    }
}

/* Intern word (adding n to its count); returns its local id. */
static int32_t strtab_add(strtab *t, const char *w, size_t len, int64_t n) {
    if (2 * (t->n + 1) > t->n_slots) strtab_rehash(t);
    size_t h = mir_hash64(w, len) & (t->n_slots - 1);
    for (;;) {
        int32_t id = t->slots[h];
        if (id < 0) break;
        if (t->len[id] == len && memcmp(t->text + t->off[id], w, len) == 0) {
            t->count[id] += n;
            return id;
        }
        h = (h + 1) & (t->n_slots - 1);
    }
    MIR_GROW(t->text, t->text_cap, t->text_bytes + len + 1);
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 1024;
        t->off = mir_realloc(t->off, cap * sizeof *t->off);
        t->len = mir_realloc(t->len, cap * sizeof *t->len);
        t->count = mir_realloc(t->count, cap * sizeof *t->count);
        t->node_text = mir_realloc(t->node_text, cap * sizeof *t->node_text);
        t->cap = cap;
    }
    memcpy(t->text + t->text_bytes, w, len);
    t->text[t->text_bytes + len] = 0;
    t->off[t->n] = (uint32_t)t->text_bytes;
    t->len[t->n] = (uint32_t)len;
    t->count[t->n] = n;
    t->node_text[t->n] = 0;
    t->text_bytes += len + 1;
    t->slots[h] = (int32_t)t->n;
    return (int32_t)t->n++;
}

/* ------------------------------------------------------------------------------------------------ */
/* module records                                                                                   */

typedef struct module_rec {
    int64_t index;       /* global position */
    int32_t status;
    char *error;         /* NULL when ok */
    /* before encoding: local word ids; after: token ids */
    int32_t *tokens;
    int64_t n_tokens;
    int64_t n_words;     /* words of the statements (the separators not counted) */
    int64_t n_seps;      /* statement separators (statement_sep), one per statement */
    /* graph (node_text: local word ids, then vocabulary ids) */
    int64_t n_nodes, n_edges;
    int8_t *node_kind;
    int32_t *node_text, *node_function;
    int32_t *edge_src, *edge_dst, *edge_position;
    int8_t *edge_flow;
} module_rec;

static void rec_free(module_rec *r) {
    free(r->error);
    free(r->tokens);
    free(r->node_kind);
    free(r->node_text);
    free(r->node_function);
    free(r->edge_src);
    free(r->edge_dst);
    free(r->edge_position);
    free(r->edge_flow);
    memset(r, 0, sizeof *r);
}

/* Messages are stored as one line of printable ASCII: LLVM quotes the offending input (which may be
 * random bytes) on the lines after the first, so only the first line is kept and other bytes become '?'. */
static void rec_fail(module_rec *r, int status, const mir_error *e) {
    r->status = status;
    free(r->error);
    r->error = mir_strdup(e->msg);
    char *p = r->error;
    for (; *p && *p != '\n'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) *p = '?';
    *p = '\0';
}

/* Local word id of a statement separator (statement_sep): never interned, so never counted for the vocabulary
 * nor split into pieces; encode_records writes MIR_TOK_SEP for it. */
enum { SEP_LOCAL = -1 };

/* Copy an extraction into r, interning words into t; with statement_sep, the separators become SEP_LOCAL. */
static void rec_take_extract(module_rec *r, const mir_extract *x, strtab *t, int statement_sep) {
    r->n_words = 0;
    r->tokens = mir_malloc((x->words.n + 1) * sizeof *r->tokens);
    for (size_t i = 0; i < x->words.n; i++) {
        const char *w = mir_words_get(&x->words, i);
        if (statement_sep && mir_is_sep_word(w, x->words.len[i])) {
            r->tokens[i] = SEP_LOCAL;
            continue;
        }
        r->tokens[i] = strtab_add(t, w, x->words.len[i], 1);
        r->n_words++;
    }
    r->n_seps = (int64_t)x->words.n - r->n_words;
    const mir_graph *g = &x->graph;
    r->n_nodes = (int64_t)g->n_nodes;
    r->n_edges = (int64_t)g->n_edges;
    r->node_kind = mir_malloc(g->n_nodes);
    r->node_text = mir_malloc(g->n_nodes * sizeof(int32_t));
    r->node_function = mir_malloc(g->n_nodes * sizeof(int32_t));
    memcpy(r->node_kind, g->node_kind, g->n_nodes);
    memcpy(r->node_function, g->node_function, g->n_nodes * sizeof(int32_t));
    for (size_t i = 0; i < g->n_nodes; i++) {
        r->node_text[i] = strtab_add(t, mir_words_get(&g->node_text, i), g->node_text.len[i], 1);
        t->node_text[r->node_text[i]] = 1;
    }
    size_t eb = g->n_edges * sizeof(int32_t);
    r->edge_src = mir_malloc(eb);
    r->edge_dst = mir_malloc(eb);
    r->edge_position = mir_malloc(eb);
    r->edge_flow = mir_malloc(g->n_edges);
    memcpy(r->edge_src, g->edge_src, eb);
    memcpy(r->edge_dst, g->edge_dst, eb);
    memcpy(r->edge_position, g->edge_position, eb);
    memcpy(r->edge_flow, g->edge_flow, g->n_edges);
}

/* ------------------------------------------------------------------------------------------------ */
/* progress: workers send their count to rank 0 (tiny eager messages); rank 0 drains and prints     */

enum { TAG_PROGRESS = 101 };

typedef struct progress {
    MPI_Comm comm;     /* a private duplicate */
    int rank, nranks;
    int64_t total, mine, *seen; /* seen[r]: last count rank r reported (rank 0 only) */
    int n_done;        /* ranks that reported their final count */
    double t0, last_print, last_send, interval;
    int enabled;
} progress;

static void progress_init(progress *p, MPI_Comm comm, int64_t total, double interval, int enabled) {
    memset(p, 0, sizeof *p);
    MPI_Comm_dup(comm, &p->comm);
    MPI_Comm_rank(p->comm, &p->rank);
    MPI_Comm_size(p->comm, &p->nranks);
    p->total = total;
    p->interval = interval;
    p->enabled = enabled;
    p->t0 = p->last_print = p->last_send = mir_wall_seconds();
    if (p->rank == 0) p->seen = mir_calloc((size_t)p->nranks, sizeof *p->seen);
}

static void progress_drain(progress *p, int block_until_all_done) {
    for (;;) {
        int flag = 0;
        MPI_Status st;
        if (block_until_all_done && p->n_done < p->nranks - 1) {
            MPI_Probe(MPI_ANY_SOURCE, TAG_PROGRESS, p->comm, &st);
            flag = 1;
        } else {
            MPI_Iprobe(MPI_ANY_SOURCE, TAG_PROGRESS, p->comm, &flag, &st);
        }
        if (!flag) return;
        int64_t msg[2];
        MPI_Recv(msg, 2, MPI_INT64_T, st.MPI_SOURCE, TAG_PROGRESS, p->comm, MPI_STATUS_IGNORE);
        p->seen[st.MPI_SOURCE] = msg[0];
        if (msg[1]) p->n_done++;
        if (block_until_all_done) {
            double now = mir_wall_seconds();
            if (p->enabled && now - p->last_print >= p->interval) {
                int64_t done = p->mine;
                for (int r = 1; r < p->nranks; r++) done += p->seen[r];
                double rate = done / (now - p->t0 > 1e-9 ? now - p->t0 : 1e-9);
                mir_log(MIR_LOG_INFO, "%lld/%lld modules, %.1f modules/s, ETA %.0f s", (long long)done,
                        (long long)p->total, rate, rate > 0 ? (p->total - done) / rate : 0.0);
                p->last_print = now;
            }
        }
    }
}

static void progress_step(progress *p) {
    p->mine++;
    double now = mir_wall_seconds();
    if (p->rank != 0) {
        if (now - p->last_send >= 0.5 * p->interval) {
            int64_t msg[2] = {p->mine, 0};
            MPI_Send(msg, 2, MPI_INT64_T, 0, TAG_PROGRESS, p->comm);
            p->last_send = now;
        }
        return;
    }
    progress_drain(p, 0);
    if (p->enabled && now - p->last_print >= p->interval) {
        int64_t done = p->mine;
        for (int r = 1; r < p->nranks; r++) done += p->seen[r];
        double rate = done / (now - p->t0);
        mir_log(MIR_LOG_INFO, "%lld/%lld modules, %.1f modules/s, ETA %.0f s", (long long)done, (long long)p->total,
                rate, rate > 0 ? (p->total - done) / rate : 0.0);
        p->last_print = now;
    }
}

static void progress_finish(progress *p) {
    if (p->rank != 0) {
        int64_t msg[2] = {p->mine, 1};
        MPI_Send(msg, 2, MPI_INT64_T, 0, TAG_PROGRESS, p->comm);
    } else {
        progress_drain(p, 1);
    }
    free(p->seen);
    MPI_Comm_free(&p->comm);
}

/* ------------------------------------------------------------------------------------------------ */
/* pass 0 and pass 1                                                                                */

typedef struct run_state {
    const mir_pp_options *o;
    MPI_Comm comm;
    int rank, nranks;
    /* global, on every rank */
    int64_t n;              /* modules */
    char **names;           /* (n) as written to /modules/name: the path, plus @O<level> with several levels */
    char **paths;           /* (n) the file to read or compile */
    char *opt;              /* (n) clang level of a source module ('0'..'3', 's', 'z'), 0: cc.opt_level */
    int64_t *source;        /* (n) index of the first module compiled from the same source, else the module's own */
    int64_t *bytes;         /* (n) stat size, -1 missing */
    int *lang;              /* (n) */
    int *owner;             /* (n) processing rank */
    uint64_t *hash;         /* (n) content hash, 0 if unreadable */
    int64_t *dup_of;        /* (n) index of the first identical module, or -1 */
    /* this rank */
    module_rec *recs;       /* records of modules this rank processed */
    size_t n_recs;
    strtab words;
    mir_probe *probe;
    mir_worker *worker;     /* NULL: parse in-process (--no-isolation) */
    mir_extract_options xo; /* how modules are extracted (the worker's copy is its fork's) */
} run_state;

int mir_inputs_expand_bcast(char *const *inputs, int n_inputs, int compile, MPI_Comm comm, mir_input_list *list,
                            mir_error *err) {
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(list, 0, sizeof *list);
    int64_t n = 0, blob_bytes = 0;
    char *blob = NULL;
    if (rank == 0) {
        if (mir_inputs_expand(inputs, n_inputs, compile, list, err) == 0) {
            for (size_t i = 0; i < list->n; i++) blob_bytes += (int64_t)strlen(list->items[i].path) + 1;
            blob = mir_malloc((size_t)blob_bytes + 1);
            char *w = blob;
            for (size_t i = 0; i < list->n; i++) {
                size_t l = strlen(list->items[i].path) + 1;
                memcpy(w, list->items[i].path, l);
                w += l;
            }
            n = (int64_t)list->n;
        } else {
            n = -1;
        }
    }
    MPI_Bcast(&n, 1, MPI_INT64_T, 0, comm);
    if (n < 0) {
        MPI_Bcast(err->msg, MIR_ERROR_MAX, MPI_CHAR, 0, comm);
        return -1;
    }
    MPI_Bcast(&blob_bytes, 1, MPI_INT64_T, 0, comm);
    if (rank != 0) blob = mir_malloc((size_t)blob_bytes + 1);
    MPI_Bcast(blob, (int)blob_bytes, MPI_CHAR, 0, comm);
    int64_t *bytes = mir_calloc((size_t)n + 1, sizeof *bytes);
    int *lang = mir_calloc((size_t)n + 1, sizeof *lang);
    if (rank == 0)
        for (int64_t i = 0; i < n; i++) {
            bytes[i] = list->items[i].bytes;
            lang[i] = list->items[i].lang;
        }
    MPI_Bcast(bytes, (int)n, MPI_INT64_T, 0, comm);
    MPI_Bcast(lang, (int)n, MPI_INT, 0, comm);
    if (rank != 0) {
        list->items = mir_calloc((size_t)n + 1, sizeof *list->items);
        list->n = list->cap = (size_t)n;
        const char *p = blob;
        for (int64_t i = 0; i < n; i++) {
            list->items[i].path = mir_strdup(p);
            p += strlen(p) + 1;
        }
    }
    for (int64_t i = 0; i < n; i++) {
        list->items[i].bytes = bytes[i];
        list->items[i].lang = lang[i];
    }
    free(bytes);
    free(lang);
    free(blob);
    return 0;
}

static int broadcast_inputs(run_state *s, mir_error *err) {
    mir_input_list list;
    if (mir_inputs_expand_bcast(s->o->inputs, s->o->n_inputs, s->o->compile, s->comm, &list, err)) {
        s->n = -1;
        return -1;
    }
    /* every rank holds the same sorted list, so every rank derives the same modules from it */
    if (s->o->compile && s->o->opt_levels[0]) mir_inputs_at_levels(&list, s->o->opt_levels);
    int several = strlen(s->o->opt_levels) > 1;
    s->n = (int64_t)list.n;
    s->names = mir_calloc((size_t)s->n + 1, sizeof *s->names);
    s->paths = mir_calloc((size_t)s->n + 1, sizeof *s->paths);
    s->opt = mir_calloc((size_t)s->n + 1, sizeof *s->opt);
    s->source = mir_calloc((size_t)s->n + 1, sizeof *s->source);
    s->bytes = mir_calloc((size_t)s->n + 1, sizeof *s->bytes);
    s->lang = mir_calloc((size_t)s->n + 1, sizeof *s->lang);
    for (int64_t i = 0; i < s->n; i++) {
        mir_input *in = &list.items[i];
        s->paths[i] = in->path; /* ownership moves */
        s->opt[i] = in->opt;
        s->bytes[i] = in->bytes;
        s->lang[i] = in->lang;
        /* the list is free of repeated paths, so equal neighbours are levels of one source */
        s->source[i] = i > 0 && in->opt && !strcmp(in->path, s->paths[i - 1]) ? s->source[i - 1] : i;
        if (several && in->opt) {
            size_t l = strlen(in->path) + 4;
            s->names[i] = mir_malloc(l);
            snprintf(s->names[i], l, "%s@O%c", in->path, in->opt);
        } else {
            s->names[i] = mir_strdup(in->path);
        }
        in->path = NULL;
    }
    free(list.items);
    return 0;
}

static uint64_t hash_file(const char *path, int64_t max_bytes) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint64_t h = mir_hash64("", 0);
    char buf[1 << 16];
    size_t got;
    int64_t total = 0;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0 && total <= max_bytes) {
        h = mir_hash64_continue(h, buf, got);
        total += (int64_t)got;
    }
    fclose(f);
    return total == 0 ? 0 : (h ? h : 1);
}

/* Pass 0: deal, hash, find duplicates. With several levels, a source module's hash covers its bytes and then
 * "-O<level>", so that the levels of one source are not duplicates of each other while the same level of two
 * identical sources still is. */
static void pass0(run_state *s) {
    s->owner = mir_malloc((size_t)(s->n + 1) * sizeof *s->owner);
    mir_deal_by_size(s->bytes, (size_t)s->n, s->nranks, s->owner);
    s->hash = mir_calloc((size_t)s->n + 1, sizeof *s->hash);
    mir_probe_begin(s->probe, PH_READ);
    for (int64_t i = 0; i < s->n; i++)
        if (s->owner[i] == s->rank && s->bytes[i] > 0 && s->bytes[i] <= s->o->max_module_bytes) {
            s->hash[i] = hash_file(s->paths[i], s->o->max_module_bytes);
            if (s->hash[i] && s->opt[i] && strlen(s->o->opt_levels) > 1) {
                char tag[3] = {'-', 'O', s->opt[i]};
                s->hash[i] = mir_hash64_continue(s->hash[i], tag, sizeof tag);
                if (!s->hash[i]) s->hash[i] = 1;
            }
        }
    mir_probe_end(s->probe, PH_READ);
    MPI_Allreduce(MPI_IN_PLACE, s->hash, (int)s->n, MPI_UINT64_T, MPI_BOR, s->comm);
    /* first occurrence of each hash, by global order: sort indices by (hash, index) */
    s->dup_of = mir_malloc((size_t)(s->n + 1) * sizeof *s->dup_of);
    int64_t *idx = mir_malloc((size_t)(s->n + 1) * sizeof *idx);
    for (int64_t i = 0; i < s->n; i++) {
        s->dup_of[i] = -1;
        idx[i] = i;
    }
    /* insertion into a hash table keyed by content hash */
    size_t cap = 64;
    while (cap < 2 * (size_t)s->n + 2) cap *= 2;
    int64_t *table = mir_malloc(cap * sizeof *table);
    memset(table, 0xff, cap * sizeof *table);
    for (int64_t i = 0; i < s->n; i++) {
        uint64_t h = s->hash[i];
        if (!h) continue;
        size_t k = (size_t)(h * 0x9E3779B97F4A7C15ULL) & (cap - 1);
        while (table[k] >= 0 && s->hash[table[k]] != h) k = (k + 1) & (cap - 1);
        if (table[k] < 0)
            table[k] = i;
        else
            s->dup_of[i] = table[k];
    }
    free(table);
    free(idx);
}

int mir_module_bytes(const char *path, int lang, int compile, const mir_compile_options *cc, int64_t max_bytes,
                     char **data, size_t *bytes, int *status, mir_error *err) {
    struct stat st;
    *data = NULL;
    *bytes = 0;
    if (stat(path, &st) != 0) {
        *status = MIR_STATUS_READ_ERROR;
        return mir_fail(err, "%s: no such file or not accessible", path);
    }
    if (S_ISDIR(st.st_mode)) {
        *status = MIR_STATUS_READ_ERROR;
        return mir_fail(err, "%s: is a directory that could not be read", path);
    }
    if (st.st_size == 0) {
        *status = MIR_STATUS_EMPTY;
        return mir_fail(err, "%s: empty file", path);
    }
    if ((int64_t)st.st_size > max_bytes) {
        *status = MIR_STATUS_TOO_LARGE;
        return mir_fail(err, "%s: %lld bytes, over the limit of %lld MiB (--max-module-mb)", path,
                        (long long)st.st_size, (long long)(max_bytes >> 20));
    }
    if (lang != MIR_SRC_IR && compile) {
        if (mir_compile_source(path, (mir_source_lang)lang, cc, data, bytes, err)) {
            *status = MIR_STATUS_COMPILE_ERROR;
            return -1;
        }
    } else if (mir_read_file(path, data, bytes, err)) {
        *status = MIR_STATUS_READ_ERROR;
        return -1;
    }
    return 0;
}

/* Pass 1 holds a module between its reading and its extraction: with a worker, the child extracts module
 * j + 1 while the rank unpacks module j's reply (worker.h: pipelining). */
typedef struct staged {
    int64_t i;   /* module index */
    int waiting; /* 1: its extraction is to come (finish_module); 0: its record is final (a failure, a duplicate) */
    char *data;  /* in-process only: its bytes (with a worker they were handed to it) */
    size_t n;
} staged;

/* Pass 1, first half: read or compile module i. A duplicate or a failure is recorded in r now; otherwise the
 * bytes go to the worker, or wait in st for the in-process extraction. */
static void stage_module(run_state *s, int64_t i, module_rec *r, staged *st) {
    const mir_pp_options *o = s->o;
    const char *name = s->names[i];
    mir_error e = {{0}};
    *st = (staged){i, 0, NULL, 0};
    r->index = i;
    r->status = MIR_STATUS_OK;
    if (s->dup_of[i] >= 0) {
        mir_fail(&e, "%s: same content as %s", name, s->names[s->dup_of[i]]);
        rec_fail(r, MIR_STATUS_DUPLICATE, &e);
        return;
    }
    int status = 0;
    int compiling = s->lang[i] != MIR_SRC_IR && o->compile;
    mir_compile_options cc = o->cc;
    char level[2] = {s->opt[i], 0};
    if (s->opt[i]) cc.opt_level = level;
    mir_probe_begin(s->probe, compiling ? PH_COMPILE : PH_READ);
    int brc = mir_module_bytes(s->paths[i], s->lang[i], o->compile, &cc, o->max_module_bytes, &st->data, &st->n,
                               &status, &e);
    mir_probe_end(s->probe, compiling ? PH_COMPILE : PH_READ);
    if (brc) {
        rec_fail(r, status, &e);
        return;
    }
    st->waiting = 1;
    if (!s->worker) return;
    mir_extract_submit(s->worker, name, st->data, st->n);
    free(st->data);
    st->data = NULL;
}

/* Second half: parse and extract a staged module into r (its reply from the worker, or here). */
static void finish_module(run_state *s, module_rec *r, staged *st, mir_extract *x) {
    if (!st->waiting) return;
    const char *name = s->names[st->i];
    mir_error e = {{0}};
    int status = 0, rc;
    mir_extract_probe xp = {s->probe, PH_TOKENS, PH_GRAPH};
    if (s->worker)
        rc = mir_extract_collect(s->worker, name, x, &xp, PH_PARSE, &status, &e);
    else
        rc = mir_extract_bytes(NULL, name, st->data, st->n, &s->xo, x, &xp, PH_PARSE, &status, &e);
    if (rc)
        rec_fail(r, status, &e);
    else
        rec_take_extract(r, x, &s->words, s->xo.statement_sep);
    free(st->data);
    *st = (staged){0};
}

/* Whether pass 1 stages module k while it is at module j (k >= j): module j itself; in-process nothing more;
 * with a worker the next one, and more up to depth in all while the worker holds under MIR_WORKER_QUEUE_BYTES. */
static int may_stage(const run_state *s, size_t j, size_t k, size_t depth) {
    if (k == j) return 1;
    if (!s->worker || k >= j + depth) return 0;
    return k == j + 1 || mir_worker_pending_bytes(s->worker) < MIR_WORKER_QUEUE_BYTES;
}

/* Extracts this rank's modules. Returns 1 when --strict stopped it at a failed module (err says which), else 0. */
static int pass1(run_state *s, mir_error *err) {
    int stopped = 0;
    size_t mine = 0;
    for (int64_t i = 0; i < s->n; i++) mine += s->owner[i] == s->rank;
    s->recs = mir_calloc(mine + 1, sizeof *s->recs);
    /* largest first, the order they were dealt in */
    int64_t *order = mir_malloc((mine + 1) * sizeof *order);
    size_t k = 0;
    for (int64_t i = 0; i < s->n; i++)
        if (s->owner[i] == s->rank) order[k++] = i;
    progress pr;
    progress_init(&pr, s->comm, s->n, s->o->progress_interval_s, s->o->progress && s->rank == 0);
    mir_extract x;
    mir_extract_init(&x);
    s->xo = (mir_extract_options){.statement_sep = s->o->statement_sep};
    if (s->o->isolation) s->worker = mir_worker_create(mir_extract_job, (void *)&s->xo, &s->o->limits);
    /* module j in st[j % D]; modules j + 1 .. staged_n - 1 are in the worker while module j is unpacked */
    enum { D = MIR_WORKER_DEPTH };
    staged st[D] = {{0}};
    size_t staged_n = 0;
    for (size_t j = 0; j < mine; j++) {
        module_rec *r = &s->recs[s->n_recs++];
        while (staged_n < mine && may_stage(s, j, staged_n, D)) {
            stage_module(s, order[staged_n], &s->recs[staged_n], &st[staged_n % D]);
            staged_n++;
        }
        finish_module(s, r, &st[j % D], &x);
        mir_probe_count_add(s->probe, CT_MODULES, 1);
        if (is_failure(r->status)) {
            mir_probe_count_add(s->probe, CT_FAILURES, 1);
            if (s->o->strict) { /* stop here; the ranks agree after the loop, and nothing is written */
                mir_fail(err, "%s (%s); stopped by --strict, no corpus written", r->error, mir_status_name(r->status));
                stopped = 1;
                break;
            }
            mir_log(MIR_LOG_DEBUG, "%s: %s", mir_status_name(r->status), r->error);
        } else if (r->status == MIR_STATUS_DUPLICATE) {
            mir_probe_count_add(s->probe, CT_DUPLICATES, 1);
        } else {
            mir_probe_count_add(s->probe, CT_WORDS, r->n_words);
            mir_probe_count_add(s->probe, CT_NODES, r->n_nodes);
            mir_probe_count_add(s->probe, CT_EDGES, r->n_edges);
        }
        progress_step(&pr);
    }
    for (size_t j = s->n_recs; stopped && j < staged_n; j++) {
        rec_free(&s->recs[j]); /* --strict: the modules staged behind the failed one are dropped */
        free(st[j % D].data);
    }
    mir_extract_free(&x);
    mir_worker_free(s->worker);
    s->worker = NULL;
    progress_finish(&pr);
    free(order);
    return stopped;
}

/* ------------------------------------------------------------------------------------------------ */
/* vocabulary                                                                                       */

/* Gather word counts to rank 0, build, broadcast; every rank returns the same vocabulary.
 * Graph node texts (opcodes, types, the root) count at least min_word_count, so that each enters the
 * vocabulary as a whole word while there is room: a node's text is one id, never a fragment. */
static mir_vocab *build_vocab(run_state *s) {
    mir_counter *c = mir_counter_new();
    for (size_t i = 0; i < s->words.n; i++) {
        int64_t n = s->words.count[i];
        if (s->words.node_text[i] && n < s->o->vocab.min_word_count) n = s->o->vocab.min_word_count;
        mir_counter_add(c, strtab_get(&s->words, (int32_t)i), s->words.len[i], n);
    }
    char *buf = NULL;
    size_t bytes = 0;
    mir_counter_pack(c, &buf, &bytes);
    mir_counter_free(c);
    /* gather packed counters */
    size_t *off = NULL;
    char *all = mir_mpi_gather_bytes(s->comm, buf, bytes, 0, &off, NULL);
    free(buf);
    /* rank 0 merges and builds; the token list travels as one blob */
    char *blob = NULL;
    int64_t blob_bytes = 0;
    int32_t nv = 0;
    int64_t *counts = NULL;
    if (s->rank == 0) {
        mir_counter *m = mir_counter_new();
        for (int r = 0; r < s->nranks; r++) mir_counter_merge_packed(m, all + off[r], off[r + 1] - off[r]);
        if (mir_counter_dropped(m))
            mir_log(MIR_LOG_WARN, "the word counter is full (%zu distinct words): %lld words were left out of the "
                    "vocabulary's counts", mir_counter_size(m), (long long)mir_counter_dropped(m));
        mir_vocab *v = mir_vocab_build(m, &s->o->vocab);
        mir_counter_free(m);
        nv = mir_vocab_size(v);
        for (int32_t i = 0; i < nv; i++) blob_bytes += (int64_t)strlen(mir_vocab_token(v, i)) + 1;
        blob = mir_malloc((size_t)blob_bytes + 1);
        counts = mir_malloc((size_t)nv * sizeof *counts);
        char *w = blob;
        for (int32_t i = 0; i < nv; i++) {
            size_t l = strlen(mir_vocab_token(v, i)) + 1;
            memcpy(w, mir_vocab_token(v, i), l);
            w += l;
            counts[i] = mir_vocab_count(v, i);
        }
        mir_vocab_free(v);
        free(all);
        free(off);
    }
    MPI_Bcast(&nv, 1, MPI_INT32_T, 0, s->comm);
    MPI_Bcast(&blob_bytes, 1, MPI_INT64_T, 0, s->comm);
    if (s->rank != 0) {
        blob = mir_malloc((size_t)blob_bytes + 1);
        counts = mir_malloc((size_t)nv * sizeof *counts);
    }
    MPI_Bcast(blob, (int)blob_bytes, MPI_CHAR, 0, s->comm);
    MPI_Bcast(counts, nv, MPI_INT64_T, 0, s->comm);
    const char **toks = mir_malloc((size_t)nv * sizeof *toks);
    const char *p = blob;
    for (int32_t i = 0; i < nv; i++) {
        toks[i] = p;
        p += strlen(p) + 1;
    }
    mir_vocab *v = mir_vocab_from_tokens(toks, counts, nv, NULL, 0);
    free(toks);
    free(blob);
    free(counts);
    return v;
}

/* Replace local word ids by vocabulary token ids; each distinct word is encoded once. */
static void encode_records(run_state *s, const mir_vocab *v) {
    mir_probe_begin(s->probe, PH_ENCODE);
    size_t nw = s->words.n;
    int64_t *first = mir_malloc((nw + 1) * sizeof *first); /* pieces of word w: piece[first[w] .. first[w+1]) */
    int32_t *node_id = mir_malloc((nw + 1) * sizeof *node_id);
    int32_t *piece = NULL;
    size_t n_piece = 0, cap_piece = 0;
    int32_t tmp[256];
    for (size_t w = 0; w < nw; w++) {
        const char *word = strtab_get(&s->words, (int32_t)w);
        size_t len = s->words.len[w];
        size_t need = mir_vocab_encode_word(v, word, len, tmp, 256);
        MIR_GROW(piece, cap_piece, n_piece + need);
        if (need <= 256)
            memcpy(piece + n_piece, tmp, need * sizeof *tmp);
        else
            mir_vocab_encode_word(v, word, len, piece + n_piece, need);
        first[w] = (int64_t)n_piece;
        n_piece += need;
        node_id[w] = mir_vocab_word_id(v, word, len);
    }
    first[nw] = (int64_t)n_piece;
    for (size_t k = 0; k < s->n_recs; k++) {
        module_rec *r = &s->recs[k];
        if (r->status != MIR_STATUS_OK) continue;
        const int64_t n_in = r->n_words + r->n_seps; /* entries of r->tokens: local word ids and SEP_LOCAL */
        int64_t nt = r->n_seps;
        for (int64_t j = 0; j < n_in; j++)
            if (r->tokens[j] != SEP_LOCAL) nt += first[r->tokens[j] + 1] - first[r->tokens[j]];
        int32_t *ids = mir_malloc((size_t)(nt + 1) * sizeof *ids);
        int64_t t = 0, unk = 0;
        for (int64_t j = 0; j < n_in; j++) {
            int32_t w = r->tokens[j];
            if (w == SEP_LOCAL) {
                ids[t++] = MIR_TOK_SEP;
                continue;
            }
            for (int64_t q = first[w]; q < first[w + 1]; q++) {
                ids[t++] = piece[q];
                unk += piece[q] == MIR_TOK_UNK;
            }
        }
        free(r->tokens);
        r->tokens = ids;
        r->n_tokens = nt;
        for (int64_t j = 0; j < r->n_nodes; j++) r->node_text[j] = node_id[r->node_text[j]];
        mir_probe_count_add(s->probe, CT_TOKENS, nt);
        mir_probe_count_add(s->probe, CT_UNK, unk);
    }
    free(first);
    free(node_id);
    free(piece);
    mir_probe_end(s->probe, PH_ENCODE);
}

/* ------------------------------------------------------------------------------------------------ */
/* redistribution to contiguous blocks, and the collective write (format/corpus.h)                  */

static int64_t block_lo(int64_t n, int nranks, int r) { return n * r / nranks; }
static int block_owner(int64_t n, int nranks, int64_t i) {
    int r = (int)((i * nranks) / (n ? n : 1));
    while (r + 1 < nranks && block_lo(n, nranks, r + 1) <= i) r++;
    while (r > 0 && block_lo(n, nranks, r) > i) r--;
    return r;
}

/* record as int32 words: index(2), status, n_tokens(2), n_nodes(2), n_edges(2), errlen, then arrays */
enum { REC_HEADER = 10 };
static int64_t rec_words(const module_rec *r) {
    int64_t errlen = r->error ? (int64_t)strlen(r->error) : 0;
    return REC_HEADER + r->n_tokens + 3 * r->n_nodes + 4 * r->n_edges + (errlen + 4) / 4;
}

static void put64(int32_t *p, int64_t v) { memcpy(p, &v, sizeof v); }
static int64_t get64(const int32_t *p) {
    int64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static int32_t *rec_pack(const module_rec *r, int32_t *p) {
    int64_t errlen = r->error ? (int64_t)strlen(r->error) : 0;
    put64(p, r->index);
    p[2] = r->status;
    put64(p + 3, r->n_tokens);
    put64(p + 5, r->n_nodes);
    put64(p + 7, r->n_edges);
    p[9] = (int32_t)errlen;
    p += REC_HEADER;
    memcpy(p, r->tokens, (size_t)r->n_tokens * 4);
    p += r->n_tokens;
    for (int64_t j = 0; j < r->n_nodes; j++) p[j] = r->node_kind[j];
    p += r->n_nodes;
    memcpy(p, r->node_text, (size_t)r->n_nodes * 4);
    p += r->n_nodes;
    memcpy(p, r->node_function, (size_t)r->n_nodes * 4);
    p += r->n_nodes;
    memcpy(p, r->edge_src, (size_t)r->n_edges * 4);
    p += r->n_edges;
    memcpy(p, r->edge_dst, (size_t)r->n_edges * 4);
    p += r->n_edges;
    for (int64_t j = 0; j < r->n_edges; j++) p[j] = r->edge_flow[j];
    p += r->n_edges;
    memcpy(p, r->edge_position, (size_t)r->n_edges * 4);
    p += r->n_edges;
    int64_t ew = (errlen + 4) / 4;
    memset(p, 0, (size_t)ew * 4);
    if (errlen) memcpy(p, r->error, (size_t)errlen);
    return p + ew;
}

/* A received record, as the corpus writer takes it (its arrays point into the buffer). */
static const int32_t *rec_unpack(const int32_t *p, int64_t *index, mir_corpus_record *v) {
    *index = get64(p);
    v->status = p[2];
    v->n_tokens = get64(p + 3);
    v->n_nodes = get64(p + 5);
    v->n_edges = get64(p + 7);
    int64_t errlen = p[9];
    p += REC_HEADER;
    v->tokens = p;
    p += v->n_tokens;
    v->node_kind = p;
    p += v->n_nodes;
    v->node_text = p;
    p += v->n_nodes;
    v->node_function = p;
    p += v->n_nodes;
    v->edge_src = p;
    p += v->n_edges;
    v->edge_dst = p;
    p += v->n_edges;
    v->edge_flow = p;
    p += v->n_edges;
    v->edge_position = p;
    p += v->n_edges;
    v->error = errlen ? (const char *)p : "";
    return p + (errlen + 4) / 4;
}

typedef struct block {
    int64_t lo, hi;       /* modules [lo, hi) */
    int32_t *buf;         /* received records */
    mir_corpus_record *views; /* (hi - lo) */
} block;

static void redistribute(run_state *s, block *b) {
    int P = s->nranks;
    int64_t *send_words = mir_calloc((size_t)P, sizeof *send_words);
    for (size_t k = 0; k < s->n_recs; k++)
        send_words[block_owner(s->n, P, s->recs[k].index)] += rec_words(&s->recs[k]);
    int *scount = mir_malloc((size_t)P * sizeof(int)), *sdispl = mir_malloc((size_t)P * sizeof(int));
    int *rcount = mir_malloc((size_t)P * sizeof(int)), *rdispl = mir_malloc((size_t)P * sizeof(int));
    int64_t tot = 0;
    for (int r = 0; r < P; r++) {
        scount[r] = (int)send_words[r];
        sdispl[r] = (int)tot;
        tot += send_words[r];
    }
    int32_t *sbuf = mir_malloc((size_t)(tot + 1) * 4);
    int64_t *fill = mir_calloc((size_t)P, sizeof *fill);
    for (size_t k = 0; k < s->n_recs; k++) {
        int dst = block_owner(s->n, P, s->recs[k].index);
        rec_pack(&s->recs[k], sbuf + sdispl[dst] + fill[dst]);
        fill[dst] += rec_words(&s->recs[k]);
        rec_free(&s->recs[k]);
    }
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, s->comm);
    int64_t rtot = 0;
    for (int r = 0; r < P; r++) {
        rdispl[r] = (int)rtot;
        rtot += rcount[r];
    }
    b->buf = mir_malloc((size_t)(rtot + 1) * 4);
    MPI_Alltoallv(sbuf, scount, sdispl, MPI_INT32_T, b->buf, rcount, rdispl, MPI_INT32_T, s->comm);
    free(sbuf);
    b->lo = block_lo(s->n, P, s->rank);
    b->hi = block_lo(s->n, P, s->rank + 1);
    b->views = mir_calloc((size_t)(b->hi - b->lo) + 1, sizeof *b->views);
    const int32_t *p = b->buf, *end = b->buf + rtot;
    while (p < end) {
        int64_t index;
        mir_corpus_record v;
        p = rec_unpack(p, &index, &v);
        b->views[index - b->lo] = v;
    }
    free(send_words);
    free(scount);
    free(sdispl);
    free(rcount);
    free(rdispl);
    free(fill);
}

/* The summary's counts (every rank's probe counts summed), then the collective write (format/corpus.h). */
static int write_corpus(run_state *s, const mir_vocab *v, const block *b, const char *path, mir_pp_summary *sum,
                        mir_error *err) {
    double cnt[N_COUNTS];
    for (int k = 0; k < N_COUNTS; k++) cnt[k] = (double)mir_probe_count(s->probe, k);
    MPI_Allreduce(MPI_IN_PLACE, cnt, N_COUNTS, MPI_DOUBLE, MPI_SUM, s->comm);
    sum->n_modules = s->n;
    sum->n_failed = (int64_t)cnt[CT_FAILURES];
    sum->n_duplicates = (int64_t)cnt[CT_DUPLICATES];
    sum->n_ok = s->n - sum->n_failed - sum->n_duplicates;
    sum->n_unk = (int64_t)cnt[CT_UNK];
    sum->n_words = (int64_t)cnt[CT_WORDS];
    sum->vocab_size = mir_vocab_size(v);
    char llvm[32];
    unsigned maj, min, pat;
    LLVMGetVersion(&maj, &min, &pat);
    snprintf(llvm, sizeof llvm, "%u.%u.%u", maj, min, pat);
    const mir_corpus_columns cols = {s->n, s->names, s->hash, s->bytes, s->dup_of, s->source};
    const mir_corpus_block blk = {b->lo, b->hi, b->views};
    const mir_corpus_attrs a = {llvm, s->o->options_text ? s->o->options_text : "",
                                s->o->vocab_file ? s->o->vocab_file : "built", sum->n_ok, sum->n_failed,
                                sum->n_duplicates, sum->n_unk, s->o->statement_sep};
    mir_corpus_totals all;
    mir_probe_begin(s->probe, PH_WRITE);
    int rc = mir_corpus_write(path, s->comm, &cols, &blk, v, &a, &all, err);
    mir_probe_end(s->probe, PH_WRITE);
    sum->n_tokens = all.tokens;
    sum->n_nodes = all.nodes;
    sum->n_edges = all.edges;
    return rc;
}

/* Failed modules, gathered to rank 0 in global order: logged (first 20) and written to --failures. */
static void report_failures(run_state *s, const block *b) {
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (int64_t i = 0; i < b->hi - b->lo; i++) {
        const mir_corpus_record *r = &b->views[i];
        if (!is_failure(r->status)) continue;
        size_t need = strlen(s->names[b->lo + i]) + strlen(r->error) + 32;
        MIR_GROW(text, cap, len + need);
        len += (size_t)snprintf(text + len, cap - len, "%s\t%s\t%s\n", s->names[b->lo + i],
                                mir_status_name(r->status), r->error);
    }
    size_t tot;
    char *all = mir_mpi_gather_bytes(s->comm, text, len, 0, NULL, &tot);
    free(text);
    if (s->rank == 0) {
        if (s->o->failures_file) {
            FILE *f = fopen(s->o->failures_file, "w");
            if (f) {
                fputs("module\tstatus\terror\n", f);
                fwrite(all, 1, tot, f);
                fclose(f);
            } else {
                mir_log(MIR_LOG_WARN, "%s: cannot write the failure list", s->o->failures_file);
            }
        }
        int shown = 0;
        for (char *line = all; *line && shown < 20; shown++) {
            char *nl = strchr(line, '\n');
            *nl = 0;
            char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
            if (tab1 && tab2) {
                *tab2 = 0;
                mir_log(MIR_LOG_WARN, "failed (%s): %s", tab1 + 1, tab2 + 1);
            }
            line = nl + 1;
        }
        free(all);
    }
}

static void print_summary(run_state *s, const mir_pp_summary *sum) {
    int n = mir_probe_export(s->probe, NULL);
    double *v = mir_malloc((size_t)n * sizeof *v), *tot = mir_malloc((size_t)n * sizeof *v);
    mir_probe_export(s->probe, v);
    MPI_Reduce(v, tot, n, MPI_DOUBLE, MPI_SUM, 0, s->comm);
    double rss = (double)mir_peak_rss_bytes(), rss_max = 0, rss_sum = 0;
    MPI_Reduce(&rss, &rss_max, 1, MPI_DOUBLE, MPI_MAX, 0, s->comm);
    MPI_Reduce(&rss, &rss_sum, 1, MPI_DOUBLE, MPI_SUM, 0, s->comm);
    if (s->rank == 0 && mir_log_get_level() >= MIR_LOG_INFO) {
        char title[128];
        snprintf(title, sizeof title, "phases (summed over %d rank%s)", s->nranks, s->nranks > 1 ? "s" : "");
        mir_probe_print(s->probe, stderr, title, tot);
        fprintf(stderr,
                "summary: %lld modules: %lld ok, %lld failed, %lld duplicates; %lld tokens (%lld UNK, %.4f%%), "
                "%lld nodes, %lld edges; vocabulary %d; %.2f s, %.1f modules/s; peak memory per rank %.1f MiB max, "
                "%.1f MiB mean\n",
                (long long)sum->n_modules, (long long)sum->n_ok, (long long)sum->n_failed,
                (long long)sum->n_duplicates, (long long)sum->n_tokens, (long long)sum->n_unk,
                sum->n_tokens ? 100.0 * (double)sum->n_unk / (double)sum->n_tokens : 0.0, (long long)sum->n_nodes,
                (long long)sum->n_edges, sum->vocab_size, sum->seconds,
                sum->seconds > 0 ? (double)sum->n_modules / sum->seconds : 0.0, rss_max / 1048576.0,
                rss_sum / s->nranks / 1048576.0);
    }
    free(v);
    free(tot);
}

int mir_preprocess_run(const mir_pp_options *o, MPI_Comm comm, mir_pp_summary *summary, mir_error *err) {
    double t0 = mir_wall_seconds();
    run_state s = {.o = o, .comm = comm};
    MPI_Comm_rank(comm, &s.rank);
    MPI_Comm_size(comm, &s.nranks);
    memset(summary, 0, sizeof *summary);
    mir_h5_quiet();
    s.probe = mir_probe_create("mir_preprocess", phase_names, N_PHASES, count_names, N_COUNTS,
                               s.rank != 0 || mir_log_get_level() < MIR_LOG_INFO);
    strtab_init(&s.words);
    int rc = 0;
    mir_vocab *vocab = NULL;
    block b = {0};

    /* an existing vocabulary is checked before any work */
    if (o->vocab_file) {
        vocab = mir_vocab_load(o->vocab_file, err);
        if (mir_mpi_agree(comm, vocab == NULL, err)) {
            rc = -1;
            goto out;
        }
    }
    if (broadcast_inputs(&s, err)) {
        rc = -1;
        goto out;
    }
    if (s.n == 0) {
        rc = mir_fail(err, "no input modules found (inputs: files, directories searched for .ll/.bc%s, or @lists)",
                      o->compile ? " and sources" : "");
        goto out;
    }
    pass0(&s);
    /* --strict: every rank learns that one stopped, and the first such rank's message */
    int stopped = pass1(&s, err);
    if (o->strict && mir_mpi_agree(comm, stopped, err)) {
        summary->stopped_strict = 1;
        rc = -1;
        goto out;
    }
    if (!vocab) vocab = build_vocab(&s);
    encode_records(&s, vocab);
    redistribute(&s, &b);

    /* temporary name from rank 0, renamed by rank 0 when every rank succeeded */
    mir_atomic_file corpus_file;
    if (mir_mpi_agree(comm, s.rank == 0 ? mir_atomic_begin(&corpus_file, o->output, err) : 0, err)) {
        rc = -1;
        goto out;
    }
    MPI_Bcast(corpus_file.tmp, sizeof corpus_file.tmp, MPI_CHAR, 0, comm);
    summary->seconds = mir_wall_seconds() - t0;
    if (mir_mpi_agree(comm, write_corpus(&s, vocab, &b, corpus_file.tmp, summary, err), err)) {
        if (s.rank == 0) mir_atomic_abort(&corpus_file);
        rc = -1;
        goto out;
    }
    rc = mir_mpi_agree(comm, s.rank == 0 ? mir_atomic_commit(&corpus_file, err) : 0, err);
    report_failures(&s, &b);
    summary->seconds = mir_wall_seconds() - t0;
    print_summary(&s, summary);
out:
    for (size_t k = 0; k < s.n_recs; k++) rec_free(&s.recs[k]);
    free(s.recs);
    free(b.buf);
    free(b.views);
    for (int64_t i = 0; i < s.n; i++) {
        free(s.names[i]);
        free(s.paths[i]);
    }
    free(s.names);
    free(s.paths);
    free(s.opt);
    free(s.source);
    free(s.bytes);
    free(s.lang);
    free(s.owner);
    free(s.hash);
    free(s.dup_of);
    strtab_free(&s.words);
    if (vocab) mir_vocab_free(vocab);
    mir_probe_free(s.probe);
    return rc;
}
