/*
 * devmap_cl.h: device mapping with kernel IR compiled here from the data set's OpenCL sources by clang 16
 * (mir-analyze devmap --kernels-from cl; docs/analysis.md), instead of the archive's pre-built kernels_ir/.
 *
 * A row (benchmark, dataset) maps to one source file of kernels_cl/ (task_devmap_kernels.zip, the later,
 * fixed sources with the NPB/Parboil headers), the first that exists of
 *     benchmark_dataset.cl             NPB BT's per-class sources (npb-3.3-BT-add_A.cl)
 *     npb-3.3npb-SP-KERNEL.cl          for npb-3.3-SP-KERNEL: the variant of the original archive, with the
 *                                      prototypes initialize2..5 need and one work-item layout
 *     benchmark.cl                     everything else
 * and to the -D flags its host program passes (mir_devmap_cl_rule_of: NPB's CLASS from the dataset letter,
 * the work-group constants of a few benchmarks). Its kernel is the pair (source, flags): one bitcode file
 * OUT/data/devmap/kernels_cl_ir/STEM[.NAME-VALUE...].bc per distinct pair, reused when present, so rows of
 * one NPB benchmark at different classes have different kernels and the rows of other benchmarks share one.
 */
#ifndef MIR_DEVMAP_CL_H
#define MIR_DEVMAP_CL_H
#include <mpi.h>
#include <stdint.h>

#include "analysis.h"
#include "data.h"

#define MIR_DEVMAP_CL_N_CAND 3
#define MIR_DEVMAP_CL_MAX_DEFS 4

typedef struct mir_devmap_cl_rule {
    char cand[MIR_DEVMAP_CL_N_CAND][512]; /* source file names in kernels_cl/, in the order tried */
    int n_cand;
    char def[MIR_DEVMAP_CL_MAX_DEFS][64]; /* clang flags, e.g. "-DCLASS='B'", "-DLSIZE=64" */
    int n_def;
} mir_devmap_cl_rule;

/* The candidate sources and the -D flags of a row (no file system access). */
void mir_devmap_cl_rule_of(const char *benchmark, const char *dataset, mir_devmap_cl_rule *r);
/* The cache file name (no directory) of source file `source` compiled with the flags of r:
 * the source's name without ".cl", then ".NAME-VALUE" per flag (quotes dropped), then ".bc". */
void mir_devmap_cl_cache_name(const char *source, const mir_devmap_cl_rule *r, char *out, size_t cap);

/* What became of the kernels (index k as in d->kernel_file); filled on every rank. */
typedef struct mir_devmap_cl {
    char src_dir[4096];   /* the OpenCL sources */
    char cache_dir[4096]; /* the compiled kernels */
    int n_kernels;        /* distinct (source, flags) */
    char **source;        /* (n_kernels) source file name, "" when no candidate exists */
    char **flags;         /* (n_kernels) the -D flags, blank-separated ("" for none) */
    uint8_t *state;       /* (n_kernels) MIR_CL_FAILED, MIR_CL_COMPILED (now) or MIR_CL_CACHED */
    char **error;         /* (n_kernels) clang's first diagnostic line (or why), NULL when not failed */
    int n_compiled, n_cached, n_failed, rows_failed;
    double seconds;       /* wall time of the compile step */
} mir_devmap_cl;
enum { MIR_CL_FAILED = 0, MIR_CL_COMPILED = 1, MIR_CL_CACHED = 2 };

/* Give every row of d (loaded without kernel files) its compiled kernel: find the sources (o->kernels_dir,
 * else OUT/data/devmap/task_devmap_kernels/kernels_cl, unpacked there from DATA/devmap/task_devmap_kernels.zip
 * when missing), compile each distinct (source, flags) not yet in the cache with mir_compile_source, the
 * kernels dealt to the ranks of comm (kernel k to rank k mod size). A kernel that fails to compile is
 * recorded in cl and keeps its (missing) cache path: its rows get zero features from the embedding and
 * opcode steps, as any kernel that cannot be read. Collective. 0, or -1 with err on every rank (no sources,
 * no cache folder); a failed compile is not an error. */
int mir_devmap_cl_kernels(mir_devmap *d, const mir_analyze_options *o, MPI_Comm comm, mir_devmap_cl *cl,
                          mir_error *err);
void mir_devmap_cl_free(mir_devmap_cl *cl);

#endif
