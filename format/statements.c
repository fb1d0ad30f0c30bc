/* statements.c: statement windows over a token stream with [SEP]s (see statements.h). */
#include "statements.h"

int64_t mir_statement_starts(const int32_t *tokens, int64_t n_tokens, int64_t *starts) {
    int64_t s = 0, first = 0;
    for (int64_t i = 0; i < n_tokens; i++)
        if (tokens[i] == MIR_TOK_SEP) {
            if (starts) starts[s] = first;
            s++;
            first = i + 1;
        }
    if (first < n_tokens) { /* tokens after the last [SEP]: an unterminated statement */
        if (starts) starts[s] = first;
        s++;
    }
    if (starts) starts[s] = n_tokens;
    return s;
}

mir_stmt_window mir_statement_window(const int64_t *starts, int64_t n_statements, int64_t T, int64_t j) {
    mir_stmt_window w = {0, 0, 0};
    if (T <= 0 || j < 0 || j * T >= n_statements) return w;
    int64_t a = j * T, b = a + T < n_statements ? a + T : n_statements;
    w.first = starts[a];
    w.n_tokens = starts[b] - starts[a];
    w.n_statements = b - a;
    return w;
}
