/*
 * infer.h: the library behind mir-infer. One collective call embeds every module of the inputs (IR files,
 * directories, @lists, sources with --compile, or one corpus.h5 made with the model's vocabulary) and
 * rank 0 writes embeddings.h5 (docs/formats.md) or a CSV. Modules are dealt to ranks by size; the model is
 * loaded once per rank; a module's embedding does not depend on the number of ranks.
 */
#ifndef MIR_INFER_H
#define MIR_INFER_H
#include <mpi.h>

#include "compile.h"
#include "mir_common.h"
#include "worker.h"

typedef struct mir_infer_options {
    const char *model;
    const char *output;
    int csv;                       /* 1: CSV (name, then D values per row); 0: HDF5 */
    char *const *inputs;
    int n_inputs;
    int compile;
    mir_compile_options cc;
    int64_t max_module_bytes;
    int max_windows;               /* mir_embed_options (mir.h); -1: the fast preset */
    int max_nodes;
    int window;                    /* tokens per window; 0: the model's */
    int readout;                   /* mir_embed_options.readout: MIR_READOUT_EMBEDDING (default) or _STATS */
    int quiet;
    int isolation;                 /* 1 (default): IR files are parsed and embedded in a supervised worker per
                                      rank (worker.h), a module that kills it is recorded as crashed; 0: here */
    mir_worker_limits limits;      /* the worker's memory and time per module */
} mir_infer_options;

void mir_infer_options_default(mir_infer_options *o);

typedef struct mir_infer_summary {
    int64_t n_modules, n_ok, n_failed;
    double seconds;
} mir_infer_summary;

/* Collective. 0: written (modules may have failed: see summary); -1: fatal, err filled on every rank. */
int mir_infer_run(const mir_infer_options *o, MPI_Comm comm, mir_infer_summary *s, mir_error *err);

#endif
