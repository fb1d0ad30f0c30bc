/*
 * embeddings_file.h: embeddings.h5, what mir-infer writes (docs/inference.md): the module names /names, their
 * statuses /status (schema.h) and messages /error, the N x D float matrix /embeddings (a failed module's row
 * is zeros), and root attributes naming the model and the reading options; or the rows of the modules that
 * embedded as CSV (name, then D values). Written by one process under a temporary name renamed into place.
 */
#ifndef MIR_EMBEDDINGS_FILE_H
#define MIR_EMBEDDINGS_FILE_H
#include <stdint.h>

#include "mir_common.h"
#include "model.h"
#include "schema.h" /* MIR_EMBEDDINGS_FORMAT, MIR_EMBEDDINGS_VERSION, statuses */

/* The rows: module i is names[i], status[i], errors[i] ("" when ok) and values[i * dim, (i + 1) * dim). */
typedef struct mir_embeddings {
    int64_t n;
    int dim;
    char *const *names;
    const int32_t *status;
    char *const *errors;
    const float *values;
    int n_stat;                     /* the last n_stat columns are the statistics readout (mir.h MIR_READOUT_STATS) */
    const char *const *stat_names;  /* their opcodes (n_stat), or NULL when n_stat is 0 */
} mir_embeddings;

/* What made them: the model and the reading options, as the root attributes record them. */
typedef struct mir_embeddings_meta {
    const char *model_path, *model_hash;
    const mir_config *cfg;
    int max_windows;   /* windows read per module (0: all) */
    int max_nodes;     /* nodes of a graph read whole */
    int window;        /* tokens per window (statements for a statement-level model) */
} mir_embeddings_meta;

/* embeddings.h5 at path. 0, or -1 with err. */
int mir_embeddings_write_h5(const char *path, const mir_embeddings *e, const mir_embeddings_meta *meta,
                            mir_error *err);
/* embeddings.h5 with a statistics readout also holds /stat_columns (the opcode of each of the last n_stat columns)
 * and the root attribute readout = "stats" ("stats-only" when they are all the columns, else "embedding"). */
/* The CSV: a header "name,e0,..." (the statistics columns named stat_<opcode>), then one row per module with status 0. 0, or -1 with err. */
int mir_embeddings_write_csv(const char *path, const mir_embeddings *e, mir_error *err);

#endif
