/*
 * records.c: the module records (see records.h): filled from an extraction, packed as int32 words and moved to
 * contiguous blocks of the global order (MPI_Alltoallv), then the collective write of the corpus
 * (format/corpus.h) with the summary's counts.
 */
#include "records.h"

#include <llvm-c/Core.h>
#include <stdlib.h>
#include <string.h>

#include "preprocess_impl.h"
#include "probe.h"

void mir_pp_rec_free(module_rec *r) {
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
void mir_pp_rec_fail(module_rec *r, int status, const mir_error *e) {
    r->status = status;
    free(r->error);
    r->error = mir_strdup(e->msg);
    char *p = r->error;
    for (; *p && *p != '\n'; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) *p = '?';
    *p = '\0';
}

/* Copy an extraction into r, interning words into t; with statement_sep, the separators become SEP_LOCAL. */
void mir_pp_rec_take_extract(module_rec *r, const mir_extract *x, strtab *t, int statement_sep) {
    r->n_words = 0;
    r->tokens = mir_malloc((x->words.n + 1) * sizeof *r->tokens);
    for (size_t i = 0; i < x->words.n; i++) {
        const char *w = mir_words_get(&x->words, i);
        if (statement_sep && mir_is_sep_word(w, x->words.len[i])) {
            r->tokens[i] = SEP_LOCAL;
            continue;
        }
        r->tokens[i] = mir_pp_strtab_add(t, w, x->words.len[i], 1);
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
        r->node_text[i] = mir_pp_strtab_add(t, mir_words_get(&g->node_text, i), g->node_text.len[i], 1);
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

void mir_pp_redistribute(run_state *s, block *b) {
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
        mir_pp_rec_free(&s->recs[k]);
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
int mir_pp_write_corpus(run_state *s, const mir_vocab *v, const block *b, const char *path, mir_pp_summary *sum,
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
