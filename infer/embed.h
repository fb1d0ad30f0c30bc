/*
 * embed.h: the embedding of a module, the one code path behind mir-infer, the C API (include/mir/mir.h)
 * and the analyses. A module arrives either as an LLVM module (extracted and encoded here with the
 * model's vocabulary, exactly as mir-preprocess --vocab would) or as a view of corpus data.
 *
 * Windowing (docs/inference.md): the tokens are cut into consecutive windows of max_seq; the windows go
 * through the token encoder in batches of 8, and u is the mean of the final states over the tokens read
 * (each window's pooled state weighted by its length). By default every window is read; with
 * mir_embed_options.max_windows = K, K windows spread evenly (the first, the last, evenly between). The
 * graph goes through the graph encoder whole when it has at most max_nodes (default
 * MIR_INFER_MAX_NODES) nodes; a larger graph is windowed as in training (the root, the first run of
 * instructions and the values they touch), from its start. The embedding is [u, v]. When the options
 * read one window (max_windows = 1: its first T tokens), a module given as LLVM IR is extracted only up to
 * its first T words (mir_embed_word_limit): the same embedding, bit for bit, for less work.
 *
 * A statement-level model (cfg.statements = 1) reads statements, not tokens: the module is extracted with
 * [SEP] after every statement (as mir-preprocess --statement-sep), and every count above is in statements.
 * Window j holds statements [j T, (j + 1) T) (T = the options' window or max_seq, in statements); the view
 * handed to the model starts at the window's first statement and holds its statements with their [SEP]s,
 * its weight in the mean is its number of statements; max_windows chooses among the statement windows as
 * among token windows; the one-window modes extract the first T statements (mir_embed_extract_options).
 */
#ifndef MIR_EMBED_H
#define MIR_EMBED_H
#include <llvm-c/Core.h>

#include "mir/mir.h"
#include "model.h"
#include "wordpiece.h"
#include "worker.h"

#define MIR_INFER_MAX_NODES 65536
/* Tokens read by the fast preset (mir_embed_options_fast): docs/inference.md measures the choice. */
#define MIR_FAST_WINDOW 128

/* A module encoded with a vocabulary, owning its arrays. */
typedef struct mir_encoded {
    int32_t *tokens; int64_t n_tokens;
    int8_t *node_kind; int32_t *node_text; int64_t n_nodes;
    int32_t *edge_src, *edge_dst; int8_t *edge_flow; int64_t n_edges;
    int64_t n_unk;
} mir_encoded;
void mir_encoded_free(mir_encoded *e);
mir_module_view mir_encoded_view(const mir_encoded *e);

/* Encode an extraction (irmodule.h) with a vocabulary. */
struct mir_extract;
void mir_encode_extract(const mir_vocab *v, const struct mir_extract *x, mir_encoded *out);
/* Extract and encode a module with the extraction options xo (irmodule.h; NULL: whole, no separators): a
 * separator word becomes [SEP]. As mir_encode_module for the word limit; with xo->max_statements, the first
 * statements only, and the counts are of those. */
struct mir_extract_options;
int mir_encode_module_opts(const mir_vocab *v, LLVMModuleRef m, const struct mir_extract_options *xo,
                           mir_encoded *out, mir_error *err);
/* Extract and encode a module (stripped of debug info in place: pass a copy if it is not yours).
 * max_words: 0 encodes every statement; N > 0 the statements up to the one that brings the non-empty words
 * to N (mir_extract_module_limited), i.e. at least the module's first N tokens (or all of them), and then
 * out->n_tokens and out->n_unk count those tokens only, not the module's. The graph is whole either way. */
int mir_encode_module(const mir_vocab *v, LLVMModuleRef m, int64_t max_words, mir_encoded *out, mir_error *err);
/* The word limit that loses nothing for the model's reading options: T (the window's tokens) when they
 * read one window (max_windows == 1: window 0, the first T tokens), else 0 (all); always 0 for a
 * statement-level model (its limit counts statements: mir_embed_extract_options). mir_embed_view gives the
 * same embedding, bit for bit, for the limited encoding as for the full one (tests/test_embed_options.c). */
int64_t mir_embed_word_limit(const mir_model *m);
/* The extraction a model's reading options need (what embedding a module as LLVM IR uses): statement_sep =
 * cfg.statements; in the one-window modes, a limit of T words (mir_embed_word_limit) or, for a statement-level
 * model, of T statements (its word limit is 0: a word count cannot say where its T-th statement ends). */
struct mir_extract_options mir_embed_extract_options(const mir_model *m);

/* Statement windows: mir_statement_starts and mir_statement_window (format/statements.h). */

/* Internals of the opaque model, for the tools. */
const mir_config *mir_model_config(const mir_model *m);
const mir_vocab *mir_model_vocab(const mir_model *m);

/* The embedding of a module view: out receives 2 * d_model floats. Thread-safe for a shared model. */
int mir_embed_view(const mir_model *m, const mir_module_view *v, float *out, mir_error *err);
/* Which window mir_embed_view reads j-th when it reads k of a module's n windows (all when k >= n). */
int64_t mir_embed_window_index(int64_t j, int64_t k, int64_t n);

/* Embedding untrusted IR in a supervised worker (worker.h): the child, forked from a process that holds the
 * loaded model, parses, encodes and embeds; the reply is the embedding's floats. One worker serves many
 * files. mir_embed_*_supervised with w = NULL embed in-process (--no-isolation). On failure *status is
 * MIR_STATUS_READ_ERROR, _PARSE_ERROR, _EXTRACT_ERROR or _CRASHED (schema.h) and err names the file. */
mir_worker *mir_embed_worker_create(const mir_model *m, const mir_worker_limits *limits);
int mir_embed_bytes_supervised(mir_worker *w, const mir_model *m, const char *data, size_t bytes, const char *name,
                               float *out, int *status, mir_error *err);
int mir_embed_file_supervised(mir_worker *w, const mir_model *m, const char *path, float *out, int *status,
                              mir_error *err);
/* Pipelined (worker.h): after mir_worker_submit(w, name, bytes...) of one or more modules, the embedding of
 * the oldest one not yet collected (name: that module's), with the status and message as above. */
int mir_embed_collect(mir_worker *w, const mir_model *m, const char *name, float *out, int *status, mir_error *err);

#endif
