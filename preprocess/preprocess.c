/*
 * preprocess.c: the collective corpus builder (see preprocess.h for the passes): the inputs, pass 0 (deal,
 * hash, duplicates), pass 1 (read or compile, extract in the worker) and the driver, mir_preprocess_run; the
 * vocabulary is in vocab.c, the records and the write in records.c, the end of a run in summary.c.
 */
#include "preprocess.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "h5util.h"
#include "inputs.h"
#include "irmodule.h"
#include "isolate.h"
#include "model_file.h"
#include "mpi_util.h"
#include "preprocess_impl.h"
#include "probe.h"
#include "progress.h"

#ifndef MIR_VERSION_STRING
#define MIR_VERSION_STRING "0.0.0"
#endif

/* the probe's phases and counts (the enums: preprocess_impl.h) */
static const char *const phase_names[N_PHASES] = {"read", "compile", "parse", "tokens", "graph", "encode", "write"};
static const char *const count_names[N_COUNTS] = {"modules", "failures", "duplicates", "words",
                                                  "tokens",  "unk_tokens", "nodes", "edges"};

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
/* pass 0 and pass 1                                                                                */

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
        mir_pp_rec_fail(r, MIR_STATUS_DUPLICATE, &e);
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
        mir_pp_rec_fail(r, status, &e);
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
        mir_pp_rec_fail(r, status, &e);
    else
        mir_pp_rec_take_extract(r, x, &s->words, s->xo.statement_sep);
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
    mir_pp_progress_init(&pr, s->comm, s->n, s->o->progress_interval_s, s->o->progress && s->rank == 0);
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
        mir_pp_progress_step(&pr);
    }
    for (size_t j = s->n_recs; stopped && j < staged_n; j++) {
        mir_pp_rec_free(&s->recs[j]); /* --strict: the modules staged behind the failed one are dropped */
        free(st[j % D].data);
    }
    mir_extract_free(&x);
    mir_worker_free(s->worker);
    s->worker = NULL;
    mir_pp_progress_finish(&pr);
    free(order);
    return stopped;
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
    mir_pp_strtab_init(&s.words);
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
    if (!vocab) vocab = mir_pp_build_vocab(&s);
    mir_pp_encode_records(&s, vocab);
    mir_pp_redistribute(&s, &b);

    /* temporary name from rank 0, renamed by rank 0 when every rank succeeded */
    mir_atomic_file corpus_file;
    if (mir_mpi_agree(comm, s.rank == 0 ? mir_atomic_begin(&corpus_file, o->output, err) : 0, err)) {
        rc = -1;
        goto out;
    }
    MPI_Bcast(corpus_file.tmp, sizeof corpus_file.tmp, MPI_CHAR, 0, comm);
    summary->seconds = mir_wall_seconds() - t0;
    if (mir_mpi_agree(comm, mir_pp_write_corpus(&s, vocab, &b, corpus_file.tmp, summary, err), err)) {
        if (s.rank == 0) mir_atomic_abort(&corpus_file);
        rc = -1;
        goto out;
    }
    rc = mir_mpi_agree(comm, s.rank == 0 ? mir_atomic_commit(&corpus_file, err) : 0, err);
    mir_pp_report_failures(&s, &b);
    summary->seconds = mir_wall_seconds() - t0;
    mir_pp_print_summary(&s, summary);
out:
    for (size_t k = 0; k < s.n_recs; k++) mir_pp_rec_free(&s.recs[k]);
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
    mir_pp_strtab_free(&s.words);
    if (vocab) mir_vocab_free(vocab);
    mir_probe_free(s.probe);
    return rc;
}
