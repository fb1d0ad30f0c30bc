/* csvread.c: see csvread.h. */
#include "csvread.h"

#include <stdlib.h>
#include <string.h>

typedef struct { char **v; size_t n, cap; } strvec;

static void push(strvec *s, char *x) {
    MIR_GROW(s->v, s->cap, s->n + 1);
    s->v[s->n++] = x;
}

/* One record from *p; fields appended to f. Returns 1 if a record was read, 0 at the end, -1 on error. */
static int read_record(const char **p, strvec *f, int *line) {
    const char *s = *p;
    if (!*s) return 0;
    size_t cap = 64, len = 0;
    char *buf = mir_malloc(cap);
    for (;;) {
        len = 0;
        int quoted = 0;
        if (*s == '"') {
            quoted = 1;
            s++;
            for (;;) {
                if (!*s) { free(buf); return -1; }  /* unterminated quote */
                if (*s == '"') {
                    if (s[1] == '"') { s += 2; MIR_GROW(buf, cap, len + 2); buf[len++] = '"'; continue; }
                    s++;
                    break;
                }
                if (*s == '\n') (*line)++;
                MIR_GROW(buf, cap, len + 2);
                buf[len++] = *s++;
            }
        }
        while (*s && *s != ',' && *s != '\n' && *s != '\r') {
            if (quoted) { free(buf); return -1; }    /* text after a closing quote */
            MIR_GROW(buf, cap, len + 2);
            buf[len++] = *s++;
        }
        buf[len] = '\0';
        push(f, mir_strdup(buf));
        if (*s == ',') { s++; continue; }
        if (*s == '\r') s++;
        if (*s == '\n') { s++; (*line)++; }
        break;
    }
    free(buf);
    *p = s;
    return 1;
}

int mir_csv_parse(const char *text, const char *name, mir_csv *out, mir_error *err) {
    memset(out, 0, sizeof *out);
    strvec f = {0};
    const char *p = text;
    int line = 1;
    int rc = read_record(&p, &f, &line);
    if (rc <= 0) {
        for (size_t i = 0; i < f.n; i++) free(f.v[i]);
        free(f.v);
        return mir_fail(err, "%s: %s", name, rc == 0 ? "empty file, no header" : "bad quoting in the header");
    }
    out->n_cols = (int)f.n;
    out->header = f.v;
    strvec cells = {0};
    for (;;) {
        strvec r = {0};
        int at = line;
        rc = read_record(&p, &r, &line);
        if (rc == 0) break;
        if (rc < 0 || (int)r.n > out->n_cols) {
            for (size_t i = 0; i < r.n; i++) free(r.v[i]);
            free(r.v);
            out->cells = cells.v;
            out->n_rows = (int)(cells.n / (size_t)out->n_cols);
            for (size_t i = out->n_rows * (size_t)out->n_cols; i < cells.n; i++) free(cells.v[i]);
            mir_csv_free(out);
            return mir_fail(err, "%s:%d: %s", name, at,
                            rc < 0 ? "bad quoting (unterminated or text after a closing quote)" : "more fields than the header");
        }
        if (r.n == 1 && r.v[0][0] == '\0') { free(r.v[0]); free(r.v); continue; } /* blank line */
        for (size_t i = 0; i < r.n; i++) push(&cells, r.v[i]);
        for (int i = (int)r.n; i < out->n_cols; i++) push(&cells, mir_strdup(""));
        free(r.v);
    }
    out->cells = cells.v;
    out->n_rows = (int)(cells.n / (size_t)out->n_cols);
    return 0;
}

int mir_csv_read(const char *path, mir_csv *out, mir_error *err) {
    char *text = NULL;
    size_t n = 0;
    if (mir_read_file(path, &text, &n, err)) return -1;
    int rc = mir_csv_parse(text, path, out, err);
    free(text);
    return rc;
}

void mir_csv_free(mir_csv *c) {
    if (c->header)
        for (int i = 0; i < c->n_cols; i++) free(c->header[i]);
    if (c->cells)
        for (size_t i = 0; i < (size_t)c->n_rows * c->n_cols; i++) free(c->cells[i]);
    free(c->header);
    free(c->cells);
    memset(c, 0, sizeof *c);
}

int mir_csv_col(const mir_csv *c, const char *name) {
    for (int i = 0; i < c->n_cols; i++)
        if (!strcmp(c->header[i], name)) return i;
    return -1;
}
