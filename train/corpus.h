/*
 * corpus.h: reading a corpus written by mir-preprocess (docs/formats.md) for training and inference.
 * Opening reads the per-module metadata (names, status, hashes, offsets) and the vocabulary on every rank;
 * module data (tokens, nodes, edges) is read on demand, one module at a time, with independent HDF5
 * hyperslab reads, so a rank holds only what its current micro-batch needs.
 */
#ifndef MIR_CORPUS_H
#define MIR_CORPUS_H
#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

#include "mir_common.h"
#include "model.h"

typedef struct mir_corpus {
    char path[1024];
    hid_t file;
    int64_t n;                 /* modules */
    char **names;              /* (n) */
    int32_t *status;           /* (n) */
    uint64_t *hash;            /* (n) */
    int64_t *source;           /* (n) modules compiled from one source (--opt-levels) share the index of the first;
                                  any other module, and every module of a corpus without /modules/source: i */
    int64_t *tok_off, *node_off, *edge_off; /* (n+1) */
    int32_t vocab_size;
    char **vocab;              /* (vocab_size) */
    int64_t *vocab_count;      /* (vocab_size) */
    int statement_sep;         /* 1: written with mir-preprocess --statement-sep ([SEP] after every statement);
                                  0: without (a corpus without the attribute) */
} mir_corpus;

/* Collective over comm (comm may be MPI_COMM_SELF). Checks format and version; a missing dataset or an
 * incompatible file gives an error naming the file and what is wrong. */
int mir_corpus_open(mir_corpus *c, const char *path, MPI_Comm comm, mir_error *err);
void mir_corpus_close(mir_corpus *c);

/* Whether a model configuration can read the corpus: statements = 1 needs the statement boundaries
 * (statement_sep), and statements = 0 would read the [SEP]s of such a corpus as words. Returns 0, or -1 with
 * err naming the corpus and the reason. */
int mir_corpus_check_config(const mir_corpus *c, const mir_config *cfg, mir_error *err);

/* Statement windows (a statement-level model, cfg.statements = 1: mir-train's and the embedding's windows).
 * The statements of tokens[0, n_tokens): each ends with its [SEP] (MIR_TOK_SEP) included; tokens after the
 * last [SEP] (a view cut inside a statement) are one more statement. Returns their number S; starts (NULL:
 * only count) receives S + 1 offsets, statement k being tokens [starts[k], starts[k + 1]), starts[S] = n_tokens. */
int64_t mir_statement_starts(const int32_t *tokens, int64_t n_tokens, int64_t *starts);
/* Window j of T statements over S statements (starts from mir_statement_starts): statements [j T, (j + 1) T)
 * cut at S, its first token, number of tokens and number of statements (all 0 past the last window). There
 * are (S + T - 1) / T windows. */
typedef struct mir_stmt_window {
    int64_t first, n_tokens, n_statements;
} mir_stmt_window;
mir_stmt_window mir_statement_window(const int64_t *starts, int64_t n_statements, int64_t T, int64_t j);

/* Storage for one module's arrays, reused across calls. */
typedef struct mir_module_buf {
    int32_t *tokens; int8_t *node_kind; int32_t *node_text;
    int32_t *edge_src, *edge_dst; int8_t *edge_flow;
    size_t cap_tok, cap_node, cap_edge;
} mir_module_buf;
void mir_module_buf_free(mir_module_buf *b);

/* Read module i; tokens limited to [tok_first, tok_first + tok_max) of the module (tok_max < 0: all). */
int mir_corpus_read_module(mir_corpus *c, int64_t i, int64_t tok_first, int64_t tok_max, mir_module_buf *buf,
                           mir_module_view *view, mir_error *err);

#endif
