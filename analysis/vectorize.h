/*
 * vectorize.h: loop vectorization (NeuroVectorizer's 7,812 C loop programs, docs/analysis.md, issue 8).
 *
 * Two collective tasks of mir-analyze:
 *   vectorize-label  measures the labels on the machine at hand: for each selected program and each
 *                    (VF, IF) of a grid, `#pragma clang loop vectorize_width(VF) interleave_count(IF)` goes
 *                    before the program's kernel loop, clang -O3 compiles it, and the program runs R times
 *                    (best of R and the spread are kept); plain -O3 (clang's own choice) is measured before
 *                    the grid and again after it (the machine's noise). Whole programs are dealt to the
 *                    ranks; every rank appends each result to its own journal as it comes in (one write()
 *                    per line, with a checksum: a kill at any moment loses at most the job in flight), and
 *                    rank 0 merges the journals into labels.h5 (atomically, every two minutes and at the end).
 *                    A rerun skips every job already in a journal or in labels.h5.
 *   vectorize        predicts (VF, IF) from the program's embedding (mir_embed_file on its IR, compiled
 *                    by clang as mir-preprocess --compile does), cross-validated by loop family, beside an
 *                    opcode-count baseline; speedup over plain -O3 and fraction of the brute-force best.
 *
 * The pure parts (families, program selection, pragma insertion, journal lines, the label table and
 * the evaluation arithmetic) need no MPI, LLVM or HDF5 and are unit-tested (tests/test_vectorize.c).
 */
#ifndef MIR_VECTORIZE_H
#define MIR_VECTORIZE_H
#include <mpi.h>
#include <stdint.h>

#include "analysis.h"
#include "mir_common.h"

#define MIR_VEC_N_VF 7 /* VF 1, 2, 4, ..., 64 */
#define MIR_VEC_N_IF 5 /* IF 1, 2, 4, 8, 16 */
/* default grid: VF {1,2,4,8,16} x IF {1,2,4} (bit k of a mask: factor 2^k) */
#define MIR_VEC_DEFAULT_VF_MASK 0x1f
#define MIR_VEC_DEFAULT_IF_MASK 0x07
#define MIR_VEC_SUBDIR_LOOPS "loop_vectorization"
#define MIR_VEC_ARCHIVE_STEM "neurovectorizer-training_data"

typedef struct mir_vec_options {
    const mir_analyze_options *base; /* data_dir, out_dir, model, seed, n_seeds, clf, quiet, command_line */
    const char *loops_dir;  /* the programs (training_data/); NULL: OUT/data/loop_vectorization/
                               neurovectorizer-training_data/training_data, unpacked there from DATA when missing */
    int subset;             /* programs per family, spread over the family's sorted names (0: all) */
    int repeats;            /* runs per job (best of R; default 3) */
    int vf_mask, if_mask;   /* the grid (defaults above; --full: 0x7f x 0x1f) */
    const char *cflags;     /* extra compiler flags, blank-separated (NULL: none) */
    const char *clang;      /* compiler (default: clang-16 found at build time, or $MIR_CLANG) */
    int timeout_s;          /* wall-clock limit of one compile or run (default 60 s) */
    int max_jobs;           /* stop after this many jobs on each rank (0: no limit; tests, budgets) */
    int iter_divisor;       /* time ITER / iter_divisor calls of the kernel (1; tests use more to be fast) */
    double time_limit_min;  /* start no job after this many minutes (0: no limit) */
    const char *labels;     /* vectorize: labels file, .h5 or .csv (default OUT/vectorize-label/labels.h5) */
} mir_vec_options;

void mir_vec_options_default(mir_vec_options *v, const mir_analyze_options *base);

/* Collective. 0, or -1 with err filled on every rank. */
int mir_analyze_vectorize_label(const mir_vec_options *v, MPI_Comm comm, mir_error *err);
int mir_analyze_vectorize(const mir_vec_options *v, MPI_Comm comm, mir_error *err);

/* ---------------- pure helpers (vectorize_source.c) ---------------- */

/* Family of a program file name: the part before the first '_' ("s12n_1024_..." -> "s12n"); base family:
 * the same without trailing 'n's ("s12nn" -> "s12", the same loop unrolled by hand). out: cap bytes. */
void mir_vec_family(const char *name, char *out, size_t cap);
void mir_vec_base_family(const char *name, char *out, size_t cap);

/* Program selection. names: n file names (no directory, "*.c" other than header.c), any order. Keeps, for
 * every family, k names spread evenly over its sorted names (rows floor(j * m / k) of the m; all if k <= 0
 * or k >= m), and orders the result round-robin over the sorted families (first of every family, then the
 * second, ...), so a study cut short still covers every family. *out: a fresh array of n_out pointers into
 * names (free the array only). */
void mir_vec_select(char *const *names, int n, int k, const char ***out, int *n_out);

/* Insert `#pragma clang loop vectorize_width(vf) interleave_count(ifc)` before every innermost loop (for,
 * while, do) of every function other than main: on a line of its own, indented as the loop's line (or, when
 * code precedes the loop on its line, on a new line before the loop keyword). Comments, strings, character
 * literals and preprocessor lines are skipped. vf <= 0: no pragma, *out is a copy. *out: fresh string;
 * *n_loops: the loops the pragma went before (each program of the data set has exactly one); line (may be
 * NULL): the 1-based line of the first such loop in src. 0, or -1 with err (unbalanced brackets, no loop). */
int mir_vec_insert_pragma(const char *src, const char *name, int vf, int ifc, char **out, int *n_loops, int *line,
                          mir_error *err);

/* ---------------- jobs and their journal lines ---------------- */

enum { MIR_VEC_PRAGMA = 0, MIR_VEC_O3 = 1, MIR_VEC_O3_AGAIN = 2 };
enum {
    MIR_VEC_OK = 0,
    MIR_VEC_COMPILE_FAILED = 1,
    MIR_VEC_RUN_FAILED = 2,
    MIR_VEC_TIMEOUT = 3,
    MIR_VEC_NO_RESULT = 4, /* ran, but printed no result line */
    MIR_VEC_N_STATUS = 5
};
extern const char *const mir_vec_status_name[MIR_VEC_N_STATUS];

#define MIR_VEC_NAME_MAX 96
typedef struct mir_vec_result {
    char program[MIR_VEC_NAME_MAX]; /* file name of the program, e.g. "s1_1024_add_0.c" */
    int kind;                       /* MIR_VEC_PRAGMA, MIR_VEC_O3, MIR_VEC_O3_AGAIN */
    int vf, ifc;                    /* the pragma's factors (0 for plain -O3) */
    int status;                     /* MIR_VEC_OK, ... */
    int repeats;                    /* runs done */
    double best_s, mean_s, max_s;   /* the label: CPU time of the program's timed loop (CLOCK_PROCESS_CPUTIME_ID,
                                       so time slices given to other processes do not count): best, mean, worst
                                       of the runs */
    double loop_wall_s;             /* wall time of the timed loop (CLOCK_MONOTONIC), best of the runs */
    double wall_s, cpu_s;           /* whole child process, best run: wall (clock_gettime), user+sys (wait4) */
    double compile_s;               /* wall time of the compile */
    uint32_t digest;                /* the program's digest of its output memory (same for every config) */
    int applied_vf, applied_if;     /* what clang reports it did (-Rpass=loop-vectorize; 1 1: not vectorized) */
    int pass_failed;                /* clang warned that it could not apply the pragma */
    int rank;                       /* who measured it */
    int64_t unix_time;              /* when */
    int64_t hw[4];                  /* cycles, instructions, L1 data misses, vector instructions of the best
                                       run's timed loop; -1 where hardware counters are unavailable */
} mir_vec_result;

/* One journal line (ends with '\n', carries a checksum of its fields) into buf (cap bytes); its length. */
int mir_vec_result_format(const mir_vec_result *r, char *buf, size_t cap);
/* Parse one journal line (with or without its '\n'). 0, or -1 when the line is torn or not a result line. */
int mir_vec_result_parse(const char *line, mir_vec_result *r);
/* All complete result lines of a journal text (torn or foreign lines skipped, *n_bad counts them). Appends
 * to *rows (capacity *cap, count *n). */
void mir_vec_journal_parse(const char *text, mir_vec_result **rows, size_t *n, size_t *cap, int *n_bad);
/* Same key: program, kind, vf, ifc. */
int mir_vec_same_job(const mir_vec_result *a, const mir_vec_result *b);
/* Keep the first row of every key (rows in order of preference); returns the new count. */
size_t mir_vec_dedupe(mir_vec_result *rows, size_t n);

/* The grid of a (vf_mask, if_mask): *n configs, vf[] and ifc[] (MIR_VEC_N_VF * MIR_VEC_N_IF entries each),
 * VF-major. */
void mir_vec_grid(int vf_mask, int if_mask, int *vf, int *ifc, int *n);
/* Parse "1,2,4" into a mask of powers of two (bit k: 2^k); max: the largest allowed. -1 if invalid. */
int mir_vec_parse_factors(const char *s, int max, int *mask);

/* ---------------- measuring one job (vectorize_label.c) ---------------- */

/* A rank's measuring bench: its work folder holds a copy of the data set's header.h (nv_header.h), a header.h
 * that includes it and redefines BENCH (the same warm-up call and timed loop, timed with clock_gettime, the
 * output digest printed instead of being discarded), header.o (the data set's header.c at -O3) and mirvec.o
 * (the timer; with PAPI counters of the timed loop when use_papi). */
typedef struct mir_vec_bench {
    char work[4096], loops[4096];
    const char *clang;
    char **cflags;
    int n_cflags;
    int use_papi;      /* count PAPI presets in the child (only where the hardware exposes them) */
    int iter_divisor;  /* run ITER / iter_divisor timed iterations (1; tests use more to be fast) */
    int timeout_s, repeats, rank;
} mir_vec_bench;

/* Prepare the work folder (created if needed) and compile header.o and mirvec.o. cflags: blank-separated
 * or NULL. 0, or -1 with err (naming the file or the compiler and its first diagnostic). */
int mir_vec_bench_setup(mir_vec_bench *b, const char *work, const char *loops, const char *clang, const char *cflags,
                        int use_papi, int iter_divisor, int timeout_s, int repeats, mir_error *err);
void mir_vec_bench_free(mir_vec_bench *b);
/* Measure one job: the program (a file name in loops), plain -O3 (kind MIR_VEC_O3 / _AGAIN) or with the
 * pragma (vf, ifc): compile, run repeats times. Fills r (a failed compile or run is a result too, with its
 * status; why: its first diagnostic, cap bytes). 0, or -1 with err when the bench itself fails (a work file
 * cannot be written, the program cannot be read or has no loop). */
int mir_vec_bench_run(mir_vec_bench *b, const char *program, int kind, int vf, int ifc, mir_vec_result *r,
                      char *why, size_t cap, mir_error *err);

/* Unpack a .tar.xz archive into dest (through a temporary sibling folder, renamed into place). */
int mir_vec_unpack(const char *archive, const char *dest, mir_error *err);
/* The programs' folder (collective): v->loops_dir, else OUT/data/loop_vectorization/
 * neurovectorizer-training_data/training_data, unpacked from DATA/loop_vectorization/ when missing. */
int mir_vec_loops_dir(const mir_vec_options *v, MPI_Comm comm, char *out, size_t cap, mir_error *err);
/* The C programs of a folder (file names, sorted; header.c left out). */
int mir_vec_list_programs(const char *dir, char ***names, int *n, mir_error *err);
void mir_vec_free_names(char **names, int n);

/* Result rows of a labels file: labels.h5 (as vectorize-label writes it) or a CSV with at least the columns
 * program, kind, vf, if, status, best_s (optional: max_s, digest, applied_vf, applied_if). Appends. */
int mir_vec_read_labels(const char *path, mir_vec_result **rows, size_t *n, size_t *cap, mir_error *err);
/* Everything measured so far in the study folder dir: its journal-*.csv files and labels.h5 (deduplicated). */
int mir_vec_collect(const char *dir, mir_vec_result **rows, size_t *n, int *n_bad, mir_error *err);
/* Write rows to path (.h5 or .csv) through a temporary file renamed into place. */
int mir_vec_write_labels(const char *path, const mir_vec_result *rows, size_t n, const char *note, mir_error *err);

/* ---------------- the label table and the evaluation arithmetic (vectorize_eval.c) ---------------- */

typedef struct mir_vec_table {
    int n;               /* programs with a valid -O3 time and at least one valid config */
    int n_cfg;           /* configs (the classes), sorted by VF then IF */
    int *vf, *ifc;       /* (n_cfg) */
    char **program;      /* (n) */
    char **family;       /* (n) family names, and family_id into family_name */
    int *family_id, n_families;
    char **family_name;  /* (n_families) sorted */
    int *base_id, n_bases;
    char **base_name;    /* (n_bases) sorted */
    double *t_o3;        /* (n) best -O3 time, s */
    double *t_o3_again;  /* (n) the second -O3 measurement (NaN if missing) */
    double *t;           /* (n, n_cfg) best time per config; NaN: not measured, failed, or wrong digest */
    int *best;           /* (n) index of the fastest config (the oracle) */
    double *spread;      /* (n, n_cfg) (max - min) / min over the runs; NaN where t is */
    int *o3_vf, *o3_if;  /* (n) what clang chose at -O3 (from its remarks) */
    int n_dropped;       /* programs left out (no -O3 time, no valid config, or incomplete) */
    int n_incomplete;    /* of those: programs without a result for every config (a study still running) */
    int n_wrong_digest;  /* configs whose digest differed from -O3's (treated as failed) */
    int n_failed;        /* configs that failed to compile or run */
} mir_vec_table;

/* Build the table from result rows (any order; duplicates: the first wins). The configs are those any
 * program has a row for; a program is kept when its -O3 time is valid, every config has a row (a failed one
 * too: it is then not valid for that program) and one config at least is valid. 0, or -1 with err when no
 * program is usable. */
int mir_vec_table_build(const mir_vec_result *rows, size_t n_rows, mir_vec_table *t, mir_error *err);
void mir_vec_table_free(mir_vec_table *t);
/* t_o3 / t at config c (NaN when c is not valid for program p) */
double mir_vec_speedup(const mir_vec_table *t, int p, int c);
/* Config allowed for program p (t is finite). */
int mir_vec_valid(const mir_vec_table *t, int p, int c);

/* Aggregates of a choice pred[i] (config index) for the programs rows[0..m): */
typedef struct mir_vec_stats {
    double geomean;     /* geometric mean of t_o3 / t_pred */
    double mean;        /* arithmetic mean of t_o3 / t_pred */
    double fraction;    /* fraction of the oracle: geomean of t_best / t_pred (1: every choice the best) */
    double accuracy;    /* percent of programs whose best config was chosen */
    double within5;     /* percent of programs whose choice is within 5 % of the best time */
} mir_vec_stats;
void mir_vec_stats_of(const mir_vec_table *t, const int *rows, const int *pred, int m, mir_vec_stats *s);
/* The config with the highest geometric-mean speedup over the programs rows[0..m) among those valid for
 * all of them (a program where a config is invalid counts it as the program's slowest valid time);
 * ties: the lowest index. */
int mir_vec_best_fixed(const mir_vec_table *t, const int *rows, int m);
/* Index of config (vf, ifc), or -1. */
int mir_vec_config_index(const mir_vec_table *t, int vf, int ifc);

#endif
