/*
 * preprocess.h: the library behind mir-preprocess. One collective call over an MPI communicator turns
 * a list of inputs into one corpus file (format: docs/formats.md).
 *
 *   pass 0  rank 0 expands the inputs (with --opt-levels, every rank then turns each source into one module
 *           per level, the levels of one source next to each other); modules are dealt to ranks by size (largest first, to the least
 *           loaded rank); each rank hashes its files; an allgather marks later copies of identical content
 *           as duplicates of the first (by global order).
 *   pass 1  each rank reads (or compiles) its modules; a worker process of the rank (isolate.h, worker.h)
 *           parses each with the LLVM-C API and extracts the normalised statement words and the program
 *           graph, so that a module that crashes LLVM is recorded as crashed and the run goes on; words are
 *           interned per rank and counted.
 *   vocab   counts are gathered to rank 0, merged and turned into the sub-word vocabulary (or the vocabulary
 *           is read from --vocab FILE), then broadcast; each rank encodes its distinct words once.
 *   write   module records move to the rank that owns their contiguous block of the global order
 *           (MPI_Alltoallv), offsets come from an exclusive scan, and all ranks write every dataset of one
 *           HDF5 file collectively, under a temporary name renamed on success.
 * The result is byte-for-byte the same datasets whatever the number of ranks.
 */
#ifndef MIR_PREPROCESS_H
#define MIR_PREPROCESS_H

#include <mpi.h>
#include <stdint.h>

#include "compile.h"
#include "inputs.h"
#include "mir_common.h"
#include "schema.h" /* module statuses (/modules/status), exit codes */
#include "wordpiece.h"
#include "worker.h"

typedef struct mir_pp_options {
    const char *output;            /* corpus path */
    char *const *inputs;           /* INPUT arguments */
    int n_inputs;
    const char *vocab_file;        /* NULL: build the vocabulary from this corpus */
    mir_vocab_options vocab;
    int compile;                   /* accept sources */
    mir_compile_options cc;
    char opt_levels[8];            /* --opt-levels: one letter per level ("02": -O0 and -O2); each source becomes
                                      one module per level, named PATH@O<level> when there are two or more;
                                      "": one module per source at cc.opt_level */
    int64_t max_module_bytes;
    int strict;                    /* stop at the first failed module: nothing written, summary->stopped_strict */
    int progress;                  /* 1 on, 0 off */
    double progress_interval_s;
    const char *failures_file;     /* TSV of failed modules, written by rank 0 (NULL: none) */
    const char *options_text;      /* recorded in the corpus as the "options" attribute */
    int isolation;                 /* 1 (default): parse in a supervised worker per rank (worker.h); 0: in-process */
    mir_worker_limits limits;      /* the worker's memory and time per module */
    int statement_sep;             /* --statement-sep: [SEP] (MIR_TOK_SEP) after every statement's tokens, and the
                                      root attribute statement_sep = 1; 0: neither (the corpus as without it) */
} mir_pp_options;

void mir_pp_options_default(mir_pp_options *o);

typedef struct mir_pp_summary {
    int64_t n_modules, n_ok, n_failed, n_duplicates;
    int64_t n_tokens, n_unk, n_words, n_nodes, n_edges;
    int32_t vocab_size;
    double seconds;
    int stopped_strict;            /* 1: --strict stopped the run at a failed module (the return is -1) */
} mir_pp_summary;

/* Collective over comm. Returns 0 when the corpus was written (modules may have failed: see summary),
 * -1 on a fatal error (err filled on every rank). */
int mir_preprocess_run(const mir_pp_options *o, MPI_Comm comm, mir_pp_summary *summary, mir_error *err);

/* Rank 0 expands INPUT arguments (inputs.h) and broadcasts the list; every rank returns the same list
 * (paths, sizes, languages). Collective. */
int mir_inputs_expand_bcast(char *const *inputs, int n_inputs, int compile, MPI_Comm comm, mir_input_list *list,
                            mir_error *err);

/* The bytes of one module: the file itself for IR, clang's bitcode for a source when compile is set.
 * On failure returns -1 with *status one of MIR_STATUS_READ_ERROR, _EMPTY, _TOO_LARGE, _COMPILE_ERROR and
 * err naming the file. *data is NUL-terminated. */
int mir_module_bytes(const char *path, int lang, int compile, const mir_compile_options *cc, int64_t max_bytes,
                     char **data, size_t *bytes, int *status, mir_error *err);

#endif
