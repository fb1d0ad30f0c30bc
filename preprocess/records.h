/*
 * records.h: mir-preprocess's module records (private to preprocess/): what pass 1 keeps of a module (status,
 * message, local word ids, graph), encoded in place (vocab.c), then moved to the rank that writes its block of
 * the global order and handed to the corpus writer (records.c, preprocess_impl.h).
 */
#ifndef MIR_PP_RECORDS_H
#define MIR_PP_RECORDS_H

#include <stdint.h>

#include "corpus.h"
#include "irmodule.h"
#include "mir_common.h"
#include "strtab.h"

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

void mir_pp_rec_free(module_rec *r);

/* r failed with status: e's message, kept as one line of printable ASCII. */
void mir_pp_rec_fail(module_rec *r, int status, const mir_error *e);

/* Local word id of a statement separator (statement_sep): never interned, so never counted for the vocabulary
 * nor split into pieces; mir_pp_encode_records writes MIR_TOK_SEP for it. */
enum { SEP_LOCAL = -1 };

/* Copy an extraction into r, interning its words into t. */
void mir_pp_rec_take_extract(module_rec *r, const mir_extract *x, strtab *t, int statement_sep);

/* This rank's block of the global order after mir_pp_redistribute, as the corpus writer takes it. */
typedef struct block {
    int64_t lo, hi;       /* modules [lo, hi) */
    int32_t *buf;         /* received records */
    mir_corpus_record *views; /* (hi - lo) */
} block;

#endif
