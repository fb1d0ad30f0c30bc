/*
 * vocab.c: mir-preprocess's vocabulary: the ranks' word counts gathered to rank 0, merged, built into the
 * sub-word vocabulary and broadcast (unless --vocab gave one); then each rank's records encoded to token ids.
 */
#include <stdlib.h>
#include <string.h>

#include "mpi_util.h"
#include "preprocess_impl.h"
#include "probe.h"

/* Gather word counts to rank 0, build, broadcast; every rank returns the same vocabulary.
 * Graph node texts (opcodes, types, the root) count at least min_word_count, so that each enters the
 * vocabulary as a whole word while there is room: a node's text is one id, never a fragment. */
mir_vocab *mir_pp_build_vocab(run_state *s) {
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
void mir_pp_encode_records(run_state *s, const mir_vocab *v) {
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
