/*
 * statements.h: the statements of a token stream written with [SEP] (MIR_TOK_SEP) after every statement: a
 * corpus made with mir-preprocess --statement-sep (docs/formats.md), and a module encoded for a statement-level
 * model (cfg.statements = 1). mir-train and the embedding cut their windows with these two functions. No HDF5,
 * no MPI.
 */
#ifndef MIR_STATEMENTS_H
#define MIR_STATEMENTS_H
#include <stdint.h>

#include "schema.h"

/* The statements of tokens[0, n_tokens): each ends with its [SEP] (MIR_TOK_SEP) included; tokens after the
 * last [SEP] (a view cut inside a statement) are one more statement. Returns their number S; starts (NULL:
 * only count) receives S + 1 offsets, statement k being tokens [starts[k], starts[k + 1]), starts[S] = n_tokens. */
int64_t mir_statement_starts(const int32_t *tokens, int64_t n_tokens, int64_t *starts);
/* Window j of T statements over S statements (starts from mir_statement_starts): statements [j T, (j + 1) T)
 * cut at S, its first token, number of tokens and number of statements (all 0 past the last window). There
 * are (S + T - 1) / T windows. */
typedef struct mir_stmt_window {
    int64_t first, n_tokens, n_statements;
} mir_stmt_window;
mir_stmt_window mir_statement_window(const int64_t *starts, int64_t n_statements, int64_t T, int64_t j);

#endif
