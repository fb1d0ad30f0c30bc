/*
 * corpus.h: corpus.h5, the corpus mir-preprocess writes and mir-train and mir-infer read (docs/formats.md).
 *
 *   corpus.c        the reader. Opening reads the per-module metadata (names, status, hashes, offsets) and the
 *                   vocabulary on every rank; module data (tokens, nodes, edges) is read on demand, one module
 *                   at a time, with independent HDF5 hyperslab reads, so a rank holds only what its current
 *                   micro-batch needs.
 *   corpus_write.c  the writer: all ranks write one file collectively, each the slab of every dataset that
 *                   holds its contiguous block of modules (offsets from an exclusive scan), rank 0 the
 *                   vocabulary, all ranks the root attributes. The datasets are the same whatever the number
 *                   of ranks.
 * The statements of a corpus made with --statement-sep: statements.h.
 */
#ifndef MIR_CORPUS_H
#define MIR_CORPUS_H
#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

#include "mir_common.h"
#include "model.h"
#include "schema.h" /* MIR_CORPUS_FORMAT, MIR_CORPUS_VERSION, statuses, node kinds, flows */
#include "statements.h"
#include "wordpiece.h"

/* ---- reading (corpus.c) ---- */

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
/* 1 when path names an HDF5 file (".h5") whose root attribute format is MIR_CORPUS_FORMAT, else 0. One
 * process, no messages: mir-infer's test of whether its one input is a corpus. */
int mir_is_corpus_file(const char *path);

/* Whether a model configuration can read the corpus: statements = 1 needs the statement boundaries
 * (statement_sep), and statements = 0 would read the [SEP]s of such a corpus as words. Returns 0, or -1 with
 * err naming the corpus and the reason. */
int mir_corpus_check_config(const mir_corpus *c, const mir_config *cfg, mir_error *err);

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

/* ---- writing (corpus_write.c) ---- */

/* One module as the corpus stores it: its status, error text and arrays (node kinds and flows widened to
 * int32). A module that failed or is a duplicate has no tokens, nodes or edges. */
typedef struct mir_corpus_record {
    int32_t status;
    int64_t n_tokens, n_nodes, n_edges;
    const int32_t *tokens, *node_kind, *node_text, *node_function, *edge_src, *edge_dst, *edge_flow,
        *edge_position;
    const char *error;
} mir_corpus_record;

/* What every rank knows of all M modules, in the global order: /modules/name, hash, bytes, duplicate_of,
 * source. */
typedef struct mir_corpus_columns {
    int64_t n;                   /* M */
    char *const *names;          /* (M) */
    const uint64_t *hash;        /* (M) */
    const int64_t *bytes;        /* (M) */
    const int64_t *duplicate_of; /* (M) */
    const int64_t *source;       /* (M) */
} mir_corpus_columns;

/* This rank's contiguous block of the global order: modules [lo, hi), recs[i - lo] module i. */
typedef struct mir_corpus_block {
    int64_t lo, hi;
    const mir_corpus_record *recs;
} mir_corpus_block;

/* The root attributes the writer does not count itself (the same on every rank). */
typedef struct mir_corpus_attrs {
    const char *llvm_version;     /* "16.0.6" */
    const char *options;          /* the settings that shape the data */
    const char *vocab_source;     /* "built", or the file given to --vocab */
    int64_t n_ok, n_failed, n_duplicates, n_unk;
    int statement_sep;            /* 1: the attribute statement_sep = 1; 0: none */
} mir_corpus_attrs;

typedef struct mir_corpus_totals {
    int64_t tokens, nodes, edges;
} mir_corpus_totals;

/* Collective over comm: create path (truncated) and write every dataset and attribute of the corpus, with the
 * vocabulary v. *totals receives the corpus's numbers of tokens, nodes and edges (on every rank, also on
 * failure). Returns 0, or -1 with err (the ranks may differ: agree on the result with mir_mpi_agree). */
int mir_corpus_write(const char *path, MPI_Comm comm, const mir_corpus_columns *cols, const mir_corpus_block *b,
                     const mir_vocab *v, const mir_corpus_attrs *a, mir_corpus_totals *totals, mir_error *err);

#endif
