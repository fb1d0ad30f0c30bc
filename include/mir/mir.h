/*
 * mir/mir.h: MIREncoder's embedding API, for compilers and autotuners.
 *
 * A pre-trained model (model.h5, written by mir-train) turns an LLVM module into a fixed-length vector
 * of floats: the mean of the token encoder's states over the module's normalised IR statements, followed
 * by the mean of the graph encoder's node states over its ProGraML-style program graph.
 *
 *     #include <mir/mir.h>
 *
 *     mir_error err;
 *     mir_model *m = mir_model_load("model.h5", &err);
 *     if (!m) { fprintf(stderr, "%s\n", err.msg); return 1; }
 *     float *v = malloc(mir_embedding_dim(m) * sizeof *v);
 *     if (mir_embed_file(m, "kernel.ll", v, &err) != 0) fprintf(stderr, "%s\n", err.msg);
 *     ...
 *     mir_model_free(m);
 *
 * Every function returns 0 (or a pointer) on success and -1 (or NULL) on failure with a message in err;
 * nothing in the library exits or prints.
 *
 * Untrusted input: mir_embed_file, mir_embed_buffer and mir_embed_module parse and read the IR inside the
 * calling process with LLVM, whose readers trust their input. A corrupt file (random bit flips in bitcode
 * are enough) can make LLVM's reader segfault, abort the process ("LLVM ERROR: out of memory") or run
 * for a very long time, and the library cannot catch that: the calling process dies with it. To embed a
 * file you do not trust, use mir_embed_file_isolated: the work runs in a child process (fork) under a
 * memory and a time limit, and a crash or an overrun becomes a -1 with a message naming the signal or the
 * limit; the calling process is untouched. (The child never returns into your code: it leaves with
 * _exit. It is safe to call from an MPI rank; the child makes no MPI calls.) A loaded model is read-only: several threads may embed with
 * one model at the same time (each call uses its own working memory, taken from and returned to a pool
 * the model keeps, so that repeated calls do not allocate).
 *
 * Link with `pkg-config --libs mirencoder` or CMake's `find_package(MIREncoder)` (target
 * MIREncoder::mirencoder).
 */
#ifndef MIR_MIR_H
#define MIR_MIR_H

#include <llvm-c/Core.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef MIR_ERROR_MAX
#define MIR_ERROR_MAX 512
/* A status message: empty after success. (The same layout as the project's internal mir_error.) */
typedef struct mir_error {
    char msg[MIR_ERROR_MAX];
} mir_error;
#endif

typedef struct mir_model mir_model;

/* Load a model file. NULL on failure (err names the file and the reason). The file is checked before it
 * is trusted: each configuration attribute within a named limit (d_model at most 8192, ...), every
 * parameter tensor present with the shape the configuration gives, the vocabulary's length equal to
 * vocab_size, and every parameter finite; a file that fails is refused with a message naming the
 * attribute or tensor, never with an abort or a huge allocation. */
mir_model *mir_model_load(const char *path, mir_error *err);
void mir_model_free(mir_model *m);

/* Length of an embedding (floats): twice the model width, plus the statistics columns when the options ask
 * for them (mir_embed_options.readout, mir_model_stat_columns), or those columns alone. */
size_t mir_embedding_dim(const mir_model *m);
/* The model file's parameter hash (16 hex digits), as stored in embeddings files. */
const char *mir_model_hash(const mir_model *m);

/* How much of a module the encoders read. All zero (the default after mir_model_load) is exact: every
 * token window of the module and the whole graph up to 65,536 nodes. Fewer windows, shorter windows and
 * a node cap trade accuracy for speed (docs/inference.md measures each): max_windows = K reads K windows
 * spread evenly over the module (the first, the last, and evenly spaced ones between); window = W cuts
 * the tokens into windows of W instead of the model's window length (W <= that length); max_nodes = N
 * reads the graph's window of N nodes from its start, as training does. For a statement-level model (one
 * position per IR statement, trained on a corpus made with mir-preprocess --statement-sep) windows and W
 * count statements instead of tokens, and the fast setting reads the first 128 statements. */
typedef struct mir_embed_options {
    int max_windows; /* 0: all */
    int max_nodes;   /* 0: 65,536 */
    int window;      /* tokens (statements, for a statement-level model) per window; 0: the model's max_seq */
    int readout;     /* MIR_READOUT_EMBEDDING (0): the embedding [u, v]; MIR_READOUT_STATS: [u, v, s], s the
                        model's statistics head read out at every LLVM opcode of its vocabulary (a model
                        pre-trained with statistics auto-encoding only): the log(1 + count) of each opcode in
                        the module, as the head predicts it from [u, v] (loop-weighted for stats = 2);
                        MIR_READOUT_STATS_ONLY: s alone */
} mir_embed_options;
#define MIR_READOUT_EMBEDDING 0
#define MIR_READOUT_STATS 1
#define MIR_READOUT_STATS_ONLY 2
/* Number of statistics columns MIR_READOUT_STATS appends (0 for a model without a statistics head), and the
 * opcode name of column k (k < that number). */
int mir_model_stat_columns(const mir_model *m);
const char *mir_model_stat_column_name(const mir_model *m, int k);
/* The fast setting (docs/inference.md): the first 128 tokens and the graph window that pre-training reads
 * per module; about 100 embeddings per second on one core where the exact setting gives 5. */
mir_embed_options mir_embed_options_fast(const mir_model *m);
/* Set the options of a loaded model; call before the model is shared between threads. -1 if invalid. */
int mir_model_set_options(mir_model *m, const mir_embed_options *opts, mir_error *err);
mir_embed_options mir_model_options(const mir_model *m);

/* Embed an LLVM IR file (.ll text or .bc bitcode): out receives mir_embedding_dim floats. */
int mir_embed_file(const mir_model *m, const char *path, float *out, mir_error *err);
/* Embed IR held in memory (text or bitcode); name is used in messages. */
int mir_embed_buffer(const mir_model *m, const char *data, size_t bytes, const char *name, float *out,
                     mir_error *err);
/* Limits of mir_embed_file_isolated's child process; zero fields take the defaults. */
typedef struct mir_isolation {
    long long memory_bytes; /* address space the child may add to what it had at fork; 0: 4 GiB */
    double timeout_s;       /* 0: 120 s */
} mir_isolation;
/* mir_embed_file, run in a child process that cannot take the caller with it (see above): the same
 * embedding, bit for bit. limits may be NULL. On a crash, err reads "PATH: crashed: worker killed by
 * signal 11 (SIGSEGV)" or names the limit. Forks one child per call (a few milliseconds). Call it from one
 * thread at a time: a fork copies only the calling thread, and a lock another thread held stays held in
 * the child (which would then wait until its time limit). */
int mir_embed_file_isolated(const mir_model *m, const char *path, float *out, const mir_isolation *limits,
                            mir_error *err);
/* Embed a module the caller has (it is not modified: the library works on a copy). */
int mir_embed_module(const mir_model *m, LLVMModuleRef module, float *out, mir_error *err);

#ifdef __cplusplus
}
#endif
#endif
