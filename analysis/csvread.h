/*
 * csvread.h: a CSV reader for the published data files (RFC 4180: fields in double quotes may hold commas,
 * doubled quotes and newlines, as the `src` column of the device-mapping CSVs does). The first row is the
 * header; columns are found by name.
 */
#ifndef MIR_CSVREAD_H
#define MIR_CSVREAD_H
#include "mir_common.h"

typedef struct mir_csv {
    int n_cols, n_rows;     /* n_rows excludes the header */
    char **header;          /* (n_cols) */
    char **cells;           /* (n_rows * n_cols) row-major; missing trailing fields are "" */
} mir_csv;

/* Parse text (NUL-terminated). name is used in messages. 0, or -1 with err naming name and the line. */
int mir_csv_parse(const char *text, const char *name, mir_csv *out, mir_error *err);
int mir_csv_read(const char *path, mir_csv *out, mir_error *err);
void mir_csv_free(mir_csv *c);
/* Column index of name, or -1. */
int mir_csv_col(const mir_csv *c, const char *name);
static inline const char *mir_csv_cell(const mir_csv *c, int row, int col) { return c->cells[(size_t)row * c->n_cols + col]; }

#endif
