/*
 * schema.h: the names and numbers the project's files and programs share (docs/formats.md): each format's
 * name and version, the module statuses of a corpus and of embeddings, the graph's node kinds and flows, the
 * special token ids of every vocabulary, and the programs' exit codes. No dependencies: the model, the
 * extraction, the readers and writers of format/ and the tools all take their numbers from here, so that a
 * number has one home.
 */
#ifndef MIR_SCHEMA_H
#define MIR_SCHEMA_H

/* ---- formats: the root attributes "format" and "format_version" ---- */
#define MIR_CORPUS_FORMAT "mir-corpus"         /* corpus.h5, format/corpus.h */
#define MIR_CORPUS_VERSION 1
#define MIR_MODEL_FORMAT "mir-model"           /* model.h5, format/model_file.h */
#define MIR_MODEL_VERSION 1
#define MIR_EMBEDDINGS_FORMAT "mir-embeddings" /* embeddings.h5, format/embeddings_file.h */
#define MIR_EMBEDDINGS_VERSION 1

/* ---- module statuses: a corpus's /modules/status, embeddings' /status ---- */
enum {
    MIR_STATUS_OK = 0,
    MIR_STATUS_READ_ERROR = 1,    /* missing, unreadable, a directory we could not walk */
    MIR_STATUS_EMPTY = 2,         /* zero bytes */
    MIR_STATUS_PARSE_ERROR = 3,   /* LLVM could not parse it (text or bitcode) */
    MIR_STATUS_COMPILE_ERROR = 4, /* clang failed on a source */
    MIR_STATUS_TOO_LARGE = 5,     /* over --max-module-mb */
    MIR_STATUS_DUPLICATE = 6,     /* same content as an earlier module (not a failure) */
    MIR_STATUS_EXTRACT_ERROR = 7, /* parsed, but extraction found an inconsistency */
    MIR_STATUS_CRASHED = 8,       /* the worker parsing it died (a signal, an LLVM fatal error) or overstayed
                                     a limit (--worker-memory, --module-timeout): worker.h */
};
/* "ok", "read_error", ... as docs/formats.md names them; "unknown" for any other number. */
const char *mir_status_name(int status);

/* ---- the program graph: /graph/node_kind and /graph/edge_flow ---- */
enum { MIR_NODE_INSTRUCTION = 0, MIR_NODE_VARIABLE = 1, MIR_NODE_CONSTANT = 2, MIR_N_NODE_KINDS = 3 };
enum { MIR_FLOW_CONTROL = 0, MIR_FLOW_DATA = 1, MIR_FLOW_CALL = 2, MIR_N_FLOWS = 3 };

/* ---- special tokens: ids 0-4 of every vocabulary (/vocab/token), spelt "[PAD]" "[UNK]" "[CLS]" "[SEP]"
 * "[MASK]" (mir_special_tokens, wordpiece.h); ids from MIR_TOK_NSPECIAL on are words and pieces ---- */
enum { MIR_TOK_PAD = 0, MIR_TOK_UNK = 1, MIR_TOK_CLS = 2, MIR_TOK_SEP = 3, MIR_TOK_MASK = 4, MIR_TOK_NSPECIAL = 5 };

/* ---- exit codes of mir-preprocess, mir-train, mir-infer and mir-analyze ---- */
enum { MIR_EXIT_OK = 0, MIR_EXIT_FATAL = 1, MIR_EXIT_USAGE = 2, MIR_EXIT_MODULES_FAILED = 3 };

#endif
