/*
 * preprocess_impl.h: the state of one mir-preprocess run, shared by the run's files (private to preprocess/):
 * preprocess.c (inputs, pass 0, pass 1, the driver), vocab.c (vocabulary, encoding), records.c (records, their
 * redistribution, the collective write), summary.c (failures, summary); strtab.c and progress.c stand alone.
 */
#ifndef MIR_PREPROCESS_IMPL_H
#define MIR_PREPROCESS_IMPL_H

#include <mpi.h>
#include <stdint.h>

#include "preprocess.h"
#include "probe.h"
#include "records.h"
#include "strtab.h"

/* the probe's phases and counts (their names: preprocess.c) */
enum { PH_READ, PH_COMPILE, PH_PARSE, PH_TOKENS, PH_GRAPH, PH_ENCODE, PH_WRITE, N_PHASES };
enum { CT_MODULES, CT_FAILURES, CT_DUPLICATES, CT_WORDS, CT_TOKENS, CT_UNK, CT_NODES, CT_EDGES, N_COUNTS };

static inline int is_failure(int status) { return status != MIR_STATUS_OK && status != MIR_STATUS_DUPLICATE; }

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

/* vocab.c */
/* Every rank's word counts to rank 0, the vocabulary built there and broadcast; every rank returns the same. */
mir_vocab *mir_pp_build_vocab(run_state *s);
/* Replace local word ids by vocabulary token ids; each distinct word is encoded once. */
void mir_pp_encode_records(run_state *s, const mir_vocab *v);

/* records.c */
/* This rank's records, packed (and freed), to the ranks whose blocks hold them; b receives this rank's block. */
void mir_pp_redistribute(run_state *s, block *b);
/* The summary's counts (every rank's probe counts summed), then the collective write (format/corpus.h). */
int mir_pp_write_corpus(run_state *s, const mir_vocab *v, const block *b, const char *path, mir_pp_summary *sum,
                        mir_error *err);

/* summary.c */
/* Failed modules, gathered to rank 0 in global order: logged (first 20) and written to --failures. */
void mir_pp_report_failures(run_state *s, const block *b);
/* The phases summed over ranks and the summary line, printed by rank 0 at log level info and above. */
void mir_pp_print_summary(run_state *s, const mir_pp_summary *sum);

#endif
