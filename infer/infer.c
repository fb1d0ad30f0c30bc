/* infer.c: embeddings for many modules over MPI ranks (see infer.h). */
#include "infer.h"

#include <stdlib.h>
#include <string.h>

#include "corpus.h"
#include "embed.h"
#include "embeddings_file.h"
#include "h5util.h"
#include "irmodule.h"
#include "mpi_util.h"
#include "preprocess.h"

#ifndef MIR_VERSION_STRING
#define MIR_VERSION_STRING "0.0.0"
#endif

void mir_infer_options_default(mir_infer_options *o) {
    memset(o, 0, sizeof *o);
    mir_compile_options_default(&o->cc);
    o->max_module_bytes = (int64_t)256 << 20;
    o->isolation = 1;
    o->limits = mir_worker_limits_default();
}

/* One module from a file, in-process (--no-isolation): bytes, parse, encode, embed. */
static int embed_path(const mir_model *m, const mir_infer_options *o, const char *path, int lang,
                      float *out, int *status, mir_error *err) {
    char *data = NULL;
    size_t n = 0;
    if (mir_module_bytes(path, lang, o->compile, &o->cc, o->max_module_bytes, &data, &n, status, err)) return -1;
    int rc = mir_embed_bytes_supervised(NULL, m, data, n, path, out, status, err);
    free(data);
    return rc;
}

/* A module of this rank read and handed to the worker ahead of its turn, so that the child embeds it while
 * the rank takes the previous reply (worker.h: pipelining); or one that failed at reading, its status and
 * message kept until its turn. */
typedef struct staged {
    int rc, status;
    mir_error err;
} staged;

static void stage_path(mir_worker *w, const mir_infer_options *o, const char *path, int lang, staged *sg) {
    char *data = NULL;
    size_t n = 0;
    *sg = (staged){0, 0, {{0}}};
    sg->rc = mir_module_bytes(path, lang, o->compile, &o->cc, o->max_module_bytes, &data, &n, &sg->status, &sg->err);
    if (!sg->rc) mir_worker_submit(w, path, data, n);
    free(data);
}

static int finish_path(mir_worker *w, const mir_model *m, const staged *sg, const char *path, float *out,
                       int *status, mir_error *err) {
    if (!sg->rc) return mir_embed_collect(w, m, path, out, status, err);
    *status = sg->status;
    *err = sg->err;
    return -1;
}

static void one_line(char *s) {
    for (; *s && *s != '\n'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) *s = '?';
    *s = 0;
}

/* Rank 0: the embeddings (all n rows) as embeddings.h5 or CSV (format/embeddings_file.h). */
static int write_output(const mir_infer_options *o, const mir_model *m, char **names, const int32_t *status,
                        char **errors, const float *emb, int64_t n, int D, mir_error *err) {
    mir_embed_options eo = mir_model_options(m);
    const int n_stat = eo.readout != MIR_READOUT_EMBEDDING ? mir_model_stat_columns(m) : 0;
    const char *stat_names[MIR_OPCODE_MAX + 1];
    for (int k = 0; k < n_stat; k++) stat_names[k] = mir_model_stat_column_name(m, k);
    const mir_embeddings rows = {n, D, names, status, errors, emb, n_stat, stat_names};
    if (o->csv) return mir_embeddings_write_csv(o->output, &rows, err);
    const mir_config *c = mir_model_config(m);
    const mir_embeddings_meta meta = {o->model, mir_model_hash(m), c, eo.max_windows,
                                      eo.max_nodes ? eo.max_nodes : MIR_INFER_MAX_NODES,
                                      eo.window ? eo.window : c->max_seq};
    return mir_embeddings_write_h5(o->output, &rows, &meta, err);
}

/* The model, once per rank, with the reading mode of o; NULL (all ranks alike for the loading) with err. */
static mir_model *load_model(const mir_infer_options *o, MPI_Comm comm, mir_error *err) {
    mir_model *m = mir_model_load(o->model, err);
    if (mir_mpi_agree(comm, m == NULL, err)) {
        mir_model_free(m);
        return NULL;
    }
    mir_embed_options eo = {o->max_windows, o->max_nodes, o->window, o->readout};
    if (o->max_windows < 0) eo = mir_embed_options_fast(m);
    eo.readout = o->readout;
    if (mir_model_set_options(m, &eo, err)) {
        mir_model_free(m);
        return NULL;
    }
    return m;
}

/* The modules to embed, the same on every rank: one corpus (corpus_mode), or the files of the inputs. */
typedef struct modules {
    int corpus_mode;
    mir_corpus corpus;
    mir_input_list list;
    int64_t n;
    char **names;   /* the corpus's, or the list's paths (owned then) */
    int64_t *bytes; /* sizes, to deal the modules to ranks */
} modules;

/* A corpus's modules, after checking that it was made with the model's vocabulary and configuration. */
static int open_corpus(const mir_infer_options *o, const mir_model *m, MPI_Comm comm, modules *md, mir_error *err) {
    mir_corpus *corpus = &md->corpus;
    int rc = mir_corpus_open(corpus, o->inputs[0], comm, err);
    if (!rc && corpus->vocab_size != mir_vocab_size(mir_model_vocab(m)))
        rc = mir_fail(err, "%s: vocabulary of %d tokens, model %s has %d: make the corpus with "
                      "mir-preprocess --vocab %s", o->inputs[0], corpus->vocab_size, o->model,
                      mir_vocab_size(mir_model_vocab(m)), o->model);
    for (int32_t i = 0; !rc && i < corpus->vocab_size; i++)
        if (strcmp(corpus->vocab[i], mir_vocab_token(mir_model_vocab(m), i)) != 0)
            rc = mir_fail(err, "%s: vocabulary differs from the model's at token %d (\"%s\" vs \"%s\"): make the "
                          "corpus with mir-preprocess --vocab %s", o->inputs[0], i, corpus->vocab[i],
                          mir_vocab_token(mir_model_vocab(m), i), o->model);
    /* a statement-level model reads the corpus's [SEP]s as statement ends; any other model would read them
     * as words */
    if (!rc) rc = mir_corpus_check_config(corpus, mir_model_config(m), err);
    if (!rc) {
        md->n = corpus->n;
        md->names = corpus->names;
        md->bytes = mir_malloc((size_t)(md->n + 1) * sizeof *md->bytes);
        for (int64_t i = 0; i < md->n; i++) md->bytes[i] = corpus->tok_off[i + 1] - corpus->tok_off[i];
    }
    return rc;
}

/* The inputs' modules (directories and lists expanded on rank 0, broadcast). */
static int open_files(const mir_infer_options *o, MPI_Comm comm, modules *md, mir_error *err) {
    int rc = mir_inputs_expand_bcast(o->inputs, o->n_inputs, o->compile, comm, &md->list, err);
    if (!rc) {
        md->n = (int64_t)md->list.n;
        md->names = mir_malloc((size_t)(md->n + 1) * sizeof *md->names);
        md->bytes = mir_malloc((size_t)(md->n + 1) * sizeof *md->bytes);
        for (int64_t i = 0; i < md->n; i++) {
            md->names[i] = md->list.items[i].path;
            md->bytes[i] = md->list.items[i].bytes;
        }
        if (md->n == 0) rc = mir_fail(err, "no input modules found");
    }
    return rc;
}

static void close_modules(modules *md) {
    if (!md->corpus_mode) free(md->names);
    free(md->bytes);
    mir_inputs_free(&md->list);
    if (md->corpus_mode) mir_corpus_close(&md->corpus);
}

/* This rank's errors, as lines "INDEX\tMESSAGE\n" gathered on rank 0 (errtext, elen of them). */
typedef struct errlog {
    char *text;
    size_t len, cap;
} errlog;

/* Module i (k-th of this rank's, mine_idx) into out: from the corpus, from the worker (the next one staged for
 * it first), or in this process. 0, or -1 with *st and e. */
static int embed_one(const mir_infer_options *o, const mir_model *m, modules *md, mir_worker *worker,
                     mir_module_buf *buf, staged *sg, const int64_t *mine_idx, int64_t mine, int64_t k, float *out,
                     int *st, mir_error *e) {
    const int64_t i = mine_idx[k];
    char **names = md->names;
    int r;
    if (md->corpus_mode) {
        if (md->corpus.status[i] != 0) {
            *st = md->corpus.status[i];
            r = mir_fail(e, "%s: not embedded: status %s in the corpus", names[i], mir_status_name(*st));
        } else {
            mir_module_view v;
            r = mir_corpus_read_module(&md->corpus, i, 0, -1, buf, &v, e);
            if (!r) r = mir_embed_view(m, &v, out, e);
            if (r) *st = MIR_STATUS_READ_ERROR;
        }
    } else if (worker) {
        if (k + 1 < mine) {
            const int64_t next = mine_idx[k + 1];
            stage_path(worker, o, names[next], md->list.items[next].lang, &sg[(k + 1) % 2]);
        }
        r = finish_path(worker, m, &sg[k % 2], names[i], out, st, e);
    } else {
        r = embed_path(m, o, names[i], md->list.items[i].lang, out, st, e);
    }
    return r;
}

/* This rank's modules (owner[i] == rank) embedded into their rows of emb; a failure's status into status[i]
 * and its message into el. */
static void embed_mine(const mir_infer_options *o, const mir_model *m, modules *md, const int *owner,
                       int rank, int D, float *emb, int32_t *status, errlog *el) {
    const int64_t n = md->n;
    mir_module_buf buf = {0};
    /* IR files are parsed in a worker forked from this rank, which holds the model (corpora need none) */
    mir_worker *worker = o->isolation && !md->corpus_mode ? mir_embed_worker_create(m, &o->limits) : NULL;
    double last = mir_wall_seconds();
    int64_t done = 0, mine = 0;
    int64_t *mine_idx = mir_malloc((size_t)(n + 1) * sizeof *mine_idx); /* this rank's modules, in order */
    for (int64_t i = 0; i < n; i++)
        if (owner[i] == rank) mine_idx[mine++] = i;
    staged sg[2]; /* module k of this rank in sg[k % 2], with a worker */
    if (worker && mine) stage_path(worker, o, md->names[mine_idx[0]], md->list.items[mine_idx[0]].lang, &sg[0]);
    for (int64_t k = 0; k < mine; k++) {
        const int64_t i = mine_idx[k];
        mir_error e = {{0}};
        int st = 0;
        if (embed_one(o, m, md, worker, &buf, sg, mine_idx, mine, k, emb + (size_t)i * D, &st, &e)) {
            status[i] = st ? st : MIR_STATUS_EXTRACT_ERROR;
            one_line(e.msg);
            size_t need = strlen(e.msg) + 32;
            MIR_GROW(el->text, el->cap, el->len + need);
            el->len += (size_t)snprintf(el->text + el->len, el->cap - el->len, "%lld\t%s\n", (long long)i, e.msg);
        }
        done++;
        if (rank == 0 && !o->quiet && mir_wall_seconds() - last > 5) {
            mir_log(MIR_LOG_INFO, "rank 0: %lld/%lld of its modules", (long long)done, (long long)mine);
            last = mir_wall_seconds();
        }
    }
    free(mine_idx);
    mir_module_buf_free(&buf);
    mir_worker_free(worker);
}

/* Every rank's error lines to rank 0: there, errors[i] (n of them, "" for none) point into the returned text
 * (free it, and errors); elsewhere both are NULL. */
static char *gather_errors(const errlog *el, int64_t n, MPI_Comm comm, int rank, char ***errors) {
    char *allerr = mir_mpi_gather_bytes(comm, el->text, el->len, 0, NULL, NULL);
    *errors = NULL;
    if (rank != 0) return allerr;
    *errors = mir_malloc((size_t)(n + 1) * sizeof **errors);
    for (int64_t i = 0; i < n; i++) (*errors)[i] = "";
    for (char *line = allerr; *line;) {
        char *nl = strchr(line, '\n'), *tab = strchr(line, '\t');
        *nl = 0;
        int64_t idx = strtoll(line, NULL, 10);
        if (tab && idx >= 0 && idx < n) (*errors)[idx] = tab + 1;
        line = nl + 1;
    }
    return allerr;
}

/* buf (count elements of type t, each elem bytes) summed into rank 0's buf, in slices of 2^28 elements, so that
 * no MPI count passes an int (n x D floats do past about 8.4 M modules of 256). */
static void sum_to_root(void *buf, size_t count, MPI_Datatype t, size_t elem, int rank, MPI_Comm comm) {
    const size_t slice = (size_t)1 << 28;
    for (size_t at = 0; at < count; at += slice) {
        char *p = (char *)buf + at * elem;
        MPI_Reduce(rank == 0 ? MPI_IN_PLACE : p, p, (int)(count - at < slice ? count - at : slice), t, MPI_SUM, 0,
                   comm);
    }
}

/* The modules dealt to the ranks by size and embedded; rank 0 gathers the rows, logs the failures and writes
 * the output. Its rc (and err) on every rank; sum->n_failed counted there. */
static int embed_all(const mir_infer_options *o, const mir_model *m, modules *md, MPI_Comm comm, int rank,
                     int P, mir_infer_summary *sum, mir_error *err) {
    const int64_t n = md->n;
    const int D = (int)mir_embedding_dim(m);
    int rc = 0;
    int *owner = mir_malloc((size_t)(n + 1) * sizeof *owner);
    mir_deal_by_size(md->bytes, (size_t)n, P, owner);
    float *emb = mir_calloc((size_t)n * D + 1, sizeof *emb);
    int32_t *status = mir_calloc((size_t)n + 1, sizeof *status);
    errlog el = {NULL, 0, 0};
    embed_mine(o, m, md, owner, rank, D, emb, status, &el);
    /* to rank 0: owners hold their rows, every other rank zeros, so a sum is exact */
    sum_to_root(emb, (size_t)n * D, MPI_FLOAT, sizeof *emb, rank, comm);
    sum_to_root(status, (size_t)n, MPI_INT32_T, sizeof *status, rank, comm);
    char **errors;
    char *allerr = gather_errors(&el, n, comm, rank, &errors);
    if (rank == 0) {
        for (int64_t i = 0; i < n; i++) {
            if (status[i]) {
                sum->n_failed++;
                if (!o->quiet) mir_log(MIR_LOG_WARN, "failed (%s): %s", mir_status_name(status[i]), errors[i]);
            }
        }
        rc = write_output(o, m, md->names, status, errors, emb, n, D, err);
        free(errors);
    }
    rc = mir_mpi_root_rc(comm, rc, err);
    free(allerr);
    free(el.text);
    free(emb);
    free(status);
    free(owner);
    return rc;
}

int mir_infer_run(const mir_infer_options *o, MPI_Comm comm, mir_infer_summary *sum, mir_error *err) {
    double t0 = mir_wall_seconds();
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    memset(sum, 0, sizeof *sum);
    mir_h5_quiet();
    mir_model *m = load_model(o, comm, err);
    if (!m) return -1;
    /* the modules: one corpus, or files */
    modules md = {0};
    md.corpus_mode = o->n_inputs == 1 && mir_is_corpus_file(o->inputs[0]);
    int rc = md.corpus_mode ? open_corpus(o, m, comm, &md, err) : open_files(o, comm, &md, err);
    if (!(rc = mir_mpi_agree(comm, rc, err))) {
        rc = embed_all(o, m, &md, comm, rank, P, sum, err);
        MPI_Bcast(&sum->n_failed, 1, MPI_INT64_T, 0, comm);
        sum->n_modules = md.n;
        sum->n_ok = md.n - sum->n_failed;
        sum->seconds = mir_wall_seconds() - t0;
    }
    close_modules(&md);
    mir_model_free(m);
    return rc ? -1 : 0;
}
